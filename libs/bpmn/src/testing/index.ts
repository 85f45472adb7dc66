// Test helpers tests use (`@lifeline/bpmn/testing`).
export * from './all-definitions';
