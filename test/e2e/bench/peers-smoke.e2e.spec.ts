import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');
const inCi = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
// Temporal's harness is Go; BENCH_PEERS_SMOKE_TEMPORAL=0 leaves it out of the smoke (smoke.sh says why).
const withTemporal = process.env.BENCH_PEERS_SMOKE_TEMPORAL !== '0';
const missing = ['java', 'mvn', ...(withTemporal ? ['go'] : [])].filter(
  (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0,
);
// Outside CI a machine without a JDK or Go skips the smoke; in CI a missing tool is a failure, not a skip.
const skipReason =
  missing.length > 0 && !inCi ? `skipped: ${missing.join(' and ')} not installed (CI installs them)` : undefined;

// A cold Go cache compiles the whole Temporal server (about 15 CPU-minutes); a warm one relinks.
const TIMEOUT = withTemporal ? 25 * 60_000 : 300_000;

const temporalNote = withTemporal
  ? ''
  : ' (Temporal left out: BENCH_PEERS_SMOKE_TEMPORAL=0, its cold build is ~15 CPU-minutes)';

describe(`bench/peers/smoke.sh${skipReason ? ` (${skipReason})` : ''}${temporalNote}`, () => {
  (skipReason ? it.skip : it)(
    'builds every peer harness (Java, and Go for Temporal) and runs each engine and Lifeline on N=20, printing one row per engine',
    async () => {
      expect(missing).toEqual([]);
      const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'bench/peers/smoke.sh')], {
        cwd: ROOT,
        env: { ...process.env, BENCH_PEERS_SMOKE_N: '20', BENCH_KAFKA: 'off', LIFELINE_SKIP_BUILD: '1' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: TIMEOUT - 20_000,
      });
      const rows = stdout
        .split('\n')
        .filter((line) => /^\| (Lifeline|bpmn-engine|Camunda 7|Operaton|Flowable|Temporal) \|/.test(line));
      expect(rows.map((line) => line.split('|')[1]!.trim())).toEqual([
        'Lifeline',
        'bpmn-engine',
        'Camunda 7',
        'Operaton',
        'Flowable',
        ...(withTemporal ? ['Temporal'] : []),
      ]);
      // Each row carries a ratio to Lifeline and a positive completion rate.
      for (const row of rows) {
        const cells = row.split('|').map((c) => c.trim());
        expect(Number(cells[4])).toBeGreaterThan(0);
        expect(cells[5]).toMatch(/^\d+\.\d\d×$/);
      }
      expect(stdout).toMatch(/SQLite: the start phase's \d+ event rows/);
      // Temporal's note names the server it ran and says its state is in a SQLite file.
      if (withTemporal) expect(stdout).toMatch(/^- Temporal: Temporal server \d+\.\d+\.\d+ .*SQLite file/m);
    },
    TIMEOUT,
  );
});
