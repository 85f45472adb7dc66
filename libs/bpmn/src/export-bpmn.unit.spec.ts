import type { ModdleElement, ParseResult } from 'bpmn-moddle';
import { evaluateCondition, parseDefinition } from '@lifeline/process-domain';
import { exportBpmn } from './export-bpmn';
import { createModdle } from './moddle';
import { allDefinitions, type NamedDefinition } from './testing/all-definitions';

const ALL = allDefinitions();
const FLOW_NODE =
  /^bpmn:(StartEvent|EndEvent|IntermediateCatchEvent|IntermediateThrowEvent|BoundaryEvent|\w*Task|Task|CallActivity|\w+Gateway)$/;

const exported = new Map<string, { xml: string; parsed: ParseResult }>();
async function exportOf(named: NamedDefinition) {
  let found = exported.get(named.name);
  if (!found) {
    const xml = await exportBpmn(named.definition);
    found = { xml, parsed: await createModdle().fromXML(xml) };
    exported.set(named.name, found);
  }
  return found;
}

const processOf = (parsed: ParseResult) =>
  (parsed.rootElement.rootElements as ModdleElement[]).find((e) => e.$type === 'bpmn:Process') as ModdleElement;
const flowElements = (parsed: ParseResult) => processOf(parsed).flowElements as ModdleElement[];
const element = (parsed: ParseResult, id: string) => {
  const found = parsed.elementsById[id];
  if (!found) throw new Error(`no element ${id}`);
  return found;
};
const extension = (e: ModdleElement, type: string) =>
  ((e.extensionElements as ModdleElement | undefined)?.values as ModdleElement[] | undefined)?.find(
    (v) => v.$type === type,
  );
const plain = (e: ModdleElement | undefined) =>
  e === undefined ? undefined : Object.fromEntries(Object.entries(e).filter(([key]) => !key.startsWith('$')));
const outgoing = (parsed: ParseResult, id: string) =>
  flowElements(parsed).filter((f) => f.$type === 'bpmn:SequenceFlow' && (f.sourceRef as ModdleElement).id === id);
const byName = (name: string) => ALL.find((d) => d.name === name) as NamedDefinition;

describe('allDefinitions', () => {
  it('collects the README, demo, fixture, read-model and spec definitions and those written for the export', () => {
    const names = ALL.map((d) => d.name);
    expect(names.filter((n) => n.startsWith('README block')).length).toBeGreaterThanOrEqual(3);
    expect(names).toEqual(expect.arrayContaining(['demo complaint-handling.yaml', 'fixture invoice-approval']));
    expect(names.filter((n) => n.includes('.unit.spec.ts:')).length).toBeGreaterThanOrEqual(10);
    expect(names.filter((n) => n.includes('.int.spec.ts:')).length).toBeGreaterThanOrEqual(3);
    const types = new Set(ALL.flatMap((d) => Object.values(d.definition.activities).map((a) => a.type)));
    expect([...types].sort()).toEqual(
      [
        'automatic',
        'decision',
        'end',
        'human',
        'inclusive',
        'join',
        'parallel',
        'service',
        'subprocess',
        'wait',
      ].sort(),
    );
  });
});

describe.each(ALL.map((d) => [d.name, d] as const))('exportBpmn: %s', (_name, named) => {
  it('parses back without warnings, one executable process with every activity by its id', async () => {
    const { parsed } = await exportOf(named);
    expect(parsed.warnings.map((w) => w.message)).toEqual([]);
    const processes = (parsed.rootElement.rootElements as ModdleElement[]).filter((e) => e.$type === 'bpmn:Process');
    expect(processes).toHaveLength(1);
    expect(processes[0].isExecutable).toBe(true);
    expect(processes[0].name).toBe(named.definition.name);
    for (const id of Object.keys(named.definition.activities)) expect(parsed.elementsById[id]).toBeDefined();
    const generated = flowElements(parsed)
      .map((e) => e.id as string)
      .filter((id) => !(id in named.definition.activities));
    for (const id of generated) expect(id).toContain('-');
  });

  it('has a shape for every flow node and an edge for every flow; no two shapes overlap; boundaries sit on their task', async () => {
    const { parsed } = await exportOf(named);
    const plane = (parsed.rootElement.diagrams as ModdleElement[])[0].plane as ModdleElement;
    const diagram = plane.planeElement as ModdleElement[];
    const shapes = new Map<string, { x: number; y: number; width: number; height: number }>();
    const edges = new Map<string, { x: number; y: number }[]>();
    for (const d of diagram) {
      const id = (d.bpmnElement as ModdleElement).id as string;
      if (d.$type === 'bpmndi:BPMNShape') shapes.set(id, d.bounds as never);
      else edges.set(id, d.waypoint as never);
    }
    for (const e of flowElements(parsed)) {
      if (e.$type === 'bpmn:SequenceFlow') expect(edges.get(e.id as string)?.length).toBeGreaterThanOrEqual(2);
      else {
        expect(e.$type).toMatch(FLOW_NODE);
        expect(shapes.has(e.id as string)).toBe(true);
      }
    }
    const ids = [...shapes.keys()];
    for (const [i, a] of ids.entries()) {
      for (const b of ids.slice(i + 1)) {
        const host = (id: string) => (element(parsed, id).attachedToRef as ModdleElement | undefined)?.id;
        if (host(a) === b || host(b) === a) continue;
        const p = shapes.get(a)!;
        const q = shapes.get(b)!;
        const overlap = p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height;
        if (overlap) throw new Error(`${a} overlaps ${b}`);
      }
    }
    for (const e of flowElements(parsed).filter((f) => f.$type === 'bpmn:BoundaryEvent')) {
      const b = shapes.get(e.id as string)!;
      const t = shapes.get((e.attachedToRef as ModdleElement).id as string)!;
      expect(b.y + b.height / 2).toBe(t.y + t.height);
      expect(b.x).toBeGreaterThanOrEqual(t.x);
      expect(b.x + b.width).toBeLessThanOrEqual(t.x + t.width);
    }
  });

  it('is deterministic: the same definition gives the same text', async () => {
    const { xml } = await exportOf(named);
    expect(await exportBpmn(structuredClone(named.definition))).toBe(xml);
  });
});

describe('exportBpmn: the mapping', () => {
  it('writes a user task with its assignee, due date, embedded form, Lifeline task, documentation and result flows', async () => {
    const { parsed } = await exportOf(byName('everything at once'));
    const intake = element(parsed, 'intake');
    expect(intake.$type).toBe('bpmn:UserTask');
    expect(intake.name).toBe('Take the case "in"');
    expect((intake.documentation as ModdleElement[])[0].text).toBe('Read it.\nThen decide & say why <briefly>.');
    expect(plain(extension(intake, 'zeebe:AssignmentDefinition'))).toEqual({ assignee: '=entity.ownerId' });
    expect(plain(extension(intake, 'zeebe:TaskSchedule'))).toEqual({ dueDate: '=now() + duration("P2DT4H")' });
    const task = extension(intake, 'lifeline:Task')!;
    expect([task.hint, task.completeWhen, task.dueIn]).toEqual([
      'Quotes " and backslashes \\ are fine',
      undefined,
      'P2DT4H',
    ]);
    expect((task.results as ModdleElement[]).map((r) => r.name)).toEqual([
      'Go on',
      'Say "no"',
      'back\\slash',
      'two\nlines',
    ]);
    expect(plain(extension(intake, 'zeebe:FormDefinition'))).toEqual({ formKey: 'camunda-forms:bpmn:intake-form' });
    const form = (extension(processOf(parsed), 'zeebe:UserTaskForm') as ModdleElement) ?? undefined;
    expect(form.id).toBe('intake-form');
    expect(JSON.parse(form.body as string)).toEqual({
      id: 'intake-form',
      type: 'default',
      schemaVersion: 16,
      components: [
        {
          id: 'intake-form-field-0',
          type: 'textfield',
          key: 'summary',
          label: 'Summary',
          validate: { required: true },
        },
        { id: 'intake-form-field-1', type: 'number', key: 'amount' },
        { id: 'intake-form-field-2', type: 'checkbox', key: 'urgent', label: 'Urgent?' },
        {
          id: 'intake-form-field-3',
          type: 'datetime',
          subtype: 'date',
          key: 'answer',
          dateLabel: 'Answer by',
          label: 'Answer by',
          validate: { required: true },
        },
        {
          id: 'intake-form-field-4',
          type: 'checklist',
          key: 'answers',
          label: 'Which channels?',
          values: ['Mail', 'Phone', 'Chat'].map((o) => ({ label: o, value: o })),
        },
      ],
    });
    // One flow per result, its condition true for exactly that result in Lifeline's FEEL.
    const flows = outgoing(parsed, 'intake');
    const conditions = flows.map((f) => (f.conditionExpression as ModdleElement).body as string);
    expect(conditions).toEqual([
      '=intake.result = "Go on"',
      '=intake.result = "Say \\"no\\""',
      '=intake.result = "back\\\\slash"',
      '=intake.result = "two\\nlines"',
    ]);
    expect(flows.map((f) => (f.targetRef as ModdleElement).id)).toEqual(['route', 'closed', 'intake', 'closed']);
    for (const [index, result] of ['Go on', 'Say "no"', 'back\\slash', 'two\nlines'].entries()) {
      for (const [other, given] of ['Go on', 'Say "no"', 'back\\slash', 'two\nlines'].entries()) {
        const outcome = evaluateCondition(
          conditions[index].slice(1),
          { intake: { result: given } },
          '2026-01-01T00:00:00Z',
        );
        expect({ result, given, outcome }).toMatchObject({
          result,
          given,
          outcome: { ok: true, value: index === other },
        });
      }
    }
  });

  it('writes the boundary events of a user task: interrupting timer, reminder, reassignments, condition', async () => {
    const { parsed } = await exportOf(byName('everything at once'));
    const boundaries = flowElements(parsed).filter(
      (e) => e.$type === 'bpmn:BoundaryEvent' && (e.attachedToRef as ModdleElement).id === 'intake',
    );
    const summary = boundaries.map((b) => ({
      id: b.id,
      cancelActivity: b.cancelActivity,
      definition: (b.eventDefinitions as ModdleElement[])[0].$type,
      time: (((b.eventDefinitions as ModdleElement[])[0].timeDuration as ModdleElement) ?? {}).body,
      condition: (((b.eventDefinitions as ModdleElement[])[0].condition as ModdleElement) ?? {}).body,
      lifeline: plain(extension(b, 'lifeline:Boundary')),
      next: outgoing(parsed, b.id as string).map((f) => (f.targetRef as ModdleElement).id),
    }));
    expect(summary).toEqual([
      {
        id: 'intake-boundary-0',
        cancelActivity: true,
        definition: 'bpmn:TimerEventDefinition',
        time: 'P1D',
        condition: undefined,
        lifeline: undefined,
        next: ['escalate'],
      },
      {
        id: 'intake-boundary-1',
        cancelActivity: false,
        definition: 'bpmn:TimerEventDefinition',
        time: 'PT4H',
        condition: undefined,
        lifeline: { every: 'PT1H', remind: true },
        next: [],
      },
      {
        id: 'intake-boundary-2',
        cancelActivity: false,
        definition: 'bpmn:TimerEventDefinition',
        time: 'PT8H',
        condition: undefined,
        lifeline: { reassignRole: 'leads' },
        next: [],
      },
      {
        id: 'intake-boundary-3',
        cancelActivity: false,
        definition: 'bpmn:TimerEventDefinition',
        time: 'PT12H',
        condition: undefined,
        lifeline: { every: 'P1D', reassignUser: 'boss' },
        next: [],
      },
      {
        id: 'intake-boundary-4',
        cancelActivity: true,
        definition: 'bpmn:ConditionalEventDefinition',
        time: undefined,
        condition: '=entity.status = "Closed"',
        lifeline: undefined,
        next: ['closed'],
      },
    ]);
  });

  it('writes a service task with its job, inputs, backoff and one error boundary event per error code', async () => {
    const credit = await exportOf(byName('jobs.unit.spec credit check (service with inputs, errors, backoff)'));
    const check = element(credit.parsed, 'check');
    expect(check.$type).toBe('bpmn:ServiceTask');
    expect(plain(extension(check, 'zeebe:TaskDefinition'))).toEqual({ type: 'credit-check', retries: '2' });
    expect(plain(extension(check, 'lifeline:Service'))).toEqual({ retryBackoff: 'PT30S' });
    const io = extension(check, 'zeebe:IoMapping')!;
    expect((io.inputParameters as ModdleElement[]).map(plain)).toEqual([
      { source: '=record.id', target: 'customer' },
      { source: '=entity.limit * 2', target: 'limit' },
    ]);
    expect(io.outputParameters ?? []).toEqual([]);
    const error = element(credit.parsed, 'check-error-0');
    expect(error.$type).toBe('bpmn:BoundaryEvent');
    expect(error.cancelActivity).toBe(true);
    const errorRef = (error.eventDefinitions as ModdleElement[])[0].errorRef as ModdleElement;
    expect([errorRef.$type, errorRef.errorCode]).toEqual(['bpmn:Error', 'CREDIT_REJECTED']);
    expect(outgoing(credit.parsed, 'check-error-0').map((f) => (f.targetRef as ModdleElement).id)).toEqual([
      'rejected',
    ]);
    expect(outgoing(credit.parsed, 'check').map((f) => (f.targetRef as ModdleElement).id)).toEqual(['done']);
  });

  it('writes a wait with until, timeout and boundaries as an event-based gateway and catch events with their roles', async () => {
    const { parsed } = await exportOf(byName('everything at once'));
    expect(element(parsed, 'watch').$type).toBe('bpmn:EventBasedGateway');
    const events = outgoing(parsed, 'watch').map((f) => f.targetRef as ModdleElement);
    expect(
      events.map((e) => ({
        id: e.id,
        type: e.$type,
        role: extension(e, 'lifeline:Boundary')?.role,
        definition: (e.eventDefinitions as ModdleElement[])[0].$type,
        next: outgoing(parsed, e.id as string).map((f) => (f.targetRef as ModdleElement).id),
      })),
    ).toEqual([
      {
        id: 'watch-until',
        type: 'bpmn:IntermediateCatchEvent',
        role: 'until',
        definition: 'bpmn:ConditionalEventDefinition',
        next: ['checksDone'],
      },
      {
        id: 'watch-timeout',
        type: 'bpmn:IntermediateCatchEvent',
        role: 'timeout',
        definition: 'bpmn:TimerEventDefinition',
        next: ['remindAll'],
      },
      {
        id: 'watch-boundary-0',
        type: 'bpmn:IntermediateCatchEvent',
        role: 'boundary',
        definition: 'bpmn:TimerEventDefinition',
        next: ['closed'],
      },
      {
        id: 'watch-boundary-1',
        type: 'bpmn:IntermediateCatchEvent',
        role: 'boundary',
        definition: 'bpmn:ConditionalEventDefinition',
        next: ['closed'],
      },
    ]);
    const until = (events[0].eventDefinitions as ModdleElement[])[0].condition as ModdleElement;
    expect(until.body).toBe('=entity.paid = true');
    // A wait with one event is that catch event, with the activity's id.
    const mail = element(parsed, 'mail');
    expect(mail.$type).toBe('bpmn:IntermediateCatchEvent');
    expect(((mail.eventDefinitions as ModdleElement[])[0].timeDuration as ModdleElement).body).toBe('PT1H');
    expect(element(parsed, 'phone').$type).toBe('bpmn:IntermediateCatchEvent');
  });

  it('writes triggers as start events: messages named <type>.<kind>, a timer cycle for a schedule, none without', async () => {
    const everything = (await exportOf(byName('everything at once'))).parsed;
    const starts = flowElements(everything).filter((e) => e.$type === 'bpmn:StartEvent');
    expect(
      starts.map((s) => ({
        id: s.id,
        message: ((s.eventDefinitions as ModdleElement[])[0].messageRef as ModdleElement).name,
        trigger: plain(extension(s, 'lifeline:Trigger')),
        next: outgoing(everything, s.id as string).map((f) => (f.targetRef as ModdleElement).id),
      })),
    ).toEqual([
      { id: 'start-0', message: 'Case.created', trigger: { on: 'created' }, next: ['intake'] },
      {
        id: 'start-1',
        message: 'Case.updated',
        trigger: { on: 'updated', fields: 'status owner', when: '=entity.status = "Reopened"', delay: 'PT10M' },
        next: ['intake'],
      },
      {
        id: 'start-2',
        message: 'Case.deleted',
        trigger: { on: 'deleted', when: '=entity.archived != true' },
        next: ['intake'],
      },
    ]);
    const weekly = (await exportOf(byName('schedule.int.spec weekly audit (schedule trigger with a time zone)')))
      .parsed;
    const [tick] = flowElements(weekly).filter((e) => e.$type === 'bpmn:StartEvent');
    expect(((tick.eventDefinitions as ModdleElement[])[0].timeCycle as ModdleElement).body).toBe('0 7 * * MON');
    expect(plain(extension(tick, 'lifeline:Trigger'))).toEqual({ on: 'schedule', timeZone: 'Europe/Paris' });
    const byHand = (await exportOf(byName('manual-start.int.spec invoice query (startableBy, no trigger)'))).parsed;
    const [none] = flowElements(byHand).filter((e) => e.$type === 'bpmn:StartEvent');
    expect([none.id, none.eventDefinitions ?? []]).toEqual(['start-none', []]);
    expect(plain(extension(processOf(byHand), 'lifeline:Definition'))).toMatchObject({ startableBy: 'sales' });
  });

  it('writes the definition attributes, conditional starts and onRecordDeleted on the process', async () => {
    const { parsed } = await exportOf(byName('everything at once'));
    const process = processOf(parsed);
    expect(process.id).toBe('everything');
    expect(process.name).toBe('Everything & more <at once>');
    const definition = extension(process, 'lifeline:Definition')!;
    expect({
      ...plain(definition),
      conditionalStarts: (definition.conditionalStarts as ModdleElement[]).map(plain),
    }).toEqual({
      key: 'everything',
      relatedEntity: 'Case',
      executionOrder: 7,
      enabled: false,
      startableBy: 'agents team:leads',
      onRecordDeleted: 'next',
      onRecordDeletedNext: 'cleanUp',
      conditionalStarts: [{ when: '=entity.priority = "high"', next: 'alert' }],
    });
    const reviewKey = (await exportOf(byName('the key is an activity id'))).parsed;
    expect(processOf(reviewKey).id).toBe('process-review');
    expect(extension(processOf(reviewKey), 'lifeline:Definition')?.onRecordDeleted).toBe('terminate');
    expect(
      processOf(
        (
          await exportOf(
            byName('a process id the key cannot be (an activity has the key as its id, the key starts with a digit)'),
          )
        ).parsed,
      ).id,
    ).toBe('process-1st');
  });

  it('writes decisions and inclusive forks with conditions and a default flow, joins of their fork type, call activities, emits and ends', async () => {
    const { parsed } = await exportOf(byName('everything at once'));
    const route = element(parsed, 'route');
    expect(route.$type).toBe('bpmn:ExclusiveGateway');
    const routeFlows = outgoing(parsed, 'route');
    expect(
      routeFlows.map((f) => [
        (f.targetRef as ModdleElement).id,
        (f.conditionExpression as ModdleElement | undefined)?.body,
      ]),
    ).toEqual([
      ['checks', '=entity.amount > 1000'],
      ['pick', '=entity.amount > 100 and entity.kind = "fast"'],
      ['fork', undefined],
    ]);
    expect((route.default as ModdleElement).id).toBe(routeFlows[2].id);
    expect(element(parsed, 'pick').$type).toBe('bpmn:InclusiveGateway');
    expect((element(parsed, 'pick').default as ModdleElement).id).toBe(outgoing(parsed, 'pick')[2].id);
    expect(element(parsed, 'checks').$type).toBe('bpmn:ParallelGateway');
    expect(element(parsed, 'checksDone').$type).toBe('bpmn:ParallelGateway');
    expect(element(parsed, 'picked').$type).toBe('bpmn:InclusiveGateway');
    expect(element(parsed, 'met').$type).toBe('bpmn:ParallelGateway');
    expect(outgoing(parsed, 'fork').map((f) => [(f.targetRef as ModdleElement).id, f.conditionExpression])).toEqual([
      ['left', undefined],
      ['right', undefined],
    ]);
    const child = element(parsed, 'child');
    expect(child.$type).toBe('bpmn:CallActivity');
    expect(plain(extension(child, 'zeebe:CalledElement'))).toEqual({ processId: 'credit' });
    expect(plain(extension(child, 'lifeline:Call'))).toEqual({
      version: 2,
      recordType: 'Customer',
      recordId: '=entity.customerId',
    });
    const io = extension(child, 'zeebe:IoMapping')!;
    expect([
      (io.inputParameters as ModdleElement[]).map(plain),
      (io.outputParameters as ModdleElement[]).map(plain),
    ]).toEqual([[{ source: '=entity.amount', target: 'limit' }], [{ source: '=child.result', target: 'credit' }]]);
    const remind = element(parsed, 'remindAll');
    expect(remind.$type).toBe('bpmn:IntermediateThrowEvent');
    expect((remind.eventDefinitions as ModdleElement[])[0].$type).toBe('bpmn:MessageEventDefinition');
    const emit = extension(remind, 'lifeline:Emit')!;
    expect([emit.topic, emit.type, (emit.payload as ModdleElement[]).map(plain)]).toEqual([
      'case-commands',
      'RemindAll',
      [
        { name: 'case', expression: '=record.id' },
        { name: 'note', expression: '="late"' },
      ],
    ]);
    const escalate = element(parsed, 'escalate');
    expect(escalate.$type).toBe('bpmn:Task');
    expect(
      ((extension(escalate, 'zeebe:IoMapping') as ModdleElement).outputParameters as ModdleElement[]).map(plain),
    ).toEqual([
      { source: '=true', target: 'escalated' },
      { source: '=if entity.amount > 1000 then "high" else "low"', target: 'level' },
    ]);
    const notify = element(parsed, 'notify');
    expect([
      notify.$type,
      extension(notify, 'lifeline:Emit')?.type,
      extension(notify, 'zeebe:IoMapping') !== undefined,
    ]).toEqual(['bpmn:IntermediateThrowEvent', 'Checked', true]);
    expect((element(parsed, 'stop').eventDefinitions as ModdleElement[])[0].$type).toBe(
      'bpmn:TerminateEventDefinition',
    );
    expect(element(parsed, 'closed').eventDefinitions ?? []).toEqual([]);
  });

  it('says it is a Camunda 8 diagram, so Camunda Modeler shows the zeebe properties', async () => {
    const { xml } = await exportOf(byName('fixture invoice-approval'));
    expect(xml).toContain('modeler:executionPlatform="Camunda Cloud"');
    expect(xml).toContain('xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"');
    expect(xml).toContain('xmlns:lifeline="https://lifeline.dev/schema/bpmn/1.0"');
  });

  it('exports a definition read from YAML', async () => {
    const xml = await exportBpmn(
      parseDefinition('key: tiny\nname: Tiny\nrelatedEntity: Case\nstart: done\nactivities:\n  done: { type: end }\n'),
    );
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml).toContain('<bpmn:endEvent id="done"');
  });
});
