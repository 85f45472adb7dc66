import { ConfigInvalid, DEFAULT_TOKEN_MAX_LIFETIME_SECONDS, loadConfig, oidcConfig, parseLifetime } from './config';

describe('token lifetime configuration', () => {
  it.each([
    ['3600', 3600],
    ['90s', 90],
    ['30m', 1800],
    ['12h', 43_200],
    ['7d', 604_800],
    ['PT24H', 86_400],
    ['P1D', 86_400],
    ['P1W', 604_800],
    ['PT1H30M', 5400],
    [' 24h ', 86_400],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseLifetime(text)).toBe(seconds);
  });

  it.each(['', '0', 'PT0S', 'P1M', 'P1Y', '24 hours', '-5', '1.5h', 'PT', 'h'])('refuses %j', (text) => {
    expect(parseLifetime(text)).toBeUndefined();
  });

  it('defaults to 24 hours and reads LIFELINE_TOKEN_MAX_LIFETIME', () => {
    expect(loadConfig({}).tokenMaxLifetimeSeconds).toBe(DEFAULT_TOKEN_MAX_LIFETIME_SECONDS);
    expect(DEFAULT_TOKEN_MAX_LIFETIME_SECONDS).toBe(86_400);
    expect(loadConfig({ LIFELINE_TOKEN_MAX_LIFETIME: 'PT1H' }).tokenMaxLifetimeSeconds).toBe(3600);
  });

  it('refuses an unreadable LIFELINE_TOKEN_MAX_LIFETIME at start', () => {
    expect(() => loadConfig({ LIFELINE_TOKEN_MAX_LIFETIME: 'forever' })).toThrow(ConfigInvalid);
    expect(() => loadConfig({ LIFELINE_TOKEN_MAX_LIFETIME: 'forever' })).toThrow(/LIFELINE_TOKEN_MAX_LIFETIME/);
  });
});

describe('Kafka configuration', () => {
  it('creates topics with 12 partitions and the broker-default replication, and publishes uncompressed, by default', () => {
    const { kafka } = loadConfig({});
    expect(kafka.topicSettings).toEqual({ partitions: 12, replicationFactor: -1, create: true });
    expect(kafka.compression).toBe('none');
  });

  it('reads the partitions, replication, creation and compression settings', () => {
    const { kafka } = loadConfig({
      KAFKA_TOPIC_PARTITIONS: '24',
      KAFKA_REPLICATION_FACTOR: '3',
      KAFKA_CREATE_TOPICS: 'false',
      KAFKA_COMPRESSION: 'lz4',
    });
    expect(kafka.topicSettings).toEqual({ partitions: 24, replicationFactor: 3, create: false });
    expect(kafka.compression).toBe('lz4');
  });

  it.each([
    [{ KAFKA_TOPIC_PARTITIONS: '0' }, /KAFKA_TOPIC_PARTITIONS must be a whole number of at least 1, not 0/],
    [{ KAFKA_TOPIC_PARTITIONS: 'twelve' }, /KAFKA_TOPIC_PARTITIONS/],
    [{ KAFKA_REPLICATION_FACTOR: '0' }, /KAFKA_REPLICATION_FACTOR must be a whole number of at least 1 \(or -1/],
    [{ KAFKA_REPLICATION_FACTOR: '1.5' }, /KAFKA_REPLICATION_FACTOR/],
    [{ KAFKA_CREATE_TOPICS: 'yes' }, /KAFKA_CREATE_TOPICS must be true or false, not yes/],
    [{ KAFKA_COMPRESSION: 'zstd' }, /KAFKA_COMPRESSION must be one of none, gzip, snappy, lz4, not zstd/],
  ])('refuses %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigInvalid);
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe('loadConfig: the as-of worker pool', () => {
  it('defaults to 2 workers, 8 waiting, 30 s of waiting', () => {
    expect(loadConfig({}).asOf).toEqual({ workers: 2, queue: 8, queueTimeoutMs: 30_000 });
  });

  it('reads LIFELINE_AS_OF_WORKERS, LIFELINE_AS_OF_QUEUE and LIFELINE_AS_OF_WAIT_MS', () => {
    const env = { LIFELINE_AS_OF_WORKERS: '1', LIFELINE_AS_OF_QUEUE: '0', LIFELINE_AS_OF_WAIT_MS: '500' };
    expect(loadConfig(env).asOf).toEqual({ workers: 1, queue: 0, queueTimeoutMs: 500 });
  });

  it.each([
    ['LIFELINE_AS_OF_WORKERS', '0'],
    ['LIFELINE_AS_OF_WORKERS', 'two'],
    ['LIFELINE_AS_OF_QUEUE', '-1'],
    ['LIFELINE_AS_OF_WAIT_MS', '1.5'],
  ])('refuses %s=%s with CONFIG.INVALID', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigInvalid);
  });
});

describe('loadConfig: the read models at start-up', () => {
  it('waits 2 s for them by default, and LIFELINE_READ_MODELS_START_WAIT_MS sets it (0: listen at once)', () => {
    expect(loadConfig({}).readModelsStartWaitMs).toBe(2_000);
    expect(loadConfig({ LIFELINE_READ_MODELS_START_WAIT_MS: '0' }).readModelsStartWaitMs).toBe(0);
    expect(loadConfig({ LIFELINE_READ_MODELS_START_WAIT_MS: '600000' }).readModelsStartWaitMs).toBe(600_000);
  });

  it.each(['-1', '1.5', 'soon'])('refuses LIFELINE_READ_MODELS_START_WAIT_MS=%j with CONFIG.INVALID', (value) => {
    expect(() => loadConfig({ LIFELINE_READ_MODELS_START_WAIT_MS: value })).toThrow(ConfigInvalid);
  });
});

describe('oidcConfig', () => {
  it('is absent without an issuer, and refuses its other settings alone', () => {
    expect(oidcConfig({})).toBeUndefined();
    expect(() => oidcConfig({ LIFELINE_OIDC_AUDIENCE: 'api' })).toThrow(
      'LIFELINE_OIDC_AUDIENCE is set but LIFELINE_OIDC_ISSUER is not',
    );
  });

  it('needs an audience, and reads the roles path, the JWKS URL and the cache times', () => {
    expect(() => oidcConfig({ LIFELINE_OIDC_ISSUER: 'https://idp' })).toThrow(/needs LIFELINE_OIDC_AUDIENCE/);
    expect(
      oidcConfig({
        LIFELINE_OIDC_ISSUER: 'https://idp/realms/x',
        LIFELINE_OIDC_AUDIENCE: 'lifeline',
        LIFELINE_OIDC_JWKS_URL: 'https://idp/certs',
        LIFELINE_OIDC_ROLES_CLAIM: 'realm_access.roles',
        LIFELINE_OIDC_JWKS_MAX_AGE: '60',
      }),
    ).toEqual({
      issuer: 'https://idp/realms/x',
      audience: 'lifeline',
      jwksUrl: 'https://idp/certs',
      rolesClaim: 'realm_access.roles',
      jwksMaxAgeMs: 60_000,
      jwksCooldownMs: 30_000,
    });
    expect(oidcConfig({ LIFELINE_OIDC_ISSUER: 'https://idp', LIFELINE_OIDC_AUDIENCE: 'a' })?.rolesClaim).toBe('roles');
  });

  it.each([
    [{ LIFELINE_OIDC_JWKS_URL: 'file:///etc/keys' }, /must be an http\(s\) URL/],
    [{ LIFELINE_OIDC_ROLES_CLAIM: 'realm_access..roles' }, /dotted claim path/],
    [{ LIFELINE_OIDC_JWKS_MAX_AGE: '0' }, /LIFELINE_OIDC_JWKS_MAX_AGE must be a whole number of at least 1/],
  ])('refuses %j', (extra, message) => {
    expect(() => oidcConfig({ LIFELINE_OIDC_ISSUER: 'https://idp', LIFELINE_OIDC_AUDIENCE: 'a', ...extra })).toThrow(
      message,
    );
  });
});

describe('webhook and tracing configuration', () => {
  it('exports traces only with an OTLP endpoint; webhook settings are checked', () => {
    expect(loadConfig({}).tracing).toEqual({ serviceName: 'lifeline' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing.otlpTracesUrl).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(() => loadConfig({ LIFELINE_WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow('LIFELINE_WEBHOOK_MAX_ATTEMPTS');
    expect(loadConfig({}).webhooks.send).toBe(true);
    expect(loadConfig({ LIFELINE_WEBHOOKS_SEND: 'false' }).webhooks.send).toBe(false);
    expect(() => loadConfig({ LIFELINE_WEBHOOKS_SEND: 'no' })).toThrow('LIFELINE_WEBHOOKS_SEND must be true or false');
  });
});

describe('event store configuration', () => {
  it('opens PostgreSQL with LIFELINE_EVENT_STORE=postgres, LIFELINE_POSTGRES_URL and an optional schema', () => {
    const url = 'postgres://lifeline@db:5432/lifeline';
    expect(loadConfig({ LIFELINE_EVENT_STORE: 'postgres', LIFELINE_POSTGRES_URL: url }).eventStore).toEqual({
      kind: 'postgres',
      url,
    });
    expect(
      loadConfig({ LIFELINE_EVENT_STORE: 'postgres', LIFELINE_POSTGRES_URL: url, LIFELINE_POSTGRES_SCHEMA: 'prod_1' })
        .eventStore,
    ).toEqual({ kind: 'postgres', url, schema: 'prod_1' });
  });

  it('refuses postgres without a URL, a schema that is not a plain name, and an unknown kind', () => {
    expect(() => loadConfig({ LIFELINE_EVENT_STORE: 'postgres' })).toThrow(/needs LIFELINE_POSTGRES_URL/);
    expect(() =>
      loadConfig({
        LIFELINE_EVENT_STORE: 'postgres',
        LIFELINE_POSTGRES_URL: 'postgres://x',
        LIFELINE_POSTGRES_SCHEMA: 'a"; DROP',
      }),
    ).toThrow(ConfigInvalid);
    expect(() => loadConfig({ LIFELINE_EVENT_STORE: 'mysql' })).toThrow(/sqlite, eventstoredb or postgres/);
  });
});

describe('ownership configuration (LIFELINE_OWNERSHIP)', () => {
  const pg = { LIFELINE_EVENT_STORE: 'postgres', LIFELINE_POSTGRES_URL: 'postgres://db/lifeline' };

  it('shares the records by partition on PostgreSQL with the Kafka source, and nowhere else, by default', () => {
    expect(loadConfig({ ...pg, LIFELINE_ENTITY_SOURCE: 'kafka' }).ownership).toBe('partitions');
    expect(loadConfig({ ...pg }).ownership).toBe('all');
    expect(loadConfig({ LIFELINE_ENTITY_SOURCE: 'kafka' }).ownership).toBe('all');
    expect(
      loadConfig({ LIFELINE_EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://x', LIFELINE_ENTITY_SOURCE: 'kafka' })
        .ownership,
    ).toBe('all');
    expect(loadConfig({ ...pg, LIFELINE_ENTITY_SOURCE: 'kafka', LIFELINE_OWNERSHIP: 'all' }).ownership).toBe('all');
  });

  it('shares by partition on EventStoreDB when asked (an existing log has no partition keys), with a lease time', () => {
    const esdb = { LIFELINE_EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: 'esdb://x', LIFELINE_ENTITY_SOURCE: 'kafka' };
    const config = loadConfig({ ...esdb, LIFELINE_OWNERSHIP: 'partitions' });
    expect(config.ownership).toBe('partitions');
    expect(config.eventStore).toEqual({ kind: 'eventstoredb', url: 'esdb://x', leaseTtlMs: 10_000 });
    expect(loadConfig({ ...esdb, LIFELINE_PARTITION_LEASE_TTL_MS: '2500' }).eventStore).toEqual({
      kind: 'eventstoredb',
      url: 'esdb://x',
      leaseTtlMs: 2500,
    });
    for (const bad of ['999', '-1', '10s', '1e4']) {
      expect(() => loadConfig({ ...esdb, LIFELINE_PARTITION_LEASE_TTL_MS: bad })).toThrow(
        `LIFELINE_PARTITION_LEASE_TTL_MS must be a whole number of at least 1000, not ${bad}`,
      );
    }
    expect(() =>
      loadConfig({
        LIFELINE_EVENT_STORE: 'eventstoredb',
        EVENTSTORE_URL: 'esdb://x',
        LIFELINE_OWNERSHIP: 'partitions',
      }),
    ).toThrow(/needs LIFELINE_EVENT_STORE=postgres or eventstoredb and LIFELINE_ENTITY_SOURCE=kafka/);
  });

  it('refuses partitions where there are none to share (no Kafka source, or a store without leases), and an unknown mode', () => {
    expect(() => loadConfig({ ...pg, LIFELINE_OWNERSHIP: 'partitions' })).toThrow(
      /needs LIFELINE_EVENT_STORE=postgres/,
    );
    expect(() => loadConfig({ LIFELINE_ENTITY_SOURCE: 'kafka', LIFELINE_OWNERSHIP: 'partitions' })).toThrow(
      ConfigInvalid,
    );
    expect(() => loadConfig({ ...pg, LIFELINE_ENTITY_SOURCE: 'kafka', LIFELINE_OWNERSHIP: 'some' })).toThrow(
      'LIFELINE_OWNERSHIP must be partitions or all, not some',
    );
  });
});
