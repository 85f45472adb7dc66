import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { signToken } from '@lifeline/api';
import { SqliteEventStore, type StoredEvent } from '@lifeline/event-store';
import { rebuildReadModels } from '@lifeline/read-models';
import { describeKafka, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { eventually } from '../e2e/kafka/kcat';

/**
 * Crash consistency: entity events stream in while the built embedded server is killed with SIGKILL
 * at random moments and restarted on the same data dir; afterwards nothing is lost, doubled or stale.
 * CRASH_EVENTS (default 20,000), CRASH_KILLS (10) and CRASH_SEED tune a run.
 */
jest.setTimeout(600_000);

const EMBEDDED_MAIN = resolve(__dirname, '../../dist/services/embedded/src/main.js');
const EVENTS = Number(process.env.CRASH_EVENTS ?? 20_000);
const KILLS = Number(process.env.CRASH_KILLS ?? 10);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
const SECRET = 'crash-consistency-secret-0123456789abcdef';
const RECORDS = Math.floor(EVENTS / 2); // each parcel: created, then updated
const HTTP_BATCH = 50;
const ADMIN = signToken(SECRET, 'admin', ['admin']);
const APP = signToken(SECRET, 'app', ['ingest']);

/** mulberry32: the kill moments are random but replayable from the printed seed. */
function randomFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const definitions = (emitTopic: string): string[] => [
  `
key: crash-review
name: Parcel review
relatedEntity: Parcel
executionOrder: 1
triggers: [{ on: created }]
start: review
activities:
  review:
    type: human
    title: Review the parcel
    assignee: { role: logistics }
    results: [Done]
    # A boundary timer: each review's reminder fires once, whatever the kills.
    boundary: [{ after: PT1S, remind: true }]
    next: done
  done: { type: end }
`,
  `
key: crash-dispatch
name: Parcel dispatch
relatedEntity: Parcel
executionOrder: 2
triggers: [{ on: created }]
start: awaitReady
activities:
  awaitReady: { type: wait, until: entity.status = "Ready", next: announce }
  announce:
    type: automatic
    emit: { topic: ${emitTopic}, type: ParcelReady, payload: { parcel: entity.number } }
    next: done
  done: { type: end }
`,
  // Parallel branches: one line runs through at once, the other waits for Ready; they join, once.
  `
key: crash-parallel
name: Parcel labelling
relatedEntity: Parcel
executionOrder: 3
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [label, ready] }
  label: { type: automatic, set: { labelled: 'true' }, next: both }
  ready: { type: subprocess, process: crash-ready, inputs: { parcel: entity.number }, outputs: { readyFor: child.parcel }, next: both }
  both: { type: join, next: done }
  done: { type: end }
`,
  // The sub-process of the parallel one: it waits for Ready on the same record.
  `
key: crash-ready
name: Parcel ready
relatedEntity: Parcel
executionOrder: 4
triggers: []
start: ready
activities:
  ready: { type: wait, until: entity.status = "Ready", next: done }
  done: { type: end }
`,
];

interface Envelope {
  id: string;
  entityType: 'Parcel';
  entityId: string;
  kind: 'created' | 'updated';
  occurredAt: string;
  data: { number: string; status: string };
  changed?: string[];
}

/** Parcels in groups: each group's creations, then their updates; every other update makes the parcel Ready. */
function parcelEvents(run: string): Envelope[] {
  const events: Envelope[] = [];
  const group = HTTP_BATCH / 2;
  for (let first = 0; first < RECORDS; first += group) {
    const ids = Array.from({ length: Math.min(group, RECORDS - first) }, (_, i) => first + i);
    for (const i of ids) {
      events.push({
        id: `${run}-P-${i}-c`,
        entityType: 'Parcel',
        entityId: `P-${i}`,
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { number: `P-${i}`, status: 'New' },
      });
    }
    for (const i of ids) {
      const status = i % 2 === 0 ? 'Ready' : 'Held';
      events.push({
        id: `${run}-P-${i}-u`,
        entityType: 'Parcel',
        entityId: `P-${i}`,
        kind: 'updated',
        occurredAt: '2026-11-21T11:00:00Z',
        data: { number: `P-${i}`, status },
        changed: ['status'],
      });
    }
  }
  return events;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** The built embedded server as a child process on a fixed port and data dir. */
class CrashableServer {
  private child?: ChildProcess;
  kills = 0;
  constructor(
    readonly url: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  async start(): Promise<void> {
    this.child = spawn(process.execPath, [EMBEDDED_MAIN], { env: this.env, stdio: ['ignore', 'ignore', 'inherit'] });
    const child = this.child;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} while starting`);
        const answer = await fetch(`${this.url}/health`).catch(() => undefined);
        return answer?.status === 200 ? true : undefined;
      },
      60_000,
      'the server to answer /health',
    );
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
    this.kills++;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }

  async health(): Promise<{ head: number; readModels: number; reactions: { ok: boolean; position: number } }> {
    return (await (await fetch(`${this.url}/health`)).json()) as never;
  }

  async call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: { items?: { id: string }[]; error?: { code: string } } }> {
    const answer = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: answer.status,
      body: (await answer.json()) as { items?: { id: string }[]; error?: { code: string } },
    };
  }
}

interface KafkaMessage {
  messageId: string | undefined;
  payload: string | undefined;
}

/** Everything on a topic from the beginning, read until every wanted messageId has arrived (kcat's buffer is too small here). */
async function readTopic(topic: string, wanted: Set<string>): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueTopic('crash-reader') });
  const messages: KafkaMessage[] = [];
  const missing = new Set(wanted);
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const messageId = message.headers?.messageId?.toString();
        messages.push({ messageId, payload: message.value?.toString() });
        if (messageId) missing.delete(messageId);
      },
    });
    await eventually(
      () => (missing.size === 0 ? true : undefined),
      120_000,
      `${missing.size} emitted messages on ${topic}`,
    );
    // Redeliveries published just after the last new one are counted too.
    await new Promise((done) => setTimeout(done, 1_000));
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Every event of the log, read in pages. */
async function readLog(store: SqliteEventStore, prefixes?: string[]): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (let from = 0; ;) {
    const page = await store.readAll(from, 20_000, prefixes);
    if (page.length === 0) return all;
    all.push(...page);
    from = page[page.length - 1]!.position;
  }
}

/** Every row of every table, so two read-model files can be compared whole (as rebuild.int.spec does). */
function dump(file: string): Record<string, unknown[]> {
  const sql = new Database(file, { readonly: true });
  try {
    const tables = sql
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map(({ name }) => {
        const columns = (sql.pragma(`table_info("${name}")`) as { cid: number }[]).map((c) => c.cid + 1);
        return [name, sql.prepare(`SELECT * FROM "${name}" ORDER BY ${columns.join(', ')}`).all()];
      }),
    );
  } finally {
    sql.close();
  }
}

const countBy = <T>(items: T[], key: (item: T) => string): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
};

/** Kills the server KILLS times at random moments and restarts it each time; the last restart is left running. */
async function killRepeatedly(
  server: CrashableServer,
  random: () => number,
  window: [number, number],
  onKill: () => void = () => {},
  beforeKill: () => Promise<void> = async () => {},
): Promise<void> {
  for (let k = 0; k < KILLS; k++) {
    await beforeKill();
    await new Promise((done) => setTimeout(done, window[0] + random() * (window[1] - window[0])));
    onKill();
    await server.kill();
    await server.start();
  }
}

/** Waits until the log's head stays put and the process manager and read models have handled it. */
async function caughtUp(server: CrashableServer): Promise<number> {
  let last = -1;
  return eventually(
    async () => {
      const health = await server.health();
      const quiet =
        health.head === last && health.reactions.position >= health.head && health.readModels >= health.head;
      last = health.head;
      if (!health.reactions.ok) throw new Error(`process manager failed: ${JSON.stringify(health.reactions)}`);
      return quiet ? health.head : undefined;
    },
    240_000,
    'the restarted server to catch up',
  );
}

async function checkConsistency(
  server: CrashableServer,
  dataDir: string,
  sent: Envelope[],
  emitTopic: string,
): Promise<Record<string, number>> {
  await caughtUp(server);
  const store = SqliteEventStore.open(join(dataDir, 'events.db'));
  try {
    // The reviews' reminders fall due a second after their task: wait for the last ones, then for what they appended.
    await eventually(
      async () => {
        const reminders = (await readLog(store)).filter((e) => e.type === 'BoundaryTriggered').length;
        return reminders >= RECORDS ? reminders : undefined;
      },
      60_000,
      'every review reminder to fire',
    );
    await caughtUp(server);
    const log = await readLog(store);

    // Every review's boundary timer fired exactly once.
    const reminders = countBy(
      log.filter((e) => e.type === 'BoundaryTriggered'),
      (e) => e.streamId,
    );
    expect(reminders.size).toBe(RECORDS);
    expect([...reminders.values()].filter((n) => n !== 1)).toEqual([]);

    // Every entity event recorded exactly once.
    const recorded = log
      .filter((e) => e.type === 'EntityEventRecorded')
      .map((e) => (e.data as { envelope: { id: string } }).envelope.id);
    const timesRecorded = countBy(recorded, (id) => id);
    expect(timesRecorded.size).toBe(sent.length);
    expect(sent.filter((e) => timesRecorded.get(e.id) !== 1)).toEqual([]);

    // Every matching process started exactly once per parcel.
    const started = log
      .filter((e) => e.type === 'InstanceStarted')
      .map((e) => e.data as { definitionKey: string; entity: { id: string } });
    const startsPerProcess = countBy(started, (s) => `${s.definitionKey}/${s.entity.id}`);
    expect(started).toHaveLength(4 * RECORDS);
    expect([...startsPerProcess.values()].filter((n) => n !== 1)).toEqual([]);

    // The sub-process: one child per parallel instance, linked both ways, and a Ready parcel's child completed once.
    const childrenStarted = log.filter((e) => e.type === 'SubprocessStarted');
    expect(childrenStarted).toHaveLength(RECORDS);
    const childIds = new Set(
      childrenStarted.map((e) => `instance-${(e.data as { childInstanceId: string }).childInstanceId}`),
    );
    const childStarts = log.filter(
      (e) => e.type === 'InstanceStarted' && (e.data as { cause: { kind: string } }).cause.kind === 'parent',
    );
    expect(childStarts.map((e) => e.streamId).sort()).toEqual([...childIds].sort());
    const childrenCompleted = log.filter((e) => e.type === 'SubprocessCompleted');
    expect(childrenCompleted).toHaveLength(Math.ceil(RECORDS / 2));

    // The parallel process: the Ready parcels' branches joined once and their instance completed once.
    const parallel = new Set(
      log
        .filter(
          (e) =>
            e.type === 'InstanceStarted' && (e.data as { definitionKey: string }).definitionKey === 'crash-parallel',
        )
        .map((e) => e.streamId),
    );
    const joins = countBy(
      log.filter((e) => e.type === 'BranchesJoined'),
      (e) => e.streamId,
    );
    const parallelCompleted = log.filter((e) => e.type === 'InstanceCompleted' && parallel.has(e.streamId));
    expect(joins.size).toBe(Math.ceil(RECORDS / 2));
    expect([...joins.values()].filter((n) => n !== 1)).toEqual([]);
    expect(parallelCompleted.map((e) => e.streamId).sort()).toEqual([...joins.keys()].sort());

    // Open tasks: created, neither completed nor ended with their instance.
    const open = new Set<string>();
    const ended = new Set<string>();
    for (const e of log) {
      if (e.type === 'TaskCreated') open.add((e.data as { taskId: string }).taskId);
      if (e.type === 'TaskCompleted') open.delete((e.data as { taskId: string }).taskId);
      if (e.type === 'InstanceCompleted' || e.type === 'InstanceTerminated')
        ended.add(e.streamId.slice('instance-'.length));
    }
    const openInStore = [...open].filter((taskId) => !ended.has(taskId.split('.')[0]!)).sort();
    expect(openInStore).toHaveLength(RECORDS);
    const listed: string[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await server.call(ADMIN, 'GET', `/tasks?status=open&role=logistics&limit=500&offset=${offset}`);
      expect(page.status).toBe(200);
      const items = page.body.items ?? [];
      listed.push(...items.map((t) => t.id));
      if (items.length < 500) break;
    }
    expect(listed.sort()).toEqual(openInStore);

    // Waits satisfied by the Ready parcels, and each of their messages on Kafka with its messageId.
    const emitted = log.filter((e) => e.type === 'MessageEmitted').map((e) => e.metadata.messageId);
    expect(emitted).toHaveLength(Math.ceil(RECORDS / 2));
    expect(new Set(emitted).size).toBe(emitted.length);
    const onKafka = await readTopic(emitTopic, new Set(emitted));
    const known = new Set(emitted);
    expect(onKafka.filter((m) => !m.messageId || !known.has(m.messageId))).toEqual([]);
    // A redelivered message is the same message: one instance's announcement always has one messageId.
    const messageIdsPerInstance = new Map<string, Set<string>>();
    for (const m of onKafka) {
      const { instanceId } = JSON.parse(m.payload ?? '{}') as { instanceId: string };
      messageIdsPerInstance.set(instanceId, (messageIdsPerInstance.get(instanceId) ?? new Set()).add(m.messageId!));
    }
    expect(messageIdsPerInstance.size).toBe(emitted.length);
    expect([...messageIdsPerInstance.values()].filter((ids) => ids.size !== 1)).toEqual([]);

    // No read-model row missing or extra: the live file equals one rebuilt from the log.
    await server.stop();
    const rebuiltFile = join(dataDir, 'rebuilt-read-models.db');
    const rebuilt = await rebuildReadModels(store, rebuiltFile);
    expect(rebuilt.position).toBe(log[log.length - 1]!.position);
    const live = dump(join(dataDir, 'read-models.db'));
    expect(live.tasks?.length).toBeGreaterThanOrEqual(RECORDS);
    expect(dump(rebuiltFile)).toEqual(live);

    return {
      entityEvents: recorded.length,
      instancesStarted: started.length,
      branchesJoined: joins.size,
      remindersFired: reminders.size,
      openTasks: openInStore.length,
      messagesEmitted: emitted.length,
      kafkaMessages: onKafka.length,
      redelivered: onKafka.length - emitted.length,
      logEvents: log.length,
      readModelTables: Object.keys(live).length,
    };
  } finally {
    await store.close();
  }
}

describeKafka(
  'crash consistency: the embedded server killed with SIGKILL at random moments loses and doubles nothing',
  () => {
    const roots: string[] = [];
    const servers: CrashableServer[] = [];
    afterAll(async () => {
      for (const server of servers) await server.kill();
      for (const root of roots) rmSync(root, { recursive: true, force: true });
    });

    const prepare = async (source: 'http' | 'kafka', extraEnv: NodeJS.ProcessEnv) => {
      if (!existsSync(EMBEDDED_MAIN)) throw new Error(`Build first (npm run build): ${EMBEDDED_MAIN} is missing`);
      const dataDir = mkdtempSync(join(tmpdir(), `lifeline-crash-${source}-`));
      roots.push(dataDir);
      const port = await freePort();
      const emitTopic = uniqueTopic(`crash-emits-${source}`);
      const server = new CrashableServer(`http://127.0.0.1:${port}`, {
        ...process.env,
        LIFELINE_DATA_DIR: dataDir,
        LIFELINE_JWT_SECRET: SECRET,
        LIFELINE_DEMO: 'false',
        LIFELINE_OUTBOUND: 'kafka',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PORT: String(port),
        LOG_LEVEL: 'error',
        ...extraEnv,
      });
      servers.push(server);
      await server.start();
      for (const definition of definitions(emitTopic)) {
        const published = await fetch(`${server.url}/definitions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/yaml' },
          body: definition,
        });
        expect(published.status).toBe(201);
      }
      return { dataDir, emitTopic, server };
    };

    it(`over HTTP: ${EVENTS} entity events, ${KILLS} kills, every event, start, task, row and message exactly where it belongs`, async () => {
      const began = Date.now();
      const random = randomFrom(SEED);
      const { dataDir, emitTopic, server } = await prepare('http', { LIFELINE_ENTITY_SOURCE: 'http' });
      const sent = parcelEvents('http');
      let retries = 0;
      let posting = true;
      const feed = (async () => {
        for (let i = 0; i < sent.length; i += HTTP_BATCH) {
          const batch = sent.slice(i, i + HTTP_BATCH);
          for (;;) {
            // A POST that failed (server killed) is sent again: the envelope ids make it safe.
            const answer = await server.call(APP, 'POST', '/entity-events', batch).catch(() => undefined);
            if (answer?.status === 202) break;
            if (answer && answer.status < 500)
              throw new Error(`POST /entity-events answered ${answer.status}: ${JSON.stringify(answer.body)}`);
            retries++;
            await new Promise((done) => setTimeout(done, 100));
          }
        }
        posting = false;
      })();
      let killsWhilePosting = 0;
      await killRepeatedly(server, random, [200, 2_500], () => {
        if (posting) killsWhilePosting++;
      });
      await feed;
      const figures = await checkConsistency(server, dataDir, sent, emitTopic);
      console.log(
        `crash consistency over HTTP (seed ${SEED}): ${server.kills} kills survived, ${retries} POSTs retried, ` +
          `${JSON.stringify(figures)}, ${killsWhilePosting} kills while POSTs were in flight, ${((Date.now() - began) / 1000).toFixed(1)} s`,
      );
      expect(server.kills).toBe(KILLS);
    });

    it(`over Kafka: ${EVENTS} entity events on a 4-partition topic, ${KILLS} kills of the consuming server`, async () => {
      const began = Date.now();
      const random = randomFrom(SEED + 1);
      const topic = uniqueTopic('crash-parcels');
      const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
      await admin.disconnect();
      const { dataDir, emitTopic, server } = await prepare('kafka', {
        LIFELINE_ENTITY_SOURCE: 'kafka',
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: `lifeline-crash-${topic}`,
      });
      const sent = parcelEvents('kafka');
      const producer: Producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const store = SqliteEventStore.open(join(dataDir, 'events.db'));
      let recorded = 0;
      let from = 0;
      const recordedSoFar = async (): Promise<number> => {
        for (;;) {
          const page = await store.readAll(from, 20_000, ['entity-']);
          if (page.length === 0) return recorded;
          from = page[page.length - 1]!.position;
          recorded += page.filter((e) => e.type === 'EntityEventRecorded').length;
        }
      };
      let producing = true;
      const feed = (async () => {
        // Produced in slices while the kills go on, so they land mid-consumption.
        for (let i = 0; i < sent.length; i += 500) {
          await producer.send({
            topic,
            messages: sent
              .slice(i, i + 500)
              .map((e) => ({ key: `${e.entityType}:${e.entityId}`, value: JSON.stringify(e) })),
          });
          await new Promise((done) => setTimeout(done, 1_000));
        }
        producing = false;
      })();
      let killsWhileProducing = 0;
      let killsWhileConsuming = 0;
      try {
        await killRepeatedly(
          server,
          random,
          [0, 1_500],
          () => {
            if (producing) killsWhileProducing++;
          },
          async () => {
            // A restarted server first waits for the group to drop its killed predecessor: kill it once it consumes again.
            const before = await recordedSoFar();
            if (before >= sent.length) return;
            await eventually(
              async () => ((await recordedSoFar()) > before ? true : undefined),
              60_000,
              'the restarted server to consume',
            );
            killsWhileConsuming++;
          },
        );
        await feed;
        await producer.disconnect();
        await eventually(
          async () => ((await recordedSoFar()) >= sent.length ? true : undefined),
          240_000,
          'every produced event recorded',
        );
      } finally {
        await store.close();
      }
      const figures = await checkConsistency(server, dataDir, sent, emitTopic);
      console.log(
        `crash consistency over Kafka (seed ${SEED + 1}): ${server.kills} kills survived (${killsWhileConsuming} while consuming, ${killsWhileProducing} while producing), ${JSON.stringify(figures)}, ` +
          `${((Date.now() - began) / 1000).toFixed(1)} s`,
      );
      expect(server.kills).toBe(KILLS);
    });
  },
);
