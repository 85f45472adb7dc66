import {
  decideDueDelayedStart,
  planStartRetry,
  startFailuresOf,
  streams,
  SYSTEM,
  type Actor,
  type DelayedStartScheduled,
  type DelayedStartSkipped,
  type EntityEvent,
  type EntityEventEnvelope,
  type EntityEventRecorded,
  type EntityRef,
  type StartFailed,
  type StartInstance,
  type StartRetried,
  type StartStage,
} from '@lifeline/process-domain';
import { WrongExpectedRevision, type EventStore, type StoredEvent } from '@lifeline/event-store';
import type { DefinitionCatalog } from '../definitions/definition-catalog';
import type { InstanceCommands } from '../instances/instance-commands';
import type { Clock } from '../shared/clock';
import { describeFailure } from '../shared/failure-policy';
import { deterministicUuid, eventIdsFor } from '../shared/ids';
import { metadataFor, type CommandOrigin } from '../shared/metadata';

/** A start that could not be made, and where. */
export interface FailedStart {
  entity: EntityRef;
  definitionKey: string;
  definitionVersion: number;
  entityEventId: string;
  triggerIndex?: number;
  stage: StartStage;
  instanceId: string;
}

/** A delayed start as its timer keeps it (`startAt`: when it was scheduled for; absent in timers kept before). */
export type DueDelayedStart = Omit<StartInstance, 'type'> & {
  causationId: string;
  correlationId: string;
  startAt?: string;
};

export interface StartRetryResult {
  failureId: string;
  outcome: StartRetried['data']['outcome'];
  definitionVersion: number;
  instanceId?: string;
  /** Global position of the last event written. */
  position: number;
}

const MAX_ATTEMPTS = 8;

/**
 * Starts of processes for a record outside the process manager's batch: failed starts (recorded
 * on the record's stream, retried by an admin) and delayed starts that came due. Kept apart from
 * the process manager so the decisions can move with it (docs/decisions/0004-failed-reactions.md).
 */
export class StartReactions {
  constructor(
    private readonly store: EventStore,
    private readonly catalog: DefinitionCatalog,
    private readonly instances: InstanceCommands,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a failed start as StartFailed on the record's stream. Its id (the failure id) comes
   * from `key`, so recording the same failure again after a crash writes nothing.
   */
  async recordFailure(
    start: FailedStart,
    error: unknown,
    key: string,
    origin: Omit<CommandOrigin, 'commandId'>,
  ): Promise<string> {
    const failureId = deterministicUuid(`start-failed:${key}`);
    const data: StartFailed['data'] = {
      failureId,
      definitionKey: start.definitionKey,
      definitionVersion: start.definitionVersion,
      entityEventId: start.entityEventId,
      ...(start.triggerIndex !== undefined ? { triggerIndex: start.triggerIndex } : {}),
      stage: start.stage,
      instanceId: start.instanceId,
      ...describeFailure(error),
    };
    await this.store.append({
      streamId: streams.entity(start.entity.type, start.entity.id),
      expectedRevision: 'any',
      events: [
        {
          id: failureId,
          type: 'StartFailed',
          data,
          metadata: metadataFor({ ...origin, commandId: key }, SYSTEM.id, this.clock.nowIso()),
        },
      ],
    });
    return failureId;
  }

  /**
   * A delayed start that came due. The rule (README, Triggers): it starts only if its definition is
   * enabled now, read from the definition's stream (not the process manager's table, which may lag);
   * otherwise DelayedStartSkipped is recorded on the record and nothing starts, for good.
   */
  async fireDelayedStart(
    due: DueDelayedStart,
    timerKey: string,
    origin: CommandOrigin,
  ): Promise<{ events: number; skipped: boolean }> {
    const latest = await this.catalog.latest(due.definitionKey);
    const record = await this.store.readStream(streams.entity(due.entity.type, due.entity.id));
    const skippedBefore = record.some(
      (e) => e.type === 'DelayedStartSkipped' && (e.data as DelayedStartSkipped['data']).instanceId === due.instanceId,
    );
    const decision = decideDueDelayedStart(latest, skippedBefore);
    const { causationId: _c, correlationId: _r, startAt, ...start } = due;
    if (decision.start) {
      const result = await this.instances.execute(due.instanceId, { type: 'StartInstance', ...start }, SYSTEM, origin);
      return { events: result.events.length, skipped: false };
    }
    if (decision.reason === 'skipped-before' || due.cause.kind !== 'trigger') return { events: 0, skipped: true };
    const data: DelayedStartSkipped['data'] = {
      instanceId: due.instanceId,
      definitionKey: due.definitionKey,
      definitionVersion: due.definitionVersion,
      entityEventId: due.cause.entityEventId,
      startAt: startAt ?? this.clock.nowIso(),
      reason: decision.reason,
    };
    const result = await this.store.append({
      streamId: streams.entity(due.entity.type, due.entity.id),
      expectedRevision: 'any',
      events: [
        {
          id: deterministicUuid(`delayed-start-skipped:${timerKey}`),
          type: 'DelayedStartSkipped',
          data,
          metadata: metadataFor(origin, SYSTEM.id, this.clock.nowIso()),
        },
      ],
    });
    return { events: result.duplicate ? 0 : 1, skipped: true };
  }

  /**
   * Retries an open failed start with the definition as it is now (publish a fixed version first):
   * its triggers are matched against the original entity event again; a match starts the instance
   * (or schedules it, for a delayed trigger), no match closes the failure. Refused when the failure
   * is unknown or already retried, or the definition is deactivated; a retry that fails again
   * answers the error and leaves the failure open.
   */
  async retry(entity: EntityRef, failureId: string, actor: Actor, origin: CommandOrigin): Promise<StartRetryResult> {
    const streamId = streams.entity(entity.type, entity.id);
    for (let attempt = 1; ; attempt++) {
      const stored = await this.store.readStream(streamId);
      const failures = startFailuresOf(stored.map((e) => ({ event: asEntityEvent(e), at: e.metadata.at })));
      const failure = failures.get(failureId);
      const recorded = failure && findEnvelope(stored, failure.failure.entityEventId);
      const latest = failure && (await this.catalog.latest(failure.failure.definitionKey));
      const active = latest && { ...latest, executionOrder: latest.definition.executionOrder };
      const plan = planStartRetry(
        failure && recorded ? failure : undefined,
        active,
        recorded?.envelope ?? emptyEnvelope,
        recorded?.at ?? '',
      );
      // Defined from here on: planStartRetry refused every other case.
      const open = failure!.failure;
      const version = active!.version;
      const now = this.clock.nowIso();
      const metadata = metadataFor(origin, actor.id, now);
      const retried = (outcome: StartRetried['data']['outcome'], instanceId?: string): StartRetried => ({
        type: 'StartRetried',
        data: {
          failureId,
          by: actor.id,
          outcome,
          definitionKey: open.definitionKey,
          definitionVersion: version,
          ...(instanceId !== undefined ? { instanceId } : {}),
        },
      });
      const events: EntityEvent[] = [];
      if (plan.kind === 'start') {
        // Starting first is safe to repeat: the instance id is the one the failed start would have used.
        await this.instances.execute(
          open.instanceId,
          {
            type: 'StartInstance',
            instanceId: open.instanceId,
            definitionKey: open.definitionKey,
            definitionVersion: version,
            entity,
            variables: {},
            cause: {
              kind: 'trigger',
              entityEventId: open.entityEventId,
              triggerIndex: plan.match.triggerIndex,
              delayed: false,
            },
          },
          actor,
          { ...origin, commandId: `retry-start:${failureId}` },
          { entityData: recorded!.envelope.data },
        );
        events.push(retried('started', open.instanceId));
      } else if (plan.kind === 'schedule') {
        const scheduled: DelayedStartScheduled = {
          type: 'DelayedStartScheduled',
          data: {
            instanceId: open.instanceId,
            definitionKey: open.definitionKey,
            definitionVersion: version,
            triggerIndex: plan.match.triggerIndex,
            entityEventId: open.entityEventId,
            startAt: plan.startAt,
          },
        };
        events.push(scheduled, retried('scheduled', open.instanceId));
      } else {
        events.push(retried('no-match'));
      }
      const ids = eventIdsFor(`retry-start:${failureId}:${origin.commandId}`, events.length);
      try {
        const result = await this.store.append({
          streamId,
          expectedRevision: stored.length - 1,
          events: events.map((event, i) => ({ id: ids[i], type: event.type, data: event.data, metadata })),
        });
        const last = events.at(-1) as StartRetried;
        return {
          failureId,
          outcome: last.data.outcome,
          definitionVersion: version,
          ...(last.data.instanceId !== undefined ? { instanceId: last.data.instanceId } : {}),
          position: result.position,
        };
      } catch (error) {
        // Someone wrote to the record meanwhile (perhaps the same retry): decide again on what is there now.
        if (error instanceof WrongExpectedRevision && attempt < MAX_ATTEMPTS) continue;
        throw error;
      }
    }
  }
}

const asEntityEvent = (stored: StoredEvent): EntityEvent => ({ type: stored.type, data: stored.data }) as EntityEvent;

const emptyEnvelope: EntityEventEnvelope = {
  id: '',
  entityType: '',
  entityId: '',
  kind: 'created',
  occurredAt: '',
  data: {},
};

function findEnvelope(
  stored: StoredEvent[],
  envelopeId: string,
): { envelope: EntityEventEnvelope; at: string } | undefined {
  for (const e of stored) {
    if (e.type !== 'EntityEventRecorded') continue;
    const { envelope } = e.data as EntityEventRecorded['data'];
    if (envelope.id === envelopeId) return { envelope, at: e.metadata.at };
  }
  return undefined;
}
