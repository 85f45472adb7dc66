import { T0, at, DAY } from '@lifeline/testing';
import {
  concernsReactions,
  decideTimer,
  dueTimers,
  ReactionBook,
  recordKeyOf,
  type LifelineEvent,
  type LoggedEvent,
} from '@lifeline/process-domain';

/** A migrated instance's waits and timers on its record follow the renamed activities (README, "Migrating running instances"). */

let serial = 0;
const logged = (streamId: string, event: LifelineEvent, atTime = T0): LoggedEvent => ({
  id: `e${++serial}`,
  streamId,
  at: atTime,
  correlationId: 'corr',
  event,
});
const entity = { type: 'Invoice', id: 'INV-7' };
const recorded = logged('entity-Invoice-INV-7', {
  type: 'EntityEventRecorded',
  data: {
    envelope: {
      id: 'evt-1',
      entityType: 'Invoice',
      entityId: 'INV-7',
      kind: 'created',
      occurredAt: T0,
      data: { paid: false },
    },
    source: { kind: 'http' },
  },
});
const waitStarted = (instanceId: string, activityId: string) =>
  logged(`instance-${instanceId}`, {
    type: 'WaitStarted',
    data: { activityId, visit: 1, until: 'entity.paid', timeoutAt: at(DAY), entity },
  });
const migrated = (instanceId: string, mapping: Record<string, string>) =>
  logged(`instance-${instanceId}`, {
    type: 'InstanceMigrated',
    data: { fromVersion: 1, toVersion: 2, mapping, by: 'ada', entity },
  });

describe('reactions: a migrated instance', () => {
  it('routes InstanceMigrated to the record it names, and the runner does not skip it', () => {
    const event = migrated('i1', { awaitPay: 'awaitPayment' });
    expect(recordKeyOf(event)).toBe('entity-Invoice-INV-7');
    expect(concernsReactions(event.event)).toBe(true);
  });

  it('given a wait with a timeout, when the instance is migrated, then the wait and its timer name the new activity and the timeout fires once, for it', () => {
    const book = new ReactionBook();
    for (const e of [recorded, waitStarted('i1', 'awaitPay'), waitStarted('i2', 'awaitPay')]) book.fold(e);
    book.fold(migrated('i1', { awaitPay: 'awaitPayment' }));

    const record = book.records.get('entity-Invoice-INV-7')!;
    expect(record.waits).toEqual({
      i1: { activityId: 'awaitPayment', visit: 1, until: 'entity.paid' },
      i2: { activityId: 'awaitPay', visit: 1, until: 'entity.paid' },
    });
    expect(Object.keys(record.timers).sort()).toEqual(['wait:i1:awaitPayment:1', 'wait:i2:awaitPay:1']);
    const due = dueTimers(record, at(DAY)).filter((t) => t.instanceId === 'i1');
    expect(due).toHaveLength(1);
    expect(decideTimer(due[0]!, { definitions: book.definitions, record })).toMatchObject([
      {
        type: 'RunInstanceCommand',
        instanceId: 'i1',
        command: { type: 'FireWaitTimeout', activityId: 'awaitPayment', visit: 1 },
        origin: { commandId: 'timer:wait:i1:awaitPayment:1' },
      },
    ]);

    // The timeout taken on the new activity removes its timer: it does not fire again.
    book.fold(
      logged('instance-i1', {
        type: 'WaitTimedOut',
        data: { activityId: 'awaitPayment', visit: 1, timeoutAt: at(DAY), next: 'done' },
      }),
    );
    expect(Object.keys(book.records.get('entity-Invoice-INV-7')!.timers)).toEqual(['wait:i2:awaitPay:1']);
  });

  it('given boundary timers and a record condition on a task, when migrated, then they are renamed and the task’s end disarms them', () => {
    const book = new ReactionBook();
    book.fold(recorded);
    book.fold(
      logged('instance-i1', {
        type: 'BoundaryEventsArmed',
        data: {
          activityId: 'review',
          visit: 1,
          entity,
          timers: [
            { index: 0, dueAt: at(DAY) },
            { index: 1, dueAt: at(3 * DAY) },
          ],
          watches: true,
        },
      }),
    );
    book.fold(migrated('i1', { review: 'check' }));
    const record = book.records.get('entity-Invoice-INV-7')!;
    expect(Object.keys(record.timers).sort()).toEqual(['boundary:i1:check:1:0', 'boundary:i1:check:1:1']);
    expect(record.timers['boundary:i1:check:1:1']).toMatchObject({ activityId: 'check', index: 1, dueAt: at(3 * DAY) });
    expect(record.waits).toEqual({ 'i1#boundary:check.1': { activityId: 'check', visit: 1 } });
    expect(decideTimer(dueTimers(record, at(DAY))[0]!, { definitions: book.definitions, record })).toMatchObject([
      { command: { type: 'FireBoundaryTimer', activityId: 'check', visit: 1, index: 0, dueAt: at(DAY) } },
    ]);

    book.fold(logged('instance-i1', { type: 'BoundaryEventsDisarmed', data: { activityId: 'check', visit: 1 } }));
    expect(book.records.get('entity-Invoice-INV-7')).toMatchObject({ waits: {}, timers: {} });
  });
});
