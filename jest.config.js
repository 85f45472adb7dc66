// One project per test kind (the kind is in the file name), so CI can run them in order.
const esmOnly = [
  'jose',
  'feelin',
  'lezer-feel',
  '@lezer',
  'min-dash',
  'temporal-polyfill',
  'temporal-utils',
  'temporal-spec',
  'bpmn-moddle',
  'moddle',
  'moddle-xml',
  'saxen',
];
const swc = ['@swc/jest', JSON.parse(require('fs').readFileSync(__dirname + '/.swcrc', 'utf8'))];
const moduleNameMapper = {
  '^@lifeline/process-domain$': '<rootDir>/libs/process-domain/src',
  '^@lifeline/process-domain/testing$': '<rootDir>/libs/process-domain/src/testing',
  '^@lifeline/event-store$': '<rootDir>/libs/event-store/src',
  '^@lifeline/event-store/testing$': '<rootDir>/libs/event-store/src/testing',
  '^@lifeline/entity-events$': '<rootDir>/libs/entity-events/src',
  '^@lifeline/entity-events/testing$': '<rootDir>/libs/entity-events/src/testing',
  '^@lifeline/read-models$': '<rootDir>/libs/read-models/src',
  '^@lifeline/read-models/testing$': '<rootDir>/libs/read-models/src/testing',
  '^@lifeline/audit$': '<rootDir>/libs/audit/src',
  '^@lifeline/testing$': '<rootDir>/libs/testing/src',
  '^@lifeline/job-worker$': '<rootDir>/libs/job-worker/src',
  '^@lifeline/bpmn$': '<rootDir>/libs/bpmn/src',
  '^@lifeline/bpmn/testing$': '<rootDir>/libs/bpmn/src/testing',
  '^@lifeline/engine$': '<rootDir>/services/engine/src',
  '^@lifeline/api$': '<rootDir>/services/api/src',
  '^@lifeline/cli$': '<rootDir>/services/cli/src',
  '^@lifeline/embedded$': '<rootDir>/services/embedded/src',
};
const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j|mj)s$': swc },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  moduleNameMapper,
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};
module.exports = {
  // Real brokers, files and servers on a 2-core machine: 5 s is too short a default for a test that is not about time.
  testTimeout: 30_000,
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts'] },
    { ...base, displayName: 'contract', testMatch: ['<rootDir>/test/contract/**/*.spec.ts'] },
    { ...base, displayName: 'int', testMatch: ['<rootDir>/**/*.int.spec.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/**/*.e2e.spec.ts'] },
  ],
};
