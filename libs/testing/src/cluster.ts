import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join, resolve, sep } from 'node:path';
import jwt from 'jsonwebtoken';

/**
 * Built Lifeline processes (engine, API) as a user runs them, several on one store: the launcher of the distributed
 * e2e specs (test/e2e/distributed) and of benchmarks that need a cluster. It runs what `npm run build` wrote to dist/,
 * so a spec or bench using it builds first.
 */

/** The repository root, from libs/testing/src (jest, ts) or dist/libs/testing/src (a built benchmark). */
export const REPO_ROOT = resolve(
  __dirname,
  ...(__dirname.includes(`${sep}dist${sep}libs${sep}`) ? ['..', '..', '..', '..'] : ['..', '..', '..']),
);

/** The built entry point of a service: `dist/services/<role>/src/main.js`. */
export function builtMain(role: 'engine' | 'api' | 'embedded'): string {
  return join(REPO_ROOT, 'dist', 'services', role, 'src', 'main.js');
}

/** Thrown before anything is started when a built entry point is missing. */
export class ClusterNotBuilt extends Error {
  readonly code = 'TESTING.NOT_BUILT';
}

/** Fails fast, with the fix, when `npm run build` has not been run (or is stale enough to lack a service). */
export function requireBuilt(...mains: string[]): void {
  for (const main of mains) {
    if (!existsSync(main)) throw new ClusterNotBuilt(`Build first (npm run build): ${main} is missing`);
  }
}

/** A TCP port nothing listens on right now (the OS picks it; closed again before it is handed out). */
export function freePort(): Promise<number> {
  return new Promise<number>((done, fail) => {
    const server = net.createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });
}

/** An HS256 bearer token as the API checks it (LIFELINE_JWT_SECRET), short-lived like a real client's. */
export function signedToken(
  secret: string,
  sub: string,
  roles: string[],
  expiresIn: jwt.SignOptions['expiresIn'] = '1h',
) {
  return jwt.sign({ sub, roles }, secret, { algorithm: 'HS256', expiresIn });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer of any shape, read by the test
export type Answer = { status: number; body: any };

/** What an engine process answers on /health (services/engine/src/main.ts); fields a build lacks are absent. */
export interface EngineHealth {
  ok: boolean;
  role: 'engine';
  head: number;
  reactions: { ok: boolean; position: number; error?: string };
  kafka?: Record<string, unknown>;
  /** Counter totals by `name` or `name{label="value",…}`. */
  counters: Record<string, number>;
  ownership?: { mode: string; partitionCount: number; partitions: number[] };
  [field: string]: unknown;
}

/**
 * The total of one counter across its labels in a /health `counters` map (`name` alone, or `name{…}` per label set);
 * undefined when the process does not report it at all, so a missing counter is not read as zero work.
 */
export function counterTotal(counters: Record<string, number> | undefined, name: string): number | undefined {
  let total: number | undefined;
  for (const [key, value] of Object.entries(counters ?? {})) {
    if (key === name || key.startsWith(`${name}{`)) total = (total ?? 0) + value;
  }
  return total;
}

export interface ClusterNodeOptions<U extends string> {
  /** The built main.js to run (builtMain('engine'), builtMain('api')). */
  main: string;
  /** Added to this process's environment; PORT is the node's own and wins. */
  env: Record<string, string>;
  port: number;
  /** LIFELINE_JWT_SECRET the node checks tokens with; `call` signs with it. */
  secret?: string;
  /** The users `call` may act as, with their roles. */
  users?: Record<U, string[]>;
  /** How long `start` waits for /health to answer 200 (default 30 s). */
  startTimeoutMs?: number;
  /** A name for messages (default: the main's service and the port). */
  name?: string;
}

/** One built process (engine or API) on its own data dir and port; started, killed and started again by the test. */
export class ClusterNode<U extends string = string> {
  child?: ChildProcess;
  readonly name: string;

  constructor(readonly options: ClusterNodeOptions<U>) {
    this.name = options.name ?? `${options.main.split(sep).slice(-3, -2)[0] ?? 'node'}:${options.port}`;
  }

  /** A node on a free port. */
  static async on<U extends string = string>(options: Omit<ClusterNodeOptions<U>, 'port'>): Promise<ClusterNode<U>> {
    return new ClusterNode<U>({ ...options, port: await freePort() });
  }

  get main(): string {
    return this.options.main;
  }

  get env(): Record<string, string> {
    return this.options.env;
  }

  get port(): number {
    return this.options.port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** True from spawn until the process exits (by itself or by a signal). */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the process and waits until its /health answers 200; throws if it exits or does not answer in time. */
  async start(): Promise<void> {
    // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the nodes (as bench/lib/lifeline-server.ts does).
    const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(process.execPath, [...nodeArgs, this.main], {
      env: { ...process.env, LOG_LEVEL: 'error', ...this.env, PORT: String(this.port) },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.child = child;
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 30_000);
    while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
      const health = await fetch(`${this.url}/health`).catch(() => undefined);
      if (health?.status === 200) return;
      await health?.body?.cancel();
      await new Promise((r) => setTimeout(r, 100));
    }
    const how =
      child.exitCode !== null || child.signalCode !== null
        ? `exited (${child.exitCode ?? child.signalCode})`
        : 'did not answer /health with 200';
    throw new Error(`${this.name} (${this.main}) ${how} on port ${this.port}`);
  }

  /** /health as it answers now (200 or 503), its JSON parsed. */
  async health<H = EngineHealth>(): Promise<{ status: number; body: H }> {
    const response = await fetch(`${this.url}/health`);
    return { status: response.status, body: (await response.json()) as H };
  }

  /** A request as `user` (a token signed with the node's secret and the user's roles); JSON in and out. */
  async call(user: U, method: string, path: string, body?: unknown): Promise<Answer> {
    const { secret, users } = this.options;
    if (secret === undefined || users === undefined) throw new Error(`${this.name} has no secret or users to call as`);
    const roles = users[user];
    if (roles === undefined) throw new Error(`${this.name} knows no user ${user}`);
    const response = await fetch(this.url + path, {
      method,
      headers: {
        authorization: `Bearer ${signedToken(secret, user, roles)}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Sends `signal` and waits until the process has exited; nothing when it is not running. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  /** Dies without a word: no shutdown hook runs, nothing is flushed or committed. */
  kill(): Promise<void> {
    return this.stop('SIGKILL');
  }

  /** Asked to stop: the process closes its consumers, relays and store first. */
  terminate(): Promise<void> {
    return this.stop('SIGTERM');
  }
}

/**
 * Asks until `done` holds, `intervalMs` apart, for at most `timeoutMs` (default 60 s): only for what a process does
 * on its own time (an engine starting instances, a relay publishing), never instead of a minPosition read.
 */
export async function until<T>(
  ask: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  options: { timeoutMs?: number; intervalMs?: number; show?: (value: T) => string } = {},
): Promise<T> {
  const { timeoutMs = 60_000, intervalMs = 100 } = options;
  const show = options.show ?? ((value: T) => JSON.stringify(value));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await ask();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not reached in ${timeoutMs} ms, last answer ${show(value)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
