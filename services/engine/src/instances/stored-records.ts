import type { EventStore } from '@lifeline/event-store';
import { decodeEvent, streams, type EntityRef } from '@lifeline/process-domain';
import type { LatestRecords } from './instance-commands';

/** How many events of a record stream one backwards read takes while looking for the last recorded entity event. */
const PAGE = 32;

/**
 * The record as the shared log has it: its last EntityEventRecorded, read from the store. A process without the
 * reactor (an API replica) uses it, so a command decides on data another process recorded a moment before, not on
 * read models that may not have caught up with it yet.
 */
export class StoredRecords implements LatestRecords {
  constructor(private readonly store: Pick<EventStore, 'readStream'>) {}

  async latest(entity: EntityRef): Promise<{ data: Record<string, unknown>; entityEventId?: string }> {
    const streamId = streams.entity(entity.type, entity.id);
    let fromRevision: number | undefined;
    for (;;) {
      const page = await this.store.readStream(streamId, {
        direction: 'backwards',
        maxCount: PAGE,
        ...(fromRevision !== undefined ? { fromRevision } : {}),
      });
      for (const stored of page) {
        if (stored.type !== 'EntityEventRecorded') continue;
        const event = decodeEvent(stored);
        if (event.type === 'EntityEventRecorded')
          return { data: event.data.envelope.data, entityEventId: event.data.envelope.id };
      }
      const oldest = page[page.length - 1];
      if (page.length < PAGE || oldest === undefined || oldest.revision === 0) return { data: {} };
      fromRevision = oldest.revision - 1;
    }
  }
}
