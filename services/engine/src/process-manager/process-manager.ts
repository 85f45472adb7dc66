import {
  matchTriggers,
  SYSTEM,
  addDuration,
  DomainError,
  type ActiveDefinition,
  type LifelineEvent,
  type ProcessDefinition,
  type StartInstance,
} from '@lifeline/process-domain';
import { WrongExpectedRevision, type EventStore, type StoredEvent, type Subscription } from '@lifeline/event-store';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock';
import type { EngineDb } from '../shared/engine-db';
import { eventIdsFor, instanceIdFor } from '../shared/ids';
import type { InstanceCommands } from '../instances/instance-commands';

const CHECKPOINT = 'process-manager';
const PREFIXES = ['definition-', 'entity-', 'instance-'] as const;

interface TimerRow {
  timer_id: string;
  kind: 'delayed-start' | 'wait-timeout';
  due_at: string;
  instance_id: string;
  payload: string;
}

type DelayedStartPayload = Omit<StartInstance, 'type'> & { causationId: string; correlationId: string };
type WaitTimeoutPayload = { activityId: string; visit: number; causationId: string; correlationId: string };

/**
 * The process manager: a checkpointed subscription to the global log that turns recorded entity
 * events into commands (start matching processes in execution order, resume waits) and fires due
 * timers. Every command it sends has a deterministic id, so processing an event twice after a
 * crash changes nothing. Its own tables move in the same transaction as its checkpoint.
 */
export class ProcessManager {
  private subscription?: Subscription;
  private ticker?: NodeJS.Timeout;
  /** One thing at a time: log batches and timer ticks never interleave. */
  private queue: Promise<void> = Promise.resolve();
  private failed?: unknown;
  private lastPosition = 0;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly db: EngineDb,
    private readonly instances: InstanceCommands,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: { timerTickMs: number; batchSize?: number } = { timerTickMs: 200 },
  ) {}

  start(): void {
    this.subscribe();
    if (this.options.timerTickMs > 0) {
      this.ticker = setInterval(
        () => void this.tick().catch((err) => this.logger.error({ err }, 'timer tick failed')),
        this.options.timerTickMs,
      );
      this.ticker.unref();
    }
  }

  private subscribe(): void {
    this.lastPosition = this.db.checkpoint(CHECKPOINT);
    this.subscription = this.store.subscribe((events) => this.serial(() => this.handleBatch(events)), {
      fromPosition: this.lastPosition,
      prefixes: PREFIXES,
      batchSize: this.options.batchSize ?? 256,
      onError: (error) => {
        this.failed = error;
        this.logger.error({ err: error }, 'process manager failed; resuming from its checkpoint in 1 s');
        if (this.stopped) return;
        const retry = setTimeout(() => {
          if (this.stopped) return;
          this.failed = undefined;
          this.subscribe();
        }, 1000);
        retry.unref();
      },
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.subscription?.stop();
    await this.queue.catch(() => undefined);
  }

  /** The position of the last log event fully handled. */
  position(): number {
    return this.lastPosition;
  }

  async caughtUpTo(position: number, timeoutMs = 10_000): Promise<boolean> {
    return (await this.subscription?.caughtUpTo(position, timeoutMs)) ?? false;
  }

  health(): { ok: boolean; position: number; error?: string } {
    return { ok: !this.failed, position: this.lastPosition, ...(this.failed ? { error: String(this.failed) } : {}) };
  }

  /** Fires every due timer now (the scheduler calls this on each tick; tests call it after advancing the clock). */
  tick(): Promise<void> {
    return this.serial(() => this.fireDueTimers());
  }

  private readonly statements = new Map<string, import('better-sqlite3').Statement>();
  private readonly parsedDefinitions = new Map<string, ProcessDefinition>();

  /** Prepared once per SQL text: preparing per event would cost more than running. */
  private stmt(sql: string): import('better-sqlite3').Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.sql.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private parsedDefinition(key: string, version: number, json: string): ProcessDefinition {
    const cacheKey = `${key}@${version}`;
    let definition = this.parsedDefinitions.get(cacheKey);
    if (!definition) {
      definition = JSON.parse(json) as ProcessDefinition;
      this.parsedDefinitions.set(cacheKey, definition);
    }
    return definition;
  }

  private serial(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Starts decided in this batch, appended together in one store transaction. */
  private pendingStarts: Parameters<InstanceCommands['startMany']>[0] = [];

  private async flushStarts(): Promise<void> {
    const starts = this.pendingStarts;
    this.pendingStarts = [];
    await this.instances.startMany(starts, SYSTEM);
  }

  private async handleBatch(events: StoredEvent[]): Promise<void> {
    const sql = this.db.sql;
    sql.exec('BEGIN IMMEDIATE');
    this.pendingStarts = [];
    try {
      for (const event of events) {
        try {
          await this.handle(event);
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          // A command the domain refuses is a fact about that event, not a reason to stop the engine.
          this.logger.warn(
            { err: error, code: error.code, eventId: event.id, correlationId: event.metadata.correlationId },
            'command refused',
          );
        }
      }
      await this.flushStarts();
      const last = events.at(-1);
      if (last) this.db.setCheckpoint(CHECKPOINT, last.position);
      sql.exec('COMMIT');
      if (last) this.lastPosition = last.position;
    } catch (error) {
      this.pendingStarts = [];
      sql.exec('ROLLBACK');
      throw error;
    }
  }

  private async handle(stored: StoredEvent): Promise<void> {
    const event = { type: stored.type, data: stored.data } as LifelineEvent;
    const instanceId = stored.streamId.startsWith('instance-') ? stored.streamId.slice('instance-'.length) : undefined;
    const origin = (name: string) => ({
      commandId: `${name}:${stored.id}`,
      correlationId: stored.metadata.correlationId,
      causationId: stored.id,
    });
    switch (event.type) {
      case 'DefinitionPublished': {
        const d = event.data.definition;
        this.stmt(
          `INSERT INTO pm_definitions(key, version, definition, enabled, execution_order, related_entity)
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET version = excluded.version,
             definition = excluded.definition, enabled = excluded.enabled, execution_order = excluded.execution_order,
             related_entity = excluded.related_entity`,
        ).run(
          event.data.key,
          event.data.version,
          JSON.stringify(d),
          d.enabled ? 1 : 0,
          d.executionOrder,
          d.relatedEntity,
        );
        return;
      }
      case 'DefinitionActivated':
      case 'DefinitionDeactivated':
        this.stmt('UPDATE pm_definitions SET enabled = ? WHERE key = ?').run(
          event.type === 'DefinitionActivated' ? 1 : 0,
          event.data.key,
        );
        return;
      case 'ExecutionOrderChanged':
        this.stmt('UPDATE pm_definitions SET execution_order = ? WHERE key = ?').run(
          event.data.executionOrder,
          event.data.key,
        );
        return;
      case 'EntityEventRecorded':
        return this.onEntityEvent(stored, event.data, origin);
      case 'DelayedStartScheduled': {
        const d = event.data;
        // The record comes from the envelope on the same stream: look it up once here.
        const envelope = await this.envelopeOf(stored.streamId, d.entityEventId);
        if (!envelope) {
          this.logger.error(
            { entityEventId: d.entityEventId, stream: stored.streamId },
            'delayed start without its entity event; not scheduled',
          );
          return;
        }
        const payload: DelayedStartPayload = {
          instanceId: d.instanceId,
          definitionKey: d.definitionKey,
          definitionVersion: d.definitionVersion,
          entity: { type: envelope.entityType, id: envelope.entityId },
          variables: {},
          cause: { kind: 'trigger', entityEventId: d.entityEventId, triggerIndex: d.triggerIndex, delayed: true },
          causationId: stored.id,
          correlationId: stored.metadata.correlationId,
        };
        this.insertTimer(`start:${d.instanceId}`, 'delayed-start', d.startAt, d.instanceId, payload);
        return;
      }
      case 'WaitStarted': {
        if (!instanceId) return;
        const d = event.data;
        this.stmt(
          `INSERT INTO pm_waits(instance_id, activity_id, visit, entity_type, entity_id) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT(instance_id) DO UPDATE SET activity_id = excluded.activity_id, visit = excluded.visit,
             entity_type = excluded.entity_type, entity_id = excluded.entity_id`,
        ).run(instanceId, d.activityId, d.visit, d.entity.type, d.entity.id);
        if (d.timeoutAt) {
          const payload: WaitTimeoutPayload = {
            activityId: d.activityId,
            visit: d.visit,
            causationId: stored.id,
            correlationId: stored.metadata.correlationId,
          };
          this.insertTimer(
            `wait:${instanceId}:${d.activityId}:${d.visit}`,
            'wait-timeout',
            d.timeoutAt,
            instanceId,
            payload,
          );
        }
        // The record may have changed between the instance's decision and now: check once more.
        if (d.until) {
          await this.flushStarts();
          await this.instances.execute(instanceId, { type: 'CheckWait' }, SYSTEM, origin('check-wait-on-start'));
        }
        return;
      }
      case 'WaitSatisfied':
      case 'WaitTimedOut':
        if (!instanceId) return;
        this.stmt('DELETE FROM pm_waits WHERE instance_id = ? AND activity_id = ? AND visit = ?').run(
          instanceId,
          event.data.activityId,
          event.data.visit,
        );
        this.stmt('DELETE FROM pm_timers WHERE timer_id = ?').run(
          `wait:${instanceId}:${event.data.activityId}:${event.data.visit}`,
        );
        return;
      case 'InstanceStarted':
        if (instanceId) this.stmt('DELETE FROM pm_timers WHERE timer_id = ?').run(`start:${instanceId}`);
        return;
      case 'InstanceSuspended':
      case 'InstanceResumed':
        if (instanceId)
          this.stmt('UPDATE pm_timers SET paused = ? WHERE instance_id = ?').run(
            event.type === 'InstanceSuspended' ? 1 : 0,
            instanceId,
          );
        return;
      case 'InstanceCompleted':
      case 'InstanceTerminated':
        if (!instanceId) return;
        this.stmt('DELETE FROM pm_waits WHERE instance_id = ?').run(instanceId);
        this.stmt('DELETE FROM pm_timers WHERE instance_id = ?').run(instanceId);
        return;
      default:
        return;
    }
  }

  private async onEntityEvent(
    stored: StoredEvent,
    data: {
      envelope: import('@lifeline/process-domain').EntityEventEnvelope;
      source: import('@lifeline/process-domain').EntityEventSource;
    },
    origin: (name: string) => { commandId: string; correlationId: string; causationId: string },
  ): Promise<void> {
    const { envelope, source } = data;
    const rows = this.stmt(
      'SELECT key, version, definition, enabled, execution_order FROM pm_definitions WHERE related_entity = ?',
    ).all(envelope.entityType) as {
      key: string;
      version: number;
      definition: string;
      enabled: number;
      execution_order: number;
    }[];
    const active: ActiveDefinition[] = rows.map((r) => ({
      definition: this.parsedDefinition(r.key, r.version, r.definition),
      version: r.version,
      enabled: r.enabled === 1,
      executionOrder: r.execution_order,
    }));
    const { matches, errors } = matchTriggers(active, envelope, stored.metadata.at);
    for (const error of errors) {
      this.logger.warn(
        { correlationId: stored.metadata.correlationId, entityEventId: envelope.id, ...error },
        'trigger condition failed',
      );
    }
    // Smaller execution order first; each start completes before the next begins.
    for (const match of matches) {
      const instanceId = instanceIdFor(envelope.id, match.definitionKey);
      if (match.delay) {
        await this.flushStarts();
        await this.scheduleDelayedStart(stored, instanceId, match, addDuration(stored.metadata.at, match.delay));
        continue;
      }
      this.pendingStarts.push({
        command: {
          type: 'StartInstance',
          instanceId,
          definitionKey: match.definitionKey,
          definitionVersion: match.definitionVersion,
          entity: { type: envelope.entityType, id: envelope.entityId },
          variables: {},
          cause: { kind: 'trigger', entityEventId: envelope.id, triggerIndex: match.triggerIndex, delayed: false },
        },
        origin: origin(`start:${match.definitionKey}`),
        entityData: envelope.data,
      });
    }
    const waits = this.stmt('SELECT instance_id FROM pm_waits WHERE entity_type = ? AND entity_id = ?').all(
      envelope.entityType,
      envelope.entityId,
    ) as { instance_id: string }[];
    if (waits.length > 0) await this.flushStarts();
    for (const wait of waits) {
      await this.instances.execute(
        wait.instance_id,
        { type: 'CheckWait', entityEventId: envelope.id, entitySource: source },
        SYSTEM,
        origin(`check-wait:${wait.instance_id}`),
        { entityData: envelope.data },
      );
    }
  }

  private async scheduleDelayedStart(
    stored: StoredEvent,
    instanceId: string,
    match: { definitionKey: string; definitionVersion: number; triggerIndex: number },
    startAt: string,
  ): Promise<void> {
    const [id] = eventIdsFor(`delay:${match.definitionKey}:${stored.id}`, 1);
    try {
      await this.store.append({
        streamId: stored.streamId,
        expectedRevision: 'any',
        events: [
          {
            id,
            type: 'DelayedStartScheduled',
            data: {
              instanceId,
              definitionKey: match.definitionKey,
              definitionVersion: match.definitionVersion,
              triggerIndex: match.triggerIndex,
              entityEventId: (stored.data as { envelope: { id: string } }).envelope.id,
              startAt,
            },
            metadata: {
              correlationId: stored.metadata.correlationId,
              causationId: stored.id,
              actor: 'system',
              at: this.clock.nowIso(),
            },
          },
        ],
      });
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
    }
  }

  private async envelopeOf(streamId: string, envelopeId: string) {
    const events = await this.store.readStream(streamId, { direction: 'backwards', maxCount: 200 });
    for (const e of events) {
      if (e.type !== 'EntityEventRecorded') continue;
      const envelope = (e.data as { envelope: import('@lifeline/process-domain').EntityEventEnvelope }).envelope;
      if (envelope.id === envelopeId) return envelope;
    }
    return undefined;
  }

  private insertTimer(id: string, kind: TimerRow['kind'], dueAt: string, instanceId: string, payload: unknown): void {
    this.stmt(
      `INSERT INTO pm_timers(timer_id, kind, due_at, instance_id, payload) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(timer_id) DO NOTHING`,
    ).run(id, kind, new Date(dueAt).toISOString(), instanceId, JSON.stringify(payload));
  }

  private async fireDueTimers(): Promise<void> {
    const now = this.clock.nowIso();
    const due = this.stmt(
      'SELECT timer_id, kind, due_at, instance_id, payload FROM pm_timers WHERE paused = 0 AND due_at <= ? ORDER BY due_at LIMIT 200',
    ).all(now) as TimerRow[];
    for (const timer of due) {
      const origin = (p: { causationId: string; correlationId: string }) => ({
        commandId: `timer:${timer.timer_id}`,
        correlationId: p.correlationId,
        causationId: p.causationId,
      });
      try {
        let result: { events: unknown[] };
        if (timer.kind === 'delayed-start') {
          const p = JSON.parse(timer.payload) as DelayedStartPayload;
          const { causationId: _c, correlationId: _r, ...start } = p;
          result = await this.instances.execute(p.instanceId, { type: 'StartInstance', ...start }, SYSTEM, origin(p));
        } else {
          const p = JSON.parse(timer.payload) as WaitTimeoutPayload;
          result = await this.instances.execute(
            timer.instance_id,
            { type: 'FireWaitTimeout', activityId: p.activityId, visit: p.visit },
            SYSTEM,
            origin(p),
          );
        }
        // Fired: the resulting event removes it when the log reaches it; a no-op means it is moot.
        if (result.events.length === 0) {
          this.stmt('DELETE FROM pm_timers WHERE timer_id = ?').run(timer.timer_id);
          continue;
        }
        this.stmt('UPDATE pm_timers SET fired_at = ?, due_at = ? WHERE timer_id = ?').run(
          now,
          new Date(Date.parse(now) + 60_000).toISOString(),
          timer.timer_id,
        );
      } catch (error) {
        this.logger.error(
          { err: error, timerId: timer.timer_id, instanceId: timer.instance_id },
          'timer failed; it will be retried',
        );
        this.stmt('UPDATE pm_timers SET due_at = ? WHERE timer_id = ?').run(
          new Date(Date.parse(now) + 5_000).toISOString(),
          timer.timer_id,
        );
      }
    }
  }
}
