export * from './given-when-then';
export * from './instance-run';
export * from './fixtures';
export * from './lifeline-server';
export * from './cluster';
