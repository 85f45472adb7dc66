import { PartitionedInMemoryEventStore } from '@lifeline/event-store';
import { partitionedStoreContract } from './partitioned-store.contract';

// Every connection shares one log, with leases of its own: the engines of one cluster on one server.
const server = new PartitionedInMemoryEventStore({ ttlMs: 10_000 });

partitionedStoreContract(
  'PartitionedInMemoryEventStore (EventStoreDB’s leases on streams, units not atomic)',
  async ({ leaseTtlMs }) => server.connect({ ttlMs: leaseTtlMs }),
  { atomicUnits: false, expiring: true, fresh: true },
  () => server.close(),
);
