import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { cli, invoice, record } from './fixtures';

/** Every row of every read-model table, keyed by table, in a stable order. */
function rowsOf(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}" ORDER BY 1, 2`).all()]),
    );
  } finally {
    db.close();
  }
}

async function someHistory(lifeline: RunningLifeline): Promise<void> {
  for (let i = 1; i <= 5; i++) await record(lifeline, invoice(`INV-${i}`, `evt-${i}`, 'created', { amount: i * 1000 }));
  const tasks = (await lifeline.call('alice', 'GET', '/tasks')).body.items;
  await lifeline.call('alice', 'POST', `/tasks/${tasks[0].id}/complete`, { result: 'Approve' });
  await lifeline.call('alice', 'POST', `/tasks/${tasks[1].id}/claim`);
  await lifeline.settle();
}

describe('lifeline replay: rebuilt read models equal the live ones', () => {
  let dataDir: string;
  let lifeline: RunningLifeline | undefined;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-replay-'));
  });
  afterEach(async () => {
    await lifeline?.stop();
    lifeline = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('offline: rebuilds the stopped data dir into a new file with progress and ETA, and swaps it in with the same rows', async () => {
    lifeline = await startLifeline({ dataDir });
    await someHistory(lifeline);
    await lifeline.stop();
    lifeline = undefined;
    const served = join(dataDir, 'read-models.db');
    const live = rowsOf(served);
    expect(live.tasks!.length).toBe(5);

    const all = await cli(['replay', '--data-dir', dataDir]);
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/replay \[#+\] 100% \d+\/\d+ ETA/);
    expect(all.stdout).toMatch(/rebuilt all read models from \d+ events .* events\/s/);
    expect(rowsOf(served)).toEqual(live);

    const one = await cli(['replay', '--read-model', 'entity-timeline', '--data-dir', dataDir]);
    expect(one.code).toBe(0);
    expect(rowsOf(served)).toEqual(live);
    const unknown = await cli(['replay', '--read-model', 'nope', '--data-dir', dataDir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('AUDIT.UNKNOWN_READ_MODEL');

    // The server starts on the swapped file and serves the same list.
    lifeline = await startLifeline({ dataDir, demo: false });
    expect((await lifeline.call('alice', 'GET', '/tasks?status=all')).body.items).toHaveLength(5);
  });

  it('online: the server rebuilds into read-models-<timestamp>.db and switches; queries answer the same before and after', async () => {
    lifeline = await startLifeline({ dataDir });
    await someHistory(lifeline);
    const before = {
      tasks: (await lifeline.call('alice', 'GET', '/tasks?status=all')).body,
      timeline: (await lifeline.call('alice', 'GET', '/entities/Invoice/INV-1/timeline')).body,
      instances: (await lifeline.call('admin', 'GET', '/instances')).body,
    };
    const liveFile = lifeline.readModels.file;
    const rebuild = async (body: object) => {
      const answer = await lifeline!.call('admin', 'POST', '/admin/read-models/rebuild', body);
      expect(answer.status).toBe(200);
      return answer.body;
    };
    const result = await rebuild({});
    expect(result.file).toMatch(/read-models-\d{8}T\d+Z\.db$/);
    expect(lifeline.readModels.file).toBe(result.file);
    expect(lifeline.readModels.file).not.toBe(liveFile);
    expect({
      tasks: (await lifeline.call('alice', 'GET', '/tasks?status=all')).body,
      timeline: (await lifeline.call('alice', 'GET', '/entities/Invoice/INV-1/timeline')).body,
      instances: (await lifeline.call('admin', 'GET', '/instances')).body,
    }).toEqual(before);

    const single = await rebuild({ readModel: 'task-list' });
    expect(single.readModel).toBe('task-list');
    expect((await lifeline.call('alice', 'GET', '/tasks?status=all')).body).toEqual(before.tasks);

    // New events after the switch reach the new file.
    const position = await record(lifeline, invoice('INV-9', 'evt-9', 'created', {}));
    expect(
      (await lifeline.call('bob', 'GET', `/tasks?minPosition=${position}`)).body.items.some(
        (t: { entity: { id: string } }) => t.entity.id === 'INV-9',
      ),
    ).toBe(true);
  });
});
