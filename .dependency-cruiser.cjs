/**
 * Layers (docs/architecture.md, "Layers"): the domain is pure; each library and service uses only the packages listed
 * below, and only through their alias (`@lifeline/x`, which resolves to `src/index.ts`) or, from test code, their
 * `@lifeline/x/testing` (`src/testing/index.ts`).
 */

// What each package's code may import of ours; `tests` is what its specs and testing helpers may use besides.
const packages = {
  'libs/process-domain': { uses: [], tests: ['libs/testing'] },
  'libs/event-store': { uses: [] },
  'libs/job-worker': { uses: [] },
  'libs/read-models': { uses: ['libs/process-domain', 'libs/event-store'] },
  'libs/entity-events': { uses: ['libs/process-domain', 'libs/event-store'] },
  'libs/audit': { uses: ['libs/process-domain', 'libs/event-store', 'libs/read-models'] },
  // BPMN maps BPMN to definitions and back; its test helper gathers the read models' example definitions too.
  'libs/bpmn': { uses: ['libs/process-domain'], tests: ['libs/read-models'] },
  // The test-support library starts the real server, so it is the one library that uses services.
  'libs/testing': { uses: ['libs/process-domain', 'services/engine', 'services/api', 'services/embedded'] },
  'services/engine': {
    uses: ['libs/process-domain', 'libs/event-store', 'libs/entity-events', 'libs/bpmn', 'libs/audit'],
    tests: ['libs/testing'],
  },
  'services/api': {
    uses: ['libs/process-domain', 'libs/event-store', 'libs/read-models', 'libs/bpmn', 'libs/audit', 'services/engine'],
    tests: ['libs/testing'],
  },
  'services/cli': {
    uses: [
      'libs/process-domain',
      'libs/event-store',
      'libs/read-models',
      'libs/bpmn',
      'libs/audit',
      'services/engine',
      'services/api',
    ],
  },
  'services/embedded': { uses: ['services/engine', 'services/api'] },
};

const TEST_CODE = ['\\.spec\\.ts$', '/testing/'];
const escape = (path) => path.replace(/[-/]/g, (c) => `\\${c}`);

/** One rule per package (two when its tests may use more): anything of ours outside its list is an error. */
const packageRules = Object.entries(packages).flatMap(([name, { uses, tests = [] }]) => {
  const rule = (suffix, from, list) => ({
    name: `${name.split('/')[1]}-uses-only${suffix}`,
    comment: `${name} may use ${list.length ? list.join(', ') : 'nothing of ours'} (.dependency-cruiser.cjs, packages)`,
    severity: 'error',
    from,
    to: { path: `^(libs|services)/`, pathNot: `^(${[name, ...list].map(escape).join('|')})/` },
  });
  if (!tests.length) return [rule('', { path: `^${escape(name)}/` }, uses)];
  return [
    rule('', { path: `^${escape(name)}/`, pathNot: TEST_CODE }, uses),
    rule('-in-tests', { path: `^${escape(name)}/.*(${TEST_CODE.join('|')})` }, [...uses, ...tests]),
  ];
});

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/process-domain may not depend on frameworks, brokers, stores or IO modules',
      severity: 'error',
      from: { path: '^libs/process-domain/src' },
      to: {
        path: [
          '^node_modules/(@nestjs|kafkajs|@eventstore|better-sqlite3|pg|pino|express|class-validator|class-transformer)',
          '^(fs|net|http|https|child_process|dgram|dns|tls|worker_threads|cluster|os|crypto)$',
        ],
        dependencyTypes: ['npm', 'npm-dev', 'core', 'unknown', 'local'],
      },
    },
    {
      name: 'only-through-the-public-index',
      comment:
        "another package's files are reached only through its alias (src/index.ts) or, for test fixtures, " +
        '@lifeline/x/testing (src/testing/index.ts); within a package, import relatively',
      severity: 'error',
      from: { path: '^((libs|services)/[^/]+|test|bench)/' },
      to: {
        path: '^(libs|services)/',
        pathNot: ['^$1/', '^(libs|services)/[^/]+/src/index\\.ts$', '^libs/[^/]+/src/testing/index\\.ts$'],
      },
    },
    {
      name: 'every-package-is-listed',
      comment: 'a new library or service gets its entry in `packages` (.dependency-cruiser.cjs) with what it may use',
      severity: 'error',
      from: { path: '^(libs|services)/', pathNot: `^(${Object.keys(packages).map(escape).join('|')})/` },
      to: { path: '^(libs|services)/' },
    },
    ...packageRules,
    {
      name: 'controllers-go-through-the-buses',
      comment:
        'a controller translates HTTP to a command or query and back: it reads and writes through the CommandBus and ' +
        'the QueryBus (docs/architecture.md, "Layers"), never the store, the read models or their handles (types are fine)',
      severity: 'error',
      from: { path: '^services/api/src/.+\\.controller\\.ts$' },
      to: {
        path: [
          '^libs/(event-store|read-models)/',
          '^services/api/src/http/read-side\\.ts$',
          '^node_modules/better-sqlite3/',
        ],
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^(libs|services)' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
