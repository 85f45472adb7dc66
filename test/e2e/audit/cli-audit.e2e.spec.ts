import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@lifeline/engine';
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
      `BROKEN [edited]: stream instance-${instanceId} revision ${target.revision} event ${target.id}: hash does not match the event content`,
    );
    expect(broken.stdout).toContain('1 problem(s): edited 1');
    expect(broken.stdout).toContain('anchors: not checked (no key: set LIFELINE_AUDIT_KEY or pass --key');

    const oneStream = await cli(['audit', 'verify', '--stream', 'entity-Invoice-INV-8', '--data-dir', dataDir]);
    expect(oneStream).toMatchObject({ code: 0 });
    expect(oneStream.stdout).toMatch(/^OK: 1 stream\(s\), 1 event\(s\)/);
    expect((await cli(['audit', 'verify', '--stream', `instance-${instanceId}`, '--data-dir', dataDir])).code).toBe(1);
    lifeline = await startLifeline({ dataDir, demo: false });
  });

  it('verify names the last event of a stream deleted from the SQLite file, which every stream chain still accepts', async () => {
    await lifeline.stop();
    const db = new Database(join(dataDir, 'events.db'));
    const last = db
      .prepare('SELECT position, id FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1')
      .get('entity-Invoice-INV-7') as { position: number; id: string };
    const head = (db.prepare('SELECT MAX(position) AS head FROM events').get() as { head: number }).head;
    expect(last.position).toBeLessThan(head);
    db.prepare('DELETE FROM events WHERE position = ?').run(last.position);
    db.prepare("UPDATE streams SET revision = revision - 1 WHERE stream_id = 'entity-Invoice-INV-7'").run();
    db.close();

    const broken = await cli(['audit', 'verify', '--data-dir', dataDir]);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(
      new RegExp(`BROKEN \\[deleted\\]: chain link broken at position \\d+: it follows position ${last.position}, `),
    );
    const json = await cli(['audit', 'verify', '--json', '--data-dir', dataDir]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: false, counts: { deleted: 1 }, chain: { kind: 'stored', firstChained: 1 } });
    lifeline = await startLifeline({ dataDir, demo: false });
  });

  it('the engine and `audit anchor` sign the head with a key kept outside the data dir; verify holds a cut copy against them', async () => {
    const vault = mkdtempSync(join(tmpdir(), 'lifeline-audit-vault-'));
    const copyDir = mkdtempSync(join(tmpdir(), 'lifeline-audit-copy-'));
    try {
      const keyFile = join(vault, 'audit-key.pem');
      const anchorsFile = join(vault, 'anchors.jsonl');
      const keygen = await cli(['audit', 'keygen', '--out', keyFile, '--data-dir', dataDir]);
      expect(keygen.code).toBe(0);
      expect(keygen.stdout).toContain('-----BEGIN PUBLIC KEY-----');
      expect((statSync(keyFile).mode & 0o777).toString(8)).toBe('600');
      const env = { LIFELINE_AUDIT_KEY: keyFile, LIFELINE_AUDIT_ANCHORS_FILE: anchorsFile };

      await lifeline.stop();
      lifeline = await startLifeline({ dataDir, demo: false, env: { ...env, LIFELINE_AUDIT_ANCHOR_INTERVAL: '60' } });
      const anchors = lifeline.engine.anchors!;
      expect(await anchors.tick()).toBeUndefined(); // not due yet
      (lifeline.clock as FakeClock).advance(60_000);
      const periodic = await anchors.tick();
      expect(periodic).toMatchObject({ position: await lifeline.engine.store.headPosition(), keyId: anchors.keyId });
      (lifeline.clock as FakeClock).advance(60_000);
      expect(await anchors.tick()).toBeUndefined(); // due, but the head has not moved

      await record(lifeline, invoice('INV-9', 'evt-9', 'created', {}));
      const onDemand = await cli(['audit', 'anchor', '--data-dir', dataDir], env);
      expect(onDemand.code).toBe(0);
      const head = await lifeline.engine.store.headPosition();
      expect(JSON.parse(onDemand.stdout)).toMatchObject({ position: head, keyId: anchors.keyId });
      await lifeline.stop();

      const lines = readFileSync(anchorsFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      // The periodic one, the on-demand one, and the engine's last one on stop (the head moved since its own).
      expect(lines.map((l) => l.position)).toEqual([periodic!.position, head, head]);

      const ok = await cli(['audit', 'verify', '--data-dir', dataDir], env);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain(
        `anchors: 3 with a valid signature of key ${anchors.keyId}, the last at position ${head}`,
      );

      // Someone cuts the head of the log off a copy of the store.
      copyFileSync(join(dataDir, 'events.db'), join(copyDir, 'events.db'));
      const db = new Database(join(copyDir, 'events.db'));
      db.prepare('DELETE FROM events WHERE position > ?').run(head - 3);
      db.close();
      const unanchored = await cli(['audit', 'verify', '--data-dir', copyDir]);
      expect(unanchored.code).toBe(0);
      expect(unanchored.stdout).toContain('anchors: not checked');
      const cut = await cli(['audit', 'verify', '--data-dir', copyDir], env);
      expect(cut.code).toBe(1);
      expect(cut.stdout).toContain(`BROKEN [truncated]: the log ends at position ${head - 3}, before position ${head}`);

      // A key inside the data dir is refused, by the command and by the engine.
      const inside = join(dataDir, 'audit-key.pem');
      copyFileSync(keyFile, inside);
      const refused = await cli(['audit', 'verify', '--key', inside, '--data-dir', dataDir], env);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('AUDIT.KEY_IN_DATA_DIR');
      await expect(startLifeline({ dataDir, demo: false, env: { LIFELINE_AUDIT_KEY: inside } })).rejects.toMatchObject({
        code: 'AUDIT.KEY_IN_DATA_DIR',
      });
      lifeline = await startLifeline({ dataDir, demo: false });
    } finally {
      rmSync(vault, { recursive: true, force: true });
      rmSync(copyDir, { recursive: true, force: true });
    }
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
      ['audit', 'anchor'],
      ['audit', 'keygen'],
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
