export * from './errors';
export * from './as-of';
export * from './verify';
export * from './export-history';
export * from './what-if';
export * from './rebuild-read-models';
export * from './anchors';
