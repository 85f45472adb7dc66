import { join, resolve } from 'node:path';
import { parseDuration } from '@lifeline/process-domain';
import {
  BROKER_DEFAULT_REPLICATION,
  DEFAULT_TOPIC_PARTITIONS,
  KAFKA_PRODUCER_CODECS,
  type KafkaProducerCodec,
  type KafkaTopicSettings,
} from '@lifeline/entity-events';
import { loadMailConfig, type MailConfig } from '../mail/mail-config';

/** Configuration by environment (README: Configuration). */
export interface LifelineConfig {
  port: number;
  host: string;
  dataDir: string;
  jwtSecret?: string;
  /** The longest an API token may live (exp − iat, or exp − now without iat), in seconds. */
  tokenMaxLifetimeSeconds: number;
  eventStore:
    | { kind: 'sqlite'; file: string }
    | { kind: 'eventstoredb'; url: string; leaseTtlMs: number }
    | { kind: 'postgres'; url: string; schema?: string };
  entitySource: 'http' | 'kafka';
  /**
   * LIFELINE_OWNERSHIP: `partitions` (several engines share the records by the entity topic's partitions,
   * each reacting to its own; needs a distributed store, PostgreSQL or EventStoreDB, and the Kafka source) or
   * `all` (this engine reacts to every record; with several engines the work is repeated, harmlessly).
   * Default: partitions on PostgreSQL with Kafka; on EventStoreDB it is asked for (a log written before
   * partition keys, as an existing EventStoreDB deployment has, must stay on `all`).
   */
  ownership: 'partitions' | 'all';
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
  audit: AuditConfig;
  /** As-of queries (`?asOf=`) rebuild read models from the log on worker threads: how many, and how many may wait. */
  asOf: { workers: number; queue: number; queueTimeoutMs: number };
  /**
   * LIFELINE_READ_MODELS_START_WAIT_MS: how long start-up waits for the read models to reach the log's head before
   * it listens; a view still being built after that answers 503 READ_MODEL.CATCHING_UP until it is.
   */
  readModelsStartWaitMs: number;
  /** Tokens of an identity provider, besides the HS256 secret; absent: HS256 only. */
  oidc?: OidcConfig;
  /** How webhook deliveries are sent and retried (README: Webhooks). */
  webhooks: WebhookSettings;
  /** Spans over OTLP/HTTP when a URL is set (README: Traces); off otherwise. */
  tracing: { otlpTracesUrl?: string; serviceName: string };
  /** E-mail about tasks over SMTP; absent (nothing sent) unless LIFELINE_SMTP_URL is set. */
  mail?: MailConfig;
}

/** Webhook deliveries: retried with a doubling backoff from `retryInitialMs` up to `retryMaxMs`, dead after `maxAttempts`. */
export interface WebhookSettings {
  /** LIFELINE_WEBHOOKS_SEND: whether this engine process sends deliveries (in a distributed run, one engine does). */
  send: boolean;
  /** LIFELINE_WEBHOOK_RETRY_MS: the wait after the first failed attempt. */
  retryInitialMs: number;
  /** LIFELINE_WEBHOOK_RETRY_MAX_MS: the longest wait between two attempts. */
  retryMaxMs: number;
  /** LIFELINE_WEBHOOK_MAX_ATTEMPTS: attempts before a delivery is dead (an admin may redeliver it). */
  maxAttempts: number;
  /** LIFELINE_WEBHOOK_TIMEOUT_MS: how long a receiver may take to answer. */
  timeoutMs: number;
  /** LIFELINE_WEBHOOK_POLL_MS: how often the log is looked at for events written by another process. */
  pollMs: number;
}

/** An OpenID Connect identity provider whose RS256/ES256 tokens the API accepts (README: Identity provider). */
export interface OidcConfig {
  /** LIFELINE_OIDC_ISSUER: the `iss` tokens must carry. */
  issuer: string;
  /** LIFELINE_OIDC_AUDIENCE: the `aud` tokens must name. */
  audience: string;
  /** LIFELINE_OIDC_JWKS_URL; absent: the issuer's discovery document names it. */
  jwksUrl?: string;
  /** LIFELINE_OIDC_ROLES_CLAIM: a dotted path to the roles array (`realm_access.roles`). */
  rolesClaim: string;
  /** LIFELINE_OIDC_JWKS_MAX_AGE (seconds): how long a fetched key set is used before it is fetched again. */
  jwksMaxAgeMs: number;
  /** LIFELINE_OIDC_JWKS_COOLDOWN (seconds): a token naming an unknown key fetches again at most this often. */
  jwksCooldownMs: number;
}

/** Signed anchors of the global chain (docs/decisions/0005-tamper-evidence.md); nothing is signed without a key. */
export interface AuditConfig {
  /** LIFELINE_AUDIT_KEY: an Ed25519 private key, PEM text or the path of a PEM file outside the data dir. */
  key?: string;
  /** LIFELINE_AUDIT_ANCHORS_FILE: JSON lines, appended to, outside the data dir. */
  anchorsFile?: string;
  /** LIFELINE_AUDIT_ANCHORS_TOPIC: with the Kafka outbound, anchors also go to this topic ("" for none). */
  anchorsTopic: string;
  /** LIFELINE_AUDIT_ANCHOR_INTERVAL (seconds): how often the head is anchored when it moved. */
  anchorIntervalMs: number;
}

export class ConfigInvalid extends Error {
  readonly code = 'CONFIG.INVALID';
}

/** 24 hours: a leaked token is worth a day at most. */
export const DEFAULT_TOKEN_MAX_LIFETIME_SECONDS = 24 * 3600;

/**
 * A token lifetime in whole seconds: plain seconds (`3600`), a short form (`90s`, `30m`, `12h`, `7d`),
 * or an ISO-8601 duration of weeks, days and time (`PT24H`, `P1D`); years and months vary in length
 * and are refused. Undefined when the text is none of these or is zero.
 */
export function parseLifetime(text: string): number | undefined {
  const value = text.trim();
  const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
  const short = /^([0-9]{1,9})([smhd]?)$/.exec(value);
  let seconds: number | undefined;
  if (short) seconds = Number(short[1]) * UNITS[short[2] || 's']!;
  else {
    const d = parseDuration(value);
    if (d && d.years === 0 && d.months === 0)
      seconds = Math.floor(((d.weeks * 7 + d.days) * 24 + d.hours) * 3600 + d.minutes * 60 + d.seconds);
  }
  return seconds !== undefined && seconds > 0 && Number.isSafeInteger(seconds) ? seconds : undefined;
}

/** LIFELINE_TOKEN_MAX_LIFETIME in seconds: the default when unset, ConfigInvalid when unreadable. */
export function tokenMaxLifetime(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_TOKEN_MAX_LIFETIME_SECONDS;
  const seconds = parseLifetime(text);
  if (seconds === undefined) {
    throw new ConfigInvalid(
      `LIFELINE_TOKEN_MAX_LIFETIME must be seconds (86400), a short form (24h) or an ISO-8601 duration (PT24H), not ${text}`,
    );
  }
  return seconds;
}

/** `{ [key]: value }` when the value is there, `{}` otherwise (optional config sections). */
const optional = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

const list = (value: string | undefined, fallback: string[]): string[] =>
  value
    ? value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : fallback;

/** A whole number from the environment, at least `min`; absent: the fallback. */
function whole(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^[0-9]{1,9}$/.test(text.trim()) || value < min) {
    throw new ConfigInvalid(`${name} must be a whole number of at least ${min}, not ${text}`);
  }
  return value;
}

/** `true` or `false` from the environment; absent: the fallback. */
function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name]?.trim();
  if (text === undefined || text === '') return fallback;
  if (text !== 'true' && text !== 'false') throw new ConfigInvalid(`${name} must be true or false, not ${text}`);
  return text === 'true';
}

const httpUrl = (name: string, text: string): string => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigInvalid(`${name} must be an http(s) URL, not ${text}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigInvalid(`${name} must be an http(s) URL, not ${text}`);
  }
  return text;
};

/** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
export function otlpTracesUrl(env: NodeJS.ProcessEnv): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces);
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base).replace(/\/+$/, '') + '/v1/traces';
  return undefined;
}

/** The identity provider, when LIFELINE_OIDC_ISSUER is set; its audience is then required. */
export function oidcConfig(env: NodeJS.ProcessEnv): OidcConfig | undefined {
  const issuer = env.LIFELINE_OIDC_ISSUER?.trim();
  if (!issuer) {
    const stray = ['LIFELINE_OIDC_AUDIENCE', 'LIFELINE_OIDC_JWKS_URL', 'LIFELINE_OIDC_ROLES_CLAIM'].find((n) => env[n]);
    if (stray) throw new ConfigInvalid(`${stray} is set but LIFELINE_OIDC_ISSUER is not`);
    return undefined;
  }
  const audience = env.LIFELINE_OIDC_AUDIENCE?.trim();
  if (!audience)
    throw new ConfigInvalid('LIFELINE_OIDC_ISSUER needs LIFELINE_OIDC_AUDIENCE (the aud tokens must name)');
  const rolesClaim = env.LIFELINE_OIDC_ROLES_CLAIM?.trim() || 'roles';
  if (!/^[A-Za-z0-9_:/-]+(\.[A-Za-z0-9_:/-]+)*$/.test(rolesClaim)) {
    throw new ConfigInvalid(
      `LIFELINE_OIDC_ROLES_CLAIM must be a dotted claim path (realm_access.roles), not ${rolesClaim}`,
    );
  }
  const jwksUrl = env.LIFELINE_OIDC_JWKS_URL?.trim();
  return {
    issuer,
    audience,
    ...(jwksUrl ? { jwksUrl: httpUrl('LIFELINE_OIDC_JWKS_URL', jwksUrl) } : {}),
    rolesClaim,
    jwksMaxAgeMs: whole(env, 'LIFELINE_OIDC_JWKS_MAX_AGE', 600, 1) * 1000,
    jwksCooldownMs: whole(env, 'LIFELINE_OIDC_JWKS_COOLDOWN', 30, 0) * 1000,
  };
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  roles: { engine: boolean; api: boolean } = { engine: true, api: true },
): LifelineConfig {
  const dataDir = resolve(env.LIFELINE_DATA_DIR ?? './data');
  const storeKind = env.LIFELINE_EVENT_STORE ?? 'sqlite';
  if (storeKind !== 'sqlite' && storeKind !== 'eventstoredb' && storeKind !== 'postgres') {
    throw new ConfigInvalid(`LIFELINE_EVENT_STORE must be sqlite, eventstoredb or postgres, not ${storeKind}`);
  }
  if (storeKind === 'eventstoredb' && !env.EVENTSTORE_URL) {
    throw new ConfigInvalid('LIFELINE_EVENT_STORE=eventstoredb needs EVENTSTORE_URL');
  }
  if (storeKind === 'postgres' && !env.LIFELINE_POSTGRES_URL) {
    throw new ConfigInvalid('LIFELINE_EVENT_STORE=postgres needs LIFELINE_POSTGRES_URL');
  }
  const postgresSchema = env.LIFELINE_POSTGRES_SCHEMA || undefined;
  if (postgresSchema !== undefined && !/^[a-z_][a-z0-9_]{0,40}$/.test(postgresSchema)) {
    throw new ConfigInvalid(
      `LIFELINE_POSTGRES_SCHEMA must be lower-case letters, digits and _ (at most 41), not ${postgresSchema}`,
    );
  }
  const source = env.LIFELINE_ENTITY_SOURCE ?? 'http';
  if (source !== 'http' && source !== 'kafka') {
    throw new ConfigInvalid(`LIFELINE_ENTITY_SOURCE must be http or kafka, not ${source}`);
  }
  const shareable = (storeKind === 'postgres' || storeKind === 'eventstoredb') && source === 'kafka';
  const ownership = env.LIFELINE_OWNERSHIP ?? (shareable && storeKind === 'postgres' ? 'partitions' : 'all');
  if (ownership !== 'partitions' && ownership !== 'all') {
    throw new ConfigInvalid(`LIFELINE_OWNERSHIP must be partitions or all, not ${ownership}`);
  }
  if (ownership === 'partitions' && !shareable) {
    throw new ConfigInvalid(
      'LIFELINE_OWNERSHIP=partitions needs LIFELINE_EVENT_STORE=postgres or eventstoredb and LIFELINE_ENTITY_SOURCE=kafka (the partitions are the entity topic’s, the leases are in the store)',
    );
  }
  const leaseTtlMs = whole(env, 'LIFELINE_PARTITION_LEASE_TTL_MS', 10_000, 1_000);
  const anchorInterval = Number(env.LIFELINE_AUDIT_ANCHOR_INTERVAL ?? 300);
  if (!Number.isFinite(anchorInterval) || anchorInterval <= 0) {
    throw new ConfigInvalid(
      `LIFELINE_AUDIT_ANCHOR_INTERVAL must be a number of seconds, not ${env.LIFELINE_AUDIT_ANCHOR_INTERVAL}`,
    );
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
  const mail = loadMailConfig(env, (message) => new ConfigInvalid(message));
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigInvalid(`PORT ${env.PORT} is not a port`);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    jwtSecret: env.LIFELINE_JWT_SECRET || undefined,
    tokenMaxLifetimeSeconds: tokenMaxLifetime(env.LIFELINE_TOKEN_MAX_LIFETIME),
    eventStore:
      storeKind === 'sqlite'
        ? { kind: 'sqlite', file: resolve(env.LIFELINE_SQLITE_FILE ?? join(dataDir, 'events.db')) }
        : storeKind === 'postgres'
          ? {
              kind: 'postgres',
              url: env.LIFELINE_POSTGRES_URL as string,
              ...(postgresSchema === undefined ? {} : { schema: postgresSchema }),
            }
          : { kind: 'eventstoredb', url: env.EVENTSTORE_URL as string, leaseTtlMs },
    entitySource: source,
    ownership,
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
    audit: {
      key: env.LIFELINE_AUDIT_KEY || undefined,
      anchorsFile: env.LIFELINE_AUDIT_ANCHORS_FILE ? resolve(env.LIFELINE_AUDIT_ANCHORS_FILE) : undefined,
      anchorsTopic: env.LIFELINE_AUDIT_ANCHORS_TOPIC ?? 'lifeline.audit-anchors',
      anchorIntervalMs: anchorInterval * 1000,
    },
    asOf: {
      workers: whole(env, 'LIFELINE_AS_OF_WORKERS', 2, 1),
      queue: whole(env, 'LIFELINE_AS_OF_QUEUE', 8, 0),
      queueTimeoutMs: whole(env, 'LIFELINE_AS_OF_WAIT_MS', 30_000, 1),
    },
    readModelsStartWaitMs: whole(env, 'LIFELINE_READ_MODELS_START_WAIT_MS', 2_000, 0),
    ...optional('oidc', oidcConfig(env)),
    webhooks: {
      send: flag(env, 'LIFELINE_WEBHOOKS_SEND', true),
      retryInitialMs: whole(env, 'LIFELINE_WEBHOOK_RETRY_MS', 5_000, 1),
      retryMaxMs: whole(env, 'LIFELINE_WEBHOOK_RETRY_MAX_MS', 3_600_000, 1),
      maxAttempts: whole(env, 'LIFELINE_WEBHOOK_MAX_ATTEMPTS', 12, 1),
      timeoutMs: whole(env, 'LIFELINE_WEBHOOK_TIMEOUT_MS', 10_000, 1),
      pollMs: whole(env, 'LIFELINE_WEBHOOK_POLL_MS', 1_000, 1),
    },
    tracing: { ...optional('otlpTracesUrl', otlpTracesUrl(env)), serviceName: env.OTEL_SERVICE_NAME || 'lifeline' },
    ...(mail ? { mail } : {}),
  };
}
