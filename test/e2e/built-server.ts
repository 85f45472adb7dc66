import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';

const MAIN = join(resolve(__dirname, '../..'), 'dist/services/embedded/src/main.js');
const SECRET = 'built-server-e2e-secret-0123456789abcdef';

const freePort = () =>
  new Promise<number>((done) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer of any shape, read by the test
export type Answer = { status: number; body: any };

/** The built embedded server (`npm start` without the build) as its own process, on a fresh data dir. */
export class BuiltServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly dataDir: string,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<BuiltServer> {
    if (!existsSync(MAIN)) throw new Error(`Build first (npm run build): ${MAIN} is missing`);
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-built-e2e-'));
    const child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        LIFELINE_DATA_DIR: dataDir,
        LIFELINE_JWT_SECRET: SECRET,
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const server = new BuiltServer(child, `http://127.0.0.1:${port}`, dataDir);
    for (let attempt = 0; attempt < 300 && child.exitCode === null; attempt++) {
      if ((await server.call(null, 'GET', '/health').catch(() => undefined))?.status === 200) return server;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.stop();
    throw new Error('the built embedded server did not answer /health');
  }

  /** A token of `sub` with `roles`, living an hour. */
  token(sub: string, roles: string[]): string {
    return jwt.sign({ sub, roles }, SECRET, { algorithm: 'HS256', expiresIn: '1h' });
  }

  /** A request as `sub` with `roles` (null: no token); JSON in and out. */
  async call(
    user: { sub: string; roles: string[] } | null,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const response = await fetch(this.url + path, {
      method,
      headers: {
        ...(user ? { authorization: `Bearer ${this.token(user.sub, user.roles)}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: parsed };
  }

  /** Asks again until `done` holds for the answer (the process manager works asynchronously). */
  async until(ask: () => Promise<Answer>, done: (answer: Answer) => boolean, attempts = 200): Promise<Answer> {
    let answer = await ask();
    for (let i = 1; i < attempts && !done(answer); i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await ask();
    }
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
