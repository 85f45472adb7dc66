import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const CHILD = join(__dirname, 'helpers', 'schedule-crash-child.cjs');
const ENGINE = resolve(__dirname, '../../dist/services/engine/src/index.js');

/** The built engine in a process of its own, at a fixed fake time; SIGKILLed inside the unit that fires a tick. */
function run(dataDir: string, now: string, env: Record<string, string> = {}) {
  const child = spawnSync(process.execPath, [CHILD], {
    env: { ...process.env, DATA_DIR: dataDir, NOW: now, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return {
    signal: child.signal,
    status: child.status,
    stderr: child.stderr,
    counts: child.stdout ? (JSON.parse(child.stdout) as { ticks: number; starts: number }) : undefined,
  };
}

describe('a schedule tick and SIGKILL (the built engine, the embedded SQLite store)', () => {
  let dataDir: string;
  beforeEach(() => {
    if (!existsSync(ENGINE)) throw new Error(`Build first (npm run build): ${ENGINE} is missing`);
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-schedule-crash-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('killed after recording the tick, then after its start, before either committed: the next run starts it exactly once', () => {
    expect(run(dataDir, '2026-11-29T12:00:00.000Z', { PUBLISH: '1' })).toMatchObject({
      status: 0,
      counts: { ticks: 0, starts: 0 },
    });
    expect(run(dataDir, '2026-11-30T06:00:00.000Z', { KILL: 'tick' })).toMatchObject({ signal: 'SIGKILL' });
    expect(run(dataDir, '2026-11-30T06:00:00.000Z', { KILL: 'start' })).toMatchObject({ signal: 'SIGKILL' });
    expect(run(dataDir, '2026-11-30T06:00:01.000Z')).toMatchObject({ status: 0, counts: { ticks: 1, starts: 1 } });
    // And never again, however often it runs in that week.
    expect(run(dataDir, '2026-12-03T00:00:00.000Z')).toMatchObject({ status: 0, counts: { ticks: 1, starts: 1 } });
  });
});
