import type { BpmnModdle, ModdleElement } from 'bpmn-moddle';
import {
  isScheduleTrigger,
  type Activity,
  type Boundary,
  type HumanActivity,
  type Next,
  type ProcessDefinition,
  type ServiceActivity,
  type WaitActivity,
} from '@lifeline/process-domain';
import { camundaFormJson } from './camunda-form';

/** How a flow node is drawn: its shape's size depends on it. */
export type NodeKind = 'task' | 'event' | 'gateway';

export interface GraphNode {
  id: string;
  kind: NodeKind;
  element: ModdleElement;
  /** A boundary event: the task it sits on. */
  attachedTo?: string;
}

export interface GraphFlow {
  id: string;
  source: string;
  target: string;
  element: ModdleElement;
}

/** The semantic model of one definition, and the graph the layout draws. */
export interface BuiltProcess {
  definitions: ModdleElement;
  process: ModdleElement;
  nodes: GraphNode[];
  flows: GraphFlow[];
  /** Targets reached without a flow (conditional starts, `onRecordDeleted.next`): laid out as if after the start. */
  detachedTargets: string[];
  /** Hands out ids not used yet (the DI's too). */
  uniqueId(base: string): string;
}

/** `=expr`: how Camunda marks an expression (decision 0010, "FEEL"). */
export const feel = (expression: string): string => `=${expression}`;

/** A FEEL string literal: the escapes feelin reads back. */
export function feelString(text: string): string {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t');
  return `"${escaped}"`;
}

/** The condition of a human task's flow for one result (decision 0010, "human `next` per result"). */
export const resultCondition = (task: string, result: string): string => feel(`${task}.result = ${feelString(result)}`);

/** The process id: the key when it is an NCName no activity uses, else `process-<key>`. */
export function processIdOf(definition: ProcessDefinition): string {
  const key = definition.key;
  return /^[a-z]/.test(key) && !Object.prototype.hasOwnProperty.call(definition.activities, key)
    ? key
    : `process-${key}`;
}

/** Builds the semantic BPMN of a definition (no DI), following the mapping table of decision 0010. */
export function buildProcess(moddle: BpmnModdle, definition: ProcessDefinition): BuiltProcess {
  return new ProcessBuilder(moddle, definition).build();
}

class ProcessBuilder {
  private readonly used = new Set<string>();
  private readonly nodes: GraphNode[] = [];
  private readonly flows: GraphFlow[] = [];
  private readonly elements = new Map<string, ModdleElement>();
  private readonly rootElements: ModdleElement[] = [];
  private readonly forms: ModdleElement[] = [];
  private readonly messages = new Map<string, ModdleElement>();
  private readonly errors = new Map<string, ModdleElement>();
  /** Flows are linked once every node exists: a next may name an activity defined further down. */
  private readonly pending: { source: string; target: string; props: FlowProps }[] = [];

  constructor(
    private readonly moddle: BpmnModdle,
    private readonly definition: ProcessDefinition,
  ) {
    for (const id of Object.keys(definition.activities)) this.used.add(id);
  }

  build(): BuiltProcess {
    const d = this.definition;
    const processId = this.uniqueId(processIdOf(d));
    const definitionsId = this.uniqueId('definitions');
    this.startEvents();
    for (const [id, activity] of Object.entries(d.activities)) this.activity(id, activity);
    this.mergeBeforeForks();
    for (const { source, target, props } of this.pending) this.link(source, target, props);

    const process = this.create('bpmn:Process', {
      id: processId,
      name: d.name,
      isExecutable: true,
      extensionElements: this.extensions([this.lifelineDefinition(), ...this.forms]),
      flowElements: [...this.nodes.map((node) => node.element), ...this.flows.map((flow) => flow.element)],
    });
    const definitions = this.create('bpmn:Definitions', {
      id: definitionsId,
      targetNamespace: 'http://bpmn.io/schema/bpmn',
      exporter: 'Lifeline',
      exporterVersion: '1',
      rootElements: [process, ...this.rootElements],
    });
    // Camunda Modeler opens a file as a Camunda 8 diagram (zeebe properties panel) when it says so.
    Object.assign(definitions.$attrs as Record<string, string>, {
      'xmlns:modeler': 'http://camunda.org/schema/modeler/1.0',
      'modeler:executionPlatform': 'Camunda Cloud',
      'modeler:executionPlatformVersion': '8.6.0',
    });
    const detachedTargets = [
      ...(d.conditionalStarts ?? []).map((start) => start.next),
      ...(typeof d.onRecordDeleted === 'object' ? [d.onRecordDeleted.next] : []),
    ];
    return {
      definitions,
      process,
      nodes: this.nodes,
      flows: this.flows,
      detachedTargets,
      uniqueId: (base) => this.uniqueId(base),
    };
  }

  uniqueId(base: string): string {
    let id = base;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }

  private create(type: string, props: Record<string, unknown> = {}): ModdleElement {
    const defined = Object.fromEntries(Object.entries(props).filter(([, value]) => value !== undefined));
    return this.moddle.create(type, defined);
  }

  private extensions(values: (ModdleElement | undefined)[]): ModdleElement | undefined {
    const present = values.filter((value): value is ModdleElement => value !== undefined);
    return present.length === 0 ? undefined : this.create('bpmn:ExtensionElements', { values: present });
  }

  private expression(body: string): ModdleElement {
    return this.create('bpmn:FormalExpression', { body });
  }

  private node(kind: NodeKind, type: string, props: Record<string, unknown>, attachedTo?: string): ModdleElement {
    const element = this.create(type, props);
    element.incoming = [];
    element.outgoing = [];
    this.elements.set(element.id as string, element);
    this.nodes.push({ id: element.id as string, kind, element, ...(attachedTo ? { attachedTo } : {}) });
    return element;
  }

  private flow(source: string, target: string, props: FlowProps = {}): void {
    this.pending.push({ source, target, props });
  }

  /**
   * A parallel or inclusive gateway with several incoming flows would wait for all of them in BPMN: a fork reached
   * from several places (a loop back to it, or two paths) gets an exclusive merge gateway in front of it instead.
   */
  private mergeBeforeForks(): void {
    const forks = Object.entries(this.definition.activities)
      .filter(([, activity]) => activity.type === 'parallel' || activity.type === 'inclusive')
      .map(([id]) => id);
    for (const fork of forks) {
      const incoming = this.pending.filter((flow) => flow.target === fork);
      if (incoming.length < 2) continue;
      const merge = this.uniqueId(`${fork}-merge`);
      this.node('gateway', 'bpmn:ExclusiveGateway', { id: merge });
      for (const flow of incoming) flow.target = merge;
      this.pending.push({ source: merge, target: fork, props: {} });
    }
  }

  private link(source: string, target: string, props: FlowProps): void {
    const from = this.elements.get(source);
    const to = this.elements.get(target);
    if (!from || !to) throw new Error(`exportBpmn: no element ${from ? target : source}`);
    const element = this.create('bpmn:SequenceFlow', {
      id: this.uniqueId(`flow-${source}-${target}`),
      name: props.name,
      sourceRef: from,
      targetRef: to,
      conditionExpression: props.condition === undefined ? undefined : this.expression(props.condition),
    });
    (from.outgoing as ModdleElement[]).push(element);
    (to.incoming as ModdleElement[]).push(element);
    if (props.isDefault) from.default = element;
    this.flows.push({ id: element.id as string, source, target, element });
  }

  private next(source: string, next: Next): void {
    for (const target of typeof next === 'string' ? [next] : next) this.flow(source, target);
  }

  private lifelineDefinition(): ModdleElement {
    const d = this.definition;
    return this.create('lifeline:Definition', {
      key: d.key,
      relatedEntity: d.relatedEntity,
      executionOrder: d.executionOrder,
      enabled: d.enabled,
      startableBy: d.startableBy?.join(' '),
      onRecordDeleted:
        d.onRecordDeleted === undefined
          ? undefined
          : typeof d.onRecordDeleted === 'string'
            ? d.onRecordDeleted
            : 'next',
      onRecordDeletedNext: typeof d.onRecordDeleted === 'object' ? d.onRecordDeleted.next : undefined,
      conditionalStarts: d.conditionalStarts?.map((start) =>
        this.create('lifeline:ConditionalStart', { when: feel(start.when), next: start.next }),
      ),
    });
  }

  private startEvents(): void {
    const d = this.definition;
    if (d.triggers.length === 0) {
      const id = this.uniqueId('start-none');
      this.node('event', 'bpmn:StartEvent', { id, name: 'Started by hand' });
      this.flow(id, d.start);
      return;
    }
    d.triggers.forEach((trigger, index) => {
      const id = this.uniqueId(`start-${index}`);
      if (isScheduleTrigger(trigger)) {
        this.node('event', 'bpmn:StartEvent', {
          id,
          name: `Every ${trigger.cron}`,
          extensionElements: this.extensions([
            this.create('lifeline:Trigger', { on: 'schedule', timeZone: trigger.timeZone }),
          ]),
          eventDefinitions: [this.create('bpmn:TimerEventDefinition', { timeCycle: this.expression(trigger.cron) })],
        });
      } else {
        this.node('event', 'bpmn:StartEvent', {
          id,
          name: `${d.relatedEntity} ${trigger.on}`,
          extensionElements: this.extensions([
            this.create('lifeline:Trigger', {
              on: trigger.on,
              fields: trigger.fields?.join(' '),
              when: trigger.when === undefined ? undefined : feel(trigger.when),
              delay: trigger.delay,
            }),
          ]),
          eventDefinitions: [
            this.create('bpmn:MessageEventDefinition', {
              messageRef: this.message(`${d.relatedEntity}.${trigger.on}`),
            }),
          ],
        });
      }
      this.flow(id, d.start);
    });
  }

  private message(name: string): ModdleElement {
    let message = this.messages.get(name);
    if (!message) {
      message = this.create('bpmn:Message', { id: this.uniqueId(`message-${this.messages.size}`), name });
      this.messages.set(name, message);
      this.rootElements.push(message);
    }
    return message;
  }

  private error(code: string): ModdleElement {
    let error = this.errors.get(code);
    if (!error) {
      error = this.create('bpmn:Error', {
        id: this.uniqueId(`error-${this.errors.size}`),
        name: code,
        errorCode: code,
      });
      this.errors.set(code, error);
      this.rootElements.push(error);
    }
    return error;
  }

  private ioMapping(inputs?: Record<string, string>, outputs?: Record<string, string>): ModdleElement | undefined {
    if (inputs === undefined && outputs === undefined) return undefined;
    const parameters = (type: string, map: Record<string, string> | undefined) =>
      Object.entries(map ?? {}).map(([target, expression]) => this.create(type, { source: feel(expression), target }));
    return this.create('zeebe:IoMapping', {
      inputParameters: parameters('zeebe:Input', inputs),
      outputParameters: parameters('zeebe:Output', outputs),
    });
  }

  private activity(id: string, activity: Activity): void {
    switch (activity.type) {
      case 'human':
        return this.human(id, activity);
      case 'automatic': {
        const io = this.ioMapping(undefined, activity.set);
        if (activity.emit) {
          const emit = this.create('lifeline:Emit', {
            topic: activity.emit.topic,
            type: activity.emit.type,
            payload: Object.entries(activity.emit.payload ?? {}).map(([name, expression]) =>
              this.create('lifeline:Entry', { name, expression: feel(expression) }),
            ),
          });
          this.node('event', 'bpmn:IntermediateThrowEvent', {
            id,
            name: `${id}: ${activity.emit.type}`,
            extensionElements: this.extensions([io, emit]),
            eventDefinitions: [this.create('bpmn:MessageEventDefinition')],
          });
        } else {
          this.node('task', 'bpmn:Task', { id, name: id, extensionElements: this.extensions([io]) });
        }
        return this.next(id, activity.next);
      }
      case 'wait':
        return this.wait(id, activity);
      case 'decision':
      case 'inclusive': {
        const type = activity.type === 'decision' ? 'bpmn:ExclusiveGateway' : 'bpmn:InclusiveGateway';
        this.node('gateway', type, { id, name: id });
        for (const branch of activity.branches) {
          this.flow(id, branch.next, { condition: feel(branch.when), name: shortLabel(branch.when) });
        }
        return this.flow(id, activity.otherwise, { isDefault: true, name: 'otherwise' });
      }
      case 'parallel':
        this.node('gateway', 'bpmn:ParallelGateway', { id, name: id });
        return this.next(id, activity.branches);
      case 'join': {
        const type = this.forkTypeOf(id) === 'inclusive' ? 'bpmn:InclusiveGateway' : 'bpmn:ParallelGateway';
        this.node('gateway', type, { id, name: id });
        return this.next(id, activity.next);
      }
      case 'service':
        return this.service(id, activity);
      case 'subprocess': {
        const call =
          activity.version === undefined && activity.record === undefined
            ? undefined
            : this.create('lifeline:Call', {
                version: activity.version,
                recordType: activity.record?.type,
                recordId: activity.record === undefined ? undefined : feel(activity.record.id),
              });
        this.node('task', 'bpmn:CallActivity', {
          id,
          name: `${id}: ${activity.process}`,
          extensionElements: this.extensions([
            this.create('zeebe:CalledElement', { processId: activity.process }),
            call,
            this.ioMapping(activity.inputs, activity.outputs),
          ]),
        });
        return this.next(id, activity.next);
      }
      case 'end':
        this.node('event', 'bpmn:EndEvent', {
          id,
          name: id,
          eventDefinitions: activity.terminate ? [this.create('bpmn:TerminateEventDefinition')] : undefined,
        });
        return;
    }
  }

  private human(id: string, task: HumanActivity): void {
    const assignee = task.assignee;
    const assignment = this.create(
      'zeebe:AssignmentDefinition',
      'user' in assignee
        ? { assignee: assignee.user }
        : 'userFrom' in assignee
          ? { assignee: feel(assignee.userFrom) }
          : { candidateGroups: assignee.role },
    );
    let formDefinition: ModdleElement | undefined;
    if (task.form !== undefined || task.question !== undefined) {
      const formId = this.uniqueId(`${id}-form`);
      this.forms.push(
        this.create('zeebe:UserTaskForm', { id: formId, body: camundaFormJson(formId, task.form, task.question) }),
      );
      formDefinition = this.create('zeebe:FormDefinition', { formKey: `camunda-forms:bpmn:${formId}` });
    }
    const schedule =
      task.dueIn === undefined
        ? undefined
        : this.create('zeebe:TaskSchedule', { dueDate: feel(`now() + duration(${feelString(task.dueIn)})`) });
    const lifelineTask =
      task.hint === undefined && task.completeWhen === undefined && task.dueIn === undefined && !task.results
        ? undefined
        : this.create('lifeline:Task', {
            hint: task.hint,
            completeWhen: task.completeWhen === undefined ? undefined : feel(task.completeWhen),
            dueIn: task.dueIn,
            results: task.results?.map((name) => this.create('lifeline:Result', { name })),
          });
    this.node('task', 'bpmn:UserTask', {
      id,
      name: task.title,
      documentation:
        task.instructions === undefined ? undefined : [this.create('bpmn:Documentation', { text: task.instructions })],
      extensionElements: this.extensions([formDefinition, assignment, schedule, lifelineTask]),
    });
    this.boundaries(id, task.boundary);
    if (typeof task.next === 'string' || Array.isArray(task.next)) this.next(id, task.next);
    else {
      for (const [result, target] of Object.entries(task.next)) {
        this.flow(id, target, { condition: resultCondition(id, result), name: result });
      }
    }
  }

  /** A human task's boundary events, attached to it (decision 0010, "boundary"). */
  private boundaries(host: string, boundaries: Boundary[] | undefined): void {
    (boundaries ?? []).forEach((boundary, index) => {
      const id = this.uniqueId(`${host}-boundary-${index}`);
      const hostElement = this.elements.get(host);
      if ('when' in boundary) {
        this.node(
          'event',
          'bpmn:BoundaryEvent',
          {
            id,
            name: shortLabel(boundary.when),
            attachedToRef: hostElement,
            eventDefinitions: [this.conditional(boundary.when)],
          },
          host,
        );
        return this.flow(id, boundary.next);
      }
      const interrupting = 'next' in boundary;
      const extra = interrupting
        ? undefined
        : this.create('lifeline:Boundary', {
            every: boundary.every,
            ...('remind' in boundary
              ? { remind: true }
              : 'user' in boundary.reassign
                ? { reassignUser: boundary.reassign.user }
                : { reassignRole: boundary.reassign.role }),
          });
      this.node(
        'event',
        'bpmn:BoundaryEvent',
        {
          id,
          name: `after ${boundary.after}`,
          attachedToRef: hostElement,
          cancelActivity: interrupting ? undefined : false,
          extensionElements: this.extensions([extra]),
          eventDefinitions: [this.timer(boundary.after)],
        },
        host,
      );
      if ('next' in boundary) this.flow(id, boundary.next);
    });
  }

  private timer(duration: string): ModdleElement {
    return this.create('bpmn:TimerEventDefinition', { timeDuration: this.expression(duration) });
  }

  private conditional(when: string): ModdleElement {
    return this.create('bpmn:ConditionalEventDefinition', { condition: this.expression(feel(when)) });
  }

  /**
   * A wait with one event is that catch event; with more (until and timeout, boundaries) an event-based gateway
   * whose catch events say their role (decision 0010, "wait").
   */
  private wait(id: string, wait: WaitActivity): void {
    const timeoutTarget = wait.onTimeout ?? wait.next;
    const single = (wait.until === undefined) !== (wait.timeout === undefined) && !wait.boundary;
    if (single) {
      const event = wait.until !== undefined ? this.conditional(wait.until) : this.timer(wait.timeout as string);
      const name = wait.until !== undefined ? shortLabel(wait.until) : `wait ${wait.timeout}`;
      this.node('event', 'bpmn:IntermediateCatchEvent', { id, name, eventDefinitions: [event] });
      return this.next(id, wait.until !== undefined ? wait.next : timeoutTarget);
    }
    this.node('gateway', 'bpmn:EventBasedGateway', { id, name: id });
    const catchEvent = (suffix: string, role: string, name: string | undefined, event: ModdleElement, next: Next) => {
      const eventId = this.uniqueId(`${id}-${suffix}`);
      this.node('event', 'bpmn:IntermediateCatchEvent', {
        id: eventId,
        name,
        extensionElements: this.extensions([this.create('lifeline:Boundary', { role })]),
        eventDefinitions: [event],
      });
      this.flow(id, eventId);
      this.next(eventId, next);
    };
    if (wait.until !== undefined)
      catchEvent('until', 'until', shortLabel(wait.until), this.conditional(wait.until), wait.next);
    if (wait.timeout !== undefined) {
      catchEvent('timeout', 'timeout', `after ${wait.timeout}`, this.timer(wait.timeout), timeoutTarget);
    }
    (wait.boundary ?? []).forEach((boundary, index) => {
      if ('when' in boundary) {
        catchEvent(
          `boundary-${index}`,
          'boundary',
          shortLabel(boundary.when),
          this.conditional(boundary.when),
          boundary.next,
        );
      } else if ('next' in boundary) {
        catchEvent(
          `boundary-${index}`,
          'boundary',
          `after ${boundary.after}`,
          this.timer(boundary.after),
          boundary.next,
        );
      }
    });
  }

  private service(id: string, service: ServiceActivity): void {
    this.node('task', 'bpmn:ServiceTask', {
      id,
      name: `${id}: ${service.jobType}`,
      extensionElements: this.extensions([
        this.create('zeebe:TaskDefinition', { type: service.jobType, retries: String(service.retries) }),
        this.ioMapping(service.inputs, undefined),
        service.retryBackoff === undefined
          ? undefined
          : this.create('lifeline:Service', { retryBackoff: service.retryBackoff }),
      ]),
    });
    Object.entries(service.errors ?? {}).forEach(([code, target], index) => {
      const eventId = this.uniqueId(`${id}-error-${index}`);
      this.node(
        'event',
        'bpmn:BoundaryEvent',
        {
          id: eventId,
          name: code,
          attachedToRef: this.elements.get(id),
          eventDefinitions: [this.create('bpmn:ErrorEventDefinition', { errorRef: this.error(code) })],
        },
        id,
      );
      this.flow(eventId, target);
    });
    this.next(id, service.next);
  }

  /**
   * The fork a join closes: the nearest fork (parallel, inclusive, or a next that lists several) whose paths reach
   * the join before any other join. Only the gateway's look depends on it: both types read back as a join.
   */
  private forkTypeOf(join: string): 'parallel' | 'inclusive' {
    const activities = this.definition.activities;
    let best: { distance: number; type: 'parallel' | 'inclusive' } | undefined;
    for (const [id, activity] of Object.entries(activities)) {
      const isFork =
        activity.type === 'parallel' ||
        activity.type === 'inclusive' ||
        ('next' in activity && Array.isArray(activity.next));
      if (!isFork) continue;
      const distance = distanceToJoin(activities, id, join);
      if (distance !== undefined && (best === undefined || distance < best.distance)) {
        best = { distance, type: activity.type === 'inclusive' ? 'inclusive' : 'parallel' };
      }
    }
    return best?.type ?? 'parallel';
  }
}

interface FlowProps {
  name?: string;
  condition?: string;
  isDefault?: boolean;
}

/** The activities an activity leads to, in the order its definition lists them. */
export function successors(activity: Activity): string[] {
  const list = (next: Next) => (typeof next === 'string' ? [next] : next);
  const boundaries = (b: Boundary[] | undefined) => (b ?? []).flatMap((x) => ('next' in x ? [x.next] : []));
  switch (activity.type) {
    case 'human':
      return [
        ...(typeof activity.next === 'string' || Array.isArray(activity.next)
          ? list(activity.next)
          : Object.values(activity.next)),
        ...boundaries(activity.boundary),
      ];
    case 'wait':
      return [
        ...list(activity.next),
        ...(activity.onTimeout ? [activity.onTimeout] : []),
        ...boundaries(activity.boundary),
      ];
    case 'decision':
    case 'inclusive':
      return [...activity.branches.map((branch) => branch.next), activity.otherwise];
    case 'parallel':
      return activity.branches;
    case 'service':
      return [...list(activity.next), ...Object.values(activity.errors ?? {})];
    case 'end':
      return [];
    default:
      return list(activity.next);
  }
}

/** Breadth-first steps from a fork to a join, not passing through another join. */
function distanceToJoin(activities: Record<string, Activity>, fork: string, join: string): number | undefined {
  const seen = new Set([fork]);
  let frontier = [fork];
  for (let distance = 1; frontier.length > 0; distance++) {
    const nextFrontier: string[] = [];
    for (const id of frontier) {
      for (const to of successors(activities[id])) {
        if (to === join) return distance;
        if (seen.has(to) || activities[to]?.type === 'join') continue;
        seen.add(to);
        nextFrontier.push(to);
      }
    }
    frontier = nextFrontier;
  }
  return undefined;
}

/** A label for a flow or event drawn from an expression: short ones only, so the drawing stays readable. */
function shortLabel(expression: string): string | undefined {
  return expression.length <= 40 ? expression : undefined;
}
