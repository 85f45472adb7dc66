/** Layers (docs/architecture.md, "Layers"): the domain is pure; libraries never reach into services. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/process-domain may not depend on frameworks, brokers, stores or IO modules',
      severity: 'error',
      from: { path: '^libs/process-domain/src' },
      to: {
        path: [
          '^node_modules/(@nestjs|kafkajs|@eventstore|better-sqlite3|pino|express|class-validator|class-transformer)',
          '^(fs|net|http|https|child_process|dgram|dns|tls|worker_threads|cluster|os|crypto)$',
        ],
        dependencyTypes: ['npm', 'npm-dev', 'core', 'unknown', 'local'],
      },
    },
    {
      name: 'domain-depends-on-nothing-of-ours',
      severity: 'error',
      from: { path: '^libs/process-domain/src', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(libs/(?!process-domain)|services/)' },
    },
    {
      name: 'bpmn-depends-only-on-the-domain',
      comment:
        'libs/bpmn maps BPMN to definitions and back: it knows the domain and the moddle libraries, nothing else',
      severity: 'error',
      // Its test helper gathers every example definition, the read models' test fixtures too.
      from: { path: '^libs/bpmn/src', pathNot: '^libs/bpmn/src/testing/' },
      to: { path: '^(libs/(?!(bpmn|process-domain)/)|services/)' },
    },
    {
      name: 'libs-do-not-import-services',
      severity: 'error',
      from: { path: '^libs/(?!testing)' },
      to: { path: '^services/' },
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
