import {
  checkManualStart,
  decideManualStart,
  decodeInstanceEvent,
  incidentForFailure,
  instanceDecider,
  InstanceNotFound,
  streams,
  type Actor,
  type DecideContext,
  type EntityRef,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
  type ManualStart,
  type MigrateInstance,
} from '@lifeline/process-domain';
import { WrongExpectedRevision, type StoreTx } from '@lifeline/event-store';
import type { Clock } from '../shared/clock';
import type { DefinitionCatalog } from '../definitions/definition-catalog';
import { deterministicUuid, eventIdsFor } from '../shared/ids';

/** A sub-process's child id from its name (parent, activity, entry, attempt): the same after a crash. */
const childInstanceId = (name: string): string => deterministicUuid(`child:${name}`);
import { describeFailure } from '../shared/failure-policy';
import { metadataFor, onRecord, partitionKeyOf, type CommandOrigin } from '../shared/metadata';
import { handleCommand, loadStream, StateCache } from '../pipeline/handle';

export interface InstanceCommandResult {
  instanceId: string;
  /** Global position of the last event appended, or of the stream's last event when nothing was. */
  position: number;
  events: InstanceEvent[];
}

export interface InstanceCommandOptions {
  /** The related record as the caller knows it; looked up when absent. */
  entityData?: Record<string, unknown>;
  /** The envelope `entityData` comes from. */
  entityEventId?: string;
}

/** The record as last recorded, for decisions that were not handed it. */
export interface LatestRecords {
  latest(entity: EntityRef): Promise<{ data: Record<string, unknown>; entityEventId?: string }>;
}

/** Instances whose state is kept between commands; bounded, so memory stays flat. */
const INSTANCE_CACHE_SIZE = 10_000;
const MAX_ATTEMPTS = 8;

/** The instance command handler on the one pipeline: load, decide, append, retry on a conflict. */
export class InstanceCommands {
  readonly cache = new StateCache<InstanceState>(INSTANCE_CACHE_SIZE);

  constructor(
    private readonly definitions: DefinitionCatalog,
    private records: LatestRecords,
    private readonly clock: Clock,
  ) {}

  /** Where record data comes from when a command does not carry it (the API process without a reactor reads its read models). */
  useRecords(records: LatestRecords): void {
    this.records = records;
  }

  /**
   * Starts a process by hand for a record, on the latest version of its definition, if the actor may
   * (docs: README, "Defining a process", startableBy). Refused before anything is written.
   */
  async launch(tx: StoreTx, request: ManualStart, actor: Actor, origin: CommandOrigin): Promise<InstanceCommandResult> {
    const latest = await this.definitions.latest(tx, request.definitionKey);
    return this.run(tx, request.instanceId, decideManualStart(latest, request, actor), actor, origin, {});
  }

  async execute(
    tx: StoreTx,
    instanceId: string,
    command: InstanceCommand,
    actor: Actor,
    origin: CommandOrigin,
    options: InstanceCommandOptions = {},
  ): Promise<InstanceCommandResult> {
    if (command.type === 'StartInstance' && command.cause.kind === 'api') {
      // A start by hand obeys the same rule whichever way it comes in.
      const latest = await this.definitions.latest(tx, command.definitionKey);
      return this.run(tx, instanceId, checkManualStart(latest, command, actor), actor, origin, options);
    }
    return this.run(tx, instanceId, command, actor, origin, options);
  }

  private async run(
    tx: StoreTx,
    instanceId: string,
    command: InstanceCommand,
    actor: Actor,
    origin: CommandOrigin,
    options: InstanceCommandOptions,
  ): Promise<InstanceCommandResult> {
    const now = this.clock.nowIso();
    const outcome = await handleCommand(tx, {
      streamId: streams.instance(instanceId),
      decider: instanceDecider,
      command,
      context: (state) => this.context(tx, state, command, actor, now, options),
      decode: decodeInstanceEvent,
      origin,
      actor: actor.id,
      at: now,
      cache: this.cache,
      expectNew: command.type === 'StartInstance',
      partitionKey: (state) => {
        const entity = entityOf(state, command.type === 'StartInstance' ? command.entity : undefined);
        return entity && partitionKeyOf(entity);
      },
    });
    return { instanceId, position: outcome.position, events: outcome.events };
  }

  /** The decision's context; at once (no promise) when the definition is cached and the record data given. */
  private context(
    tx: StoreTx,
    state: InstanceState,
    command: InstanceCommand,
    actor: Actor,
    now: string,
    options: InstanceCommandOptions,
  ): DecideContext | Promise<DecideContext> {
    const started = command.type === 'StartInstance' ? command : undefined;
    if (state.status === 'none' && !started) return Promise.reject(new InstanceNotFound('No such instance'));
    const key = started?.definitionKey ?? (state.status !== 'none' ? state.definitionKey : '');
    if (command.type === 'MigrateInstance' && state.status !== 'none') {
      return this.migrationContext(tx, state, command.toVersion, actor, now);
    }
    const version = started?.definitionVersion ?? (state.status !== 'none' ? state.definitionVersion : 0);
    const definition = this.definitions.cached(key, version);
    if (definition !== undefined && options.entityData !== undefined) {
      return {
        now,
        actor,
        definition,
        definitionVersion: version,
        entityData: options.entityData,
        ...(options.entityEventId !== undefined ? { entityEventId: options.entityEventId } : {}),
        childInstanceId,
      };
    }
    return this.contextRead(tx, state, started, key, version, actor, now, options);
  }

  /** A migration is decided against both versions: the target as `definition`, the one it runs as `fromDefinition`. */
  private async migrationContext(
    tx: StoreTx,
    state: Exclude<InstanceState, { status: 'none' }>,
    toVersion: number,
    actor: Actor,
    now: string,
  ): Promise<DecideContext> {
    const definition = await this.definitions.version(tx, state.definitionKey, toVersion);
    const fromDefinition = await this.definitions.version(tx, state.definitionKey, state.definitionVersion);
    return {
      now,
      actor,
      definition,
      definitionVersion: toVersion,
      fromDefinition,
      entityData: {},
      childInstanceId,
    };
  }

  private async contextRead(
    tx: StoreTx,
    state: InstanceState,
    started: Extract<InstanceCommand, { type: 'StartInstance' }> | undefined,
    key: string,
    version: number,
    actor: Actor,
    now: string,
    options: InstanceCommandOptions,
  ): Promise<DecideContext> {
    const entity = started?.entity ?? (state.status !== 'none' ? state.entity : undefined);
    const definition = await this.definitions.version(tx, key, version);
    let entityData = options.entityData;
    let entityEventId = options.entityEventId;
    if (entityData === undefined) {
      const latest = entity ? await this.records.latest(entity) : { data: {} };
      entityData = latest.data;
      entityEventId = latest.entityEventId;
    }
    return {
      now,
      actor,
      definition,
      definitionVersion: version,
      entityData,
      ...(entityEventId !== undefined ? { entityEventId } : {}),
      childInstanceId,
    };
  }

  /** A migration decided on the instance as it stands, nothing written (a dry run): throws its refusal. */
  async decideMigration(tx: StoreTx, instanceId: string, command: MigrateInstance, actor: Actor): Promise<void> {
    const { state } = await loadStream(tx, {
      streamId: streams.instance(instanceId),
      decider: instanceDecider,
      decode: decodeInstanceEvent,
      cache: this.cache,
    });
    const context = await this.context(tx, state, command, actor, this.clock.nowIso(), {});
    instanceDecider.decideState!(state, command, context);
  }

  /**
   * Records a failure met acting on this instance as an incident (retryable like any other). The
   * incident's event id comes from `origin.commandId`, so recording the same failure again after a
   * crash writes nothing. Returns false when the instance has ended or does not exist.
   */
  async raiseIncident(tx: StoreTx, instanceId: string, error: unknown, origin: CommandOrigin): Promise<boolean> {
    const streamId = streams.instance(instanceId);
    const failure = describeFailure(error);
    const [id] = eventIdsFor(`incident:${origin.commandId}`, 1);
    for (let attempt = 1; ; attempt++) {
      const { state, revision } = await loadStream(tx, {
        streamId,
        decider: instanceDecider,
        decode: decodeInstanceEvent,
        cache: this.cache,
      });
      const incident = incidentForFailure(state, failure);
      if (!incident) return false;
      try {
        await tx.append({
          streamId,
          expectedRevision: revision,
          events: [
            {
              id: id!,
              type: incident.type,
              data: incident.data,
              metadata: onRecord(tx, metadataFor(origin, 'system', this.clock.nowIso()), entityOf(state)),
            },
          ],
        });
        return true;
      } catch (conflict) {
        if (conflict instanceof WrongExpectedRevision && attempt < MAX_ATTEMPTS) continue;
        throw conflict;
      }
    }
  }
}

/** The record an instance's events belong to; a start names it before the state does. */
const entityOf = (state: InstanceState, starting?: EntityRef): EntityRef | undefined =>
  state.status !== 'none' ? state.entity : starting;
