import type { z } from 'zod';
import type { OPEN_INCIDENT } from '../results';
import type { LifelineEvent } from '@lifeline/process-domain';
import type { StoredEvent } from '@lifeline/event-store';
import { asLifelineEvent, instanceIdOf, json } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';
import { ACTIVITY_HEATMAP_SCHEMA, HEAT_UPSERT, HeatDeltas, type HeatOwner } from '../activity-heatmap/heat';
import { moveLines, type Line } from './positions';

/** Where an instance is in its life; `incident` is shown while a running instance has open incidents. */
export type InstanceLifecycle = 'running' | 'suspended' | 'completed' | 'terminated';
export type InstanceStatus = InstanceLifecycle | 'incident';

export type OpenIncident = z.infer<typeof OPEN_INCIDENT>;

export const INSTANCES_QUERY_INDEXES = [
  'CREATE INDEX IF NOT EXISTS instances_by_definition ON instances (definition_key, status)',
  'CREATE INDEX IF NOT EXISTS instances_by_entity ON instances (entity_type, entity_id)',
  'CREATE INDEX IF NOT EXISTS instances_by_status ON instances (status)',
];

export const INSTANCES_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS instances (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    definition_key TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    definition_name TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    status TEXT NOT NULL,
    current_activity TEXT,
    positions TEXT NOT NULL DEFAULT '[]',
    variables TEXT NOT NULL,
    incidents TEXT NOT NULL,
    incident_count INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    cause TEXT NOT NULL,
    last_position INTEGER NOT NULL
  )`,
];

const statements = preparedFor((db: Sql) => ({
  started: db.prepare(
    `INSERT OR IGNORE INTO instances (id, definition_key, definition_version, definition_name, entity_type, entity_id,
       lifecycle, status, variables, incidents, started_at, cause, current_activity, positions, last_position)
     VALUES (?, ?, ?, ?, ?, ?, 'running', 'running', ?, '[]', ?, ?, ?, ?, ?)`,
  ),
  moved: db.prepare(
    `UPDATE instances SET current_activity = COALESCE(?, current_activity), positions = COALESCE(?, positions),
       last_position = ? WHERE id = ?`,
  ),
  positions: db.prepare('SELECT positions, definition_key, definition_version FROM instances WHERE id = ?'),
  variables: db.prepare('SELECT variables FROM instances WHERE id = ?'),
  currentActivity: db.prepare('SELECT current_activity FROM instances WHERE id = ?').pluck(),
  migrated: db.prepare('UPDATE instances SET definition_version = ? WHERE id = ?'),
  setVariables: db.prepare('UPDATE instances SET variables = ?, last_position = ? WHERE id = ?'),
  state: db.prepare(
    'SELECT lifecycle, incidents, positions, definition_key, definition_version FROM instances WHERE id = ?',
  ),
  setState: db.prepare(
    `UPDATE instances SET lifecycle = @lifecycle, status = @status, incidents = @incidents,
       incident_count = @incidentCount, ended_at = COALESCE(@endedAt, ended_at),
       current_activity = COALESCE(@currentActivity, current_activity),
       positions = COALESCE(@positions, positions), last_position = @position
     WHERE id = @id`,
  ),
  /**
   * Per instance: its last position and activity entered in this batch, not yet written, and its start when
   * this batch started it. Tasks, waits and decisions only move these, so an instance's row is written once a
   * batch (inserted whole when it started in the batch), or with its next other change.
   */
  moves: new Map<string, Move>(),
  /** Recent instances' lifecycle and incidents as their rows stand (only this file writes them). */
  states: new Map<string, StateRow>(),
  /** Recent instances' lines as the events applied so far left them (written with their row's next write). */
  lines: new Map<string, Held>(),
  /** The batch's changes to the activity heatmap, from the lines and incidents this projection moves anyway. */
  heat: new HeatDeltas(),
  heatUpsert: db.prepare(HEAT_UPSERT),
}));

/** An instance's lines, and the definition version its heatmap figures count under (none: an instance not held). */
interface Held {
  lines: Line[];
  owner?: HeatOwner;
}

interface StateRow {
  lifecycle: InstanceLifecycle;
  incidents: string;
}

interface Move {
  position: number;
  activity: string | null;
  /** Its lines when this batch moved them, not yet written. */
  lines?: Line[];
  /** The InstanceStarted's columns (id … cause) when this batch started the instance, not yet inserted. */
  start?: unknown[];
}

function writeMove(s: ReturnType<typeof statements>, id: string): void {
  const move = s.moves.get(id);
  if (move === undefined) return;
  if (move.start !== undefined) return writeStarts(s);
  s.moves.delete(id);
  flushMove(s, id, move);
}

/** Inserts every start pending in this batch, in log order, so rows keep their order (seq) however batches fall. */
function writeStarts(s: ReturnType<typeof statements>): void {
  for (const [id, move] of s.moves) {
    if (move.start === undefined) continue;
    s.moves.delete(id);
    flushMove(s, id, move);
  }
}

function flushMove(s: ReturnType<typeof statements>, id: string, move: Move): void {
  if (move.start !== undefined) {
    // A start repeated for an existing row is ignored, as before; the moves that followed it still apply.
    if (s.started.run(...move.start, move.activity, linesJson(move.lines ?? []), move.position).changes === 1) {
      s.states.set(id, { lifecycle: 'running', incidents: '[]' });
      return;
    }
  }
  s.moved.run(move.activity, linesJson(move.lines), move.position, id);
}

function move(
  s: ReturnType<typeof statements>,
  id: string,
  position: number,
  activity: string | null,
  lines?: Line[],
): void {
  const pending = s.moves.get(id);
  if (pending === undefined) s.moves.set(id, lines ? { position, activity, lines } : { position, activity });
  else {
    pending.position = position;
    if (activity !== null) pending.activity = activity;
    if (lines !== undefined) pending.lines = lines;
  }
}

/** The lines as stored: built by `moveLines` alone, so their keys come in one order and need no sorting. */
const linesJson = (lines: Line[] | undefined): string | null => (lines === undefined ? null : JSON.stringify(lines));

/** The instance's lines as the events applied so far left them ([] for an instance this file does not hold). */
function heldOf(s: ReturnType<typeof statements>, id: string): Held {
  let held = s.lines.get(id);
  if (held === undefined) {
    const row = s.positions.get(id) as HeldRow | undefined;
    const start = s.moves.get(id)?.start;
    held = row
      ? heldFrom(row)
      : // Started in this batch, not inserted yet: no lines, and the version its start names.
        { lines: [], ...(start ? { owner: { key: start[1] as string, version: start[2] as number } } : {}) };
    s.lines.set(id, held);
  }
  return held;
}

/** The columns an instance's lines and heatmap owner are read from. */
interface HeldRow {
  positions: string;
  definition_key: string;
  definition_version: number;
}

const heldFrom = (row: HeldRow): Held => ({
  lines: JSON.parse(row.positions) as Line[],
  owner: { key: row.definition_key, version: row.definition_version },
});

/** The activities of the incidents that count on the heatmap: those of an instance not ended. */
const countedIncidents = (lifecycle: InstanceLifecycle, incidents: OpenIncident[]): string[] =>
  lifecycle === 'completed' || lifecycle === 'terminated' ? [] : incidents.map((i) => i.activityId);

/** The events that move an instance's lines (the others leave them where they are, unread). */
const MOVES_LINES = new Set<string>([
  'ActivityEntered',
  'BranchesForked',
  'BranchesJoined',
  'BranchesEnded',
  'WaitStarted',
  'ConditionalBranchStarted',
  'RecordDeleted',
  'InstanceMigrated',
  'InstanceCompleted',
  'InstanceTerminated',
]);

function statusOf(lifecycle: InstanceLifecycle, incidents: OpenIncident[]): InstanceStatus {
  return lifecycle === 'running' && incidents.length > 0 ? 'incident' : lifecycle;
}

/** One row per process instance: where it stands, its variables and its open incidents. */
export const instancesProjection: Projection = {
  name: 'instances',
  prepare: statements,
  // 2: `positions`, where each line of the instance rests (parallel branches). 3: the activity heatmap.
  version: 3,
  tables: ['instances', 'activity_heatmap'],
  schema: [...INSTANCES_SCHEMA, ...ACTIVITY_HEATMAP_SCHEMA],
  queryIndexes: INSTANCES_QUERY_INDEXES,
  startBatch(db: Sql): void {
    const s = statements(db);
    s.moves.clear();
    s.heat.clear();
    boundCache(s.states);
    boundCache(s.lines);
  },
  rolledBack(db: Sql): void {
    statements(db).states.clear();
    statements(db).lines.clear();
    statements(db).heat.clear();
  },
  endBatch(db: Sql): void {
    const s = statements(db);
    for (const [id, pending] of s.moves) flushMove(s, id, pending);
    s.moves.clear();
    s.heat.write(s.heatUpsert);
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    const id = instanceIdOf(stored.streamId);
    if (id === undefined) return;
    const s = statements(db);
    const event = decoded ?? asLifelineEvent(stored);
    const { position } = stored;
    const at = stored.metadata.at;
    let lines: Line[] | undefined;
    /** The version the instance's figures counted under before this event (a migration moves them). */
    let ownerBefore: HeatOwner | undefined;
    if (MOVES_LINES.has(event.type)) {
      const held = heldOf(s, id);
      lines = moveLines(held.lines, event, at);
      const from = (ownerBefore = held.owner);
      if (from !== undefined) {
        const migrated = event.type === 'InstanceMigrated';
        const to = migrated ? { key: from.key, version: event.data.toVersion } : from;
        if (lines !== undefined || migrated) s.heat.linesMoved(from, held.lines, to, lines ?? held.lines, at, migrated);
        if (event.type === 'ActivityEntered') s.heat.entered(to, event.data.activityId);
        held.owner = to;
      }
      if (lines !== undefined) held.lines = lines;
    }

    const changeState = (
      change: (
        lifecycle: InstanceLifecycle,
        incidents: OpenIncident[],
      ) => {
        lifecycle: InstanceLifecycle;
        incidents: OpenIncident[];
        endedAt?: string;
        currentActivity?: string;
      },
    ): void => {
      // A start still pending in this batch is inserted first (with its moves), so the row can be read.
      if (s.moves.get(id)?.start !== undefined) writeStarts(s);
      let row = s.states.get(id);
      if (row === undefined) {
        const read = s.state.get(id) as (StateRow & HeldRow) | undefined;
        if (!read) return;
        row = { lifecycle: read.lifecycle, incidents: read.incidents };
        s.states.set(id, row);
        // The same read gives its lines and version, so the heatmap's owner below needs no second one.
        if (!s.lines.has(id)) s.lines.set(id, heldFrom(read));
      }
      const before = JSON.parse(row.incidents) as OpenIncident[];
      const next = change(row.lifecycle, before);
      const owner = heldOf(s, id).owner;
      if (owner !== undefined) {
        const was = countedIncidents(row.lifecycle, before);
        const is = countedIncidents(next.lifecycle, next.incidents);
        if (was.length > 0 || is.length > 0) s.heat.incidentsMoved(ownerBefore ?? owner, was, owner, is);
      }
      // This update writes the position too, and the activity entered unless the change names one.
      const pending = s.moves.get(id);
      s.moves.delete(id);
      const incidents = json(next.incidents) ?? '[]';
      s.states.set(id, { lifecycle: next.lifecycle, incidents });
      s.setState.run({
        id,
        lifecycle: next.lifecycle,
        status: statusOf(next.lifecycle, next.incidents),
        incidents,
        incidentCount: next.incidents.length,
        endedAt: next.endedAt ?? null,
        currentActivity: next.currentActivity ?? pending?.activity ?? null,
        positions: linesJson(lines ?? pending?.lines),
        position,
      });
    };

    switch (event.type) {
      case 'InstanceStarted': {
        const d = event.data;
        writeMove(s, id);
        // A start repeated for an existing row keeps that row's lines: read them again when next moved (a new
        // instance's row is not there yet: it has no lines, and counts under the version this start names).
        s.lines.delete(id);
        // Inserted at the batch's end (or before the instance's next other change), with the activity entered.
        s.moves.set(id, {
          position,
          activity: null,
          start: [
            id,
            d.definitionKey,
            d.definitionVersion,
            d.definitionName,
            d.entity.type,
            d.entity.id,
            json(d.variables ?? {}),
            at,
            json(d.cause),
          ],
        });
        return;
      }
      case 'ActivityEntered':
        move(s, id, position, event.data.activityId, lines);
        return;
      case 'BranchesForked':
      case 'BranchesJoined':
      case 'BranchesEnded':
      case 'WaitStarted':
      case 'ConditionalBranchStarted':
      case 'RecordDeleted':
        move(s, id, position, null, lines);
        return;
      // A worker's variables join the process like an automatic activity's (job events are newer than any
      // file without this case, so no rebuild is needed).
      case 'JobCompleted':
      case 'JobErrorThrown':
      case 'SubprocessCompleted':
      case 'VariablesSet': {
        writeMove(s, id);
        const row = s.variables.get(id) as { variables: string } | undefined;
        if (!row) return;
        const merged = { ...(JSON.parse(row.variables) as Record<string, unknown>), ...event.data.variables };
        s.setVariables.run(json(merged) ?? '{}', position, id);
        return;
      }
      case 'IncidentRaised': {
        const d = event.data;
        const incident: OpenIncident = {
          incidentId: d.incidentId,
          activityId: d.activityId,
          code: d.code,
          message: d.message,
          ...(d.expression !== undefined ? { expression: d.expression } : {}),
          raisedAt: at,
        };
        changeState((lifecycle, incidents) => ({
          lifecycle,
          incidents: [...incidents.filter((i) => i.incidentId !== d.incidentId), incident],
        }));
        return;
      }
      case 'IncidentResolved':
        changeState((lifecycle, incidents) => ({
          lifecycle,
          incidents: incidents.filter((i) => i.incidentId !== event.data.incidentId),
        }));
        return;
      case 'InstanceMigrated': {
        // The row shows the new version, and its activity and incidents under their new ids.
        const { mapping, toVersion } = event.data;
        writeMove(s, id);
        const current = s.currentActivity.get(id) as string | null | undefined;
        s.migrated.run(toVersion, id);
        changeState((lifecycle, incidents) => ({
          lifecycle,
          incidents: incidents.map((i) => ({
            ...i,
            activityId: Object.hasOwn(mapping, i.activityId) ? mapping[i.activityId]! : i.activityId,
          })),
          ...(typeof current === 'string' && Object.hasOwn(mapping, current)
            ? { currentActivity: mapping[current] }
            : {}),
        }));
        return;
      }
      case 'InstanceSuspended':
        changeState((_, incidents) => ({ lifecycle: 'suspended', incidents }));
        return;
      case 'InstanceResumed':
        changeState((_, incidents) => ({ lifecycle: 'running', incidents }));
        return;
      case 'InstanceTerminated':
        changeState((_, incidents) => ({ lifecycle: 'terminated', incidents, endedAt: at }));
        return;
      case 'InstanceCompleted':
        changeState((_, incidents) => ({
          lifecycle: 'completed',
          incidents,
          endedAt: at,
          currentActivity: event.data.endActivityId,
        }));
        return;
      default:
        // Tasks, waits, decisions and messages only move the instance's position.
        move(s, id, position, null);
        return;
    }
  },
};
