import {
  decideDefinition,
  evolveDefinition,
  initialDefinitionState,
  parseDefinition,
  streams,
  type DefinitionCommand,
  type DefinitionEvent,
} from '@lifeline/process-domain';
import { WrongExpectedRevision, type EventStore } from '@lifeline/event-store';
import type { Clock } from '../shared/clock';
import { eventIdsFor, newUuid } from '../shared/ids';
import { metadataFor, type CommandOrigin } from '../shared/metadata';

export interface DefinitionCommandResult {
  key: string;
  version: number;
  enabled: boolean;
  position: number;
  changed: boolean;
}

/** Publishes, activates and deactivates definitions on their `definition-<key>` streams. */
export class DefinitionCommands {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  /** Parses and validates the document first: an invalid one is refused with every issue by path. */
  async publish(
    text: string,
    contentType: string | undefined,
    actor: string,
    origin?: CommandOrigin,
  ): Promise<DefinitionCommandResult> {
    const definition = parseDefinition(text, contentType);
    return this.execute(definition.key, { type: 'PublishDefinition', definition, source: text }, actor, origin);
  }

  async execute(
    key: string,
    command: DefinitionCommand,
    actor: string,
    origin?: CommandOrigin,
  ): Promise<DefinitionCommandResult> {
    const streamId = streams.definition(key);
    const commandOrigin = origin ?? { commandId: newUuid(), correlationId: newUuid(), causationId: newUuid() };
    for (let attempt = 1; ; attempt++) {
      const stored = await this.store.readStream(streamId);
      const state = stored
        .map((e) => ({ type: e.type, data: e.data }) as DefinitionEvent)
        .reduce(evolveDefinition, initialDefinitionState());
      const events = decideDefinition(state, command);
      const after = events.reduce(evolveDefinition, state);
      if (after.status === 'none')
        throw new Error('unreachable: a decided definition command leaves a published stream');
      const summary = { key, version: after.latestVersion, enabled: after.enabled };
      if (events.length === 0) return { ...summary, position: stored.at(-1)?.position ?? 0, changed: false };
      const ids = eventIdsFor(commandOrigin.commandId, events.length, stored.length);
      const metadata = metadataFor(commandOrigin, actor, this.clock.nowIso());
      try {
        const result = await this.store.append({
          streamId,
          expectedRevision: stored.length === 0 ? 'no-stream' : stored.length - 1,
          events: events.map((event, i) => ({ id: ids[i], type: event.type, data: event.data, metadata })),
        });
        return { ...summary, position: result.position, changed: !result.duplicate };
      } catch (error) {
        if (error instanceof WrongExpectedRevision && attempt < 8) continue;
        throw error;
      }
    }
  }
}
