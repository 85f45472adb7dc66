import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

jest.setTimeout(90_000);

const ROOT = resolve(__dirname, '../..');
const MAIN = join(ROOT, 'dist/services/embedded/src/main.js');

const freePort = () =>
  new Promise<number>((done) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });

/** The README's walkthrough, run as a new user would: the built `npm start` server, the commands as written. */
describe('README walkthrough', () => {
  let server: ChildProcess;
  const cwd = mkdtempSync(join(tmpdir(), 'lifeline-readme-'));

  afterAll(() => {
    server?.kill('SIGTERM');
    rmSync(cwd, { recursive: true, force: true });
  });

  it('works verbatim against a fresh embedded start', async () => {
    if (!existsSync(MAIN)) throw new Error(`Build first (npm run build): ${MAIN} is missing`);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- walkthrough:start -->\s*```bash\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toContain('URL=http://localhost:3000');
    const port = await freePort();
    // The only change: the port, so the test never collides with a Lifeline you are running.
    const script = (block as string).replace('URL=http://localhost:3000', `URL=http://127.0.0.1:${port}`);

    // A new user's environment: no secret, no data dir set.
    const { LIFELINE_JWT_SECRET: _secret, LIFELINE_DATA_DIR: _dir, ...inherited } = process.env;
    const env = { ...inherited, PORT: String(port), LOG_LEVEL: 'warn' };
    server = spawn(process.execPath, [MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let banner = '';
    await new Promise<void>((ready, fail) => {
      server.stdout?.on('data', (chunk: Buffer) => {
        banner += chunk.toString();
        if (banner.includes('demo tokens')) ready();
      });
      server.once('exit', (code) => fail(new Error(`server exited with ${code}`)));
    });
    expect(banner).toContain('development JWT secret');

    const run = spawnSync('bash', ['-e', '-c', script], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toContain('"key":"invoice-approval"');
    expect(out).toContain('"title":"Review the invoice"');
    expect(out).toContain('"code":"TASK.INVALID_RESULT"');
    expect(out).toContain('"type":"TaskCompleted"');
    const timeline = JSON.parse(out.trim().split('\n').at(-1) as string) as { items: { kind: string }[] };
    const kinds = timeline.items.map((i) => i.kind);
    expect(kinds[0]).toBe('EntityEventRecorded');
    expect(kinds).toContain('DecisionTaken');
    expect(kinds).toContain('WaitSatisfied');
    expect(kinds.at(-1)).toBe('InstanceCompleted');
  });
});
