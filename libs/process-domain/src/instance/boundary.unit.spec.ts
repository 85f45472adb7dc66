import { InstanceRun as Run, eventShape as shape, at, DAY, HOUR } from '@lifeline/testing';
import { parseDefinition, SYSTEM, validateDefinition, type Actor, type InstanceEvent } from '@lifeline/process-domain';

/** Boundary events on tasks and waits, given/when/then: escalation, reminders, reassignment, record conditions. */

const accountant: Actor = { id: 'bob', roles: ['accounting'] };
const manager: Actor = { id: 'mia', roles: ['managers'] };
const admin: Actor = { id: 'root', roles: ['admin'] };

const review = parseDefinition(`
key: invoice-review
name: Invoice review
relatedEntity: Invoice
triggers: [{ on: created }]
start: review
activities:
  review:
    type: human
    title: Review
    assignee: { role: accounting }
    boundary:
      - { after: P3D, next: escalate }
      - { after: P1D, every: P1D, remind: true }
      - { when: entity.status = "Cancelled", next: cancelled }
    next: done
  escalate: { type: human, title: Escalated review, assignee: { role: managers }, next: done }
  cancelled: { type: end }
  done: { type: end }
`);

const fire = (index: number, dueAt: string) =>
  ({ type: 'FireBoundaryTimer', activityId: 'review', visit: 1, index, dueAt }) as const;
const dataOf = (events: InstanceEvent[], type: InstanceEvent['type']) => events.find((e) => e.type === type)!.data;

describe('boundary timers on a human task', () => {
  it('given a task with two timers and a condition, when entered, then its boundary events are armed with their due times', () => {
    const run = new Run(review, { status: 'New' });
    const events = run.start();
    expect(shape(events)).toEqual([
      'InstanceStarted',
      'ActivityEntered(review)',
      'TaskCreated(review)',
      'BoundaryEventsArmed(review)',
    ]);
    expect(events[3]!.data).toEqual({
      activityId: 'review',
      visit: 1,
      entity: { type: 'Invoice', id: 'R-1' },
      timers: [
        { index: 0, dueAt: at(3 * DAY) },
        { index: 1, dueAt: at(DAY) },
      ],
      watches: true,
    });
  });

  it('given the daily reminder, when it falls due, then it is recorded once with the next due time, and the same due time again is ignored', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    const first = run.when(fire(1, at(DAY)), SYSTEM, at(DAY));
    expect(first).toEqual([
      {
        type: 'BoundaryTriggered',
        data: {
          activityId: 'review',
          visit: 1,
          index: 1,
          kind: 'timer',
          interrupting: false,
          remind: true,
          dueAt: at(DAY),
          nextDueAt: at(2 * DAY),
        },
      },
    ]);
    expect(run.when(fire(1, at(DAY)), SYSTEM, at(DAY + HOUR))).toEqual([]);
    expect(dataOf(run.when(fire(1, at(2 * DAY)), SYSTEM, at(2 * DAY)), 'BoundaryTriggered')).toMatchObject({
      nextDueAt: at(3 * DAY),
    });
  });

  it('given a reminder missed for days (the engine was down), when it fires, then it fires once and the next is one period from now', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    const late = run.when(fire(1, at(DAY)), SYSTEM, at(2 * DAY + 5 * HOUR));
    expect(dataOf(late, 'BoundaryTriggered')).toMatchObject({ dueAt: at(DAY), nextDueAt: at(3 * DAY + 5 * HOUR) });
  });

  it('given the escalation timer, when it falls due, then the task is cancelled and the line goes to the managers’ task', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    const events = run.when(fire(0, at(3 * DAY)), SYSTEM, at(3 * DAY));
    expect(shape(events)).toEqual([
      'BoundaryTriggered(review)',
      'TaskCancelled(review)',
      'ActivityEntered(escalate)',
      'TaskCreated(escalate)',
    ]);
    expect(events[0]!.data).toEqual({
      activityId: 'review',
      visit: 1,
      index: 0,
      kind: 'timer',
      interrupting: true,
      next: 'escalate',
      dueAt: at(3 * DAY),
    });
    expect(events[1]!.data).toEqual({ taskId: 'i1.review.1', activityId: 'review', reason: 'boundary timer 0' });
    expect(run.live().tasks['i1.review.1']!.status).toBe('cancelled');
    expect(run.live().outcomes.review).toEqual({ boundary: 0 });
    // Too late for the accountant: the task answers that it was cancelled.
    expect(() => run.complete('i1.review.1', accountant)).toThrow(
      expect.objectContaining({ code: 'TASK.CANCELLED' }) as Error,
    );
    run.complete('i1.escalate.1', manager);
    expect(run.live().status).toBe('completed');
  });

  it('given the task completed just before its timer, when the timer fires, then nothing happens (the completion disarmed it)', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    const done = run.complete('i1.review.1', accountant);
    expect(shape(done)).toEqual([
      'TaskClaimed',
      'TaskCompleted(review)',
      'BoundaryEventsDisarmed(review)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
    expect(run.when(fire(0, at(3 * DAY)), SYSTEM, at(3 * DAY))).toEqual([]);
  });

  it('given a timer that is not due yet, or an instance that is suspended, then it does nothing', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    expect(run.when(fire(0, at(3 * DAY)), SYSTEM, at(3 * DAY - HOUR))).toEqual([]);
    run.when({ type: 'SuspendInstance' }, admin);
    expect(run.when(fire(0, at(3 * DAY)), SYSTEM, at(3 * DAY))).toEqual([]);
  });
});

describe('a reassignment boundary', () => {
  const definition = parseDefinition(`
key: escalating
name: Escalating
relatedEntity: Invoice
triggers: [{ on: created }]
start: review
activities:
  review:
    type: human
    title: Review
    assignee: { role: accounting }
    boundary: [{ after: P2D, reassign: { role: managers } }]
    next: done
  done: { type: end }
`);

  it('given a task not done in two days, then it moves to the managers and stays open; a manager completes it', () => {
    const run = new Run(definition);
    run.start();
    const events = run.when(
      { type: 'FireBoundaryTimer', activityId: 'review', visit: 1, index: 0, dueAt: at(2 * DAY) },
      SYSTEM,
      at(2 * DAY),
    );
    expect(shape(events)).toEqual(['BoundaryTriggered(review)', 'TaskReassigned']);
    expect(events[1]!.data).toEqual({ taskId: 'i1.review.1', from: { role: 'accounting' }, to: { role: 'managers' } });
    expect(() => run.complete('i1.review.1', accountant)).toThrow('No such task');
    run.complete('i1.review.1', manager);
    expect(run.live().status).toBe('completed');
  });
});

describe('a record condition on a task', () => {
  it('given a review open, when the record is cancelled, then the review is cancelled with the entity event as cause and the line takes its path', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    run.entityData = { status: 'Cancelled' };
    const events = run.when({ type: 'CheckWait', entityEventId: 'evt-9', entitySource: { kind: 'http' } });
    expect(shape(events)).toEqual([
      'BoundaryTriggered(review)',
      'TaskCancelled(review)',
      'ActivityEntered(cancelled)',
      'InstanceCompleted',
    ]);
    expect(events[0]!.data).toEqual({
      activityId: 'review',
      visit: 1,
      index: 2,
      kind: 'condition',
      interrupting: true,
      next: 'cancelled',
      expression: 'entity.status = "Cancelled"',
      seen: { 'entity.status': 'Cancelled' },
      entityEventId: 'evt-9',
    });
  });

  it('given a record that is cancelled already, when the task is entered, then it is interrupted at once', () => {
    const run = new Run(review, { status: 'Cancelled' });
    expect(shape(run.start()).slice(2)).toEqual([
      'TaskCreated(review)',
      'BoundaryEventsArmed(review)',
      'BoundaryTriggered(review)',
      'TaskCancelled(review)',
      'ActivityEntered(cancelled)',
      'InstanceCompleted',
    ]);
  });

  it('given an update that changes something else, then the task stays open', () => {
    const run = new Run(review, { status: 'New' });
    run.start();
    run.entityData = { status: 'Checked' };
    expect(run.when({ type: 'CheckWait', entityEventId: 'evt-2' })).toEqual([]);
    expect(run.openTasks()).toEqual(['i1.review.1']);
  });
});

describe('boundary events on a wait and on a branch', () => {
  const definition = parseDefinition(`
key: delivery
name: Delivery
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [delivered, invoice] }
  delivered:
    type: wait
    until: entity.delivered = true
    boundary: [{ when: entity.status = "Cancelled", next: stop }, { after: P10D, next: chase }]
    next: both
  chase: { type: human, title: Chase the carrier, assignee: { role: logistics }, next: both }
  invoice: { type: human, title: Invoice, assignee: { role: accounting }, next: both }
  both: { type: join, next: done }
  stop: { type: end, terminate: true }
  done: { type: end }
`);

  it('given a wait on one branch, when its escalation falls due, then only that line moves and the other task stays open', () => {
    const run = new Run(definition, {});
    run.start();
    const events = run.when(
      { type: 'FireBoundaryTimer', activityId: 'delivered', visit: 1, index: 1, dueAt: at(10 * DAY) },
      SYSTEM,
      at(10 * DAY),
    );
    expect(shape(events)).toEqual([
      'BoundaryTriggered(delivered@split.1.0)',
      'ActivityEntered(chase@split.1.0)',
      'TaskCreated(chase@split.1.0)',
    ]);
    expect(run.live().tokens['split.1.0']!.wait).toBeUndefined();
    expect(run.openTasks()).toEqual(['i1.chase.1', 'i1.invoice.1']);
  });

  it('given a wait on one branch, when the record is cancelled, then the terminate end cancels the other branch’s task too', () => {
    const run = new Run(definition, {});
    run.start();
    run.entityData = { status: 'Cancelled' };
    const events = run.when({ type: 'CheckWait' });
    expect(shape(events)).toEqual([
      'BoundaryTriggered(delivered@split.1.0)',
      'ActivityEntered(stop@split.1.0)',
      'InstanceCompleted',
    ]);
    expect(run.live().tasks['i1.invoice.1']!.status).toBe('cancelled');
  });

  it('given the wait satisfied, then its boundary events are disarmed', () => {
    const run = new Run(definition, {});
    run.start();
    run.entityData = { delivered: true };
    expect(shape(run.when({ type: 'CheckWait' }))).toEqual([
      'WaitSatisfied(delivered)',
      'BoundaryEventsDisarmed(delivered@split.1.0)',
      'ActivityEntered(both@split.1.0)',
    ]);
  });
});

describe('validation of boundary events', () => {
  const issues = (boundary: unknown, type: 'human' | 'wait' = 'human'): string[] => {
    const activity =
      type === 'human'
        ? { type, title: 'T', assignee: { role: 'r' }, boundary, next: 'done' }
        : { type, until: 'true', boundary, next: 'done' };
    const result = validateDefinition({
      key: 'k',
      name: 'K',
      relatedEntity: 'Order',
      triggers: [{ on: 'created' }],
      start: 'a',
      activities: { a: activity, done: { type: 'end' } },
    });
    return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
  };

  it('refuses a boundary with both or neither of after and when, or no action, by path', () => {
    expect(issues([{ after: 'P1D', when: 'true', next: 'done' }])).toEqual([
      'activities.a.boundary[0]: needs exactly one of after (a timer) or when (a record condition)',
    ]);
    expect(issues([{ after: 'P1D' }])).toEqual([
      'activities.a.boundary[0]: needs exactly one of next, reassign or remind',
    ]);
    expect(issues([{ when: 'true', remind: true }])).toEqual([
      'activities.a.boundary[0]: a record condition interrupts: it needs next',
    ]);
  });

  it('refuses a repeat on an interrupting timer, a repeat shorter than a minute, and a reminder on a wait', () => {
    expect(issues([{ after: 'P1D', every: 'P1D', next: 'done' }])).toEqual([
      'activities.a.boundary[0].every: only a boundary that does not interrupt (reassign, remind) repeats',
    ]);
    expect(issues([{ after: 'P1D', every: 'PT1S', remind: true }])).toEqual([
      'activities.a.boundary[0].every: must be at least PT1M',
    ]);
    expect(issues([{ after: 'P1D', remind: true }], 'wait')).toEqual([
      'activities.a.boundary[0].remind: a wait has no task: only next (interrupting) is allowed',
    ]);
    expect(issues([{ after: 'P1D', next: 'nowhere' }])).toEqual([
      "activities.a.boundary[0].next: dangling next: 'nowhere' is not an activity",
    ]);
  });

  it('keeps a valid boundary list as written', () => {
    const result = validateDefinition({
      key: 'k',
      name: 'K',
      relatedEntity: 'Order',
      triggers: [{ on: 'created' }],
      start: 'a',
      activities: {
        a: {
          type: 'human',
          title: 'T',
          assignee: { role: 'r' },
          boundary: [
            { after: 'P1D', every: 'P1D', remind: true },
            { after: 'P2D', reassign: { user: 'mia' } },
          ],
          next: 'done',
        },
        done: { type: 'end' },
      },
    });
    expect(result.ok && (result.definition.activities.a as { boundary: unknown }).boundary).toEqual([
      { after: 'P1D', every: 'P1D', remind: true },
      { after: 'P2D', reassign: { user: 'mia' } },
    ]);
  });
});

describe('a task its record completes (completeWhen)', () => {
  const definition = parseDefinition(`
key: supplier-details
name: Supplier details
relatedEntity: Supplier
triggers: [{ on: created }]
start: fill
activities:
  fill:
    type: human
    title: Fill in the bank details
    assignee: { role: purchasing }
    completeWhen: entity.iban != null and entity.address != null
    next: check
  check: { type: human, title: Check the supplier, assignee: { role: purchasing }, next: done }
  done: { type: end }
`);
  const buyer: Actor = { id: 'pia', roles: ['purchasing'] };

  it('given the task open, when the application saves the record with the required fields, then the task completes with that entity event as cause', () => {
    const run = new Run(definition, { name: 'ACME' });
    expect(shape(run.start()).slice(-2)).toEqual(['TaskCreated(fill)', 'BoundaryEventsArmed(fill)']);
    run.entityData = { name: 'ACME', iban: 'NL91ABNA0417164300' };
    expect(run.when({ type: 'CheckWait', entityEventId: 'evt-2' })).toEqual([]);
    run.entityData = { name: 'ACME', iban: 'NL91ABNA0417164300', address: 'Main St 1' };
    const events = run.when({ type: 'CheckWait', entityEventId: 'evt-3' });
    expect(shape(events)).toEqual([
      'TaskCompleted(fill)',
      'BoundaryEventsDisarmed(fill)',
      'ActivityEntered(check)',
      'TaskCreated(check)',
    ]);
    expect(events[0]!.data).toEqual({
      taskId: 'i1.fill.1',
      activityId: 'fill',
      user: 'system',
      fields: {},
      byRecord: {
        expression: 'entity.iban != null and entity.address != null',
        seen: { 'entity.iban': 'NL91ABNA0417164300', 'entity.address': 'Main St 1' },
        entityEventId: 'evt-3',
      },
    });
    expect(run.live().outcomes.fill).toMatchObject({ completedBy: 'system' });
  });

  it('given a record that is complete already on entry, then the task completes at once', () => {
    const run = new Run(definition, { iban: 'X', address: 'Y' });
    expect(shape(run.start()).slice(2)).toEqual([
      'TaskCreated(fill)',
      'BoundaryEventsArmed(fill)',
      'TaskCompleted(fill)',
      'BoundaryEventsDisarmed(fill)',
      'ActivityEntered(check)',
      'TaskCreated(check)',
    ]);
  });

  it('given the task completed by a person first, then the record no longer completes anything', () => {
    const run = new Run(definition, {});
    run.start();
    expect(shape(run.complete('i1.fill.1', buyer))).toContain('BoundaryEventsDisarmed(fill)');
    run.entityData = { iban: 'X', address: 'Y' };
    expect(run.when({ type: 'CheckWait', entityEventId: 'evt-4' })).toEqual([]);
  });

  it('refuses completeWhen on a task with results', () => {
    const result = validateDefinition({
      key: 'k',
      name: 'K',
      relatedEntity: 'Order',
      triggers: [{ on: 'created' }],
      start: 'a',
      activities: {
        a: { type: 'human', title: 'T', assignee: { role: 'r' }, results: ['ok'], completeWhen: 'true', next: 'done' },
        done: { type: 'end' },
      },
    });
    expect(result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'activities.a.completeWhen: a task its record completes has no result to give: leave out results',
    ]);
  });
});
