/**
 * bpmn-engine (npm) in this process, driven through the same scenario as the Java peers. bpmn-engine
 * keeps nothing on disk itself: after each step the harness saves the engine's JSON state and the
 * task row in one SQLite transaction (WAL, synchronous=NORMAL, like Lifeline's store), and each
 * completion recovers the instance from that saved state, as a deployment that restarts would.
 * Prints one JSON row on stdout. Arguments: n warmup concurrency latencySamples bpmnFile
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Engine } from 'bpmn-engine';
import { inParallel, peakRssMiBOf, percentile } from '../lib/measure';
import { parseScenarioArgs, recordOf, resultOf, REVIEWERS, type ScenarioRow } from './scenario';

const ACTIVITY = 'review';

/** The bpmn-moddle bpmn-engine itself depends on (its own copy, not Lifeline's newer one): what it is tested with. */
const BpmnModdle = createRequire(require.resolve('bpmn-engine'))('bpmn-moddle') as new () => {
  fromXML(xml: string): Promise<unknown>;
};

export class BpmnEngineFailed extends Error {
  readonly code = 'BENCH.BPMN_ENGINE_FAILED';
}

class BpmnEnginePeer {
  private readonly db: Database.Database;
  private readonly saveStarted: (instanceId: string, state: string, taskId: string) => void;
  private readonly saveCompleted: (instanceId: string, state: string, taskId: string) => void;
  private readonly loadState: Database.Statement<[string], { state: string }>;
  private readonly openTasks: Database.Statement<[string, number], { id: string }>;
  private readonly openTaskOf: Database.Statement<[string], { id: string }>;
  private readonly completed: Database.Statement<[], { count: number }>;

  constructor(
    file: string,
    private readonly moddleContext: unknown,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS instances (id TEXT PRIMARY KEY, status TEXT NOT NULL, state TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tasks (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, candidate_group TEXT NOT NULL, status TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS tasks_open ON tasks (candidate_group, status);
      CREATE INDEX IF NOT EXISTS tasks_instance ON tasks (instance_id);`);
    const insertInstance = this.db.prepare("INSERT INTO instances (id, status, state) VALUES (?, 'waiting', ?)");
    const insertTask = this.db.prepare(
      "INSERT INTO tasks (id, instance_id, candidate_group, status) VALUES (?, ?, ?, 'open')",
    );
    const updateInstance = this.db.prepare("UPDATE instances SET status = 'completed', state = ? WHERE id = ?");
    const closeTask = this.db.prepare("UPDATE tasks SET status = 'completed' WHERE id = ?");
    this.saveStarted = this.db.transaction((instanceId: string, state: string, taskId: string) => {
      insertInstance.run(instanceId, state);
      insertTask.run(taskId, instanceId, REVIEWERS);
    });
    this.saveCompleted = this.db.transaction((instanceId: string, state: string, taskId: string) => {
      updateInstance.run(state, instanceId);
      closeTask.run(taskId);
    });
    this.loadState = this.db.prepare('SELECT state FROM instances WHERE id = ?');
    this.openTasks = this.db.prepare("SELECT id FROM tasks WHERE candidate_group = ? AND status = 'open' LIMIT ?");
    this.openTaskOf = this.db.prepare("SELECT id FROM tasks WHERE instance_id = ? AND status = 'open'");
    this.completed = this.db.prepare("SELECT count(*) AS count FROM instances WHERE status = 'completed'");
  }

  async start(instanceId: string, record: Record<string, unknown>): Promise<void> {
    const listener = new EventEmitter();
    let waiting: string | undefined;
    listener.on('activity.wait', (api: { id: string }) => void (waiting = api.id));
    const engine = new Engine({ name: instanceId, moddleContext: this.moddleContext });
    await engine.execute({ listener, variables: { record } });
    if (waiting !== ACTIVITY) throw new BpmnEngineFailed(`instance ${instanceId} is not waiting at ${ACTIVITY}`);
    this.saveStarted(instanceId, JSON.stringify(await engine.getState()), `${instanceId}.${ACTIVITY}`);
  }

  taskOf(instanceId: string): string | undefined {
    return this.openTaskOf.get(instanceId)?.id;
  }

  openTasksOfGroup(group: string, max: number): string[] {
    return this.openTasks.all(group, max).map((r) => r.id);
  }

  async complete(taskId: string, result: string): Promise<void> {
    const instanceId = taskId.slice(0, -`.${ACTIVITY}`.length);
    const saved = this.loadState.get(instanceId);
    if (!saved) throw new BpmnEngineFailed(`no saved state for ${instanceId}`);
    const engine = new Engine({ name: instanceId }).recover(JSON.parse(saved.state));
    engine.environment.variables.result = result;
    const ended = new Promise<void>((resolve, reject) => {
      engine.once('end', () => resolve());
      engine.once('error', reject);
    });
    const execution = await engine.resume();
    execution.signal({ id: ACTIVITY });
    await ended;
    this.saveCompleted(instanceId, JSON.stringify(await engine.getState()), taskId);
  }

  completedInstances(): number {
    return this.completed.get()!.count;
  }

  close(): void {
    this.db.close();
  }
}

async function startAll(peer: BpmnEnginePeer, run: string, n: number, concurrency: number): Promise<void> {
  const ids = Array.from({ length: n }, (_, i) => i);
  await inParallel(ids, concurrency, (i) => peer.start(`${run}-${i}`, recordOf(i)));
}

async function completeAll(peer: BpmnEnginePeer, n: number, concurrency: number): Promise<void> {
  for (let done = 0; done < n;) {
    const page = peer.openTasksOfGroup(REVIEWERS, 500);
    if (page.length === 0) throw new BpmnEngineFailed(`no open task left after ${done} of ${n}`);
    await inParallel(page, concurrency, (taskId, i) => peer.complete(taskId, resultOf(i)));
    done += page.length;
  }
}

const cpuSeconds = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1e6;
};

async function main(): Promise<void> {
  const options = parseScenarioArgs(process.argv.slice(2));
  const dir = process.env.PEER_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'bpmn-engine-bench-'));
  // Parsed once, as a deployment caches its deployed definitions.
  const moddleContext = await new BpmnModdle().fromXML(readFileSync(options.bpmn, 'utf8'));
  const peer = new BpmnEnginePeer(join(dir, 'bpmn-engine.sqlite'), moddleContext);
  try {
    if (options.warmup > 0) {
      await startAll(peer, 'w', options.warmup, options.concurrency);
      await completeAll(peer, options.warmup, options.concurrency);
    }
    const cpu0 = cpuSeconds();
    const t0 = performance.now();
    await startAll(peer, 'r', options.n, options.concurrency);
    const t1 = performance.now();
    const cpu1 = cpuSeconds();
    await completeAll(peer, options.n, options.concurrency);
    const t2 = performance.now();
    const cpu2 = cpuSeconds();
    const completed = peer.completedInstances();
    if (completed < options.n + options.warmup)
      throw new BpmnEngineFailed(`only ${completed} of ${options.n + options.warmup} instances completed`);
    const latencies: number[] = [];
    for (let i = 0; i < options.latencySamples; i++) {
      const at = performance.now();
      await peer.start(`l-${i}`, recordOf(i));
      while (peer.taskOf(`l-${i}`) === undefined) await new Promise((r) => setImmediate(r));
      latencies.push(performance.now() - at);
    }
    const row: ScenarioRow = {
      engine: 'bpmn-engine',
      version: (
        JSON.parse(readFileSync(join(dirname(require.resolve('bpmn-engine')), '..', 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version,
      persistence: 'JSON state + task row in SQLite (WAL) after each step; completion recovers from it',
      n: options.n,
      concurrency: options.concurrency,
      startSeconds: (t1 - t0) / 1000,
      startsPerSecond: options.n / ((t1 - t0) / 1000),
      completeSeconds: (t2 - t1) / 1000,
      completionsPerSecond: options.n / ((t2 - t1) / 1000),
      startCpuSeconds: cpu1 - cpu0,
      completeCpuSeconds: cpu2 - cpu1,
      cpuSeconds: cpu2 - cpu0,
      latencySamples: latencies.length,
      p50ms: percentile(latencies, 50),
      p99ms: percentile(latencies, 99),
      peakRssMiB: peakRssMiBOf(process.pid),
    };
    process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    peer.close();
    if (process.env.PEER_DATA_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
