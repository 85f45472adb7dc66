import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/** v1: a claim is reviewed by accounting, then the process ends. */
const V1 = {
  key: 'claim-review',
  name: 'Claim review',
  relatedEntity: 'Claim',
  triggers: [{ on: 'created' }],
  start: 'review',
  activities: {
    review: { type: 'human', title: 'Review the claim', assignee: { role: 'accounting' }, next: 'done' },
    done: { type: 'end' },
  },
};
/** v2: the review is renamed `assess`, and an approved claim is marked paid before the end. */
const V2 = {
  ...V1,
  start: 'assess',
  activities: {
    assess: { type: 'human', title: 'Assess the claim', assignee: { role: 'accounting' }, next: 'pay' },
    pay: { type: 'automatic', set: { paid: 'true' }, next: 'done' },
    done: { type: 'end' },
  },
};
const COUNT = 500;
const BATCH = 100;
const claim = (n: number) => ({
  id: `claim-evt-${n}`,
  entityType: 'Claim',
  entityId: `C-${n}`,
  kind: 'created',
  occurredAt: '2026-11-21T09:00:00Z',
  data: { amount: n },
});
const body = (extra: Record<string, unknown> = {}) => ({
  fromVersion: 1,
  toVersion: 2,
  mapping: { review: 'assess' },
  dryRun: true,
  ...extra,
});

interface CannotMove {
  instanceId: string;
  code: string;
  reasons: { activityId: string; problem: string }[];
}

describe('POST /definitions/:key/migrate: 500 running instances of v1 moved to v2 over HTTP', () => {
  let lifeline: RunningLifeline;
  let ids: string[];

  beforeAll(async () => {
    lifeline = await startLifeline({ demo: false });
    expect((await lifeline.call('admin', 'POST', '/definitions', V1)).status).toBe(201);
    for (let from = 0; from < COUNT; from += BATCH) {
      const batch = Array.from({ length: BATCH }, (_, i) => claim(from + i));
      expect((await lifeline.call('app', 'POST', '/entity-events', batch)).status).toBe(202);
    }
    expect((await lifeline.call('admin', 'POST', '/definitions', V2)).status).toBe(201);
    await lifeline.settle();
    const listed = await lifeline.call('admin', 'GET', '/instances?definition=claim-review&limit=500');
    ids = (listed.body.items as { id: string }[]).map((i) => i.id).sort();
    expect(ids).toHaveLength(COUNT);
  }, 120_000);
  afterAll(async () => {
    await lifeline.stop();
  });

  const migrate = (user: string, extra: Record<string, unknown> = {}) =>
    lifeline.call(user, 'POST', '/definitions/claim-review/migrate', body(extra));

  it('a dry run lists all 500 as movable and moves none', async () => {
    const head = await lifeline.engine.store.headPosition();
    const dry = await migrate('admin');
    expect(dry.status).toBe(200);
    expect(dry.body.dryRun).toBe(true);
    expect([...(dry.body.movable as string[])].sort()).toEqual(ids);
    expect(dry.body.cannotMove).toEqual([]);
    expect(await lifeline.engine.store.headPosition()).toBe(head);
  });

  it('a mapping to an unknown activity, or of a task to an automatic activity: every instance cannot move, with the reason', async () => {
    const unknown = await migrate('admin', { mapping: { review: 'nowhere' } });
    expect(unknown.status).toBe(200);
    expect(unknown.body.movable).toEqual([]);
    const reasons = new Set((unknown.body.cannotMove as CannotMove[]).map((c) => `${c.code}:${c.reasons[0]!.problem}`));
    expect(unknown.body.cannotMove).toHaveLength(COUNT);
    expect([...reasons]).toEqual(['MIGRATION.NOT_POSSIBLE:UNKNOWN_ACTIVITY']);

    const automatic = await migrate('admin', { mapping: { review: 'pay' }, dryRun: false });
    expect(automatic.body.moved).toEqual([]);
    expect((automatic.body.cannotMove as CannotMove[])[0]).toMatchObject({
      code: 'MIGRATION.NOT_POSSIBLE',
      reasons: [
        {
          activityId: 'review',
          to: 'pay',
          problem: 'TYPE_MISMATCH',
          message: 'a human activity cannot land on pay (automatic)',
        },
      ],
    });
    const instance = await lifeline.call('admin', 'GET', `/instances/${ids[0]}`);
    expect(instance.body).toMatchObject({ definitionVersion: 1, currentActivity: 'review' });
  });

  it('refuses a non-admin (403), a bad body (400) and an unknown version (404)', async () => {
    const head = await lifeline.engine.store.headPosition();
    const answers: [number, string][] = [];
    const record = (answer: { status: number; body: { error: { code: string } } }) =>
      answers.push([answer.status, answer.body.error.code]);
    record(await migrate('alice', { dryRun: false }));
    record(await lifeline.call('admin', 'POST', '/definitions/claim-review/migrate', { fromVersion: 1, toVersion: 2 }));
    record(await migrate('admin', { mapping: { review: 42 } }));
    record(await migrate('admin', { mapping: { 'review.x': 'assess' } }));
    record(await migrate('admin', { toVersion: 1 }));
    record(await migrate('admin', { toVersion: 9 }));
    record(await lifeline.call('admin', 'POST', '/definitions/no-such-process/migrate', body()));
    expect(answers).toEqual([
      [403, 'AUTH.FORBIDDEN'],
      [400, 'REQUEST.INVALID'],
      [400, 'MIGRATION.INVALID_MAPPING'],
      [400, 'MIGRATION.INVALID_MAPPING'],
      [400, 'MIGRATION.SAME_VERSION'],
      [404, 'DEFINITION.NOT_FOUND'],
      [404, 'DEFINITION.NOT_FOUND'],
    ]);
    expect(await lifeline.engine.store.headPosition()).toBe(head);
  });

  it('two admins migrate at once: each instance moves once, and whoever came second sees it as already migrated', async () => {
    const second = lifeline.token('root', ['admin']);
    const [a, b] = await Promise.all([migrate('admin', { dryRun: false }), migrate(second, { dryRun: false })]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const movedA = a.body.moved as string[];
    const movedB = b.body.moved as string[];
    expect([...movedA, ...movedB].sort()).toEqual(ids);
    for (const [answer, other] of [
      [a, movedB],
      [b, movedA],
    ] as const) {
      const refused = answer.body.cannotMove as CannotMove[];
      expect(new Set(refused.map((c) => c.code))).toEqual(
        refused.length > 0 ? new Set(['MIGRATION.ALREADY_ON_VERSION']) : new Set(),
      );
      for (const c of refused) expect(other).toContain(c.instanceId);
    }
    await lifeline.settle();

    // Each instance's history shows one InstanceMigrated, with who did it.
    for (const id of ids) {
      const history = await lifeline.call('admin', 'GET', `/instances/${id}/history`);
      const migrated = (history.body.items as { type: string; actor: string; data: { by: string } }[]).filter(
        (e) => e.type === 'InstanceMigrated',
      );
      expect(migrated).toHaveLength(1);
      const who = movedA.includes(id) ? 'admin' : 'root';
      expect(migrated[0]).toMatchObject({
        actor: who,
        data: { fromVersion: 1, toVersion: 2, mapping: { review: 'assess' }, by: who },
      });
    }
    const again = await migrate('admin', { dryRun: false });
    expect(again.body).toEqual({ dryRun: false, moved: [], cannotMove: [] });
  }, 120_000);

  it('after the migration the read models show v2, the task keeps its id, and completing it follows v2', async () => {
    const id = ids[7]!;
    const instance = await lifeline.call('admin', 'GET', `/instances/${id}`);
    expect(instance.body).toMatchObject({ definitionVersion: 2, currentActivity: 'assess', status: 'running' });
    const tasks = await lifeline.call('alice', 'GET', `/tasks?limit=500`);
    const task = (tasks.body.items as { id: string; instanceId: string; activityId: string }[]).find(
      (t) => t.instanceId === id,
    )!;
    expect(task).toMatchObject({ id: `${id}.review.1`, activityId: 'assess' });

    const done = await lifeline.call('alice', 'POST', `/tasks/${task.id}/complete`, {});
    expect(done.status).toBe(200);
    await lifeline.settle();
    const after = await lifeline.call('admin', 'GET', `/instances/${id}`);
    expect(after.body).toMatchObject({ status: 'completed', variables: { paid: true }, currentActivity: 'done' });
    const history = await lifeline.call('admin', 'GET', `/instances/${id}/history`);
    expect((history.body.items as { type: string }[]).map((e) => e.type).slice(-6)).toEqual([
      'TaskClaimed',
      'TaskCompleted',
      'ActivityEntered',
      'VariablesSet',
      'ActivityEntered',
      'InstanceCompleted',
    ]);
    const by = (history.body.items as { type: string; actor: string }[]).find(
      (e) => e.type === 'InstanceMigrated',
    )!.actor;
    const timeline = await lifeline.call('admin', 'GET', `/entities/Claim/${instance.body.entity.id}/timeline`);
    expect((timeline.body.items as { summary: string }[]).map((e) => e.summary)).toContain(
      `Process migrated from v1 to v2 by ${by}: review → assess`,
    );
  });
});
