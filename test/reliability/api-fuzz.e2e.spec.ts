import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '@lifeline/api';

const ROOT = join(__dirname, '..', '..');
const SECRET = 'fuzz-secret-for-lifeline-0123456789abcdef';
const MAX_EXAMPLES = Number(process.env.LIFELINE_FUZZ_EXAMPLES ?? 100);

/** The schemathesis command: `schemathesis` on PATH or the Python module; undefined when neither answers. */
function schemathesis(): string[] | undefined {
  for (const command of [['schemathesis'], ['python3', '-m', 'schemathesis']]) {
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

describeFuzz('API fuzzing with schemathesis against /docs/openapi.json', () => {
  let server: ChildProcess;
  let dataDir: string;
  let port: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-fuzz-'));
    port = await freePort();
    server = spawn(process.execPath, [join(ROOT, 'dist/services/embedded/src/main.js')], {
      env: { ...process.env, PORT: String(port), LIFELINE_DATA_DIR: dataDir, LIFELINE_JWT_SECRET: SECRET, LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error('the embedded server did not start');
  }, 60_000);

  afterAll(() => {
    server?.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('sends the generated requests: no 5xx, every answer conforms to the document', async () => {
    const token = signToken(SECRET, 'fuzz-admin', ['admin', 'ingest']);
    const run = spawnSync(
      command![0],
      [...command!.slice(1), 'run', `http://127.0.0.1:${port}/docs/openapi.json`, '--checks', 'all',
        '--max-examples', String(MAX_EXAMPLES), '-H', `Authorization: Bearer ${token}`],
      { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    const sent = output.match(/(\d[\d,]*)\s+(?:generated|test cases|requests)/i)?.[1];
    console.log(`schemathesis: ${sent ?? 'an unknown number of'} requests; exit ${run.status}\n${output.slice(-3000)}`);
    expect(output).not.toMatch(/Server error|status code 5\d\d/i);
    expect(run.status).toBe(0);
  }, 660_000);
});
