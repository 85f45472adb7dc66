import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import jwt from 'jsonwebtoken';

jest.setTimeout(90_000);

const MAIN = join(resolve(__dirname, '../..'), 'dist/services/embedded/src/main.js');
const JWT = /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/;
const SECRET = 'configured-secret-for-lifeline-0123456789';

const freePort = () =>
  new Promise<number>((done) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });

interface Started {
  url: string;
  banner: string;
  server: ChildProcess;
}

/** The built `npm start` server on a data dir, just spawned; `banner` resolves once its start banner is out. */
async function spawnServer(
  dataDir: string,
  env: Record<string, string>,
): Promise<{ url: string; server: ChildProcess; banner: Promise<string> }> {
  if (!existsSync(MAIN)) throw new Error(`Build first (npm run build): ${MAIN} is missing`);
  const port = await freePort();
  const { LIFELINE_JWT_SECRET: _secret, LIFELINE_TOKEN_MAX_LIFETIME: _cap, ...inherited } = process.env;
  const server = spawn(process.execPath, [MAIN], {
    env: { ...inherited, PORT: String(port), LIFELINE_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let text = '';
  const banner = new Promise<string>((ready, fail) => {
    server.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (/Lifeline is running[\s\S]*\n\n$/.test(text)) ready(text);
    });
    server.once('exit', (code) => fail(new Error(`server exited with ${code}: ${text}`)));
  });
  banner.catch(() => undefined);
  return { url: `http://127.0.0.1:${port}`, server, banner };
}

/** The built `npm start` server on a data dir; resolves once its start banner is out. */
async function start(dataDir: string, env: Record<string, string>): Promise<Started> {
  const { url, server, banner } = await spawnServer(dataDir, env);
  return { url, banner: await banner, server };
}

/** Asks `/health` every few milliseconds from the spawn on: the first answer a client can get. */
async function firstAnswer(url: string, server: ChildProcess): Promise<{ head: number }> {
  while (server.exitCode === null) {
    const answered = await fetch(`${url}/health`).catch(() => undefined);
    if (answered?.ok) return (await answered.json()) as { head: number };
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`server exited with ${server.exitCode}`);
}

const stop = (server: ChildProcess) =>
  new Promise<void>((done) => {
    if (server.exitCode !== null) return done();
    server.once('exit', () => done());
    server.kill('SIGTERM');
  });

describe('the embedded start and demo tokens', () => {
  let dataDir: string;
  let running: Started | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-start-'));
  });
  afterEach(async () => {
    if (running) await stop(running.server);
    running = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('with LIFELINE_JWT_SECRET set, prints no token, writes none, and removes demo tokens of an earlier dev run', async () => {
    const stale = join(dataDir, 'demo-tokens.json');
    const old = jwt.sign({ sub: 'admin', roles: ['admin'] }, 'an-earlier-dev-secret', { expiresIn: '30d' });
    writeFileSync(stale, JSON.stringify({ admin: old }));

    running = await start(dataDir, { LIFELINE_JWT_SECRET: SECRET });
    expect(running.banner).not.toMatch(JWT);
    expect(running.banner).toContain('JWT secret: from LIFELINE_JWT_SECRET; no demo users, no tokens printed');
    expect(running.banner).toContain(`removed ${stale}: demo tokens of an earlier development run`);
    expect(existsSync(stale)).toBe(false);

    const demo = await fetch(`${running.url}/auth/demo-users`);
    expect(demo.status).toBe(404);
    expect(((await demo.json()) as { error: { code: string } }).error.code).toBe('AUTH.NO_DEMO_USERS');
    const mine = jwt.sign({ sub: 'ops', roles: ['admin'] }, SECRET, { expiresIn: '1h' });
    const me = await fetch(`${running.url}/auth/me`, { headers: { authorization: `Bearer ${mine}` } });
    expect(me.status).toBe(200);
    const before = await fetch(`${running.url}/auth/me`, { headers: { authorization: `Bearer ${old}` } });
    expect(before.status).toBe(401);

    // A restart with the secret still writes nothing.
    await stop(running.server);
    running = await start(dataDir, { LIFELINE_JWT_SECRET: SECRET });
    expect(running.banner).not.toMatch(JWT);
    expect(running.banner).not.toContain('removed');
    expect(existsSync(stale)).toBe(false);
  });

  it('publishes the demo definitions before it answers its first request', async () => {
    const { url, server, banner } = await spawnServer(dataDir, { LIFELINE_JWT_SECRET: SECRET });
    running = { url, server, banner: '' };
    const first = await firstAnswer(url, server);
    await banner;
    const admin = jwt.sign({ sub: 'ops', roles: ['admin'] }, SECRET, { expiresIn: '1h' });
    const listed = await fetch(`${url}/definitions`, { headers: { authorization: `Bearer ${admin}` } });
    const { items } = (await listed.json()) as { items: { key: string }[] };
    expect(items.map((d) => d.key).sort()).toEqual(['complaint-handling', 'customer-onboarding', 'invoice-approval']);
    // The start's own writes were all done before its first answer.
    const later = (await (await fetch(`${url}/health`)).json()) as { head: number };
    expect(first.head).toBe(later.head);
  });

  it('with the development secret, issues demo tokens within the lifetime cap, and the picker issues fresh ones', async () => {
    running = await start(dataDir, { LIFELINE_TOKEN_MAX_LIFETIME: 'PT2H' });
    expect(running.banner).toContain('demo tokens, valid for 2 h');
    const tokens = JSON.parse(readFileSync(join(dataDir, 'demo-tokens.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(tokens)).toEqual(['admin', 'app', 'alice', 'bob', 'carol', 'dave']);
    for (const token of Object.values(tokens)) {
      expect(running.banner).toContain(token);
      const { iat, exp } = jwt.decode(token) as { iat: number; exp: number };
      expect(exp - iat).toBe(7200);
    }
    const picker = (await (await fetch(`${running.url}/auth/demo-users`)).json()) as { id: string; token: string }[];
    expect(picker.map((u) => u.id)).toEqual(['admin', 'app', 'alice', 'bob', 'carol', 'dave']);
    for (const user of picker) {
      const { iat, exp } = jwt.decode(user.token) as { iat: number; exp: number };
      expect(exp - iat).toBe(7200);
      expect(iat).toBeGreaterThanOrEqual((jwt.decode(tokens[user.id]!) as { iat: number }).iat);
      const me = await fetch(`${running.url}/auth/me`, { headers: { authorization: `Bearer ${user.token}` } });
      expect(((await me.json()) as { id: string }).id).toBe(user.id);
    }
  });
});
