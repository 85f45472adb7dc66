import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import { EngineRuntime, FakeClock, loadConfig } from '@lifeline/engine';
import { T0 } from '@lifeline/testing';
import { createLifelineApp, type LifelineApp } from './lifeline-app';

const silent = pino({ level: 'silent' });

/** A review, then a decision on the record's amount: a big order is approved by hand, a small one ends. */
const ORDER_CHECK = `
key: order-check
name: Order check
relatedEntity: Order
triggers: [{ on: created }]
start: review
activities:
  review: { type: human, title: Review the order, assignee: { role: ops }, next: size }
  size: { type: decision, branches: [{ when: entity.amount > 500, next: approve }], otherwise: done }
  approve: { type: human, title: Approve the order, assignee: { role: ops }, next: done }
  done: { type: end }
`;

const order = (id: string, kind: 'created' | 'updated', amount: number) => ({
  envelope: {
    id,
    entityType: 'Order',
    entityId: 'O-1',
    kind,
    occurredAt: T0,
    data: { number: 'O-1', amount },
    ...(kind === 'updated' ? { changed: ['amount'] } : {}),
  },
  source: { kind: 'http' as const },
});

describe('an API replica (no reactor) beside an engine process, on one log', () => {
  let dir: string;
  let writer: EngineRuntime;
  let replica: LifelineApp;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-replica-'));
    const file = join(dir, 'events.db');
    const clock = new FakeClock(T0);
    // The other process: the engine, recording entity events and starting instances.
    writer = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: join(dir, 'engine'), LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent, store: SqliteEventStore.open(file) },
    );
    await writer.start();
    await writer.definitions.publish(ORDER_CHECK, 'application/yaml', 'admin');
    await writer.ingest.record([order('o-created', 'created', 100)]);
    // The replica polls the shared file once a minute: what the writer appends next, its read models do not have yet.
    replica = await createLifelineApp(
      {
        ...loadConfig(
          { LIFELINE_DATA_DIR: join(dir, 'api'), LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' },
          { engine: false, api: true },
        ),
        jwtSecret: 'replica-int-secret-0123456789abcdef',
      },
      { clock, store: SqliteEventStore.open(file, { pollIntervalMs: 60_000 }), listen: false },
    );
  });

  afterEach(async () => {
    await replica.close();
    await writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a task completed through the replica decides on the record as the log has it, though its read models lag', async () => {
    const created = (await writer.store.readAll(0, 1000, ['instance-'])).find((e) => e.type === 'TaskCreated')!;
    const { taskId } = created.data as { taskId: string };
    const instanceId = created.streamId.slice('instance-'.length);
    const updated = await writer.ingest.record([order('o-bigger', 'updated', 1200)]);
    expect(replica.readModels.position()).toBeLessThan(updated.position);

    await replica.engine.instances.execute(
      instanceId,
      { type: 'CompleteTask', taskId },
      { id: 'olga', roles: ['ops'] },
      { commandId: 'complete-review', correlationId: 'c', causationId: 'c' },
    );

    const history = await writer.store.readStream(created.streamId);
    const decided = history.find((e) => e.type === 'DecisionTaken')!;
    expect(decided.data).toMatchObject({ activityId: 'size', next: 'approve' });
    expect(history.at(-1)).toMatchObject({ type: 'TaskCreated', data: { activityId: 'approve' } });
  });
});
