/**
 * Scale-out on PostgreSQL and Kafka: one backlog of entity events handled by 1, 2 and 3 engine processes in one
 * consumer group with ownership by partition (LIFELINE_OWNERSHIP=partitions, docs/decisions/0013-ownership-by-partition.md),
 * and for contrast by 2 and 3 engines that each react to the whole log (LIFELINE_OWNERSHIP=all, the behaviour
 * before). Per row: entity events/s, and the CPU ms per entity event of the engines together, of the PostgreSQL
 * server and of the Kafka broker over the same window (/proc/<pid>/stat). Ownership by partition holds when the
 * engines' CPU per event stays flat as engines are added: each record's work is done once, by its owner.
 *
 * Run alone:  npm run -s build && node dist/bench/scale-out.bench.js     (in `npm run bench`: BENCH_ROWS=scale)
 * Needs a Kafka broker (KAFKA_BROKERS, 127.0.0.1:9092) and PostgreSQL (LIFELINE_POSTGRES_URL, else the cluster of
 * infra/postgres/start.sh on PG_PORT, 54329); without either it prints why and measures nothing.
 * Settings: BENCH_SCALE_RUNS (partitions:1,partitions:2,partitions:3,all:2,all:3; a run listed twice runs twice),
 * BENCH_SCALE_RECORDS (4000 records of 5 entity events), BENCH_SCALE_WARMUP (1500 records per engine, not measured:
 * each engine process compiles its hot paths itself, and with less the window measures V8 tiering up, N times).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { AssignerProtocol, Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import pg from 'pg';
import { dropTestSchema, testPostgresUrl, uniqueTestSchema } from '@lifeline/event-store/testing';
import { PUBLISHED_PROCESS_EVENTS } from '@lifeline/entity-events';
import { createTopics, kafkaAvailable, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { builtMain, ClusterNode, counterTotal, REPO_ROOT, requireBuilt, type EngineHealth } from '@lifeline/testing';
import { cpuSecondsOf, machineCpuSeconds, markdownTable, parentPidOf, sleep, treeCpuSecondsOf } from './lib/measure';

const PARTITIONS = 12;
/** created, then 4 updates; the instance waits for the last one. */
const EVENTS_PER_RECORD = 5;
const SECRET = 'scale-out-bench-secret-0123456789abcdef';
/** How often the drain is probed; the end of a run is known to this resolution. */
const POLL_MS = 250;
/** The head, the engines' reactions positions and their counters unchanged this long: the engines are idle. */
const STILL_MS = 1_500;
/** Instance events the outbox publishes to the lifecycle topic. */
const LIFECYCLE = [...PUBLISHED_PROCESS_EVENTS];

export type Ownership = 'partitions' | 'all';

export interface ScaleOutRow {
  mode: Ownership;
  engines: number;
  entityEvents: number;
  /** Events the log gained in the window (entity events, instance events, …). */
  logEvents: number;
  /** From the first produce to the last change of the head, a reactions position or a counter. */
  seconds: number;
  /** How long producing the backlog took (the engines consume from the first message on). */
  produceSeconds: number;
  eventsPerSecond: number;
  /** Each engine's CPU ms over the window. */
  engineCpuMs: number[];
  /** The PostgreSQL server's processes (undefined: not visible from here). */
  pgCpuMs?: number;
  brokerCpuMs?: number;
  /** This process: the producer and the probes. */
  benchCpuMs: number;
  /** Share of the machine's cores busy over the window, every process counted (other work on the machine too). */
  machineBusy: number;
  /** Log events the reactors decided on, summed over the engines. */
  reactorDecisions: number;
  /** Messages the outbox relays published, summed over the engines, and how many distinct ones the log asked for. */
  messagesPublished: number;
  messagesDistinct: number;
  /** The engines together, idle after the warm-up, CPU ms per second. */
  idleEngineCpuMsPerSecond: number;
  /** PostgreSQL and the broker over the same idle seconds (undefined: not measured). */
  idlePgCpuMsPerSecond?: number;
  idleBrokerCpuMsPerSecond?: number;
  /** Partitions each engine held (partitions mode) or was assigned by the group (all mode), e.g. 4+4+4. */
  shares: string;
}

/** One process's CPU seconds so far, or undefined when it is not visible from here. */
interface Sample {
  at: number;
  engines: number[];
  pg?: number;
  broker?: number;
  bench: number;
  machine: { busy: number; total: number };
}

/**
 * Started by a shipment's creation: announce it (emit), wait for its fourth update (step 4), announce the arrival
 * (emit), end. Each instance publishes two emit messages and two lifecycle events (started, completed).
 */
const definition = (emitTopic: string) => ({
  key: 'shipment-tracking',
  name: 'Shipment tracking',
  relatedEntity: 'Shipment',
  triggers: [{ on: 'created' }],
  start: 'announce',
  activities: {
    announce: {
      type: 'automatic',
      emit: { topic: emitTopic, type: 'shipment.announced', payload: { n: 'entity.n' } },
      next: 'delivery',
    },
    delivery: { type: 'wait', until: `entity.step >= ${EVENTS_PER_RECORD - 1}`, next: 'arrived' },
    arrived: {
      type: 'automatic',
      emit: { topic: emitTopic, type: 'shipment.arrived', payload: { n: 'entity.n' } },
      next: 'done',
    },
    done: { type: 'end' },
  },
});

/** Record `prefix-n`'s event `seq` (0: created). */
const envelope = (topic: string, prefix: string, n: number, seq: number) => ({
  id: `${topic}-${prefix}-${n}-${seq}`,
  entityType: 'Shipment',
  entityId: `${prefix}-${n}`,
  kind: seq === 0 ? 'created' : 'updated',
  occurredAt: '2026-11-21T10:00:00Z',
  data: { n, seq, step: seq },
  ...(seq === 0 ? {} : { changed: ['seq', 'step'] }),
});

/** Round by round (every record's `seq`-th event), 1000 a request, one request at a time: in order per record. */
async function produce(producer: Producer, topic: string, prefix: string, records: number): Promise<void> {
  const chunk = 1000;
  for (let seq = 0; seq < EVENTS_PER_RECORD; seq++) {
    for (let from = 0; from < records; from += chunk) {
      const messages = [];
      for (let n = from; n < Math.min(records, from + chunk); n++) {
        messages.push({ key: `Shipment:${prefix}-${n}`, value: JSON.stringify(envelope(topic, prefix, n, seq)) });
      }
      await producer.send({ topic, messages });
    }
  }
}

/** The broker's JVM on this machine: the one `pgrep` finds, or of several the one listening on the broker's port. */
function brokerPid(broker: string): number | undefined {
  const pgrep = (pattern: string) => {
    try {
      return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const candidates = pgrep('kafka\\.Kafka ');
  if (candidates.length <= 1) return candidates[0];
  const port = broker.split(':').pop();
  try {
    const listening = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' });
    const pid = Number(/pid=(\d+)/.exec(listening)?.[1]);
    return candidates.includes(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The postmaster: the parent of this connection's backend (visible when the server runs on this machine). */
async function postmasterPid(db: pg.Client): Promise<number | undefined> {
  const backend = Number((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  const parent = parentPidOf(backend);
  return parent !== undefined && treeCpuSecondsOf(parent) !== undefined ? parent : undefined;
}

interface Context {
  url: string;
  kafka: Kafka;
  postmaster?: number;
  broker?: number;
}

function sample(context: Context, engines: ClusterNode[]): Sample {
  return {
    at: performance.now(),
    engines: engines.map((e) => cpuSecondsOf(e.pid!)),
    pg: context.postmaster === undefined ? undefined : treeCpuSecondsOf(context.postmaster),
    broker: context.broker === undefined ? undefined : cpuSecondsOf(context.broker),
    bench: cpuOfThisProcess(),
    machine: machineCpuSeconds(),
  };
}

function cpuOfThisProcess(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

const ms = (from: number | undefined, to: number | undefined) =>
  from === undefined || to === undefined ? undefined : (to - from) * 1000;

/** One row: a fresh schema, topic and consumer group; `engines` engines started on the empty topic. */
async function scaleOutRun(
  context: Context,
  mode: Ownership,
  engineCount: number,
  records: number,
  warmup: number,
): Promise<ScaleOutRow> {
  const schema = uniqueTestSchema('bench_scale');
  const entityTopic = uniqueTopic('bench-scale');
  const emitTopic = uniqueTopic('bench-scale-messages');
  const group = `bench-scale-${entityTopic}`;
  const root = mkdtempSync(join(tmpdir(), 'lifeline-bench-scale-'));
  const db = new pg.Client({ connectionString: context.url });
  const nodes: ClusterNode[] = [];
  // A producer and an admin per run: one kept across runs asks the broker for the topics of the runs before, deleted
  // since, and fails.
  const producer = context.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const admin = context.kafka.admin();
  const shared = {
    LIFELINE_EVENT_STORE: 'postgres',
    LIFELINE_POSTGRES_URL: context.url,
    LIFELINE_POSTGRES_SCHEMA: schema,
    LIFELINE_JWT_SECRET: SECRET,
    LIFELINE_DEMO: 'false',
  };
  const headOf = async () =>
    Number((await db.query<{ p: string }>(`SELECT position AS p FROM "${schema}".log_head`)).rows[0]!.p);
  try {
    await db.connect();
    await Promise.all([producer.connect(), admin.connect()]);
    await createTopics(admin, [
      { topic: entityTopic, numPartitions: PARTITIONS },
      { topic: emitTopic, numPartitions: PARTITIONS },
    ]);

    // The definition, published through an API process that is gone before anything is measured.
    const api = await ClusterNode.on<'admin'>({
      main: builtMain('api'),
      env: { ...shared, LIFELINE_ENTITY_SOURCE: 'http', LIFELINE_DATA_DIR: join(root, 'api') },
      name: 'api',
      secret: SECRET,
      users: { admin: ['admin'] },
      startTimeoutMs: 60_000,
    });
    nodes.push(api);
    await api.start();
    const published = await api.call('admin', 'POST', '/definitions', definition(emitTopic));
    if (published.status !== 201) throw new Error(`publish: ${published.status} ${JSON.stringify(published.body)}`);
    await api.terminate();

    const engines = await Promise.all(
      Array.from({ length: engineCount }, (_, i) =>
        ClusterNode.on({
          main: builtMain('engine'),
          env: {
            ...shared,
            LIFELINE_DATA_DIR: join(root, `engine-${i + 1}`),
            LIFELINE_ENTITY_SOURCE: 'kafka',
            LIFELINE_OWNERSHIP: mode,
            KAFKA_BROKERS: kafkaBrokers().join(','),
            KAFKA_TOPICS: entityTopic,
            KAFKA_GROUP_ID: group,
          },
          name: `engine-${i + 1}`,
          // Joining a consumer group while the others join too takes a while on 2 cores.
          startTimeoutMs: 90_000,
        }),
      ),
    );
    nodes.push(...engines);
    await Promise.all(engines.map((e) => e.start()));
    const shares = await settled(admin, group, engines, mode);

    // Warm-up: every engine has run the whole path once (JIT, pools, the emit topic's metadata) before the window.
    const warmHead = await headOf();
    const warmHealth = await healthOf(engines);
    await produce(producer, entityTopic, 'W', warmup * engineCount);
    await drained(context, db, schema, engines, warmHead, warmHealth, warmup * engineCount);

    const idleFrom = sample(context, engines);
    await sleep(2_000);
    const idleTo = sample(context, engines);
    // What the cluster costs with nothing to do (consumers fetching, relays and reactors asking for new events).
    const idleSeconds = (idleTo.at - idleFrom.at) / 1000;
    const idleRate = (from: number | undefined, to: number | undefined) => {
      const cpu = ms(from, to);
      return cpu === undefined ? undefined : cpu / idleSeconds;
    };
    const idleEngineCpuMsPerSecond = idleRate(sum(idleFrom.engines), sum(idleTo.engines))!;

    // The window: from the first record of the backlog produced to the engines idle again.
    const fromHead = await headOf();
    const fromHealth = await healthOf(engines);
    const start = sample(context, engines);
    await produce(producer, entityTopic, 'S', records);
    const produceSeconds = (performance.now() - start.at) / 1000;
    const end = await drained(context, db, schema, engines, fromHead, fromHealth, records);
    const window = end.counts;
    const entityEvents = records * EVENTS_PER_RECORD;
    if (window.recorded !== entityEvents)
      throw new Error(`${window.recorded} entity events recorded in the window, ${entityEvents} produced`);
    if (window.started !== records) throw new Error(`${window.started} instances started for ${records} records`);
    const seconds = (end.at - start.at) / 1000;
    const machine = {
      busy: end.cpu.machine.busy - start.machine.busy,
      total: end.cpu.machine.total - start.machine.total,
    };
    return {
      mode,
      engines: engineCount,
      entityEvents,
      logEvents: window.log,
      seconds,
      produceSeconds,
      eventsPerSecond: entityEvents / seconds,
      engineCpuMs: end.cpu.engines.map((to, i) => (to - start.engines[i]!) * 1000),
      pgCpuMs: ms(start.pg, end.cpu.pg),
      brokerCpuMs: ms(start.broker, end.cpu.broker),
      benchCpuMs: (end.cpu.bench - start.bench) * 1000,
      machineBusy: machine.busy / machine.total,
      reactorDecisions:
        counted(end.health, 'lifeline_reactor_events_total') - counted(fromHealth, 'lifeline_reactor_events_total'),
      messagesPublished:
        counted(end.health, 'lifeline_outbox_messages_total') - counted(fromHealth, 'lifeline_outbox_messages_total'),
      messagesDistinct: window.messages,
      idleEngineCpuMsPerSecond,
      idlePgCpuMsPerSecond: idleRate(idleFrom.pg, idleTo.pg),
      idleBrokerCpuMsPerSecond: idleRate(idleFrom.broker, idleTo.broker),
      shares,
    };
  } finally {
    for (const node of nodes) await node.stop();
    await producer.disconnect().catch(() => undefined);
    await db.end().catch(() => undefined);
    // One at a time: the dead-letter topic exists only if something was dead-lettered.
    for (const topic of [entityTopic, emitTopic, `${entityTopic}.dlq`])
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    await dropTestSchema(context.url, schema).catch((error: unknown) =>
      console.error(`schema ${schema} not dropped: ${String(error)}`),
    );
    rmSync(root, { recursive: true, force: true });
  }
}

const sum = (values: readonly number[]) => values.reduce((s, v) => s + v, 0);

const healthOf = (engines: ClusterNode[]) => Promise.all(engines.map(async (e) => (await e.health()).body));

/** A counter summed over the engines. */
const counted = (health: readonly EngineHealth[], name: string) =>
  health.reduce((total, h) => total + (counterTotal(h.counters, name) ?? 0), 0);

/**
 * Waits until the group is stable with every engine a member and all partitions assigned, and (partitions mode)
 * every partition held by exactly one engine with none waiting for its lease: a rebalance or a lease move inside
 * the window would be measured as work. Says who holds how many.
 */
async function settled(admin: Admin, group: string, engines: ClusterNode[], mode: Ownership): Promise<string> {
  const deadline = Date.now() + 90_000;
  let last = '';
  while (Date.now() < deadline) {
    const { groups } = await admin.describeGroups([group]);
    const described = groups[0];
    const assigned = (described?.members ?? []).map((m) => {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      return Object.values(decoded?.assignment ?? {}).flat();
    });
    const groupReady =
      described?.state === 'Stable' &&
      assigned.length === engines.length &&
      sum(assigned.map((a) => a.length)) === PARTITIONS &&
      assigned.every((a) => a.length > 0);
    last = `group ${described?.state}, assigned ${JSON.stringify(assigned)}`;
    if (groupReady && mode === 'all') return assigned.map((a) => a.length).join('+');
    if (groupReady) {
      const owned = await Promise.all(engines.map(async (e) => (await e.health()).body.ownership));
      const held = owned.flatMap((o) => o?.partitions ?? []);
      // /health's ownership also lists the partitions assigned whose lease is not taken yet.
      const waiting = owned.flatMap((o) => (o as { waiting?: number[] } | undefined)?.waiting ?? []);
      last += `; held ${JSON.stringify(owned.map((o) => o?.partitions))}, waiting ${JSON.stringify(waiting)}`;
      if (held.length === PARTITIONS && new Set(held).size === PARTITIONS && waiting.length === 0)
        return owned.map((o) => o!.partitions.length).join('+');
    }
    await sleep(POLL_MS);
  }
  throw new Error(`the engines did not settle in 90 s: ${last}`);
}

interface Drained {
  /** When the last change was seen (the head, a reactions position or a counter). */
  at: number;
  /** CPU taken at the probe after that, so the trailing work (checkpoints after a publish) is in it. */
  cpu: Sample;
  health: EngineHealth[];
  counts: { log: number; recorded: number; started: number; completed: number; messages: number };
}

/**
 * Probes every POLL_MS: the log's head and each engine's reactions position and counters. Once all of them stood
 * still for STILL_MS, the log since `fromHead` must hold `records` completed instances and the relays must have
 * published, since `fromHealth`, at least as many messages as it asks for; otherwise it keeps waiting (3 minutes at
 * most).
 */
async function drained(
  context: Context,
  db: pg.Client,
  schema: string,
  engines: ClusterNode[],
  fromHead: number,
  fromHealth: readonly EngineHealth[],
  records: number,
): Promise<Drained> {
  const deadline = Date.now() + 180_000;
  let seen = '';
  let changedAt = 0;
  let after: Sample | undefined;
  let checked = '';
  let last = '';
  while (Date.now() < deadline) {
    const head = Number((await db.query<{ p: string }>(`SELECT position AS p FROM "${schema}".log_head`)).rows[0]!.p);
    const health = await Promise.all(
      engines.map(async (e) => {
        if (!e.running) throw new Error(`${e.name} exited during the run`);
        return (await e.health()).body;
      }),
    );
    const cpu = sample(context, engines);
    const state = JSON.stringify([
      head,
      health.map((h) => [
        h.reactions.position,
        counterTotal(h.counters, 'lifeline_reactor_events_total'),
        counterTotal(h.counters, 'lifeline_outbox_messages_total'),
      ]),
    ]);
    if (state !== seen) {
      seen = state;
      changedAt = cpu.at;
      after = undefined;
    } else {
      after ??= cpu;
    }
    if (after && cpu.at - changedAt >= STILL_MS && checked !== state) {
      checked = state;
      const counts = (
        await db.query<Record<string, string>>(
          `SELECT count(*) AS log,
                  count(*) FILTER (WHERE type = 'EntityEventRecorded') AS recorded,
                  count(*) FILTER (WHERE type = 'InstanceStarted') AS started,
                  count(*) FILTER (WHERE type = 'InstanceCompleted') AS completed,
                  count(*) FILTER (WHERE stream_id LIKE 'instance-%' AND (type = 'MessageEmitted' OR type = ANY($2))) AS messages
             FROM "${schema}".events WHERE position > $1`,
          [fromHead, LIFECYCLE],
        )
      ).rows[0]!;
      const n = {
        log: Number(counts.log),
        recorded: Number(counts.recorded),
        started: Number(counts.started),
        completed: Number(counts.completed),
        messages: Number(counts.messages),
      };
      const published =
        counted(health, 'lifeline_outbox_messages_total') - counted(fromHealth, 'lifeline_outbox_messages_total');
      last = `${JSON.stringify(n)}, ${published} messages published, state ${state}`;
      if (n.completed >= records && published >= n.messages) return { at: changedAt, cpu: after, health, counts: n };
    }
    await sleep(POLL_MS);
  }
  throw new Error(`not drained in 180 s: ${last || seen}`);
}

/** Every run listed in BENCH_SCALE_RUNS, or why none ran. */
export async function scaleOutRows(): Promise<{ rows: ScaleOutRow[]; notes: string[] } | { skipped: string }> {
  const brokers = kafkaBrokers();
  if (!(await kafkaAvailable(brokers)))
    return { skipped: `no Kafka broker at ${brokers.join(',')}; run infra/kafka/start.sh` };
  const url = testPostgresUrl();
  if (url === undefined)
    return {
      skipped: `no LIFELINE_POSTGRES_URL and no cluster at 127.0.0.1:${process.env.PG_PORT ?? 54329}; run infra/postgres/start.sh`,
    };
  requireBuilt(builtMain('engine'), builtMain('api'));
  const runs = (process.env.BENCH_SCALE_RUNS ?? 'partitions:1,partitions:2,partitions:3,all:2,all:3')
    .split(',')
    .map((run) => {
      const [mode, count] = run.split(':');
      if ((mode !== 'partitions' && mode !== 'all') || !(Number(count) >= 1))
        throw new Error(`BENCH_SCALE_RUNS: ${run} is not partitions:<engines> or all:<engines>`);
      return { mode: mode as Ownership, engines: Number(count) };
    });
  const records = Number(process.env.BENCH_SCALE_RECORDS ?? 4_000);
  const warmup = Number(process.env.BENCH_SCALE_WARMUP ?? 1_500);
  const kafka = new Kafka({ clientId: 'scale-out-bench', brokers, logLevel: logLevel.NOTHING });
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  const notes: string[] = [];
  try {
    const context: Context = {
      url,
      kafka,
      postmaster: await postmasterPid(db),
      broker: brokerPid(brokers[0]!),
    };
    if (context.postmaster === undefined)
      notes.push('PostgreSQL CPU not measured: its server runs elsewhere (not in /proc here)');
    if (context.broker === undefined)
      notes.push('broker CPU not measured: no kafka.Kafka JVM found on this machine for it');
    const rows: ScaleOutRow[] = [];
    for (const run of runs) {
      const row = await scaleOutRun(context, run.mode, run.engines, records, warmup);
      rows.push(row);
      console.error(
        `scale-out ${run.mode} × ${run.engines}: ${Math.round(row.eventsPerSecond)} events/s, ` +
          `${(sum(row.engineCpuMs) / row.entityEvents).toFixed(3)} engine CPU ms/event`,
      );
    }
    notes.push(
      `${records} records × ${EVENTS_PER_RECORD} events on a ${PARTITIONS}-partition topic, after ${warmup} records of warm-up per engine; ` +
        `engines started on the empty topic and the group settled before the window; end known to ${POLL_MS} ms`,
    );
    return { rows, notes };
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Share of the machine's cores the engines, PostgreSQL, the broker and this process used over the window. */
function ours(r: ScaleOutRow): number {
  const cpuMs = sum(r.engineCpuMs) + (r.pgCpuMs ?? 0) + (r.brokerCpuMs ?? 0) + r.benchCpuMs;
  return cpuMs / 1000 / (r.seconds * cpus().length);
}

/** The rows as a markdown table, and one line per row on how the work and the machine were shared. */
export function scaleOutTable(rows: readonly ScaleOutRow[]): string {
  const perEvent = (value: number | undefined, row: ScaleOutRow) =>
    value === undefined ? '–' : (value / row.entityEvents).toFixed(3);
  const table = markdownTable(
    [
      'engines',
      'mode',
      'events/s',
      'seconds',
      'engine CPU ms/event (total)',
      'per engine',
      'above idle',
      'engine CPU ms/log event',
      'PG CPU ms/event',
      'broker CPU ms/event',
      'reactor decisions / log events',
      'messages published / distinct',
      'cores used: ours / all',
    ],
    ['r', 'l', 'r', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows.map((r) => [
      String(r.engines),
      r.mode,
      String(Math.round(r.eventsPerSecond)),
      r.seconds.toFixed(1),
      perEvent(sum(r.engineCpuMs), r),
      r.engineCpuMs.map((c) => perEvent(c, r)).join(' + '),
      // What the engines spent beyond what they spend doing nothing (measured before the window) for as long.
      perEvent(sum(r.engineCpuMs) - r.idleEngineCpuMsPerSecond * r.seconds, r),
      (sum(r.engineCpuMs) / r.logEvents).toFixed(3),
      perEvent(r.pgCpuMs, r),
      perEvent(r.brokerCpuMs, r),
      `${r.reactorDecisions} / ${r.logEvents} (${(r.reactorDecisions / r.logEvents).toFixed(2)})`,
      `${r.messagesPublished} / ${r.messagesDistinct} (${(r.messagesPublished / r.messagesDistinct).toFixed(2)})`,
      `${Math.round(ours(r) * 100)}% / ${Math.round(r.machineBusy * 100)}%`,
    ]),
  );
  const seconds = (cpuMs: number | undefined) => (cpuMs === undefined ? '–' : (cpuMs / 1000).toFixed(1));
  const rate = (cpuMsPerSecond: number | undefined) => (cpuMsPerSecond === undefined ? '–' : cpuMsPerSecond.toFixed(0));
  const lines = rows.map(
    (r) =>
      `${r.mode} × ${r.engines}: partitions ${r.shares}; backlog produced in ${r.produceSeconds.toFixed(1)} s; ` +
      `CPU s in the window: engines ${seconds(sum(r.engineCpuMs))}, PG ${seconds(r.pgCpuMs)}, broker ${seconds(r.brokerCpuMs)}, ` +
      `this process ${seconds(r.benchCpuMs)}, of ${(r.seconds * cpus().length).toFixed(1)} core-seconds; ` +
      `idle before it, CPU ms/s: engines ${rate(r.idleEngineCpuMsPerSecond)}, PG ${rate(r.idlePgCpuMsPerSecond)}, ` +
      `broker ${rate(r.idleBrokerCpuMsPerSecond)}`,
  );
  return `${table}\n\n${lines.join('\n')}`;
}

async function main(): Promise<void> {
  const result = await scaleOutRows();
  if ('skipped' in result) {
    console.log(`scale-out skipped: ${result.skipped}`);
    return;
  }
  console.log(
    `machine: ${cpus().length} cores; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (the engines, PostgreSQL, the broker and this process share these cores)\n`,
  );
  console.log(scaleOutTable(result.rows));
  console.log(`\n${result.notes.join('\n')}`);
  mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true });
  const file = join(REPO_ROOT, 'bench/results', `scale-out-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      { at: new Date().toISOString(), node: process.version, rows: result.rows, notes: result.notes },
      null,
      2,
    ),
  );
  console.log(`\n(written to ${file})`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
