import { given, invoiceApproval, T0, at, DAY, MINUTE } from '@lifeline/testing';
import {
  InstanceNotFound,
  InstanceNotRunning,
  InstanceNotSuspended,
  InstanceSuspendedError,
  InvalidAnswer,
  InvalidPostpone,
  InvalidTaskField,
  InvalidTaskResult,
  RequiredFieldMissing,
  TaskAlreadyClaimed,
  TaskAlreadyCompleted,
  TaskNotAssignable,
  TaskNotClaimed,
  TaskNotFound,
  TaskNotReleasable,
  incidentForFailure,
  InvalidReassign,
  decide,
  decideState,
  evolveAll,
  isAdmin,
  type Actor,
  parseDefinition,
  type DecideContext,
  type HumanActivity,
  type InstanceCommand,
  type InstanceEvent,
  type WaitActivity,
  type ProcessDefinition,
  type TaskCreated,
  SYSTEM,
} from '@lifeline/process-domain';

const definition = invoiceApproval();
const invoice = { number: 'INV-7', amount: 1200, status: 'New', ownerId: 'alice' };
const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({
  now: T0,
  definition,
  definitionVersion: 1,
  entityData: invoice,
  actor: SYSTEM,
  ...over,
});
const bob = { id: 'bob', roles: ['accounting'] };
const carol = { id: 'carol', roles: ['accounting'] };
const mallory = { id: 'mallory', roles: ['sales'] };
const admin = { id: 'root', roles: ['admin'] };

const started: InstanceEvent = {
  type: 'InstanceStarted',
  data: {
    instanceId: 'i1',
    definitionKey: 'invoice-approval',
    definitionVersion: 1,
    definitionName: 'Invoice approval',
    entity: { type: 'Invoice', id: 'INV-7' },
    variables: {},
    cause: { kind: 'trigger', entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
  },
};
const reviewEntered: InstanceEvent = {
  type: 'ActivityEntered',
  data: { activityId: 'review', activityType: 'human', visit: 1 },
};
const reviewTask: TaskCreated = {
  type: 'TaskCreated',
  data: {
    taskId: 'i1.review.1',
    activityId: 'review',
    title: 'Review the invoice',
    instructions: 'Check the supplier and the amount.',
    hint: 'Invoices above 10000 need a second look.',
    assignee: { role: 'accounting' },
    startAt: T0,
    dueAt: at(2 * DAY),
    results: ['Approve', 'Reject'],
    form: [{ name: 'comment', type: 'text', required: false }],
    rule: { role: 'accounting' },
  },
};
const claimedByBob: InstanceEvent = { type: 'TaskClaimed', data: { taskId: 'i1.review.1', user: 'bob' } };
const atReview = [started, reviewEntered, reviewTask];

describe('StartInstance', () => {
  const start = {
    type: 'StartInstance' as const,
    instanceId: 'i1',
    definitionKey: 'invoice-approval',
    definitionVersion: 1,
    entity: { type: 'Invoice', id: 'INV-7' },
    variables: {},
    cause: { kind: 'trigger' as const, entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
  };

  it('starts and rests at the first human task, assigned to its role, due per dueIn', () => {
    given().when(start, ctx()).then(atReview);
  });

  it('is a no-op when the instance already exists (the process manager repeated itself)', () => {
    given(...atReview)
      .when(start, ctx())
      .then([]);
  });
});

describe('ClaimTask', () => {
  it('a role member claims an unassigned task', () => {
    given(...atReview)
      .when({ type: 'ClaimTask', taskId: 'i1.review.1' }, ctx({ actor: bob }))
      .then([claimedByBob]);
  });
  it('another role member gets a conflict once it is claimed', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'ClaimTask', taskId: 'i1.review.1' }, ctx({ actor: carol }))
      .thenThrows(TaskAlreadyClaimed, 'TASK.ALREADY_CLAIMED');
  });
  it('someone outside the role gets exactly the answer for a task that does not exist', () => {
    const refusal = (taskId: string, actor: Actor) => {
      try {
        decide(evolveAll(atReview), { type: 'ClaimTask', taskId }, ctx({ actor }));
      } catch (error) {
        const { code, message, details } = error as TaskNotFound;
        return { type: (error as Error).constructor.name, code, message, details };
      }
      return undefined;
    };
    expect(refusal('i1.review.1', mallory)).toEqual(refusal('i1.review.9', bob));
    expect(refusal('i1.review.1', mallory)).toMatchObject({ code: 'TASK.NOT_FOUND', message: 'No such task' });
  });
  it('a token subject named like the engine has no rights: only the engine actor is admin', () => {
    const impostor = { id: 'system', roles: [] };
    expect(isAdmin(impostor)).toBe(false);
    expect(isAdmin(SYSTEM)).toBe(true);
    given(...atReview)
      .when({ type: 'ClaimTask', taskId: 'i1.review.1' }, ctx({ actor: impostor }))
      .thenThrows(TaskNotFound, 'TASK.NOT_FOUND');
    given(...atReview, claimedByBob)
      .when({ type: 'ReassignTask', taskId: 'i1.review.1', to: { role: 'sales' } }, ctx({ actor: impostor }))
      .thenThrows(TaskNotFound, 'TASK.NOT_FOUND');
    given(...atReview, claimedByBob)
      .when({ type: 'SuspendInstance' }, ctx({ actor: impostor }))
      .then([{ type: 'InstanceSuspended', data: { by: 'system' } }]);
  });
  it('an unknown task is not found', () => {
    given(...atReview)
      .when({ type: 'ClaimTask', taskId: 'nope' }, ctx({ actor: bob }))
      .thenThrows(TaskNotFound);
  });
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'a task id named like a property every object has (%s) is not found, also for an admin',
    (taskId) => {
      given(...atReview)
        .when({ type: 'ClaimTask', taskId }, ctx({ actor: admin }))
        .thenThrows(TaskNotFound);
      given(...atReview)
        .when({ type: 'CompleteTask', taskId, result: 'Approve' }, ctx({ actor: admin }))
        .thenThrows(TaskNotFound);
    },
  );
  it('an unknown instance is not found', () => {
    given()
      .when({ type: 'ClaimTask', taskId: 'x' }, ctx({ actor: bob }))
      .thenThrows(InstanceNotFound);
  });
  it('claiming one’s own claimed task again is harmless', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'ClaimTask', taskId: 'i1.review.1' }, ctx({ actor: bob }))
      .then([]);
  });
});

describe('ReleaseTask', () => {
  it('gives the task back to its role', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'ReleaseTask', taskId: 'i1.review.1' }, ctx({ actor: bob }))
      .then([{ type: 'TaskReleased', data: { taskId: 'i1.review.1', user: 'bob', role: 'accounting' } }]);
  });
  it('cannot release a task nobody holds', () => {
    given(...atReview)
      .when({ type: 'ReleaseTask', taskId: 'i1.review.1' }, ctx({ actor: bob }))
      .thenThrows(TaskNotClaimed);
  });
  it('cannot release a task preassigned to a user with no role', () => {
    const payTask: InstanceEvent = {
      type: 'TaskCreated',
      data: {
        ...reviewTask.data,
        taskId: 'i1.pay.1',
        activityId: 'pay',
        assignee: { user: 'alice' },
        rule: { userFrom: 'entity.ownerId' },
      },
    };
    given(started, payTask)
      .when({ type: 'ReleaseTask', taskId: 'i1.pay.1' }, ctx({ actor: { id: 'alice', roles: [] } }))
      .thenThrows(TaskNotReleasable);
  });
});

describe('ReassignTask', () => {
  it('the assignee hands the task to another user', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'ReassignTask', taskId: 'i1.review.1', to: { user: 'carol' } }, ctx({ actor: bob }))
      .then([
        {
          type: 'TaskReassigned',
          data: { taskId: 'i1.review.1', from: { user: 'bob', role: 'accounting' }, to: { user: 'carol' } },
        },
      ]);
  });
  it('an admin moves it to another role', () => {
    const state = given(...atReview)
      .when({ type: 'ReassignTask', taskId: 'i1.review.1', to: { role: 'controlling' } }, ctx({ actor: admin }))
      .thenState();
    expect(state.status === 'running' && state.tasks['i1.review.1']).toMatchObject({
      role: 'controlling',
      user: undefined,
    });
  });
  it('a role member who does not hold it may not reassign it', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'ReassignTask', taskId: 'i1.review.1', to: { user: 'carol' } }, ctx({ actor: carol }))
      .thenThrows(TaskNotAssignable);
  });
  it.each([
    ['the engine', 'system'],
    ['the engine, cased', 'System'],
    ['the engine, full-width', '\uff53ystem'],
    ['a right-to-left override', 'bob\u202e'],
    ['a zero-width space', 'sys\u200btem'],
    ['a control character', 'bob\u0007'],
    ['a C1 control character', 'bob\u0085'],
    ['an edge blank', ' bob'],
  ])('refuses to reassign to %s (%j)', (_name, user) => {
    given(...atReview, claimedByBob)
      .when({ type: 'ReassignTask', taskId: 'i1.review.1', to: { user } }, ctx({ actor: admin }))
      .thenThrows(InvalidReassign, 'TASK.INVALID_REASSIGN');
  });
});

describe('PostponeTask ("perform later")', () => {
  it('moves the start and the due date', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'PostponeTask', taskId: 'i1.review.1', until: at(DAY), dueAt: at(3 * DAY) }, ctx({ actor: bob }))
      .then([{ type: 'TaskPostponed', data: { taskId: 'i1.review.1', until: at(DAY), dueAt: at(3 * DAY) } }]);
  });
  it('refuses a start in the past', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'PostponeTask', taskId: 'i1.review.1', until: at(-MINUTE) }, ctx({ actor: bob }))
      .thenThrows(InvalidPostpone);
  });
  it('refuses a due date before the new start', () => {
    given(...atReview, claimedByBob)
      .when({ type: 'PostponeTask', taskId: 'i1.review.1', until: at(2 * DAY), dueAt: at(DAY) }, ctx({ actor: bob }))
      .thenThrows(InvalidPostpone);
  });
});

describe('CompleteTask', () => {
  const complete = (over: object = {}) => ({
    type: 'CompleteTask' as const,
    taskId: 'i1.review.1',
    result: 'Approve',
    ...over,
  });

  it('Approve routes through the decision into the wait for clearance', () => {
    const events = given(...atReview, claimedByBob)
      .when(complete({ fields: { comment: 'ok' } }), ctx({ actor: bob }))
      .thenTypes(['TaskCompleted', 'ActivityEntered', 'DecisionTaken', 'ActivityEntered', 'WaitStarted']);
    expect(events[2]).toEqual({
      type: 'DecisionTaken',
      data: {
        activityId: 'route',
        branch: 0,
        expression: 'review.result = "Approve"',
        next: 'awaitClearance',
        seen: { 'review.result': 'Approve' },
      },
    });
    expect(events[4]).toMatchObject({ data: { activityId: 'awaitClearance', timeoutAt: at(30 * DAY) } });
  });
  it('Reject takes the otherwise branch to the end', () => {
    const events = given(...atReview, claimedByBob)
      .when(complete({ result: 'Reject' }), ctx({ actor: bob }))
      .thenTypes(['TaskCompleted', 'ActivityEntered', 'DecisionTaken', 'ActivityEntered', 'InstanceCompleted']);
    expect(events[2]).toMatchObject({ data: { branch: -1, next: 'rejected' } });
  });
  it('a role member completing an unassigned task claims it on the way', () => {
    given(...atReview)
      .when(complete({ result: 'Reject' }), ctx({ actor: carol }))
      .events();
    const types = given(...atReview)
      .when(complete({ result: 'Reject' }), ctx({ actor: carol }))
      .events()
      .map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['TaskClaimed', 'TaskCompleted']);
  });
  it('a result outside the list is refused', () => {
    given(...atReview, claimedByBob)
      .when(complete({ result: 'Maybe' }), ctx({ actor: bob }))
      .thenThrows(InvalidTaskResult, 'TASK.INVALID_RESULT');
  });
  it('a missing result is refused', () => {
    given(...atReview, claimedByBob)
      .when(complete({ result: undefined }), ctx({ actor: bob }))
      .thenThrows(InvalidTaskResult);
  });
  it('an unknown form field is refused', () => {
    given(...atReview, claimedByBob)
      .when(complete({ fields: { amount: 1 } }), ctx({ actor: bob }))
      .thenThrows(InvalidTaskField);
  });
  it('a field of the wrong type is refused', () => {
    given(...atReview, claimedByBob)
      .when(complete({ fields: { comment: 42 } }), ctx({ actor: bob }))
      .thenThrows(InvalidTaskField);
  });
  it('someone else holding it makes it a conflict; an outsider does not find it', () => {
    given(...atReview, claimedByBob)
      .when(complete(), ctx({ actor: carol }))
      .thenThrows(TaskAlreadyClaimed);
    given(...atReview, claimedByBob)
      .when(complete(), ctx({ actor: mallory }))
      .thenThrows(TaskNotFound, 'TASK.NOT_FOUND');
  });
  it('completing twice is a conflict', () => {
    const done: InstanceEvent = {
      type: 'TaskCompleted',
      data: { taskId: 'i1.review.1', activityId: 'review', user: 'bob', result: 'Reject', fields: {} },
    };
    given(...atReview, claimedByBob, done)
      .when(complete(), ctx({ actor: bob }))
      .thenThrows(TaskAlreadyCompleted, 'TASK.ALREADY_COMPLETED');
  });
  it('a suspended instance refuses task actions', () => {
    given(...atReview, claimedByBob, { type: 'InstanceSuspended', data: { by: 'root' } })
      .when(complete(), ctx({ actor: bob }))
      .thenThrows(InstanceSuspendedError, 'INSTANCE.SUSPENDED');
  });
});

describe('required fields, questions and result maps', () => {
  const def: ProcessDefinition = {
    key: 'complaint',
    name: 'Complaint',
    relatedEntity: 'Complaint',
    executionOrder: 1,
    enabled: true,
    triggers: [],
    start: 'triage',
    activities: {
      triage: {
        type: 'human',
        title: 'Triage',
        assignee: { user: 'dana' },
        form: [
          { name: 'summary', type: 'text', required: true },
          { name: 'refund', type: 'number', required: false },
        ],
        question: { text: 'What went wrong?', options: ['Late', 'Broken', 'Wrong item'], multiple: true },
        results: ['Handle', 'Dismiss'],
        next: { Handle: 'route', Dismiss: 'closed' },
      },
      route: {
        type: 'decision',
        branches: [{ when: 'list contains(triage.answers, "Broken")', next: 'replace' }],
        otherwise: 'closed',
      },
      replace: { type: 'automatic', set: { replacement: 'true' }, next: 'closed' },
      closed: { type: 'end' },
    },
  };
  const dana = { id: 'dana', roles: [] };
  const triage: InstanceEvent[] = [
    { ...started, data: { ...(started.data as object), definitionKey: 'complaint' } as never },
    { type: 'ActivityEntered', data: { activityId: 'triage', activityType: 'human', visit: 1 } },
    {
      type: 'TaskCreated',
      data: {
        taskId: 'i1.triage.1',
        activityId: 'triage',
        title: 'Triage',
        assignee: { user: 'dana' },
        startAt: T0,
        results: ['Handle', 'Dismiss'],
        form: (def.activities.triage as unknown as { form: never }).form,
        question: (def.activities.triage as unknown as { question: never }).question,
        rule: { user: 'dana' },
      },
    },
  ];
  const c = (over: Partial<DecideContext> = {}) => ctx({ definition: def, actor: dana, ...over });
  const complete = (over: object) => ({
    type: 'CompleteTask' as const,
    taskId: 'i1.triage.1',
    result: 'Handle',
    fields: { summary: 'box crushed' },
    answers: ['Broken'],
    ...over,
  });

  it('a missing required field is refused', () => {
    given(...triage)
      .when(complete({ fields: { summary: '  ' } }), c())
      .thenThrows(RequiredFieldMissing, 'TASK.REQUIRED_FIELD_MISSING');
  });
  it('an answer outside the options is refused', () => {
    given(...triage)
      .when(complete({ answers: ['Rude'] }), c())
      .thenThrows(InvalidAnswer);
  });
  it('no answer to the question is refused', () => {
    given(...triage)
      .when(complete({ answers: [] }), c())
      .thenThrows(InvalidAnswer);
  });
  it('several answers steer the decision; the result map picks the next activity', () => {
    const events = given(...triage)
      .when(complete({ answers: ['Late', 'Broken'], fields: { summary: 'x', refund: 10 } }), c())
      .thenTypes([
        'TaskCompleted',
        'ActivityEntered',
        'DecisionTaken',
        'ActivityEntered',
        'VariablesSet',
        'ActivityEntered',
        'InstanceCompleted',
      ]);
    expect(events[4]).toEqual({
      type: 'VariablesSet',
      data: { activityId: 'replace', variables: { replacement: true } },
    });
  });
  it('Dismiss goes straight to the end through the result map', () => {
    given(...triage)
      .when(complete({ result: 'Dismiss', answers: ['Late'] }), c())
      .thenTypes(['TaskCompleted', 'ActivityEntered', 'InstanceCompleted']);
  });
  it('one answer only when the question is not multiple', () => {
    const single = { ...def, activities: { ...def.activities } };
    const events = [...triage];
    events[2] = {
      ...triage[2],
      data: { ...(triage[2].data as object), question: { text: 'q', options: ['A', 'B'], multiple: false } },
    } as InstanceEvent;
    given(...events)
      .when(complete({ answers: ['A', 'B'] }), c({ definition: single }))
      .thenThrows(InvalidAnswer);
  });
});

describe('waits', () => {
  const completedApprove: InstanceEvent[] = [
    claimedByBob,
    {
      type: 'TaskCompleted',
      data: { taskId: 'i1.review.1', activityId: 'review', user: 'bob', result: 'Approve', fields: {} },
    },
    { type: 'ActivityEntered', data: { activityId: 'route', activityType: 'decision', visit: 1 } },
    { type: 'DecisionTaken', data: { activityId: 'route', branch: 0, next: 'awaitClearance', seen: {} } },
    { type: 'ActivityEntered', data: { activityId: 'awaitClearance', activityType: 'wait', visit: 1 } },
    {
      type: 'WaitStarted',
      data: {
        activityId: 'awaitClearance',
        visit: 1,
        until: 'entity.status = "ClearedForPayment"',
        timeoutAt: at(30 * DAY),
        entity: { type: 'Invoice', id: 'INV-7' },
      },
    },
  ];
  const waiting = [...atReview, ...completedApprove];

  it('a record update that makes `until` true resumes the wait, with the values it saw', () => {
    const events = given(...waiting)
      .when(
        { type: 'CheckWait', entityEventId: 'evt-9', entitySource: { kind: 'http' } },
        ctx({ entityData: { ...invoice, status: 'ClearedForPayment' } }),
      )
      .thenTypes(['WaitSatisfied', 'ActivityEntered', 'TaskCreated']);
    expect(events[0].data).toEqual({
      activityId: 'awaitClearance',
      visit: 1,
      expression: 'entity.status = "ClearedForPayment"',
      seen: { 'entity.status': 'ClearedForPayment' },
      entityEventId: 'evt-9',
      entitySource: { kind: 'http' },
    });
    expect(events[2]).toMatchObject({
      data: { taskId: 'i1.pay.1', assignee: { user: 'alice' }, rule: { userFrom: 'entity.ownerId' } },
    });
  });
  it('an update that does not make it true changes nothing', () => {
    given(...waiting)
      .when({ type: 'CheckWait', entityEventId: 'evt-9' }, ctx({ entityData: { ...invoice, status: 'Disputed' } }))
      .then([]);
  });
  it('the timeout fires onTimeout: variables set, a message emitted, then the end', () => {
    const events = given(...waiting)
      .when({ type: 'FireWaitTimeout', activityId: 'awaitClearance', visit: 1 }, ctx({ now: at(30 * DAY) }))
      .thenTypes([
        'WaitTimedOut',
        'ActivityEntered',
        'VariablesSet',
        'MessageEmitted',
        'ActivityEntered',
        'InstanceCompleted',
      ]);
    expect(events[2].data).toEqual({ activityId: 'escalate', variables: { escalated: 'true' } });
    expect(events[3].data).toEqual({
      activityId: 'escalate',
      topic: 'invoice-commands',
      messageType: 'EscalateInvoice',
      key: 'i1',
      payload: { invoice: 'INV-7' },
    });
  });
  it('a timer that fires early or for an older visit is ignored', () => {
    given(...waiting)
      .when({ type: 'FireWaitTimeout', activityId: 'awaitClearance', visit: 1 }, ctx({ now: at(DAY) }))
      .then([]);
    given(...waiting)
      .when({ type: 'FireWaitTimeout', activityId: 'awaitClearance', visit: 0 }, ctx({ now: at(31 * DAY) }))
      .then([]);
  });
  it('a wait that already holds on entry passes straight through', () => {
    const events = given(...atReview, claimedByBob)
      .when(
        { type: 'CompleteTask', taskId: 'i1.review.1', result: 'Approve' },
        ctx({ actor: bob, entityData: { ...invoice, status: 'ClearedForPayment' } }),
      )
      .thenTypes([
        'TaskCompleted',
        'ActivityEntered',
        'DecisionTaken',
        'ActivityEntered',
        'WaitSatisfied',
        'ActivityEntered',
        'TaskCreated',
      ]);
    expect(events[4].data).not.toHaveProperty('entityEventId');
  });
  it('a timeout due while suspended fires on resume', () => {
    given(...waiting, { type: 'InstanceSuspended', data: { by: 'root' } })
      .when({ type: 'ResumeInstance' }, ctx({ actor: admin, now: at(31 * DAY) }))
      .thenTypes([
        'InstanceResumed',
        'WaitTimedOut',
        'ActivityEntered',
        'VariablesSet',
        'MessageEmitted',
        'ActivityEntered',
        'InstanceCompleted',
      ]);
  });
});

describe('incidents', () => {
  it('a FEEL error at run time raises an incident and the instance rests there', () => {
    const events = given(...atReview, claimedByBob)
      .when(
        { type: 'CompleteTask', taskId: 'i1.review.1', result: 'Approve' },
        ctx({ actor: bob, entityData: { ...invoice, status: 'ClearedForPayment', ownerId: null } }),
      )
      .thenTypes([
        'TaskCompleted',
        'ActivityEntered',
        'DecisionTaken',
        'ActivityEntered',
        'WaitSatisfied',
        'ActivityEntered',
        'IncidentRaised',
      ]);
    expect(events[6].data).toMatchObject({ incidentId: 'pay-1', activityId: 'pay', code: 'TASK.ASSIGNEE_UNRESOLVED' });
  });
  it('a record naming the engine as its owner raises an incident instead of assigning the task to it', () => {
    const events = given(...atReview, claimedByBob)
      .when(
        { type: 'CompleteTask', taskId: 'i1.review.1', result: 'Approve' },
        ctx({ actor: bob, entityData: { ...invoice, status: 'ClearedForPayment', ownerId: 'system' } }),
      )
      .events();
    expect(events.map((e) => e.type)).not.toContain('TaskCreated');
    expect(events.at(-1)).toMatchObject({
      type: 'IncidentRaised',
      data: { activityId: 'pay', code: 'TASK.ASSIGNEE_UNRESOLVED' },
    });
  });
  it('retrying after the record was fixed resolves it and goes on', () => {
    const withIncident = given(...atReview, claimedByBob)
      .when(
        { type: 'CompleteTask', taskId: 'i1.review.1', result: 'Approve' },
        ctx({ actor: bob, entityData: { ...invoice, status: 'ClearedForPayment', ownerId: null } }),
      )
      .events();
    given(...atReview, claimedByBob, ...withIncident)
      .when(
        { type: 'RetryIncident', incidentId: 'pay-1' },
        ctx({ actor: admin, entityData: { ...invoice, ownerId: 'erin' } }),
      )
      .thenTypes(['IncidentResolved', 'TaskCreated']);
  });
});

describe('durations that give no valid instant (a definition stored before durations were bounded)', () => {
  const legacy = (over: Partial<ProcessDefinition['activities']>): ProcessDefinition => ({
    ...definition,
    activities: { ...definition.activities, ...over } as ProcessDefinition['activities'],
  });
  const start = {
    type: 'StartInstance' as const,
    instanceId: 'i1',
    definitionKey: 'invoice-approval',
    definitionVersion: 1,
    entity: { type: 'Invoice', id: 'INV-7' },
    variables: {},
    cause: { kind: 'trigger' as const, entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
  };

  it('given a dueIn of P99999999Y, when the instance starts, then it starts and rests at an incident FLOW.INVALID_DURATION, no task', () => {
    const huge = legacy({ review: { ...definition.activities.review, dueIn: 'P99999999Y' } as HumanActivity });
    const events = given()
      .when(start, ctx({ definition: huge }))
      .thenTypes(['InstanceStarted', 'ActivityEntered', 'IncidentRaised']);
    expect(events[2].data).toEqual({
      incidentId: 'review-1',
      activityId: 'review',
      code: 'FLOW.INVALID_DURATION',
      message: "P99999999Y: 2026-11-21T10:00:00.000Z plus 'P99999999Y' is past 9999-12-31T23:59:59.999Z",
    });
  });

  it('given a wait timeout of P99999999D, when the flow enters the wait, then an incident FLOW.INVALID_DURATION, no WaitStarted', () => {
    const huge = legacy({
      awaitClearance: { ...definition.activities.awaitClearance, timeout: 'P99999999D' } as WaitActivity,
    });
    const events = given(...atReview, claimedByBob)
      .when({ type: 'CompleteTask', taskId: 'i1.review.1', result: 'Approve' }, ctx({ actor: bob, definition: huge }))
      .thenTypes(['TaskCompleted', 'ActivityEntered', 'DecisionTaken', 'ActivityEntered', 'IncidentRaised']);
    expect(events[4].data).toMatchObject({
      incidentId: 'awaitClearance-1',
      activityId: 'awaitClearance',
      code: 'FLOW.INVALID_DURATION',
    });
  });

  it('given that incident, when retried with the same version, then it is raised again: the instance stays stopped, the engine goes on', () => {
    const huge = legacy({ review: { ...definition.activities.review, dueIn: 'P99999999Y' } as HumanActivity });
    const withIncident = given()
      .when(start, ctx({ definition: huge }))
      .events();
    given(...withIncident)
      .when({ type: 'RetryIncident', incidentId: 'review-1' }, ctx({ actor: admin, definition: huge }))
      .thenTypes(['IncidentResolved', 'IncidentRaised']);
  });
});

describe('incidentForFailure (a command of the process manager or a timer that threw)', () => {
  const failure = { code: 'ENGINE.UNEXPECTED', message: 'TypeError: boom' };

  it('given an instance at a task, then the incident is at the current activity, numbered after the earlier ones', () => {
    const state = given(...atReview, {
      type: 'IncidentRaised',
      data: { incidentId: 'review-1', activityId: 'review', code: 'X', message: 'x' },
    }).state;
    expect(incidentForFailure(state, failure)).toEqual({
      type: 'IncidentRaised',
      data: { incidentId: 'review-2', activityId: 'review', ...failure },
    });
  });

  it('given an instance that has ended or never started, then there is nothing to raise it on', () => {
    expect(incidentForFailure(given().state, failure)).toBeUndefined();
    const ended = given(...atReview, { type: 'InstanceTerminated', data: { by: 'root' } }).state;
    expect(incidentForFailure(ended, failure)).toBeUndefined();
  });
});

describe('suspend, resume, terminate', () => {
  it('suspends a running instance and resumes it', () => {
    given(...atReview)
      .when({ type: 'SuspendInstance', reason: 'audit' }, ctx({ actor: admin }))
      .then([{ type: 'InstanceSuspended', data: { by: 'root', reason: 'audit' } }]);
    given(...atReview, { type: 'InstanceSuspended', data: { by: 'root' } })
      .when({ type: 'ResumeInstance' }, ctx({ actor: admin }))
      .then([{ type: 'InstanceResumed', data: { by: 'root' } }]);
  });
  it('resume of a running instance is a conflict', () => {
    given(...atReview)
      .when({ type: 'ResumeInstance' }, ctx({ actor: admin }))
      .thenThrows(InstanceNotSuspended);
  });
  it('terminate closes the instance and its open tasks', () => {
    const state = given(...atReview)
      .when({ type: 'TerminateInstance' }, ctx({ actor: admin }))
      .thenState();
    expect(state.status).toBe('terminated');
    expect(state.status !== 'none' && state.tasks['i1.review.1'].status).toBe('cancelled');
  });
  it('a terminated instance cannot be terminated again', () => {
    given(...atReview, { type: 'InstanceTerminated', data: { by: 'root' } })
      .when({ type: 'TerminateInstance' }, ctx({ actor: admin }))
      .thenThrows(InstanceNotRunning);
  });
});

describe('FEEL record: the record identity everywhere FEEL runs', () => {
  const onboarding = parseDefinition(
    [
      'key: onboarding',
      'name: Onboarding',
      'relatedEntity: Customer',
      'start: route',
      'activities:',
      '  route:',
      '    type: decision',
      '    branches: [{ when: record.type = "Customer", next: create }]',
      '    otherwise: done',
      '  create:',
      '    type: automatic',
      '    set: { of: record.id }',
      '    emit: { topic: account-commands, type: CreateAccount, payload: { customerId: record.id, dataId: entity.id } }',
      '    next: verify',
      '  verify: { type: human, title: Verify, assignee: { userFrom: record.id }, next: done }',
      '  done: { type: end }',
    ].join('\n'),
    'application/yaml',
  );
  const start = {
    type: 'StartInstance' as const,
    instanceId: 'c1',
    definitionKey: 'onboarding',
    definitionVersion: 1,
    entity: { type: 'Customer', id: 'CUST-1' },
    variables: {},
    cause: { kind: 'trigger' as const, entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
  };

  it('decisions, set, emit and userFrom read record.type and record.id; entity keeps only the data', () => {
    const events = given()
      .when(start, ctx({ definition: onboarding, entityData: { name: 'Ada' } }))
      .thenTypes([
        'InstanceStarted',
        'ActivityEntered',
        'DecisionTaken',
        'ActivityEntered',
        'VariablesSet',
        'MessageEmitted',
        'ActivityEntered',
        'TaskCreated',
      ]);
    expect(events[2].data).toMatchObject({ next: 'create', seen: { 'record.type': 'Customer' } });
    expect(events[4].data).toEqual({ activityId: 'create', variables: { of: 'CUST-1' } });
    expect(events[5].data).toMatchObject({ payload: { customerId: 'CUST-1', dataId: null } });
    expect(events[7].data).toMatchObject({ assignee: { user: 'CUST-1' } });
  });

  it('a field the application itself calls id stays in entity.id', () => {
    const events = given()
      .when(start, ctx({ definition: onboarding, entityData: { id: 'app-7' } }))
      .thenTypes([
        'InstanceStarted',
        'ActivityEntered',
        'DecisionTaken',
        'ActivityEntered',
        'VariablesSet',
        'MessageEmitted',
        'ActivityEntered',
        'TaskCreated',
      ]);
    expect(events[5].data).toMatchObject({ payload: { customerId: 'CUST-1', dataId: 'app-7' } });
  });
});

describe('decideState: the state it hands over is its events folded (the pipeline caches it instead of folding again)', () => {
  const startCommand = {
    type: 'StartInstance' as const,
    instanceId: 'i1',
    definitionKey: 'invoice-approval',
    definitionVersion: 1,
    entity: { type: 'Invoice', id: 'INV-7' },
    variables: {},
    cause: { kind: 'trigger' as const, entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
  };
  const approve = { type: 'CompleteTask' as const, taskId: 'i1.review.1', result: 'Approve' };
  const waiting = given(...atReview, claimedByBob)
    .when(approve, ctx({ actor: bob }))
    .events();
  const withIncident = given(...atReview, claimedByBob)
    .when(approve, ctx({ actor: bob, entityData: { ...invoice, status: 'ClearedForPayment', ownerId: null } }))
    .events();
  const suspended: InstanceEvent = { type: 'InstanceSuspended', data: { by: 'root' } };

  it.each<[string, InstanceEvent[], InstanceCommand, DecideContext]>([
    ['a start', [], startCommand, ctx()],
    ['a start repeated', atReview, startCommand, ctx()],
    ['a claim', atReview, { type: 'ClaimTask', taskId: 'i1.review.1' }, ctx({ actor: bob })],
    ['a release', [...atReview, claimedByBob], { type: 'ReleaseTask', taskId: 'i1.review.1' }, ctx({ actor: bob })],
    [
      'a reassignment',
      [...atReview, claimedByBob],
      { type: 'ReassignTask', taskId: 'i1.review.1', to: { user: 'carol' } },
      ctx({ actor: bob }),
    ],
    ['a postponement', atReview, { type: 'PostponeTask', taskId: 'i1.review.1', until: at(DAY) }, ctx({ actor: bob })],
    ['a completion into a wait', [...atReview, claimedByBob], approve, ctx({ actor: bob })],
    ['a completion to the end', [...atReview, claimedByBob], { ...approve, result: 'Reject' }, ctx({ actor: bob })],
    [
      'a wait satisfied',
      [...atReview, claimedByBob, ...waiting],
      { type: 'CheckWait', entityEventId: 'evt-9' },
      ctx({ entityData: { ...invoice, status: 'ClearedForPayment' } }),
    ],
    ['a wait still waiting', [...atReview, claimedByBob, ...waiting], { type: 'CheckWait' }, ctx()],
    [
      'a timeout',
      [...atReview, claimedByBob, ...waiting],
      { type: 'FireWaitTimeout', activityId: 'awaitClearance', visit: 1 },
      ctx({ now: at(30 * DAY) }),
    ],
    ['a suspension', atReview, { type: 'SuspendInstance' }, ctx({ actor: admin })],
    [
      'a resumption that fires a timeout',
      [...atReview, claimedByBob, ...waiting, suspended],
      { type: 'ResumeInstance' },
      ctx({ actor: admin, now: at(31 * DAY) }),
    ],
    ['a termination', atReview, { type: 'TerminateInstance', reason: 'done' }, ctx({ actor: admin })],
    [
      'an incident retried',
      [...atReview, claimedByBob, ...withIncident],
      { type: 'RetryIncident', incidentId: 'pay-1' },
      ctx({ actor: admin, entityData: { ...invoice, ownerId: 'erin' } }),
    ],
  ])('given %s, then its events are decide’s and its state is theirs folded', (_name, history, command, context) => {
    const before = evolveAll(history);
    const decision = decideState(before, command, context);
    expect(decision.events).toEqual(decide(before, command, context));
    expect(decision.events.length > 0 || decision.state === before).toBe(true);
    expect(decision.state).toEqual(evolveAll(decision.events, before));
  });
});
