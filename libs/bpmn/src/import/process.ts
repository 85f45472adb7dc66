import type { BpmnImportOptions } from '../types';
import { readCamundaForm } from './form';
import { ImportIssues } from './issues';
import {
  activityIdOf,
  bodyOf,
  child,
  extensionOf,
  extensionsOf,
  feel,
  isExpression,
  keyOf,
  list,
  str,
  words,
  type El,
} from './model';

type Doc = Record<string, unknown>;

const SERVICE_TASKS = new Set(['bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:ScriptTask', 'bpmn:BusinessRuleTask']);
/** Flow elements that are drawing only. */
const IGNORED = new Set(['bpmn:DataObject', 'bpmn:DataObjectReference', 'bpmn:DataStoreReference']);
/** Extension elements that say nothing Lifeline runs differently by (metadata, Camunda's user-task marker). */
const HARMLESS = new Set(['zeebe:Properties', 'zeebe:UserTask', 'zeebe:PriorityDefinition', 'zeebe:VersionTag']);
/** What to draw instead of an element Lifeline does not run, by type. */
const REFUSED: Record<string, string> = {
  'bpmn:SubProcess': 'embedded sub-processes are not supported: draw the steps in the process, or call another process',
  'bpmn:Transaction': 'transactions are not supported',
  'bpmn:AdHocSubProcess': 'ad-hoc sub-processes are not supported',
  'bpmn:ReceiveTask':
    'receive tasks (message catch) are not supported: wait on the record with a conditional event instead',
  'bpmn:ComplexGateway': 'complex gateways are not supported: use an exclusive, inclusive or parallel gateway',
};
const RESULT_CONDITION = /^([A-Za-z_][A-Za-z0-9_.-]*)\.result\s*=\s*"((?:[^"\\]|\\.)+)"$/;

/** The text of a FEEL string literal's body: its escapes (`\"`, `\\`, `\n`, `\r`, `\t`, `\uXXXX`) read back. */
function unescapeFeelString(body: string): string {
  return body.replace(/\\(u[0-9A-Fa-f]{4}|.)/g, (_all, escape: string) => {
    if (escape.length === 5) return String.fromCharCode(parseInt(escape.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t' } as Record<string, string>)[escape] ?? escape;
  });
}

const DUE_DATE = /^now\(\)\s*\+\s*duration\(\s*"([^"]+)"\s*\)$/;
const EVENT_KINDS = ['created', 'updated', 'deleted'] as const;

/** One activity's or one part's element, by definition path (`activities.review`, `activities.review.boundary[0]`). */
export type ElementIndex = Map<string, El>;

/** Maps the chosen `bpmn:process` to a definition document (decision 0010's table); refusals go to `issues`. */
export class ProcessReader {
  readonly index: ElementIndex = new Map();
  private readonly nodes: El[] = [];
  private readonly outgoing = new Map<El, El[]>();
  private readonly incoming = new Map<El, El[]>();
  private readonly attached = new Map<El, El[]>();
  private readonly ids = new Map<El, string>();
  /** Catch events read as part of an event-based gateway's wait. */
  private readonly absorbed = new Set<El>();
  private readonly byElementId = new Map<string, El>();

  constructor(
    private readonly process: El,
    private readonly forms: Map<string, El>,
    private readonly options: BpmnImportOptions,
    private readonly issues: ImportIssues,
  ) {}

  read(): Doc {
    this.index.set('', this.process);
    this.collect();
    const activities: Doc = {};
    for (const node of this.nodes) {
      const id = this.ids.get(node);
      if (id === undefined) continue;
      const activity = this.activity(node, id);
      if (activity) activities[id] = activity;
    }
    const { triggers, start } = this.starts();
    return { ...this.header(), triggers, ...(start !== undefined ? { start } : {}), activities, ...this.extras() };
  }

  // ---- the graph ----

  private collect(): void {
    const flows: El[] = [];
    for (const element of list(this.process, 'flowElements')) {
      if (element.id) this.byElementId.set(element.id, element);
      if (element.$type === 'bpmn:SequenceFlow') flows.push(element);
      else if (!IGNORED.has(element.$type)) this.nodes.push(element);
    }
    for (const node of this.nodes) {
      this.outgoing.set(node, []);
      this.incoming.set(node, []);
    }
    for (const flow of flows) {
      const source = child(flow, 'sourceRef');
      const target = child(flow, 'targetRef');
      if (!source || !target || !this.outgoing.has(source) || !this.incoming.has(target)) {
        this.issues.refuse(flow, 'a sequence flow must connect two elements of the process', 'BPMN.DANGLING_FLOW');
        continue;
      }
      this.outgoing.get(source)?.push(flow);
      this.incoming.get(target)?.push(flow);
    }
    // Branch order is the order of the element's `outgoing` references when it lists them.
    for (const [node, out] of this.outgoing) {
      const order = list(node, 'outgoing');
      if (order.length > 0) out.sort((a, b) => rank(order, a) - rank(order, b));
    }
    for (const node of this.nodes) {
      if (node.$type !== 'bpmn:BoundaryEvent') continue;
      const host = child(node, 'attachedToRef');
      if (!host || !this.outgoing.has(host)) {
        this.issues.refuse(node, 'a boundary event must be attached to a task of the process', 'BPMN.DANGLING_FLOW');
        continue;
      }
      this.attached.set(host, [...(this.attached.get(host) ?? []), node]);
    }
    for (const node of this.nodes) {
      if (node.$type !== 'bpmn:EventBasedGateway') continue;
      for (const flow of this.outgoing.get(node) ?? []) {
        const target = child(flow, 'targetRef');
        if (target?.$type === 'bpmn:IntermediateCatchEvent') this.absorbed.add(target);
      }
    }
    const taken = new Map<string, El>();
    for (const node of this.nodes) {
      const type = node.$type;
      if (type === 'bpmn:StartEvent' || type === 'bpmn:BoundaryEvent' || this.absorbed.has(node) || this.isMerge(node))
        continue;
      const id = activityIdOf(node.id ?? '');
      const other = taken.get(id);
      if (other) {
        this.issues.refuse(
          node,
          `its id becomes the activity id '${id}', as ${other.id} does: rename one of them`,
          'BPMN.ID_COLLISION',
        );
        continue;
      }
      taken.set(id, node);
      this.ids.set(node, id);
      this.index.set(`activities.${id}`, node);
    }
  }

  /** A converging exclusive gateway (one way out): a merge, which disappears into the flows through it. */
  private isMerge(node: El): boolean {
    return node.$type === 'bpmn:ExclusiveGateway' && (this.outgoing.get(node)?.length ?? 0) === 1;
  }

  /** The activity a flow leads to, through merges. */
  private target(flow: El): string | undefined {
    let node = child(flow, 'targetRef');
    const seen = new Set<El>();
    while (node && this.isMerge(node)) {
      if (seen.has(node)) {
        this.issues.refuse(node, 'a loop of merging gateways leads nowhere', 'BPMN.UNSUPPORTED');
        return undefined;
      }
      seen.add(node);
      const out = this.outgoing.get(node)?.[0];
      if (out && bodyOf(child(out, 'conditionExpression')) !== undefined) {
        this.issues.refuse(out, 'the one flow out of a merging gateway takes no condition');
      }
      node = out ? child(out, 'targetRef') : undefined;
    }
    if (!node) return undefined;
    const id = this.ids.get(node);
    if (id === undefined && (node.$type === 'bpmn:StartEvent' || node.$type === 'bpmn:BoundaryEvent')) {
      this.issues.refuse(flow, 'a flow cannot lead into a start or boundary event', 'BPMN.DANGLING_FLOW');
    }
    return id;
  }

  /** An element id named in an attribute (`next`, `onRecordDeletedNext`) as an activity id. */
  private named(elementId: string): string {
    const node = this.byElementId.get(elementId);
    if (node && this.isMerge(node)) {
      const flow = this.outgoing.get(node)?.[0];
      return (flow && this.target(flow)) ?? activityIdOf(elementId);
    }
    return (node && this.ids.get(node)) ?? activityIdOf(elementId);
  }

  /** Where an activity goes next: one flow, or several unconditioned ones (a fork). */
  private next(node: El, what: string): string | string[] | undefined {
    const flows = this.outgoing.get(node) ?? [];
    if (flows.length === 0) {
      this.issues.refuse(
        node,
        `${what} needs an outgoing flow: draw one to the next step (an end event ends the line)`,
        'BPMN.NO_OUTGOING_FLOW',
      );
      return undefined;
    }
    const targets: string[] = [];
    for (const flow of flows) {
      if (bodyOf(child(flow, 'conditionExpression')) !== undefined) {
        this.issues.refuse(
          flow,
          `a condition on a flow out of ${what} is not supported: put an exclusive gateway after it`,
        );
        continue;
      }
      const target = this.target(flow);
      if (target !== undefined) targets.push(target);
    }
    if (targets.length !== flows.length) return undefined;
    return targets.length === 1 ? targets[0] : targets;
  }

  // ---- the definition's own fields ----

  private header(): Doc {
    const settings = extensionOf(this.process, 'lifeline:Definition');
    const processId = this.process.id ?? '';
    const key = str(settings, 'key') ?? this.options.key ?? keyOf(processId);
    const relatedEntity = str(settings, 'relatedEntity') ?? this.options.relatedEntity;
    if (relatedEntity === undefined) {
      this.issues.refuse(
        this.process,
        'name the record type the process is about: lifeline:definition relatedEntity on the process, or the relatedEntity option (?relatedEntity=, --related-entity)',
        'BPMN.NO_RELATED_ENTITY',
      );
    }
    const name = str(this.process, 'name') ?? processId;
    const doc: Doc = { key, name, relatedEntity };
    if (settings?.executionOrder !== undefined) doc.executionOrder = settings.executionOrder;
    if (settings?.enabled !== undefined) doc.enabled = settings.enabled;
    const startableBy = words(str(settings, 'startableBy'));
    if (startableBy) doc.startableBy = startableBy;
    return doc;
  }

  private extras(): Doc {
    const settings = extensionOf(this.process, 'lifeline:Definition');
    if (!settings) return {};
    const doc: Doc = {};
    const onRecordDeleted = str(settings, 'onRecordDeleted');
    if (onRecordDeleted === 'next') {
      const next = str(settings, 'onRecordDeletedNext');
      doc.onRecordDeleted = { next: next === undefined ? undefined : this.named(next) };
    } else if (onRecordDeleted !== undefined) doc.onRecordDeleted = onRecordDeleted;
    const starts = list(settings, 'conditionalStarts');
    if (starts.length > 0) {
      doc.conditionalStarts = starts.map((start) => {
        const when = str(start, 'when');
        const next = str(start, 'next');
        return {
          when: when === undefined ? undefined : feel(when),
          next: next === undefined ? undefined : this.named(next),
        };
      });
    }
    return doc;
  }

  // ---- start events ----

  private starts(): { triggers: Doc[]; start?: string } {
    const starts = this.nodes.filter((node) => node.$type === 'bpmn:StartEvent');
    if (starts.length === 0) {
      this.issues.refuse(this.process, 'the process needs a start event', 'BPMN.NO_START_EVENT');
      return { triggers: [] };
    }
    const triggers: Doc[] = [];
    let start: string | undefined;
    let first: El | undefined;
    for (const event of starts) {
      this.allowExtensions(event, ['lifeline:Trigger']);
      const trigger = this.trigger(event);
      if (trigger) {
        this.index.set(`triggers[${triggers.length}]`, event);
        triggers.push(trigger);
      }
      const flows = this.outgoing.get(event) ?? [];
      if (flows.length !== 1) {
        this.issues.refuse(event, 'a start event needs exactly one outgoing flow', 'BPMN.NO_OUTGOING_FLOW');
        continue;
      }
      const target = this.target(flows[0]);
      if (target === undefined) continue;
      if (start === undefined) {
        start = target;
        first = event;
        this.index.set('start', event);
      } else if (target !== start) {
        this.issues.refuse(
          event,
          `every start event must lead to the same first step (${first?.id} leads to ${start}): merge them with an exclusive gateway`,
          'BPMN.SEVERAL_STARTS',
        );
      }
    }
    return { triggers, start };
  }

  /** The trigger a start event stands for; undefined for a none start event (started by hand) or a refused one. */
  private trigger(event: El): Doc | undefined {
    const definitions = list(event, 'eventDefinitions');
    const settings = extensionOf(event, 'lifeline:Trigger');
    if (definitions.length === 0) return undefined;
    if (definitions.length > 1) {
      this.issues.refuse(event, 'a start event with several triggers is not supported: draw one start event each');
      return undefined;
    }
    const definition = definitions[0];
    const fields = words(str(settings, 'fields'));
    const delay = str(settings, 'delay');
    const when = str(settings, 'when');
    const extra = { ...(fields ? { fields } : {}), ...(delay !== undefined ? { delay } : {}) };
    switch (definition.$type) {
      case 'bpmn:MessageEventDefinition': {
        const message = child(definition, 'messageRef');
        const kind = str(settings, 'on') ?? kindOf(str(message, 'name'));
        if (kind === undefined) {
          this.issues.refuse(
            event,
            'name the message after the record event that starts the process: <Type>.created, <Type>.updated or <Type>.deleted',
          );
          return undefined;
        }
        return { on: kind, ...extra, ...(when !== undefined ? { when: feel(when) } : {}) };
      }
      case 'bpmn:ConditionalEventDefinition': {
        const condition = bodyOf(child(definition, 'condition'));
        if (condition === undefined) {
          this.issues.refuse(event, 'a conditional start event needs its condition');
          return undefined;
        }
        if (when !== undefined) {
          this.issues.refuse(event, 'give the condition once: on the conditional event, not in lifeline:trigger when');
          return undefined;
        }
        return { on: 'updated', ...extra, when: feel(condition) };
      }
      case 'bpmn:TimerEventDefinition': {
        const cycle = bodyOf(child(definition, 'timeCycle'));
        if (cycle === undefined || /^R\d*\//.test(cycle)) {
          this.issues.refuse(
            event,
            'a timer start event needs a cron expression as its time cycle (dates, durations and R/… repetitions are not supported)',
          );
          return undefined;
        }
        const timeZone = str(settings, 'timeZone');
        return { on: 'schedule', cron: cycle, ...(timeZone !== undefined ? { timeZone } : {}) };
      }
      default:
        this.issues.refuse(
          event,
          `${eventName(definition)} start events are not supported: start on a record event (a message named <Type>.created|updated|deleted), a condition, a cron timer, or by hand (a none start event)`,
        );
        return undefined;
    }
  }

  // ---- activities ----

  private activity(node: El, id: string): Doc | undefined {
    if (child(node, 'loopCharacteristics')) {
      this.issues.refuse(node, 'multi-instance and loop markers are not supported: draw the loop with a gateway');
      return undefined;
    }
    if (extensionOf(node, 'zeebe:ExecutionListeners')) {
      this.issues.refuse(node, 'execution listeners are not supported: model the work as a service task');
      return undefined;
    }
    const type = node.$type;
    if (type === 'bpmn:UserTask') return this.human(node, id);
    if (type === 'bpmn:Task' || type === 'bpmn:ManualTask') return this.automatic(node);
    if (type === 'bpmn:ScriptTask' && !extensionOf(node, 'zeebe:TaskDefinition')) return this.script(node);
    if (SERVICE_TASKS.has(type)) return this.service(node, id);
    if (type === 'bpmn:CallActivity') return this.subprocess(node);
    if (type === 'bpmn:ExclusiveGateway' || type === 'bpmn:InclusiveGateway') return this.choice(node, id);
    if (type === 'bpmn:ParallelGateway') return this.parallel(node);
    if (type === 'bpmn:EventBasedGateway') return this.eventGateway(node, id);
    if (type === 'bpmn:IntermediateCatchEvent') return this.catchEvent(node);
    if (type === 'bpmn:IntermediateThrowEvent') return this.throwEvent(node);
    if (type === 'bpmn:EndEvent') return this.end(node);
    const refused = REFUSED[type];
    if (type === 'bpmn:SubProcess' && node.triggeredByEvent === true) {
      this.issues.refuse(node, 'event sub-processes are not supported: use boundary events on a user task');
    } else this.issues.refuse(node, refused ?? `${type} is not supported`);
    return undefined;
  }

  /** Refuses extension elements other than the ones the element's mapping reads. */
  private allowExtensions(node: El, allowed: string[]): boolean {
    let ok = true;
    for (const extension of extensionsOf(node)) {
      const type = extension.$type;
      if (allowed.includes(type) || HARMLESS.has(type)) continue;
      ok = false;
      if (type === 'zeebe:TaskHeaders') {
        this.issues.refuse(node, 'task headers are not supported: pass values as inputs (zeebe:ioMapping)');
      } else if (type === 'zeebe:ExecutionListeners' || type === 'zeebe:TaskListeners') {
        this.issues.refuse(node, 'listeners are not supported: model the work as a service task');
      } else this.issues.refuse(node, `${type} on a ${node.$type.replace('bpmn:', '')} is not supported`);
    }
    return ok;
  }

  private boundariesOf(node: El): El[] {
    return this.attached.get(node) ?? [];
  }

  /** Boundary events on anything but a user task (timers, conditions) or a service (errors). */
  private refuseBoundaries(node: El): void {
    for (const boundary of this.boundariesOf(node)) {
      this.issues.refuse(
        boundary,
        'boundary events are supported on user tasks (timers, conditions) and errors on service tasks only',
      );
    }
  }

  /** ioMapping outputs (or inputs) as name → FEEL. */
  private mapping(node: El, kind: 'inputParameters' | 'outputParameters'): Record<string, string> | undefined {
    const io = extensionOf(node, 'zeebe:IoMapping');
    const parameters = list(io, kind);
    if (parameters.length === 0) return undefined;
    const out: Record<string, string> = {};
    for (const parameter of parameters) {
      const target = str(parameter, 'target') ?? '';
      const source = str(parameter, 'source');
      if (source === undefined) {
        this.issues.refuse(node, `the mapping of ${target || 'a variable'} needs a source expression`);
        continue;
      }
      out[target] = feel(source);
    }
    return out;
  }

  private refuseMapping(node: El, kind: 'inputParameters' | 'outputParameters', why: string): void {
    if (list(extensionOf(node, 'zeebe:IoMapping'), kind).length > 0) this.issues.refuse(node, why);
  }

  private human(node: El, id: string): Doc | undefined {
    this.allowExtensions(node, [
      'zeebe:AssignmentDefinition',
      'zeebe:TaskSchedule',
      'zeebe:FormDefinition',
      'lifeline:Task',
      'zeebe:IoMapping',
    ]);
    this.refuseMapping(
      node,
      'inputParameters',
      'inputs on a user task are not supported: set variables in a task before it',
    );
    this.refuseMapping(
      node,
      'outputParameters',
      'outputs on a user task are not supported: the form fields are the task data',
    );
    const activity: Doc = { type: 'human', title: str(node, 'name') };
    const documentation = list(node, 'documentation')
      .map((d) => str(d, 'text') ?? '')
      .filter((text) => text.trim() !== '');
    if (documentation.length > 0) activity.instructions = documentation.join('\n\n');
    const task = extensionOf(node, 'lifeline:Task');
    const hint = str(task, 'hint');
    if (hint !== undefined) activity.hint = hint;
    activity.assignee = this.assignee(node);
    const dueIn = str(task, 'dueIn') ?? this.dueDate(node);
    if (dueIn !== undefined) activity.dueIn = dueIn;
    const declared = list(task, 'results').map((result) => str(result, 'name') ?? '');
    this.form(node, activity);
    const completeWhen = str(task, 'completeWhen');
    if (completeWhen !== undefined) activity.completeWhen = feel(completeWhen);
    const boundary = this.taskBoundaries(node, id);
    if (boundary.length > 0) activity.boundary = boundary;
    const { next, results } = this.humanNext(node, id, declared);
    if (results.length > 0) activity.results = results;
    activity.next = next;
    return activity;
  }

  private assignee(node: El): Doc | undefined {
    const assignment = extensionOf(node, 'zeebe:AssignmentDefinition');
    const assignee = str(assignment, 'assignee')?.trim() || undefined;
    const groups = str(assignment, 'candidateGroups')?.trim() || undefined;
    const users = str(assignment, 'candidateUsers')?.trim() || undefined;
    if (users !== undefined) {
      this.issues.refuse(node, 'candidate users are not supported: give an assignee or one candidate group (a role)');
      return undefined;
    }
    if (assignee !== undefined && groups !== undefined) {
      this.issues.refuse(node, 'give either an assignee or one candidate group (a role), not both');
      return undefined;
    }
    if (assignee !== undefined) return isExpression(assignee) ? { userFrom: feel(assignee) } : { user: assignee };
    if (groups !== undefined) {
      const list = groups.split(',').map((group) => group.trim());
      if (isExpression(groups) || list.length !== 1) {
        this.issues.refuse(node, 'a user task goes to one candidate group (a role): name exactly one');
        return undefined;
      }
      return { role: list[0] };
    }
    if (this.options.unassignedRole !== undefined) return { role: this.options.unassignedRole };
    this.issues.refuse(
      node,
      'a user task needs an assignee (zeebe:assignmentDefinition assignee, a user or =expression) or one candidate group (a role), or import with the unassignedRole option',
      'BPMN.NO_ASSIGNEE',
    );
    return undefined;
  }

  /** `zeebe:taskSchedule dueDate="=now() + duration(\"P2D\")"` as a duration; other forms are refused. */
  private dueDate(node: El): string | undefined {
    const schedule = extensionOf(node, 'zeebe:TaskSchedule');
    if (!schedule) return undefined;
    if (str(schedule, 'followUpDate') !== undefined) {
      this.issues.refuse(node, 'follow-up dates are not supported: use a boundary timer that reminds');
    }
    const dueDate = str(schedule, 'dueDate');
    if (dueDate === undefined) return undefined;
    const match = DUE_DATE.exec(feel(dueDate));
    if (!isExpression(dueDate) || !match) {
      this.issues.refuse(node, 'a due date must read =now() + duration("P2D") (a duration from the task\'s start)');
      return undefined;
    }
    return match[1];
  }

  private form(node: El, activity: Doc): void {
    const definition = extensionOf(node, 'zeebe:FormDefinition');
    if (!definition) return;
    const formKey = str(definition, 'formKey');
    const prefix = 'camunda-forms:bpmn:';
    if (formKey === undefined || !formKey.startsWith(prefix)) {
      this.issues.refuse(
        node,
        'linked forms (formId, an external reference or key) are not supported: embed the form in the diagram (zeebe:userTaskForm)',
      );
      return;
    }
    const form = this.forms.get(formKey.slice(prefix.length));
    const body = str(form, 'body');
    if (body === undefined) {
      this.issues.refuse(node, `the form ${formKey} is not embedded in the process (zeebe:userTaskForm)`);
      return;
    }
    const reading = readCamundaForm(body);
    if ('problems' in reading) {
      for (const problem of reading.problems) this.issues.refuse(node, problem, 'BPMN.UNSUPPORTED_FORM');
      return;
    }
    if (reading.form) activity.form = reading.form;
    if (reading.question) activity.question = reading.question;
  }

  /** A user task's next: one per result (flows with `=<task>.result = "<result>"`), or unconditioned flows. */
  private humanNext(
    node: El,
    id: string,
    declared: string[],
  ): { next: string | string[] | Record<string, string> | undefined; results: string[] } {
    const flows = this.outgoing.get(node) ?? [];
    const conditioned = flows.filter((flow) => bodyOf(child(flow, 'conditionExpression')) !== undefined);
    if (conditioned.length === 0) return { next: this.next(node, 'a user task'), results: declared };
    const byResult: Record<string, string> = {};
    const results = [...declared];
    for (const flow of flows) {
      const condition = bodyOf(child(flow, 'conditionExpression'));
      const match = condition === undefined ? null : RESULT_CONDITION.exec(feel(condition));
      if (!match || (match[1] !== id && match[1] !== node.id)) {
        this.issues.refuse(
          flow,
          `every flow out of a task with results needs the condition =${id}.result = "<result>" (other conditions go on an exclusive gateway after the task)`,
        );
        continue;
      }
      const result = unescapeFeelString(match[2]);
      if (Object.prototype.hasOwnProperty.call(byResult, result)) {
        this.issues.refuse(flow, `two flows for the result ${result}: one flow per result`);
        continue;
      }
      const target = this.target(flow);
      if (target !== undefined) byResult[result] = target;
      this.index.set(`activities.${id}.next.${result}`, flow);
      if (!results.includes(result)) results.push(result);
    }
    return { next: byResult, results };
  }

  private taskBoundaries(node: El, id: string): Doc[] {
    const out: Doc[] = [];
    for (const boundary of this.boundariesOf(node)) {
      this.allowExtensions(boundary, ['lifeline:Boundary']);
      const read = this.boundary(boundary, true);
      if (!read) continue;
      this.index.set(`activities.${id}.boundary[${out.length}]`, boundary);
      out.push(read);
    }
    return out;
  }

  /** One boundary event of a user task (`onTask`) or one catch event of a wait's event-based gateway. */
  private boundary(event: El, onTask: boolean): Doc | undefined {
    const definitions = list(event, 'eventDefinitions');
    const definition = definitions.length === 1 ? definitions[0] : undefined;
    const settings = extensionOf(event, 'lifeline:Boundary');
    const interrupting = event.$type !== 'bpmn:BoundaryEvent' || event.cancelActivity !== false;
    if (definition?.$type === 'bpmn:TimerEventDefinition') {
      const after = this.duration(event, definition);
      if (after === undefined) return undefined;
      if (interrupting) {
        const next = this.single(event);
        return next === undefined ? undefined : { after, next };
      }
      const every = str(settings, 'every');
      const reassignUser = str(settings, 'reassignUser');
      const reassignRole = str(settings, 'reassignRole');
      const action =
        reassignUser !== undefined
          ? { reassign: { user: reassignUser } }
          : reassignRole !== undefined
            ? { reassign: { role: reassignRole } }
            : settings?.remind === true
              ? { remind: true }
              : undefined;
      if (!onTask || action === undefined) {
        this.issues.refuse(
          event,
          'a non-interrupting timer must reassign or remind (lifeline:boundary reassignUser, reassignRole or remind): Lifeline has no other meaning for it',
        );
        return undefined;
      }
      if ((this.outgoing.get(event)?.length ?? 0) > 0) {
        this.issues.refuse(event, 'a timer that reassigns or reminds has no outgoing flow');
        return undefined;
      }
      return { after, ...(every !== undefined ? { every } : {}), ...action };
    }
    if (definition?.$type === 'bpmn:ConditionalEventDefinition') {
      if (!interrupting) {
        this.issues.refuse(event, 'non-interrupting conditional events are not supported: make it interrupting');
        return undefined;
      }
      const when = bodyOf(child(definition, 'condition'));
      if (when === undefined) {
        this.issues.refuse(event, 'a conditional event needs its condition');
        return undefined;
      }
      const next = this.single(event);
      return next === undefined ? undefined : { when: feel(when), next };
    }
    this.issues.refuse(
      event,
      definition
        ? `${eventName(definition)} events are not supported here: use a timer or a conditional event`
        : 'an event here needs one timer or conditional definition',
    );
    return undefined;
  }

  /** A timer's `timeDuration`; dates and cycles are refused. */
  private duration(event: El, timer: El): string | undefined {
    const duration = bodyOf(child(timer, 'timeDuration'));
    if (duration === undefined) {
      this.issues.refuse(
        event,
        'this timer needs a duration (timeDuration, e.g. P2D): dates and cycles are not supported (a lifeline:boundary every repeats a reminder)',
      );
      return undefined;
    }
    return isExpression(duration) ? feel(duration).replace(/^duration\(\s*"([^"]+)"\s*\)$/, '$1') : duration;
  }

  /** The one flow out of an event, as its target. */
  private single(event: El): string | undefined {
    const flows = this.outgoing.get(event) ?? [];
    if (flows.length !== 1) {
      this.issues.refuse(event, 'this event needs exactly one outgoing flow', 'BPMN.NO_OUTGOING_FLOW');
      return undefined;
    }
    if (bodyOf(child(flows[0], 'conditionExpression')) !== undefined) {
      this.issues.refuse(flows[0], 'a flow out of an event takes no condition');
      return undefined;
    }
    return this.target(flows[0]);
  }

  private automatic(node: El): Doc | undefined {
    this.allowExtensions(node, ['zeebe:IoMapping', 'lifeline:Emit']);
    this.refuseBoundaries(node);
    this.refuseMapping(node, 'inputParameters', 'inputs are not supported here: outputs set variables');
    const activity: Doc = { type: 'automatic' };
    const set = this.mapping(node, 'outputParameters');
    if (set) activity.set = set;
    const emit = this.emit(node);
    if (emit) activity.emit = emit;
    if (!set && !emit) {
      this.issues.refuse(
        node,
        'a task Lifeline runs by itself sets variables (zeebe:ioMapping outputs) or emits an event (lifeline:emit); for work of a person use a user task, for work of a system a service task',
        'BPMN.EMPTY_TASK',
      );
      return undefined;
    }
    activity.next = this.next(node, 'a task');
    return activity;
  }

  private emit(node: El): Doc | undefined {
    const emit = extensionOf(node, 'lifeline:Emit');
    if (!emit) return undefined;
    const payload: Record<string, string> = {};
    for (const entry of list(emit, 'payload')) {
      const expression = str(entry, 'expression');
      payload[str(entry, 'name') ?? ''] = expression === undefined ? '' : feel(expression);
    }
    return {
      topic: str(emit, 'topic'),
      type: str(emit, 'type'),
      ...(Object.keys(payload).length > 0 ? { payload } : {}),
    };
  }

  private script(node: El): Doc | undefined {
    this.allowExtensions(node, ['zeebe:Script']);
    this.refuseBoundaries(node);
    const script = extensionOf(node, 'zeebe:Script');
    const expression = str(script, 'expression');
    const variable = str(script, 'resultVariable');
    if (expression === undefined || variable === undefined) {
      this.issues.refuse(
        node,
        'a script task needs a FEEL expression and a result variable (zeebe:script), or a job type (zeebe:taskDefinition)',
      );
      return undefined;
    }
    return { type: 'automatic', set: { [variable]: feel(expression) }, next: this.next(node, 'a script task') };
  }

  private service(node: El, id: string): Doc | undefined {
    const kind = node.$type.replace('bpmn:', '');
    if (extensionOf(node, 'zeebe:CalledDecision')) {
      this.issues.refuse(node, 'DMN decisions are not supported: use an exclusive gateway, or a job type');
      return undefined;
    }
    this.allowExtensions(node, ['zeebe:TaskDefinition', 'zeebe:IoMapping', 'lifeline:Service']);
    const definition = extensionOf(node, 'zeebe:TaskDefinition');
    const jobType = str(definition, 'type');
    if (jobType === undefined || isExpression(jobType)) {
      this.issues.refuse(node, `a ${kind} needs a job type (zeebe:taskDefinition type, a name, not an expression)`);
      return undefined;
    }
    this.refuseMapping(
      node,
      'outputParameters',
      'outputs on a service task are not supported: the worker completes the job with the variables',
    );
    const activity: Doc = { type: 'service', jobType };
    const retries = str(definition, 'retries');
    if (retries !== undefined) activity.retries = /^\d+$/.test(retries) ? Number(retries) : retries;
    const retryBackoff = str(extensionOf(node, 'lifeline:Service'), 'retryBackoff');
    if (retryBackoff !== undefined) activity.retryBackoff = retryBackoff;
    const inputs = this.mapping(node, 'inputParameters');
    if (inputs) activity.inputs = inputs;
    const errors: Record<string, string> = {};
    for (const boundary of this.boundariesOf(node)) {
      const definitions = list(boundary, 'eventDefinitions');
      const error = definitions.length === 1 && definitions[0].$type === 'bpmn:ErrorEventDefinition';
      if (!error) {
        this.issues.refuse(boundary, 'a service task takes error boundary events only');
        continue;
      }
      const code = str(child(definitions[0], 'errorRef'), 'errorCode');
      if (code === undefined || isExpression(code)) {
        this.issues.refuse(boundary, 'an error boundary event needs an error with an error code (not an expression)');
        continue;
      }
      if (Object.prototype.hasOwnProperty.call(errors, code)) {
        this.issues.refuse(boundary, `two boundary events catch the error ${code}: one per code`);
        continue;
      }
      const next = this.single(boundary);
      if (next === undefined) continue;
      errors[code] = next;
      this.index.set(`activities.${id}.errors.${code}`, boundary);
    }
    if (Object.keys(errors).length > 0) activity.errors = errors;
    activity.next = this.next(node, `a ${kind}`);
    return activity;
  }

  private subprocess(node: El): Doc | undefined {
    this.allowExtensions(node, ['zeebe:CalledElement', 'zeebe:IoMapping', 'lifeline:Call']);
    this.refuseBoundaries(node);
    const called = str(extensionOf(node, 'zeebe:CalledElement'), 'processId');
    if (called === undefined || isExpression(called)) {
      this.issues.refuse(
        node,
        'a call activity needs the called process id (zeebe:calledElement processId, not an expression)',
      );
      return undefined;
    }
    const call = extensionOf(node, 'lifeline:Call');
    const activity: Doc = { type: 'subprocess', process: keyOf(called) };
    if (call?.version !== undefined) activity.version = call.version;
    const recordType = str(call, 'recordType');
    const recordId = str(call, 'recordId');
    if (recordType !== undefined || recordId !== undefined) {
      activity.record = { type: recordType, id: recordId === undefined ? undefined : feel(recordId) };
    }
    const inputs = this.mapping(node, 'inputParameters');
    if (inputs) activity.inputs = inputs;
    const outputs = this.mapping(node, 'outputParameters');
    if (outputs) activity.outputs = outputs;
    activity.next = this.next(node, 'a call activity');
    return activity;
  }

  /** A diverging exclusive (decision) or inclusive gateway: conditional flows in order, the default is otherwise. */
  private choice(node: El, id: string): Doc | undefined {
    this.allowExtensions(node, []);
    const inclusive = node.$type === 'bpmn:InclusiveGateway';
    const flows = this.outgoing.get(node) ?? [];
    if (inclusive && flows.length === 1) return this.join(node);
    if (flows.length === 0) {
      this.issues.refuse(node, 'a gateway needs outgoing flows', 'BPMN.NO_OUTGOING_FLOW');
      return undefined;
    }
    if (inclusive && (this.incoming.get(node)?.length ?? 0) > 1) {
      // Joins, then takes every outgoing flow: a join whose next forks. Conditions after a join need a gateway of their own.
      if (flows.every((flow) => bodyOf(child(flow, 'conditionExpression')) === undefined) && !node.default) {
        return this.join(node);
      }
      this.issues.refuse(
        node,
        'a gateway that joins and then chooses by conditions: draw a joining gateway, then a deciding one',
      );
      return undefined;
    }
    const fallback = child(node, 'default');
    const branches: Doc[] = [];
    let otherwise: string | undefined;
    for (const flow of flows) {
      const condition = bodyOf(child(flow, 'conditionExpression'));
      if (flow === fallback) {
        otherwise = this.target(flow);
        this.index.set(`activities.${id}.otherwise`, flow);
        continue;
      }
      if (condition === undefined) {
        this.issues.refuse(flow, 'a flow out of a deciding gateway needs a condition, or must be its default flow');
        continue;
      }
      this.index.set(`activities.${id}.branches[${branches.length}]`, flow);
      branches.push({ when: feel(condition), next: this.target(flow) });
    }
    if (fallback === undefined) {
      this.issues.refuse(
        node,
        'mark one outgoing flow as the default flow: it is taken when no condition holds',
        'BPMN.NO_DEFAULT_FLOW',
      );
    }
    return { type: inclusive ? 'inclusive' : 'decision', branches, otherwise };
  }

  private parallel(node: El): Doc | undefined {
    this.allowExtensions(node, []);
    const flows = this.outgoing.get(node) ?? [];
    // Several incoming flows: it joins them, then forks into every outgoing one (a join whose next forks).
    if (flows.length === 1 || (this.incoming.get(node)?.length ?? 0) > 1) return this.join(node);
    const next = this.next(node, 'a parallel gateway');
    if (next === undefined) return undefined;
    return { type: 'parallel', branches: Array.isArray(next) ? next : [next] };
  }

  private join(node: El): Doc | undefined {
    const next = this.next(node, 'a joining gateway');
    return next === undefined ? undefined : { type: 'join', next };
  }

  /** An event-based gateway and the catch events after it: one wait (until, timeout, boundaries). */
  private eventGateway(node: El, id: string): Doc | undefined {
    this.allowExtensions(node, []);
    const events: El[] = [];
    for (const flow of this.outgoing.get(node) ?? []) {
      const target = child(flow, 'targetRef');
      if (!target || target.$type !== 'bpmn:IntermediateCatchEvent') {
        this.issues.refuse(flow, 'an event-based gateway leads to intermediate catch events only');
        continue;
      }
      if ((this.incoming.get(target)?.length ?? 0) !== 1) {
        this.issues.refuse(target, 'an event after an event-based gateway is reached from that gateway only');
        continue;
      }
      events.push(target);
    }
    if (events.length === 0) {
      this.issues.refuse(node, 'an event-based gateway needs catch events after it', 'BPMN.NO_OUTGOING_FLOW');
      return undefined;
    }
    const roles = events.map((event) => str(extensionOf(event, 'lifeline:Boundary'), 'role'));
    const kinds = events.map((event) => list(event, 'eventDefinitions')[0]?.$type);
    const explicit = (role: string) => roles.indexOf(role);
    const firstOf = (kind: string) => (roles.some((role) => role !== undefined) ? -1 : kinds.indexOf(kind));
    const untilAt = explicit('until') >= 0 ? explicit('until') : firstOf('bpmn:ConditionalEventDefinition');
    const timeoutAt = explicit('timeout') >= 0 ? explicit('timeout') : firstOf('bpmn:TimerEventDefinition');
    const wait: Doc = { type: 'wait' };
    let next: string | undefined;
    let onTimeout: string | undefined;
    const boundary: Doc[] = [];
    events.forEach((event, index) => {
      this.allowExtensions(event, ['lifeline:Boundary']);
      const role = roles[index];
      if (role !== undefined && !['until', 'timeout', 'boundary'].includes(role)) {
        this.issues.refuse(event, 'lifeline:boundary role is one of until, timeout, boundary');
        return;
      }
      if ((role === 'until' && index !== untilAt) || (role === 'timeout' && index !== timeoutAt)) {
        this.issues.refuse(event, `a wait has one ${role} event`);
        return;
      }
      const definition = list(event, 'eventDefinitions')[0];
      if (index === untilAt) {
        if (definition?.$type !== 'bpmn:ConditionalEventDefinition' || list(event, 'eventDefinitions').length !== 1) {
          this.issues.refuse(event, 'the until event of a wait is a conditional event');
          return;
        }
        const when = bodyOf(child(definition, 'condition'));
        if (when === undefined) {
          this.issues.refuse(event, 'a conditional event needs its condition');
          return;
        }
        wait.until = feel(when);
        next = this.single(event);
        this.index.set(`activities.${id}.until`, event);
        return;
      }
      if (index === timeoutAt) {
        if (definition?.$type !== 'bpmn:TimerEventDefinition' || list(event, 'eventDefinitions').length !== 1) {
          this.issues.refuse(event, 'the timeout event of a wait is a timer event');
          return;
        }
        const timeout = this.duration(event, definition);
        if (timeout === undefined) return;
        wait.timeout = timeout;
        onTimeout = this.single(event);
        this.index.set(`activities.${id}.timeout`, event);
        this.index.set(`activities.${id}.onTimeout`, event);
        return;
      }
      const read = this.boundary(event, false);
      if (!read) return;
      this.index.set(`activities.${id}.boundary[${boundary.length}]`, event);
      boundary.push(read);
    });
    if (wait.until === undefined && wait.timeout === undefined) {
      this.issues.refuse(node, 'a wait needs a conditional event (until) or a timer event (timeout) after the gateway');
      return undefined;
    }
    if (next === undefined) next = onTimeout;
    else if (onTimeout !== undefined && onTimeout !== next) wait.onTimeout = onTimeout;
    if (boundary.length > 0) wait.boundary = boundary;
    wait.next = next;
    return reorderWait(wait);
  }

  /** An intermediate catch event on its own: a wait on a condition (until) or a timer (timeout). */
  private catchEvent(node: El): Doc | undefined {
    this.allowExtensions(node, ['lifeline:Boundary']);
    const definitions = list(node, 'eventDefinitions');
    const definition = definitions.length === 1 ? definitions[0] : undefined;
    if (definition?.$type === 'bpmn:ConditionalEventDefinition') {
      const until = bodyOf(child(definition, 'condition'));
      if (until === undefined) {
        this.issues.refuse(node, 'a conditional event needs its condition');
        return undefined;
      }
      return { type: 'wait', until: feel(until), next: this.next(node, 'a catch event') };
    }
    if (definition?.$type === 'bpmn:TimerEventDefinition') {
      const timeout = this.duration(node, definition);
      if (timeout === undefined) return undefined;
      return { type: 'wait', timeout, next: this.next(node, 'a catch event') };
    }
    this.issues.refuse(
      node,
      definition
        ? `${eventName(definition)} catch events are not supported: wait on the record (a conditional event) or a timer`
        : 'a catch event needs a timer or a condition',
    );
    return undefined;
  }

  /** A none throw event (set variables) or a message throw event with lifeline:emit: an automatic activity. */
  private throwEvent(node: El): Doc | undefined {
    const definitions = list(node, 'eventDefinitions');
    const definition = definitions[0];
    if (definitions.length > 1 || (definition && definition.$type !== 'bpmn:MessageEventDefinition')) {
      this.issues.refuse(
        node,
        `${definition ? eventName(definition) : 'this'} throw events are not supported: set variables with a task or emit with lifeline:emit`,
      );
      return undefined;
    }
    if (definition && !extensionOf(node, 'lifeline:Emit')) {
      this.issues.refuse(
        node,
        'a message throw event emits an event to Kafka: give it lifeline:emit topic and type (or use a service task for a job)',
      );
      return undefined;
    }
    return this.automatic(node);
  }

  private end(node: El): Doc | undefined {
    this.allowExtensions(node, []);
    const definitions = list(node, 'eventDefinitions');
    if (definitions.length === 0) return { type: 'end' };
    if (definitions.length === 1 && definitions[0].$type === 'bpmn:TerminateEventDefinition') {
      return { type: 'end', terminate: true };
    }
    this.issues.refuse(
      node,
      `${eventName(definitions[0])} end events are not supported: use a none or terminate end event (an error is a result or a path)`,
    );
    return undefined;
  }
}

const rank = (order: El[], flow: El): number => {
  const at = order.indexOf(flow);
  return at < 0 ? Number.MAX_SAFE_INTEGER : at;
};

/** `Invoice.created` (or a name that ends with the kind) → the kind. */
function kindOf(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const lower = name.trim().toLowerCase();
  return EVENT_KINDS.find((kind) => lower.endsWith(kind));
}

/** `bpmn:SignalEventDefinition` → `signal`. */
function eventName(definition: El): string {
  return definition.$type.replace('bpmn:', '').replace('EventDefinition', '').toLowerCase();
}

function reorderWait(wait: Doc): Doc {
  const order = ['type', 'until', 'timeout', 'onTimeout', 'boundary', 'next'];
  return Object.fromEntries(order.filter((key) => wait[key] !== undefined).map((key) => [key, wait[key]]));
}
