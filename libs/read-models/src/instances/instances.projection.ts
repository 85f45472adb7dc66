import type { LifelineEvent } from '../../../process-domain/src/events';
import type { StoredEvent } from '../../../event-store/src/event-store';
import { asLifelineEvent, instanceIdOf, json } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';

/** Where an instance is in its life; `incident` is shown while a running instance has open incidents. */
export type InstanceLifecycle = 'running' | 'suspended' | 'completed' | 'terminated';
export type InstanceStatus = InstanceLifecycle | 'incident';

export interface OpenIncident {
  incidentId: string;
  activityId: string;
  code: string;
  message: string;
  expression?: string;
  raisedAt: string;
}

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
       lifecycle, status, variables, incidents, started_at, cause, last_position)
     VALUES (@id, @definitionKey, @definitionVersion, @definitionName, @entityType, @entityId,
       'running', 'running', @variables, '[]', @at, @cause, @position)`,
  ),
  moved: db.prepare(
    'UPDATE instances SET current_activity = COALESCE(?, current_activity), last_position = ? WHERE id = ?',
  ),
  variables: db.prepare('SELECT variables FROM instances WHERE id = ?'),
  setVariables: db.prepare('UPDATE instances SET variables = ?, last_position = ? WHERE id = ?'),
  state: db.prepare('SELECT lifecycle, incidents FROM instances WHERE id = ?'),
  setState: db.prepare(
    `UPDATE instances SET lifecycle = @lifecycle, status = @status, incidents = @incidents,
       incident_count = @incidentCount, ended_at = COALESCE(@endedAt, ended_at),
       current_activity = COALESCE(@currentActivity, current_activity), last_position = @position
     WHERE id = @id`,
  ),
  /**
   * Per instance: its last position and activity entered in this batch, not yet written. Tasks, waits and
   * decisions only move these, so an instance's row is written once a batch, or with its next other change.
   */
  moves: new Map<string, Move>(),
  /** Recent instances' lifecycle and incidents as their rows stand (only this file writes them). */
  states: new Map<string, StateRow>(),
}));

interface StateRow {
  lifecycle: InstanceLifecycle;
  incidents: string;
}

interface Move {
  position: number;
  activity: string | null;
}

function writeMove(s: ReturnType<typeof statements>, id: string): void {
  const move = s.moves.get(id);
  if (move === undefined) return;
  s.moves.delete(id);
  s.moved.run(move.activity, move.position, id);
}

function move(s: ReturnType<typeof statements>, id: string, position: number, activity: string | null): void {
  const pending = s.moves.get(id);
  if (pending === undefined) s.moves.set(id, { position, activity });
  else {
    pending.position = position;
    if (activity !== null) pending.activity = activity;
  }
}

function statusOf(lifecycle: InstanceLifecycle, incidents: OpenIncident[]): InstanceStatus {
  return lifecycle === 'running' && incidents.length > 0 ? 'incident' : lifecycle;
}

/** One row per process instance: where it stands, its variables and its open incidents. */
export const instancesProjection: Projection = {
  name: 'instances',
  schema: INSTANCES_SCHEMA,
  queryIndexes: INSTANCES_QUERY_INDEXES,
  startBatch(db: Sql): void {
    const s = statements(db);
    s.moves.clear();
    boundCache(s.states);
  },
  rolledBack(db: Sql): void {
    statements(db).states.clear();
  },
  endBatch(db: Sql): void {
    const s = statements(db);
    for (const [id, { activity, position }] of s.moves) s.moved.run(activity, position, id);
    s.moves.clear();
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    const id = instanceIdOf(stored.streamId);
    if (id === undefined) return;
    const s = statements(db);
    const event = decoded ?? asLifelineEvent(stored);
    const { position } = stored;
    const at = stored.metadata.at;

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
      let row = s.states.get(id);
      if (row === undefined) {
        row = s.state.get(id) as StateRow | undefined;
        if (!row) return;
        s.states.set(id, row);
      }
      const next = change(row.lifecycle, JSON.parse(row.incidents) as OpenIncident[]);
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
        position,
      });
    };

    switch (event.type) {
      case 'InstanceStarted': {
        const d = event.data;
        writeMove(s, id);
        const inserted = s.started.run({
          id,
          definitionKey: d.definitionKey,
          definitionVersion: d.definitionVersion,
          definitionName: d.definitionName,
          entityType: d.entity.type,
          entityId: d.entity.id,
          variables: json(d.variables ?? {}),
          at,
          cause: json(d.cause),
          position,
        });
        if (inserted.changes === 1) s.states.set(id, { lifecycle: 'running', incidents: '[]' });
        return;
      }
      case 'ActivityEntered':
        move(s, id, position, event.data.activityId);
        return;
      // A worker's variables join the process like an automatic activity's (job events are newer than any
      // file without this case, so no rebuild is needed).
      case 'JobCompleted':
      case 'JobErrorThrown':
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
