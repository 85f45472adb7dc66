export * from './event-store';
export * from './hash-chain';
export * from './sqlite/sqlite-event-store';
import type { EventStore } from './event-store';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

export async function openEventStore(config: { kind: 'sqlite'; file: string } | { kind: 'eventstoredb'; url: string }): Promise<EventStore> {
  if (config.kind === 'sqlite') return SqliteEventStore.open(config.file);
  const { EventStoreDbEventStore } = await import('./eventstoredb/eventstoredb-event-store');
  return EventStoreDbEventStore.connect(config.url);
}
