import { LaunchInstanceCommand } from '../engine.commands';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import { decodeInstanceEvent, streams, type Actor, type DomainError } from '@lifeline/process-domain';
import { T0 } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';

const silent = pino({ level: 'silent' });
const DEFINITION = {
  key: 'invoice-query',
  name: 'Invoice query',
  relatedEntity: 'Invoice',
  startableBy: ['sales'],
  start: 'answer',
  activities: {
    answer: { type: 'human', title: 'Answer the query', assignee: { role: 'sales' }, next: 'done' },
    done: { type: 'end' },
  },
};
const sam: Actor = { id: 'sam', roles: ['sales'] };
const fred: Actor = { id: 'fred', roles: ['finance'] };
const origin = (n: number) => ({ commandId: `launch-${n}`, correlationId: `launch-${n}`, causationId: `launch-${n}` });
const instanceId = (n: number) => `f0000000-0000-4000-8000-00000000000${n}`;
const request = (n: number) => ({
  instanceId: instanceId(n),
  definitionKey: 'invoice-query',
  entity: { type: 'Invoice', id: 'INV-1' },
  variables: {},
});
const codeOf = async (work: Promise<unknown>): Promise<string | undefined> =>
  work.then(
    () => undefined,
    (error: DomainError) => error.code,
  );

/** Starts by hand on the SQLite store: the engine decides who may, and a refusal writes nothing. */
describe('starting a process by hand (engine, SQLite store, FakeClock)', () => {
  let dir: string;
  let engine: EngineRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-manual-start-'));
    engine = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock: new FakeClock(T0), logger: silent, store: SqliteEventStore.open(join(dir, 'events.db')) },
    );
    await engine.start();
    await engine.definitions.publish(JSON.stringify(DEFINITION), 'application/json', 'root');
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const eventsOf = async (n: number) =>
    (await engine.store.readStream(streams.instance(instanceId(n)))).map((e) => ({
      ...decodeInstanceEvent(e),
      actor: e.metadata.actor,
    }));

  it('given a sales member, when they launch it, then it starts on the latest version with a cause naming them', async () => {
    const result = await engine.commands.launchInstance.execute(new LaunchInstanceCommand(request(1), sam, origin(1)));
    expect(result.events.map((e) => e.type)).toEqual(['InstanceStarted', 'ActivityEntered', 'TaskCreated']);
    const [started] = await eventsOf(1);
    expect(started).toMatchObject({
      type: 'InstanceStarted',
      actor: 'sam',
      data: { definitionKey: 'invoice-query', definitionVersion: 1, cause: { kind: 'api', by: 'sam' } },
    });
  });

  it('given a finance member, when they launch it either way, then INSTANCE.START_FORBIDDEN and nothing is written', async () => {
    const head = await engine.store.headPosition();
    expect(
      await codeOf(engine.commands.launchInstance.execute(new LaunchInstanceCommand(request(2), fred, origin(2)))),
    ).toBe('INSTANCE.START_FORBIDDEN');
    // The same start handed over as a plain instance command meets the same rule.
    const command = {
      type: 'StartInstance' as const,
      ...request(3),
      definitionVersion: 1,
      cause: { kind: 'api' as const, by: 'sam' },
    };
    expect(await codeOf(engine.instances.execute(instanceId(3), command, fred, origin(3)))).toBe(
      'INSTANCE.START_FORBIDDEN',
    );
    expect(await engine.store.headPosition()).toBe(head);
    expect([await eventsOf(2), await eventsOf(3)]).toEqual([[], []]);
  });

  it('given a deactivated definition, when a sales member or an admin launches it, then DEFINITION.DISABLED and nothing is written', async () => {
    await engine.definitions.execute('invoice-query', { type: 'DeactivateDefinition', key: 'invoice-query' }, 'root');
    const head = await engine.store.headPosition();
    expect(
      await codeOf(engine.commands.launchInstance.execute(new LaunchInstanceCommand(request(4), sam, origin(4)))),
    ).toBe('DEFINITION.DISABLED');
    const admin: Actor = { id: 'root', roles: ['admin'] };
    expect(
      await codeOf(engine.commands.launchInstance.execute(new LaunchInstanceCommand(request(5), admin, origin(5)))),
    ).toBe('DEFINITION.DISABLED');
    expect(await engine.store.headPosition()).toBe(head);
  });
});
