import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs';
import { waitFor } from './wait-for';

const run = promisify(execFile);
const INFRA_DIR = resolve(__dirname, '../../../../../infra/kafka');

/** The brokers the tests talk to: KAFKA_BROKERS (comma-separated), default 127.0.0.1:9092. */
export function kafkaBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
}

/** A topic name no other test (or earlier run) uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * Creates topics and waits until each partition has a leader. kafkajs's own wait (waitForLeaders)
 * fails when the broker does not list a topic it has just created yet, which happens under load.
 */
export async function createTopics(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  await admin.createTopics({ topics, waitForLeaders: false });
  const names = topics.map((t) => t.topic);
  await waitFor(
    async () => {
      try {
        const metadata = await admin.fetchTopicMetadata({ topics: names });
        return metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      } catch {
        return false;
      }
    },
    30_000,
    `leaders of ${names.join(', ')}`,
  );
}

/** True when a broker answers a metadata request. */
export async function kafkaAvailable(brokers: string[] = kafkaBrokers()): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'lifeline-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// jest registers describe blocks synchronously, so the probe is a child process run to completion.
const TCP_PROBE = `
const [host, port] = process.argv[1].split(':');
const s = require('net').connect({ host, port: Number(port) });
s.setTimeout(2000, () => process.exit(1));
s.on('connect', () => { s.end(); process.exit(0); });
s.on('error', () => process.exit(1));`;

function brokerAnswersSync(broker: string): boolean {
  if (process.env.KAFKA_AVAILABLE === '1') return true;
  const probe = spawnSync(process.execPath, ['-e', TCP_PROBE, broker], { timeout: 4_000 });
  return probe.status === 0;
}

/**
 * `describe` that needs a real broker: skipped with a reason when none answers, except in CI,
 * where a missing broker is a failure rather than a silent skip.
 */
export function describeKafka(name: string, fn: () => void): void {
  const brokers = kafkaBrokers();
  const address = brokers.join(',');
  if (brokerAnswersSync(brokers[0])) {
    describe(name, fn);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it(`Kafka broker required in CI at ${address}`, () => {
        throw new Error(`No Kafka broker answers at ${address}; start one with infra/kafka/start.sh`);
      });
    });
    return;
  }
  const reason = `no Kafka broker at ${address}; run infra/kafka/start.sh`;
  console.warn(`${name} — skipped: ${reason}`);
  describe.skip(`${name} — skipped: ${reason}`, fn);
}

/** A broker of its own (port, data dir) that a fault test may stop and start; see infra/kafka/start.sh. */
export class LocalKafkaBroker {
  readonly address: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly port: number,
    readonly controllerPort: number,
    readonly dataDir: string,
    options: { autoCreateTopics?: boolean } = {},
  ) {
    this.address = `127.0.0.1:${port}`;
    this.env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_DATA_DIR: dataDir,
      // Unset: start.sh's default (off, as on a production broker).
      ...(options.autoCreateTopics === undefined ? {} : { KAFKA_AUTO_CREATE_TOPICS: String(options.autoCreateTopics) }),
    };
  }

  async start(): Promise<void> {
    await run(resolve(INFRA_DIR, 'start.sh'), [], { env: this.env, timeout: 120_000 });
  }

  async stop(): Promise<void> {
    await run(resolve(INFRA_DIR, 'stop.sh'), [], { env: this.env, timeout: 60_000 });
  }
}
