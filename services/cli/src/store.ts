import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openEventStore, SqliteEventStore, type EventStore } from '@lifeline/event-store';
import { CliUsageError, type CliIo } from './io';

/** `--data-dir`, else LIFELINE_DATA_DIR, else ./data (as the server). */
export const dataDirOf = (option: string | undefined, io: CliIo): string =>
  resolve(io.cwd, option ?? io.env.LIFELINE_DATA_DIR ?? './data');

/**
 * The configured event store, as the server opens it: the embedded SQLite file of the data dir,
 * or EventStoreDB when LIFELINE_EVENT_STORE=eventstoredb (EVENTSTORE_URL).
 */
export async function openConfiguredStore(dataDir: string, io: CliIo): Promise<EventStore> {
  const kind = io.env.LIFELINE_EVENT_STORE ?? 'sqlite';
  if (kind === 'eventstoredb') {
    if (!io.env.EVENTSTORE_URL) throw new CliUsageError('LIFELINE_EVENT_STORE=eventstoredb needs EVENTSTORE_URL');
    return openEventStore({ kind: 'eventstoredb', url: io.env.EVENTSTORE_URL });
  }
  if (kind !== 'sqlite') throw new CliUsageError(`LIFELINE_EVENT_STORE must be sqlite or eventstoredb, not ${kind}`);
  const file = join(dataDir, 'events.db');
  // Opening a missing file would create an empty store and report on nothing.
  if (!existsSync(file)) throw new CliUsageError(`No event store at ${file} (use --data-dir or LIFELINE_DATA_DIR)`);
  return SqliteEventStore.open(file);
}

/** `sqlite:<file>`, `esdb:<url>` or an `esdb://…` connection string. */
export async function openStoreSpec(spec: string, io: CliIo, mustExist: boolean): Promise<EventStore> {
  if (spec.startsWith('sqlite:')) {
    const file = resolve(io.cwd, spec.slice('sqlite:'.length));
    if (mustExist && !existsSync(file)) throw new CliUsageError(`No event store at ${file}`);
    return SqliteEventStore.open(file);
  }
  if (/^esdb(\+discover)?:\/\//.test(spec)) return openEventStore({ kind: 'eventstoredb', url: spec });
  if (spec.startsWith('esdb:')) return openEventStore({ kind: 'eventstoredb', url: spec.slice('esdb:'.length) });
  throw new CliUsageError(`A store is sqlite:<file> or esdb:<url>, not ${spec}`);
}

/** Runs `work` with the store open, and closes it whatever happens. */
export async function withStore<T>(open: Promise<EventStore>, work: (store: EventStore) => Promise<T>): Promise<T> {
  const store = await open;
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}
