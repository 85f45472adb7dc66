import {
  decodeEntityEvent,
  recordDecider,
  SYSTEM,
  type EntityRef,
  type Reaction,
  type RecordCommand,
} from '@lifeline/process-domain';
import type { StoreTx } from '@lifeline/event-store';
import type { Logger } from 'pino';
import type { InstanceCommands } from '../instances/instance-commands';
import { handleCommand } from '../pipeline/handle';
import type { Clock } from '../shared/clock';
import { ReactionFailure } from '../shared/failure-policy';
import { eventIdsFor } from '../shared/ids';
import type { CommandOrigin } from '../shared/metadata';
import type { ReactionEffects } from './reactor';
import type { FailedStart, StartReactions } from './start-reactions';

/** The record a reaction's stream names (`entity-<Type>-<id>`; types have no dash). */
function entityOfStream(streamId: string): EntityRef {
  const rest = streamId.slice('entity-'.length);
  const dash = rest.indexOf('-');
  return { type: rest.slice(0, dash), id: rest.slice(dash + 1) };
}

/**
 * What each reaction does, as commands through the pipeline, and where a failed one is recorded
 * (docs/decisions/0004-failed-reactions.md): a start that could not be made is StartFailed on its
 * record; a command on an instance that threw is an incident on that instance.
 */
export class EngineReactionEffects implements ReactionEffects {
  /** Failures recorded, and those with nowhere to go (logged only). */
  readonly failures = { recorded: 0, unrecorded: 0 };

  constructor(
    private readonly instances: InstanceCommands,
    private readonly starts: StartReactions,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async apply(tx: StoreTx, reaction: Reaction): Promise<void> {
    switch (reaction.type) {
      case 'StartInstance':
        await this.instances.execute(tx, reaction.command.instanceId, reaction.command, SYSTEM, reaction.origin, {
          entityData: reaction.entityData,
          ...(reaction.entityEventId !== undefined ? { entityEventId: reaction.entityEventId } : {}),
        });
        return;
      case 'RunInstanceCommand':
        await this.instances.execute(tx, reaction.instanceId, reaction.command, SYSTEM, reaction.origin, {
          entityData: reaction.entityData,
          ...(reaction.entityEventId !== undefined ? { entityEventId: reaction.entityEventId } : {}),
        });
        return;
      case 'ScheduleDelayedStart':
        await this.onRecord(
          tx,
          reaction.streamId,
          { type: 'ScheduleDelayedStart', data: reaction.data },
          reaction.origin,
        );
        return;
      case 'SkipDelayedStart': {
        const { timer } = reaction;
        await this.onRecord(
          tx,
          reaction.streamId,
          {
            type: 'SkipDelayedStart',
            data: {
              instanceId: timer.instanceId,
              definitionKey: timer.definitionKey,
              definitionVersion: timer.definitionVersion,
              entityEventId: timer.entityEventId,
              reason: reaction.reason,
              startAt: timer.dueAt,
            },
          },
          reaction.origin,
        );
        return;
      }
      case 'RecordScheduleTick':
        // The tick's event id derives from the definition and the tick: two engines firing it append it once.
        await this.onRecord(
          tx,
          reaction.streamId,
          { type: 'RecordScheduleTick', data: reaction.data },
          reaction.origin,
        );
        return;
      case 'TriggerFailed':
        // Not an exception: the decider found it. It is recorded all the same.
        await this.failed(tx, reaction, new ReactionFailure(reaction.code, reaction.message));
        return;
      default: {
        const unknown: never = reaction;
        throw new Error(`Unknown reaction ${JSON.stringify(unknown)}`);
      }
    }
  }

  async failed(tx: StoreTx, reaction: Reaction, error: unknown): Promise<void> {
    // Counted once the unit commits: a pass of reactions that is undone and run again counts once.
    if (reaction.type === 'RunInstanceCommand') {
      const raised = await this.instances.raiseIncident(tx, reaction.instanceId, error, reaction.origin);
      if (raised) tx.onCommit(() => this.failures.recorded++);
      else {
        tx.onCommit(() => this.failures.unrecorded++);
        this.logger.warn(
          { err: error, instanceId: reaction.instanceId, commandId: reaction.origin.commandId },
          'a command on an ended instance failed; nothing to attach an incident to',
        );
      }
      return;
    }
    const start = failedStart(reaction);
    await this.starts.recordFailure(tx, start, error, reaction.origin.commandId, reaction.origin);
    tx.onCommit(() => this.failures.recorded++);
  }

  private async onRecord(tx: StoreTx, streamId: string, command: RecordCommand, origin: CommandOrigin): Promise<void> {
    await handleCommand(tx, {
      streamId,
      decider: recordDecider,
      command,
      context: () => undefined,
      decode: decodeEntityEvent,
      origin,
      actor: SYSTEM.id,
      at: this.clock.nowIso(),
      expectedRevision: 'any',
      ids: (count) => eventIdsFor(origin.commandId, count, 0, origin.idTime),
    });
  }
}

/** What a start reaction was about, for its StartFailed record. */
function failedStart(reaction: Exclude<Reaction, { type: 'RunInstanceCommand' }>): FailedStart {
  switch (reaction.type) {
    case 'StartInstance': {
      const { command } = reaction;
      const cause = command.cause.kind === 'trigger' ? command.cause : undefined;
      if (command.cause.kind === 'schedule') {
        return {
          entity: command.entity,
          definitionKey: command.definitionKey,
          definitionVersion: command.definitionVersion,
          entityEventId: '',
          triggerIndex: command.cause.triggerIndex,
          stage: 'scheduled-start',
          instanceId: command.instanceId,
        };
      }
      return {
        entity: command.entity,
        definitionKey: command.definitionKey,
        definitionVersion: command.definitionVersion,
        entityEventId: cause?.entityEventId ?? '',
        ...(cause ? { triggerIndex: cause.triggerIndex } : {}),
        stage: cause?.delayed ? 'delayed-start' : 'start',
        instanceId: command.instanceId,
      };
    }
    case 'ScheduleDelayedStart':
      return {
        entity: entityOfStream(reaction.streamId),
        definitionKey: reaction.data.definitionKey,
        definitionVersion: reaction.data.definitionVersion,
        entityEventId: reaction.data.entityEventId,
        triggerIndex: reaction.data.triggerIndex,
        stage: 'schedule',
        instanceId: reaction.data.instanceId,
      };
    case 'SkipDelayedStart':
      return {
        entity: entityOfStream(reaction.streamId),
        definitionKey: reaction.timer.definitionKey,
        definitionVersion: reaction.timer.definitionVersion,
        entityEventId: reaction.timer.entityEventId,
        triggerIndex: reaction.timer.triggerIndex,
        stage: 'delayed-start',
        instanceId: reaction.timer.instanceId,
      };
    case 'RecordScheduleTick':
      return {
        entity: entityOfStream(reaction.streamId),
        definitionKey: reaction.data.definitionKey,
        definitionVersion: reaction.data.definitionVersion,
        entityEventId: '',
        triggerIndex: reaction.data.triggerIndex,
        stage: 'scheduled-start',
        instanceId: reaction.data.instanceId,
      };
    case 'TriggerFailed':
      return {
        entity: entityOfStream(reaction.streamId),
        definitionKey: reaction.definitionKey,
        definitionVersion: reaction.definitionVersion,
        entityEventId: reaction.entityEventId,
        triggerIndex: reaction.triggerIndex,
        stage: reaction.stage,
        instanceId: reaction.instanceId,
      };
    default: {
      const unknown: never = reaction;
      throw new Error(`Unknown reaction ${JSON.stringify(unknown)}`);
    }
  }
}
