import { invoiceApproval, T0 } from '@lifeline/testing';
import {
  decideDueDelayedStart,
  delayedStartAt,
  planStartRetry,
  startFailuresOf,
  type ActiveDefinition,
  type EntityEvent,
  type EntityEventEnvelope,
  type StartFailed,
} from '@lifeline/process-domain';

const envelope: EntityEventEnvelope = {
  id: 'evt-1',
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind: 'created',
  occurredAt: T0,
  data: { amount: 1200 },
};
const failed: StartFailed = {
  type: 'StartFailed',
  data: {
    failureId: 'f1',
    definitionKey: 'invoice-approval',
    definitionVersion: 1,
    entityEventId: 'evt-1',
    triggerIndex: 0,
    stage: 'trigger',
    instanceId: 'i1',
    code: 'FEEL.BUDGET_EXCEEDED',
    message: 'too much',
  },
};
const active = (over: Partial<ActiveDefinition> = {}): ActiveDefinition => ({
  definition: invoiceApproval(),
  version: 2,
  enabled: true,
  executionOrder: 10,
  ...over,
});
const failures = (...events: EntityEvent[]) => startFailuresOf(events.map((event) => ({ event, at: T0 })));

describe('delayedStartAt', () => {
  it('given a delay, then the start is due that long after the record was recorded', () => {
    expect(delayedStartAt(T0, 'PT10M')).toEqual({ ok: true, startAt: '2026-11-21T10:10:00.000Z' });
  });

  it('given a delay past 9999 (old data), then a failure FLOW.INVALID_DURATION, not a throw', () => {
    expect(delayedStartAt(T0, 'P99999999Y')).toEqual({
      ok: false,
      code: 'FLOW.INVALID_DURATION',
      message: expect.stringContaining('P99999999Y'),
    });
  });
});

describe('decideDueDelayedStart (a deactivated definition starts nothing)', () => {
  it('given the definition enabled when the start is due, then it starts', () => {
    expect(decideDueDelayedStart({ enabled: true })).toEqual({ start: true });
  });

  it('given the definition deactivated when the start is due, then it is skipped with the reason', () => {
    expect(decideDueDelayedStart({ enabled: false })).toEqual({
      start: false,
      reason: 'the definition is deactivated',
    });
  });

  it('given no such definition, then it is skipped', () => {
    expect(decideDueDelayedStart(undefined)).toEqual({ start: false, reason: 'the definition is unknown' });
  });

  it('given a skip already recorded for it, then it stays skipped even though the definition is enabled again', () => {
    expect(decideDueDelayedStart({ enabled: true }, true)).toEqual({ start: false, reason: 'skipped-before' });
  });
});

describe('planStartRetry', () => {
  it('given an open failure and a fixed, enabled definition that matches, then the instance is started', () => {
    expect(planStartRetry(failures(failed).get('f1'), active(), envelope, T0)).toEqual({
      kind: 'start',
      match: { definitionKey: 'invoice-approval', definitionVersion: 2, triggerIndex: 0, executionOrder: 10 },
    });
  });

  it('given a definition whose trigger has a delay, then the start is scheduled from when the record was recorded', () => {
    const delayed = invoiceApproval();
    delayed.triggers = [{ on: 'created', delay: 'PT10M' }];
    expect(planStartRetry(failures(failed).get('f1'), active({ definition: delayed }), envelope, T0)).toMatchObject({
      kind: 'schedule',
      startAt: '2026-11-21T10:10:00.000Z',
    });
  });

  it('given a definition that no longer matches the event, then the failure is closed with no start', () => {
    const strict = invoiceApproval();
    strict.triggers = [{ on: 'created', when: 'entity.amount > 5000' }];
    expect(planStartRetry(failures(failed).get('f1'), active({ definition: strict }), envelope, T0)).toEqual({
      kind: 'no-match',
    });
  });

  it('given a trigger condition that still fails, then the retry is refused with the code and the failure stays open', () => {
    const bomb = invoiceApproval();
    bomb.triggers = [{ on: 'created', when: 'count(for i in 1..100000000 return i) > 0' }];
    expect(() => planStartRetry(failures(failed).get('f1'), active({ definition: bomb }), envelope, T0)).toThrow(
      expect.objectContaining({ code: 'START_FAILURE.FAILED_AGAIN', message: expect.stringContaining('FEEL.') }),
    );
  });

  it.each([
    ['an unknown failure', undefined, active(), 'START_FAILURE.NOT_FOUND'],
    ['a deactivated definition', failed, active({ enabled: false }), 'DEFINITION.DISABLED'],
    ['a definition that is gone', failed, undefined, 'DEFINITION.DISABLED'],
  ])('given %s, then the retry is refused', (_name, failure, definition, code) => {
    const found = failure ? failures(failure).get('f1') : undefined;
    expect(() => planStartRetry(found, definition, envelope, T0)).toThrow(expect.objectContaining({ code }));
  });

  it('given a failure already retried, then a second retry is refused', () => {
    const retried = failures(failed, {
      type: 'StartRetried',
      data: {
        failureId: 'f1',
        by: 'root',
        outcome: 'started',
        definitionKey: 'invoice-approval',
        definitionVersion: 2,
        instanceId: 'i1',
      },
    });
    expect(() => planStartRetry(retried.get('f1'), active(), envelope, T0)).toThrow(
      expect.objectContaining({ code: 'START_FAILURE.ALREADY_RETRIED' }),
    );
  });
});
