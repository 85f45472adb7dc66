import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

const FILE = resolve(__dirname, '../../../docker-compose.yml');
const POSTGRES = resolve(__dirname, '../../../infra/compose/postgres.yml');
/** Compose's `!override` tag (replace, do not merge, the base file's value): read as the plain mapping it tags. */
const overrideTag = { tag: '!override', collection: 'map' as const, resolve: (value: unknown) => value };
const composeAvailable = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;

describe('docker-compose.yml', () => {
  const doc = parse(readFileSync(FILE, 'utf8'), { merge: true }) as {
    services: Record<
      string,
      { command?: string[]; healthcheck?: unknown; environment?: Record<string, string>; volumes?: string[] }
    >;
  };

  it('runs Kafka, EventStoreDB, two engines with their own state, and the API, each with a health check', () => {
    expect(Object.keys(doc.services).sort()).toEqual(['api', 'engine-1', 'engine-2', 'eventstore', 'kafka']);
    for (const service of Object.values(doc.services)) expect(service.healthcheck).toBeDefined();
    expect(doc.services['engine-1'].command).toEqual(['node', 'dist/services/engine/src/main.js']);
    expect(doc.services['engine-2'].command).toEqual(['node', 'dist/services/engine/src/main.js']);
    expect(doc.services['engine-1'].volumes).not.toEqual(doc.services['engine-2'].volumes);
    expect(doc.services.api.command).toEqual(['node', 'dist/services/api/src/main.js']);
    expect(doc.services['engine-1'].environment).toMatchObject({
      LIFELINE_EVENT_STORE: 'eventstoredb',
      LIFELINE_ENTITY_SOURCE: 'kafka',
      KAFKA_GROUP_ID: 'lifeline-engine',
    });
    // The same environment on engine-2, but only engine-1 sends webhook deliveries.
    expect(doc.services['engine-2'].environment).toMatchObject({
      LIFELINE_EVENT_STORE: 'eventstoredb',
      KAFKA_GROUP_ID: 'lifeline-engine',
      LIFELINE_WEBHOOKS_SEND: 'false',
    });
    expect(doc.services['engine-1'].environment?.LIFELINE_WEBHOOKS_SEND).toBeUndefined();
  });

  it('infra/compose/postgres.yml puts the engines and the API on PostgreSQL, where they share the records by partition', () => {
    const override = parse(readFileSync(POSTGRES, 'utf8'), { merge: true, customTags: [overrideTag] }) as {
      services: Record<
        string,
        { environment?: Record<string, string>; depends_on?: Record<string, unknown>; profiles?: string[] }
      >;
    };
    expect(Object.keys(override.services).sort()).toEqual(['api', 'engine-1', 'engine-2', 'eventstore', 'postgres']);
    expect(override.services.eventstore?.profiles).toEqual(['eventstoredb']);
    for (const name of ['engine-1', 'engine-2', 'api']) {
      const service = override.services[name]!;
      expect(service.environment).toMatchObject({
        LIFELINE_EVENT_STORE: 'postgres',
        LIFELINE_POSTGRES_URL: 'postgres://lifeline:lifeline@postgres:5432/lifeline',
      });
      expect(Object.keys(service.depends_on ?? {}).sort()).toEqual(['kafka', 'postgres']);
    }
    // With the base file's LIFELINE_ENTITY_SOURCE=kafka, that is the setup where LIFELINE_OWNERSHIP defaults to partitions.
    expect(doc.services['engine-1'].environment).toMatchObject({ LIFELINE_ENTITY_SOURCE: 'kafka' });
  });

  (composeAvailable ? it : it.skip)(
    composeAvailable
      ? 'is valid for docker compose config'
      : 'is valid for docker compose config — skipped: no docker compose plugin on this machine',
    () => {
      const result = spawnSync('docker', ['compose', '-f', FILE, '-f', POSTGRES, 'config', '-q'], {
        encoding: 'utf8',
        env: { ...process.env, LIFELINE_JWT_SECRET: 'compose-config-check' },
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    },
  );
});
