import type { InstanceEvent } from '../events';
import { evolve, initialState, type InstanceState } from './state';

/** Frozen all the way down: a fold that changed its input would throw (modules run in strict mode). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

const entity = { type: 'Invoice', id: 'INV-7' };
const history: InstanceEvent[] = [
  {
    type: 'InstanceStarted',
    data: {
      instanceId: 'i-1',
      definitionKey: 'invoice-approval',
      definitionVersion: 1,
      definitionName: 'Invoice approval',
      entity,
      variables: { a: 1 },
      cause: { kind: 'api' },
    },
  },
  { type: 'ActivityEntered', data: { activityId: 'review', activityType: 'human', visit: 1 } },
  {
    type: 'TaskCreated',
    data: {
      taskId: 'i-1.review.1',
      activityId: 'review',
      title: 'Review',
      assignee: { role: 'approver' },
      startAt: '2026-11-21T10:00:00.000Z',
      rule: { role: 'approver' },
    },
  },
  { type: 'TaskClaimed', data: { taskId: 'i-1.review.1', user: 'alice' } },
  {
    type: 'TaskCompleted',
    data: { taskId: 'i-1.review.1', activityId: 'review', user: 'alice', result: 'Approve', fields: {} },
  },
  { type: 'ActivityEntered', data: { activityId: 'await', activityType: 'wait', visit: 1 } },
  { type: 'WaitStarted', data: { activityId: 'await', visit: 1, until: 'entity.paid', entity } },
  { type: 'InstanceSuspended', data: { by: 'admin' } },
  { type: 'InstanceResumed', data: { by: 'admin' } },
  { type: 'WaitSatisfied', data: { activityId: 'await', visit: 1, expression: 'entity.paid', seen: {} } },
  { type: 'VariablesSet', data: { activityId: 'set', variables: { b: 2 } } },
  { type: 'IncidentRaised', data: { incidentId: 'pay-1', activityId: 'pay', code: 'X', message: 'failed' } },
  { type: 'IncidentResolved', data: { incidentId: 'pay-1', activityId: 'pay', by: 'admin' } },
  { type: 'DecisionTaken', data: { activityId: 'route', branch: 0, next: 'end', seen: {} } },
  { type: 'InstanceCompleted', data: { endActivityId: 'end' } },
];

describe('evolve', () => {
  it('given a frozen state before each event, when folded, then no state is changed and the last one is the whole story', () => {
    let state: InstanceState = deepFreeze(initialState());
    for (const event of history) state = deepFreeze(evolve(state, deepFreeze(event)));
    expect(state).toEqual({
      status: 'completed',
      instanceId: 'i-1',
      definitionKey: 'invoice-approval',
      definitionVersion: 1,
      entity,
      cause: { kind: 'api' },
      variables: { a: 1, b: 2 },
      current: { activityId: 'await', activityType: 'wait', visit: 1 },
      visits: { review: 1, await: 1 },
      tasks: {
        'i-1.review.1': {
          taskId: 'i-1.review.1',
          activityId: 'review',
          token: 'main',
          visit: 1,
          status: 'completed',
          user: 'alice',
          role: 'approver',
          claimed: true,
          startAt: '2026-11-21T10:00:00.000Z',
        },
      },
      outcomes: {
        review: { result: 'Approve', fields: {}, completedBy: 'alice' },
        await: { satisfied: true, timedOut: false },
        route: { branch: 0 },
      },
      tokens: {},
      forks: {},
      incidents: {},
      incidentsRaised: 1,
      jobs: {},
    });
  });

  it('given a running instance, when suspended, then the state before is still running', () => {
    const started = deepFreeze(evolve(initialState(), history[0]!));
    const suspended = evolve(started, { type: 'InstanceSuspended', data: { by: 'admin' } });
    expect([started.status, suspended.status]).toEqual(['running', 'suspended']);
  });
});
