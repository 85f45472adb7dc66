export * from './given-when-then';
export * from './fixtures';
export * from './lifeline-server';
