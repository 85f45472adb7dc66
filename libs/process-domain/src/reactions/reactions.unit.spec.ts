import { invoiceApproval, T0, at, MINUTE, DAY } from '@lifeline/testing';
import {
  decideReactions,
  decideTimer,
  dueTimers,
  evolveRecord,
  readsRecordData,
  ReactionBook,
  type LifelineEvent,
  type LoggedEvent,
  type ProcessDefinition,
  type Reaction,
  type RecordState,
} from '@lifeline/process-domain';

/** given(logged events).when(logged event).then(reactions): the reactions decider's specs. */
function given(...history: LoggedEvent[]) {
  const book = new ReactionBook();
  for (const logged of history) book.fold(logged);
  return {
    book,
    when(logged: LoggedEvent) {
      return {
        then(expected: Reaction[]): void {
          expect(book.react(logged, context)).toEqual(expected);
        },
        reactions: (): Reaction[] => book.react(logged, context),
      };
    },
  };
}

const context = { idFor: (name: string) => `id(${name})` };
let serial = 0;
const logged = (streamId: string, event: LifelineEvent, atTime = T0): LoggedEvent => ({
  id: `e${++serial}`,
  streamId,
  at: atTime,
  correlationId: 'corr',
  event,
});

const published = (definition: ProcessDefinition, version = 1): LoggedEvent =>
  logged(`definition-${definition.key}`, {
    type: 'DefinitionPublished',
    data: { key: definition.key, version, definition },
  });
const deactivated = (key: string): LoggedEvent =>
  logged(`definition-${key}`, { type: 'DefinitionDeactivated', data: { key } });

const invoice = { number: 'INV-7', amount: 1200, status: 'New', ownerId: 'alice' };
const recorded = (
  id: string,
  kind: 'created' | 'updated' | 'deleted',
  data: Record<string, unknown>,
  options: { changed?: string[]; entityId?: string; at?: string } = {},
): LoggedEvent =>
  logged(
    `entity-Invoice-${options.entityId ?? 'INV-7'}`,
    {
      type: 'EntityEventRecorded',
      data: {
        envelope: {
          id,
          entityType: 'Invoice',
          entityId: options.entityId ?? 'INV-7',
          kind,
          occurredAt: T0,
          data,
          ...(options.changed ? { changed: options.changed } : {}),
        },
        source: { kind: 'http' },
      },
    },
    options.at ?? T0,
  );

const waitStarted = (instanceId: string, extra: { seenEntityEventId?: string; timeoutAt?: string } = {}) =>
  logged(`instance-${instanceId}`, {
    type: 'WaitStarted',
    data: {
      activityId: 'awaitClearance',
      visit: 1,
      until: 'entity.status = "ClearedForPayment"',
      entity: { type: 'Invoice', id: 'INV-7' },
      ...extra,
    },
  });

const endpoint = (key: string, triggers: ProcessDefinition['triggers'], executionOrder = 100): ProcessDefinition => ({
  key,
  name: key,
  relatedEntity: 'Invoice',
  executionOrder,
  enabled: true,
  triggers,
  start: 'done',
  activities: { done: { type: 'end' } },
});

describe('reactions: entity events start the matching definitions', () => {
  it('given the invoice approval, when an invoice is created, then it starts with the envelope as its record', () => {
    const created = recorded('evt-1', 'created', invoice);
    given(published(invoiceApproval()))
      .when(created)
      .then([
        {
          type: 'StartInstance',
          command: {
            type: 'StartInstance',
            instanceId: 'id(start:invoice-approval:evt-1)',
            definitionKey: 'invoice-approval',
            definitionVersion: 1,
            entity: { type: 'Invoice', id: 'INV-7' },
            variables: {},
            cause: { kind: 'trigger', entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
          },
          entityData: invoice,
          entityEventId: 'evt-1',
          origin: {
            commandId: `start:invoice-approval:${created.id}`,
            causationId: created.id,
            correlationId: 'corr',
            idTime: T0,
          },
        },
      ]);
  });

  it('given three definitions, when one event fires them, then they start in execution order, then by key', () => {
    const reactions = given(
      published(endpoint('zeta', [{ on: 'created' }], 5)),
      published(endpoint('alpha', [{ on: 'created' }], 5)),
      published(endpoint('first', [{ on: 'created' }], 1)),
    )
      .when(recorded('evt-2', 'created', invoice))
      .reactions();
    expect(reactions.map((r) => (r.type === 'StartInstance' ? r.command.definitionKey : r.type))).toEqual([
      'first',
      'alpha',
      'zeta',
    ]);
  });

  it('given a deactivated definition, when its trigger holds, then nothing starts', () => {
    given(published(invoiceApproval()), deactivated('invoice-approval'))
      .when(recorded('evt-3', 'created', invoice))
      .then([]);
  });

  it('given a delayed trigger, when it holds, then the start is scheduled on the record stream for at + delay', () => {
    const reopened = recorded('evt-4', 'updated', { ...invoice, status: 'Reopened' }, { changed: ['status'] });
    given(published(invoiceApproval()))
      .when(reopened)
      .then([
        {
          type: 'ScheduleDelayedStart',
          streamId: 'entity-Invoice-INV-7',
          data: {
            instanceId: 'id(start:invoice-approval:evt-4)',
            definitionKey: 'invoice-approval',
            definitionVersion: 1,
            triggerIndex: 1,
            entityEventId: 'evt-4',
            startAt: at(10 * MINUTE),
          },
          origin: {
            commandId: `delay:invoice-approval:${reopened.id}`,
            causationId: reopened.id,
            correlationId: 'corr',
            idTime: T0,
          },
        },
      ]);
  });

  it('given a trigger condition that cannot be evaluated, when the event comes, then the failure is a reaction, not a throw', () => {
    const created = recorded('evt-5', 'created', invoice);
    const reactions = given(published(endpoint('broken', [{ on: 'created', when: 'entity.amount >' }])))
      .when(created)
      .reactions();
    expect(reactions).toEqual([
      {
        type: 'TriggerFailed',
        stage: 'trigger',
        streamId: 'entity-Invoice-INV-7',
        definitionVersion: 1,
        instanceId: 'id(start:broken:evt-5)',
        definitionKey: 'broken',
        triggerIndex: 0,
        entityEventId: 'evt-5',
        code: 'FEEL.SYNTAX',
        message: expect.any(String),
        origin: {
          commandId: `trigger-failed:broken:${created.id}`,
          causationId: created.id,
          correlationId: 'corr',
          idTime: T0,
        },
      },
    ]);
  });
});

describe('reactions: waits on the record', () => {
  it('given an instance waiting on the record, when the record is updated, then that wait is checked with the new data', () => {
    const update = recorded('evt-6', 'updated', { ...invoice, status: 'ClearedForPayment' }, { changed: ['status'] });
    given(
      published(invoiceApproval()),
      recorded('evt-1', 'created', invoice),
      waitStarted('i1', { seenEntityEventId: 'evt-1' }),
    )
      .when(update)
      .then([
        {
          type: 'RunInstanceCommand',
          instanceId: 'i1',
          command: { type: 'CheckWait', entityEventId: 'evt-6', entitySource: { kind: 'http' } },
          entityData: { ...invoice, status: 'ClearedForPayment' },
          entityEventId: 'evt-6',
          origin: {
            commandId: `check-wait:i1:${update.id}`,
            causationId: update.id,
            correlationId: 'corr',
            idTime: T0,
          },
        },
      ]);
  });

  it('given a wait entered with the latest version of the record, when its WaitStarted is seen, then nothing is re-checked', () => {
    given(recorded('evt-1', 'created', invoice))
      .when(waitStarted('i1', { seenEntityEventId: 'evt-1' }))
      .then([]);
  });

  it('given the record changed after the decision that entered the wait, when its WaitStarted is seen, then the wait is checked with the newer data', () => {
    const newer = { ...invoice, status: 'ClearedForPayment' };
    const started = waitStarted('i1', { seenEntityEventId: 'evt-1' });
    given(recorded('evt-1', 'created', invoice), recorded('evt-7', 'updated', newer))
      .when(started)
      .then([
        {
          type: 'RunInstanceCommand',
          instanceId: 'i1',
          command: { type: 'CheckWait' },
          entityData: newer,
          entityEventId: 'evt-7',
          origin: {
            commandId: `check-wait-on-start:${started.id}`,
            causationId: started.id,
            correlationId: 'corr',
            idTime: T0,
          },
        },
      ]);
  });

  it('given a wait that was satisfied, when the record changes again, then it is not checked any more', () => {
    given(
      recorded('evt-1', 'created', invoice),
      waitStarted('i1', { seenEntityEventId: 'evt-1' }),
      logged('instance-i1', {
        type: 'WaitSatisfied',
        data: { activityId: 'awaitClearance', visit: 1, expression: 'x', seen: {} },
      }),
    )
      .when(recorded('evt-8', 'updated', invoice))
      .then([]);
  });

  it('given an instance that ended while waiting, when the record changes, then nothing is checked', () => {
    given(
      recorded('evt-1', 'created', invoice),
      waitStarted('i1', { seenEntityEventId: 'evt-1' }),
      logged('instance-i1', { type: 'InstanceTerminated', data: { by: 'admin' } }),
    )
      .when(recorded('evt-9', 'updated', invoice))
      .then([]);
  });
});

describe('reactions: waits of parallel branches on the record', () => {
  const branchWait = (activityId: string, visit: number, token: string) =>
    logged('instance-i1', {
      type: 'WaitStarted',
      data: { activityId, visit, until: 'entity.paid', entity: { type: 'Invoice', id: 'INV-7' }, token },
    });
  const satisfied = (activityId: string, visit: number) =>
    logged('instance-i1', { type: 'WaitSatisfied', data: { activityId, visit, expression: 'entity.paid', seen: {} } });
  const checks = (reactions: Reaction[]) =>
    reactions.map((r) => (r.type === 'RunInstanceCommand' ? `${r.instanceId}:${r.command.type}` : r.type));

  it('given one instance waiting on two lines, when the record changes, then the instance is checked once (its decider checks every wait)', () => {
    const { when } = given(
      recorded('evt-1', 'created', invoice),
      branchWait('paid', 1, 'split.1.0'),
      branchWait('packed', 1, 'split.1.1'),
    );
    expect(checks(when(recorded('evt-2', 'updated', invoice)).reactions())).toEqual(['i1:CheckWait']);
  });

  it('given one line’s wait satisfied, when the record changes, then the other line’s wait is still checked', () => {
    const book = given(
      recorded('evt-1', 'created', invoice),
      branchWait('paid', 1, 'split.1.0'),
      branchWait('packed', 1, 'split.1.1'),
      satisfied('paid', 1),
    );
    expect(Object.keys(book.book.records.get('entity-Invoice-INV-7')!.waits)).toEqual(['i1#split.1.1']);
    expect(checks(book.when(recorded('evt-3', 'updated', invoice)).reactions())).toEqual(['i1:CheckWait']);
  });

  it('given both lines’ waits satisfied, or the instance ended, then nothing is checked any more', () => {
    const done = given(
      recorded('evt-1', 'created', invoice),
      branchWait('paid', 1, 'split.1.0'),
      branchWait('packed', 1, 'split.1.1'),
      satisfied('paid', 1),
      satisfied('packed', 1),
    );
    expect(checks(done.when(recorded('evt-4', 'updated', invoice)).reactions())).toEqual([]);
    const ended = given(
      recorded('evt-1', 'created', invoice),
      branchWait('paid', 1, 'split.1.0'),
      branchWait('packed', 1, 'split.1.1'),
      logged('instance-i1', { type: 'InstanceCompleted', data: { endActivityId: 'halt' } }),
    );
    expect(checks(ended.when(recorded('evt-5', 'updated', invoice)).reactions())).toEqual([]);
  });
});

describe('reactions: boundary events on the record', () => {
  const armed = (timers: { index: number; dueAt: string }[], watches: boolean) =>
    logged('instance-i1', {
      type: 'BoundaryEventsArmed',
      data: { activityId: 'review', visit: 1, entity: { type: 'Invoice', id: 'INV-7' }, timers, watches },
    });
  const triggered = (index: number, extra: Record<string, unknown>) =>
    logged('instance-i1', {
      type: 'BoundaryTriggered',
      data: { activityId: 'review', visit: 1, index, kind: 'timer', ...extra } as never,
    });

  it('given a task with a reminder and an escalation, when they fall due, then each fires its own command with its due time', () => {
    const { book } = given(
      recorded('evt-1', 'created', invoice),
      armed(
        [
          { index: 0, dueAt: at(DAY) },
          { index: 1, dueAt: at(3 * DAY) },
        ],
        false,
      ),
    );
    const record = book.records.get('entity-Invoice-INV-7')!;
    const due = dueTimers(record, at(3 * DAY));
    expect(due.map((t) => t.timerId)).toEqual(['boundary:i1:review:1:0', 'boundary:i1:review:1:1']);
    const fired = decideTimer(due[1]!, { definitions: book.definitions, record });
    expect(fired).toMatchObject([
      {
        type: 'RunInstanceCommand',
        instanceId: 'i1',
        command: { type: 'FireBoundaryTimer', activityId: 'review', visit: 1, index: 1, dueAt: at(3 * DAY) },
        entityData: invoice,
      },
    ]);
    expect(dueTimers(record, at(DAY - MINUTE))).toEqual([]);
  });

  it('given a repeating reminder, when it fires, then its timer moves to the next due time; once not repeating, it is gone', () => {
    const { book } = given(
      recorded('evt-1', 'created', invoice),
      armed([{ index: 0, dueAt: at(DAY) }], false),
      triggered(0, { interrupting: false, remind: true, dueAt: at(DAY), nextDueAt: at(2 * DAY) }),
    );
    expect(book.records.get('entity-Invoice-INV-7')!.timers['boundary:i1:review:1:0']).toMatchObject({
      dueAt: at(2 * DAY),
    });
    book.fold(triggered(0, { interrupting: false, remind: true, dueAt: at(2 * DAY) }));
    expect(book.records.get('entity-Invoice-INV-7')!.timers).toEqual({});
  });

  it('given a record condition, then the record’s updates reach the instance until the activity is left', () => {
    const watching = given(recorded('evt-1', 'created', invoice), armed([{ index: 1, dueAt: at(DAY) }], true));
    const update = watching.when(recorded('evt-2', 'updated', { ...invoice, status: 'Cancelled' })).reactions();
    expect(update.map((r) => (r.type === 'RunInstanceCommand' ? r.command : r.type))).toEqual([
      { type: 'CheckWait', entityEventId: 'evt-2', entitySource: { kind: 'http' } },
    ]);
    watching.book.fold(
      logged('instance-i1', { type: 'BoundaryEventsDisarmed', data: { activityId: 'review', visit: 1 } }),
    );
    expect(watching.book.records.get('entity-Invoice-INV-7')).toMatchObject({ waits: {}, timers: {} });
    expect(watching.when(recorded('evt-3', 'updated', invoice)).reactions()).toEqual([]);
  });

  it('given an interrupting boundary event, then every boundary timer and watch of that activity entry is gone', () => {
    const { book } = given(
      recorded('evt-1', 'created', invoice),
      armed(
        [
          { index: 0, dueAt: at(DAY) },
          { index: 1, dueAt: at(3 * DAY) },
        ],
        true,
      ),
      triggered(1, { interrupting: true, next: 'escalate', dueAt: at(3 * DAY) }),
    );
    expect(book.records.get('entity-Invoice-INV-7')).toMatchObject({ waits: {}, timers: {} });
  });
});

describe('reactions: timers are state, due timers are decided', () => {
  it('given a wait with a timeout, when the timeout is due, then the timeout fires with the record as last recorded', () => {
    const started = waitStarted('i1', { seenEntityEventId: 'evt-1', timeoutAt: at(30 * DAY) });
    const { book } = given(recorded('evt-1', 'created', invoice), started);
    const record = book.records.get('entity-Invoice-INV-7')!;
    expect(dueTimers(record, at(30 * DAY - 1))).toEqual([]);
    const [timer] = dueTimers(record, at(30 * DAY));
    expect(decideTimer(timer!, { definitions: book.definitions, record })).toEqual([
      {
        type: 'RunInstanceCommand',
        instanceId: 'i1',
        command: { type: 'FireWaitTimeout', activityId: 'awaitClearance', visit: 1 },
        entityData: invoice,
        entityEventId: 'evt-1',
        origin: {
          commandId: 'timer:wait:i1:awaitClearance:1',
          causationId: started.id,
          correlationId: 'corr',
          idTime: at(30 * DAY),
        },
      },
    ]);
  });

  it('given a suspended instance, when its timeout falls due, then the timer is paused; resumed, it is due again', () => {
    const { book } = given(
      recorded('evt-1', 'created', invoice),
      waitStarted('i1', { timeoutAt: at(DAY) }),
      logged('instance-i1', { type: 'InstanceSuspended', data: { by: 'admin' } }),
    );
    expect(dueTimers(book.records.get('entity-Invoice-INV-7')!, at(2 * DAY))).toEqual([]);
    book.fold(logged('instance-i1', { type: 'InstanceResumed', data: { by: 'admin' } }));
    expect(dueTimers(book.records.get('entity-Invoice-INV-7')!, at(2 * DAY)).map((t) => t.timerId)).toEqual([
      'wait:i1:awaitClearance:1',
    ]);
  });

  it('given a delayed start scheduled and the definition deactivated since, when it falls due, then it is skipped with the reason', () => {
    const scheduled = logged('entity-Invoice-INV-7', {
      type: 'DelayedStartScheduled',
      data: {
        instanceId: 'i9',
        definitionKey: 'invoice-approval',
        definitionVersion: 1,
        triggerIndex: 1,
        entityEventId: 'evt-4',
        startAt: at(10 * MINUTE),
      },
    });
    const { book } = given(published(invoiceApproval()), recorded('evt-4', 'updated', invoice), scheduled);
    const record = book.records.get('entity-Invoice-INV-7')!;
    const [timer] = dueTimers(record, at(10 * MINUTE));
    expect(decideTimer(timer!, { definitions: book.definitions, record }).map((r) => r.type)).toEqual([
      'StartInstance',
    ]);
    book.fold(deactivated('invoice-approval'));
    const reactions = decideTimer(timer!, { definitions: book.definitions, record });
    expect(reactions).toEqual([
      expect.objectContaining({
        type: 'SkipDelayedStart',
        reason: 'the definition is deactivated',
        streamId: 'entity-Invoice-INV-7',
      }),
    ]);
    // The skip, once recorded, removes the timer.
    book.fold(
      logged('entity-Invoice-INV-7', {
        type: 'DelayedStartSkipped',
        data: {
          instanceId: 'i9',
          definitionKey: 'invoice-approval',
          definitionVersion: 1,
          entityEventId: 'evt-4',
          reason: 'x',
        },
      }),
    );
    expect(book.records.get('entity-Invoice-INV-7')!.timers).toEqual({});
  });

  it('given a delayed start, when its instance starts, then the timer is gone', () => {
    const { book } = given(
      recorded('evt-4', 'updated', invoice),
      logged('entity-Invoice-INV-7', {
        type: 'DelayedStartScheduled',
        data: {
          instanceId: 'i9',
          definitionKey: 'k',
          definitionVersion: 1,
          triggerIndex: 0,
          entityEventId: 'evt-4',
          startAt: at(MINUTE),
        },
      }),
      logged('instance-i9', {
        type: 'InstanceStarted',
        data: {
          instanceId: 'i9',
          definitionKey: 'k',
          definitionVersion: 1,
          definitionName: 'k',
          entity: { type: 'Invoice', id: 'INV-7' },
          variables: {},
          cause: { kind: 'trigger', entityEventId: 'evt-4', triggerIndex: 0, delayed: true },
        },
      }),
    );
    expect(book.records.get('entity-Invoice-INV-7')!.timers).toEqual({});
    expect(book.instanceRecords.size).toBe(0);
  });
});

describe('reactions: a failed job waits out its backoff on a timer of its record', () => {
  const jobId = 'i7.check.1.1';
  const failed = (retryAt?: string) =>
    logged('instance-i7', {
      type: 'JobFailed',
      data: {
        jobId,
        activityId: 'check',
        jobType: 'credit-check',
        workerId: 'w1',
        error: 'down',
        retries: 2,
        ...(retryAt !== undefined ? { retryAt } : {}),
        entity: { type: 'Invoice', id: 'INV-7' },
      },
    });

  it('given a failure with a backoff, when it is due, then the retry fires; once due is recorded, the timer is gone', () => {
    const failure = failed(at(30_000));
    const { book } = given(recorded('evt-1', 'created', invoice), failure);
    const record = book.records.get('entity-Invoice-INV-7')!;
    expect(dueTimers(record, at(29_999))).toEqual([]);
    const [timer] = dueTimers(record, at(30_000));
    expect(decideTimer(timer!, { definitions: book.definitions, record })).toEqual([
      {
        type: 'RunInstanceCommand',
        instanceId: 'i7',
        command: { type: 'FireJobRetry', jobId },
        entityData: invoice,
        entityEventId: 'evt-1',
        origin: { commandId: `timer:job:${jobId}`, causationId: failure.id, correlationId: 'corr', idTime: at(30_000) },
      },
    ]);
    book.fold(
      logged('instance-i7', { type: 'JobRetryDue', data: { jobId, activityId: 'check', jobType: 'credit-check' } }),
    );
    expect(book.records.get('entity-Invoice-INV-7')!.timers).toEqual({});
    expect(book.instanceRecords.size).toBe(0);
  });

  it('given a failure without a backoff, then no timer is kept', () => {
    const { book } = given(recorded('evt-1', 'created', invoice), failed());
    expect(book.records.get('entity-Invoice-INV-7')!.timers).toEqual({});
  });
});

describe('reactions: matching cost does not grow with definitions that cannot match', () => {
  it('given 200 definitions routed by region, when an event comes, then the one whose literal equals the field starts, and only it', () => {
    const history = Array.from({ length: 200 }, (_, i) =>
      published(endpoint(`route-${i}`, [{ on: 'created', when: `entity.region = "R${i}" and entity.amount > 0` }])),
    );
    const { book } = given(...history);
    const reactions = book.react(recorded('evt-10', 'created', { ...invoice, region: 'R137' }), context);
    expect(reactions.map((r) => (r.type === 'StartInstance' ? r.command.definitionKey : r.type))).toEqual([
      'route-137',
    ]);
    // Only the matching definition is a candidate: the index did the narrowing.
    const kind = book.definitions.index.byType.get('Invoice')!.get('created')!;
    expect(kind.always).toEqual([]);
    expect(kind.byField.get('region')!.size).toBe(200);
  });
});

describe('readsRecordData: what a runner must load of a record before an event', () => {
  const withWait = (data: Record<string, unknown>, lastEntityEventId?: string): RecordState => ({
    entity: { type: 'Invoice', id: 'INV-7' },
    data,
    kind: 'updated',
    ...(lastEntityEventId !== undefined ? { lastEntityEventId } : {}),
    waits: { i1: { activityId: 'awaitClearance', visit: 1, until: 'entity.status = "ClearedForPayment"' } },
    timers: {},
  });
  const definitions = given(published(invoiceApproval())).book.definitions;

  it('given an entity event, then its reactions and the record after it are the same whatever the data before it', () => {
    const update = recorded('evt-9', 'updated', { ...invoice, status: 'ClearedForPayment' }, { changed: ['status'] });
    expect(readsRecordData(update.event)).toBe(false);
    const known = withWait(invoice, 'evt-1');
    const unread = { ...withWait({}), kind: undefined };
    delete unread.kind;
    expect(decideReactions(update, { definitions, record: unread }, context)).toEqual(
      decideReactions(update, { definitions, record: known }, context),
    );
    expect(evolveRecord(unread, update)).toEqual(evolveRecord(known, update));
    // A record without waits or timers: read or not, the event makes the same record.
    const created = recorded('evt-2', 'created', invoice, { entityId: 'INV-8' });
    expect(evolveRecord(undefined, created)).toEqual(
      evolveRecord(
        { ...withWait({ old: true }, 'evt-0'), entity: { type: 'Invoice', id: 'INV-8' }, waits: {} },
        created,
      ),
    );
  });

  it('given a WaitStarted, then the data before it matters (the wait is checked against it), so it is read', () => {
    const started = waitStarted('i1', { seenEntityEventId: 'evt-1' });
    expect(readsRecordData(started.event)).toBe(true);
    expect(decideReactions(started, { definitions, record: withWait(invoice, 'evt-2') }, context)).toHaveLength(1);
    expect(decideReactions(started, { definitions, record: withWait({}, 'evt-1') }, context)).toEqual([]);
  });
});

describe('reactions: a definition that says what a deleted record does', () => {
  const startedWith = (onRecordDeleted?: 'terminate') =>
    logged('instance-i1', {
      type: 'InstanceStarted',
      data: {
        instanceId: 'i1',
        definitionKey: 'k',
        definitionVersion: 1,
        definitionName: 'K',
        entity: { type: 'Invoice', id: 'INV-7' },
        variables: {},
        cause: { kind: 'api' },
        ...(onRecordDeleted ? { onRecordDeleted } : {}),
      },
    });
  const commands = (reactions: Reaction[]) =>
    reactions.map((r) => (r.type === 'RunInstanceCommand' ? r.command : r.type));

  it('given an instance whose definition terminates on deletion, then only the deletion reaches it, marked as one', () => {
    const { when } = given(recorded('evt-1', 'created', invoice), startedWith('terminate'));
    expect(commands(when(recorded('evt-2', 'updated', invoice)).reactions())).toEqual([]);
    expect(commands(when(recorded('evt-3', 'deleted', invoice)).reactions())).toEqual([
      { type: 'CheckWait', entityEventId: 'evt-3', entitySource: { kind: 'http' }, recordDeleted: true },
    ]);
  });

  it('given an instance whose definition goes on (the default), then a deletion reaches nothing', () => {
    const { when } = given(recorded('evt-1', 'created', invoice), startedWith());
    expect(commands(when(recorded('evt-3', 'deleted', invoice)).reactions())).toEqual([]);
  });
});
