import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { describeKafka, kafkaBrokers, uniqueTopic, waitFor } from '@lifeline/entity-events/testing';
import { anchorSignatureHolds, generateAuditKey, parseAuditKey } from '@lifeline/audit';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';

jest.setTimeout(60_000);

const brokers = kafkaBrokers();

async function consume(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = new Kafka({ clientId: 'anchors-reader', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: uniqueTopic('anchors-reader'),
  });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  try {
    await waitFor(() => messages.length >= count, 30_000, `${count} anchors on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describeKafka('the engine publishes signed anchors to Kafka and the anchors file (real broker, SQLite file)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lifeline-anchors-engine-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('each anchor goes to lifeline.audit-anchors (key = key id) and to the file, signed by the configured key', async () => {
    const pair = generateAuditKey();
    writeFileSync(join(root, 'audit-key.pem'), pair.privatePem, { mode: 0o600 });
    const topic = uniqueTopic('lifeline.audit-anchors');
    const anchorsFile = join(root, 'anchors.jsonl');
    const config = loadConfig({
      LIFELINE_DATA_DIR: join(root, 'data'),
      LIFELINE_OUTBOUND: 'kafka',
      KAFKA_BROKERS: brokers.join(','),
      LIFELINE_TIMER_TICK_MS: '0',
      LIFELINE_AUDIT_KEY: join(root, 'audit-key.pem'),
      LIFELINE_AUDIT_ANCHORS_FILE: anchorsFile,
      LIFELINE_AUDIT_ANCHORS_TOPIC: topic,
      LIFELINE_AUDIT_ANCHOR_INTERVAL: '30',
    });
    const clock = new FakeClock();
    const engine = await EngineRuntime.create(config, { clock, logger: createLogger('silent') });
    try {
      await engine.start();
      const append = (id: string) =>
        engine.store.append({
          streamId: `note-${id}`,
          events: [
            {
              id,
              type: 'Noted',
              data: { amount: 5 },
              metadata: { correlationId: id, causationId: id, actor: 'app', at: clock.nowIso() },
            },
          ],
          expectedRevision: 'no-stream',
        });
      await append('INV-1');
      await append('INV-2');
      clock.advance(30_000);
      const periodic = await engine.anchors!.tick();
      await append('INV-3');
      const onDemand = await engine.anchors!.anchorNow();
      expect(periodic).toMatchObject({ position: 2, eventCount: 2, keyId: pair.keyId });
      expect(onDemand).toMatchObject({ position: 3, eventCount: 3, keyId: pair.keyId });

      const messages = await consume(topic, 2);
      expect(messages.map((m) => m.key?.toString())).toEqual([pair.keyId, pair.keyId]);
      const published = messages.map((m) => JSON.parse(m.value!.toString()));
      expect(published).toEqual([periodic, onDemand]);
      const publicKey = parseAuditKey(pair.publicPem);
      expect(published.every((a) => anchorSignatureHolds(a, publicKey))).toBe(true);
      expect(readFileSync(anchorsFile, 'utf8')).toBe(published.map((a) => JSON.stringify(a) + '\n').join(''));
    } finally {
      await engine.close();
    }
  });
});
