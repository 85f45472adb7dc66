import { startLifeline, type RunningLifeline } from '@lifeline/testing';

const ATTEMPTS = 50;
const envelope = (
  id: string,
  entityType: string,
  entityId: string,
  data: Record<string, unknown>,
  kind = 'created',
) => ({
  id,
  entityType,
  entityId,
  kind,
  occurredAt: '2026-11-21T10:00:00Z',
  data,
});

describe('races: concurrent actions on one task, concurrent events for one record', () => {
  let lifeline: RunningLifeline;
  beforeAll(async () => {
    lifeline = await startLifeline();
  }, 60_000);
  afterAll(async () => {
    await lifeline?.stop();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers of any shape
  const statuses = (answers: { status: number; body: any }[]) => {
    const counts: Record<string, number> = {};
    for (const answer of answers) {
      const key = answer.status === 200 ? '200' : `${answer.status} ${answer.body?.error?.code}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  it(`${ATTEMPTS} concurrent claims of one role task by different role members: exactly one wins, the rest get 409`, async () => {
    await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('race-inv-1', 'Invoice', 'INV-RACE', { amount: 50, ownerId: 'alice', status: 'New' }),
    );
    await lifeline.settle();
    const members = Array.from({ length: ATTEMPTS }, (_, i) => lifeline.token(`clerk-${i}`, ['accounting']));
    const open = (await lifeline.call(members[0], 'GET', '/tasks')).body.items as {
      id: string;
      entity: { id: string };
    }[];
    const task = open.find((item) => item.entity.id === 'INV-RACE')!;
    const answers = await Promise.all(members.map((token) => lifeline.call(token, 'POST', `/tasks/${task.id}/claim`)));
    const counts = statuses(answers);
    expect(counts['200']).toBe(1);
    expect(
      Object.keys(counts)
        .filter((key) => key !== '200')
        .every((key) => key.startsWith('409 ')),
    ).toBe(true);
    const winner = members[answers.findIndex((answer) => answer.status === 200)];
    await lifeline.settle();
    const claimed = (
      await lifeline.engine.store.readStream(
        `instance-${(await lifeline.call('admin', 'GET', `/tasks/${task.id}`)).body.instanceId}`,
      )
    ).filter((event) => event.type === 'TaskClaimed');
    expect(claimed).toHaveLength(1);
    expect((await lifeline.call(winner, 'GET', `/tasks/${task.id}`)).body.assignee).toMatch(/^clerk-/);
  });

  it(`${ATTEMPTS} concurrent completions of one task: exactly one succeeds, the rest get 409`, async () => {
    await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('race-c-1', 'Complaint', 'C-RACE', { ownerId: 'carol' }),
    );
    await lifeline.settle();
    const open = (await lifeline.call('carol', 'GET', '/tasks')).body.items as { id: string; entity: { id: string } }[];
    const task = open.find((item) => item.entity.id === 'C-RACE')!;
    const body = { result: 'Handle', answers: ['Billing'], fields: { summary: 'race' } };
    const answers = await Promise.all(
      Array.from({ length: ATTEMPTS }, () => lifeline.call('carol', 'POST', `/tasks/${task.id}/complete`, body)),
    );
    const counts = statuses(answers);
    expect(counts['200']).toBe(1);
    expect(
      Object.keys(counts)
        .filter((key) => key !== '200')
        .every((key) => key.startsWith('409 ')),
    ).toBe(true);
    await lifeline.settle();
    const instanceId = (await lifeline.call('admin', 'GET', `/tasks/${task.id}`)).body.instanceId;
    const completed = (await lifeline.engine.store.readStream(`instance-${instanceId}`)).filter(
      (event) => event.type === 'TaskCompleted',
    );
    expect(completed).toHaveLength(1);
  });

  it('concurrent updates of one record: every consumer sees them in the order the store recorded them', async () => {
    await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('order-0', 'Invoice', 'INV-ORDER', { amount: 1, ownerId: 'alice', status: 'New', seq: 0 }),
    );
    await lifeline.settle();
    const updates = Array.from({ length: 30 }, (_, i) =>
      envelope(
        `order-${i + 1}`,
        'Invoice',
        'INV-ORDER',
        { amount: 1, ownerId: 'alice', status: `S${i + 1}`, seq: i + 1 },
        'updated',
      ),
    );
    const answers = await Promise.all(updates.map((update) => lifeline.call('app', 'POST', '/entity-events', update)));
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    await lifeline.settle();
    const recorded = (await lifeline.engine.store.readStream('entity-Invoice-INV-ORDER'))
      .filter((event) => event.type === 'EntityEventRecorded')
      .map((event) => (event.data as { envelope: { id: string } }).envelope.id);
    expect(recorded).toHaveLength(31);
    const timeline = (await lifeline.call('admin', 'GET', '/entities/Invoice/INV-ORDER/timeline')).body;
    const timelineIds = JSON.stringify(timeline).match(/order-\d+/g) ?? [];
    // The timeline lists what it shows in the store's order: no id appears before one the store recorded earlier.
    const seen = [...new Set(timelineIds)];
    const orderInStore = recorded.filter((id) => seen.includes(id));
    expect(seen.length).toBeGreaterThan(0);
    expect(
      JSON.stringify(seen) === JSON.stringify(orderInStore) ||
        JSON.stringify([...seen].reverse()) === JSON.stringify(orderInStore),
    ).toBe(true);
  });
});
