import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { SqliteEventStore } from '@lifeline/event-store';
import { DefinitionCommands, SystemClock } from '@lifeline/engine';
import { describeKafka, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { eventually } from './kcat';

jest.setTimeout(240_000);

const ENGINE_MAIN = resolve(__dirname, '../../../dist/services/engine/src/main.js');
const RECORDS = 400;
const EVENTS_PER_RECORD = 5; // created, then 4 updates: 2,000 events

const DEFINITION = `
key: shipment-tracking
name: Shipment tracking
relatedEntity: Shipment
executionOrder: 1
triggers: [{ on: created }]
start: check
activities:
  check: { type: human, title: Check the shipment, assignee: { role: logistics }, next: done }
  done: { type: end }
`;

describeKafka('scale-out: two engines in one consumer group, one killed with SIGKILL', () => {
  const topic = uniqueTopic('shipments');
  const group = `lifeline-scale-${topic}`;
  const root = mkdtempSync(join(tmpdir(), 'lifeline-scale-'));
  const eventsFile = join(root, 'events.db');
  const engines: ChildProcess[] = [];

  const startEngine = (name: string): ChildProcess => {
    const child = spawn(process.execPath, [ENGINE_MAIN], {
      env: {
        ...process.env,
        LIFELINE_DATA_DIR: join(root, name),
        LIFELINE_SQLITE_FILE: eventsFile,
        LIFELINE_ENTITY_SOURCE: 'kafka',
        LIFELINE_OUTBOUND: 'in-process',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: group,
        PORT: '0',
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    engines.push(child);
    return child;
  };

  afterAll(() => {
    for (const engine of engines) if (engine.exitCode === null) engine.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('records every event once, in order per record, and starts every matching process once', async () => {
    if (!existsSync(ENGINE_MAIN)) throw new Error(`Build first (npm run build): ${ENGINE_MAIN} is missing`);
    const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    await admin.disconnect();

    const store = SqliteEventStore.open(eventsFile);
    await store.unitOfWork((tx) =>
      new DefinitionCommands(new SystemClock()).publish(tx, DEFINITION, 'application/yaml', 'test'),
    );

    const a = startEngine('engine-a');
    startEngine('engine-b');

    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const produceRound = async (seq: number) => {
      const messages = Array.from({ length: RECORDS }, (_, r) => ({
        key: `Shipment:S-${r}`,
        value: JSON.stringify({
          id: `${topic}-S-${r}-${seq}`,
          entityType: 'Shipment',
          entityId: `S-${r}`,
          kind: seq === 0 ? 'created' : 'updated',
          occurredAt: '2026-11-21T10:00:00Z',
          data: { seq },
          ...(seq === 0 ? {} : { changed: ['seq'] }),
        }),
      }));
      await producer.send({ topic, messages });
    };
    const recorded = async () =>
      (await store.readAll(0, 1_000_000, ['entity-'])).filter((e) => e.type === 'EntityEventRecorded');

    await produceRound(0);
    await produceRound(1);
    // Both engines are consuming; kill one mid-stream.
    await eventually(
      async () => ((await recorded()).length >= RECORDS / 2 ? true : undefined),
      90_000,
      'the first events recorded',
    );
    a.kill('SIGKILL');
    for (let seq = 2; seq < EVENTS_PER_RECORD; seq++) await produceRound(seq);
    await producer.disconnect();

    const all = await eventually(
      async () => {
        const events = await recorded();
        return events.length >= RECORDS * EVENTS_PER_RECORD ? events : undefined;
      },
      120_000,
      'every event recorded after the kill',
    );

    // Every event recorded exactly once.
    const ids = all.map((e) => (e.data as { envelope: { id: string } }).envelope.id);
    expect(new Set(ids).size).toBe(RECORDS * EVENTS_PER_RECORD);
    expect(ids.length).toBe(RECORDS * EVENTS_PER_RECORD);

    // Each record's events in the order they were produced.
    const byRecord = new Map<string, number[]>();
    for (const e of all) {
      const envelope = (e.data as { envelope: { entityId: string; data: { seq: number } } }).envelope;
      byRecord.set(envelope.entityId, [...(byRecord.get(envelope.entityId) ?? []), envelope.data.seq]);
    }
    expect(byRecord.size).toBe(RECORDS);
    for (const seqs of byRecord.values()) expect(seqs).toEqual([0, 1, 2, 3, 4]);

    // Every matching process started once (the surviving engine's process manager covers the log).
    const started = await eventually(
      async () => {
        const events = (await store.readAll(0, 1_000_000, ['instance-'])).filter((e) => e.type === 'InstanceStarted');
        return events.length >= RECORDS ? events : undefined;
      },
      60_000,
      'one instance per shipment',
    );
    const perRecord = new Map<string, number>();
    for (const e of started) {
      const id = (e.data as { entity: { id: string } }).entity.id;
      perRecord.set(id, (perRecord.get(id) ?? 0) + 1);
    }
    expect(started.length).toBe(RECORDS);
    expect([...perRecord.values()].every((n) => n === 1)).toBe(true);
    await store.close();
  });
});
