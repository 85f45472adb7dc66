import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import {
  decodeDefinitionEvent,
  decodeInstanceEvent,
  DefinitionInvalid,
  streams,
  type ValidationIssue,
} from '@lifeline/process-domain';
import { T0 } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { instanceIdFor } from '../shared/ids';

const silent = pino({ level: 'silent' });
const NS =
  'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" ' +
  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';

/** Drawn as Camunda Modeler would: a message start, a user task due in two days, a decision on the amount. */
const approval = (condition = '=entity.amount &gt; 1000') => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="Definitions_1">
  <bpmn:message id="Message_created" name="Invoice.created" />
  <bpmn:process id="Invoice_approval" name="Invoice approval" isExecutable="true">
    <bpmn:startEvent id="Created"><bpmn:messageEventDefinition messageRef="Message_created" /></bpmn:startEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="Created" targetRef="Amount" />
    <bpmn:exclusiveGateway id="Amount" default="Flow_small" />
    <bpmn:sequenceFlow id="Flow_big" sourceRef="Amount" targetRef="Approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_small" sourceRef="Amount" targetRef="Done" />
    <bpmn:userTask id="Approve" name="Approve the invoice">
      <bpmn:extensionElements>
        <zeebe:assignmentDefinition candidateGroups="accounting" />
        <zeebe:taskSchedule dueDate="=now() + duration(&quot;P2D&quot;)" />
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Approve" targetRef="Done" />
    <bpmn:endEvent id="Done" />
  </bpmn:process>
</bpmn:definitions>`;

const issuesOf = (work: Promise<unknown>): Promise<ValidationIssue[]> =>
  work.then(
    () => [],
    (error: unknown) => {
      if (error instanceof DefinitionInvalid) return error.issues;
      throw error;
    },
  );

/** Publishing BPMN through the engine on the SQLite store: the import, validation, the stored source, a start. */
describe('publishing a BPMN file (engine, SQLite store, FakeClock)', () => {
  let dir: string;
  let engine: EngineRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-bpmn-publish-'));
    engine = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock: new FakeClock(T0), logger: silent, store: SqliteEventStore.open(join(dir, 'events.db')) },
    );
    await engine.start();
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('given a Camunda 8 drawing, when published as application/bpmn+xml, then a version keeps the XML and an entity event starts it', async () => {
    const xml = approval();
    const published = await engine.definitions.publish(xml, 'application/bpmn+xml', 'root', undefined, {
      relatedEntity: 'Invoice',
    });
    expect(published).toMatchObject({ key: 'invoice-approval', version: 1, enabled: true, changed: true });
    const [event] = (await engine.store.readStream(streams.definition('invoice-approval'))).map(decodeDefinitionEvent);
    expect(event).toMatchObject({ type: 'DefinitionPublished', data: { version: 1, source: xml } });
    expect(event.type === 'DefinitionPublished' && event.data.definition.activities).toEqual({
      Amount: { type: 'decision', branches: [{ when: 'entity.amount > 1000', next: 'Approve' }], otherwise: 'Done' },
      Approve: {
        type: 'human',
        title: 'Approve the invoice',
        assignee: { role: 'accounting' },
        dueIn: 'P2D',
        next: 'Done',
      },
      Done: { type: 'end' },
    });

    await engine.ingest.record([
      {
        envelope: {
          id: 'evt-1',
          entityType: 'Invoice',
          entityId: 'INV-1',
          kind: 'created',
          occurredAt: T0,
          data: { amount: 5000 },
        },
        source: { kind: 'http' },
      },
    ]);
    const recorded = (await engine.store.readStream('entity-Invoice-INV-1')).find(
      (e) => e.type === 'EntityEventRecorded',
    );
    const instanceId = instanceIdFor('evt-1', 'invoice-approval', recorded!.metadata.at);
    const events = (await engine.store.readStream(streams.instance(instanceId))).map(decodeInstanceEvent);
    expect(events.map((e) => e.type)).toEqual([
      'InstanceStarted',
      'ActivityEntered',
      'DecisionTaken',
      'ActivityEntered',
      'TaskCreated',
    ]);
    expect(events[4]).toMatchObject({ data: { dueAt: '2026-11-23T10:00:00.000Z' } });
  });

  it('given bad FEEL on a flow, when published (as text/plain), then DefinitionInvalid names the flow and nothing is written', async () => {
    const head = await engine.store.headPosition();
    const issues = await issuesOf(
      engine.definitions.publish(approval('=entity.amount &gt;'), 'text/plain', 'root', undefined, {
        relatedEntity: 'Invoice',
      }),
    );
    expect(issues).toEqual([
      {
        path: 'activities.Amount.branches[0].when',
        message: expect.stringContaining('invalid FEEL'),
        element: { id: 'Flow_big', type: 'bpmn:SequenceFlow' },
      },
    ]);
    expect(await engine.store.headPosition()).toBe(head);
  });

  it('given no record type, when published, then BPMN.NO_RELATED_ENTITY on the process', async () => {
    const issues = await issuesOf(engine.definitions.publish(approval(), 'application/xml', 'root'));
    expect(issues.map((i) => [i.code, i.element])).toEqual([
      ['BPMN.NO_RELATED_ENTITY', { id: 'Invoice_approval', name: 'Invoice approval', type: 'bpmn:Process' }],
    ]);
  });
});
