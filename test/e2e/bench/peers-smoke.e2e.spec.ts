import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..', '..', '..');
const inCi = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
const missing = ['java', 'mvn', 'go'].filter(
  (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0,
);
// Outside CI a machine without a JDK or Go skips the smoke; in CI a missing tool is a failure, not a skip.
const skipReason =
  missing.length > 0 && !inCi ? `skipped: ${missing.join(' and ')} not installed (CI installs them)` : undefined;

describe(`bench/peers/smoke.sh${skipReason ? ` (${skipReason})` : ''}`, () => {
  (skipReason ? it.skip : it)(
    'builds every peer harness (Java, Go) and runs each engine and Lifeline on N=20, printing one row per engine',
    async () => {
      expect(missing).toEqual([]);
      const { stdout } = await promisify(execFile)('bash', [join(ROOT, 'bench/peers/smoke.sh')], {
        cwd: ROOT,
        env: { ...process.env, BENCH_PEERS_SMOKE_N: '20', BENCH_KAFKA: 'off', LIFELINE_SKIP_BUILD: '1' },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 280_000,
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
        'Temporal',
      ]);
      // Each row carries a ratio to Lifeline and a positive completion rate.
      for (const row of rows) {
        const cells = row.split('|').map((c) => c.trim());
        expect(Number(cells[4])).toBeGreaterThan(0);
        expect(cells[5]).toMatch(/^\d+\.\d\d×$/);
      }
      expect(stdout).toMatch(/SQLite: the start phase's \d+ event rows/);
      // Temporal's row says which server it ran and that its state is in a SQLite file.
      expect(stdout).toMatch(/^- Temporal: Temporal server \d+\.\d+\.\d+ .*SQLite file/m);
    },
    300_000,
  );
});
