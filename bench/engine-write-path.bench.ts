/**
 * The engine's write path in process, without HTTP and read models: N invoice envelopes validated and
 * recorded 500 per unit of work on the SQLite store; each starts `invoice-approval` (one instance, one
 * task) inline, and the outbox relay maps the instance events. Prints CPU microseconds per entity
 * event. Not a test. Run: `npm run -s build && node dist/bench/engine-write-path.bench.js`
 * (BENCH_N=20000, BENCH_ROUNDS=3; `node --cpu-prof` on it profiles the engine alone).
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

const BATCH = 500;

const envelope = (run: string, i: number) => invoiceEnvelope(run, i);

async function round(n: number, run: string): Promise<{ cpuMicrosPerEvent: number; eventsPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-engine-bench-'));
  const engine = await EngineRuntime.create(
    loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
    { logger: pino({ level: 'silent' }) },
  );
  try {
    await engine.start();
    await engine.definitions.publish(INVOICE_APPROVAL_YAML, 'application/yaml', 'root');
    // Warm-up (not measured): the JIT sees every path once before the clock starts.
    await record(engine, `${run}w`, 0, 2_000);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await record(engine, run, 0, n);
    // The relay publishes after the commits: its work is part of each event's cost.
    await engine.outbound?.relay.caughtUpTo(await engine.store.headPosition(), 60_000);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return { cpuMicrosPerEvent: (used.user + used.system) / n, eventsPerSecond: n / seconds };
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
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
  const rows: string[][] = [];
  for (let r = 1; r <= rounds; r++) {
    const result = await round(n, `r${r}-${Date.now()}`);
    rows.push([String(r), String(n), result.cpuMicrosPerEvent.toFixed(1), String(Math.round(result.eventsPerSecond))]);
  }
  console.log(markdownTable(['round', 'N', 'CPU µs per entity event', 'entity events/s'], ['r', 'r', 'r', 'r'], rows));
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
