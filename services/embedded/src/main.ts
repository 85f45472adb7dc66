import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@lifeline/engine';
import { createLifelineApp, DEMO_USERS, generateSecret } from '@lifeline/api';
import { demoTokens, demoTokensFile, issueDemoUsers, loadDemoDefinitions } from './demo';

/** `86400` → "24 h": how long the demo tokens live, for the banner. */
const lifetimeText = (seconds: number): string =>
  seconds % 3600 === 0 ? `${seconds / 3600} h` : seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;

/**
 * Embedded mode: one process hosts the engine and the API on the embedded defaults (SQLite event
 * store, HTTP ingestion). No servers needed.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  const lifetime = config.tokenMaxLifetimeSeconds;
  const tokensFile = demoTokensFile(config.dataDir);
  let secret = config.jwtSecret;
  let development = false;
  let removedStaleTokens = false;
  if (!secret) {
    // A development secret kept in the data dir, so tokens survive restarts.
    const file = join(config.dataDir, 'dev-jwt-secret');
    secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : generateSecret();
    if (!existsSync(file)) writeFileSync(file, secret, { mode: 0o600 });
    development = true;
  } else if (existsSync(tokensFile)) {
    // A configured secret never produces a token; tokens left by a development run must not look current.
    rmSync(tokensFile, { force: true });
    removedStaleTokens = true;
  }
  const devSecret = secret;
  // Demo users and their tokens exist only with the development secret, re-issued at each start.
  const tokens = development ? demoTokens(devSecret, config.dataDir, lifetime) : undefined;
  const lifeline = await createLifelineApp(
    { ...config, jwtSecret: secret },
    {
      demoUsers: development ? () => issueDemoUsers(devSecret, lifetime) : undefined,
      // Before listening: a record posted as soon as the server answers must meet the demo definitions.
      beforeListen: config.loadDemo
        ? async (engine) => {
            const published = await loadDemoDefinitions(engine);
            engine.logger.info({ published }, 'demo definitions loaded');
          }
        : undefined,
    },
  );
  const log = lifeline.engine.logger;
  const auth = tokens
    ? [
        `  development JWT secret (set LIFELINE_JWT_SECRET to use your own): ${secret}`,
        `  demo tokens, valid for ${lifetimeText(lifetime)} (also in ${tokensFile}; each start issues new ones):`,
        ...DEMO_USERS.map(
          (u) => `    ${u.id.padEnd(6)} [${u.roles.join(',')}] ${u.description}\n      ${tokens[u.id]}`,
        ),
      ]
    : [
        '  JWT secret: from LIFELINE_JWT_SECRET; no demo users, no tokens printed',
        '  sign a token with: npm run lifeline -- token <user> --roles <roles>',
        ...(removedStaleTokens ? [`  removed ${tokensFile}: demo tokens of an earlier development run`] : []),
      ];
  const lines = [
    '',
    `Lifeline is running at ${lifeline.url}  (API docs: ${lifeline.url}/docs, web UI: ${lifeline.url}/)`,
    `  event store: ${config.eventStore.kind === 'sqlite' ? config.eventStore.file : withoutPassword(config.eventStore.url)}`,
    `  entity events: ${config.entitySource === 'http' ? 'POST /entity-events' : `Kafka ${config.kafka.topics.join(',')}`}`,
    ...auth,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const stop = async (signal: string) => {
    log.info({ signal }, 'stopping');
    await lifeline.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Lifeline failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});

/** A connection URL as printed: a password in it (postgres://user:secret@host) is not shown. */
function withoutPassword(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:/@]+):[^@/]*@/i, '$1:***@');
}
