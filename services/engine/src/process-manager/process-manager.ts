import {
  byExecutionOrderThenKey,
  delayedStartAt,
  matchTriggers,
  SYSTEM,
  type ActiveDefinition,
  type EntityEventEnvelope,
  type EntityEventSource,
  type LifelineEvent,
  type ProcessDefinition,
  type TriggerMatch,
} from '@lifeline/process-domain';
import { type EventStore, type StoredEvent, type Subscription } from '@lifeline/event-store';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock';
import type { EngineDb } from '../shared/engine-db';
import { describeFailure, isInfrastructureError, ReactionFailure } from '../shared/failure-policy';
import { eventIdsFor, instanceIdFor } from '../shared/ids';
import type { BatchedStart, InstanceCommands } from '../instances/instance-commands';
import type { DueDelayedStart, FailedStart, StartReactions } from './start-reactions';

const CHECKPOINT = 'process-manager';
const PREFIXES = ['definition-', 'entity-', 'instance-'] as const;

interface TimerRow {
  timer_id: string;
  kind: 'delayed-start' | 'wait-timeout';
  due_at: string;
  instance_id: string;
  payload: string;
}

type DelayedStartPayload = DueDelayedStart;
type WaitTimeoutPayload = { activityId: string; visit: number; causationId: string; correlationId: string };

/** Backoff of the resubscription after an infrastructure error: 1 s, doubling, at most 30 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

type Origin = { commandId: string; correlationId: string; causationId: string };

/**
 * The process manager: a checkpointed subscription to the global log that turns recorded entity
 * events into commands (start matching processes in execution order, resume waits) and fires due
 * timers. Every command it sends has a deterministic id, so processing an event twice after a
 * crash changes nothing. Its own tables move in the same transaction as its checkpoint.
 *
 * One bad event never stops it (docs/decisions/0004-failed-reactions.md): each reaction that
 * throws poison is recorded durably (StartFailed on the record, or an incident on the instance)
 * and the next one runs; only infrastructure errors stop the batch, which resumes from the
 * checkpoint with backoff.
 */
export class ProcessManager {
  private subscription?: Subscription;
  private ticker?: NodeJS.Timeout;
  /** One thing at a time: log batches and timer ticks never interleave. */
  private queue: Promise<void> = Promise.resolve();
  private failed?: unknown;
  private lastPosition = 0;
  private stopped = false;
  /** Infrastructure errors in a row; sets the backoff. */
  private consecutiveErrors = 0;
  /** Poison failures recorded (StartFailed, incidents) and those with nowhere to go (logged only). */
  private readonly failures = { recorded: 0, unrecorded: 0 };

  constructor(
    private readonly store: EventStore,
    private readonly db: EngineDb,
    private readonly instances: InstanceCommands,
    private readonly starts: StartReactions,
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
        const delayMs = Math.min(RETRY_FIRST_MS * 2 ** this.consecutiveErrors, RETRY_MAX_MS);
        this.consecutiveErrors++;
        this.logger.error(
          { err: error, delayMs, consecutiveErrors: this.consecutiveErrors },
          'process manager stopped on an infrastructure error; resuming from its checkpoint',
        );
        if (this.stopped) return;
        const retry = setTimeout(() => {
          if (this.stopped) return;
          this.failed = undefined;
          this.subscribe();
        }, delayMs);
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

  health(): {
    ok: boolean;
    position: number;
    error?: string;
    failures: { recorded: number; unrecorded: number };
  } {
    return {
      ok: !this.failed,
      position: this.lastPosition,
      ...(this.failed ? { error: String(this.failed) } : {}),
      failures: { ...this.failures },
    };
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
  private pendingStarts: BatchedStart[] = [];

  /** Appends the pending starts; each one that fails is recorded on its record, the others stand. */
  private async flushStarts(): Promise<void> {
    const starts = this.pendingStarts;
    this.pendingStarts = [];
    const { failed } = await this.instances.startMany(starts, SYSTEM);
    for (const { start, error } of failed) {
      const { command, origin } = start;
      const cause = command.cause.kind === 'trigger' ? command.cause : undefined;
      await this.recordStartFailure(
        {
          entity: command.entity,
          definitionKey: command.definitionKey,
          definitionVersion: command.definitionVersion,
          entityEventId: cause?.entityEventId ?? '',
          ...(cause ? { triggerIndex: cause.triggerIndex } : {}),
          stage: 'start',
          instanceId: command.instanceId,
        },
        error,
        origin,
      );
    }
  }

  private async handleBatch(events: StoredEvent[]): Promise<void> {
    const sql = this.db.sql;
    sql.exec('BEGIN IMMEDIATE');
    this.pendingStarts = [];
    try {
      for (const event of events) await this.handleIsolated(event);
      await this.flushStarts();
      const last = events.at(-1);
      if (last) this.db.setCheckpoint(CHECKPOINT, last.position);
      sql.exec('COMMIT');
      if (last) this.lastPosition = last.position;
      this.consecutiveErrors = 0;
    } catch (error) {
      this.pendingStarts = [];
      sql.exec('ROLLBACK');
      throw error;
    }
  }

  /**
   * One log event. Its own engine-db writes roll back alone when it fails; a poison failure is
   * recorded and the batch goes on, an infrastructure error stops the batch (isInfrastructureError).
   */
  private async handleIsolated(event: StoredEvent): Promise<void> {
    const sql = this.db.sql;
    sql.exec('SAVEPOINT pm_event');
    try {
      await this.handle(event);
      sql.exec('RELEASE pm_event');
    } catch (error) {
      sql.exec('ROLLBACK TO pm_event');
      sql.exec('RELEASE pm_event');
      if (isInfrastructureError(error)) throw error;
      await this.onEventFailed(event, error);
    }
  }

  // ---- failure handling: where a poison failure is recorded (kept apart so it can move with the reactions) ----

  /** A failed start of a process for a record: StartFailed on the record's stream, retryable by an admin. */
  private async recordStartFailure(start: FailedStart, error: unknown, origin: Origin): Promise<void> {
    const failureId = await this.starts.recordFailure(start, error, origin.commandId, origin);
    this.failures.recorded++;
    this.logger.warn(
      { ...describeFailure(error), failureId, definitionKey: start.definitionKey, entityEventId: start.entityEventId },
      'start failed; recorded on the record',
    );
  }

  /** A failure acting on an existing instance: an incident on it, retried like any other incident. */
  private async recordInstanceFailure(instanceId: string, error: unknown, origin: Origin): Promise<void> {
    const raised = await this.instances.raiseIncident(instanceId, error, origin);
    if (raised) this.failures.recorded++;
    else this.failures.unrecorded++;
    this.logger.warn(
      { ...describeFailure(error), instanceId, causationId: origin.causationId, incident: raised },
      raised ? 'instance command failed; incident raised' : 'instance command failed on an ended instance',
    );
  }

  /** Runs one reaction of an event; a poison failure goes to `onPoison`, infrastructure errors propagate. */
  private async isolate(reaction: () => Promise<void>, onPoison: (error: unknown) => Promise<void>): Promise<void> {
    try {
      await reaction();
    } catch (error) {
      if (isInfrastructureError(error)) throw error;
      await onPoison(error);
    }
  }

  /** The last resort for an event whose handling threw outside its reactions: on its instance, else logged. */
  private async onEventFailed(stored: StoredEvent, error: unknown): Promise<void> {
    const origin = {
      commandId: `event-failed:${stored.id}`,
      correlationId: stored.metadata.correlationId,
      causationId: stored.id,
    };
    if (stored.streamId.startsWith('instance-')) {
      return this.recordInstanceFailure(stored.streamId.slice('instance-'.length), error, origin);
    }
    // Definition events only update this process's tables: nothing to attach an incident to.
    this.failures.unrecorded++;
    this.logger.error(
      { err: error, ...describeFailure(error), eventId: stored.id, type: stored.type, stream: stored.streamId },
      'log event could not be handled; skipped',
    );
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
        const entity = envelope
          ? { type: envelope.entityType, id: envelope.entityId }
          : entityOfStream(stored.streamId);
        if (!envelope) {
          if (!entity) throw new Error(`delayed start on ${stored.streamId}, not a record stream`);
          const missing = new ReactionFailure(
            'START.ENTITY_EVENT_MISSING',
            `entity event ${d.entityEventId} is not on ${stored.streamId}`,
          );
          return this.recordStartFailure(
            { ...d, entity, stage: 'schedule' },
            missing,
            origin(`schedule-timer:${d.definitionKey}`),
          );
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
          startAt: d.startAt,
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
          const check = origin('check-wait-on-start');
          await this.isolate(
            async () => void (await this.instances.execute(instanceId, { type: 'CheckWait' }, SYSTEM, check)),
            (error) => this.recordInstanceFailure(instanceId, error, check),
          );
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
      case 'DelayedStartSkipped':
        this.stmt('DELETE FROM pm_timers WHERE timer_id = ?').run(`start:${event.data.instanceId}`);
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
    data: { envelope: EntityEventEnvelope; source: EntityEventSource },
    origin: (name: string) => Origin,
  ): Promise<void> {
    const { envelope, source } = data;
    const entity = { type: envelope.entityType, id: envelope.entityId };
    const rows = this.stmt(
      'SELECT key, version, definition, enabled, execution_order FROM pm_definitions WHERE related_entity = ?',
    ).all(envelope.entityType) as {
      key: string;
      version: number;
      definition: string;
      enabled: number;
      execution_order: number;
    }[];
    const failedStart = (
      key: string,
      version: number,
      stage: FailedStart['stage'],
      triggerIndex?: number,
    ): FailedStart => ({
      entity,
      definitionKey: key,
      definitionVersion: version,
      entityEventId: envelope.id,
      ...(triggerIndex !== undefined ? { triggerIndex } : {}),
      stage,
      instanceId: instanceIdFor(envelope.id, key),
    });
    // Each definition on its own: one whose triggers cannot be evaluated fails alone, recorded on the record.
    const matches: TriggerMatch[] = [];
    for (const r of rows) {
      await this.isolate(
        async () => {
          const active: ActiveDefinition = {
            definition: this.parsedDefinition(r.key, r.version, r.definition),
            version: r.version,
            enabled: r.enabled === 1,
            executionOrder: r.execution_order,
          };
          const result = matchTriggers([active], envelope, stored.metadata.at);
          matches.push(...result.matches);
          // A condition that failed is a failed start only if no other trigger of the definition started it.
          const [first] = result.errors;
          if (first && result.matches.length === 0) {
            const message = result.errors.map((e) => `triggers[${e.triggerIndex}].when: ${e.message}`).join('; ');
            await this.recordStartFailure(
              failedStart(r.key, r.version, 'trigger', first.triggerIndex),
              new ReactionFailure(first.code, message),
              origin(`trigger:${r.key}`),
            );
          }
        },
        (error) => this.recordStartFailure(failedStart(r.key, r.version, 'trigger'), error, origin(`trigger:${r.key}`)),
      );
    }
    matches.sort(byExecutionOrderThenKey);
    // Smaller execution order first; each start completes before the next begins.
    for (const match of matches) {
      const instanceId = instanceIdFor(envelope.id, match.definitionKey);
      if (match.delay) {
        await this.flushStarts();
        const failed = failedStart(match.definitionKey, match.definitionVersion, 'schedule', match.triggerIndex);
        const scheduleOrigin = origin(`schedule:${match.definitionKey}`);
        await this.isolate(
          async () => {
            const due = delayedStartAt(stored.metadata.at, match.delay as string);
            if (!due.ok) throw new ReactionFailure(due.code, due.message);
            await this.scheduleDelayedStart(stored, instanceId, match, due.startAt);
          },
          (error) => this.recordStartFailure(failed, error, scheduleOrigin),
        );
        continue;
      }
      this.pendingStarts.push({
        command: {
          type: 'StartInstance',
          instanceId,
          definitionKey: match.definitionKey,
          definitionVersion: match.definitionVersion,
          entity,
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
      const check = origin(`check-wait:${wait.instance_id}`);
      await this.isolate(
        async () =>
          void (await this.instances.execute(
            wait.instance_id,
            { type: 'CheckWait', entityEventId: envelope.id, entitySource: source },
            SYSTEM,
            check,
            { entityData: envelope.data },
          )),
        (error) => this.recordInstanceFailure(wait.instance_id, error, check),
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
    // Idempotent by id: the same schedule again after a crash is recognised and writes nothing.
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
  }

  /** The envelope with this id on the record's stream, newest first, however far back it is. */
  private async envelopeOf(streamId: string, envelopeId: string): Promise<EntityEventEnvelope | undefined> {
    const page = 200;
    let fromRevision: number | undefined;
    for (;;) {
      const events = await this.store.readStream(streamId, {
        direction: 'backwards',
        maxCount: page,
        ...(fromRevision !== undefined ? { fromRevision } : {}),
      });
      for (const e of events) {
        if (e.type !== 'EntityEventRecorded') continue;
        const envelope = (e.data as { envelope: EntityEventEnvelope }).envelope;
        if (envelope.id === envelopeId) return envelope;
      }
      const oldest = events.at(-1);
      if (events.length < page || !oldest || oldest.revision === 0) return undefined;
      fromRevision = oldest.revision - 1;
    }
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
        let events: number;
        if (timer.kind === 'delayed-start') {
          const p = JSON.parse(timer.payload) as DelayedStartPayload;
          const fired = await this.starts.fireDelayedStart(p, timer.timer_id, origin(p));
          // Skipped for good: re-activating the definition later must not bring it back.
          events = fired.skipped ? 0 : fired.events;
        } else {
          const p = JSON.parse(timer.payload) as WaitTimeoutPayload;
          const result = await this.instances.execute(
            timer.instance_id,
            { type: 'FireWaitTimeout', activityId: p.activityId, visit: p.visit },
            SYSTEM,
            origin(p),
          );
          events = result.events.length;
        }
        // Fired: the resulting event removes it when the log reaches it; a no-op means it is moot.
        if (events === 0) {
          this.stmt('DELETE FROM pm_timers WHERE timer_id = ?').run(timer.timer_id);
          continue;
        }
        this.stmt('UPDATE pm_timers SET fired_at = ?, due_at = ? WHERE timer_id = ?').run(
          now,
          new Date(Date.parse(now) + 60_000).toISOString(),
          timer.timer_id,
        );
      } catch (error) {
        if (!isInfrastructureError(error)) {
          await this.onTimerFailed(timer, error);
          continue;
        }
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

  /**
   * A timer whose command is poison: recorded (a failed start on the record, an incident on the
   * instance) and removed, so it neither retries forever nor vanishes. If recording fails, it stays due.
   */
  private async onTimerFailed(timer: TimerRow, error: unknown): Promise<void> {
    try {
      if (timer.kind === 'delayed-start') {
        const p = JSON.parse(timer.payload) as DelayedStartPayload;
        const cause = p.cause.kind === 'trigger' ? p.cause : undefined;
        // Keyed by the schedule event: a start scheduled again by a retry that fails again is a new failure.
        await this.recordStartFailure(
          {
            entity: p.entity,
            definitionKey: p.definitionKey,
            definitionVersion: p.definitionVersion,
            entityEventId: cause?.entityEventId ?? '',
            ...(cause ? { triggerIndex: cause.triggerIndex } : {}),
            stage: 'delayed-start',
            instanceId: p.instanceId,
          },
          error,
          { commandId: `delayed-start:${p.causationId}`, correlationId: p.correlationId, causationId: p.causationId },
        );
      } else {
        const p = JSON.parse(timer.payload) as WaitTimeoutPayload;
        // Keyed by the WaitStarted event: after a retry the wait starts again and may fail anew.
        await this.recordInstanceFailure(timer.instance_id, error, {
          commandId: `wait-timeout:${p.causationId}`,
          correlationId: p.correlationId,
          causationId: p.causationId,
        });
      }
      this.stmt('DELETE FROM pm_timers WHERE timer_id = ?').run(timer.timer_id);
    } catch (recording) {
      this.logger.error(
        { err: recording, cause: describeFailure(error), timerId: timer.timer_id },
        'timer failed and its failure could not be recorded; it will be retried',
      );
      this.stmt('UPDATE pm_timers SET due_at = ? WHERE timer_id = ?').run(
        new Date(Date.parse(this.clock.nowIso()) + 5_000).toISOString(),
        timer.timer_id,
      );
    }
  }
}

/** `entity-<Type>-<id>` → the record (entity types have no dash). */
function entityOfStream(streamId: string): { type: string; id: string } | undefined {
  if (!streamId.startsWith('entity-')) return undefined;
  const rest = streamId.slice('entity-'.length);
  const dash = rest.indexOf('-');
  return dash > 0 ? { type: rest.slice(0, dash), id: rest.slice(dash + 1) } : undefined;
}
