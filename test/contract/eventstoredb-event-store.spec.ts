import { spawnSync } from 'node:child_process';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { EventStoreDbEventStore } from '@lifeline/event-store';
import { eventStoreContract } from './event-store.contract';
import { partitionedStoreContract } from './partitioned-store.contract';

const image = 'eventstore/eventstore:24.10';
const capabilities = { atomicAppendMany: false, globalEventIds: false };
/** Leases on streams, expiring; a server named by EVENTSTORE_URL may hold other runs' events. */
const partitioned = { atomicUnits: false, expiring: true };

/**
 * Jest registers tests synchronously, so the Docker probe runs in a child process with a short
 * timeout: testcontainers' getContainerRuntimeClient() inside a try.
 */
function dockerEngineAvailable(): boolean {
  const probe = `
    const { getContainerRuntimeClient } = require('testcontainers');
    getContainerRuntimeClient().then(() => process.exit(0), () => process.exit(1));`;
  try {
    const result = spawnSync(process.execPath, ['-e', probe], { cwd: __dirname, timeout: 15_000, stdio: 'ignore' });
    return result.status === 0;
  } catch {
    return false;
  }
}

const url = process.env.EVENTSTORE_URL;

if (url !== undefined && url !== '') {
  eventStoreContract(
    `EventStoreDbEventStore (${url})`,
    async () => EventStoreDbEventStore.connect(url),
    undefined,
    capabilities,
  );
  partitionedStoreContract(
    `EventStoreDbEventStore (${url})`,
    async ({ leaseTtlMs }) => EventStoreDbEventStore.connect(url, { leaseTtlMs }),
    { ...partitioned, fresh: false },
  );
} else if (dockerEngineAvailable()) {
  jest.setTimeout(180_000);
  let container: Promise<StartedTestContainer> | undefined;
  const started = (): Promise<StartedTestContainer> =>
    (container ??= new GenericContainer(image)
      .withEnvironment({
        EVENTSTORE_INSECURE: 'true',
        EVENTSTORE_MEM_DB: 'true',
        EVENTSTORE_RUN_PROJECTIONS: 'None',
        EVENTSTORE_CLUSTER_SIZE: '1',
      })
      .withExposedPorts(2113)
      .withWaitStrategy(Wait.forHttp('/health/live', 2113).forStatusCodeMatching((code) => code >= 200 && code < 300))
      .withStartupTimeout(120_000)
      .start());
  const connection = async (): Promise<string> => {
    const esdb = await started();
    return `esdb://${esdb.getHost()}:${esdb.getMappedPort(2113)}?tls=false`;
  };
  eventStoreContract(
    `EventStoreDbEventStore (${image} in a container)`,
    async () => EventStoreDbEventStore.connect(await connection()),
    undefined,
    capabilities,
  );
  // The same server: the contracts' tests name their own streams and partitions. It stops after both.
  partitionedStoreContract(
    `EventStoreDbEventStore (${image} in a container)`,
    async ({ leaseTtlMs }) => EventStoreDbEventStore.connect(await connection(), { leaseTtlMs }),
    { ...partitioned, fresh: false },
    async () => {
      if (container !== undefined) await (await container).stop();
    },
  );
} else {
  const reason = 'EventStoreDB contract — skipped: no EVENTSTORE_URL and no Docker engine on this machine';
  console.warn(reason);
  describe.skip(reason, () => {
    it('runs the event-store contract against EventStoreDB', () => undefined);
    it('runs the partitioned-store contract (leases on streams) against EventStoreDB', () => undefined);
  });
}
