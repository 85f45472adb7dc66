import { Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { BpmnImportOptions } from '@lifeline/bpmn';
import type { Actor, DefinitionCommand, EntityRef, InstanceCommand, ManualStart } from '@lifeline/process-domain';
import { EngineRuntime } from './engine-runtime';
import type { EntityEventToRecord, RecordOutcome } from './ingest/record-entity-events';
import type { InstanceCommandResult } from './instances/instance-commands';
import type { MigrationRequest, MigrationResult } from './instances/migrate-instances';
import type { DefinitionCommandResult } from './definitions/definition-commands';
import type { CommandOrigin } from './shared/metadata';
import type { StartRetryResult } from './reactions/start-reactions';

/** Nest commands: what controllers hand to the CommandBus. Each handler is load → decide → append. */
export class RunInstanceCommand {
  constructor(
    readonly instanceId: string,
    readonly command: InstanceCommand,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {}
}

/** Someone starts a process by hand for a record; the engine decides whether they may (startableBy). */
export class LaunchInstanceCommand {
  constructor(
    readonly request: ManualStart,
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
    /** For a BPMN file: the key, record type or process it has no place for (query parameters, CLI flags). */
    readonly options: BpmnImportOptions = {},
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

/** An admin retries a failed start of a process for a record (docs/decisions/0004-failed-reactions.md). */
export class RetryStartCommand {
  constructor(
    readonly entity: EntityRef,
    readonly failureId: string,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {}
}

/** An admin migrates the selected instances of a version to another (README, "Migrating running instances"). */
export class MigrateInstancesCommand {
  constructor(
    readonly request: MigrationRequest,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {}
}

@Injectable()
@CommandHandler(MigrateInstancesCommand)
export class MigrateInstancesHandler implements ICommandHandler<MigrateInstancesCommand, MigrationResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: MigrateInstancesCommand): Promise<MigrationResult> {
    return this.engine.migrations.run(c.request, c.actor, c.origin);
  }
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
@CommandHandler(LaunchInstanceCommand)
export class LaunchInstanceCommandHandler implements ICommandHandler<LaunchInstanceCommand, InstanceCommandResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: LaunchInstanceCommand): Promise<InstanceCommandResult> {
    return this.engine.instances.launch(c.request, c.actor, c.origin);
  }
}

@Injectable()
@CommandHandler(PublishDefinitionCommand)
export class PublishDefinitionHandler implements ICommandHandler<PublishDefinitionCommand, DefinitionCommandResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: PublishDefinitionCommand): Promise<DefinitionCommandResult> {
    return this.engine.definitions.publish(c.text, c.contentType, c.actor, c.origin, c.options);
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

@Injectable()
@CommandHandler(RetryStartCommand)
export class RetryStartHandler implements ICommandHandler<RetryStartCommand, StartRetryResult> {
  constructor(private readonly engine: EngineRuntime) {}
  execute(c: RetryStartCommand): Promise<StartRetryResult> {
    return this.engine.starts.retry(c.entity, c.failureId, c.actor, c.origin);
  }
}

export const ENGINE_COMMAND_HANDLERS = [
  RunInstanceCommandHandler,
  LaunchInstanceCommandHandler,
  RetryStartHandler,
  PublishDefinitionHandler,
  ChangeDefinitionHandler,
  RecordEntityEventsHandler,
  MigrateInstancesHandler,
];
