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
import { AuditAnchors } from './audit/audit-anchors';

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
  /** Signed anchors of the global chain; present when LIFELINE_AUDIT_KEY is set. */
  readonly anchors: AuditAnchors | undefined;

  private constructor(
    readonly config: LifelineConfig,
    readonly store: EventStore,
    readonly engineDb: EngineDb,
    readonly clock: Clock,
    readonly logger: Logger,
  ) {
    this.anchors = AuditAnchors.create(config, store, clock, logger);
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
    try {
      return new EngineRuntime(
        config,
        store,
        engineDb,
        deps.clock ?? new SystemClock(),
        deps.logger ?? createLogger(config.logLevel),
      );
    } catch (error) {
      // A misplaced audit key stops the start: release what was opened.
      await store.close();
      engineDb.close();
      throw error;
    }
  }

  /** Starts the durable reactions this process owns: process manager and timers, Kafka ingest, outbox relay. */
  async start(): Promise<void> {
    if (!this.config.runEngine) return;
    this.processManager.start();
    this.outbound = new Outbound(this.config, this.store, this.logger);
    await this.outbound.start();
    const topic = this.config.audit.anchorsTopic;
    this.anchors?.start(
      this.config.kafka.outbound && topic !== '' ? { publisher: this.outbound.publisher, topic } : undefined,
    );
    if (this.config.entitySource === 'kafka') {
      this.kafka = new KafkaIngest(this.config, this.ingest, this.logger);
      await this.kafka.start();
    }
  }

  counters(): Record<string, number> {
    return this.kafka?.counters() ?? {};
  }

  async close(): Promise<void> {
    await this.kafka?.stop();
    // Before the outbound and the store close: the last anchor reads the one and publishes through the other.
    if (this.config.runEngine) await this.anchors?.stop();
    await this.outbound?.stop();
    await this.processManager.stop();
    await this.store.close();
    this.engineDb.close();
  }
}
