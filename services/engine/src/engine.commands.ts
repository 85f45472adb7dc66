import { Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Actor, DefinitionCommand, InstanceCommand } from '@lifeline/process-domain';
import { EngineRuntime } from './engine-runtime';
import type { EntityEventToRecord, RecordOutcome } from './ingest/record-entity-events';
import type { InstanceCommandResult } from './instances/instance-commands';
import type { DefinitionCommandResult } from './definitions/definition-commands';
import type { CommandOrigin } from './shared/metadata';

/** Nest commands: what controllers hand to the CommandBus. Each handler is load → decide → append. */
export class RunInstanceCommand {
  constructor(
    readonly instanceId: string,
    readonly command: InstanceCommand,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {}
}

export class PublishDefinitionCommand {
  constructor(
    readonly text: string,
    readonly contentType: string | undefined,
    readonly actor: string,
    readonly origin: CommandOrigin,
  ) {}
}

export class ChangeDefinitionCommand {
  constructor(
    readonly key: string,
    readonly command: DefinitionCommand,
    readonly actor: string,
    readonly origin: CommandOrigin,
  ) {}
}

export class RecordEntityEventsCommand {
  constructor(
    readonly batch: EntityEventToRecord[],
    readonly actor: string,
  ) {}
}

@Injectable()
@CommandHandler(RunInstanceCommand)
export class RunInstanceCommandHandler implements ICommandHandler<RunInstanceCommand, InstanceCommandResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: RunInstanceCommand): Promise<InstanceCommandResult> {
    return this.engine.instances.execute(c.instanceId, c.command, c.actor, c.origin);
  }
}

@Injectable()
@CommandHandler(PublishDefinitionCommand)
export class PublishDefinitionHandler implements ICommandHandler<PublishDefinitionCommand, DefinitionCommandResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: PublishDefinitionCommand): Promise<DefinitionCommandResult> {
    return this.engine.definitions.publish(c.text, c.contentType, c.actor, c.origin);
  }
}

@Injectable()
@CommandHandler(ChangeDefinitionCommand)
export class ChangeDefinitionHandler implements ICommandHandler<ChangeDefinitionCommand, DefinitionCommandResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: ChangeDefinitionCommand): Promise<DefinitionCommandResult> {
    return this.engine.definitions.execute(c.key, c.command, c.actor, c.origin);
  }
}

@Injectable()
@CommandHandler(RecordEntityEventsCommand)
export class RecordEntityEventsHandler implements ICommandHandler<RecordEntityEventsCommand, RecordOutcome> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: RecordEntityEventsCommand): Promise<RecordOutcome> {
    return this.engine.ingest.record(c.batch, c.actor);
  }
}

export const ENGINE_COMMAND_HANDLERS = [
  RunInstanceCommandHandler,
  PublishDefinitionHandler,
  ChangeDefinitionHandler,
  RecordEntityEventsHandler,
];
