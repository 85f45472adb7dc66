import type { EventStore, StoredEvent } from '@lifeline/event-store';
import {
  decide,
  decideTimer,
  decodeEvent,
  DomainError,
  dueTimers,
  evolve,
  initialState,
  ReactionBook,
  SYSTEM,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type LifelineEvent,
  type LoggedEvent,
  type ProcessDefinition,
  type Reaction,
} from '@lifeline/process-domain';

export interface WhatIfWindow {
  /** ISO instants; entity events recorded at from <= at <= to are replayed. */
  from: string;
  to: string;
}

/** Counts of what a definition did (or would do) in a window. */
export interface Outcome {
  started: number;
  /** `activityId -> next` → how many times that branch was taken (by a decision or a fork). */
  branches: Record<string, number>;
  /** `activityId: title` → tasks created. */
  tasks: Record<string, number>;
  waitsSatisfied: number;
  completed: number;
  incidents: number;
}

export interface OutcomeDifference {
  what: string;
  whatIf: number;
  actual: number;
}

export interface WhatIfReport {
  definitionKey: string;
  window: WhatIfWindow;
  /** Entity events of the definition's related entity type replayed from the window. */
  entityEvents: number;
  whatIf: Outcome;
  /** Under the version(s) then active, from the store. */
  actual: Outcome & { versions: number[] };
  differences: OutcomeDifference[];
  /** Commands the domain refused during the simulation (code → count). */
  refused: Record<string, number>;
}

type ReadableStore = Pick<EventStore, 'readAll'>;

const emptyOutcome = (): Outcome => ({
  started: 0,
  branches: {},
  tasks: {},
  waitsSatisfied: 0,
  completed: 0,
  incidents: 0,
});
const bump = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

function count(outcome: Outcome, event: InstanceEvent): void {
  switch (event.type) {
    case 'InstanceStarted':
      outcome.started++;
      return;
    case 'DecisionTaken':
      bump(outcome.branches, `${event.data.activityId} -> ${event.data.next}`);
      return;
    // A fork takes several branches at once (an inclusive one those whose condition held): each counts.
    case 'BranchesForked':
      for (const branch of event.data.branches) bump(outcome.branches, `${event.data.activityId} -> ${branch.next}`);
      return;
    case 'TaskCreated':
      bump(outcome.tasks, `${event.data.activityId}: ${event.data.title}`);
      return;
    case 'WaitSatisfied':
      outcome.waitsSatisfied++;
      return;
    case 'InstanceCompleted':
      outcome.completed++;
      return;
    case 'IncidentRaised':
      outcome.incidents++;
      return;
    default:
      return;
  }
}

/**
 * Replays the window's recorded entity events through `definition` with the pure domain only: the
 * same reactions decider the engine runs (`ReactionBook` keeps its state in memory) and the instance
 * decider on in-memory states, each event's time as `now`, fake ids. Nothing is appended anywhere.
 * Delayed starts and wait timeouts fire when the window's clock passes them. Simplification: tasks
 * are never completed (a flow stops at its first human task).
 */
export async function whatIf(
  store: ReadableStore,
  definition: ProcessDefinition,
  window: WhatIfWindow,
  batchSize = 5_000,
): Promise<WhatIfReport> {
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  const inWindow = (event: StoredEvent): boolean => {
    const at = Date.parse(event.metadata.at);
    return at >= from && at <= to;
  };
  const simulation = new Simulation(definition);
  const actual = { ...emptyOutcome(), versions: [] as number[] };
  const actualInstances = new Set<string>();
  let entityEvents = 0;

  let cursor = 0;
  for (;;) {
    const page = await store.readAll(cursor, batchSize);
    if (page.length === 0) break;
    cursor = page[page.length - 1]!.position;
    for (const stored of page) {
      if (!inWindow(stored)) continue;
      const event = decodeEvent(stored);
      if (event.type === 'EntityEventRecorded') {
        if (event.data.envelope.entityType !== definition.relatedEntity) continue;
        entityEvents++;
        simulation.record(stored, event);
        continue;
      }
      if (!stored.streamId.startsWith('instance-')) continue;
      if (event.type === 'InstanceStarted') {
        // Launches through the API are not the definition's triggers: the simulation cannot make them.
        if (event.data.definitionKey !== definition.key || event.data.cause.kind !== 'trigger') continue;
        actualInstances.add(stored.streamId);
        if (!actual.versions.includes(event.data.definitionVersion)) actual.versions.push(event.data.definitionVersion);
      }
      // Only instances started in the window, so both sides count the same population.
      if (actualInstances.has(stored.streamId)) count(actual, event as InstanceEvent);
    }
    if (page.length < batchSize) break;
  }
  simulation.until(window.to);

  return {
    definitionKey: definition.key,
    window,
    entityEvents,
    whatIf: simulation.outcome,
    actual,
    differences: differences(simulation.outcome, actual),
    refused: simulation.refused,
  };
}

/** The engine's loop in memory: each event is reacted to, each reaction decided, each resulting event reacted to. */
class Simulation {
  readonly outcome = emptyOutcome();
  readonly refused: Record<string, number> = {};
  private readonly book = new ReactionBook();
  private readonly instances = new Map<string, InstanceState>();
  private serial = 0;

  constructor(private readonly definition: ProcessDefinition) {
    this.book.fold({
      id: 'what-if-definition',
      streamId: `definition-${definition.key}`,
      at: new Date(0).toISOString(),
      correlationId: 'what-if',
      event: { type: 'DefinitionPublished', data: { key: definition.key, version: 0, definition } },
    });
  }

  /** An entity event of the window: due timers fire first, then the event is reacted to. */
  record(stored: StoredEvent, event: LifelineEvent): void {
    this.until(stored.metadata.at);
    this.react({
      id: stored.id,
      streamId: stored.streamId,
      at: stored.metadata.at,
      correlationId: stored.metadata.correlationId,
      event,
    });
  }

  /** Fires every timer due by `at`, in due order. */
  until(at: string): void {
    for (;;) {
      const due = [...this.book.records.values()]
        .flatMap((record) => dueTimers(record, at).map((timer) => ({ record, timer })))
        .sort((a, b) => Date.parse(a.timer.dueAt) - Date.parse(b.timer.dueAt))[0];
      if (!due) return;
      const before = Object.keys(due.record.timers).length;
      for (const reaction of decideTimer(due.timer, { definitions: this.book.definitions, record: due.record })) {
        this.apply(reaction, due.timer.dueAt);
      }
      const record = this.book.records.get(`entity-${due.record.entity.type}-${due.record.entity.id}`);
      // A timer whose reaction changed nothing would fire forever: drop it from the simulation.
      if (record && Object.keys(record.timers).length === before && record.timers[due.timer.timerId]) {
        const timers = { ...record.timers };
        delete timers[due.timer.timerId];
        this.book.records.set(`entity-${record.entity.type}-${record.entity.id}`, { ...record, timers });
      }
    }
  }

  private react(logged: LoggedEvent): void {
    for (const reaction of this.book.react(logged, context)) this.apply(reaction, logged.at);
  }

  private apply(reaction: Reaction, now: string): void {
    switch (reaction.type) {
      case 'StartInstance':
        this.run(reaction.command.instanceId, reaction.command, reaction.entityData, now);
        return;
      case 'RunInstanceCommand':
        this.run(reaction.instanceId, reaction.command, reaction.entityData, now);
        return;
      case 'ScheduleDelayedStart':
        this.react(this.logged(reaction.streamId, now, { type: 'DelayedStartScheduled', data: reaction.data }));
        return;
      case 'SkipDelayedStart': {
        const { timer } = reaction;
        this.react(
          this.logged(reaction.streamId, now, {
            type: 'DelayedStartSkipped',
            data: {
              instanceId: timer.instanceId,
              definitionKey: timer.definitionKey,
              definitionVersion: timer.definitionVersion,
              entityEventId: timer.entityEventId,
              reason: reaction.reason,
              startAt: timer.dueAt,
            },
          }),
        );
        return;
      }
      case 'TriggerFailed':
        bump(this.refused, reaction.code);
        return;
      case 'RecordScheduleTick':
        // Never decided here: what-if replays entity events, and a schedule's ticks are not among them.
        return;
      default: {
        const unknown: never = reaction;
        throw new Error(`Unknown reaction ${JSON.stringify(unknown)}`);
      }
    }
  }

  private run(
    instanceId: string,
    command: InstanceCommand,
    entityData: Record<string, unknown> = {},
    now: string,
  ): void {
    const state = this.instances.get(instanceId) ?? initialState();
    let events: InstanceEvent[];
    try {
      events = decide(state, command, {
        now,
        definition: this.definition,
        definitionVersion: 0,
        entityData,
        actor: SYSTEM,
        // Children are named, not started: the simulation runs one definition (their starts count as refused).
        childInstanceId: (name) => `what-if-child:${name}`,
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      bump(this.refused, error.code);
      return;
    }
    let next = state;
    for (const event of events) {
      next = evolve(next, event);
      count(this.outcome, event);
    }
    this.instances.set(instanceId, next);
    for (const event of events) this.react(this.logged(`instance-${instanceId}`, now, event));
  }

  private logged(streamId: string, at: string, event: LifelineEvent): LoggedEvent {
    return { id: `what-if-${++this.serial}`, streamId, at, correlationId: 'what-if', event };
  }
}

/** Fake ids: the simulation appends nothing, its ids only need to be distinct and stable within it. */
const context = { idFor: (name: string) => `what-if:${name}` };

function differences(whatIf: Outcome, actual: Outcome): OutcomeDifference[] {
  const out: OutcomeDifference[] = [];
  const add = (what: string, a: number, b: number) => {
    if (a !== b) out.push({ what, whatIf: a, actual: b });
  };
  add('instances started', whatIf.started, actual.started);
  for (const key of union(whatIf.branches, actual.branches))
    add(`branch ${key}`, whatIf.branches[key] ?? 0, actual.branches[key] ?? 0);
  for (const key of union(whatIf.tasks, actual.tasks))
    add(`task ${key}`, whatIf.tasks[key] ?? 0, actual.tasks[key] ?? 0);
  add('waits satisfied', whatIf.waitsSatisfied, actual.waitsSatisfied);
  add('incidents', whatIf.incidents, actual.incidents);
  return out;
}

const union = (a: Record<string, number>, b: Record<string, number>): string[] =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();

/** The report as a table a person reads in a terminal. */
export function formatWhatIf(report: WhatIfReport): string {
  const rows: [string, string, string][] = [['', 'what-if', `actual (v${report.actual.versions.join(',v') || '-'})`]];
  const line = (what: string, a: number, b: number) => rows.push([what, String(a), String(b)]);
  const w = report.whatIf;
  const r = report.actual;
  line('instances started', w.started, r.started);
  for (const key of union(w.branches, r.branches)) line(`branch ${key}`, w.branches[key] ?? 0, r.branches[key] ?? 0);
  for (const key of union(w.tasks, r.tasks)) line(`task ${key}`, w.tasks[key] ?? 0, r.tasks[key] ?? 0);
  line('waits satisfied', w.waitsSatisfied, r.waitsSatisfied);
  line('completed', w.completed, r.completed);
  line('incidents', w.incidents, r.incidents);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  const text = rows.map(
    (row) => `${row[0].padEnd(widths[0]!)}  ${row[1].padStart(widths[1]!)}  ${row[2].padStart(widths[2]!)}`,
  );
  const header = `What-if for ${report.definitionKey}, ${report.window.from} .. ${report.window.to}: ${report.entityEvents} entity events replayed`;
  const diff =
    report.differences.length === 0
      ? 'No differences.'
      : `${report.differences.length} difference(s):\n` +
        report.differences.map((d) => `  ${d.what}: ${d.whatIf} instead of ${d.actual}`).join('\n');
  return (
    [
      header,
      '',
      ...text,
      '',
      diff,
      'Tasks are not completed in a simulation: each flow stops at its first human task.',
    ].join('\n') + '\n'
  );
}
