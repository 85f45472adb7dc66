import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { openEventStore, partitionedStoreOf, sidecarOf, type EventStore } from '@lifeline/event-store';
import {
  streams,
  type Actor,
  type DefinitionCommand,
  type EntityRef,
  type InstanceCommand,
} from '@lifeline/process-domain';
import type { Logger } from 'pino';
import type { BpmnImportOptions } from '@lifeline/bpmn';
import { DefinitionCatalog } from './definitions/definition-catalog';
import { DefinitionCommands } from './definitions/definition-commands';
import { RecordEntityEvents, type EntityEventToRecord } from './ingest/record-entity-events';
import { InstanceCommands, type InstanceCommandOptions, type LatestRecords } from './instances/instance-commands';
import {
  ChangeDefinitionCommand,
  EngineCommands,
  PublishDefinitionCommand,
  RecordEntityEventsCommand,
  RunInstanceCommand,
} from './engine.commands';
import { EngineReactionEffects } from './reactions/reaction-effects';
import { Reactor } from './reactions/reactor';
import { ReactorState } from './reactions/reactor-state';
import { ReactionsRunner, WritePath, type ReactionsHealth } from './reactions/reactions-runner';
import { StartReactions } from './reactions/start-reactions';
import { Clock, SystemClock } from './shared/clock';
import type { LifelineConfig } from './shared/config';
import { EngineDb } from './shared/engine-db';
import { isInfrastructureError } from './shared/failure-policy';
import { createLogger } from './shared/logger';
import type { CommandOrigin } from './shared/metadata';
import { KafkaIngest } from './ingest/kafka-ingest';
import { Outbound } from './outbound/outbound';
import { MailNotifier, type TaskLookup } from './mail/mail-notifier';
import { AuditAnchors } from './audit/audit-anchors';
import { LifelineMetrics, type Reading } from './shared/metrics';
import { createTracing, type Tracing } from './shared/tracing';
import { WebhookCommands } from './webhooks/webhook-commands';
import { WebhookDeliveries } from './webhooks/webhook-deliveries';
import { PartitionOwnership, type OwnershipHealth } from './ownership/partition-ownership';

/** The outbox backlog metric reads at most this many events per scrape. */
const OUTBOX_BACKLOG_CAP = 1000;

/** The record as the reactor's state has it: the latest data recorded for it, and from which envelope. */
class ReactorRecords implements LatestRecords {
  constructor(private readonly state: ReactorState) {}
  async latest(entity: EntityRef): Promise<{ data: Record<string, unknown>; entityEventId?: string }> {
    const record = this.state.record(streams.entity(entity.type, entity.id));
    return record
      ? { data: record.data, ...(record.lastEntityEventId ? { entityEventId: record.lastEntityEventId } : {}) }
      : { data: {} };
  }
}

/** A log with events of records written before ownership by partition: those records would be nobody's. */
export class UnpartitionedHistory extends Error {
  readonly code = 'OWNERSHIP.UNPARTITIONED_HISTORY';
  constructor(first: { position: number; streamId: string }) {
    super(
      `LIFELINE_OWNERSHIP=partitions: the log has events of records without a partition key, written before ownership by partition (the first at position ${first.position}, stream ${first.streamId}); run these engines with LIFELINE_OWNERSHIP=all (docs/decisions/0013-ownership-by-partition.md)`,
    );
    this.name = 'UnpartitionedHistory';
  }
}

/**
 * The write side, assembled from its ports: the event store, the clock, the engine's own state.
 * Every write is a unit of work through `WritePath`; on the embedded store the reactions run inside
 * it (docs/decisions/0006-write-path-in-one-pass.md). Nest modules wrap it; tests build it directly
 * with a fake clock.
 */
export class EngineRuntime {
  readonly catalog: DefinitionCatalog;
  readonly reactor: Reactor;
  readonly reactions: ReactionsRunner;
  readonly writes: WritePath;
  /** The use cases (engine.commands.ts) over this runtime's ports; the Nest module registers the same classes over the same ports. */
  readonly commands: EngineCommands;
  /** Present when entity events come from Kafka. */
  kafka?: KafkaIngest;
  /** Present when the engines share the records by partition (LIFELINE_OWNERSHIP=partitions). */
  ownership?: PartitionOwnership;
  outbound?: Outbound;
  /** Task mails over SMTP; present when LIFELINE_SMTP_URL is set and this process runs the engine. */
  mail?: MailNotifier;
  private taskLookup: TaskLookup | undefined;
  /** Signed anchors of the global chain; present when LIFELINE_AUDIT_KEY is set. */
  readonly anchors: AuditAnchors | undefined;
  /** Prometheus metrics of this process (the API adds its own to the same registry). */
  readonly metrics = new LifelineMetrics();
  /** Spans over OTLP when configured; a pass-through otherwise. */
  readonly tracing: Tracing;
  /** The webhook outbox: deliveries and their status (sent by the engine role). */
  readonly webhookDeliveries: WebhookDeliveries;

  private readonly instanceCommands: InstanceCommands;
  private readonly startReactions: StartReactions;
  private readonly reactorState: ReactorState;
  private records: LatestRecords;

  private constructor(
    readonly config: LifelineConfig,
    readonly store: EventStore,
    readonly engineDb: EngineDb,
    readonly clock: Clock,
    readonly logger: Logger,
    wallClock: Clock,
  ) {
    this.anchors = AuditAnchors.create(config, store, clock, logger);
    this.tracing = createTracing(config.tracing, logger);
    this.webhookDeliveries = new WebhookDeliveries(
      join(config.dataDir, 'webhooks.db'),
      store,
      config.webhooks,
      wallClock,
      logger,
      this.tracing,
    );
    const sidecar = sidecarOf(store);
    // On the embedded store the reactor's state lives in the store's own file, in the units' transaction.
    this.reactorState = sidecar
      ? new ReactorState(sidecar.sidecar, sidecar.sidecarHoldsEvents)
      : new ReactorState(engineDb.sql);
    this.catalog = new DefinitionCatalog();
    this.records = new ReactorRecords(this.reactorState);
    this.instanceCommands = new InstanceCommands(this.catalog, this.records, clock);
    this.startReactions = new StartReactions(this.catalog, this.instanceCommands, clock);
    const effects = new EngineReactionEffects(this.instanceCommands, this.startReactions, clock, logger);
    this.reactor = new Reactor(this.reactorState, effects, isInfrastructureError, logger);
    const inline = sidecar !== undefined && config.runEngine;
    this.writes = new WritePath(store, inline ? this.reactor : undefined);
    this.commands = new EngineCommands({
      writes: this.writes,
      metrics: this.metrics,
      catalog: this.catalog,
      instances: this.instanceCommands,
      definitions: new DefinitionCommands(clock),
      ingest: new RecordEntityEvents(clock),
      starts: this.startReactions,
      webhooks: new WebhookCommands(clock),
    });
    this.reactions = new ReactionsRunner(
      store,
      this.reactor,
      effects,
      this.writes,
      inline ? undefined : engineDb.sql,
      clock,
      logger,
      { timerTickMs: config.timerTickMs },
    );
  }

  static async create(
    config: LifelineConfig,
    deps: {
      clock?: Clock;
      logger?: Logger;
      store?: EventStore;
      /** What webhook retries wait on: wall time, also when a test drives the engine's clock. */
      wallClock?: Clock;
    } = {},
  ): Promise<EngineRuntime> {
    mkdirSync(config.dataDir, { recursive: true });
    const store = deps.store ?? (await openEventStore(config.eventStore));
    const engineDb = EngineDb.open(join(config.dataDir, 'engine.db'));
    let runtime: EngineRuntime;
    try {
      runtime = new EngineRuntime(
        config,
        store,
        engineDb,
        deps.clock ?? new SystemClock(),
        deps.logger ?? createLogger(config.logLevel),
        deps.wallClock ?? new SystemClock(),
      );
    } catch (error) {
      // A misplaced audit key stops the start: release what was opened.
      await store.close();
      engineDb.close();
      throw error;
    }
    await runtime.adoptEarlierReactions();
    runtime.registerMetrics();
    return runtime;
  }

  /**
   * A store written by a version before the reactor: its process manager already reacted to the log
   * up to its checkpoint. Fold that far without reacting, so nothing is started or checked twice.
   */
  private async adoptEarlierReactions(): Promise<void> {
    if (!this.reactions.inline || this.reactorState.checkpoint() > 0) return;
    const handled = this.engineDb.checkpoint('process-manager');
    if (handled <= 0) return;
    const folded = await this.store.unitOfWork((tx) => this.reactor.foldUpTo(tx, handled));
    this.logger.info({ folded }, 'reactor state rebuilt from the log up to the earlier process manager checkpoint');
  }

  /** What /metrics reads when scraped: positions, backlogs, due timers, the Kafka source's counters and lag. */
  private registerMetrics(): void {
    const m = this.metrics;
    m.gauge('lifeline_log_head_position', "The global log's last position", [], () => this.store.headPosition());
    m.gauge('lifeline_reactions_position', 'The last log position the reactions handled', [], () =>
      this.reactions.position(),
    );
    m.counter(
      'lifeline_reactor_events_total',
      'Log events the reactions decided on (with several engines sharing by partition: their own records only)',
      [],
      () => this.reactor.decided,
    );
    m.counter('lifeline_outbox_messages_total', 'Messages the outbox relay published', [], () =>
      this.outbound ? this.outbound.relay.published : [],
    );
    m.gauge(
      'lifeline_owned_partitions',
      'Partitions of the entity topic this engine owns (sharing by partition)',
      [],
      () => (this.ownership ? this.ownership.health().partitions.length : []),
    );
    m.gauge('lifeline_timers_due', 'Timers due now and not fired yet (a growing number: timers fall behind)', [], () =>
      this.config.runEngine ? this.reactorState.countDue(this.clock.nowIso()) : [],
    );
    m.gauge(
      'lifeline_outbox_backlog_events',
      `Instance events the outbox relay has not published yet (counted up to ${OUTBOX_BACKLOG_CAP})`,
      [],
      async () => {
        const relay = this.outbound?.relay;
        return relay ? relay.backlog(OUTBOX_BACKLOG_CAP) : [];
      },
    );
    m.gauge('lifeline_webhook_deliveries_backlog', 'Webhook deliveries not delivered, by status', ['status'], () => {
      const { pending, dead } = this.webhookDeliveries.backlog();
      return [
        [{ status: 'pending' }, pending],
        [{ status: 'dead' }, dead],
      ];
    });
    m.gauge('lifeline_mail_backlog', 'Task e-mails waiting to be sent', [], () =>
      this.mail ? this.mail.outbox.backlog() : [],
    );
    // Without a Kafka source these read no series (a family with HELP and TYPE only).
    const kafka = (name: string) => (): Reading => this.kafka?.counters()[name] ?? [];
    for (const [name, help, labels] of [
      ['lifeline_dead_letters_total', 'Kafka entity events sent to the dead-letter topic', []],
      [
        'lifeline_entity_events_dead_lettered_total',
        'Kafka entity events sent to the dead-letter topic, by reason',
        ['reason'],
      ],
      [
        'lifeline_entity_events_id_conflict_total',
        'Kafka envelopes whose id was already recorded for another record',
        [],
      ],
      ['lifeline_kafka_undecodable_batches_total', 'Kafka batches that could not be decompressed', []],
      ['lifeline_kafka_consumer_crashes_total', 'Kafka consumer crashes (each followed by a restart)', []],
    ] as const) {
      m.counter(name, help, [...labels], kafka(name));
    }
    m.gauge(
      'lifeline_kafka_stuck_partitions',
      'Partitions paused on a batch this process cannot decode',
      [],
      kafka('lifeline_kafka_stuck_partitions'),
    );
    m.counter(
      'lifeline_kafka_decompressed_batches_total',
      'Kafka batches decompressed, by codec',
      ['codec'],
      kafka('lifeline_kafka_decompressed_batches_total'),
    );
    m.gauge(
      'lifeline_kafka_consumer_lag',
      'Messages of a partition not consumed yet (high watermark − next offset), as of its last batch',
      ['topic', 'partition'],
      () => (this.kafka?.lag() ?? []).map(({ topic, partition, lag }) => [{ topic, partition }, lag]),
    );
  }

  // ---- the commands: the use cases in engine.commands.ts, called in process ----

  readonly definitions = {
    publish: (
      text: string,
      contentType: string | undefined,
      actor: string,
      origin?: CommandOrigin,
      options?: BpmnImportOptions,
    ) =>
      this.commands.publishDefinition.execute(new PublishDefinitionCommand(text, contentType, actor, origin, options)),
    execute: (key: string, command: DefinitionCommand, actor: string, origin?: CommandOrigin) =>
      this.commands.changeDefinition.execute(new ChangeDefinitionCommand(key, command, actor, origin)),
  };

  readonly instances = {
    execute: (
      instanceId: string,
      command: InstanceCommand,
      actor: Actor,
      origin: CommandOrigin,
      options?: InstanceCommandOptions,
    ) => this.commands.runInstance.execute(new RunInstanceCommand(instanceId, command, actor, origin, options)),
  };

  readonly ingest = {
    record: (batch: EntityEventToRecord[], actor?: string) =>
      this.commands.recordEntityEvents.execute(new RecordEntityEventsCommand(batch, actor)),
  };

  /** The record as last recorded (the API shows it beside a task). */
  async latestRecord(entity: EntityRef): Promise<Record<string, unknown>> {
    return (await this.records.latest(entity)).data;
  }

  /** Where record data comes from in a process without the reactor (the API alone reads its read models). */
  useRecords(records: LatestRecords): void {
    this.records = records;
    this.instanceCommands.useRecords(records);
  }

  /** Where the mail notifier learns a task's record and which tasks fell due (the task list, where served). */
  useTaskLookup(lookup: TaskLookup): void {
    this.taskLookup = lookup;
  }

  /** Starts the durable reactions this process owns: reactions and timers, Kafka ingest, outbox relay. */
  async start(): Promise<void> {
    if (!this.config.runEngine) return;
    this.outbound = new Outbound(this.config, this.store, this.logger);
    if (this.config.ownership === 'partitions') await this.sharePartitions(this.outbound);
    this.reactions.start();
    if (this.config.webhooks.send) this.webhookDeliveries.start();
    await this.outbound.start();
    const topic = this.config.audit.anchorsTopic;
    this.anchors?.start(
      this.config.kafka.outbound && topic !== '' ? { publisher: this.outbound.publisher, topic } : undefined,
    );
    if (this.config.mail) {
      this.mail = new MailNotifier(
        this.config.mail,
        this.store,
        this.config.dataDir,
        this.clock,
        this.logger,
        this.taskLookup,
      );
      await this.mail.start();
    }
    if (this.config.entitySource === 'kafka') {
      const ownership = this.ownership;
      this.kafka = new KafkaIngest(
        this.config,
        this.ingest,
        this.logger,
        ownership && ((assignment) => ownership.assign(assignment)),
      );
      await this.kafka.start();
    }
  }

  /**
   * The engines share the records by the entity topic's partitions: the reactions and the outbox relay
   * work for the partitions this engine owns, as the consumer group hands them out
   * (docs/decisions/0013-ownership-by-partition.md).
   */
  private async sharePartitions(outbound: Outbound): Promise<void> {
    const store = partitionedStoreOf(this.store);
    if (!store)
      throw new Error('LIFELINE_OWNERSHIP=partitions needs a store with partition leases (PostgreSQL, EventStoreDB)');
    const orphan = await store.firstEventWithoutPartition();
    if (orphan) throw new UnpartitionedHistory(orphan);
    const owner = `${hostname()}:${process.pid}`;
    const lost = (partitions: readonly number[]) => this.ownership?.leaseLost(partitions);
    this.reactions.sharePartitions(store, lost);
    outbound.relay.sharePartitions(store, lost);
    this.ownership = new PartitionOwnership(
      store.partitionLeases,
      owner,
      [this.reactions, outbound.relay],
      this.logger,
    );
  }

  /** Ok unless the reactions failed on the store or a Kafka partition is stuck on a batch it cannot decode. */
  health(): {
    ok: boolean;
    reactions: ReactionsHealth;
    kafka?: ReturnType<KafkaIngest['health']>;
    ownership?: OwnershipHealth;
  } {
    const reactions = this.reactions.health();
    const kafka = this.kafka?.health();
    const ownership = this.ownership?.health();
    return {
      ok: reactions.ok && (kafka?.ok ?? true),
      reactions,
      ...(kafka ? { kafka } : {}),
      ...(ownership ? { ownership } : {}),
    };
  }

  async close(): Promise<void> {
    await this.kafka?.stop();
    // Every partition handed back once its work stopped: the other engines take them at once.
    await this.ownership?.stop();
    // Before the outbound and the store close: the last anchor reads the one and publishes through the other.
    if (this.config.runEngine) await this.anchors?.stop();
    await this.outbound?.stop();
    await this.webhookDeliveries.stop();
    await this.mail?.stop();
    await this.reactions.stop();
    await this.store.close();
    this.engineDb.close();
    this.webhookDeliveries.close();
    await this.tracing.shutdown();
  }
}
