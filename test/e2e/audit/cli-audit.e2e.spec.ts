import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLifeline, TEST_SECRET, type RunningLifeline } from '@lifeline/testing';
import { cli, invoice, record } from './fixtures';

describe('lifeline audit, token and copy-history on the embedded store', () => {
  let lifeline: RunningLifeline;
  let dataDir: string;
  let instanceId: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-audit-'));
    lifeline = await startLifeline({ dataDir });
    await record(lifeline, invoice('INV-7', 'evt-1', 'created', {}));
    await record(lifeline, invoice('INV-8', 'evt-2', 'created', { amount: 99 }));
    const task = (await lifeline.call('alice', 'GET', '/tasks?entityId=INV-7')).body.items[0];
    instanceId = task.instanceId;
    await lifeline.call('alice', 'POST', `/tasks/${task.id}/complete`, { result: 'Approve' });
    await lifeline.settle();
  });
  afterEach(async () => {
    await lifeline.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('verify passes on an untouched store, then names the first broken link of an event altered in the SQLite file', async () => {
    const ok = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^OK: \d+ stream\(s\), \d+ event\(s\)/);
    await lifeline.stop();

    const db = new Database(join(dataDir, 'events.db'));
    const target = db
      .prepare("SELECT id, revision FROM events WHERE stream_id = ? AND type = 'TaskCompleted'")
      .get(`instance-${instanceId}`) as { id: string; revision: number };
    // Someone rewrites history: the review was a rejection.
    db.prepare("UPDATE events SET data = json_set(data, '$.result', 'Reject') WHERE id = ?").run(target.id);
    db.close();

    const broken = await cli(['audit', 'verify'], { LIFELINE_DATA_DIR: dataDir });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(
      `BROKEN: stream instance-${instanceId} revision ${target.revision} event ${target.id}: hash does not match the event content`,
    );
    expect(broken.stdout).toContain('1 of ');

    const oneStream = await cli(['audit', 'verify', '--stream', 'entity-Invoice-INV-8', '--data-dir', dataDir]);
    expect(oneStream).toMatchObject({ code: 0 });
    expect(oneStream.stdout).toMatch(/^OK: 1 stream\(s\), 1 event\(s\)/);
    expect((await cli(['audit', 'verify', '--stream', `instance-${instanceId}`, '--data-dir', dataDir])).code).toBe(1);
    lifeline = await startLifeline({ dataDir, demo: false });
  });

  it('export writes the record and every instance about it as JSON lines in global order, with the hash chain', async () => {
    const out = await cli(['audit', 'export', '--entity', 'Invoice:INV-7', '--data-dir', dataDir]);
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const positions = lines.map((l) => l.position);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(new Set(lines.map((l) => l.streamId))).toEqual(new Set(['entity-Invoice-INV-7', `instance-${instanceId}`]));
    expect(lines[0]).toMatchObject({ type: 'EntityEventRecorded', revision: 0, metadata: { prevHash: '' } });
    expect(lines.map((l) => l.type)).toEqual(
      expect.arrayContaining(['InstanceStarted', 'TaskCreated', 'TaskCompleted', 'DecisionTaken', 'WaitStarted']),
    );
    for (const line of lines) expect(line.metadata.hash).toMatch(/^[0-9a-f]{64}$/);
    const history = (await lifeline.call('admin', 'GET', `/instances/${instanceId}/history`)).body.items;
    expect(lines.filter((l) => l.streamId === `instance-${instanceId}`).map((l) => l.position)).toEqual(
      history.map((h: { position: number }) => h.position),
    );

    const file = join(dataDir, 'export.jsonl');
    const toFile = await cli(['audit', 'export', '--instance', instanceId, '--out', file, '--data-dir', dataDir]);
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(history.length);

    const misuse = await cli(['audit', 'export', '--entity', 'INV-7', '--data-dir', dataDir]);
    expect(misuse.code).toBe(2);
    expect(misuse.stderr).toContain('AUDIT.INVALID_SUBJECT');
  });

  it('token signs a JWT the server accepts; copy-history copies every event and prints two equal checksums', async () => {
    const token = await cli(['token', 'bob', '--roles', 'accounting', '--secret', TEST_SECRET]);
    expect(token.code).toBe(0);
    const list = await lifeline.call(token.stdout.trim(), 'GET', '/tasks?status=all');
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    const stranger = await cli([
      'token',
      'bob',
      '--roles',
      'accounting',
      '--secret',
      'another-secret-0123456789abcdef',
    ]);
    expect((await lifeline.call(stranger.stdout.trim(), 'GET', '/tasks')).status).toBe(401);

    const copy = join(dataDir, 'copy.db');
    const run = await cli([
      'copy-history',
      '--from',
      `sqlite:${join(dataDir, 'events.db')}`,
      '--to',
      `sqlite:${copy}`,
      '--batch-size',
      '7',
    ]);
    expect(run.code).toBe(0);
    const [source, target] = [/source checksum: ([0-9a-f]{64})/, /target checksum: ([0-9a-f]{64})/].map(
      (r) => r.exec(run.stdout)?.[1],
    );
    expect(source).toBeDefined();
    expect(target).toBe(source);
    expect(run.stderr).toContain('ETA');
    const head = await lifeline.engine.store.headPosition();
    expect(run.stdout).toContain(`copied ${head} event(s), 0 already there`);
    // Resumable: a second run finds everything there.
    const again = await cli([
      'copy-history',
      '--from',
      `sqlite:${join(dataDir, 'events.db')}`,
      '--to',
      `sqlite:${copy}`,
    ]);
    expect(again.stdout).toContain(`copied 0 event(s), ${head} already there`);
  });

  it('every subcommand has --help; an unknown command is a usage error', async () => {
    for (const argv of [
      [],
      ['audit'],
      ['audit', 'verify'],
      ['audit', 'export'],
      ['replay'],
      ['what-if'],
      ['copy-history'],
      ['token'],
    ]) {
      const help = await cli([...argv, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Usage: lifeline');
    }
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['audit', 'verify', '--data-dir', join(dataDir, 'nowhere')])).stderr).toContain(
      'No event store at',
    );
  });
});
