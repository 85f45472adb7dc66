import { InstanceRun as Run, eventShape as shape } from '@lifeline/testing';
import { parseDefinition, type Actor } from '@lifeline/process-domain';

/** Conditional starts inside a running instance (OutSystems BPT's Conditional Start), given/when/then. */

const sales: Actor = { id: 'sam', roles: ['sales'] };
const manager: Actor = { id: 'mia', roles: ['managers'] };

const order = parseDefinition(`
key: order
name: Order
relatedEntity: Order
triggers: [{ on: created }]
conditionalStarts:
  - { when: entity.priority = "high", next: alert }
start: review
activities:
  review: { type: human, title: Review, assignee: { role: sales }, next: done }
  alert: { type: human, title: Urgent order, assignee: { role: managers }, next: alertDone }
  alertDone: { type: end }
  done: { type: end }
`);

describe('conditional starts', () => {
  it('given a running instance, when an entity event meets the condition, then a branch starts and the rest goes on', () => {
    const run = new Run(order, { priority: 'low' });
    expect(run.start()[0]!.data).toMatchObject({ watchesRecord: true });
    expect(run.when({ type: 'CheckWait', entityEventId: 'evt-2' })).toEqual([]);
    run.entityData = { priority: 'high' };
    const events = run.when({ type: 'CheckWait', entityEventId: 'evt-3' });
    expect(shape(events)).toEqual([
      'ConditionalBranchStarted',
      'ActivityEntered(alert@on.1)',
      'TaskCreated(alert@on.1)',
    ]);
    expect(events[0]!.data).toEqual({
      index: 0,
      token: 'on.1',
      next: 'alert',
      expression: 'entity.priority = "high"',
      seen: { 'entity.priority': 'high' },
      entityEventId: 'evt-3',
    });
    expect(run.openTasks()).toEqual(['i1.alert.1', 'i1.review.1']);
  });

  it('given each matching entity event, then each starts its own branch; the instance completes when the last line ends', () => {
    const run = new Run(order, { priority: 'high' });
    run.start();
    run.when({ type: 'CheckWait', entityEventId: 'evt-2' });
    run.when({ type: 'CheckWait', entityEventId: 'evt-3' });
    expect(run.positions()).toEqual(['alert@on.1', 'alert@on.2', 'review@main']);
    run.complete('i1.review.1', sales);
    expect(run.live().status).toBe('running');
    run.complete('i1.alert.1', manager);
    expect(run.live().status).toBe('running');
    expect(shape(run.complete('i1.alert.2', manager)).slice(-2)).toEqual([
      'ActivityEntered(alertDone@on.2)',
      'InstanceCompleted',
    ]);
  });

  it('given a check that is no entity event (a resume, a wait entered), then nothing starts', () => {
    const run = new Run(order, { priority: 'high' });
    run.start();
    expect(run.when({ type: 'CheckWait' })).toEqual([]);
  });
});

describe('lines of one instance are bounded', () => {
  it('given an application that keeps meeting a conditional start, then the lines stop at the bound with one incident, and the instance still answers', () => {
    const run = new Run(order, { priority: 'high' });
    run.start();
    for (let i = 1; i < 1000; i++) run.when({ type: 'CheckWait', entityEventId: `evt-${i}` });
    expect(Object.keys(run.live().tokens)).toHaveLength(1000);
    const refused = run.when({ type: 'CheckWait', entityEventId: 'evt-1000' });
    expect(refused).toEqual([
      {
        type: 'IncidentRaised',
        data: {
          incidentId: 'alert-1',
          activityId: 'alert',
          code: 'FLOW.TOO_MANY_LINES',
          message: '1 more line(s) would make 1001; an instance may have at most 1000 at once',
        },
      },
    ]);
    run.complete('i1.review.1', sales);
    expect(Object.keys(run.live().tokens)).toHaveLength(999);
  });
});
