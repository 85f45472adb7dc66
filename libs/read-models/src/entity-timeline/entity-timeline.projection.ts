import { dataTextOf, type StoredEvent } from '@lifeline/event-store';
import type { InstanceEvent, LifelineEvent, StartFailed, StartRetried } from '@lifeline/process-domain';
import { asLifelineEvent, instanceIdOf, json } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';

export const ENTITY_TIMELINE_QUERY_INDEXES = [
  // Carries the rowid (position) last, so one record's entries come out in log order without a sort.
  'CREATE INDEX IF NOT EXISTS timeline_by_entity ON timeline (entity)',
];

export const ENTITY_TIMELINE_SCHEMA = [
  // One row per event at most, so the global position is the rowid: inserts append at the table's end.
  `CREATE TABLE IF NOT EXISTS timeline (
    position INTEGER PRIMARY KEY,
    -- the record's number in timeline_entities: a small integer key is cheaper to index than its type and id
    entity INTEGER NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    instance_id TEXT,
    task_id TEXT,
    summary TEXT NOT NULL,
    data TEXT NOT NULL,
    causation_id TEXT NOT NULL,
    -- the entry's own event id: a later entry's causation id names it (resolved per record when read)
    event_id TEXT NOT NULL
  )`,
  // Every record with a timeline, numbered in the order of its first entry.
  `CREATE TABLE IF NOT EXISTS timeline_entities (
    entity INTEGER PRIMARY KEY,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    UNIQUE (entity_type, entity_id)
  )`,
  // Which record each instance is about (its number), learnt from its InstanceStarted.
  `CREATE TABLE IF NOT EXISTS timeline_instances (
    instance_id TEXT PRIMARY KEY,
    entity INTEGER NOT NULL
  ) WITHOUT ROWID`,
];

const statements = preparedFor((db: Sql) => ({
  entry: db.prepare(
    `INSERT OR IGNORE INTO timeline (entity, position, at, kind, actor, instance_id, task_id, summary, data,
       causation_id, event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  entity: db.prepare('SELECT entity FROM timeline_entities WHERE entity_type = ? AND entity_id = ?').pluck(),
  newEntity: db.prepare('INSERT INTO timeline_entities (entity_type, entity_id) VALUES (?, ?)'),
  instanceStarted: db.prepare('INSERT OR IGNORE INTO timeline_instances (instance_id, entity) VALUES (?, ?)'),
  instance: db.prepare('SELECT entity FROM timeline_instances WHERE instance_id = ?').pluck(),
  /**
   * Which record each recent instance is about, as timeline_instances says (a row never changes once written).
   * Dropped when a batch is rolled back.
   */
  instances: new Map<string, number>(),
  /** The numbers of recent records (`type`, NUL, `id`), as timeline_entities says. Dropped on a rollback. */
  entities: new Map<string, number>(),
}));

interface Entity {
  type: string;
  id: string;
}

/** The record's number, numbering it when it is new. */
function entityNumber(s: ReturnType<typeof statements>, entity: Entity): number {
  const key = `${entity.type}\u0000${entity.id}`;
  let number = s.entities.get(key);
  if (number === undefined) {
    number =
      (s.entity.get(entity.type, entity.id) as number | undefined) ??
      Number(s.newEntity.run(entity.type, entity.id).lastInsertRowid);
    s.entities.set(key, number);
  }
  return number;
}

const ENTITY_PREFIX = 'entity-';

/** `entity-<Type>-<id>`: entity types are identifiers (no dash), so the first dash after the prefix splits. */
function entityOfStream(streamId: string): { type: string; id: string } | undefined {
  if (!streamId.startsWith(ENTITY_PREFIX)) return undefined;
  const rest = streamId.slice(ENTITY_PREFIX.length);
  const dash = rest.indexOf('-');
  return dash > 0 ? { type: rest.slice(0, dash), id: rest.slice(dash + 1) } : undefined;
}

const who = (to: { user?: string; role?: string }): string =>
  to.user !== undefined ? to.user : to.role !== undefined ? `role ${to.role}` : 'nobody';

/** One line a person can read about what the instance did. */
export function summarizeInstanceEvent(event: InstanceEvent): string {
  switch (event.type) {
    case 'InstanceStarted':
      return `Process "${event.data.definitionName}" started (version ${event.data.definitionVersion})`;
    case 'ActivityEntered':
      return `Entered ${event.data.activityId}`;
    case 'BranchesForked':
      return `Forked at ${event.data.activityId} into ${event.data.branches.map((b) => b.next).join(', ')}`;
    case 'BranchesJoined':
      return `Branches of ${event.data.forkId.replace(/\.\d+$/, '')} joined at ${event.data.activityId}`;
    case 'BoundaryEventsArmed':
      return (
        `Boundary events armed at ${event.data.activityId}` +
        (event.data.timers.length > 0 ? `: timers due ${event.data.timers.map((t) => t.dueAt).join(', ')}` : '') +
        (event.data.watches ? (event.data.timers.length > 0 ? '; ' : ': ') + 'watching the record' : '')
      );
    case 'BoundaryEventsDisarmed':
      return `Boundary events of ${event.data.activityId} ended`;
    case 'BoundaryTriggered': {
      const d = event.data;
      const what = d.kind === 'timer' ? `Timer of ${d.activityId}` : `Condition on ${d.activityId} (${d.expression})`;
      if (d.interrupting) return `${what} interrupted it, going to ${d.next}`;
      if (d.reassign !== undefined) return `${what}: reassigned to ${who(d.reassign)}`;
      return `${what}: reminder` + (d.nextDueAt !== undefined ? `, next at ${d.nextDueAt}` : '');
    }
    case 'SubprocessStarted':
      return `Sub-process ${event.data.definitionKey} started at ${event.data.activityId} for ${event.data.entity.type} ${event.data.entity.id}: instance ${event.data.childInstanceId}`;
    case 'SubprocessCompleted':
      return (
        `Sub-process ${event.data.childInstanceId} completed` +
        (Object.keys(event.data.variables).length > 0 ? `: ${Object.keys(event.data.variables).join(', ')} set` : '')
      );
    case 'SubprocessFailed':
      return `Sub-process ${event.data.childInstanceId} failed: ${event.data.code}: ${event.data.message}`;
    case 'SubprocessCancelled':
      return `Sub-process ${event.data.childInstanceId} cancelled: ${event.data.reason}`;
    case 'ConditionalBranchStarted':
      return `Conditional start ${event.data.index} (${event.data.expression}): a branch starts at ${event.data.next}`;
    case 'RecordDeleted':
      return event.data.policy === 'terminate'
        ? 'The record was deleted: the process is terminated'
        : `The record was deleted: every open activity is left, going to ${event.data.next}`;
    case 'TaskCancelled':
      return `Task ${event.data.activityId} cancelled: ${event.data.reason}`;
    case 'BranchesEnded':
      return `Every branch of ${event.data.activityId} ended (last at ${event.data.endActivityId})`;
    case 'TaskCreated':
      return `Task "${event.data.title}" created for ${who(event.data.assignee)}`;
    case 'TaskClaimed':
      return `Task claimed by ${event.data.user}`;
    case 'TaskReleased':
      return `Task released by ${event.data.user}`;
    case 'TaskReassigned':
      return `Task reassigned from ${who(event.data.from)} to ${who(event.data.to)}`;
    case 'TaskPostponed':
      return `Task postponed until ${event.data.until}`;
    case 'TaskCompleted':
      return (
        `Task ${event.data.activityId} completed by ${event.data.user}` +
        (event.data.result !== undefined ? `: ${event.data.result}` : '')
      );
    case 'WaitStarted':
      return (
        `Waiting at ${event.data.activityId}` + (event.data.until !== undefined ? ` until ${event.data.until}` : '')
      );
    case 'WaitSatisfied':
      return `Wait ${event.data.activityId} satisfied: ${event.data.expression}`;
    case 'WaitTimedOut':
      return `Wait ${event.data.activityId} timed out, going to ${event.data.next}`;
    case 'DecisionTaken':
      return `Decision ${event.data.activityId}: ${event.data.next}`;
    case 'VariablesSet':
      return `Variables set: ${Object.keys(event.data.variables).join(', ')}`;
    case 'MessageEmitted':
      return `Message ${event.data.messageType} sent to ${event.data.topic}`;
    case 'IncidentRaised':
      return `Incident at ${event.data.activityId}: ${event.data.code}: ${event.data.message}`;
    case 'IncidentResolved':
      return `Incident at ${event.data.activityId} resolved by ${event.data.by}`;
    case 'InstanceSuspended':
      return `Process suspended by ${event.data.by}` + (event.data.reason ? `: ${event.data.reason}` : '');
    case 'InstanceResumed':
      return `Process resumed by ${event.data.by}`;
    case 'InstanceMigrated': {
      const renames = Object.entries(event.data.mapping).map(([from, to]) => `${from} → ${to}`);
      return (
        `Process migrated from v${event.data.fromVersion} to v${event.data.toVersion} by ${event.data.by}` +
        (renames.length > 0 ? `: ${renames.join(', ')}` : '')
      );
    }
    case 'InstanceTerminated':
      return `Process terminated by ${event.data.by}` + (event.data.reason ? `: ${event.data.reason}` : '');
    case 'InstanceCompleted':
      return `Process completed at ${event.data.endActivityId}`;
    case 'JobCreated':
      return `Job ${event.data.jobType} created at ${event.data.activityId}`;
    case 'JobLocked':
      return `Job locked by ${event.data.workerId} until ${event.data.lockExpiresAt}`;
    case 'JobLockExtended':
      return `Job lock of ${event.data.workerId} extended until ${event.data.lockExpiresAt}`;
    case 'JobCompleted':
      return `Job ${event.data.activityId} completed by ${event.data.workerId}`;
    case 'JobFailed':
      return (
        `Job ${event.data.jobType} failed at ${event.data.workerId}: ${event.data.error}; ` +
        (event.data.retries === 0
          ? 'no retries left'
          : `${event.data.retries} ${event.data.retries === 1 ? 'retry' : 'retries'} left` +
            (event.data.retryAt !== undefined ? `, offered again at ${event.data.retryAt}` : ''))
      );
    case 'JobRetryDue':
      return `Job ${event.data.jobType} offered again after its backoff`;
    case 'JobErrorThrown':
      return (
        `Job ${event.data.activityId} ended with business error ${event.data.code} from ${event.data.workerId}` +
        (event.data.next !== undefined ? `, going to ${event.data.next}` : ', which has no path')
      );
    default: {
      const unknown: never = event;
      return `Event ${(unknown as { type: string }).type}`;
    }
  }
}

/** One line about a start that failed or was retried. */
function summarizeStartEvent(event: StartFailed | StartRetried): string {
  if (event.type === 'StartFailed') {
    return `Start of ${event.data.definitionKey} failed (${event.data.stage}): ${event.data.code}: ${event.data.message}`;
  }
  return event.data.outcome === 'no-match'
    ? `Failed start of ${event.data.definitionKey} retried by ${event.data.by}: its triggers no longer match`
    : `Failed start of ${event.data.definitionKey} retried by ${event.data.by}: ${event.data.outcome} (version ${event.data.definitionVersion})`;
}

function writeEntry(
  s: ReturnType<typeof statements>,
  stored: StoredEvent,
  kind: string,
  entity: Entity | number,
  instanceId: string | null,
  taskId: string | null,
  summary: string,
): void {
  const { metadata } = stored;
  s.entry.run(
    typeof entity === 'number' ? entity : entityNumber(s, entity),
    stored.position,
    metadata.at,
    kind,
    metadata.actor,
    instanceId,
    taskId,
    summary,
    dataTextOf(stored) ?? json(stored.data) ?? 'null',
    metadata.causationId,
    stored.id,
  );
}

/** Everything that happened about one record: its own events and those of every instance about it. */
export const entityTimelineProjection: Projection = {
  name: 'entity-timeline',
  prepare: statements,
  // 2: causes resolved per record from the entries' own event ids (no timeline_causes table).
  // 3: entries name their record by its number in timeline_entities.
  version: 3,
  tables: ['timeline', 'timeline_causes', 'timeline_instances', 'timeline_entities'],
  schema: ENTITY_TIMELINE_SCHEMA,
  queryIndexes: ENTITY_TIMELINE_QUERY_INDEXES,
  startBatch(db: Sql): void {
    const s = statements(db);
    boundCache(s.instances);
    boundCache(s.entities);
  },
  rolledBack(db: Sql): void {
    const s = statements(db);
    s.instances.clear();
    s.entities.clear();
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    const s = statements(db);
    const event = decoded ?? asLifelineEvent(stored);
    switch (event.type) {
      case 'EntityEventRecorded': {
        const { envelope } = event.data;
        const changed = envelope.changed?.length ? ` (${envelope.changed.join(', ')})` : '';
        writeEntry(
          s,
          stored,
          event.type,
          { type: envelope.entityType, id: envelope.entityId },
          null,
          null,
          `${envelope.entityType} ${envelope.entityId} ${envelope.kind}${changed}`,
        );
        return;
      }
      case 'DelayedStartScheduled': {
        const entity = entityOfStream(stored.streamId);
        if (!entity) return;
        writeEntry(
          s,
          stored,
          event.type,
          entity,
          event.data.instanceId,
          null,
          `Start of ${event.data.definitionKey} scheduled for ${event.data.startAt}`,
        );
        return;
      }
      case 'StartFailed':
      case 'StartRetried': {
        const entity = entityOfStream(stored.streamId);
        if (!entity) return;
        writeEntry(
          s,
          stored,
          event.type,
          entity,
          event.type === 'StartRetried' ? (event.data.instanceId ?? null) : null,
          null,
          summarizeStartEvent(event),
        );
        return;
      }
      case 'DelayedStartSkipped': {
        const entity = entityOfStream(stored.streamId);
        if (!entity) return;
        writeEntry(
          s,
          stored,
          event.type,
          entity,
          event.data.instanceId,
          null,
          `Start of ${event.data.definitionKey} skipped: ${event.data.reason}`,
        );
        return;
      }
      case 'ScheduleTicked': {
        const entity = entityOfStream(stored.streamId);
        if (!entity) return;
        const skipped =
          event.data.skippedFrom !== undefined ? `; ticks missed from ${event.data.skippedFrom} were skipped` : '';
        writeEntry(
          s,
          stored,
          event.type,
          entity,
          event.data.instanceId,
          null,
          `Scheduled start of ${event.data.definitionKey} for the tick at ${event.data.tick}${skipped}`,
        );
        return;
      }
      case 'DefinitionPublished':
      case 'DefinitionActivated':
      case 'DefinitionDeactivated':
      case 'ExecutionOrderChanged':
      case 'WebhookCreated':
      case 'WebhookDeleted':
      case 'WebhookRedeliveryRequested':
        return;
      default: {
        const instanceId = instanceIdOf(stored.streamId);
        if (instanceId === undefined) return;
        let entity: number | undefined;
        if (event.type === 'InstanceStarted') {
          entity = entityNumber(s, event.data.entity);
          if (s.instanceStarted.run(instanceId, entity).changes === 1) s.instances.set(instanceId, entity);
        } else {
          entity = s.instances.get(instanceId);
          if (entity === undefined) {
            entity = s.instance.get(instanceId) as number | undefined;
            if (entity !== undefined) s.instances.set(instanceId, entity);
          }
        }
        if (entity === undefined) return;
        const data = event.data as { taskId?: unknown };
        writeEntry(
          s,
          stored,
          event.type,
          entity,
          instanceId,
          typeof data.taskId === 'string' ? data.taskId : null,
          summarizeInstanceEvent(event),
        );
        return;
      }
    }
  },
};
