// Test helpers other libraries, tests and benchmarks use (`@lifeline/read-models/testing`); not part of the build's API.
export * from './event-log';
export * from './append-log';
export * from './parallel-instances';
