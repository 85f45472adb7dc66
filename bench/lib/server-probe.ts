/**
 * Loaded into the server (`BENCH_SERVER_NODE_ARGS="--require dist/bench/lib/server-probe.js"`): counts every SQLite
 * statement the process runs (calls and wall µs per statement text) and sums its GC pauses by kind, and writes both
 * as JSON to BENCH_PROBE_OUT (/tmp/lifeline-server-probe.json) when it exits. Divide the counts by the entity events
 * posted to see what each one costs in rows and look-ups. Not loaded by anything else; it slows every statement a little.
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import Database from 'better-sqlite3';

const OUT = process.env.BENCH_PROBE_OUT ?? '/tmp/lifeline-server-probe.json';
const statements = new Map<string, { calls: number; ns: number }>();
const gc = new Map<string, { count: number; ms: number }>();

const GC_KINDS = new Map<number, string>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'scavenge'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'mark-compact'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weak callbacks'],
]);

type Method = 'run' | 'get' | 'all' | 'iterate';
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function probedPrepare(this: Database.Database, source: string) {
  const statement = prepare.call(this, source) as unknown as Record<Method, (...args: unknown[]) => unknown>;
  const text = source.replace(/\s+/g, ' ').trim();
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = statement[method];
    const key = `${method} ${text}`;
    statement[method] = function probed(this: unknown, ...args: unknown[]) {
      const start = process.hrtime.bigint();
      try {
        return original.apply(this, args);
      } finally {
        const entry = statements.get(key) ?? { calls: 0, ns: 0 };
        entry.calls++;
        entry.ns += Number(process.hrtime.bigint() - start);
        statements.set(key, entry);
      }
    };
  }
  return statement as unknown as ReturnType<typeof prepare>;
} as typeof prepare;

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { detail } = entry as unknown as { detail?: { kind?: number } };
    const kind = GC_KINDS.get(detail?.kind ?? -1) ?? 'other';
    const total = gc.get(kind) ?? { count: 0, ms: 0 };
    total.count++;
    total.ms += entry.duration;
    gc.set(kind, total);
  }
}).observe({ entryTypes: ['gc'] });

// Worker threads and child processes load it too: only the process that ran statements on its main thread writes.
process.on('exit', () => {
  if (!isMainThread || statements.size === 0) return;
  const cpu = process.cpuUsage();
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
        gc: Object.fromEntries([...gc].map(([kind, t]) => [kind, { count: t.count, ms: Math.round(t.ms) }])),
        statements: [...statements]
          .sort((a, b) => b[1].ns - a[1].ns)
          .map(([sql, s]) => ({
            sql,
            calls: s.calls,
            ms: Math.round(s.ns / 1e6),
            us: +(s.ns / s.calls / 1e3).toFixed(1),
          })),
      },
      null,
      2,
    ),
  );
});
