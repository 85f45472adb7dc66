import {
  decide,
  evolveAll,
  incidentForFailure,
  initialState,
  type StartInstance,
  streams,
  type Actor,
  type EntityEventRecorded,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
} from '@lifeline/process-domain';
import { WrongExpectedRevision, type AppendRequest, type EventStore, type StoredEvent } from '@lifeline/event-store';
import { InstanceNotFound } from '@lifeline/process-domain';
import type { Clock } from '../shared/clock';
import type { DefinitionCatalog } from '../definitions/definition-catalog';
import { eventIdsFor } from '../shared/ids';
import { describeFailure, isInfrastructureError } from '../shared/failure-policy';
import { metadataFor, type CommandOrigin } from '../shared/metadata';

export interface InstanceCommandResult {
  instanceId: string;
  /** Global position of the last event appended, or of the stream's last event when nothing was. */
  position: number;
  events: InstanceEvent[];
}

/** One start of a new instance, as the process manager batches them. */
export interface BatchedStart {
  command: StartInstance;
  origin: CommandOrigin;
  entityData: Record<string, unknown>;
}

export interface InstanceCommandOptions {
  /** The related record as the caller knows it; loaded from its stream when absent. */
  entityData?: Record<string, unknown>;
}

const MAX_ATTEMPTS = 8;
/** Instances whose state is kept between commands; bounded, so memory stays flat. */
const INSTANCE_CACHE_SIZE = 10_000;

interface CachedInstance {
  state: InstanceState;
  /** Revision of the last event folded in (-1: no stream). */
  revision: number;
  /** Global position of that event. */
  position: number;
}

/** The instance command handler: load the stream, decide, append with the expected revision, retry on conflict. */
export class InstanceCommands {
  private readonly cache = new Map<string, CachedInstance>();

  constructor(
    private readonly store: EventStore,
    private readonly definitions: DefinitionCatalog,
    private readonly clock: Clock,
  ) {}

  async execute(
    instanceId: string,
    command: InstanceCommand,
    actor: Actor,
    origin: CommandOrigin,
    options: InstanceCommandOptions = {},
  ): Promise<InstanceCommandResult> {
    const streamId = streams.instance(instanceId);
    for (let attempt = 1; ; attempt++) {
      const { state, revision: lastRevision, position: lastPosition } = await this.load(instanceId);
      const key =
        command.type === 'StartInstance'
          ? command.definitionKey
          : state.status !== 'none'
            ? state.definitionKey
            : undefined;
      const version =
        command.type === 'StartInstance'
          ? command.definitionVersion
          : state.status !== 'none'
            ? state.definitionVersion
            : undefined;
      if (key === undefined || version === undefined || (state.status === 'none' && command.type !== 'StartInstance')) {
        throw new InstanceNotFound(`No instance ${instanceId}`);
      }
      const definition = await this.definitions.version(key, version);
      const entity =
        command.type === 'StartInstance' ? command.entity : state.status !== 'none' ? state.entity : undefined;
      const entityData = options.entityData ?? (entity ? await this.latestEntityData(entity.type, entity.id) : {});
      const now = this.clock.nowIso();
      const events = decide(state, command, { now, actor, definition, definitionVersion: version, entityData });
      if (events.length === 0) {
        return { instanceId, position: lastPosition, events };
      }
      const ids = eventIdsFor(origin.commandId, events.length, lastRevision + 1);
      const metadata = metadataFor(origin, actor.id, now);
      try {
        const result = await this.store.append({
          streamId,
          expectedRevision: lastRevision < 0 ? 'no-stream' : lastRevision,
          events: events.map((event, i) => ({ id: ids[i], type: event.type, data: event.data, metadata })),
        });
        return { instanceId, position: result.position, events: result.duplicate ? [] : events };
      } catch (error) {
        if (error instanceof WrongExpectedRevision && attempt < MAX_ATTEMPTS) continue; // someone appended first: decide again
        throw error;
      }
    }
  }

  /**
   * Decides a batch of starts of new instances and appends them in one store transaction (the
   * process manager's fast path). If any of them exists already (a repeat after a crash), or the
   * batch is refused as a whole, it falls back to one command at a time, which treats the existing
   * ones as done. A start that fails on its own (poison: its decision or append throws) is returned,
   * never thrown, so it cannot take the others down; infrastructure errors are thrown.
   */
  async startMany(
    starts: BatchedStart[],
    actor: Actor,
  ): Promise<{ failed: { start: BatchedStart; error: unknown }[] }> {
    const failed: { start: BatchedStart; error: unknown }[] = [];
    const poison = (start: BatchedStart, error: unknown): void => {
      if (isInfrastructureError(error)) throw error;
      failed.push({ start, error });
    };
    if (starts.length === 0) return { failed };
    const now = this.clock.nowIso();
    const decided: BatchedStart[] = [];
    const requests: AppendRequest[] = [];
    for (const start of starts) {
      const { command, origin, entityData } = start;
      try {
        const definition = await this.definitions.version(command.definitionKey, command.definitionVersion);
        const events = decide(initialState(), command, {
          now,
          actor,
          definition,
          definitionVersion: command.definitionVersion,
          entityData,
        });
        const ids = eventIdsFor(origin.commandId, events.length, 0);
        const metadata = metadataFor(origin, actor.id, now);
        requests.push({
          streamId: streams.instance(command.instanceId),
          expectedRevision: 'no-stream',
          events: events.map((event, i) => ({ id: ids[i], type: event.type, data: event.data, metadata })),
        });
        decided.push(start);
      } catch (error) {
        poison(start, error);
      }
    }
    try {
      await this.store.appendMany(requests);
    } catch (error) {
      if (isInfrastructureError(error) && !(error instanceof WrongExpectedRevision)) throw error;
      for (const start of decided) {
        try {
          await this.execute(start.command.instanceId, start.command, actor, start.origin, {
            entityData: start.entityData,
          });
        } catch (one) {
          poison(start, one);
        }
      }
    }
    return { failed };
  }

  /**
   * Records a failure met acting on this instance as an incident (retryable like any other). The
   * incident's event id comes from `origin.commandId`, so recording the same failure again after a
   * crash writes nothing. Returns false when the instance has ended or does not exist.
   */
  async raiseIncident(instanceId: string, error: unknown, origin: CommandOrigin): Promise<boolean> {
    const streamId = streams.instance(instanceId);
    const failure = describeFailure(error);
    const [id] = eventIdsFor(`incident:${origin.commandId}`, 1);
    for (let attempt = 1; ; attempt++) {
      const { state, revision } = await this.load(instanceId);
      const incident = incidentForFailure(state, failure);
      if (!incident) return false;
      try {
        await this.store.append({
          streamId,
          expectedRevision: revision,
          events: [
            {
              id,
              type: incident.type,
              data: incident.data,
              metadata: metadataFor(origin, 'system', this.clock.nowIso()),
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

  /**
   * The instance's state: from a small cache of recent instances, brought up to date with the
   * events appended since (by this process or another), or folded from the whole stream.
   */
  private async load(instanceId: string): Promise<CachedInstance> {
    const streamId = streams.instance(instanceId);
    const cached = this.cache.get(instanceId);
    const newer = await this.store.readStream(streamId, cached ? { fromRevision: cached.revision + 1 } : {});
    let entry: CachedInstance = cached ?? { state: initialState(), revision: -1, position: 0 };
    if (newer.length > 0) {
      entry = {
        state: evolveAll(newer.map(asInstanceEvent), entry.state),
        revision: newer[newer.length - 1]!.revision,
        position: newer[newer.length - 1]!.position,
      };
    }
    // Map order is insertion order: re-inserting keeps the most recently used last.
    this.cache.delete(instanceId);
    if (entry.revision >= 0) this.cache.set(instanceId, entry);
    if (this.cache.size > INSTANCE_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return entry;
  }

  /** The record as last recorded: the data of the newest EntityEventRecorded on its stream. */
  async latestEntityData(entityType: string, entityId: string): Promise<Record<string, unknown>> {
    const recent = await this.store.readStream(streams.entity(entityType, entityId), {
      direction: 'backwards',
      maxCount: 20,
    });
    const last = recent.find((e) => e.type === 'EntityEventRecorded');
    return last ? (last.data as EntityEventRecorded['data']).envelope.data : {};
  }
}

export const asInstanceEvent = (stored: StoredEvent): InstanceEvent =>
  ({ type: stored.type, data: stored.data }) as InstanceEvent;
