import {
  decide,
  evolveAll,
  initialState,
  type StartInstance,
  streams,
  type Actor,
  type EntityEventRecorded,
  type InstanceCommand,
  type InstanceEvent,
  type InstanceState,
} from '@lifeline/process-domain';
import { EventIdConflict, WrongExpectedRevision, type AppendRequest, type EventStore, type StoredEvent } from '@lifeline/event-store';
import { InstanceNotFound } from '@lifeline/process-domain';
import type { Clock } from '../shared/clock';
import type { DefinitionCatalog } from '../definitions/definition-catalog';
import { eventIdsFor } from '../shared/ids';
import { metadataFor, type CommandOrigin } from '../shared/metadata';

export interface InstanceCommandResult {
  instanceId: string;
  /** Global position of the last event appended, or of the stream's last event when nothing was. */
  position: number;
  events: InstanceEvent[];
}

export interface InstanceCommandOptions {
  /** The related record as the caller knows it; loaded from its stream when absent. */
  entityData?: Record<string, unknown>;
}

const MAX_ATTEMPTS = 8;

/** The instance command handler: load the stream, decide, append with the expected revision, retry on conflict. */
export class InstanceCommands {
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
      const stored = await this.store.readStream(streamId);
      const state: InstanceState = evolveAll(stored.map(asInstanceEvent));
      const key = command.type === 'StartInstance' ? command.definitionKey : state.status !== 'none' ? state.definitionKey : undefined;
      const version =
        command.type === 'StartInstance' ? command.definitionVersion : state.status !== 'none' ? state.definitionVersion : undefined;
      if (key === undefined || version === undefined || state.status === 'none' && command.type !== 'StartInstance') {
        throw new InstanceNotFound(`No instance ${instanceId}`);
      }
      const definition = await this.definitions.version(key, version);
      const entity = command.type === 'StartInstance' ? command.entity : state.status !== 'none' ? state.entity : undefined;
      const entityData = options.entityData ?? (entity ? await this.latestEntityData(entity.type, entity.id) : {});
      const now = this.clock.nowIso();
      const events = decide(state, command, { now, actor, definition, definitionVersion: version, entityData });
      const lastRevision = stored.length - 1;
      if (events.length === 0) {
        return { instanceId, position: stored.at(-1)?.position ?? 0, events };
      }
      const ids = eventIdsFor(origin.commandId, events.length, stored.length);
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
   * process manager's fast path). If any of them exists already (a repeat after a crash), the
   * batch falls back to one command at a time, which treats the existing ones as done.
   */
  async startMany(
    starts: { command: StartInstance; origin: CommandOrigin; entityData: Record<string, unknown> }[],
    actor: Actor,
  ): Promise<void> {
    if (starts.length === 0) return;
    const now = this.clock.nowIso();
    const requests: AppendRequest[] = [];
    for (const { command, origin, entityData } of starts) {
      const definition = await this.definitions.version(command.definitionKey, command.definitionVersion);
      const events = decide(initialState(), command, { now, actor, definition, definitionVersion: command.definitionVersion, entityData });
      const ids = eventIdsFor(origin.commandId, events.length, 0);
      const metadata = metadataFor(origin, actor.id, now);
      requests.push({
        streamId: streams.instance(command.instanceId),
        expectedRevision: 'no-stream',
        events: events.map((event, i) => ({ id: ids[i], type: event.type, data: event.data, metadata })),
      });
    }
    try {
      await this.store.appendMany(requests);
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision) && !(error instanceof EventIdConflict)) throw error;
      for (const { command, origin, entityData } of starts) {
        await this.execute(command.instanceId, command, actor, origin, { entityData });
      }
    }
  }

  /** The record as last recorded: the data of the newest EntityEventRecorded on its stream. */
  async latestEntityData(entityType: string, entityId: string): Promise<Record<string, unknown>> {
    const recent = await this.store.readStream(streams.entity(entityType, entityId), { direction: 'backwards', maxCount: 20 });
    const last = recent.find((e) => e.type === 'EntityEventRecorded');
    return last ? (last.data as EntityEventRecorded['data']).envelope.data : {};
  }
}

export const asInstanceEvent = (stored: StoredEvent): InstanceEvent =>
  ({ type: stored.type, data: stored.data }) as InstanceEvent;
