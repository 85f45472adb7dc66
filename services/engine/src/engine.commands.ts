import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { BpmnImportOptions } from '@lifeline/bpmn';
import type { Actor, DefinitionCommand, EntityRef, InstanceCommand, ManualStart } from '@lifeline/process-domain';
import type { DefinitionCatalog } from './definitions/definition-catalog';
import type { DefinitionCommandResult, DefinitionCommands } from './definitions/definition-commands';
import { readDefinition } from './definitions/read-definition';
import type { EntityEventToRecord, RecordEntityEvents, RecordOutcome } from './ingest/record-entity-events';
import type { InstanceCommandOptions, InstanceCommandResult, InstanceCommands } from './instances/instance-commands';
import { migrateInstances, type MigrationRequest, type MigrationResult } from './instances/migrate-instances';
import type { WritePath } from './reactions/reactions-runner';
import type { StartReactions, StartRetryResult } from './reactions/start-reactions';
import { newUuid } from './shared/ids';
import type { CommandOrigin } from './shared/metadata';
import type { LifelineMetrics } from './shared/metrics';
import type { CreatedWebhook, WebhookCommands } from './webhooks/webhook-commands';

/**
 * The engine's use cases: one handler per command, each one unit of work through the write path. The HTTP API
 * reaches them through the CommandBus; the engine's own callers (Kafka ingest, the demo, specs) through
 * `EngineRuntime.commands`: the same classes over the same ports (stateless, so one code path).
 */
export class RunInstanceCommand extends Command<InstanceCommandResult> {
  constructor(
    readonly instanceId: string,
    readonly command: InstanceCommand,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
    readonly options?: InstanceCommandOptions,
  ) {
    super();
  }
}

/** Someone starts a process by hand for a record; the engine decides whether they may (startableBy). */
export class LaunchInstanceCommand extends Command<InstanceCommandResult> {
  constructor(
    /** Without an instance id, a new one. */
    readonly request: Omit<ManualStart, 'instanceId'> & { instanceId?: string },
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {
    super();
  }
}

export class PublishDefinitionCommand extends Command<DefinitionCommandResult> {
  constructor(
    readonly text: string,
    readonly contentType: string | undefined,
    readonly actor: string,
    readonly origin?: CommandOrigin,
    /** For a BPMN file: the key, record type or process it has no place for (query parameters, CLI flags). */
    readonly options: BpmnImportOptions = {},
  ) {
    super();
  }
}

export class ChangeDefinitionCommand extends Command<DefinitionCommandResult> {
  constructor(
    readonly key: string,
    readonly command: DefinitionCommand,
    readonly actor: string,
    readonly origin?: CommandOrigin,
  ) {
    super();
  }
}

export class RecordEntityEventsCommand extends Command<RecordOutcome> {
  constructor(
    readonly batch: EntityEventToRecord[],
    readonly actor?: string,
  ) {
    super();
  }
}

/** An admin retries a failed start of a process for a record (docs/decisions/0004-failed-reactions.md). */
export class RetryStartCommand extends Command<StartRetryResult> {
  constructor(
    readonly entity: EntityRef,
    readonly failureId: string,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {
    super();
  }
}

/** An admin migrates the selected instances of a version to another (README, "Migrating running instances"). */
export class MigrateInstancesCommand extends Command<MigrationResult> {
  constructor(
    readonly request: MigrationRequest,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
  ) {
    super();
  }
}

export class CreateWebhookCommand extends Command<CreatedWebhook> {
  constructor(
    readonly request: { url: string; events: string[]; description?: string },
    readonly actor: string,
    readonly origin: CommandOrigin,
  ) {
    super();
  }
}

export class DeleteWebhookCommand extends Command<number> {
  constructor(
    readonly webhookId: string,
    readonly actor: string,
    readonly origin: CommandOrigin,
  ) {
    super();
  }
}

export class RedeliverWebhookCommand extends Command<number> {
  constructor(
    readonly webhookId: string,
    readonly deliveryId: string,
    readonly actor: string,
    readonly origin: CommandOrigin,
  ) {
    super();
  }
}

/** What the use cases run on: the write path, the per-stream command runners, the catalog, the metrics. */
export const COMMAND_PORTS = 'CommandPorts';
export interface CommandPorts {
  writes: WritePath;
  metrics: LifelineMetrics;
  catalog: DefinitionCatalog;
  instances: InstanceCommands;
  definitions: DefinitionCommands;
  ingest: RecordEntityEvents;
  starts: StartReactions;
  webhooks: WebhookCommands;
}

@CommandHandler(RunInstanceCommand)
export class RunInstanceHandler implements ICommandHandler<RunInstanceCommand, InstanceCommandResult> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ instanceId, command, actor, origin, options }: RunInstanceCommand): Promise<InstanceCommandResult> {
    return this.p.metrics.time(command.type, () =>
      this.p.writes.run((tx) => this.p.instances.execute(tx, instanceId, command, actor, origin, options)),
    );
  }
}

/** A start by hand (POST /instances): the actor needs one of the definition's startableBy roles. */
@CommandHandler(LaunchInstanceCommand)
export class LaunchInstanceHandler implements ICommandHandler<LaunchInstanceCommand, InstanceCommandResult> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ request, actor, origin }: LaunchInstanceCommand): Promise<InstanceCommandResult> {
    const start = { ...request, instanceId: request.instanceId ?? newUuid() };
    return this.p.metrics.time('StartInstance', () =>
      this.p.writes.run((tx) => this.p.instances.launch(tx, start, actor, origin)),
    );
  }
}

/** YAML, JSON or BPMN XML (`options`: what a BPMN file has no place for); read before the unit of work. */
@CommandHandler(PublishDefinitionCommand)
export class PublishDefinitionHandler implements ICommandHandler<PublishDefinitionCommand, DefinitionCommandResult> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ text, contentType, actor, origin, options }: PublishDefinitionCommand): Promise<DefinitionCommandResult> {
    return this.p.metrics.time('PublishDefinition', async () => {
      const definition = await readDefinition(text, contentType, options);
      return this.p.writes.run((tx) => this.p.definitions.publishRead(tx, definition, text, actor, origin));
    });
  }
}

@CommandHandler(ChangeDefinitionCommand)
export class ChangeDefinitionHandler implements ICommandHandler<ChangeDefinitionCommand, DefinitionCommandResult> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ key, command, actor, origin }: ChangeDefinitionCommand): Promise<DefinitionCommandResult> {
    return this.p.metrics.time(command.type, () =>
      this.p.writes.run((tx) => this.p.definitions.execute(tx, key, command, actor, origin)),
    );
  }
}

/** A batch of envelopes (HTTP or one Kafka batch) in one unit of work; counted by source. */
@CommandHandler(RecordEntityEventsCommand)
export class RecordEntityEventsHandler implements ICommandHandler<RecordEntityEventsCommand, RecordOutcome> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  async execute({ batch, actor }: RecordEntityEventsCommand): Promise<RecordOutcome> {
    const outcome = await this.p.metrics.time('RecordEntityEvents', () =>
      this.p.writes.run((tx) => this.p.ingest.record(tx, batch, actor)),
    );
    const source = batch[0]?.source.kind ?? 'http';
    if (outcome.recorded > 0) this.p.metrics.entityEventsRecorded.inc({ source }, outcome.recorded);
    if (outcome.duplicates > 0) this.p.metrics.entityEventsDuplicate.inc({ source }, outcome.duplicates);
    return outcome;
  }
}

@CommandHandler(RetryStartCommand)
export class RetryStartHandler implements ICommandHandler<RetryStartCommand, StartRetryResult> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ entity, failureId, actor, origin }: RetryStartCommand): Promise<StartRetryResult> {
    return this.p.metrics.time('RetryStart', () =>
      this.p.writes.run((tx) => this.p.starts.retry(tx, entity, failureId, actor, origin)),
    );
  }
}

/** Each selected instance moved (or, in a dry run, decided) on its own, through the instance use case. */
@CommandHandler(MigrateInstancesCommand)
export class MigrateInstancesHandler implements ICommandHandler<MigrateInstancesCommand, MigrationResult> {
  constructor(
    @Inject(COMMAND_PORTS) private readonly p: CommandPorts,
    private readonly run: RunInstanceHandler,
  ) {}
  execute({ request, actor, origin }: MigrateInstancesCommand): Promise<MigrationResult> {
    const { writes, catalog, instances } = this.p;
    return migrateInstances(
      {
        requireVersion: async (key, version) => {
          await writes.run((tx) => catalog.version(tx, key, version));
        },
        decideOnly: (instanceId, command, who) =>
          writes.run((tx) => instances.decideMigration(tx, instanceId, command, who)),
        migrate: async (instanceId, command, who, own) => {
          await this.run.execute(new RunInstanceCommand(instanceId, command, who, own));
        },
      },
      request,
      actor,
      origin,
    );
  }
}

@CommandHandler(CreateWebhookCommand)
export class CreateWebhookHandler implements ICommandHandler<CreateWebhookCommand, CreatedWebhook> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ request, actor, origin }: CreateWebhookCommand): Promise<CreatedWebhook> {
    return this.p.metrics.time('CreateWebhook', () =>
      this.p.writes.run((tx) => this.p.webhooks.create(tx, request, actor, origin)),
    );
  }
}

/** Answers the position of the event it appended. */
@CommandHandler(DeleteWebhookCommand)
export class DeleteWebhookHandler implements ICommandHandler<DeleteWebhookCommand, number> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ webhookId, actor, origin }: DeleteWebhookCommand): Promise<number> {
    const command = { type: 'DeleteWebhook' as const, webhookId, by: actor };
    return this.p.metrics.time(command.type, () =>
      this.p.writes.run((tx) => this.p.webhooks.execute(tx, command, actor, origin)),
    );
  }
}

/** Answers the position of the event it appended. */
@CommandHandler(RedeliverWebhookCommand)
export class RedeliverWebhookHandler implements ICommandHandler<RedeliverWebhookCommand, number> {
  constructor(@Inject(COMMAND_PORTS) private readonly p: CommandPorts) {}
  execute({ webhookId, deliveryId, actor, origin }: RedeliverWebhookCommand): Promise<number> {
    const command = { type: 'RedeliverWebhookDelivery' as const, webhookId, deliveryId, by: actor };
    return this.p.metrics.time(command.type, () =>
      this.p.writes.run((tx) => this.p.webhooks.execute(tx, command, actor, origin)),
    );
  }
}

/** The handler classes: the Nest module registers them over the runtime's ports, as the runtime builds its own. */
export const ENGINE_COMMAND_HANDLERS = [
  RunInstanceHandler,
  LaunchInstanceHandler,
  PublishDefinitionHandler,
  ChangeDefinitionHandler,
  RecordEntityEventsHandler,
  RetryStartHandler,
  MigrateInstancesHandler,
  CreateWebhookHandler,
  DeleteWebhookHandler,
  RedeliverWebhookHandler,
];

/** Every use case of the engine over one runtime's ports, for its in-process callers (Kafka ingest, the demo, specs). */
export class EngineCommands {
  readonly runInstance: RunInstanceHandler;
  readonly launchInstance: LaunchInstanceHandler;
  readonly publishDefinition: PublishDefinitionHandler;
  readonly changeDefinition: ChangeDefinitionHandler;
  readonly recordEntityEvents: RecordEntityEventsHandler;
  readonly retryStart: RetryStartHandler;
  readonly migrateInstances: MigrateInstancesHandler;
  readonly createWebhook: CreateWebhookHandler;
  readonly deleteWebhook: DeleteWebhookHandler;
  readonly redeliverWebhook: RedeliverWebhookHandler;

  constructor(readonly ports: CommandPorts) {
    this.runInstance = new RunInstanceHandler(ports);
    this.launchInstance = new LaunchInstanceHandler(ports);
    this.publishDefinition = new PublishDefinitionHandler(ports);
    this.changeDefinition = new ChangeDefinitionHandler(ports);
    this.recordEntityEvents = new RecordEntityEventsHandler(ports);
    this.retryStart = new RetryStartHandler(ports);
    this.migrateInstances = new MigrateInstancesHandler(ports, this.runInstance);
    this.createWebhook = new CreateWebhookHandler(ports);
    this.deleteWebhook = new DeleteWebhookHandler(ports);
    this.redeliverWebhook = new RedeliverWebhookHandler(ports);
  }
}
