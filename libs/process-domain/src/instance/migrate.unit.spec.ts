import { eventShape as shape, T0 } from '@lifeline/testing';
import {
  decideState,
  parseDefinition,
  SYSTEM,
  type Actor,
  type DecideContext,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type LiveInstance,
  type ProcessDefinition,
} from '@lifeline/process-domain';
import { DomainError } from '../errors';

/**
 * Migrating a running instance to another version, given/when/then: the instance runs v1 until the step
 * under test, is migrated to v2 (decided against both versions), then goes on under v2.
 */

const admin: Actor = { id: 'ada', roles: ['admin'] };
const clerk: Actor = { id: 'carl', roles: ['clerk'] };

const orderV1 = parseDefinition(`
key: order
name: Order
relatedEntity: Order
triggers: [{ on: created }]
start: review
activities:
  review: { type: human, title: Review, assignee: { role: clerk }, next: waitPay }
  waitPay: { type: wait, until: 'entity.paid = true', timeout: P1D, next: done }
  done: { type: end }
`);

const orderV2 = parseDefinition(`
key: order
name: Order
relatedEntity: Order
triggers: [{ on: created }]
start: check
activities:
  check: { type: human, title: Check, assignee: { role: clerk }, next: stamp }
  stamp: { type: automatic, set: { stamped: 'true' }, next: waitPayment }
  waitPayment: { type: wait, until: 'entity.paid = true', timeout: P1D, onTimeout: notify, next: done }
  notify: { type: automatic, set: { notified: 'true' }, next: done }
  done: { type: end }
`);

/** One instance, driven under whichever version it runs; `migrate` decides against both. */
class Run {
  state: InstanceState = { status: 'none' };
  constructor(readonly versions: Record<number, ProcessDefinition>) {}
  ctx(actor: Actor, version: number, now = T0): DecideContext {
    return { now, definition: this.versions[version]!, definitionVersion: version, entityData: {}, actor };
  }
  when(command: InstanceCommand, actor: Actor = SYSTEM, now = T0): InstanceEvent[] {
    const version = this.state.status === 'none' ? 1 : this.state.definitionVersion;
    const decision = decideState(this.state, command, this.ctx(actor, version, now));
    this.state = decision.state;
    return decision.events;
  }
  start(): InstanceEvent[] {
    return this.when({
      type: 'StartInstance',
      instanceId: 'i1',
      definitionKey: this.versions[1]!.key,
      definitionVersion: 1,
      entity: { type: 'Order', id: 'O-1' },
      variables: {},
      cause: { kind: 'api' },
    });
  }
  migrate(toVersion: number, mapping: Record<string, string>, actor: Actor = admin): InstanceEvent[] {
    const live = this.live();
    const ctx = { ...this.ctx(actor, toVersion), fromDefinition: this.versions[live.definitionVersion]! };
    const decision = decideState(this.state, { type: 'MigrateInstance', toVersion, mapping }, ctx);
    this.state = decision.state;
    return decision.events;
  }
  live(): LiveInstance {
    if (this.state.status === 'none') throw new Error('not started');
    return this.state;
  }
  positions(): string[] {
    return Object.values(this.live().tokens)
      .filter((t) => t.forked === undefined)
      .map((t) => `${t.activityId}@${t.token}`)
      .sort();
  }
}

/** The refusal a step throws: its code and details. */
function refusal(step: () => unknown): { code: string; details: unknown } {
  try {
    step();
  } catch (error) {
    if (error instanceof DomainError) return { code: error.code, details: error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('migrating an instance: a task', () => {
  it('given a task open at review (v1), when migrated with review → check, then one InstanceMigrated names the rename and who did it', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    const events = run.migrate(2, { review: 'check' });
    expect(events).toEqual([
      {
        type: 'InstanceMigrated',
        data: {
          fromVersion: 1,
          toVersion: 2,
          mapping: { review: 'check' },
          by: 'ada',
          entity: { type: 'Order', id: 'O-1' },
        },
      },
    ]);
    const live = run.live();
    expect(live.definitionVersion).toBe(2);
    expect(live.current?.activityId).toBe('check');
    expect(run.positions()).toEqual(['check@main']);
    expect(live.tasks['i1.review.1']).toMatchObject({ taskId: 'i1.review.1', activityId: 'check', status: 'open' });
  });

  it('given the task moved to check, when it is completed, then the flow follows v2 (stamp, then waitPayment)', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    run.migrate(2, { review: 'check' });
    const events = run.when({ type: 'CompleteTask', taskId: 'i1.review.1' }, clerk);
    expect(shape(events)).toEqual([
      'TaskClaimed',
      'TaskCompleted(check)',
      'ActivityEntered(stamp)',
      'VariablesSet(stamp)',
      'ActivityEntered(waitPayment)',
      'WaitStarted(waitPayment)',
    ]);
    expect(run.live().variables).toEqual({ stamped: true });
  });

  it('given a migrated instance, when a command is decided against v1 again, then the version mismatch refuses it', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    run.migrate(2, { review: 'check' });
    const stale = run.ctx(clerk, 1);
    expect(refusal(() => decideState(run.state, { type: 'CompleteTask', taskId: 'i1.review.1' }, stale)).code).toBe(
      'INSTANCE.DEFINITION_MISMATCH',
    );
  });
});

describe('migrating an instance: a wait', () => {
  it('given a wait with a timeout (v1), when migrated to waitPayment, then its timeout stays and fires on the v2 activity', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    run.when({ type: 'CompleteTask', taskId: 'i1.review.1' }, clerk);
    const timeoutAt = run.live().tokens.main!.wait!.timeoutAt;
    expect(timeoutAt).toBe('2026-11-22T10:00:00.000Z');

    run.migrate(2, { waitPay: 'waitPayment' });
    expect(run.live().tokens.main!.wait).toEqual({
      activityId: 'waitPayment',
      visit: 1,
      until: 'entity.paid = true',
      timeoutAt,
      token: 'main',
    });
    const events = run.when({ type: 'FireWaitTimeout', activityId: 'waitPayment', visit: 1 }, SYSTEM, timeoutAt);
    expect(shape(events)).toEqual([
      'WaitTimedOut(waitPayment)',
      'ActivityEntered(notify)',
      'VariablesSet(notify)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });
});

describe('migrating an instance: refused', () => {
  it('given a task at review, when migrated without a mapping, then it is refused: review has no target in v2', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    expect(refusal(() => run.migrate(2, {}))).toEqual({
      code: 'MIGRATION.NOT_POSSIBLE',
      details: [
        { activityId: 'review', problem: 'NO_TARGET', message: 'no mapping and no activity of that id and type' },
      ],
    });
    expect(run.live().definitionVersion).toBe(1);
  });

  it('given a task at review, when mapped to an automatic activity, then it is refused with a type mismatch', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    expect(refusal(() => run.migrate(2, { review: 'notify' }))).toEqual({
      code: 'MIGRATION.NOT_POSSIBLE',
      details: [
        {
          activityId: 'review',
          to: 'notify',
          problem: 'TYPE_MISMATCH',
          message: 'a human activity cannot land on notify (automatic)',
        },
      ],
    });
  });

  it('given a task at review, when mapped to a human activity with other results, then it is refused: the open task could not be completed', () => {
    const withResults = parseDefinition(`
key: order
name: Order
relatedEntity: Order
triggers: [{ on: created }]
start: check
activities:
  check: { type: human, title: Check, assignee: { role: clerk }, results: [ok, ko], next: { ok: done, ko: done } }
  done: { type: end }
`);
    const run = new Run({ 1: orderV1, 2: withResults });
    run.start();
    expect(refusal(() => run.migrate(2, { review: 'check' })).details).toEqual([
      {
        activityId: 'review',
        to: 'check',
        problem: 'RESULTS_MISMATCH',
        message: 'check takes other results than review (its open task keeps its own)',
      },
    ]);
  });

  it('given a task at review, when mapped to an activity v2 lacks, then it is refused: unknown activity', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    const { code, details } = refusal(() => run.migrate(2, { review: 'nope' }));
    expect(code).toBe('MIGRATION.NOT_POSSIBLE');
    expect(details).toEqual([
      {
        activityId: 'review',
        to: 'nope',
        problem: 'UNKNOWN_ACTIVITY',
        message: 'nope is not an activity of the target version',
      },
    ]);
  });

  it('given an instance migrated to v2, when migrated to v2 again, then it is refused as already on that version', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    run.migrate(2, { review: 'check' });
    expect(refusal(() => run.migrate(2, { review: 'check' })).code).toBe('MIGRATION.ALREADY_ON_VERSION');
  });

  it('given a completed instance, when migrated, then it is refused: not running', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    run.when({ type: 'TerminateInstance' }, admin);
    expect(refusal(() => run.migrate(2, { review: 'check' })).code).toBe('INSTANCE.NOT_RUNNING');
  });

  it('given a suspended instance, when migrated, then it moves and stays suspended', () => {
    const run = new Run({ 1: orderV1, 2: orderV2 });
    run.start();
    run.when({ type: 'SuspendInstance' }, admin);
    expect(shape(run.migrate(2, { review: 'check' }))).toEqual(['InstanceMigrated']);
    expect(run.live().status).toBe('suspended');
    expect(run.live().definitionVersion).toBe(2);
  });
});

const poV1 = parseDefinition(`
key: purchase-order
name: Purchase order
relatedEntity: PurchaseOrder
triggers: [{ on: created }]
start: approvals
activities:
  approvals: { type: parallel, branches: [financeReview, legalReview] }
  financeReview: { type: human, title: Finance review, assignee: { role: finance }, next: approved }
  legalReview: { type: human, title: Legal review, assignee: { role: legal }, next: approved }
  approved: { type: join, next: mark }
  mark: { type: automatic, set: { approvedBy: '"v1"' }, next: done }
  done: { type: end }
`);

const poV2 = parseDefinition(`
key: purchase-order
name: Purchase order
relatedEntity: PurchaseOrder
triggers: [{ on: created }]
start: approvals
activities:
  approvals: { type: parallel, branches: [financeCheck, legalCheck] }
  financeCheck: { type: human, title: Finance check, assignee: { role: finance }, next: allApproved }
  legalCheck: { type: human, title: Legal check, assignee: { role: legal }, next: allApproved }
  allApproved: { type: join, next: mark }
  mark: { type: automatic, set: { approvedBy: '"v2"' }, next: done }
  done: { type: end }
`);

/** v3: the legal branch goes to an end of its own, so it no longer reaches the join that waits for it. */
const poV3 = parseDefinition(`
key: purchase-order
name: Purchase order
relatedEntity: PurchaseOrder
triggers: [{ on: created }]
start: approvals
activities:
  approvals: { type: parallel, branches: [financeCheck, legalCheck] }
  financeCheck: { type: human, title: Finance check, assignee: { role: finance }, next: allApproved }
  legalCheck: { type: human, title: Legal check, assignee: { role: legal }, next: legalDone }
  legalDone: { type: end }
  allApproved: { type: join, next: mark }
  mark: { type: automatic, set: { approvedBy: '"v3"' }, next: done }
  done: { type: end }
`);

const finance: Actor = { id: 'fiona', roles: ['finance'] };
const legal: Actor = { id: 'leo', roles: ['legal'] };
const poMapping = { financeReview: 'financeCheck', legalReview: 'legalCheck', approved: 'allApproved' };

describe('migrating an instance inside parallel branches', () => {
  it('given finance at the join and legal open, when migrated, then both branches rest at renamed activities and the join fires under v2', () => {
    const run = new Run({ 1: poV1, 2: poV2 });
    run.start();
    run.when({ type: 'CompleteTask', taskId: 'i1.financeReview.1' }, finance);
    expect(run.positions()).toEqual(['approved@approvals.1.0', 'legalReview@approvals.1.1']);

    const [migrated] = run.migrate(2, poMapping);
    // Only the entries used: financeReview no longer holds a line.
    expect(migrated!.data).toMatchObject({ mapping: { approved: 'allApproved', legalReview: 'legalCheck' } });
    expect(run.positions()).toEqual(['allApproved@approvals.1.0', 'legalCheck@approvals.1.1']);
    expect(run.live().forks['approvals.1']).toMatchObject({
      activityId: 'approvals',
      tokens: ['approvals.1.0', 'approvals.1.1'],
    });

    const events = run.when({ type: 'CompleteTask', taskId: 'i1.legalReview.1' }, legal);
    expect(shape(events)).toEqual([
      'TaskClaimed',
      'TaskCompleted(legalCheck)',
      'ActivityEntered(allApproved@approvals.1.1)',
      'BranchesJoined(allApproved)',
      'ActivityEntered(mark)',
      'VariablesSet(mark)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
    expect(run.live().variables).toEqual({ approvedBy: 'v2' });
  });

  it('given both branches open, when migrated to a version where legal no longer reaches the join, then it is refused: the join would change meaning', () => {
    const run = new Run({ 1: poV1, 3: poV3 });
    run.start();
    const { code, details } = refusal(() => run.migrate(3, poMapping));
    expect(code).toBe('MIGRATION.NOT_POSSIBLE');
    expect(details).toEqual([
      {
        activityId: 'legalReview',
        to: 'legalCheck',
        problem: 'JOIN_CHANGED',
        message: 'its branch reaches join(s) [] from legalCheck, not [allApproved]',
      },
    ]);
    expect(run.live().definitionVersion).toBe(1);
  });
});
