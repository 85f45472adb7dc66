import type { StoredEvent, SqliteEventStore } from '@lifeline/event-store';

/** Appends hand-built events (an EventLog's) to a real store, in order, `perUnit` to a unit of work. */
export async function appendToStore(
  store: SqliteEventStore,
  events: readonly StoredEvent[],
  perUnit = 500,
): Promise<void> {
  for (let i = 0; i < events.length; i += perUnit) {
    await store.appendMany(
      events.slice(i, i + perUnit).map((e) => ({
        streamId: e.streamId,
        expectedRevision: 'any' as const,
        events: [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }],
      })),
    );
  }
}
