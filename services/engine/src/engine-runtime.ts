import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { openEventStore, type EventStore } from '@lifeline/event-store';
import type { Logger } from 'pino';
import { DefinitionCatalog } from './definitions/definition-catalog';
import { DefinitionCommands } from './definitions/definition-commands';
import { RecordEntityEvents } from './ingest/record-entity-events';
import { InstanceCommands } from './instances/instance-commands';
import { ProcessManager } from './process-manager/process-manager';
import { Clock, SystemClock } from './shared/clock';
import type { LifelineConfig } from './shared/config';
import { EngineDb } from './shared/engine-db';
import { createLogger } from './shared/logger';
import { KafkaIngest } from './ingest/kafka-ingest';
import { Outbound } from './outbound/outbound';

/**
 * The write side, assembled from its ports: the event store, the clock, the engine's own state.
 * Nest modules wrap it; tests build it directly with a fake clock.
 */
export class EngineRuntime {
  readonly catalog: DefinitionCatalog;
  readonly instances: InstanceCommands;
  readonly definitions: DefinitionCommands;
  readonly ingest: RecordEntityEvents;
  readonly processManager: ProcessManager;
  /** Present when entity events come from Kafka. */
  kafka?: KafkaIngest;
  outbound?: Outbound;

  private constructor(
    readonly config: LifelineConfig,
    readonly store: EventStore,
    readonly engineDb: EngineDb,
    readonly clock: Clock,
    readonly logger: Logger,
  ) {
    this.catalog = new DefinitionCatalog(store);
    this.instances = new InstanceCommands(store, this.catalog, clock);
    this.definitions = new DefinitionCommands(store, clock);
    this.ingest = new RecordEntityEvents(store, clock);
    this.processManager = new ProcessManager(store, engineDb, this.instances, clock, logger, {
      timerTickMs: config.timerTickMs,
    });
  }

  static async create(
    config: LifelineConfig,
    deps: { clock?: Clock; logger?: Logger; store?: EventStore } = {},
  ): Promise<EngineRuntime> {
    mkdirSync(config.dataDir, { recursive: true });
    const store = deps.store ?? (await openEventStore(config.eventStore));
    const engineDb = EngineDb.open(join(config.dataDir, 'engine.db'));
    return new EngineRuntime(
      config,
      store,
      engineDb,
      deps.clock ?? new SystemClock(),
      deps.logger ?? createLogger(config.logLevel),
    );
  }

  /** Starts the durable reactions this process owns: process manager and timers, Kafka ingest, outbox relay. */
  async start(): Promise<void> {
    if (!this.config.runEngine) return;
    this.processManager.start();
    this.outbound = new Outbound(this.config, this.store, this.logger);
    await this.outbound.start();
    if (this.config.entitySource === 'kafka') {
      this.kafka = new KafkaIngest(this.config, this.ingest, this.logger);
      await this.kafka.start();
    }
  }

  /** Ok unless the process manager failed or a Kafka partition is stuck on a batch it cannot decode. */
  health(): {
    ok: boolean;
    processManager: ReturnType<ProcessManager['health']>;
    kafka?: ReturnType<KafkaIngest['health']>;
  } {
    const processManager = this.processManager.health();
    const kafka = this.kafka?.health();
    return { ok: processManager.ok && (kafka?.ok ?? true), processManager, ...(kafka ? { kafka } : {}) };
  }

  counters(): Record<string, number> {
    return this.kafka?.counters() ?? {};
  }

  async close(): Promise<void> {
    await this.kafka?.stop();
    await this.outbound?.stop();
    await this.processManager.stop();
    await this.store.close();
    this.engineDb.close();
  }
}
