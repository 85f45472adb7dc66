import { InstanceRun as Run, eventShape as shape, at, DAY } from '@lifeline/testing';
import { parseDefinition, SYSTEM, type Actor } from '@lifeline/process-domain';
import { validateDefinition } from '../definition/validate-definition';

/**
 * Parallel branches, given/when/then: each step decides on the state the previous steps led to and
 * the spec checks the events it appended and where the instance's lines rest.
 */

const finance: Actor = { id: 'fiona', roles: ['finance'] };
const legal: Actor = { id: 'leo', roles: ['legal'] };

const purchaseOrder = parseDefinition(`
key: purchase-order
name: Purchase order
relatedEntity: PurchaseOrder
triggers: [{ on: created }]
start: approvals
activities:
  approvals: { type: parallel, branches: [financeReview, legalReview] }
  financeReview: { type: human, title: Finance review, assignee: { role: finance }, results: [ok, no], next: { ok: approved, no: approved } }
  legalReview: { type: human, title: Legal review, assignee: { role: legal }, next: approved }
  approved: { type: join, next: mark }
  mark: { type: automatic, set: { approvedBy: '"both"' }, next: done }
  done: { type: end }
`);

describe('parallel: all branches', () => {
  it('given a parallel fork, when started, then both reviews are open on their own lines and the main line rests at the fork', () => {
    const run = new Run(purchaseOrder);
    const events = run.start();
    expect(shape(events)).toEqual([
      'InstanceStarted',
      'ActivityEntered(approvals)',
      'BranchesForked(approvals)',
      'ActivityEntered(financeReview@approvals.1.0)',
      'TaskCreated(financeReview@approvals.1.0)',
      'ActivityEntered(legalReview@approvals.1.1)',
      'TaskCreated(legalReview@approvals.1.1)',
    ]);
    expect(events[2]!.data).toEqual({
      activityId: 'approvals',
      visit: 1,
      forkId: 'approvals.1',
      branches: [
        { token: 'approvals.1.0', next: 'financeReview' },
        { token: 'approvals.1.1', next: 'legalReview' },
      ],
    });
    expect(run.positions()).toEqual(['financeReview@approvals.1.0', 'legalReview@approvals.1.1']);
    expect(run.openTasks()).toEqual(['i1.financeReview.1', 'i1.legalReview.1']);
  });

  it('given both reviews open, when finance completes, then its line waits at the join and nothing goes on', () => {
    const run = new Run(purchaseOrder);
    run.start();
    const events = run.complete('i1.financeReview.1', finance, 'ok');
    expect(shape(events)).toEqual([
      'TaskClaimed',
      'TaskCompleted(financeReview)',
      'ActivityEntered(approved@approvals.1.0)',
    ]);
    expect(run.positions()).toEqual(['approved@approvals.1.0', 'legalReview@approvals.1.1']);
    expect(run.live().status).toBe('running');
  });

  it('given finance done, when legal completes, then the branches join and the main line runs to the end', () => {
    const run = new Run(purchaseOrder);
    run.start();
    run.complete('i1.financeReview.1', finance, 'no');
    const events = run.complete('i1.legalReview.1', legal);
    expect(shape(events)).toEqual([
      'TaskClaimed',
      'TaskCompleted(legalReview)',
      'ActivityEntered(approved@approvals.1.1)',
      'BranchesJoined(approved)',
      'ActivityEntered(mark)',
      'VariablesSet(mark)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
    expect(events[3]!.data).toEqual({
      activityId: 'approved',
      visit: 2,
      forkId: 'approvals.1',
      tokens: ['approvals.1.0', 'approvals.1.1'],
      next: 'mark',
    });
    expect(run.live().status).toBe('completed');
    expect(run.live().variables).toEqual({ approvedBy: 'both' });
    expect(run.live().tokens).toEqual({});
  });

  it('given the reviews completed in the other order, then the join waits the same way', () => {
    const run = new Run(purchaseOrder);
    run.start();
    expect(shape(run.complete('i1.legalReview.1', legal)).slice(-1)).toEqual([
      'ActivityEntered(approved@approvals.1.1)',
    ]);
    expect(run.live().status).toBe('running');
    run.complete('i1.financeReview.1', finance, 'ok');
    expect(run.live().status).toBe('completed');
  });

  it('given both reviews open, when the instance is terminated, then both tasks are cancelled and no line is left', () => {
    const run = new Run(purchaseOrder);
    run.start();
    run.when({ type: 'TerminateInstance', reason: 'order withdrawn' }, { id: 'root', roles: ['admin'] });
    expect(Object.values(run.live().tasks).map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
    expect(run.live().tokens).toEqual({});
    expect(run.live().forks).toEqual({});
  });

  it('given a member of one role, when they try the other branch’s task, then it is refused as no such task', () => {
    const run = new Run(purchaseOrder);
    run.start();
    expect(() => run.complete('i1.legalReview.1', finance)).toThrow('No such task');
  });
});

describe('next listing several activities', () => {
  const definition = parseDefinition(`
key: onboarding
name: Onboarding
relatedEntity: Employee
triggers: [{ on: created }]
start: hr
activities:
  hr: { type: human, title: HR intake, assignee: { role: hr }, next: [laptop, badge] }
  laptop: { type: human, title: Laptop, assignee: { role: it }, next: ready }
  badge: { type: automatic, set: { badge: '"issued"' }, next: ready }
  ready: { type: join, next: done }
  done: { type: end }
`);

  it('given a human task whose next lists two activities, when completed, then it forks there and the automatic branch waits at the join', () => {
    const run = new Run(definition);
    run.start();
    const events = run.complete('i1.hr.1', { id: 'hana', roles: ['hr'] });
    expect(shape(events)).toEqual([
      'TaskClaimed',
      'TaskCompleted(hr)',
      'BranchesForked(hr)',
      'ActivityEntered(laptop@hr.1.0)',
      'TaskCreated(laptop@hr.1.0)',
      'ActivityEntered(badge@hr.1.1)',
      'VariablesSet(badge)',
      'ActivityEntered(ready@hr.1.1)',
    ]);
    run.complete('i1.laptop.1', { id: 'ivan', roles: ['it'] });
    expect(run.live().status).toBe('completed');
  });
});

describe('inclusive: the branches whose condition holds', () => {
  const definition = parseDefinition(`
key: contract
name: Contract checks
relatedEntity: Contract
triggers: [{ on: created }]
start: checks
activities:
  checks:
    type: inclusive
    branches:
      - { when: entity.amount > 10000, next: finance }
      - { when: entity.foreign = true, next: legal }
      - { when: count(for i in 1..entity.parties return i) > 5, next: legal2 }
    otherwise: clerk
  legal2: { type: human, title: Legal (many parties), assignee: { role: legal }, next: checked }
  finance: { type: human, title: Finance, assignee: { role: finance }, next: checked }
  legal: { type: human, title: Legal, assignee: { role: legal }, next: checked }
  clerk: { type: human, title: Clerk, assignee: { role: clerk }, next: checked }
  checked: { type: join, next: done }
  done: { type: end }
`);

  it('given both conditions hold, then both branches start and the fork records what it saw', () => {
    const run = new Run(definition, { amount: 20000, foreign: true });
    const events = run.start();
    const forked = events.find((e) => e.type === 'BranchesForked')!;
    expect(forked.data).toEqual({
      activityId: 'checks',
      visit: 1,
      forkId: 'checks.1',
      branches: [
        { token: 'checks.1.0', next: 'finance' },
        { token: 'checks.1.1', next: 'legal' },
      ],
      expressions: ['entity.amount > 10000', 'entity.foreign = true'],
      seen: { 'entity.amount': 20000, 'entity.foreign': true, 'entity.parties': null },
    });
    expect(run.openTasks()).toEqual(['i1.finance.1', 'i1.legal.1']);
  });

  it('given one condition holds, when its task completes, then the join goes on at once: it waits for exactly the branches taken', () => {
    const run = new Run(definition, { amount: 20000, foreign: false });
    run.start();
    expect(run.openTasks()).toEqual(['i1.finance.1']);
    const events = run.complete('i1.finance.1', finance);
    expect(shape(events).slice(2)).toEqual([
      'ActivityEntered(checked@checks.1.0)',
      'BranchesJoined(checked)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });

  it('given no condition holds, then the otherwise branch runs alone and joins', () => {
    const run = new Run(definition, { amount: 5, foreign: false });
    const events = run.start();
    expect(events.find((e) => e.type === 'BranchesForked')!.data).toMatchObject({
      branches: [{ token: 'checks.1.0', next: 'clerk' }],
      expressions: [],
    });
    run.complete('i1.clerk.1', { id: 'cleo', roles: ['clerk'] });
    expect(run.live().status).toBe('completed');
  });

  it('given a condition that cannot be evaluated, then an incident stops the fork and no branch starts', () => {
    const run = new Run(definition, { amount: 5, foreign: false, parties: 1e9 });
    const events = run.start();
    expect(shape(events).slice(-1)).toEqual(['IncidentRaised(checks)']);
    expect(events.at(-1)!.data).toMatchObject({ code: 'FEEL.BUDGET_EXCEEDED', activityId: 'checks' });
    expect(run.openTasks()).toEqual([]);
  });
});

describe('a join after a loop', () => {
  const definition = parseDefinition(`
key: tender
name: Tender
relatedEntity: Tender
triggers: [{ on: created }]
start: round
activities:
  round: { type: parallel, branches: [quoteA, quoteB] }
  quoteA: { type: human, title: Quote A, assignee: { role: buyer }, results: [ok, redo], next: { ok: quotes, redo: quoteA } }
  quoteB: { type: human, title: Quote B, assignee: { role: buyer }, next: quotes }
  quotes: { type: join, next: count }
  count: { type: automatic, set: { rounds: 'if vars.rounds = null then 1 else vars.rounds + 1' }, next: again }
  again:
    type: decision
    branches: [{ when: vars.rounds < 2, next: round }]
    otherwise: done
  done: { type: end }
`);
  const buyer: Actor = { id: 'bea', roles: ['buyer'] };

  it('given a branch that loops on itself, then the join still waits for exactly its two branches', () => {
    const run = new Run(definition);
    run.start();
    run.complete('i1.quoteA.1', buyer, 'redo');
    expect(run.positions()).toEqual(['quoteA@round.1.0', 'quoteB@round.1.1']);
    run.complete('i1.quoteB.1', buyer);
    expect(run.positions()).toEqual(['quoteA@round.1.0', 'quotes@round.1.1']);
    const events = run.complete('i1.quoteA.2', buyer, 'ok');
    expect(shape(events)).toContain('BranchesJoined(quotes)');
  });

  it('given the fork entered a second time by the loop around it, then the second join counts only the second round’s branches', () => {
    const run = new Run(definition);
    run.start();
    run.complete('i1.quoteA.1', buyer, 'ok');
    const first = run.complete('i1.quoteB.1', buyer);
    // The first round joined, counted, and looped back into the fork: a new entry with new lines.
    expect(shape(first)).toEqual([
      'TaskClaimed',
      'TaskCompleted(quoteB)',
      'ActivityEntered(quotes@round.1.1)',
      'BranchesJoined(quotes)',
      'ActivityEntered(count)',
      'VariablesSet(count)',
      'ActivityEntered(again)',
      'DecisionTaken(again)',
      'ActivityEntered(round)',
      'BranchesForked(round)',
      'ActivityEntered(quoteA@round.2.0)',
      'TaskCreated(quoteA@round.2.0)',
      'ActivityEntered(quoteB@round.2.1)',
      'TaskCreated(quoteB@round.2.1)',
    ]);
    run.complete('i1.quoteA.2', buyer, 'ok');
    expect(run.live().status).toBe('running');
    expect(Object.keys(run.live().forks)).toEqual(['round.2']);
    run.complete('i1.quoteB.2', buyer);
    expect(run.live().status).toBe('completed');
    expect(run.live().variables).toEqual({ rounds: 2 });
  });
});

describe('ends inside branches', () => {
  const definition = parseDefinition(`
key: claim
name: Claim
relatedEntity: Claim
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [assess, notify] }
  assess: { type: human, title: Assess, assignee: { role: adjuster }, results: [pay, stop], next: { pay: merged, stop: halt } }
  notify: { type: human, title: Notify, assignee: { role: clerk }, results: [sent, skip], next: { sent: merged, skip: quiet } }
  merged: { type: join, next: pay }
  pay: { type: human, title: Pay, assignee: { role: cashier }, next: done }
  quiet: { type: end }
  halt: { type: end, terminate: true }
  done: { type: end }
`);
  const adjuster: Actor = { id: 'ada', roles: ['adjuster'] };
  const clerk: Actor = { id: 'cleo', roles: ['clerk'] };

  it('given one branch ends at an end, then the other goes on and the join goes on with it alone', () => {
    const run = new Run(definition);
    run.start();
    const ended = run.complete('i1.notify.1', clerk, 'skip');
    expect(shape(ended).slice(2)).toEqual(['ActivityEntered(quiet@split.1.1)']);
    expect(run.live().status).toBe('running');
    expect(run.positions()).toEqual(['assess@split.1.0']);
    const joined = run.complete('i1.assess.1', adjuster, 'pay');
    expect(shape(joined).slice(2)).toEqual([
      'ActivityEntered(merged@split.1.0)',
      'BranchesJoined(merged)',
      'ActivityEntered(pay)',
      'TaskCreated(pay)',
    ]);
    expect((joined[3]!.data as { tokens: string[] }).tokens).toEqual(['split.1.0']);
  });

  it('given the other branch waits at the join, when the last one ends, then the join goes on', () => {
    const run = new Run(definition);
    run.start();
    run.complete('i1.assess.1', adjuster, 'pay');
    const events = run.complete('i1.notify.1', clerk, 'skip');
    expect(shape(events).slice(2)).toEqual([
      'ActivityEntered(quiet@split.1.1)',
      'BranchesJoined(merged)',
      'ActivityEntered(pay)',
      'TaskCreated(pay)',
    ]);
  });

  it('given a terminate end in one branch, then the instance completes at once and the other branch’s task is cancelled', () => {
    const run = new Run(definition);
    run.start();
    const events = run.complete('i1.assess.1', adjuster, 'stop');
    expect(shape(events).slice(2)).toEqual(['ActivityEntered(halt@split.1.0)', 'InstanceCompleted']);
    expect(run.live().status).toBe('completed');
    expect(run.live().tasks['i1.notify.1']!.status).toBe('cancelled');
  });

  it('given every branch ends at an end, then the forking line ends with them and the instance completes', () => {
    const allEnd = parseDefinition(`
key: fanout
name: Fan out
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [a, b] }
  a: { type: human, title: A, assignee: { role: r }, next: endA }
  b: { type: human, title: B, assignee: { role: r }, next: endB }
  endA: { type: end }
  endB: { type: end }
`);
    const run = new Run(allEnd);
    run.start();
    run.complete('i1.a.1', { id: 'u', roles: ['r'] });
    expect(run.live().status).toBe('running');
    const events = run.complete('i1.b.1', { id: 'u', roles: ['r'] });
    expect(shape(events).slice(2)).toEqual([
      'ActivityEntered(endB@split.1.1)',
      'BranchesEnded(split)',
      'InstanceCompleted',
    ]);
    expect(events[3]!.data).toEqual({ activityId: 'split', forkId: 'split.1', endActivityId: 'endB' });
  });
});

describe('forks inside branches', () => {
  const definition = parseDefinition(`
key: nested
name: Nested
relatedEntity: Order
triggers: [{ on: created }]
start: outer
activities:
  outer: { type: parallel, branches: [inner, c] }
  inner: { type: parallel, branches: [a, b] }
  a: { type: human, title: A, assignee: { role: r }, next: innerJoin }
  b: { type: human, title: B, assignee: { role: r }, next: innerJoin }
  innerJoin: { type: join, next: outerJoin }
  c: { type: human, title: C, assignee: { role: r }, next: outerJoin }
  outerJoin: { type: join, next: done }
  done: { type: end }
`);
  const user: Actor = { id: 'u', roles: ['r'] };

  it('given a fork inside a branch, then the outer join waits for the inner join, not for the inner branches', () => {
    const run = new Run(definition);
    run.start();
    expect(run.positions()).toEqual(['a@inner.1.0', 'b@inner.1.1', 'c@outer.1.1']);
    run.complete('i1.c.1', user);
    run.complete('i1.a.1', user);
    // The outer join must not take the inner fork's resting line for an arrival.
    expect(run.live().status).toBe('running');
    expect(run.positions()).toEqual(['b@inner.1.1', 'innerJoin@inner.1.0', 'outerJoin@outer.1.1']);
    const events = run.complete('i1.b.1', user);
    expect(shape(events).slice(2)).toEqual([
      'ActivityEntered(innerJoin@inner.1.1)',
      'BranchesJoined(innerJoin@outer.1.0)',
      'ActivityEntered(outerJoin@outer.1.0)',
      'BranchesJoined(outerJoin)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
    expect(events[3]!.data).toMatchObject({ forkId: 'inner.1', token: 'outer.1.0' });
  });
});

describe('waits, timers and incidents on branches', () => {
  const definition = parseDefinition(`
key: shipment
name: Shipment
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [paid, packed] }
  paid: { type: wait, until: entity.paid = true, timeout: P2D, onTimeout: remind, next: both }
  remind: { type: automatic, set: { reminded: 'true' }, next: both }
  packed: { type: wait, until: entity.packed = true, next: price }
  price: { type: automatic, set: { total: entity.amount * 2 }, next: both }
  both: { type: join, next: done }
  done: { type: end }
`);

  it('given two waits on two lines, when the record satisfies both, then one check moves both lines and joins them', () => {
    const run = new Run(definition, {});
    run.start();
    expect(run.positions()).toEqual(['packed@split.1.1', 'paid@split.1.0']);
    run.entityData = { paid: true, packed: true, amount: 4 };
    const events = run.when({ type: 'CheckWait', entityEventId: 'e2' });
    expect(shape(events)).toEqual([
      'WaitSatisfied(paid)',
      'ActivityEntered(both@split.1.0)',
      'WaitSatisfied(packed)',
      'ActivityEntered(price@split.1.1)',
      'VariablesSet(price)',
      'ActivityEntered(both@split.1.1)',
      'BranchesJoined(both)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });

  it('given one wait times out, then only its line takes the timeout path', () => {
    const run = new Run(definition, {});
    run.start();
    const events = run.when({ type: 'FireWaitTimeout', activityId: 'paid', visit: 1 }, SYSTEM, at(2 * DAY));
    expect(shape(events)).toEqual([
      'WaitTimedOut(paid)',
      'ActivityEntered(remind@split.1.0)',
      'VariablesSet(remind)',
      'ActivityEntered(both@split.1.0)',
    ]);
    expect(run.positions()).toEqual(['both@split.1.0', 'packed@split.1.1']);
    // The other wait still answers its record.
    run.entityData = { packed: true, amount: 1 };
    run.when({ type: 'CheckWait' });
    expect(run.live().status).toBe('completed');
  });

  it('given an incident on one line, then the other line still moves, and a retry goes on from where the first stopped', () => {
    const withPacker = parseDefinition(`
key: shipment
name: Shipment
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [paid, packed] }
  paid: { type: wait, until: entity.paid = true, next: both }
  packed: { type: wait, until: entity.packed = true, next: check }
  check: { type: human, title: Check, assignee: { userFrom: entity.packer }, next: both }
  both: { type: join, next: done }
  done: { type: end }
`);
    const run = new Run(withPacker, {});
    run.start();
    run.entityData = { packed: true, packer: 42 };
    const failed = run.when({ type: 'CheckWait' });
    expect(shape(failed)).toEqual([
      'WaitSatisfied(packed)',
      'ActivityEntered(check@split.1.1)',
      'IncidentRaised(check@split.1.1)',
    ]);
    // The paid line is not stopped by the other's incident.
    run.entityData = { packed: true, packer: 42, paid: true };
    expect(shape(run.when({ type: 'CheckWait' }))).toEqual(['WaitSatisfied(paid)', 'ActivityEntered(both@split.1.0)']);
    run.entityData = { packed: true, packer: 'pat', paid: true };
    const retried = run.when({ type: 'RetryIncident', incidentId: 'check-1' }, { id: 'root', roles: ['admin'] });
    expect(shape(retried)).toEqual(['IncidentResolved(check)', 'TaskCreated(check@split.1.1)']);
    const done = run.complete('i1.check.1', { id: 'pat', roles: [] });
    expect(shape(done).slice(1)).toEqual([
      'ActivityEntered(both@split.1.1)',
      'BranchesJoined(both)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });

  it('given a suspended instance whose two waits fell due, when resumed, then both take effect', () => {
    const run = new Run(definition, {});
    run.start();
    run.when({ type: 'SuspendInstance' }, { id: 'root', roles: ['admin'] });
    run.entityData = { packed: true, amount: 1 };
    const events = run.when({ type: 'ResumeInstance' }, { id: 'root', roles: ['admin'] }, at(3 * DAY));
    expect(shape(events)).toEqual([
      'InstanceResumed',
      'WaitTimedOut(paid)',
      'ActivityEntered(remind@split.1.0)',
      'VariablesSet(remind)',
      'ActivityEntered(both@split.1.0)',
      'WaitSatisfied(packed)',
      'ActivityEntered(price@split.1.1)',
      'VariablesSet(price)',
      'ActivityEntered(both@split.1.1)',
      'BranchesJoined(both)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });
});

describe('a join reached from two forks', () => {
  it('given branches of one fork at two different joins, then an incident names both joins', () => {
    const definition = parseDefinition(`
key: tangled
name: Tangled
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [a, b] }
  a: { type: automatic, set: { a: '1' }, next: j1 }
  b: { type: automatic, set: { b: '1' }, next: j2 }
  j1: { type: join, next: done }
  j2: { type: join, next: done }
  done: { type: end }
`);
    const run = new Run(definition);
    const events = run.start();
    expect(shape(events).slice(-1)).toEqual(['IncidentRaised(j2@split.1.1)']);
    expect(events.at(-1)!.data).toMatchObject({
      code: 'FLOW.JOIN_MISMATCH',
      message: 'Branches of split reached two joins: j1 and j2',
    });
  });
});

describe('validation of forks and joins', () => {
  const issues = (activities: Record<string, unknown>): string[] => {
    const result = validateDefinition({
      key: 'k',
      name: 'K',
      relatedEntity: 'Order',
      triggers: [{ on: 'created' }],
      start: Object.keys(activities)[0],
      activities,
    });
    return result.ok ? [] : result.issues.map((i) => `${i.path}: ${i.message}`);
  };

  it('refuses a parallel fork with fewer than two branches, a repeated branch and a dangling one, by path', () => {
    expect(issues({ p: { type: 'parallel', branches: ['e'] }, e: { type: 'end' } })).toEqual([
      'activities.p.branches: must list from 2 to 50 activities',
    ]);
    expect(issues({ p: { type: 'parallel', branches: ['e', 'e'] }, e: { type: 'end' } })).toEqual([
      "activities.p.branches[1]: 'e' is listed twice",
    ]);
    expect(issues({ p: { type: 'parallel', branches: ['e', 'x'] }, e: { type: 'end' } })).toEqual([
      "activities.p.branches[1]: dangling next: 'x' is not an activity",
    ]);
  });

  it('refuses a join without any fork, an inclusive without otherwise and a terminate that is no boolean', () => {
    expect(issues({ j: { type: 'join', next: 'e' }, e: { type: 'end', terminate: 'yes' } })).toEqual([
      'activities.e.terminate: must be true or false',
      'activities.j: a join needs a fork: a parallel or inclusive activity, or a next that lists several',
    ]);
    expect(issues({ j: { type: 'join', next: 'e' }, e: { type: 'end' } })).toEqual([
      'activities.j: a join needs a fork: a parallel or inclusive activity, or a next that lists several',
    ]);
    expect(issues({ i: { type: 'inclusive', branches: [{ when: 'true', next: 'e' }] }, e: { type: 'end' } })).toEqual([
      'activities.i.otherwise: is required',
    ]);
  });

  it('accepts next as a list on an automatic activity and keeps it', () => {
    const result = validateDefinition({
      key: 'k',
      name: 'K',
      relatedEntity: 'Order',
      triggers: [{ on: 'created' }],
      start: 'a',
      activities: {
        a: { type: 'automatic', set: { x: '1' }, next: ['b', 'c'] },
        b: { type: 'end' },
        c: { type: 'end' },
      },
    });
    expect(result.ok && result.definition.activities.a).toEqual({
      type: 'automatic',
      set: { x: '1' },
      next: ['b', 'c'],
    });
  });
});
