// Test fixtures other libraries, tests and benchmarks use (`@lifeline/process-domain/testing`).
export * from '../definition/fixtures/invoice-approval';
