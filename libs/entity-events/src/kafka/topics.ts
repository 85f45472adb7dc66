import { KafkaJSAggregateError, type Admin, type Kafka } from 'kafkajs';
import { silentLogger, type EntityEventsLogger } from '../logger';

/**
 * The entity topic's partition count caps how many engines share the work, and cannot grow later
 * without moving keys between partitions (breaking per-record order): 12 spreads evenly over
 * 1, 2, 3, 4, 6 or 12 engines and costs a broker next to nothing.
 */
export const DEFAULT_TOPIC_PARTITIONS = 12;
/** -1 asks the broker for its `default.replication.factor` (1 on a dev broker, 3 on most clusters). */
export const BROKER_DEFAULT_REPLICATION = -1;

export interface KafkaTopicSettings {
  /** Partitions of each topic Lifeline creates (default 12). */
  partitions?: number;
  /** Replicas of each topic Lifeline creates (default: the broker's `default.replication.factor`). */
  replicationFactor?: number;
  /** false: never create topics, wait for someone else to (topics managed outside Lifeline). */
  create?: boolean;
  /** How often to look again while waiting for a topic (default 2 s). */
  waitPollMs?: number;
}

/** The broker would not create a topic for a reason waiting will not fix (a bad partition count, say). */
export class KafkaTopicsUnavailable extends Error {
  readonly code = 'KAFKA.TOPIC_CREATION_FAILED';
  constructor(message: string) {
    super(message);
    this.name = 'KafkaTopicsUnavailable';
  }
}

/** Answers meaning "not yours to create": wait for an operator (or their tooling) instead of failing. */
const REFUSALS: ReadonlySet<string> = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
]);
const STILL_WAITING_LOG_MS = 30_000;

export interface EnsureTopicsOptions {
  settings?: KafkaTopicSettings;
  logger?: EntityEventsLogger;
  /** false: throw KafkaTopicsMissing instead of waiting (a caller that retries on its own). */
  wait?: boolean;
  /** Ends the wait (the caller is stopping). */
  signal?: AbortSignal;
}

/** Topics that do not exist and that this process may not (or was told not to) create. */
export class KafkaTopicsMissing extends Error {
  readonly code = 'KAFKA.TOPICS_MISSING';
  constructor(
    readonly topics: string[],
    reason: string,
  ) {
    super(`The Kafka topics ${topics.join(', ')} do not exist and were not created: ${reason}`);
    this.name = 'KafkaTopicsMissing';
  }
}

/**
 * Makes sure the topics exist: creates the missing ones with the configured partitions and
 * replication; another process creating them at the same time is fine. If creation is off or
 * refused (ACLs, a policy), waits for them to appear, saying so in the log, until `signal` aborts.
 */
export async function ensureKafkaTopics(
  kafka: Kafka,
  topics: string[],
  { settings = {}, logger = silentLogger, wait = true, signal }: EnsureTopicsOptions = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let missing = await missingTopics(admin, [...new Set(topics)]);
    if (missing.length === 0) return;
    let reason = 'topic creation is turned off';
    if (settings.create !== false) {
      const refusal = await createTopics(admin, missing, settings, logger);
      if (refusal === undefined) return await waitForLeaders(admin, missing, signal);
      reason = refusal;
      missing = await missingTopics(admin, missing);
    }
    if (missing.length > 0 && !wait) throw new KafkaTopicsMissing(missing, reason);
    let lastLog = 0;
    while (missing.length > 0) {
      if (Date.now() - lastLog >= STILL_WAITING_LOG_MS) {
        logger.warn({ topics: missing, reason }, 'kafka topics missing; waiting for them to be created');
        lastLog = Date.now();
      }
      await pause(settings.waitPollMs ?? 2_000, signal);
      missing = await missingTopics(admin, missing);
    }
    logger.info({ topics }, 'kafka topics present');
  } finally {
    await admin.disconnect();
  }
}

/** How many partitions the topic has now (it may have grown since it was created). */
export async function topicPartitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const count = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    if (count === 0) throw new Error(`Kafka topic ${topic} has no partitions`);
    return count;
  } finally {
    await admin.disconnect();
  }
}

async function missingTopics(admin: Admin, topics: string[]): Promise<string[]> {
  // Listing never auto-creates (a metadata request naming the topic would, on brokers that allow it).
  const existing = new Set(await admin.listTopics());
  return topics.filter((topic) => !existing.has(topic));
}

/** Creates the topics; answers why the broker refused, or undefined when they exist now. */
async function createTopics(
  admin: Admin,
  topics: string[],
  settings: KafkaTopicSettings,
  logger: EntityEventsLogger,
): Promise<string | undefined> {
  const numPartitions = settings.partitions ?? DEFAULT_TOPIC_PARTITIONS;
  const replicationFactor = settings.replicationFactor ?? BROKER_DEFAULT_REPLICATION;
  try {
    // false: kafkajs swallowed TOPIC_ALREADY_EXISTS, another process created some or all of them.
    const allByUs = await admin.createTopics({
      topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor })),
      // kafkajs's own wait gives up on a topic the broker does not list yet: waitForLeaders instead.
      waitForLeaders: false,
    });
    logger.info(
      { topics, partitions: numPartitions, replicationFactor },
      allByUs ? 'kafka topics created' : 'kafka topics created, some or all by another process',
    );
    return undefined;
  } catch (error) {
    const errors = error instanceof KafkaJSAggregateError ? error.errors : [error];
    const failures = errors
      .map((e) => ({ type: (e as { type?: string }).type ?? '', message: e instanceof Error ? e.message : String(e) }))
      .filter((e) => e.type !== 'TOPIC_ALREADY_EXISTS');
    if (failures.length === 0) {
      logger.info({ topics }, 'kafka topics already created by another process');
      return undefined;
    }
    const describe = failures.map((f) => `${f.type || 'ERROR'}: ${f.message}`).join('; ');
    if (failures.every((f) => REFUSALS.has(f.type))) return `the broker refused to create them (${describe})`;
    throw new KafkaTopicsUnavailable(`Could not create the Kafka topics ${topics.join(', ')}: ${describe}`);
  }
}

const NOT_READY: ReadonlySet<string> = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);
const LEADERS_TIMEOUT_MS = 60_000;

/** Until every partition of the new topics has a leader, so consumers and producers can start at once. */
async function waitForLeaders(admin: Admin, topics: string[], signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + LEADERS_TIMEOUT_MS;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const led = (t: (typeof metadata.topics)[number]) =>
        t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0);
      if (metadata.topics.length === topics.length && metadata.topics.every(led)) return;
    } catch (error) {
      if (!NOT_READY.has((error as { type?: string }).type ?? '')) throw error;
    }
    if (Date.now() > deadline) {
      throw new KafkaTopicsUnavailable(
        `The Kafka topics ${topics.join(', ')} have no leader ${LEADERS_TIMEOUT_MS} ms after creation`,
      );
    }
    await pause(100, signal);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('stopped while waiting for Kafka topics'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('stopped while waiting for Kafka topics'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
