import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyHistory, HistoryDiverged } from './copy-history';
import type { NewEvent, StoredEvent } from './event-store';
import { verifyStream } from './hash-chain';
import { SqliteEventStore } from './sqlite/sqlite-event-store';

class CopyInterrupted extends Error {}

function event(type: string, data: unknown, actor: string): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { correlationId: `corr-${actor}`, causationId: randomUUID(), actor, at: '2026-11-21T10:00:00.000Z' },
  };
}

/** Events as history: what must be equal in both stores (positions are each store's own). */
function history(events: StoredEvent[]): unknown[] {
  return events.map(({ position: _position, ...rest }) => rest);
}

describe('copyHistory (SQLite file -> another SQLite file)', () => {
  let dir: string;
  let source: SqliteEventStore;
  let target: SqliteEventStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-copy-history-'));
    source = SqliteEventStore.open(join(dir, 'source.db'));
    target = SqliteEventStore.open(join(dir, 'target.db'));
    // Interleaved streams, so the global order differs from any stream-by-stream order.
    for (let round = 0; round < 40; round++) {
      for (const streamId of ['entity-Invoice-7', `instance-${round % 3}`, 'definition-invoice-approval']) {
        await source.append({
          streamId,
          events: [
            event('Happened', { round, streamId, nested: { z: 1, a: [round] } }, round % 2 ? 'alice' : 'system'),
          ],
          expectedRevision: 'any',
        });
      }
      if (round % 10 === 0) {
        await source.append({
          streamId: `instance-extra-${round}`,
          events: [event('A', {}, 'bob'), event('B', { x: null }, 'bob')],
          expectedRevision: 'no-stream',
        });
      }
    }
  });

  afterEach(async () => {
    await source.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the whole log in order, resumes after an interruption, and both checksums agree', async () => {
    const sourceEvents = await source.readAll(0, 10_000);
    expect(sourceEvents).toHaveLength(128);

    const progress: number[] = [];
    const interrupted = copyHistory(source, target, {
      batchSize: 25,
      onProgress: (done, total) => {
        progress.push(done);
        expect(total).toBe(128);
        if (done >= 50) throw new CopyInterrupted();
      },
    });
    await expect(interrupted).rejects.toBeInstanceOf(CopyInterrupted);
    expect(progress).toEqual([25, 50]);
    expect(await target.readAll(0, 10_000)).toHaveLength(50);

    const seen: number[] = [];
    const result = await copyHistory(source, target, { batchSize: 25, onProgress: (done) => seen.push(done) });

    expect(result.skipped).toBe(50);
    expect(result.copied).toBe(78);
    expect(seen.at(-1)).toBe(128);
    expect(result.sourceChecksum).toMatch(/^[0-9a-f]{64}$/);
    expect(result.targetChecksum).toBe(result.sourceChecksum);

    const targetEvents = await target.readAll(0, 10_000);
    expect(history(targetEvents)).toEqual(history(sourceEvents));
    expect(targetEvents[0]!.metadata).toMatchObject({ actor: 'system', correlationId: 'corr-system' });
    const streams = [...new Set(targetEvents.map((e) => e.streamId))];
    for (const streamId of streams) expect(verifyStream(await target.readStream(streamId))).toEqual({ ok: true });
  });

  it('a second run over a complete copy copies nothing', async () => {
    await copyHistory(source, target, { batchSize: 50 });
    const again = await copyHistory(source, target, { batchSize: 50 });
    expect(again).toMatchObject({ copied: 0, skipped: 128 });
    expect(again.targetChecksum).toBe(again.sourceChecksum);
  });

  it('refuses to continue over a target whose history differs from the source', async () => {
    await target.append({
      streamId: 'entity-Invoice-7',
      events: [event('Other', {}, 'mallory')],
      expectedRevision: 'no-stream',
    });
    await expect(copyHistory(source, target, {})).rejects.toBeInstanceOf(HistoryDiverged);
  });

  it('the checksums differ when the target holds something else', async () => {
    await target.append({
      streamId: 'unrelated-1',
      events: [event('Other', {}, 'mallory')],
      expectedRevision: 'no-stream',
    });
    const result = await copyHistory(source, target, {});
    expect(result.copied).toBe(128);
    expect(result.targetChecksum).not.toBe(result.sourceChecksum);
  });
});
