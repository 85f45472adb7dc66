import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openEventStore, SqliteEventStore, type EventStore } from '@lifeline/event-store';
import { CliUsageError, type CliIo } from './io';

/** `--data-dir`, else LIFELINE_DATA_DIR, else ./data (as the server). */
export const dataDirOf = (option: string | undefined, io: CliIo): string =>
  resolve(io.cwd, option ?? io.env.LIFELINE_DATA_DIR ?? './data');

/**
 * The configured event store, as the server opens it: the embedded SQLite file of the data dir,
 * EventStoreDB when LIFELINE_EVENT_STORE=eventstoredb (EVENTSTORE_URL), or PostgreSQL when it is postgres
 * (LIFELINE_POSTGRES_URL, LIFELINE_POSTGRES_SCHEMA).
 */
export async function openConfiguredStore(dataDir: string, io: CliIo): Promise<EventStore> {
  const kind = io.env.LIFELINE_EVENT_STORE ?? 'sqlite';
  if (kind === 'eventstoredb') {
    if (!io.env.EVENTSTORE_URL) throw new CliUsageError('LIFELINE_EVENT_STORE=eventstoredb needs EVENTSTORE_URL');
    return openEventStore({ kind: 'eventstoredb', url: io.env.EVENTSTORE_URL });
  }
  if (kind === 'postgres') {
    if (!io.env.LIFELINE_POSTGRES_URL)
      throw new CliUsageError('LIFELINE_EVENT_STORE=postgres needs LIFELINE_POSTGRES_URL');
    const schema = io.env.LIFELINE_POSTGRES_SCHEMA || undefined;
    return openEventStore({ kind: 'postgres', url: io.env.LIFELINE_POSTGRES_URL, ...(schema ? { schema } : {}) });
  }
  if (kind !== 'sqlite') {
    throw new CliUsageError(`LIFELINE_EVENT_STORE must be sqlite, eventstoredb or postgres, not ${kind}`);
  }
  const file = join(dataDir, 'events.db');
  // Opening a missing file would create an empty store and report on nothing.
  if (!existsSync(file)) throw new CliUsageError(`No event store at ${file} (use --data-dir or LIFELINE_DATA_DIR)`);
  return SqliteEventStore.open(file);
}

/** `sqlite:<file>`, `esdb:<url>`, an `esdb://…` or a `postgres://…` connection string. */
export async function openStoreSpec(spec: string, io: CliIo, mustExist: boolean): Promise<EventStore> {
  if (spec.startsWith('sqlite:')) {
    const file = resolve(io.cwd, spec.slice('sqlite:'.length));
    if (mustExist && !existsSync(file)) throw new CliUsageError(`No event store at ${file}`);
    return SqliteEventStore.open(file);
  }
  if (/^esdb(\+discover)?:\/\//.test(spec)) return openEventStore({ kind: 'eventstoredb', url: spec });
  if (spec.startsWith('esdb:')) return openEventStore({ kind: 'eventstoredb', url: spec.slice('esdb:'.length) });
  if (/^postgres(ql)?:\/\//.test(spec)) return openEventStore({ kind: 'postgres', url: spec });
  throw new CliUsageError(`A store is sqlite:<file>, esdb:<url> or postgres://…, not ${spec}`);
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
