import type { EventStore, StoredEvent } from '@lifeline/event-store';
import {
  decide,
  DomainError,
  evolve,
  initialState,
  matchTriggers,
  SYSTEM,
  type EntityEventEnvelope,
  type InstanceEvent,
  type InstanceState,
  type LifelineEvent,
  type ProcessDefinition,
} from '@lifeline/process-domain';

export interface WhatIfWindow {
  /** ISO instants; entity events recorded at from <= at <= to are replayed. */
  from: string;
  to: string;
}

/** Counts of what a definition did (or would do) in a window. */
export interface Outcome {
  started: number;
  /** `activityId -> next` → how many times that branch was taken. */
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

interface SimulatedInstance {
  state: InstanceState;
}

/**
 * Replays the window's recorded entity events through `definition` with the pure domain only:
 * trigger matching and the instance decider on in-memory states, fake ids, each event's time as
 * `now`. Nothing is appended anywhere. Simplifications: tasks are never completed (a flow stops at
 * its first human task), delayed triggers start at once, timeouts never fire within the window.
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
  const whatIfOutcome = emptyOutcome();
  const actual = { ...emptyOutcome(), versions: [] as number[] };
  const refused: Record<string, number> = {};
  const byRecord = new Map<string, SimulatedInstance[]>();
  const actualInstances = new Set<string>();
  const active = [{ definition, version: 0, enabled: true, executionOrder: definition.executionOrder }];
  let entityEvents = 0;
  let instanceCount = 0;

  const run = (instance: SimulatedInstance, produce: () => InstanceEvent[]): void => {
    try {
      for (const event of produce()) {
        instance.state = evolve(instance.state, event);
        count(whatIfOutcome, event);
      }
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      bump(refused, error.code);
    }
  };

  let cursor = 0;
  for (;;) {
    const page = await store.readAll(cursor, batchSize);
    if (page.length === 0) break;
    cursor = page[page.length - 1]!.position;
    for (const stored of page) {
      if (!inWindow(stored)) continue;
      const event = { type: stored.type, data: stored.data } as LifelineEvent;
      if (event.type === 'EntityEventRecorded') {
        const envelope: EntityEventEnvelope = event.data.envelope;
        if (envelope.entityType !== definition.relatedEntity) continue;
        entityEvents++;
        const now = stored.metadata.at;
        const ctx = { now, definition, definitionVersion: 0, entityData: envelope.data, actor: SYSTEM };
        const key = `${envelope.entityType}:${envelope.entityId}`;
        const instances = byRecord.get(key) ?? [];
        // Waits first, as the process manager does: an instance started by this event has already seen it.
        for (const instance of instances) {
          if (instance.state.status === 'running' && instance.state.wait) {
            run(instance, () => decide(instance.state, { type: 'CheckWait', entityEventId: envelope.id }, ctx));
          }
        }
        for (const match of matchTriggers(active, envelope, now).matches) {
          const instance: SimulatedInstance = { state: initialState() };
          const instanceId = `what-if-${++instanceCount}`;
          run(instance, () =>
            decide(
              instance.state,
              {
                type: 'StartInstance',
                instanceId,
                definitionKey: definition.key,
                definitionVersion: 0,
                entity: { type: envelope.entityType, id: envelope.entityId },
                variables: {},
                cause: {
                  kind: 'trigger',
                  entityEventId: envelope.id,
                  triggerIndex: match.triggerIndex,
                  delayed: match.delay !== undefined,
                },
              },
              ctx,
            ),
          );
          instances.push(instance);
        }
        byRecord.set(key, instances);
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

  return {
    definitionKey: definition.key,
    window,
    entityEvents,
    whatIf: whatIfOutcome,
    actual,
    differences: differences(whatIfOutcome, actual),
    refused,
  };
}

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
