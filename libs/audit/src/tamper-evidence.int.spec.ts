import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeEventHash,
  currentChainHead,
  hashedMetadata,
  logLinkHash,
  SqliteEventStore,
  type NewEvent,
} from '@lifeline/event-store';
import {
  appendAnchorToFile,
  generateAuditKey,
  parseAnchors,
  parseAuditKey,
  signAnchor,
  type Anchor,
  type AuditKey,
} from './anchors';
import { verifyHistory, type Finding, type HistoryVerification } from './verify';

/**
 * A store written by the SQLite adapter, anchored twice with a key kept elsewhere; each test alters
 * a COPY of the file with plain SQL, as someone with access to the data dir would, and verifies it.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-tamper-data-'));
const vault = mkdtempSync(join(tmpdir(), 'lifeline-tamper-vault-'));
const original = join(dataDir, 'events.db');
const anchorsFile = join(vault, 'anchors.jsonl');
const key: AuditKey = parseAuditKey(generateAuditKey().privatePem);
let head = 0;

const event = (type: string, data: unknown = {}): NewEvent => ({
  id: randomUUID(),
  type,
  data,
  metadata: { correlationId: 'c-1', causationId: 'c-1', actor: 'alice', at: '2026-11-21T10:00:00.000Z' },
});

beforeAll(async () => {
  const store = SqliteEventStore.open(original);
  const append = (streamId: string, ...events: NewEvent[]) =>
    store.append({ streamId, events, expectedRevision: 'any' });
  await append('entity-Invoice-INV-1', event('EntityEventRecorded', { amount: 1200 }));
  await append('instance-1', event('InstanceStarted'), event('TaskCreated', { taskId: 't-1' }));
  await append('entity-Invoice-INV-2', event('EntityEventRecorded', { amount: 5 }));
  await append('instance-2', event('InstanceStarted'));
  await append('instance-1', event('TaskCompleted', { result: 'Approve' }), event('DecisionTaken', { next: 'pay' }));
  appendAnchorToFile(anchorsFile, signAnchor(await currentChainHead(store), '2026-11-21T10:05:00.000Z', key));
  await append('instance-2', event('TaskCreated', { taskId: 't-2' }));
  await append('entity-Invoice-INV-1', event('EntityEventRecorded', { amount: 1300 }));
  await append('instance-3', event('InstanceStarted'), event('InstanceCompleted'));
  head = await store.headPosition();
  appendAnchorToFile(anchorsFile, signAnchor(await currentChainHead(store), '2026-11-21T10:10:00.000Z', key));
  await store.close();
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(vault, { recursive: true, force: true });
});

/** A copy of the store, altered by `tamper` with plain SQL, then verified against the anchors. */
async function verifyCopy(
  tamper: (db: Database.Database) => void,
  anchorsText = readFileSync(anchorsFile, 'utf8'),
  withAnchors = true,
): Promise<HistoryVerification> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-tamper-copy-'));
  try {
    const copy = join(dir, 'events.db');
    copyFileSync(original, copy);
    if (existsSync(`${original}-wal`)) copyFileSync(`${original}-wal`, `${copy}-wal`);
    const db = new Database(copy);
    try {
      tamper(db);
    } finally {
      db.close();
    }
    const store = SqliteEventStore.open(copy);
    try {
      return await verifyHistory(store, withAnchors ? { anchors: parseAnchors(anchorsText), key } : {});
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  position: number;
  id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  chain_prev: number | null;
  chain_hash: string | null;
}

const rows = (db: Database.Database): Row[] => db.prepare('SELECT * FROM events ORDER BY position').all() as Row[];
const streamRows = (db: Database.Database, streamId: string): Row[] => rows(db).filter((r) => r.stream_id === streamId);

/** What someone who knows the algorithm does after an edit: recompute the stream's hashes from `fromRevision` on. */
function recomputeStream(db: Database.Database, streamId: string): void {
  let prevHash = '';
  for (const row of streamRows(db, streamId)) {
    const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
    const hash = computeEventHash(prevHash, {
      id: row.id,
      streamId: row.stream_id,
      revision: row.revision,
      type: row.type,
      data: JSON.parse(row.data),
      metadata: hashedMetadata(metadata),
    });
    db.prepare('UPDATE events SET metadata = ? WHERE position = ?').run(
      JSON.stringify({ ...metadata, prevHash, hash }),
      row.position,
    );
    prevHash = hash;
  }
}

/** ... and then the global chain too, over whatever events are left, so every link holds again. */
function recomputeGlobalChain(db: Database.Database): void {
  let prev = { position: 0, hash: '' };
  for (const row of rows(db)) {
    const eventHash = (JSON.parse(row.metadata) as { hash: string }).hash;
    const hash = logLinkHash(prev.hash, row.position, prev.position, eventHash);
    db.prepare('UPDATE events SET chain_prev = ?, chain_hash = ? WHERE position = ?').run(
      prev.position,
      hash,
      row.position,
    );
    prev = { position: row.position, hash };
  }
}

const kinds = (report: HistoryVerification): string[] => [...new Set(report.findings.map((f) => f.kind))].sort();
const findingOf = (report: HistoryVerification, kind: Finding['kind']): Finding | undefined =>
  report.findings.find((f) => f.kind === kind);

describe('tamper evidence: the global chain and signed anchors on a copy of a SQLite store', () => {
  it('an untouched copy verifies OK, with both anchors checked and every position linked', async () => {
    const report = await verifyCopy(() => undefined);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      streams: 5,
      events: 11,
      chain: { kind: 'stored', firstChained: 1, headPosition: head, legacyEvents: 0 },
      anchors: { checked: 2, keyId: key.keyId, lastPosition: head },
    });
  });

  it('names an event edited in place (its hash no longer matches its content)', async () => {
    const report = await verifyCopy((db) => {
      db.prepare("UPDATE events SET data = json_set(data, '$.result', 'Reject') WHERE type = 'TaskCompleted'").run();
    });
    expect(kinds(report)).toEqual(['edited']);
    expect(findingOf(report, 'edited')).toMatchObject({ streamId: 'instance-1', revision: 2 });
    expect(findingOf(report, 'edited')!.message).toContain('hash does not match the event content');
  });

  it('names the last event of a stream deleted (its stream chain still holds; the next global link does not)', async () => {
    let deleted = 0;
    const report = await verifyCopy((db) => {
      const last = streamRows(db, 'instance-2').at(-1)!;
      deleted = last.position;
      db.prepare('DELETE FROM events WHERE position = ?').run(deleted);
      db.prepare('UPDATE streams SET revision = revision - 1 WHERE stream_id = ?').run('instance-2');
    });
    expect(deleted).toBe(8);
    expect(kinds(report)).toEqual(['deleted']);
    expect(report.findings.map((f) => f.message)).toEqual([
      `chain link broken at position 9: it follows position 8, but the event before it is at position 7: ` +
        `events at positions 8 were deleted`,
      // The anchor taken after it counted one more event than the log now holds.
      `the anchor signed on 2026-11-21T10:10:00.000Z counted 11 events up to position ${head}; the log holds 10`,
    ]);
    expect(report.findings[0]).toMatchObject({ position: 9, streamId: 'entity-Invoice-INV-1', revision: 1 });
  });

  it('names a whole stream deleted', async () => {
    let positions: number[] = [];
    const report = await verifyCopy((db) => {
      positions = streamRows(db, 'instance-2').map((r) => r.position);
      db.prepare('DELETE FROM events WHERE stream_id = ?').run('instance-2');
      db.prepare('DELETE FROM streams WHERE stream_id = ?').run('instance-2');
    });
    expect(positions).toHaveLength(2);
    const deletedAt = report.findings.filter((f) => f.kind === 'deleted' && f.streamId !== undefined);
    expect(deletedAt.map((f) => f.position)).toEqual(positions.map((p) => p + 1));
    expect(report.streams).toBe(4);
    expect(kinds(report)).toEqual(['deleted']);
  });

  it('names the head of the log cut off (truncation): only the anchor knows the log was longer', async () => {
    const withoutAnchors = await verifyCopy(
      (db) => db.prepare('DELETE FROM events WHERE position > ?').run(head - 2),
      undefined,
      false,
    );
    expect(withoutAnchors.ok).toBe(true);

    const report = await verifyCopy((db) => db.prepare('DELETE FROM events WHERE position > ?').run(head - 2));
    expect(kinds(report)).toEqual(['truncated']);
    expect(report.findings[0]!.message).toBe(
      `the log ends at position ${head - 2}, before position ${head} signed on 2026-11-21T10:10:00.000Z ` +
        `(11 events then; 9 now): events at the head of the log were removed`,
    );
  });

  it('names a cut log that was appended to again (the positions jump over the removed events)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-tamper-rewound-'));
    try {
      const copy = join(dir, 'events.db');
      copyFileSync(original, copy);
      const db = new Database(copy);
      db.prepare('DELETE FROM events WHERE position > ?').run(head - 2);
      db.close();
      const store = SqliteEventStore.open(copy);
      const appended = await store.append({
        streamId: 'instance-4',
        events: [event('InstanceStarted')],
        expectedRevision: 'no-stream',
      });
      expect(appended.position).toBe(head + 1);
      const report = await verifyHistory(store, { anchors: parseAnchors(readFileSync(anchorsFile, 'utf8')), key });
      await store.close();
      expect(report.findings.map((f) => [f.kind, f.position])).toEqual([
        ['truncated', head],
        ['deleted', head + 1],
      ]);
      expect(report.findings[0]!.message).toBe(
        `the log was cut back to position ${head - 2}, before position ${head} signed on 2026-11-21T10:10:00.000Z, ` +
          `and appended to again`,
      );
      expect(report.findings[1]!.message).toContain(`positions ${head - 1}..${head} are missing`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names an event edited and its stream's hashes recomputed: the global chain recorded the old hashes", async () => {
    let edited = 0;
    const report = await verifyCopy((db) => {
      const target = streamRows(db, 'instance-1').find((r) => r.type === 'TaskCompleted')!;
      edited = target.position;
      db.prepare("UPDATE events SET data = json_set(data, '$.result', 'Reject') WHERE position = ?").run(edited);
      recomputeStream(db, 'instance-1');
    });
    expect(kinds(report)).toEqual(['rehashed']);
    // The edited event and the one after it in its stream (whose prevHash, hence hash, changed).
    expect(report.findings.map((f) => f.position)).toEqual([edited, edited + 1]);
    expect(report.findings[0]).toMatchObject({ streamId: 'instance-1', revision: 2 });
  });

  it('names history recomputed consistently (both chains hold): only the signed anchors disagree', async () => {
    const rewrite = (db: Database.Database) => {
      db.prepare("UPDATE events SET data = json_set(data, '$.result', 'Reject') WHERE type = 'TaskCompleted'").run();
      recomputeStream(db, 'instance-1');
      recomputeGlobalChain(db);
    };
    const withoutAnchors = await verifyCopy(rewrite, undefined, false);
    expect(withoutAnchors.ok).toBe(true);
    expect(withoutAnchors.anchors).toEqual({ checked: 0, notChecked: 'no key (LIFELINE_AUDIT_KEY or --key)' });

    const report = await verifyCopy(rewrite);
    expect(kinds(report)).toEqual(['recomputed']);
    expect(report.findings.map((f) => f.position)).toEqual([7, head]);
  });

  it('names a deleted stream whose chains were then recomputed by the anchors (hash and event count)', async () => {
    const report = await verifyCopy((db) => {
      db.prepare('DELETE FROM events WHERE stream_id = ?').run('instance-2');
      recomputeGlobalChain(db);
    });
    expect(kinds(report)).toEqual(['deleted', 'recomputed']);
    expect(report.findings.map((f) => [f.kind, f.position])).toEqual([
      ['deleted', 6], // 6 follows 4: position 5 is missing
      ['recomputed', 7],
      ['deleted', 7], // the anchor's count
      ['deleted', 9],
      ['recomputed', head],
      ['deleted', head],
    ]);
    expect(report.findings[2]!.message).toBe(
      'the anchor signed on 2026-11-21T10:05:00.000Z counted 7 events up to position 7; the log holds 6',
    );
  });

  it('names an event taken out of the global chain (a gap)', async () => {
    const report = await verifyCopy((db) =>
      db.prepare('UPDATE events SET chain_prev = NULL, chain_hash = NULL WHERE position = 4').run(),
    );
    expect(kinds(report)).toEqual(['gap']);
    expect(report.findings[0]!.message).toBe(
      'position 4 (stream entity-Invoice-INV-2 revision 0) has no link in the global chain',
    );
  });

  it('names an altered anchor (bad signature) and an anchor of another key, and checks the rest', async () => {
    const [first, second] = readFileSync(anchorsFile, 'utf8').trim().split('\n');
    const altered = { ...(JSON.parse(second!) as Anchor), globalHash: '0'.repeat(64) };
    const stranger = parseAuditKey(generateAuditKey().privatePem);
    const foreign = signAnchor(
      { position: 3, globalHash: 'f'.repeat(64), eventCount: 3 },
      '2026-11-21T10:07:00.000Z',
      stranger,
    );
    const text = [first, JSON.stringify(altered), JSON.stringify(foreign), 'not json'].join('\n');
    const report = await verifyCopy(() => undefined, text);
    expect(kinds(report)).toEqual(['bad-signature']);
    expect(report.findings.map((f) => f.message)).toEqual([
      'anchors line 4: not JSON',
      `anchors line 2 (position ${head}, 2026-11-21T10:10:00.000Z): the signature does not hold: the anchor was altered`,
      `anchors line 3 (position 3, 2026-11-21T10:07:00.000Z): signed by key ${stranger.keyId}, not by ${key.keyId}`,
    ]);
    expect(report.anchors).toEqual({ checked: 1, keyId: key.keyId, lastPosition: 7 });
  });
});

describe('a store written before the global chain (legacy)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-legacy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Schema version 1, as the store wrote it before the chain: events with their stream chains only. */
  function writeLegacyStore(file: string): void {
    const db = new Database(file);
    db.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1);
      CREATE TABLE streams (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
        stream_id TEXT NOT NULL REFERENCES streams(stream_id), revision INTEGER NOT NULL, type TEXT NOT NULL,
        data TEXT NOT NULL, metadata TEXT NOT NULL, UNIQUE (stream_id, revision));`);
    let prevHash = '';
    for (let revision = 0; revision < 3; revision++) {
      const e = event('Legacy', { n: revision });
      const metadata = { ...e.metadata, messageId: e.id };
      const hash = computeEventHash(prevHash, {
        id: e.id,
        streamId: 'old-1',
        revision,
        type: e.type,
        data: e.data,
        metadata,
      });
      db.prepare('INSERT INTO streams VALUES (?, ?) ON CONFLICT DO UPDATE SET revision = excluded.revision').run(
        'old-1',
        revision,
      );
      db.prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)').run(
        e.id,
        'old-1',
        revision,
        e.type,
        JSON.stringify(e.data),
        JSON.stringify({ ...metadata, hash, prevHash }),
      );
      prevHash = hash;
    }
    db.close();
  }

  it('reports the unchained events before the first chained position and checks every chained event', async () => {
    const file = join(dir, 'events.db');
    writeLegacyStore(file);
    const store = SqliteEventStore.open(file);
    await store.append({
      streamId: 'new-1',
      events: [event('A'), event('B'), event('C')],
      expectedRevision: 'no-stream',
    });
    const legacyAnchors = join(dir, 'anchors.jsonl');
    writeFileSync(
      legacyAnchors,
      JSON.stringify(signAnchor(await currentChainHead(store), '2026-11-21T11:00:00.000Z', key)) + '\n',
    );
    const ok = await verifyHistory(store, { anchors: parseAnchors(readFileSync(legacyAnchors, 'utf8')), key });
    expect(ok).toMatchObject({
      ok: true,
      events: 6,
      chain: { kind: 'stored', firstChained: 4, legacyEvents: 3, headPosition: 6 },
      anchors: { checked: 1 },
    });
    await store.close();

    // A chained event deleted is found; a legacy event deleted is found by the anchor's count.
    const db = new Database(file);
    db.prepare('DELETE FROM events WHERE position IN (2, 5)').run();
    db.close();
    const reopened = SqliteEventStore.open(file);
    const report = await verifyHistory(reopened, { anchors: parseAnchors(readFileSync(legacyAnchors, 'utf8')), key });
    await reopened.close();
    expect(report.findings.map((f) => [f.kind, f.position])).toEqual([
      ['deleted', 3], // old-1 revision 2 follows revision 0 in its stream chain
      ['deleted', 6], // new-1 revision 2 follows revision 0
      ['deleted', 6], // the global link of position 6 names position 5
      ['deleted', 6], // the anchor counted 6 events, the log holds 4
    ]);
    expect(report.findings.map((f) => f.message)).toEqual([
      expect.stringMatching(/^stream old-1 revision 2 event .*: expected revision 1, found 2$/),
      expect.stringMatching(/^stream new-1 revision 2 event .*: expected revision 1, found 2$/),
      'chain link broken at position 6: it follows position 5, but the event before it is at position 4: events at positions 5 were deleted',
      'the anchor signed on 2026-11-21T11:00:00.000Z counted 6 events up to position 6; the log holds 4',
    ]);
  });
});

describe('a store that keeps no global chain (as EventStoreDB): anchors of the chain derived from the log', () => {
  /** The port's reads only: verify and the anchors derive the chain, as they do on EventStoreDB. */
  const unchained = (store: SqliteEventStore) => ({
    readAll: store.readAll.bind(store),
    readStream: store.readStream.bind(store),
    headPosition: store.headPosition.bind(store),
  });

  async function verifyUnchainedCopy(tamper: (db: Database.Database) => void): Promise<HistoryVerification> {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-derived-'));
    try {
      const file = join(dir, 'events.db');
      copyFileSync(original, file);
      const store = SqliteEventStore.open(file);
      const anchor = signAnchor(await currentChainHead(unchained(store)), '2026-11-21T12:00:00.000Z', key);
      expect(anchor).toMatchObject({ position: head, eventCount: 11 });
      await store.close();
      const db = new Database(file);
      tamper(db);
      db.close();
      const tampered = SqliteEventStore.open(file);
      try {
        return await verifyHistory(unchained(tampered), { anchors: parseAnchors(JSON.stringify(anchor)), key });
      } finally {
        await tampered.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('verifies an untouched log against the anchor of its derived chain', async () => {
    const report = await verifyUnchainedCopy(() => undefined);
    expect(report).toMatchObject({ ok: true, chain: { kind: 'derived', headPosition: head }, anchors: { checked: 1 } });
  });

  it('names history rewritten with its stream hashes recomputed (seen as a whole, at the anchor)', async () => {
    const report = await verifyUnchainedCopy((db) => {
      db.prepare("UPDATE events SET data = json_set(data, '$.amount', 1) WHERE position = 1").run();
      recomputeStream(db, 'entity-Invoice-INV-1');
    });
    expect(report.findings.map((f) => [f.kind, f.position])).toEqual([['recomputed', head]]);
  });

  it('names a stream deleted and the head of the log cut off', async () => {
    const deleted = await verifyUnchainedCopy((db) =>
      db.prepare("DELETE FROM events WHERE stream_id = 'instance-2'").run(),
    );
    expect(kinds(deleted)).toEqual(['deleted', 'recomputed']);
    const cut = await verifyUnchainedCopy((db) => db.prepare('DELETE FROM events WHERE position = ?').run(head));
    expect(kinds(cut)).toEqual(['truncated']);
  });
});
