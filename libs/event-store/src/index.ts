import type { EventStore } from './event-store';
import { EventStoreDbEventStore } from './eventstoredb/eventstoredb-event-store';
import { PostgresEventStore } from './postgres/postgres-event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

export * from './event-store';
export * from './hash-chain';
export * from './log-chain';
export * from './partitions';
export {
  StreamPartitionLeases,
  INTERNAL_STREAM_PREFIX,
  isInternalStream,
  leaseStreamOf,
  type StreamPartitionLeasesOptions,
} from './stream-partitions';
export { EventStoreClosed } from './store-rules';
export { PositionWaiters } from './position-waiters';
export { SqliteEventStore, type SqliteEventStoreOptions } from './sqlite/sqlite-event-store';
export { EventStoreDbEventStore, type EventStoreDbOptions } from './eventstoredb/eventstoredb-event-store';
export { PostgresEventStore, type PostgresEventStoreOptions } from './postgres/postgres-event-store';
export { InMemoryEventStore, PartitionedInMemoryEventStore } from './memory/in-memory-event-store';
export { WalCheckpointer, FALLBACK_AUTOCHECKPOINT_PAGES } from './sqlite/wal-checkpointer';
export {
  copyHistory,
  canonicalHistoryEvent,
  HistoryDiverged,
  type CopyHistoryOptions,
  type CopyHistoryResult,
} from './copy-history';

export type EventStoreConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'eventstoredb'; url: string; leaseTtlMs?: number }
  | { kind: 'postgres'; url: string; schema?: string };

/** Opens the configured store (LIFELINE_EVENT_STORE picks the kind). */
export async function openEventStore(config: EventStoreConfig): Promise<EventStore> {
  switch (config.kind) {
    case 'sqlite':
      return SqliteEventStore.open(config.file);
    case 'eventstoredb':
      return EventStoreDbEventStore.connect(
        config.url,
        config.leaseTtlMs === undefined ? {} : { leaseTtlMs: config.leaseTtlMs },
      );
    case 'postgres':
      return PostgresEventStore.connect(config.url, config.schema === undefined ? {} : { schema: config.schema });
    default: {
      const unknown: never = config;
      throw new Error(`Unknown event store kind: ${JSON.stringify(unknown)}`);
    }
  }
}
