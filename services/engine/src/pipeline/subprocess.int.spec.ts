import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import {
  decodeInstanceEvent,
  evolveAll,
  streams,
  type EntityEventEnvelope,
  type InstanceEvent,
  type LiveInstance,
} from '@lifeline/process-domain';
import { T0 } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { instanceIdFor } from '../shared/ids';

const silent = pino({ level: 'silent' });

/** An order whose supplier is onboarded by a sub-process on the supplier's own record. */
const order = `
key: order
name: Order
relatedEntity: Order
triggers: [{ on: created }]
start: onboard
activities:
  onboard:
    type: subprocess
    process: supplier-onboarding
    record: { type: Supplier, id: entity.supplierId }
    inputs: { orderNumber: entity.number }
    outputs: { supplierVat: child.vat }
    next: confirm
  confirm: { type: human, title: Confirm the order, assignee: { role: sales }, next: done }
  done: { type: end }
`;
const onboarding = `
key: supplier-onboarding
name: Supplier onboarding
relatedEntity: Supplier
triggers: []
start: collect
activities:
  collect:
    type: human
    title: Collect the supplier's details
    assignee: { userFrom: entity.owner }
    form: [{ name: vat, type: text, required: true }]
    next: keep
  keep: { type: automatic, set: { vat: collect.fields.vat, forOrder: vars.orderNumber }, next: done }
  done: { type: end }
`;

const envelope = (
  id: string,
  entityType: string,
  entityId: string,
  data: Record<string, unknown>,
  kind: EntityEventEnvelope['kind'] = 'created',
): EntityEventEnvelope => ({ id, entityType, entityId, kind, occurredAt: T0, data });
const http = { kind: 'http' as const };
const admin = { id: 'root', roles: ['admin'] };

describe('sub-processes through the engine on a SQLite store', () => {
  let dir: string;
  let engine: EngineRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-subprocess-'));
    engine = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock: new FakeClock(T0), logger: silent, store: SqliteEventStore.open(join(dir, 'events.db')) },
    );
    await engine.start();
    await engine.definitions.publish(onboarding, 'application/yaml', 'root');
    await engine.definitions.publish(order, 'application/yaml', 'root');
    await engine.ingest.record([
      { envelope: envelope('sup-1', 'Supplier', 'S-1', { name: 'ACME', owner: 'olga' }), source: http },
    ]);
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const read = async (instanceId: string): Promise<InstanceEvent[]> =>
    (await engine.store.readStream(streams.instance(instanceId))).map(decodeInstanceEvent);
  const parentId = async (): Promise<string> => {
    const recorded = (await engine.store.readStream('entity-Order-O-1')).find((e) => e.type === 'EntityEventRecorded')!;
    return instanceIdFor('ord-1', 'order', recorded.metadata.at);
  };
  const childOf = async (parent: string): Promise<string> => {
    const started = (await read(parent)).filter((e) => e.type === 'SubprocessStarted').at(-1)!;
    return (started.data as { childInstanceId: string }).childInstanceId;
  };
  const run = (instanceId: string, command: Parameters<EngineRuntime['instances']['execute']>[1], actor = admin) =>
    engine.instances.execute(instanceId, command, actor, {
      commandId: `cmd-${Math.random()}`,
      correlationId: 'c',
      causationId: 'c',
    });
  const stateOf = async (instanceId: string) => evolveAll(await read(instanceId)) as LiveInstance;

  it('given an order, then the child runs on the supplier’s record; completing it sets the parent’s outputs and the parent goes on', async () => {
    await engine.ingest.record([
      { envelope: envelope('ord-1', 'Order', 'O-1', { number: 'PO-7', supplierId: 'S-1' }), source: http },
    ]);
    const parent = await parentId();
    const child = await childOf(parent);
    const childEvents = await read(child);
    expect(childEvents[0]).toMatchObject({
      type: 'InstanceStarted',
      data: {
        definitionKey: 'supplier-onboarding',
        entity: { type: 'Supplier', id: 'S-1' },
        variables: { orderNumber: 'PO-7' },
        cause: { kind: 'parent', instanceId: parent, activityId: 'onboard', visit: 1 },
      },
    });
    // The child's task is the supplier owner's: its assignee came from the supplier's record.
    expect(childEvents.find((e) => e.type === 'TaskCreated')).toMatchObject({ data: { assignee: { user: 'olga' } } });

    await run(
      child,
      { type: 'CompleteTask', taskId: `${child}.collect.1`, fields: { vat: 'NL001' } },
      {
        id: 'olga',
        roles: [],
      },
    );
    const childEnd = (await read(child)).at(-1)!;
    expect(childEnd).toMatchObject({
      type: 'InstanceCompleted',
      data: {
        parent: { instanceId: parent, activityId: 'onboard', visit: 1 },
        entity: { type: 'Supplier', id: 'S-1' },
        variables: { orderNumber: 'PO-7', vat: 'NL001', forOrder: 'PO-7' },
      },
    });
    const parentEvents = (await read(parent)).map((e) => e.type);
    expect(parentEvents.slice(-3)).toEqual(['SubprocessCompleted', 'ActivityEntered', 'TaskCreated']);
    expect((await stateOf(parent)).variables).toEqual({ supplierVat: 'NL001' });
    expect((await stateOf(parent)).tasks[`${parent}.confirm.1`]).toMatchObject({ status: 'open' });
  });

  it('given a child with an incident, then the parent shows it; when the child’s is retried and resolved, the parent’s clears', async () => {
    await engine.ingest.record([
      { envelope: envelope('sup-2', 'Supplier', 'S-2', { name: 'No owner' }), source: http },
      { envelope: envelope('ord-1', 'Order', 'O-1', { number: 'PO-8', supplierId: 'S-2' }), source: http },
    ]);
    const parent = await parentId();
    const child = await childOf(parent);
    const childIncident = Object.values((await stateOf(child)).incidents)[0]!;
    expect(childIncident.code).toBe('TASK.ASSIGNEE_UNRESOLVED');
    const mirrored = Object.values((await stateOf(parent)).incidents);
    expect(mirrored).toEqual([
      expect.objectContaining({
        activityId: 'onboard',
        code: 'SUBPROCESS.INCIDENT',
        child: { instanceId: child, incidentId: childIncident.incidentId },
      }),
    ]);
    await expect(run(parent, { type: 'RetryIncident', incidentId: mirrored[0]!.incidentId })).rejects.toMatchObject({
      code: 'INCIDENT.ON_CHILD',
    });
    await engine.ingest.record([
      {
        envelope: envelope('sup-2-owner', 'Supplier', 'S-2', { name: 'No owner', owner: 'olga' }, 'updated'),
        source: http,
      },
    ]);
    await run(child, { type: 'RetryIncident', incidentId: childIncident.incidentId });
    expect((await stateOf(child)).incidents).toEqual({});
    expect((await stateOf(parent)).incidents).toEqual({});
  });

  it('given the parent terminated, then its running child is terminated too, and the parent gets no incident for it', async () => {
    await engine.ingest.record([
      { envelope: envelope('ord-1', 'Order', 'O-1', { number: 'PO-9', supplierId: 'S-1' }), source: http },
    ]);
    const parent = await parentId();
    const child = await childOf(parent);
    await run(parent, { type: 'TerminateInstance', reason: 'order withdrawn' });
    expect((await read(parent)).slice(-2).map((e) => e.type)).toEqual(['SubprocessCancelled', 'InstanceTerminated']);
    expect((await read(child)).at(-1)).toMatchObject({
      type: 'InstanceTerminated',
      data: { by: 'system', reason: 'the parent was terminated' },
    });
    expect((await stateOf(parent)).incidents).toEqual({});
  });

  it('given a child terminated by an admin, then the parent gets an incident; retrying it starts a new child', async () => {
    await engine.ingest.record([
      { envelope: envelope('ord-1', 'Order', 'O-1', { number: 'PO-10', supplierId: 'S-1' }), source: http },
    ]);
    const parent = await parentId();
    const first = await childOf(parent);
    await run(first, { type: 'TerminateInstance', reason: 'wrong supplier data' });
    const incident = Object.values((await stateOf(parent)).incidents)[0]!;
    expect(incident).toMatchObject({ activityId: 'onboard', code: 'SUBPROCESS.FAILED' });
    expect(incident.message).toContain('SUBPROCESS.TERMINATED');
    await run(parent, { type: 'RetryIncident', incidentId: incident.incidentId });
    const second = await childOf(parent);
    expect(second).not.toBe(first);
    expect((await stateOf(second)).status).toBe('running');
  });

  it('given an unknown definition, then the parent gets an incident naming it, and nothing else starts', async () => {
    await engine.definitions.publish(
      order.replace('process: supplier-onboarding', 'process: no-such-process'),
      'application/yaml',
      'root',
    );
    await engine.ingest.record([
      { envelope: envelope('ord-1', 'Order', 'O-1', { number: 'PO-11', supplierId: 'S-1' }), source: http },
    ]);
    const parent = await parentId();
    expect((await read(parent)).slice(-2)).toMatchObject([
      { type: 'SubprocessFailed', data: { code: 'SUBPROCESS.UNKNOWN_DEFINITION' } },
      { type: 'IncidentRaised', data: { code: 'SUBPROCESS.FAILED', activityId: 'onboard' } },
    ]);
    expect(await read(await childOf(parent))).toEqual([]);
  });

  it('given a definition that calls itself, then ten generations start and the eleventh is an incident, not a flood', async () => {
    await engine.definitions.publish(
      `
key: recursive
name: Recursive
relatedEntity: Order
triggers: [{ on: created }]
start: again
activities:
  again: { type: subprocess, process: recursive, next: done }
  done: { type: end }
`,
      'application/yaml',
      'root',
    );
    await engine.ingest.record([{ envelope: envelope('rec-1', 'Order', 'O-2', {}), source: http }]);
    const all = await engine.store.readAll(0, 100_000);
    const starts = all.filter(
      (e) => e.type === 'InstanceStarted' && (e.data as { definitionKey: string }).definitionKey === 'recursive',
    );
    expect(starts).toHaveLength(11);
    const tooDeep = all.filter(
      (e) => e.type === 'IncidentRaised' && (e.data as { code: string }).code === 'SUBPROCESS.TOO_DEEP',
    );
    expect(tooDeep).toHaveLength(1);
  });
});
