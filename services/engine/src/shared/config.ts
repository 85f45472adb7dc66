import { join, resolve } from 'node:path';
import {
  BROKER_DEFAULT_REPLICATION,
  DEFAULT_TOPIC_PARTITIONS,
  KAFKA_PRODUCER_CODECS,
  type KafkaProducerCodec,
  type KafkaTopicSettings,
} from '@lifeline/entity-events';

/** Configuration by environment (README: Configuration). */
export interface LifelineConfig {
  port: number;
  host: string;
  dataDir: string;
  jwtSecret?: string;
  eventStore: { kind: 'sqlite'; file: string } | { kind: 'eventstoredb'; url: string };
  entitySource: 'http' | 'kafka';
  kafka: {
    brokers: string[];
    topics: string[];
    groupId: string;
    outbound: boolean;
    /** How missing topics (entity, dead-letter, outbound) are created. */
    topicSettings: KafkaTopicSettings;
    /** What Lifeline's producers compress with; consuming reads every codec whatever this says. */
    compression: KafkaProducerCodec;
  };
  /** How often the timer scheduler looks for due timers. */
  timerTickMs: number;
  /** Whether this process runs the process manager and timers (engine role). */
  runEngine: boolean;
  /** Whether this process serves the HTTP API (api role). */
  runApi: boolean;
  loadDemo: boolean;
  logLevel: string;
}

export class ConfigInvalid extends Error {
  readonly code = 'CONFIG.INVALID';
}

const list = (value: string | undefined, fallback: string[]): string[] =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  roles: { engine: boolean; api: boolean } = { engine: true, api: true },
): LifelineConfig {
  const dataDir = resolve(env.LIFELINE_DATA_DIR ?? './data');
  const storeKind = env.LIFELINE_EVENT_STORE ?? 'sqlite';
  if (storeKind !== 'sqlite' && storeKind !== 'eventstoredb') {
    throw new ConfigInvalid(`LIFELINE_EVENT_STORE must be sqlite or eventstoredb, not ${storeKind}`);
  }
  if (storeKind === 'eventstoredb' && !env.EVENTSTORE_URL) {
    throw new ConfigInvalid('LIFELINE_EVENT_STORE=eventstoredb needs EVENTSTORE_URL');
  }
  const source = env.LIFELINE_ENTITY_SOURCE ?? 'http';
  if (source !== 'http' && source !== 'kafka') {
    throw new ConfigInvalid(`LIFELINE_ENTITY_SOURCE must be http or kafka, not ${source}`);
  }
  const compression = env.KAFKA_COMPRESSION ?? 'none';
  if (!(KAFKA_PRODUCER_CODECS as readonly string[]).includes(compression)) {
    throw new ConfigInvalid(
      `KAFKA_COMPRESSION must be one of ${KAFKA_PRODUCER_CODECS.join(', ')}, not ${compression} (zstd is read, not written)`,
    );
  }
  const partitions = Number(env.KAFKA_TOPIC_PARTITIONS ?? DEFAULT_TOPIC_PARTITIONS);
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new ConfigInvalid(
      `KAFKA_TOPIC_PARTITIONS must be a whole number of at least 1, not ${env.KAFKA_TOPIC_PARTITIONS}`,
    );
  }
  const replicationFactor = Number(env.KAFKA_REPLICATION_FACTOR ?? BROKER_DEFAULT_REPLICATION);
  if (!Number.isInteger(replicationFactor) || (replicationFactor < 1 && replicationFactor !== -1)) {
    throw new ConfigInvalid(
      `KAFKA_REPLICATION_FACTOR must be a whole number of at least 1 (or -1: the broker's default), not ${env.KAFKA_REPLICATION_FACTOR}`,
    );
  }
  const createTopics = env.KAFKA_CREATE_TOPICS ?? 'true';
  if (createTopics !== 'true' && createTopics !== 'false') {
    throw new ConfigInvalid(`KAFKA_CREATE_TOPICS must be true or false, not ${createTopics}`);
  }
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigInvalid(`PORT ${env.PORT} is not a port`);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    jwtSecret: env.LIFELINE_JWT_SECRET || undefined,
    eventStore:
      storeKind === 'sqlite'
        ? { kind: 'sqlite', file: resolve(env.LIFELINE_SQLITE_FILE ?? join(dataDir, 'events.db')) }
        : { kind: 'eventstoredb', url: env.EVENTSTORE_URL as string },
    entitySource: source,
    kafka: {
      brokers: list(env.KAFKA_BROKERS, ['127.0.0.1:9092']),
      topics: list(env.KAFKA_TOPICS, ['entity-events']),
      groupId: env.KAFKA_GROUP_ID ?? 'lifeline-engine',
      outbound: (env.LIFELINE_OUTBOUND ?? (source === 'kafka' ? 'kafka' : 'in-process')) === 'kafka',
      topicSettings: { partitions, replicationFactor, create: createTopics === 'true' },
      compression: compression as KafkaProducerCodec,
    },
    timerTickMs: Number(env.LIFELINE_TIMER_TICK_MS ?? 200),
    runEngine: roles.engine,
    runApi: roles.api,
    loadDemo: (env.LIFELINE_DEMO ?? 'true') !== 'false',
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
