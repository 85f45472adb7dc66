import { InstanceRun as Run, eventShape as shape } from '@lifeline/testing';
import { parseDefinition, validateDefinition, type Actor } from '@lifeline/process-domain';

/** A deleted record: what its running instances do is declared per definition (`onRecordDeleted`). */

const admin: Actor = { id: 'root', roles: ['admin'] };
const withPolicy = (policy: string) =>
  parseDefinition(`
key: complaint
name: Complaint
relatedEntity: Complaint
triggers: [{ on: created }]
${policy}
start: split
activities:
  split: { type: parallel, branches: [review, answer] }
  review: { type: human, title: Review, assignee: { role: support }, next: both }
  answer: { type: wait, until: entity.answered = true, next: both }
  both: { type: join, next: done }
  done: { type: end }
${policy.includes('archive') ? "  archive: { type: automatic, set: { archived: 'true' }, next: gone }\n  gone: { type: end }" : ''}
`);
const deletion = { type: 'CheckWait', entityEventId: 'evt-del', recordDeleted: true } as const;

describe('onRecordDeleted', () => {
  it('given no policy (continue, the default), when the record is deleted, then the instance goes on as it was', () => {
    const run = new Run(withPolicy(''), {});
    const started = run.start();
    expect(started[0]!.data).not.toHaveProperty('onRecordDeleted');
    expect(run.when(deletion)).toEqual([]);
    expect(run.openTasks()).toEqual(['i1.review.1']);
  });

  it('given terminate, when the record is deleted, then the deletion is recorded and the instance terminated, its tasks cancelled', () => {
    const run = new Run(withPolicy('onRecordDeleted: terminate'), {});
    expect(run.start()[0]!.data).toMatchObject({ onRecordDeleted: 'terminate' });
    const events = run.when(deletion);
    expect(events).toEqual([
      { type: 'RecordDeleted', data: { entityEventId: 'evt-del', policy: 'terminate' } },
      { type: 'InstanceTerminated', data: { by: 'system', reason: 'the record was deleted' } },
    ]);
    expect(run.live().status).toBe('terminated');
    expect(run.live().tasks['i1.review.1']!.status).toBe('cancelled');
  });

  it('given a path, when the record is deleted, then every line is left (parallel ones too) and the flow goes to the path', () => {
    const run = new Run(withPolicy('onRecordDeleted: { next: archive }'), {});
    run.start();
    const events = run.when(deletion);
    expect(shape(events)).toEqual([
      'RecordDeleted',
      'ActivityEntered(archive)',
      'VariablesSet(archive)',
      'ActivityEntered(gone)',
      'InstanceCompleted',
    ]);
    expect(run.live().tasks['i1.review.1']!.status).toBe('cancelled');
    expect(run.live().variables).toEqual({ archived: true });
  });

  it('given a path and a suspended instance, then the lines are left at once and the path runs when it is resumed', () => {
    const run = new Run(withPolicy('onRecordDeleted: { next: archive }'), {});
    run.start();
    run.when({ type: 'SuspendInstance' }, admin);
    expect(shape(run.when(deletion))).toEqual(['RecordDeleted']);
    expect(run.live()).toMatchObject({ status: 'suspended', resumeAt: 'archive', tokens: {} });
    expect(shape(run.when({ type: 'ResumeInstance' }, admin))).toEqual([
      'InstanceResumed',
      'ActivityEntered(archive)',
      'VariablesSet(archive)',
      'ActivityEntered(gone)',
      'InstanceCompleted',
    ]);
  });

  it('given an instance that ended, when the record is deleted, then nothing is recorded', () => {
    const run = new Run(withPolicy('onRecordDeleted: terminate'), {});
    run.start();
    run.when({ type: 'TerminateInstance' }, admin);
    expect(run.when(deletion)).toEqual([]);
  });

  it('validates the policy by path', () => {
    const issues = (onRecordDeleted: unknown) => {
      const result = validateDefinition({
        key: 'k',
        name: 'K',
        relatedEntity: 'Order',
        triggers: [{ on: 'created' }],
        start: 'a',
        onRecordDeleted,
        activities: { a: { type: 'human', title: 'T', assignee: { role: 'r' }, next: 'done' }, done: { type: 'end' } },
      });
      return result.ok
        ? (result.definition.onRecordDeleted ?? 'stored as continue')
        : result.issues.map((i) => `${i.path}: ${i.message}`);
    };
    expect(issues('explode')).toEqual(['onRecordDeleted: must be continue, terminate or { next: <activity> }']);
    expect(issues({ next: 'nowhere' })).toEqual(["onRecordDeleted.next: dangling next: 'nowhere' is not an activity"]);
    expect(issues({ next: 'done', also: 1 })).toEqual(['onRecordDeleted.also: unknown key']);
    expect(issues('continue')).toBe('stored as continue');
    expect(issues({ next: 'done' })).toEqual({ next: 'done' });
  });
});
