import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';
import { cpuSecondsOf, peakRssMiBOf, rssMiBOf, sleep } from './measure';

/** The repository root, from dist/bench/lib or bench/lib. */
export const ROOT = resolve(
  __dirname,
  ...(__dirname.includes(`${join('dist', 'bench')}`) ? ['..', '..', '..'] : ['..', '..']),
);
/** BENCH_SERVER_MAIN runs another build (e.g. the previous commit's, for a before/after in one run). */
const MAIN = process.env.BENCH_SERVER_MAIN ?? join(ROOT, 'dist/services/embedded/src/main.js');
const SECRET = 'bench-secret-0123456789abcdef';

/** Tokens for the load: short-lived, as a server with a lifetime cap accepts them. */
export const bearer = (sub: string, roles: string[]): string =>
  `Bearer ${jwt.sign({ sub, roles }, SECRET, { algorithm: 'HS256', expiresIn: '12h' })}`;

const freePort = () =>
  new Promise<number>((res) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => res(port));
    });
  });

export class LifelineServerFailed extends Error {
  readonly code = 'BENCH.SERVER_FAILED';
}

/** The built embedded server (`npm start` without the build) as its own process, on a fresh data dir. */
export class LifelineProcess {
  private child: ChildProcess | undefined;
  url = '';
  readonly dataDir = mkdtempSync(join(tmpdir(), 'lifeline-peers-bench-'));

  /** `main`: another build's embedded main.js (a before/after in one run); BENCH_SERVER_MAIN or this build's by default. */
  constructor(private readonly main: string = MAIN) {}

  /** `pollMs`: how often `/health` is asked while the server starts (a finer start-up time for the cold-start bench). */
  async start(env: Record<string, string> = {}, options: { pollMs?: number } = {}): Promise<void> {
    const pollMs = options.pollMs ?? 100;
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server, not the load.
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    this.child = spawn(process.execPath, [...nodeArgs, this.main], {
      env: {
        ...process.env,
        PORT: String(port),
        LIFELINE_DATA_DIR: this.dataDir,
        LIFELINE_JWT_SECRET: SECRET,
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (const deadline = performance.now() + 60_000; performance.now() < deadline;) {
      if (this.child.exitCode !== null) break;
      try {
        if ((await fetch(`${this.url}/health`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(pollMs);
    }
    throw new LifelineServerFailed(`the embedded server at ${this.main} did not start (run npm run build first)`);
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new LifelineServerFailed('not started');
    return this.child.pid;
  }

  cpuSeconds(): number {
    return cpuSecondsOf(this.pid);
  }

  peakRssMiB(): number {
    return peakRssMiBOf(this.pid);
  }

  rssMiB(): number {
    return rssMiBOf(this.pid);
  }

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    auth: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<T> {
    const r = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    if (r.status >= 300) throw new LifelineServerFailed(`${method} ${path}: ${r.status} ${text.slice(0, 500)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Stops the server; its data dir goes too unless kept for a look at what it wrote. */
  async stop(options: { keepData?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (!options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }

  removeData(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
