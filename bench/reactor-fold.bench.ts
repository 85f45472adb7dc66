/**
 * The reactor's fold without reacting (Reactor.foldUpTo): how fast an engine rebuilds reactor state from the log,
 * which is what it pays for each partition it takes over (docs/scaling.md: rebuild time = the partition's history
 * ÷ this rate). The log is written by the engine in process (bench/lib/reactor-fold.ts: invoices created, their
 * reviews completed, half the waiting records cleared: entity events, instance events, waits and timers), then
 * folded into empty state BENCH_FOLD_ROUNDS times per store, each fold checked against the live reactor's state:
 *   - SQLite, the state in the store's own file (the embedded engine);
 *   - PostgreSQL (LIFELINE_POSTGRES_URL, else the infra/postgres cluster on PG_PORT; left out without one), the log
 *     copied there and the state in an engine database of its own (a distributed engine); and, per round, one
 *     partition of BENCH_FOLD_PARTITIONS taken over as the engine does on a move: its events read by partition and
 *     folded (what a move costs: the partition's share of the log, read out of all of it by the server).
 * Not a test. Run: `npm run -s build && node dist/bench/reactor-fold.bench.js`
 *   BENCH_FOLD_RECORDS=5000 invoices (about 11 events each), BENCH_FOLD_ROUNDS=3 (the median is printed),
 *   BENCH_FOLD_PARTITIONS=12
 */
import { cpus, loadavg } from 'node:os';
import { markdownTable } from './lib/measure';
import { engineLog, foldDir, foldPostgres, foldSqlite, type FoldFigure } from './lib/reactor-fold';

async function main(): Promise<void> {
  const records = Number(process.env.BENCH_FOLD_RECORDS ?? 5_000);
  const rounds = Number(process.env.BENCH_FOLD_ROUNDS ?? 3);
  const { dir, remove } = foldDir();
  try {
    const log = await engineLog(dir, records);
    console.log(
      `log: ${log.events} events from ${log.records} records (${(log.events / log.records).toFixed(1)} per record), ` +
        `${log.concerning} of them folded by the reactor (the rest decoded and skipped); written in ${log.seconds.toFixed(1)} s; ` +
        `live state ${JSON.stringify(log.live)}`,
    );
    const sets: FoldFigure[][] = [await foldSqlite(log, rounds)];
    const count = Number(process.env.BENCH_FOLD_PARTITIONS ?? 12);
    const postgres = await foldPostgres(log, rounds, dir, count);
    if (postgres === undefined) console.log('PostgreSQL left out: no LIFELINE_POSTGRES_URL and no cluster on PG_PORT');
    else sets.push(postgres.whole);
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    console.log(
      `\nmachine: ${cpus().length} cores, load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}\n`,
    );
    console.log(
      markdownTable(
        ['store', 'events', 'events/s (median)', 'rounds events/s', 'CPU µs/event (median)', 'folded state'],
        ['l', 'r', 'r', 'l', 'r', 'l'],
        sets.map((figures) => [
          figures[0]!.store,
          String(figures[0]!.events),
          String(Math.round(median(figures.map((f) => f.eventsPerSecond)))),
          figures.map((f) => Math.round(f.eventsPerSecond)).join(' '),
          median(figures.map((f) => f.cpuMicrosPerEvent)).toFixed(1),
          JSON.stringify(figures[0]!.state),
        ]),
      ),
    );
    if (postgres === undefined) return;
    console.log(`\none partition of ${count} taken over on PostgreSQL (read by partition, folded without reacting)\n`);
    console.log(
      markdownTable(
        [
          'partition',
          'its events',
          'of the log',
          'seconds',
          'its events/s',
          'log events/s (the server reads them all)',
          'CPU µs per its event',
          'folded state',
        ],
        ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
        postgres.partitions.map((p) => [
          String(p.partition),
          String(p.events),
          String(p.logEvents),
          p.seconds.toFixed(2),
          String(Math.round(p.events / p.seconds)),
          String(Math.round(p.logEvents / p.seconds)),
          p.cpuMicrosPerEvent.toFixed(1),
          JSON.stringify(p.state),
        ]),
      ),
    );
  } finally {
    remove();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
