import {
  decodeEntityEvent,
  decodeEvent,
  planStartRetry,
  startFailuresOf,
  streams,
  SYSTEM,
  type Actor,
  type DelayedStartScheduled,
  type EntityEvent,
  type EntityEventEnvelope,
  type EntityRef,
  type ScheduleTicked,
  type StartFailed,
  type StartRetried,
  type StartStage,
} from '@lifeline/process-domain';
import { WrongExpectedRevision, type StoreTx, type StoredEvent } from '@lifeline/event-store';
import type { DefinitionCatalog } from '../definitions/definition-catalog';
import type { InstanceCommands } from '../instances/instance-commands';
import type { Clock } from '../shared/clock';
import { describeFailure } from '../shared/failure-policy';
import { deterministicUuid, eventIdsFor } from '../shared/ids';
import { metadataFor, onRecord, type CommandOrigin } from '../shared/metadata';

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
 * Failed starts of processes for a record: recorded on the record's stream where the reactor met
 * them, retried by an admin (docs/decisions/0004-failed-reactions.md).
 */
export class StartReactions {
  constructor(
    private readonly catalog: DefinitionCatalog,
    private readonly instances: InstanceCommands,
    private readonly clock: Clock,
  ) {}

  /**
   * Records a failed start as StartFailed on the record's stream. Its id (the failure id) comes
   * from `key`, so recording the same failure again after a crash writes nothing.
   */
  async recordFailure(
    tx: StoreTx,
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
    await tx.append({
      streamId: streams.entity(start.entity.type, start.entity.id),
      expectedRevision: 'any',
      events: [
        {
          id: failureId,
          type: 'StartFailed',
          data,
          metadata: onRecord(
            tx,
            metadataFor({ ...origin, commandId: key }, SYSTEM.id, this.clock.nowIso()),
            start.entity,
          ),
        },
      ],
    });
    return failureId;
  }

  /**
   * Retries an open failed start with the definition as it is now (publish a fixed version first):
   * its triggers are matched against the original entity event again; a match starts the instance
   * (or schedules it, for a delayed trigger), no match closes the failure. Refused when the failure
   * is unknown or already retried, or the definition is deactivated; a retry that fails again
   * answers the error and leaves the failure open.
   */
  async retry(
    tx: StoreTx,
    entity: EntityRef,
    failureId: string,
    actor: Actor,
    origin: CommandOrigin,
  ): Promise<StartRetryResult> {
    const streamId = streams.entity(entity.type, entity.id);
    for (let attempt = 1; ; attempt++) {
      const stored = await tx.readStream(streamId);
      const failures = startFailuresOf(stored.map((e) => ({ event: asEntityEvent(e), at: e.metadata.at })));
      const failure = failures.get(failureId);
      const recorded = failure && findEnvelope(stored, failure.failure.entityEventId);
      // A scheduled start has no envelope: the tick recorded on its record stands in for it.
      const tick =
        failure?.failure.stage === 'scheduled-start' ? findTick(stored, failure.failure.instanceId) : undefined;
      const latest = failure && (await this.catalog.latest(tx, failure.failure.definitionKey));
      const active = latest && { ...latest, executionOrder: latest.definition.executionOrder };
      const plan = planStartRetry(
        failure && (recorded || tick) ? failure : undefined,
        active,
        recorded?.envelope ?? emptyEnvelope,
        recorded?.at ?? '',
      );
      // Defined from here on: planStartRetry refused every other case.
      const open = failure!.failure;
      const version = active!.version;
      const now = this.clock.nowIso();
      const metadata = onRecord(tx, metadataFor(origin, actor.id, now), entity);
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
          tx,
          open.instanceId,
          {
            type: 'StartInstance',
            instanceId: open.instanceId,
            definitionKey: open.definitionKey,
            definitionVersion: version,
            entity,
            variables: {},
            cause: tick
              ? {
                  kind: 'schedule',
                  tick: tick.tick,
                  triggerIndex: plan.match.triggerIndex,
                  ...(tick.skippedFrom !== undefined ? { skippedFrom: tick.skippedFrom } : {}),
                }
              : {
                  kind: 'trigger',
                  entityEventId: open.entityEventId,
                  triggerIndex: plan.match.triggerIndex,
                  delayed: false,
                },
          },
          actor,
          { ...origin, commandId: `retry-start:${failureId}` },
          { entityData: recorded?.envelope.data ?? {} },
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
        const result = await tx.append({
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

const asEntityEvent = (stored: StoredEvent): EntityEvent => decodeEntityEvent(stored);

const emptyEnvelope: EntityEventEnvelope = {
  id: '',
  entityType: '',
  entityId: '',
  kind: 'created',
  occurredAt: '',
  data: {},
};

function findTick(stored: StoredEvent[], instanceId: string): ScheduleTicked['data'] | undefined {
  for (const e of stored) {
    const event = decodeEvent(e);
    if (event.type === 'ScheduleTicked' && event.data.instanceId === instanceId) return event.data;
  }
  return undefined;
}

function findEnvelope(
  stored: StoredEvent[],
  envelopeId: string,
): { envelope: EntityEventEnvelope; at: string } | undefined {
  for (const e of stored) {
    const event = decodeEvent(e);
    if (event.type !== 'EntityEventRecorded') continue;
    const { envelope } = event.data;
    if (envelope.id === envelopeId) return { envelope, at: e.metadata.at };
  }
  return undefined;
}
