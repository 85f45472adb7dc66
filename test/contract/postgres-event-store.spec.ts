import { PostgresEventStore } from '@lifeline/event-store';
import { dropTestSchema, testPostgresUrl, uniqueTestSchema } from '@lifeline/event-store/testing';
import { eventStoreContract } from './event-store.contract';
import { partitionedStoreContract } from './partitioned-store.contract';

const url = testPostgresUrl();

if (url !== undefined) {
  // A schema of this run's own: runs against one database (a developer's, CI's) do not collide.
  const schema = uniqueTestSchema('contract');
  eventStoreContract(
    `PostgresEventStore (${url.replace(/:[^:@/]*@/, ':***@')}, schema ${schema})`,
    async () => PostgresEventStore.connect(url, { schema, pollIntervalMs: 50 }),
    async () => dropTestSchema(url, schema),
  );
  const leasesSchema = uniqueTestSchema('partitioned');
  partitionedStoreContract(
    `PostgresEventStore (schema ${leasesSchema})`,
    async () => PostgresEventStore.connect(url, { schema: leasesSchema, pollIntervalMs: 20 }),
    { atomicUnits: true, expiring: false, fresh: true },
    async () => dropTestSchema(url, leasesSchema),
  );
} else {
  const reason =
    'PostgreSQL contract — skipped: no LIFELINE_POSTGRES_URL and no cluster at 127.0.0.1:54329 (infra/postgres/start.sh)';
  console.warn(reason);
  describe.skip(reason, () => {
    it('runs the event-store contract against PostgreSQL', () => undefined);
    it('runs the partitioned-store contract against PostgreSQL', () => undefined);
  });
}
