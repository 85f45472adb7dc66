import { InMemoryEventStore, type NewEvent } from '@lifeline/event-store';
import { streams } from '@lifeline/process-domain';
import { StoredRecords } from './stored-records';

const meta = { correlationId: 'c', causationId: 'c', actor: 'app', at: '2026-11-21T10:00:00.000Z' };
const recorded = (id: string, amount: number): NewEvent => ({
  id,
  type: 'EntityEventRecorded',
  data: {
    envelope: {
      id,
      entityType: 'Order',
      entityId: 'O-1',
      kind: 'created',
      occurredAt: meta.at,
      data: { amount },
    },
    source: { kind: 'http' },
  },
  metadata: meta,
});
const skipped = (n: number): NewEvent => ({
  id: `skip-${n}`,
  type: 'DelayedStartSkipped',
  data: { instanceId: `i-${n}`, definitionKey: 'order-check', reason: 'test' },
  metadata: meta,
});

describe('StoredRecords: the latest data of a record, from its stream in the log', () => {
  const stream = streams.entity('Order', 'O-1');

  it('given entity events and, after the last one, more other events than one page, then it finds the last entity event', async () => {
    const store = new InMemoryEventStore();
    await store.append({
      streamId: stream,
      events: [recorded('e-1', 100), recorded('e-2', 1200)],
      expectedRevision: 'any',
    });
    await store.append({
      streamId: stream,
      events: Array.from({ length: 70 }, (_, n) => skipped(n)),
      expectedRevision: 'any',
    });
    await expect(new StoredRecords(store).latest({ type: 'Order', id: 'O-1' })).resolves.toEqual({
      data: { amount: 1200 },
      entityEventId: 'e-2',
    });
  });

  it('given a record never recorded, or one with no entity event, then its data is empty', async () => {
    const store = new InMemoryEventStore();
    await store.append({ streamId: stream, events: [skipped(1)], expectedRevision: 'any' });
    const records = new StoredRecords(store);
    await expect(records.latest({ type: 'Order', id: 'O-1' })).resolves.toEqual({ data: {} });
    await expect(records.latest({ type: 'Order', id: 'O-2' })).resolves.toEqual({ data: {} });
  });
});
