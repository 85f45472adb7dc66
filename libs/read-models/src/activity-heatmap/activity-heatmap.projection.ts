import type { LifelineEvent } from '../../../process-domain/src/events';
import type { StoredEvent } from '../../../event-store/src/event-store';
import { MAIN_TOKEN } from '../../../process-domain/src/instance/state';
import { asLifelineEvent, instanceIdOf } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';
import { moveLines, type Line } from '../instances/positions';

export const ACTIVITY_HEATMAP_SCHEMA = [
  // Per definition version and activity: lines there now, open incidents there, entries, and the stays that ended
  // there (how many, their total and longest time in ms).
  `CREATE TABLE IF NOT EXISTS activity_heatmap (
    definition_key TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    activity_id TEXT NOT NULL,
    here INTEGER NOT NULL DEFAULT 0,
    incidents INTEGER NOT NULL DEFAULT 0,
    entered INTEGER NOT NULL DEFAULT 0,
    stays INTEGER NOT NULL DEFAULT 0,
    stay_ms INTEGER NOT NULL DEFAULT 0,
    stay_max_ms INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (definition_key, definition_version, activity_id)
  ) WITHOUT ROWID`,
  // Per instance: what the figures above need to move it (its lines, the stays under way, its open incidents).
  `CREATE TABLE IF NOT EXISTS activity_heatmap_instances (
    instance_id TEXT PRIMARY KEY,
    definition_key TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL
  ) WITHOUT ROWID`,
];

/** A stay under way: a line entered `activityId` at `since` (an ActivityEntered) and has not left. */
interface Stay {
  activityId: string;
  since: string;
}

interface InstanceState {
  lines: Line[];
  /** By token. */
  stays: Record<string, Stay>;
  /** Open incidents: incident id → activity. */
  incidents: Record<string, string>;
}

interface BatchInstance extends InstanceState {
  key: string;
  version: number;
  ended: boolean;
  changed: boolean;
  /** False while started in this batch and not yet inserted. */
  stored: boolean;
}

/** Changes to one activity's row gathered over a batch. */
interface Delta {
  key: string;
  version: number;
  activityId: string;
  here: number;
  incidents: number;
  entered: number;
  stays: number;
  stayMs: number;
  stayMaxMs: number;
}

const statements = preparedFor((db: Sql) => ({
  instance: db.prepare(
    'SELECT definition_key, definition_version, ended, state FROM activity_heatmap_instances WHERE instance_id = ?',
  ),
  insertInstance: db.prepare(
    `INSERT OR IGNORE INTO activity_heatmap_instances (instance_id, definition_key, definition_version, ended, state)
     VALUES (?, ?, ?, ?, ?)`,
  ),
  updateInstance: db.prepare(
    'UPDATE activity_heatmap_instances SET definition_version = ?, ended = ?, state = ? WHERE instance_id = ?',
  ),
  count: db.prepare(
    `INSERT INTO activity_heatmap (definition_key, definition_version, activity_id, here, incidents, entered, stays,
       stay_ms, stay_max_ms)
     VALUES (@key, @version, @activityId, @here, @incidents, @entered, @stays, @stayMs, @stayMaxMs)
     ON CONFLICT (definition_key, definition_version, activity_id) DO UPDATE SET here = here + excluded.here,
       incidents = incidents + excluded.incidents, entered = entered + excluded.entered,
       stays = stays + excluded.stays, stay_ms = stay_ms + excluded.stay_ms,
       stay_max_ms = max(stay_max_ms, excluded.stay_max_ms)`,
  ),
  /** Recent instances as their rows stand (written through at each batch's end; dropped on a rollback). */
  instances: new Map<string, BatchInstance>(),
  changed: [] as string[],
  deltas: new Map<string, Delta>(),
}));

type Statements = ReturnType<typeof statements>;

/** The events that change the heatmap; the others are skipped without reading the instance. */
const HANDLED = new Set<string>([
  'InstanceStarted',
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
  'IncidentRaised',
  'IncidentResolved',
]);

function delta(s: Statements, key: string, version: number, activityId: string): Delta {
  const id = `${key}\u0000${version}\u0000${activityId}`;
  let d = s.deltas.get(id);
  if (d === undefined) {
    d = { key, version, activityId, here: 0, incidents: 0, entered: 0, stays: 0, stayMs: 0, stayMaxMs: 0 };
    s.deltas.set(id, d);
  }
  return d;
}

function instanceOf(s: Statements, id: string): BatchInstance | undefined {
  let instance = s.instances.get(id);
  if (instance === undefined) {
    const row = s.instance.get(id) as
      { definition_key: string; definition_version: number; ended: number; state: string } | undefined;
    if (row === undefined) return undefined;
    instance = {
      ...(JSON.parse(row.state) as InstanceState),
      key: row.definition_key,
      version: row.definition_version,
      ended: row.ended === 1,
      changed: false,
      stored: true,
    };
    s.instances.set(id, instance);
  }
  return instance;
}

function markChanged(s: Statements, id: string, instance: BatchInstance): void {
  if (instance.changed) return;
  instance.changed = true;
  s.changed.push(id);
}

/** A line counts where it rests, except one resting at a fork while its branches run (as the instance page shows). */
function countLines(s: Statements, instance: BatchInstance, lines: readonly Line[], sign: 1 | -1): void {
  for (const line of lines) {
    if (line.forked === undefined) delta(s, instance.key, instance.version, line.activityId).here += sign;
  }
}

function countIncidents(s: Statements, instance: BatchInstance, sign: 1 | -1): void {
  for (const activityId of Object.values(instance.incidents)) {
    delta(s, instance.key, instance.version, activityId).incidents += sign;
  }
}

function endStay(s: Statements, instance: BatchInstance, token: string, at: string): void {
  const stay = instance.stays[token]!;
  delete instance.stays[token];
  const ms = Math.max(0, Date.parse(at) - Date.parse(stay.since));
  const d = delta(s, instance.key, instance.version, stay.activityId);
  d.stays += 1;
  d.stayMs += ms;
  if (ms > d.stayMaxMs) d.stayMaxMs = ms;
}

/** Ends every stay whose line has left it: gone, moved elsewhere, re-entered, or resting at a fork it made. */
function endStaysLeft(s: Statements, instance: BatchInstance, at: string): void {
  for (const [token, stay] of Object.entries(instance.stays)) {
    const line = instance.lines.find((l) => l.token === token);
    const stays =
      line !== undefined &&
      line.forked === undefined &&
      line.activityId === stay.activityId &&
      line.since === stay.since;
    if (!stays) endStay(s, instance, token, at);
  }
}

/**
 * Per definition version and activity, from the instances' events: how many lines rest there now (each line of a
 * parallel instance counts), open incidents there, how many times it was entered, and how long lines stayed there
 * (from its ActivityEntered until the line moved on, ended, or the instance ended).
 */
export const activityHeatmapProjection: Projection = {
  name: 'activity-heatmap',
  prepare: statements,
  version: 1,
  tables: ['activity_heatmap', 'activity_heatmap_instances'],
  schema: ACTIVITY_HEATMAP_SCHEMA,
  startBatch(db: Sql): void {
    const s = statements(db);
    s.changed.length = 0;
    s.deltas.clear();
    boundCache(s.instances);
  },
  rolledBack(db: Sql): void {
    statements(db).instances.clear();
  },
  endBatch(db: Sql): void {
    const s = statements(db);
    for (const id of s.changed) {
      const instance = s.instances.get(id)!;
      const state = JSON.stringify({ lines: instance.lines, stays: instance.stays, incidents: instance.incidents });
      const ended = instance.ended ? 1 : 0;
      if (instance.stored) s.updateInstance.run(instance.version, ended, state, id);
      else s.insertInstance.run(id, instance.key, instance.version, ended, state);
      instance.changed = false;
      instance.stored = true;
    }
    s.changed.length = 0;
    for (const d of s.deltas.values()) {
      if (d.here !== 0 || d.incidents !== 0 || d.entered !== 0 || d.stays !== 0) s.count.run(d);
    }
    s.deltas.clear();
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    if (!HANDLED.has(stored.type)) return;
    const id = instanceIdOf(stored.streamId);
    if (id === undefined) return;
    const s = statements(db);
    const event = decoded ?? asLifelineEvent(stored);
    const at = stored.metadata.at;

    if (event.type === 'InstanceStarted') {
      // A start repeated for a known instance changes nothing.
      if (instanceOf(s, id) !== undefined) return;
      const instance: BatchInstance = {
        key: event.data.definitionKey,
        version: event.data.definitionVersion,
        lines: [],
        stays: {},
        incidents: {},
        ended: false,
        changed: false,
        stored: false,
      };
      s.instances.set(id, instance);
      markChanged(s, id, instance);
      return;
    }
    const instance = instanceOf(s, id);
    if (instance === undefined || instance.ended) return;
    markChanged(s, id, instance);

    switch (event.type) {
      case 'IncidentRaised': {
        const { incidentId, activityId } = event.data;
        const was = instance.incidents[incidentId];
        if (was === activityId) return;
        if (was !== undefined) delta(s, instance.key, instance.version, was).incidents -= 1;
        instance.incidents[incidentId] = activityId;
        delta(s, instance.key, instance.version, activityId).incidents += 1;
        return;
      }
      case 'IncidentResolved': {
        const was = instance.incidents[event.data.incidentId];
        if (was === undefined) return;
        delete instance.incidents[event.data.incidentId];
        delta(s, instance.key, instance.version, was).incidents -= 1;
        return;
      }
      case 'InstanceMigrated': {
        // Its lines, stays under way and incidents count under the new version, at their activities' new ids.
        const { mapping, toVersion } = event.data;
        const rename = (activityId: string): string =>
          Object.hasOwn(mapping, activityId) ? mapping[activityId]! : activityId;
        countLines(s, instance, instance.lines, -1);
        countIncidents(s, instance, -1);
        instance.version = toVersion;
        instance.lines = moveLines(instance.lines, event, at) ?? instance.lines;
        for (const stay of Object.values(instance.stays)) stay.activityId = rename(stay.activityId);
        for (const [incidentId, activityId] of Object.entries(instance.incidents)) {
          instance.incidents[incidentId] = rename(activityId);
        }
        countLines(s, instance, instance.lines, 1);
        countIncidents(s, instance, 1);
        return;
      }
      default:
        break;
    }

    const lines = moveLines(instance.lines, event, at);
    if (lines !== undefined) {
      countLines(s, instance, instance.lines, -1);
      countLines(s, instance, lines, 1);
      instance.lines = lines;
    }
    endStaysLeft(s, instance, at);
    if (event.type === 'ActivityEntered') {
      const { activityId, activityType } = event.data;
      const token = event.data.token ?? MAIN_TOKEN;
      // Entering again the activity it rests at (a loop, within the same millisecond) is a new stay too.
      if (instance.stays[token] !== undefined) endStay(s, instance, token, at);
      delta(s, instance.key, instance.version, activityId).entered += 1;
      if (activityType !== 'end') instance.stays[token] = { activityId, since: at };
    } else if (event.type === 'InstanceCompleted' || event.type === 'InstanceTerminated') {
      // An ended instance is nowhere: its open incidents no longer count either.
      countIncidents(s, instance, -1);
      instance.incidents = {};
      instance.ended = true;
    }
  },
};
