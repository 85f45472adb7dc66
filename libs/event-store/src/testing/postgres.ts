import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The cluster infra/postgres/start.sh starts by default (and scripts/test.mjs when none answers). */
export const DEFAULT_TEST_POSTGRES_URL = `postgres://postgres@127.0.0.1:${process.env.PG_PORT ?? '54329'}/lifeline`;

/**
 * The PostgreSQL to test against: LIFELINE_POSTGRES_URL, else the default test cluster when it answers.
 * Synchronous (jest registers tests synchronously): the probe is a child process with a short timeout.
 */
export function testPostgresUrl(): string | undefined {
  const configured = process.env.LIFELINE_POSTGRES_URL;
  if (configured !== undefined && configured !== '') return configured;
  const probe = `
    const { Client } = require('pg');
    const client = new Client({ connectionString: ${JSON.stringify(DEFAULT_TEST_POSTGRES_URL)}, connectionTimeoutMillis: 3000 });
    client.connect().then(() => client.end()).then(() => process.exit(0), () => process.exit(1));`;
  const result = spawnSync(process.execPath, ['-e', probe], { cwd: __dirname, timeout: 10_000, stdio: 'ignore' });
  return result.status === 0 ? DEFAULT_TEST_POSTGRES_URL : undefined;
}

/** A schema name of its own for one test file's run: runs against one database do not see each other. */
export function uniqueTestSchema(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export async function dropTestSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A describe that runs against PostgreSQL when one is reachable (testPostgresUrl), and otherwise is reported
 * skipped with the reason in its title (scripts/test.mjs lists skipped tests by title).
 */
export function describePostgres(name: string, body: (url: string) => void): void {
  const url = testPostgresUrl();
  if (url !== undefined) {
    describe(name, () => body(url));
    return;
  }
  const reason = `${name} — skipped: no LIFELINE_POSTGRES_URL and no cluster at 127.0.0.1:54329 (infra/postgres/start.sh)`;
  describe.skip(reason, () => {
    it('runs against PostgreSQL', () => undefined);
  });
}
