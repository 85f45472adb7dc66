import type { LifelineEvent } from '@lifeline/process-domain';
import type { StoredEvent } from '@lifeline/event-store';
import { asLifelineEvent, instanceIdOf, json } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';
import { isBpmnText } from './process-grid.queries';

export const PROCESS_GRID_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS definitions (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    related_entity TEXT NOT NULL,
    execution_order INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    triggers TEXT NOT NULL,
    definition TEXT NOT NULL,
    running INTEGER NOT NULL DEFAULT 0,
    open_tasks INTEGER NOT NULL DEFAULT 0,
    position INTEGER NOT NULL
  ) WITHOUT ROWID`,
  `CREATE TABLE IF NOT EXISTS definition_versions (
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    definition TEXT NOT NULL,
    -- The published text when it was BPMN (decision 0010: the drawing is given back as drawn), else NULL.
    source TEXT,
    PRIMARY KEY (key, version)
  ) WITHOUT ROWID`,
  // Per instance: its definition and open tasks (a JSON array of task ids), so ending it corrects the grid's
  // counters and a completion counts once even if delivered for an unknown or closed task.
  `CREATE TABLE IF NOT EXISTS process_grid_instances (
    instance_id TEXT PRIMARY KEY,
    definition_key TEXT NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0,
    open_tasks TEXT NOT NULL DEFAULT '[]'
  ) WITHOUT ROWID`,
];

const statements = preparedFor((db: Sql) => ({
  published: db.prepare(
    `INSERT INTO definitions (key, name, related_entity, execution_order, enabled, created_at, updated_at, version,
       triggers, definition, position)
     VALUES (@key, @name, @relatedEntity, @executionOrder, @enabled, @at, @at, @version, @triggers, @definition, @position)
     ON CONFLICT (key) DO UPDATE SET name = excluded.name, related_entity = excluded.related_entity,
       execution_order = excluded.execution_order, enabled = excluded.enabled, updated_at = excluded.updated_at,
       version = max(version, excluded.version), triggers = excluded.triggers, definition = excluded.definition,
       position = excluded.position
     WHERE excluded.version >= definitions.version`,
  ),
  version: db.prepare(
    'INSERT OR IGNORE INTO definition_versions (key, version, published_at, definition, source) VALUES (?, ?, ?, ?, ?)',
  ),
  enabled: db.prepare('UPDATE definitions SET enabled = ?, updated_at = ?, position = ? WHERE key = ?'),
  executionOrder: db.prepare('UPDATE definitions SET execution_order = ?, updated_at = ?, position = ? WHERE key = ?'),
  instanceStarted: db.prepare(
    'INSERT INTO process_grid_instances (instance_id, definition_key, ended, open_tasks) VALUES (?, ?, ?, ?)',
  ),
  instance: db.prepare('SELECT definition_key, ended, open_tasks FROM process_grid_instances WHERE instance_id = ?'),
  running: db.prepare('UPDATE definitions SET running = running + ?, open_tasks = open_tasks + ? WHERE key = ?'),
  instanceCounts: db.prepare('UPDATE process_grid_instances SET ended = ?, open_tasks = ? WHERE instance_id = ?'),
  /** Per definition: changes to its running and open-task counts, written once at the end of the batch. */
  counts: new Map<string, { running: number; openTasks: number }>(),
  /**
   * Recent instances as their rows stand in this batch; changed ones are written at its end. Dropped when a
   * batch is rolled back.
   */
  instances: new Map<string, BatchInstance>(),
  /** The instances this batch changed, to write at its end. */
  changed: [] as string[],
}));

/** Counting into the batch's totals rewrites the definition's row (which carries its whole document) once a batch. */
function count(
  counts: Map<string, { running: number; openTasks: number }>,
  key: string,
  running: number,
  openTasks: number,
) {
  const total = counts.get(key);
  if (total) {
    total.running += running;
    total.openTasks += openTasks;
  } else counts.set(key, { running, openTasks });
}

function writeCounts(db: Sql): void {
  const s = statements(db);
  for (const [key, { running, openTasks }] of s.counts) {
    if (running !== 0 || openTasks !== 0) s.running.run(running, openTasks, key);
  }
  s.counts.clear();
}

interface GridInstance {
  definition_key: string;
  ended: number;
  open_tasks: string;
}

interface BatchInstance {
  definition_key: string;
  ended: number;
  /** Its open tasks' ids (rarely more than one or two). */
  openTasks: string[];
  changed: boolean;
  /** False while started in this batch and not yet inserted (written whole at the batch's end). */
  stored: boolean;
}

function markChanged(s: ReturnType<typeof statements>, instanceId: string, instance: BatchInstance): void {
  if (instance.changed) return;
  instance.changed = true;
  s.changed.push(instanceId);
}

function instanceOf(s: ReturnType<typeof statements>, instanceId: string): BatchInstance | undefined {
  let instance = s.instances.get(instanceId);
  if (instance === undefined) {
    const row = s.instance.get(instanceId) as GridInstance | undefined;
    if (row === undefined) return undefined;
    instance = {
      definition_key: row.definition_key,
      ended: row.ended,
      openTasks: JSON.parse(row.open_tasks) as string[],
      changed: false,
      stored: true,
    };
    s.instances.set(instanceId, instance);
  }
  return instance;
}

/** The process grid: one row per definition, with live counts of running instances and open tasks. */
export const processGridProjection: Projection = {
  name: 'process-grid',
  prepare: statements,
  // 2: an instance's open task ids on its own row (no process_grid_open_tasks table and index to write per task).
  // 3: a version's BPMN source (definition_versions.source).
  version: 3,
  tables: ['definitions', 'definition_versions', 'process_grid_instances', 'process_grid_open_tasks'],
  schema: PROCESS_GRID_SCHEMA,
  startBatch(db: Sql): void {
    const s = statements(db);
    s.counts.clear();
    s.changed.length = 0;
    boundCache(s.instances);
  },
  endBatch(db: Sql): void {
    const s = statements(db);
    for (const id of s.changed) {
      const instance = s.instances.get(id)!;
      const openTasks = JSON.stringify(instance.openTasks);
      if (instance.stored) s.instanceCounts.run(instance.ended, openTasks, id);
      else s.instanceStarted.run(id, instance.definition_key, instance.ended, openTasks);
      instance.changed = false;
      instance.stored = true;
    }
    s.changed.length = 0;
    writeCounts(db);
  },
  rolledBack(db: Sql): void {
    statements(db).instances.clear();
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    const s = statements(db);
    const event = decoded ?? asLifelineEvent(stored);
    const { position } = stored;
    const at = stored.metadata.at;
    switch (event.type) {
      case 'DefinitionPublished': {
        // A count for a definition not yet in the grid is lost, as it was when counts were written per event.
        writeCounts(db);
        const { key, version, definition, source } = event.data;
        s.published.run({
          key,
          name: definition.name,
          relatedEntity: definition.relatedEntity,
          executionOrder: definition.executionOrder,
          enabled: definition.enabled ? 1 : 0,
          at,
          version,
          triggers: json(definition.triggers ?? []),
          definition: json(definition),
          position,
        });
        s.version.run(key, version, at, json(definition), source !== undefined && isBpmnText(source) ? source : null);
        return;
      }
      case 'DefinitionActivated':
        s.enabled.run(1, at, position, event.data.key);
        return;
      case 'DefinitionDeactivated':
        s.enabled.run(0, at, position, event.data.key);
        return;
      case 'ExecutionOrderChanged':
        s.executionOrder.run(event.data.executionOrder, at, position, event.data.key);
        return;
      case 'InstanceStarted': {
        const instanceId = instanceIdOf(stored.streamId) ?? event.data.instanceId;
        // A start repeated for a known instance changes nothing; a new one is inserted at the batch's end.
        if (instanceOf(s, instanceId) !== undefined) return;
        const instance: BatchInstance = {
          definition_key: event.data.definitionKey,
          ended: 0,
          openTasks: [],
          changed: false,
          stored: false,
        };
        s.instances.set(instanceId, instance);
        markChanged(s, instanceId, instance);
        count(s.counts, event.data.definitionKey, 1, 0);
        return;
      }
      case 'TaskCreated':
      case 'TaskCompleted': {
        const instanceId = instanceIdOf(stored.streamId);
        if (instanceId === undefined) return;
        const instance = instanceOf(s, instanceId);
        if (!instance || instance.ended === 1) return;
        const { taskId } = event.data;
        const open = instance.openTasks.indexOf(taskId);
        let changed: number;
        if (event.type === 'TaskCreated') {
          if (open >= 0) return;
          instance.openTasks.push(taskId);
          changed = 1;
        } else {
          if (open < 0) return;
          instance.openTasks.splice(open, 1);
          changed = -1;
        }
        markChanged(s, instanceId, instance);
        count(s.counts, instance.definition_key, 0, changed);
        return;
      }
      case 'InstanceTerminated':
      case 'InstanceCompleted': {
        const instanceId = instanceIdOf(stored.streamId);
        if (instanceId === undefined) return;
        const instance = instanceOf(s, instanceId);
        if (!instance || instance.ended === 1) return;
        count(s.counts, instance.definition_key, -1, -instance.openTasks.length);
        instance.ended = 1;
        instance.openTasks = [];
        markChanged(s, instanceId, instance);
        return;
      }
      default:
        // Other events do not change the grid.
        return;
    }
  },
};
