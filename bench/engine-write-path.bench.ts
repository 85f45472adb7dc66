/**
 * The engine's write path in process, without HTTP and read models: N invoice envelopes validated and
 * recorded 500 per unit of work on the SQLite store; each starts `invoice-approval` (one instance, one
 * task) inline, and the outbox relay maps the instance events. Prints CPU microseconds per entity
 * event. Not a test. Run: `npm run -s build && node dist/bench/engine-write-path.bench.js`
 * (BENCH_N=20000, BENCH_ROUNDS=3; `node --cpu-prof` on it profiles the engine alone).
 * BENCH_ENGINE_STORE=postgres runs the engine of a distributed deployment instead (docs/scaling.md): the log on
 * PostgreSQL (LIFELINE_POSTGRES_URL, else the infra cluster on PG_PORT), a schema per round dropped after it, the
 * reactions fed by the engine's subscription; a round ends when the reactions and the relay have the log's head and it
 * no longer moves. The PostgreSQL server's own CPU is not counted (it is another process).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { INVOICE_APPROVAL_YAML } from '@lifeline/process-domain/testing';
import { validateEnvelope } from '@lifeline/process-domain';
import { EngineRuntime, loadConfig } from '@lifeline/engine';
import { invoiceEnvelope } from './lib/invoice-envelope';
import { markdownTable } from './lib/measure';
import { dropTestSchema, testPostgresUrl, uniqueTestSchema } from '@lifeline/event-store/testing';
import { roundTripCounter } from './lib/postgres';

const BATCH = 500;

const envelope = (run: string, i: number) => invoiceEnvelope(run, i);

async function round(
  n: number,
  run: string,
  postgres: string | undefined,
): Promise<{ cpuMicrosPerEvent: number; eventsPerSecond: number; roundTrips?: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-engine-bench-'));
  const schema = uniqueTestSchema('bench_engine');
  const store =
    postgres === undefined
      ? {}
      : { LIFELINE_EVENT_STORE: 'postgres', LIFELINE_POSTGRES_URL: postgres, LIFELINE_POSTGRES_SCHEMA: schema };
  const engine = await EngineRuntime.create(
    loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent', ...store }),
    { logger: pino({ level: 'silent' }) },
  );
  try {
    await engine.start();
    await engine.definitions.publish(INVOICE_APPROVAL_YAML, 'application/yaml', 'root');
    // Warm-up (not measured): the JIT sees every path once before the clock starts.
    await record(engine, `${run}w`, 0, 2_000);
    await settled(engine);
    const trips = postgres === undefined ? undefined : roundTripCounter();
    const cpu = process.cpuUsage();
    const started = performance.now();
    await record(engine, run, 0, n);
    // The reactions (from a subscription, off the inline path) and the relay's publishing are part of each event's cost.
    await settled(engine);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      cpuMicrosPerEvent: (used.user + used.system) / n,
      eventsPerSecond: n / seconds,
      ...(trips === undefined ? {} : { roundTrips: trips() / n }),
    };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
    if (postgres !== undefined) await dropTestSchema(postgres, schema);
  }
}

/** Until the reactions and the relay have the log's head and the head stays where it is (a reaction appends more). */
async function settled(engine: EngineRuntime): Promise<void> {
  for (;;) {
    const head = await engine.store.headPosition();
    if (!(await engine.reactions.caughtUpTo(head, 120_000))) throw new Error(`reactions did not reach ${head}`);
    const relay = engine.outbound?.relay;
    if (relay && !(await relay.caughtUpTo(head, 120_000))) throw new Error(`the relay did not reach ${head}`);
    if ((await engine.store.headPosition()) === head) return;
  }
}

async function record(engine: EngineRuntime, run: string, from: number, n: number): Promise<void> {
  for (let start = from; start < from + n; start += BATCH) {
    const batch = [];
    for (let i = start; i < Math.min(start + BATCH, from + n); i++) {
      const checked = validateEnvelope(JSON.parse(JSON.stringify(envelope(run, i))));
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      batch.push({ envelope: checked.envelope, source: { kind: 'http' as const } });
    }
    await engine.ingest.record(batch);
  }
}

async function main(): Promise<void> {
  const n = Number(process.env.BENCH_N ?? 20_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const postgres = process.env.BENCH_ENGINE_STORE === 'postgres' ? testPostgresUrl() : undefined;
  if (process.env.BENCH_ENGINE_STORE === 'postgres' && postgres === undefined)
    throw new Error('BENCH_ENGINE_STORE=postgres: no LIFELINE_POSTGRES_URL and no cluster on PG_PORT');
  console.log(
    postgres === undefined
      ? 'store: SQLite (embedded, reactions inline)'
      : 'store: PostgreSQL (reactions by subscription)',
  );
  const rows: string[][] = [];
  for (let r = 1; r <= rounds; r++) {
    const result = await round(n, `r${r}-${Date.now()}`, postgres);
    rows.push([
      String(r),
      String(n),
      result.cpuMicrosPerEvent.toFixed(1),
      String(Math.round(result.eventsPerSecond)),
      result.roundTrips?.toFixed(2) ?? '',
    ]);
  }
  console.log(
    markdownTable(
      ['round', 'N', 'CPU µs per entity event', 'entity events/s', 'PostgreSQL round trips per entity event'],
      ['r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
