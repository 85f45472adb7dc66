import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '@lifeline/api';

const ROOT = join(__dirname, '..', '..');
const SECRET = 'fuzz-secret-for-lifeline-0123456789abcdef';
/** Per operation and phase; 30 gives about 2,500 requests in about a minute on 2 cores. */
const MAX_EXAMPLES = Number(process.env.LIFELINE_FUZZ_EXAMPLES ?? 30);
const MIN_REQUESTS = 2000;

/**
 * What JSON Schema cannot say. A definition can have the right shape and still be refused when it
 * is published (an unknown `next`, a FEEL error), so POST /definitions may answer 400 to
 * schema-valid bodies.
 */
// These operations check a schema-valid body against what it names (the definition's graph and FEEL; the task's
// results, form, question and dates; who may be an assignee; a webhook's URL and event types): the domain may still
// refuse it with 400 and a code.
const SEMANTICALLY_CHECKED = [
  'POST /definitions',
  // The versions named must exist (404) and differ (400).
  'POST /definitions/{key}/migrate',
  'POST /tasks/{id}/complete',
  'POST /tasks/{id}/postpone',
  'POST /tasks/{id}/reassign',
  'POST /webhooks',
];
const SCHEMATHESIS_CONFIG = SEMANTICALLY_CHECKED.map(
  (name) => `
[[operations]]
include-name = "${name}"
checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
`,
).join('');

/** The schemathesis command: `schemathesis` on PATH or the Python module; undefined when neither answers. */
function schemathesis(): string[] | undefined {
  // pip --user puts the script in the user base's bin/, which is often not on PATH.
  const userBase = spawnSync('python3', ['-m', 'site', '--user-base'], { encoding: 'utf8' }).stdout?.trim();
  const candidates = [['schemathesis'], ...(userBase ? [[join(userBase, 'bin', 'schemathesis')]] : [])];
  for (const command of candidates) {
    const probe = spawnSync(command[0], [...command.slice(1), '--version'], { encoding: 'utf8' });
    if (probe.status === 0) return command;
  }
  return undefined;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const command = schemathesis();
if (!command && process.env.CI) throw new Error('schemathesis is not installed: run test/reliability/install.sh');
const describeFuzz = command ? describe : describe.skip;
if (!command) console.warn('api-fuzz skipped: schemathesis is not installed (test/reliability/install.sh)');

describeFuzz(
  `API fuzzing with schemathesis against /docs/openapi.json${command ? '' : ' — skipped: schemathesis is not installed (test/reliability/install.sh installs it)'}`,
  () => {
    let server: ChildProcess;
    let dataDir: string;
    let port: number;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'lifeline-fuzz-'));
      port = await freePort();
      server = spawn(process.execPath, [join(ROOT, 'dist/services/embedded/src/main.js')], {
        env: {
          ...process.env,
          PORT: String(port),
          LIFELINE_DATA_DIR: dataDir,
          LIFELINE_JWT_SECRET: SECRET,
          LOG_LEVEL: 'warn',
        },
        stdio: 'ignore',
      });
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error('the embedded server did not start');
    }, 60_000);

    afterAll(() => {
      server?.kill('SIGKILL');
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it(`sends at least ${MIN_REQUESTS} generated requests: no 5xx, every answer conforms to the document`, async () => {
      const token = signToken(SECRET, 'fuzz-admin', ['admin', 'ingest']);
      const config = join(dataDir, 'schemathesis.toml');
      writeFileSync(config, SCHEMATHESIS_CONFIG);
      const started = Date.now();
      const run = spawnSync(
        command![0],
        [
          ...command!.slice(1),
          '--config-file',
          config,
          'run',
          `http://127.0.0.1:${port}/docs/openapi.json`,
          '--checks',
          'all',
          '--max-examples',
          String(MAX_EXAMPLES),
          // One worker: with two threads, Hypothesis parses lambda sources concurrently and CPython 3.11's ast raises SystemError.
          '--workers',
          '1',
          // GET /live is a server-sent event stream that never ends; its 401s are in the authorization matrix e2e.
          '--exclude-path',
          '/live',
          // Long polling holds each request up to its timeoutMs (60 s); its refusals of bad input are in jobs-api e2e.
          '--exclude-path',
          '/jobs/fetch-and-lock',
          '--report',
          'junit',
          '--report-junit-path',
          join(dataDir, 'junit.xml'),
          '-H',
          `Authorization: Bearer ${token}`,
        ],
        { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024, cwd: dataDir },
      );
      const output = `${run.stdout}\n${run.stderr}`;
      const generated = Number(output.match(/(\d[\d,]*) generated/)?.[1]?.replace(/,/g, '') ?? 0);
      const seconds = Math.round((Date.now() - started) / 1000);
      const problems = output.match(/={3,} (?:ERRORS|FAILURES) ={3,}[\s\S]*?(?=={3,} SUMMARY)/)?.[0] ?? '';
      console.log(
        `schemathesis: ${generated} requests in ${seconds} s; exit ${run.status}\n${problems.slice(0, 20_000)}\n${output.slice(-3000)}`,
      );
      expect(output).not.toMatch(/Server error|status code 5\d\d|\[5\d\d\]/i);
      expect(run.status).toBe(0);
      expect(generated).toBeGreaterThanOrEqual(MIN_REQUESTS);
    }, 660_000);
  },
);
