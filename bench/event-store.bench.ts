/**
 * Append throughput of the SQLite event store: one event or 100 events per transaction, events/s
 * and CPU microseconds per event (each event is hashed into its stream chain and the global chain).
 * Not a test. Run: `npm run -s build && node dist/bench/event-store.bench.js`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../libs/event-store/src/event-store';
import { SqliteEventStore } from '../libs/event-store/src/sqlite/sqlite-event-store';

type EventIds = 'random' | 'ordered';

/** Ordered ids (UUIDv7-like: a counter in the high bits) keep the unique id index append-only. */
function eventId(kind: EventIds, n: number): string {
  if (kind === 'random') return randomUUID();
  return `${n.toString(16).padStart(12, '0')}-7000-8000-0000-000000000000`.replace(/^(.{8})(.{4})/, '$1-$2');
}

async function appendThroughput(
  synchronous: 'NORMAL' | 'FULL',
  ids: EventIds,
  batches: number,
  batchSize: number,
): Promise<{ eventsPerSecond: number; cpuMicrosPerEvent: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'), { synchronous });
  try {
    const batchesOfEvents: NewEvent[][] = [];
    for (let b = 0; b < batches; b++) {
      const events: NewEvent[] = [];
      for (let i = 0; i < batchSize; i++) {
        events.push({
          id: eventId(ids, b * batchSize + i),
          type: 'ActivityEntered',
          data: { instanceId: `i-${b}`, activityId: 'review', definitionKey: 'invoice-approval', version: 3, n: i },
          metadata: { correlationId: 'c-1', causationId: 'c-1', actor: 'system', at: '2026-11-21T10:00:00.000Z' },
        });
      }
      batchesOfEvents.push(events);
    }
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    for (let b = 0; b < batches; b++) {
      // A stream per batch, appended like a command handler does: with the expected revision.
      await store.append({ streamId: `instance-${b}`, events: batchesOfEvents[b]!, expectedRevision: 'no-stream' });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const events = batches * batchSize;
    // CPU per event is what the store costs; events/s also measures the disk and the neighbours.
    return {
      eventsPerSecond: Math.round(events / seconds),
      cpuMicrosPerEvent: Math.round(((used.user + used.system) / events) * 10) / 10,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const rows: {
    store: string;
    synchronous: string;
    eventIds: EventIds;
    batchSize: number;
    eventsPerSecond: number;
    cpuMicrosPerEvent: number;
  }[] = [];
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    for (const eventIds of ['random', 'ordered'] as const) {
      for (const batchSize of [1, 100]) {
        const batches = batchSize === 1 ? 5_000 : 1_000;
        const measured = await appendThroughput(synchronous, eventIds, batches, batchSize);
        rows.push({ store: 'sqlite', synchronous, eventIds, batchSize, ...measured });
      }
    }
  }
  console.table(rows);
}

void main();
