import type { BpmnImportOptions } from '@lifeline/bpmn';
import {
  decodeDefinitionEvent,
  definitionDecider,
  streams,
  type DefinitionCommand,
  type ProcessDefinition,
} from '@lifeline/process-domain';
import type { StoreTx } from '@lifeline/event-store';
import type { Clock } from '../shared/clock';
import { newUuid } from '../shared/ids';
import type { CommandOrigin } from '../shared/metadata';
import { handleCommand } from '../pipeline/handle';
import { readDefinition } from './read-definition';

export interface DefinitionCommandResult {
  key: string;
  version: number;
  enabled: boolean;
  position: number;
  changed: boolean;
}

/** Publishes, activates and deactivates definitions on their `definition-<key>` streams. */
export class DefinitionCommands {
  constructor(private readonly clock: Clock) {}

  /**
   * Parses and validates the document first (YAML, JSON, or BPMN XML read by the import with `options`): an invalid
   * one is refused with every issue by path (and, for BPMN, by element). The text is kept as the version's source.
   */
  async publish(
    tx: StoreTx,
    text: string,
    contentType: string | undefined,
    actor: string,
    origin?: CommandOrigin,
    options?: BpmnImportOptions,
  ): Promise<DefinitionCommandResult> {
    const definition = await readDefinition(text, contentType, options);
    return this.publishRead(tx, definition, text, actor, origin);
  }

  /** Publishes a definition already read from `source` (the engine reads outside the unit of work). */
  publishRead(
    tx: StoreTx,
    definition: ProcessDefinition,
    source: string,
    actor: string,
    origin?: CommandOrigin,
  ): Promise<DefinitionCommandResult> {
    return this.execute(tx, definition.key, { type: 'PublishDefinition', definition, source }, actor, origin);
  }

  async execute(
    tx: StoreTx,
    key: string,
    command: DefinitionCommand,
    actor: string,
    origin?: CommandOrigin,
  ): Promise<DefinitionCommandResult> {
    const outcome = await handleCommand(tx, {
      streamId: streams.definition(key),
      decider: definitionDecider,
      command,
      context: () => undefined,
      decode: decodeDefinitionEvent,
      origin: origin ?? { commandId: newUuid(), correlationId: newUuid(), causationId: newUuid() },
      actor,
      at: this.clock.nowIso(),
    });
    const state = outcome.state;
    if (state.status === 'none') throw new Error('unreachable: a decided definition command leaves a published stream');
    return {
      key,
      version: state.latestVersion,
      enabled: state.enabled,
      position: outcome.position,
      changed: outcome.events.length > 0,
    };
  }
}
