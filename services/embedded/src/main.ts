import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@lifeline/engine';
import { createLifelineApp, DEMO_USERS, generateSecret } from '@lifeline/api';
import { demoTokens, loadDemoDefinitions } from './demo';

/**
 * Embedded mode: one process hosts the engine and the API on the embedded defaults (SQLite event
 * store, HTTP ingestion). No servers needed.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  mkdirSync(config.dataDir, { recursive: true });
  let secret = config.jwtSecret;
  let generated = false;
  if (!secret) {
    // A development secret kept in the data dir, so tokens survive restarts.
    const file = join(config.dataDir, 'dev-jwt-secret');
    secret = existsSync(file) ? readFileSync(file, 'utf8').trim() : generateSecret();
    if (!existsSync(file)) writeFileSync(file, secret, { mode: 0o600 });
    generated = true;
  }
  const tokens = demoTokens(secret, config.dataDir);
  // The sign-in picker offers the demo users only while the secret is a development one.
  const demoUsers = generated ? DEMO_USERS.map((u) => ({ ...u, token: tokens[u.id] })) : undefined;
  const lifeline = await createLifelineApp({ ...config, jwtSecret: secret }, { demoUsers });
  const log = lifeline.engine.logger;
  if (config.loadDemo) {
    const published = await loadDemoDefinitions(lifeline.engine);
    log.info({ published }, 'demo definitions loaded');
  }
  const lines = [
    '',
    `Lifeline is running at ${lifeline.url}  (API docs: ${lifeline.url}/docs, web UI: ${lifeline.url}/)`,
    `  event store: ${config.eventStore.kind === 'sqlite' ? config.eventStore.file : config.eventStore.url}`,
    `  entity events: ${config.entitySource === 'http' ? 'POST /entity-events' : `Kafka ${config.kafka.topics.join(',')}`}`,
    generated
      ? `  development JWT secret (set LIFELINE_JWT_SECRET to use your own): ${secret}`
      : '  JWT secret: from LIFELINE_JWT_SECRET',
    `  demo tokens (also in ${join(config.dataDir, 'demo-tokens.json')}):`,
    ...DEMO_USERS.map((u) => `    ${u.id.padEnd(6)} [${u.roles.join(',')}] ${u.description}\n      ${tokens[u.id]}`),
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
