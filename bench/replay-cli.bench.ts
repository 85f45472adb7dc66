/**
 * `lifeline replay` on a stopped data dir: events/s of the whole command (open the store, rebuild
 * every read model into a new file, swap it in). Target >= 50,000 events/s. Not a test. Run:
 *   npx tsc -p tsconfig.build.json --outDir /tmp/lifeline-bench && npx tsc-alias -p tsconfig.build.json --outDir /tmp/lifeline-bench \
 *     && node /tmp/lifeline-bench/bench/replay-cli.bench.js [events]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SqliteEventStore } from '@lifeline/event-store';
import { syntheticLog } from '@lifeline/read-models/testing';
import { runCli } from '@lifeline/cli';

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 200_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-replay-cli-bench-'));
  try {
    const log = syntheticLog(count, 7);
    const store = SqliteEventStore.open(join(dataDir, 'events.db'));
    for (let i = 0; i < log.events.length; i += 1000) {
      await store.appendMany(
        log.events.slice(i, i + 1000).map((e) => ({
          streamId: e.streamId,
          expectedRevision: 'any' as const,
          events: [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }],
        })),
      );
    }
    await store.close();
    let stdout = '';
    const rows: Record<string, string | number>[] = [];
    for (const argv of [['replay'], ['replay', '--read-model', 'task-list']]) {
      const started = performance.now();
      const cpu = process.cpuUsage();
      const code = await runCli([...argv, '--data-dir', dataDir], {
        stdout: (t) => void (stdout += t),
        stderr: () => undefined,
        env: {},
        cwd: dataDir,
      });
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      if (code !== 0) throw new Error(`lifeline ${argv.join(' ')} exited with ${code}: ${stdout}`);
      rows.push({
        command: `lifeline ${argv.join(' ')}`,
        events: log.events.length,
        seconds: +seconds.toFixed(2),
        eventsPerSecond: Math.round(log.events.length / seconds),
        eventsPerCpuSecond: Math.round(log.events.length / ((used.user + used.system) / 1e6)),
      });
    }
    console.table(rows);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
