import { InstanceRun as Run, eventShape as shape } from '@lifeline/testing';
import { parseDefinition, type Actor, type InstanceEvent } from '@lifeline/process-domain';

/** Sub-processes, the parent's side, given/when/then (the child's reports come from the reactions). */

const admin: Actor = { id: 'root', roles: ['admin'] };
const order = parseDefinition(`
key: order
name: Order
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [onboard, check] }
  onboard:
    type: subprocess
    process: supplier-onboarding
    version: 2
    record: { type: Supplier, id: entity.supplierId }
    inputs: { orderNumber: entity.number }
    outputs: { supplierVat: child.vat, checked: vars.checked }
    next: both
  check: { type: automatic, set: { checked: 'true' }, next: both }
  both: { type: join, next: done }
  done: { type: end }
`);
const started = (events: InstanceEvent[]) =>
  events.find((e) => e.type === 'SubprocessStarted')!.data as { childInstanceId: string };

describe('a subprocess activity', () => {
  it('given an order, when it reaches the activity on a branch, then the child is started for the record it names, with its inputs', () => {
    const run = new Run(order, { number: 'PO-7', supplierId: 'S-1' });
    const events = run.start();
    expect(events.find((e) => e.type === 'SubprocessStarted')!.data).toEqual({
      activityId: 'onboard',
      visit: 1,
      childInstanceId: 'child(i1/onboard/1/1)',
      definitionKey: 'supplier-onboarding',
      definitionVersion: 2,
      entity: { type: 'Supplier', id: 'S-1' },
      variables: { orderNumber: 'PO-7' },
      depth: 1,
      token: 'split.1.0',
    });
    expect(run.positions()).toEqual(['both@split.1.1', 'onboard@split.1.0']);
  });

  it('given the child completed, then its outputs are the parent’s variables and the branch joins; told twice, nothing more', () => {
    const run = new Run(order, { number: 'PO-7', supplierId: 'S-1' });
    const child = started(run.start()).childInstanceId;
    const events = run.when({ type: 'CompleteSubprocess', childInstanceId: child, variables: { vat: 'NL001', x: 1 } });
    expect(shape(events)).toEqual([
      'SubprocessCompleted(onboard@split.1.0)',
      'ActivityEntered(both@split.1.0)',
      'BranchesJoined(both)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
    expect(events[0]!.data).toMatchObject({ variables: { supplierVat: 'NL001', checked: true } });
    expect(run.live().variables).toEqual({ checked: true, supplierVat: 'NL001' });
    expect(run.when({ type: 'CompleteSubprocess', childInstanceId: child, variables: {} })).toEqual([]);
  });

  it('given a record id that gives no id, then an incident, and no child', () => {
    const run = new Run(order, { number: 'PO-7' });
    const events = run.start();
    expect(events.find((e) => e.type === 'IncidentRaised')!.data).toMatchObject({
      activityId: 'onboard',
      code: 'SUBPROCESS.RECORD_UNRESOLVED',
      token: 'split.1.0',
    });
    expect(events.some((e) => e.type === 'SubprocessStarted')).toBe(false);
  });

  it('given the child failed, then an incident; a retry starts a second child with its own id', () => {
    const run = new Run(order, { number: 'PO-7', supplierId: 'S-1' });
    const first = started(run.start()).childInstanceId;
    const failed = run.when({
      type: 'FailSubprocess',
      childInstanceId: first,
      code: 'SUBPROCESS.TERMINATED',
      message: 'the child was terminated by root',
    });
    expect(shape(failed)).toEqual(['SubprocessFailed(onboard@split.1.0)', 'IncidentRaised(onboard@split.1.0)']);
    const retried = run.when({ type: 'RetryIncident', incidentId: 'onboard-1' }, admin);
    expect(started(retried).childInstanceId).toBe('child(i1/onboard/1/2)');
    // The first child's late completion is ignored: the parent waits for the second.
    expect(run.when({ type: 'CompleteSubprocess', childInstanceId: first, variables: {} })).toEqual([]);
  });

  it('given a child’s incident, then it shows at the activity and clears with the child’s; it cannot be retried on the parent', () => {
    const run = new Run(order, { number: 'PO-7', supplierId: 'S-1' });
    const child = started(run.start()).childInstanceId;
    const mirror = {
      type: 'MirrorChildIncident',
      childInstanceId: child,
      incidentId: 'collect-1',
      code: 'X',
      message: 'y',
    } as const;
    expect(run.when({ ...mirror, resolved: false })[0]!.data).toMatchObject({
      incidentId: 'onboard-1',
      code: 'SUBPROCESS.INCIDENT',
      child: { instanceId: child, incidentId: 'collect-1' },
    });
    expect(run.when({ ...mirror, resolved: false })).toEqual([]);
    expect(() => run.when({ type: 'RetryIncident', incidentId: 'onboard-1' }, admin)).toThrow(
      expect.objectContaining({ code: 'INCIDENT.ON_CHILD' }) as Error,
    );
    expect(shape(run.when({ ...mirror, resolved: true }))).toEqual(['IncidentResolved(onboard)']);
    expect(run.live().incidents).toEqual({});
  });

  it('given a suspended parent, when its child completes, then the outputs are kept and the branch goes on when resumed', () => {
    const run = new Run(order, { number: 'PO-7', supplierId: 'S-1' });
    const child = started(run.start()).childInstanceId;
    run.when({ type: 'SuspendInstance' }, admin);
    expect(shape(run.when({ type: 'CompleteSubprocess', childInstanceId: child, variables: { vat: 'V' } }))).toEqual([
      'SubprocessCompleted(onboard@split.1.0)',
    ]);
    expect(shape(run.when({ type: 'ResumeInstance' }, admin))).toEqual([
      'InstanceResumed',
      'ActivityEntered(both@split.1.0)',
      'BranchesJoined(both)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });

  it('given a running child, when the parent is terminated, then the child is cancelled first', () => {
    const run = new Run(order, { number: 'PO-7', supplierId: 'S-1' });
    const child = started(run.start()).childInstanceId;
    expect(run.when({ type: 'TerminateInstance' }, admin)).toEqual([
      {
        type: 'SubprocessCancelled',
        data: {
          activityId: 'onboard',
          childInstanceId: child,
          entity: { type: 'Supplier', id: 'S-1' },
          reason: 'the parent was terminated',
        },
      },
      { type: 'InstanceTerminated', data: { by: 'root' } },
    ]);
  });
});

describe('a child instance', () => {
  const onboarding = parseDefinition(`
key: supplier-onboarding
name: Supplier onboarding
relatedEntity: Supplier
triggers: []
start: keep
activities:
  keep: { type: automatic, set: { vat: '"NL001"' }, next: done }
  done: { type: end }
`);

  it('given a child, when it completes, then its completion names its parent, its record and its variables', () => {
    const run = new Run(onboarding);
    const events = run.when({
      type: 'StartInstance',
      instanceId: 'c1',
      definitionKey: 'supplier-onboarding',
      definitionVersion: 1,
      entity: { type: 'Supplier', id: 'S-1' },
      variables: { orderNumber: 'PO-7' },
      cause: { kind: 'parent', instanceId: 'p1', activityId: 'onboard', visit: 1 },
    });
    expect(events.at(-1)).toEqual({
      type: 'InstanceCompleted',
      data: {
        endActivityId: 'done',
        variables: { orderNumber: 'PO-7', vat: 'NL001' },
        parent: { instanceId: 'p1', activityId: 'onboard', visit: 1 },
        entity: { type: 'Supplier', id: 'S-1' },
      },
    });
  });
});
