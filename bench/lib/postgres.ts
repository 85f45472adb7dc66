import pg from 'pg';

/** LIFELINE_POSTGRES_URL, else the cluster of infra/postgres/start.sh (PG_PORT, 54329), when it answers. */
export async function reachablePostgres(): Promise<string | undefined> {
  const url =
    process.env.LIFELINE_POSTGRES_URL || `postgres://postgres@127.0.0.1:${process.env.PG_PORT ?? 54329}/lifeline`;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return url;
  } catch {
    return undefined;
  }
}

/** A PostgreSQL URL with a session setting added (`options=-c name=value`, as libpq and node-postgres read it). */
export function withSetting(url: string, name: string, value: string): string {
  const u = new URL(url);
  const options = [u.searchParams.get('options'), `-c ${name}=${value}`].filter(Boolean).join(' ');
  u.searchParams.set('options', options);
  return u.toString();
}

/** Drops a bench's schema (and everything in it). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}
