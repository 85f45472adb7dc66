import type { EventStore, StoredEvent } from '@lifeline/event-store';
import { decodeEvent, ENTITY_TYPE, streams, type EntityRef } from '@lifeline/process-domain';
import { ExportSubjectInvalid } from './errors';

/** Whose history: a record (its stream and every instance about it) or one instance. */
export type ExportSubject = { kind: 'entity'; entity: EntityRef } | { kind: 'instance'; instanceId: string };

/** `Invoice:INV-7` → the record's reference (the id may itself contain colons). */
export function parseEntityRef(text: string): EntityRef {
  const colon = text.indexOf(':');
  const type = colon > 0 ? text.slice(0, colon) : '';
  const id = colon > 0 ? text.slice(colon + 1) : '';
  if (!ENTITY_TYPE.test(type) || id === '') {
    throw new ExportSubjectInvalid(`A record is named <Type>:<id> (e.g. Invoice:INV-7), not ${JSON.stringify(text)}`);
  }
  return { type, id };
}

/** One JSON line per event: everything the store holds about it, including the hash chain. */
export function exportLine(event: StoredEvent): string {
  return JSON.stringify({
    position: event.position,
    streamId: event.streamId,
    revision: event.revision,
    id: event.id,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
  });
}

type ReadableStore = Pick<EventStore, 'readAll' | 'readStream'>;

/**
 * The full history of a subject in global order. For a record, the instances about it are found
 * from their InstanceStarted events (one pass over the instance streams of the log).
 */
export async function exportHistory(
  store: ReadableStore,
  subject: ExportSubject,
  batchSize = 5_000,
): Promise<StoredEvent[]> {
  if (subject.kind === 'instance') return store.readStream(streams.instance(subject.instanceId));
  const { type, id } = subject.entity;
  const instanceIds: string[] = [];
  let cursor = 0;
  for (;;) {
    const page = await store.readAll(cursor, batchSize, ['instance-']);
    if (page.length === 0) break;
    for (const event of page) {
      if (event.type !== 'InstanceStarted') continue;
      const started = decodeEvent(event);
      if (started.type !== 'InstanceStarted') continue;
      const { entity } = started.data;
      if (entity.type === type && entity.id === id) instanceIds.push(event.streamId);
    }
    cursor = page[page.length - 1]!.position;
    if (page.length < batchSize) break;
  }
  const all = [...(await store.readStream(streams.entity(type, id)))];
  for (const streamId of instanceIds) all.push(...(await store.readStream(streamId)));
  return all.sort((a, b) => a.position - b.position);
}
