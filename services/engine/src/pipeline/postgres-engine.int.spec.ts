import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { PostgresEventStore, type StoredEvent } from '@lifeline/event-store';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '@lifeline/event-store/testing';
import type { EntityEventEnvelope } from '@lifeline/process-domain';
import { invoiceApproval, T0, DAY } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';

const silent = pino({ level: 'silent' });

const invoice = (id: string, data: Record<string, unknown>): EntityEventEnvelope => ({
  id,
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind: 'created',
  occurredAt: T0,
  data,
});

/** The engine on PostgreSQL, opened from its configuration: atomic units, but no SQLite sidecar for the reactor. */
describePostgres('the engine on the PostgreSQL event store (LIFELINE_EVENT_STORE=postgres)', (url) => {
  const schema = uniqueTestSchema('engine');
  let dir: string;
  let clock: FakeClock;
  let engine: EngineRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-postgres-engine-'));
    clock = new FakeClock(T0);
    engine = await EngineRuntime.create(
      loadConfig({
        LIFELINE_DATA_DIR: dir,
        LIFELINE_TIMER_TICK_MS: '0',
        LOG_LEVEL: 'silent',
        LIFELINE_EVENT_STORE: 'postgres',
        LIFELINE_POSTGRES_URL: url,
        LIFELINE_POSTGRES_SCHEMA: schema,
      }),
      { clock, logger: silent },
    );
    await engine.start();
    await engine.definitions.publish(JSON.stringify(invoiceApproval()), 'application/json', 'root');
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
    await dropTestSchema(url, schema);
  });

  const settle = async (): Promise<number> => {
    for (;;) {
      const head = await engine.store.headPosition();
      expect(await engine.reactions.caughtUpTo(head, 10_000)).toBe(true);
      if ((await engine.store.headPosition()) === head) return head;
    }
  };

  it('given an entity event, then the subscription-fed reactor starts the instance, and a completed task and a due timer finish it', async () => {
    expect(engine.store).toBeInstanceOf(PostgresEventStore);
    expect(engine.reactions.inline).toBe(false);
    const committed: StoredEvent[] = [];
    engine.store.onCommitted((events) => committed.push(...events));
    const published = await engine.store.headPosition();

    await engine.ingest.record([
      { envelope: invoice('evt-1', { amount: 10, ownerId: 'alice' }), source: { kind: 'http' } },
    ]);
    await settle();
    const all = await engine.store.readAll(0, 1_000);
    const task = all.find((e) => e.type === 'TaskCreated')!;
    expect(all.filter((e) => e.type === 'InstanceStarted')).toHaveLength(1);
    // The read models are fed after each commit, with the positions the log has.
    expect(committed.map((e) => e.position)).toEqual(all.filter((e) => e.position > published).map((e) => e.position));

    const taskId = (task.data as { taskId: string }).taskId;
    await engine.instances.execute(
      taskId.split('.')[0]!,
      { type: 'CompleteTask', taskId, result: 'Approve' },
      { id: 'bob', roles: ['accounting'] },
      { commandId: 'complete-1', correlationId: 'c', causationId: 'c' },
    );
    await settle();
    clock.advance(31 * DAY);
    await engine.reactions.tick();
    await engine.reactions.tick();
    await settle();
    const events = await engine.store.readStream(task.streamId);
    expect(events.filter((e) => e.type === 'WaitTimedOut')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('InstanceCompleted');
  });
});
