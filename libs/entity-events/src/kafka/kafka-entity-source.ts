import {
  Kafka,
  Partitioners,
  logLevel,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type Producer,
} from 'kafkajs';
import {
  DEFAULT_ENVELOPE_LIMITS,
  findDuplicateKey,
  validateEnvelope,
  type EntityEventEnvelope,
  type EntityEventSource,
} from '@lifeline/process-domain';
import { errorFields, silentLogger, type EntityEventsLogger } from '../logger';
import { DLQ_HEADERS, DeadLetterReason, deadLetterTopic, type DeadLetterCounter } from './dead-letters';
import { SURVIVE_BROKER_RESTART_RETRY, kafkaLogCreator } from './kafkajs-logging';
import { registerKafkaCodecs, undecodableBatch, type UndecodableBatch } from './codecs';
import { ensureKafkaTopics, topicPartitionCount, type KafkaTopicSettings } from './topics';
import { validTraceparent } from '../trace-context';

/** One received envelope and where it came from, ready to be recorded. */
export interface RecordedEntityEvent {
  envelope: EntityEventEnvelope;
  source: EntityEventSource;
  /** The message's W3C `traceparent` header, when valid. */
  traceparent?: string;
}

/** Where valid envelopes go: one store transaction per call, idempotent by `envelope.id`. */
export interface EntityEventSink {
  record(batch: RecordedEntityEvent[]): Promise<void>;
}

export interface KafkaSourceOptions {
  brokers: string[];
  topics: string[];
  /** Engine nodes share one group, so each partition (and each entity key) is handled by one node. */
  groupId?: string;
  clientId?: string;
  /** Larger values go to the dead-letter topic; defaults to the envelope limit (256 KiB). */
  maxMessageBytes?: number;
  /** How long the group waits for a silent member before moving its partitions (default 10 s). */
  sessionTimeoutMs?: number;
  /** Where a new group starts; default true, so events produced before the first start are not missed. */
  fromBeginning?: boolean;
  /** How many partitions are handled at once; each partition stays in order. */
  partitionsConsumedConcurrently?: number;
  /** Most messages handed to the sink in one call. */
  maxRecordBatch?: number;
  /** Delay before the source recreates a consumer that kafkajs gave up on. */
  restartDelayMs?: number;
  /** How the topics it reads and dead-letters to are created when missing. */
  topicSettings?: KafkaTopicSettings;
  /** How long recorded offsets may wait for their commit (default 250 ms); stop commits them at once. */
  commitIntervalMs?: number;
  /**
   * Told the partitions of the first topic the consumer group gives this process, after each rebalance
   * (and none once stopped), with the topic's partition count: who owns which records' work.
   */
  onAssignment?: (assignment: { partitionCount: number; partitions: number[] }) => void;
}

/** A partition paused on a batch this process cannot decode; it stays so until the process restarts. */
export interface StuckPartition extends UndecodableBatch {
  topic: string;
  partition: number;
  since: string;
}

export interface KafkaSourceHealth {
  ok: boolean;
  stuckPartitions: StuckPartition[];
}

interface DeadLetter {
  message: KafkaMessage;
  reason: DeadLetterReason;
  description: string;
}

type Verdict = { ok: true; event: RecordedEntityEvent } | { ok: false; deadLetter: DeadLetter };

/** Commits the offsets resolved so far (those of recorded batches) of one consumer run. */
interface PendingCommit {
  consumer: Consumer;
  commit: EachBatchPayload['commitOffsetsIfNecessary'];
  uncommitted: EachBatchPayload['uncommittedOffsets'];
}

/**
 * Reads entity-event envelopes from Kafka and records them through the sink, at least once:
 * invalid messages go to `<topic>.dlq` first, the valid ones are recorded, and only then is the
 * offset committed. A redelivery after a crash is harmless because the sink is idempotent by id.
 */
export class KafkaEntityEventSource {
  private readonly kafka: Kafka;
  private readonly groupId: string;
  private readonly maxMessageBytes: number;
  private readonly maxRecordBatch: number;
  private readonly restartDelayMs: number;
  private readonly commitIntervalMs: number;
  private commitTimer: NodeJS.Timeout | undefined;
  private pendingCommit: PendingCommit | undefined;
  private producer: Producer | undefined;
  private consumer: Consumer | undefined;
  private stopping = false;
  /** Bumped with each assignment told (and each stop), so a late answer never overwrites a newer one. */
  private assignments = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private starting: AbortController | undefined;
  private readonly stuck = new Map<string, StuckPartition>();
  private readonly lags = new Map<string, { topic: string; partition: number; lag: number }>();
  /** Batches found undecodable (each detection; a restart finds the same batch again). */
  undecodableBatches = 0;
  /** Consumer crashes kafkajs reported (a broker gone too long, a fetch response it could not use). */
  consumerCrashes = 0;

  constructor(
    private readonly options: KafkaSourceOptions,
    private readonly sink: EntityEventSink,
    private readonly deadLetters: DeadLetterCounter,
    private readonly logger: EntityEventsLogger = silentLogger,
  ) {
    if (options.topics.length === 0) throw new Error('KafkaEntityEventSource needs at least one topic');
    this.groupId = options.groupId ?? 'lifeline-engine';
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_ENVELOPE_LIMITS.maxBytes;
    this.maxRecordBatch = options.maxRecordBatch ?? 500;
    this.restartDelayMs = options.restartDelayMs ?? 2_000;
    this.commitIntervalMs = options.commitIntervalMs ?? 250;
    registerKafkaCodecs();
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'lifeline-engine',
      brokers: options.brokers,
      retry: SURVIVE_BROKER_RESTART_RETRY,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
    });
  }

  async start(): Promise<void> {
    this.stopping = false;
    this.starting = new AbortController();
    const { topics } = this.options;
    await ensureKafkaTopics(this.kafka, [...topics, ...topics.map(deadLetterTopic)], {
      settings: this.options.topicSettings,
      logger: this.logger,
      signal: this.starting.signal,
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Topics are created by ensureKafkaTopics, with the configured partitions, not the broker's defaults.
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.producer.connect();
    await this.startConsumer();
    this.logger.info({ topics: this.options.topics, groupId: this.groupId }, 'kafka entity-event source started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.starting?.abort();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.commitResolved();
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    // Left the group: nothing of the topic is this process's any more.
    this.assignments++;
    this.options.onAssignment?.({ partitionCount: 0, partitions: [] });
    this.pendingCommit = undefined;
    this.consumer = undefined;
    this.producer = undefined;
    this.stuck.clear();
    this.logger.info({ topics: this.options.topics, groupId: this.groupId }, 'kafka entity-event source stopped');
  }

  private async startConsumer(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      maxWaitTimeInMs: 100,
      // A killed engine's partitions move to the others after this long without a heartbeat.
      sessionTimeout: this.options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.options.sessionTimeoutMs ?? 10_000) / 3)),
      allowAutoTopicCreation: false,
      retry: SURVIVE_BROKER_RESTART_RETRY,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.consumerCrashes += 1;
      this.logger.error(
        { ...errorFields(payload.error), groupId: this.groupId, restart: payload.restart },
        'kafka consumer crashed',
      );
      // kafkajs restarts itself after retriable errors; for the others we build a new consumer.
      if (!payload.restart && !this.stopping && this.consumer === consumer) this.scheduleRestart();
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.forgetUnassigned(consumer, payload.memberAssignment);
      this.tellAssignment(payload.memberAssignment);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      // kafkajs's auto-commit commits after every batch, a broker round trip the next fetch waits for;
      // commitResolved commits the offsets resolved after their batch was recorded, on a timer instead.
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Every partition of a fetch at once: their batches then share one commit of the store (group commit).
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 16,
      eachBatch: (payload) => this.handleBatch(consumer, payload),
    });
  }

  private scheduleRestart(): void {
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      const old = this.consumer;
      void (async () => {
        try {
          await this.commitResolved();
          await old?.disconnect();
          if (this.stopping) return;
          await this.startConsumer();
          this.logger.info({ groupId: this.groupId }, 'kafka consumer restarted');
        } catch (error) {
          this.logger.error(
            { ...errorFields(error), groupId: this.groupId },
            'kafka consumer restart failed; trying again',
          );
          if (!this.stopping) this.scheduleRestart();
        }
      })();
    }, this.restartDelayMs);
  }

  private async handleBatch(
    consumer: Consumer,
    {
      batch,
      resolveOffset,
      heartbeat,
      commitOffsetsIfNecessary,
      isRunning,
      isStale,
      pause,
      uncommittedOffsets,
    }: EachBatchPayload,
  ): Promise<void> {
    const { topic, partition } = batch;
    // Messages before an undecodable batch are recorded as usual; the partition then stops there.
    const undecodableAt = batch.messages.findIndex((m) => undecodableBatch(m) !== undefined);
    const messages = undecodableAt < 0 ? batch.messages : batch.messages.slice(0, undecodableAt);
    for (let start = 0; start < messages.length; start += this.maxRecordBatch) {
      if (!isRunning() || isStale()) return;
      const chunk = messages.slice(start, start + this.maxRecordBatch);
      const recorded: RecordedEntityEvent[] = [];
      const rejected: DeadLetter[] = [];
      for (const message of chunk) {
        const verdict = this.judge(topic, partition, message);
        if (verdict.ok) recorded.push(verdict.event);
        else rejected.push(verdict.deadLetter);
      }
      if (rejected.length > 0) await this.sendDeadLetters(topic, partition, rejected);
      if (recorded.length > 0) {
        try {
          await this.sink.record(recorded);
        } catch (error) {
          // No commit: kafkajs fetches the same messages again; ids make the redelivery harmless.
          this.logger.error(
            { ...errorFields(error), topic, partition, firstOffset: chunk[0].offset, count: recorded.length },
            'recording entity events failed; will retry',
          );
          throw error;
        }
      }
      const lastOffset = chunk[chunk.length - 1].offset;
      this.lags.set(`${topic}/${partition}`, {
        topic,
        partition,
        lag: Math.max(0, Number(batch.highWatermark) - Number(lastOffset) - 1),
      });
      resolveOffset(lastOffset);
      this.scheduleCommit({
        consumer,
        commit: commitOffsetsIfNecessary,
        uncommitted: uncommittedOffsets,
      });
      await heartbeat();
    }
    if (undecodableAt >= 0 && isRunning() && !isStale()) {
      const message = batch.messages[undecodableAt];
      this.reportUndecodable(topic, partition, message.offset, undecodableBatch(message) as UndecodableBatch);
      pause();
    }
  }

  /** Commits what is resolved within `commitIntervalMs`, off the path of the batches. */
  private scheduleCommit(pending: PendingCommit): void {
    this.pendingCommit = pending;
    this.commitTimer ??= setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitResolved();
    }, this.commitIntervalMs);
  }

  /** Commits the offsets of the batches recorded so far; a failed commit is tried again later. */
  private async commitResolved(): Promise<void> {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    const pending = this.pendingCommit;
    if (!pending) return;
    const offsets = pending.uncommitted();
    if (offsets.topics.length === 0) return;
    try {
      await pending.commit(offsets);
    } catch (error) {
      // A rebalance or a broker away: the next owner or the next commit goes on from the last committed offset.
      this.logger.warn({ ...errorFields(error), groupId: this.groupId }, 'committing kafka offsets failed');
      if (!this.stopping && this.pendingCommit === pending && this.consumer === pending.consumer)
        this.scheduleCommit(pending);
    }
  }

  /** Each partition's lag (high watermark − next offset to consume) as of its last batch here. */
  lag(): { topic: string; partition: number; lag: number }[] {
    return [...this.lags.values()];
  }

  /** Ok unless a partition is stuck on a batch this process cannot decode. */
  health(): KafkaSourceHealth {
    const stuckPartitions = [...this.stuck.values()];
    return { ok: stuckPartitions.length === 0, stuckPartitions };
  }

  private reportUndecodable(topic: string, partition: number, offset: string, batch: UndecodableBatch): void {
    this.undecodableBatches += 1;
    this.stuck.set(`${topic}/${partition}`, { topic, partition, ...batch, since: new Date().toISOString() });
    this.logger.error(
      { topic, partition, offset, ...batch, groupId: this.groupId },
      'kafka batch cannot be decoded; its partition is paused until a restart with a codec that reads it',
    );
  }

  /** A stuck partition moved to another engine is that engine's to report (and resumes if it comes back). */
  /** The first topic's partitions this process has now, with the topic's partition count (asked each time: it may grow). */
  private tellAssignment(assignment: Record<string, number[]>): void {
    const listener = this.options.onAssignment;
    if (!listener) return;
    const topic = this.options.topics[0]!;
    const partitions = [...(assignment[topic] ?? [])].sort((a, b) => a - b);
    const generation = ++this.assignments;
    void (async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          const partitionCount = await topicPartitionCount(this.kafka, topic);
          // A later rebalance (or a stop) already told something newer.
          if (generation === this.assignments && !this.stopping) listener({ partitionCount, partitions });
          return;
        } catch (error) {
          if (generation !== this.assignments || this.stopping) return;
          this.logger.warn(
            { ...errorFields(error), topic, attempt },
            'reading the topic partition count failed; retrying',
          );
          await new Promise((resolve) => setTimeout(resolve, Math.min(200 * attempt, 2_000)));
        }
      }
    })();
  }

  private forgetUnassigned(consumer: Consumer, assignment: Record<string, number[]>): void {
    for (const [key, { topic, partition }] of this.lags) {
      if (!assignment[topic]?.includes(partition)) this.lags.delete(key);
    }
    for (const [key, { topic, partition }] of this.stuck) {
      if (assignment[topic]?.includes(partition)) continue;
      this.stuck.delete(key);
      consumer.resume([{ topic, partitions: [partition] }]);
    }
  }

  private judge(topic: string, partition: number, message: KafkaMessage): Verdict {
    const reject = (reason: DeadLetterReason, description: string): Verdict => ({
      ok: false,
      deadLetter: { message, reason, description },
    });
    if (message.value === null || message.value.length === 0)
      return reject(DeadLetterReason.Empty, 'the message has no value');
    if (message.value.length > this.maxMessageBytes) {
      return reject(
        DeadLetterReason.TooLarge,
        `the message is larger than ${this.maxMessageBytes} bytes (${message.value.length} bytes)`,
      );
    }
    let parsed: unknown;
    const text = message.value.toString('utf8');
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      return reject(DeadLetterReason.NotJson, `the message is not valid JSON: ${errorFields(error).error as string}`);
    }
    const duplicate = findDuplicateKey(text, parsed);
    if (duplicate)
      return reject(DeadLetterReason.DuplicateKey, `duplicate key '${duplicate.key}' at ${duplicate.path}`);
    const validation = validateEnvelope(parsed, { ...DEFAULT_ENVELOPE_LIMITS, maxBytes: this.maxMessageBytes });
    if (!validation.ok) {
      return reject(
        DeadLetterReason.Invalid,
        validation.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '),
      );
    }
    const { envelope } = validation;
    const expectedKey = `${envelope.entityType}:${envelope.entityId}`;
    const key = message.key?.toString('utf8');
    if (key !== expectedKey) {
      return reject(
        DeadLetterReason.KeyMismatch,
        key === undefined
          ? `the message has no key; expected '${expectedKey}'`
          : `the key '${key}' does not match the envelope; expected '${expectedKey}'`,
      );
    }
    const traceparent = validTraceparent(message.headers?.traceparent);
    return {
      ok: true,
      event: {
        envelope,
        source: { kind: 'kafka', topic, partition, offset: message.offset },
        ...(traceparent ? { traceparent } : {}),
      },
    };
  }

  private async sendDeadLetters(topic: string, partition: number, rejected: DeadLetter[]): Promise<void> {
    if (!this.producer) throw new Error('KafkaEntityEventSource is not started');
    await this.producer.send({
      topic: deadLetterTopic(topic),
      acks: -1,
      messages: rejected.map(({ message, reason, description }) => ({
        key: message.key,
        value: message.value,
        headers: {
          ...withoutUndefined(message.headers),
          [DLQ_HEADERS.reason]: reason,
          [DLQ_HEADERS.message]: description,
          [DLQ_HEADERS.originalTopic]: topic,
          [DLQ_HEADERS.originalPartition]: String(partition),
          [DLQ_HEADERS.originalOffset]: message.offset,
        },
      })),
    });
    for (const { message, reason, description } of rejected) {
      this.deadLetters.count(reason);
      this.logger.warn(
        { reason, description, topic, partition, offset: message.offset, deadLetterTopic: deadLetterTopic(topic) },
        'entity event sent to the dead-letter topic',
      );
    }
  }
}

function withoutUndefined(headers: IHeaders | undefined): Record<string, Buffer | string | (Buffer | string)[]> {
  const out: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) out[name] = value;
  return out;
}
