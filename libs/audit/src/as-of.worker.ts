import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openEventStore, SqliteEventStore, type EventStore, type EventStoreConfig } from '@lifeline/event-store';
import { answerAsOf, type AsOfAnswer, type AsOfQuestion } from './as-of-query';
import type { AsOf } from './as-of';

/**
 * An as-of worker thread (started by AsOfPool): it opens its own connection to the event store
 * from the store's config (a store object cannot cross threads), rebuilds the read models up to
 * the asked point in its own memory and answers one question at a time.
 */

export interface AsOfWorkerData {
  store: EventStoreConfig;
  maxEvents?: number;
}

export interface AsOfRequest {
  id: number;
  asOf: AsOf;
  question: AsOfQuestion;
}

/** An error as it crosses threads: a class does not survive the copy, its code and details do. */
export interface AsOfWorkerError {
  name: string;
  code?: string;
  message: string;
  details?: unknown;
}

export type AsOfResponse =
  { id: number; ok: true; answer: AsOfAnswer } | { id: number; ok: false; error: AsOfWorkerError };

/**
 * On Linux a thread has its own nice value: the rebuild yields the CPU to the server's event loop
 * (requests, the process manager) when cores are short. Elsewhere the worker runs as any thread.
 */
function yieldToTheServer(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId !== process.pid) {
      setPriority(threadId, constants.priority.PRIORITY_BELOW_NORMAL);
    }
  } catch {
    // no /proc/thread-self: not Linux
  }
}
yieldToTheServer();

const { store: config, maxEvents } = workerData as AsOfWorkerData;
let store: Promise<EventStore> | undefined;

/** Opened on the first question and kept: SQLite read-only beside the server's writer, or an EventStoreDB client. */
function openStore(): Promise<EventStore> {
  store ??=
    config.kind === 'sqlite'
      ? Promise.resolve().then(() => SqliteEventStore.open(config.file, { readonly: true }))
      : openEventStore(config);
  return store;
}

function transferable(error: unknown): AsOfWorkerError {
  if (error instanceof Error) {
    const { code, details } = error as Error & { code?: unknown; details?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(typeof code === 'string' ? { code } : {}),
      ...(details !== undefined ? { details } : {}),
    };
  }
  return { name: 'Error', message: String(error) };
}

async function handle(request: AsOfRequest): Promise<AsOfResponse> {
  try {
    const log = await openStore();
    return { id: request.id, ok: true, answer: await answerAsOf(log, request.asOf, request.question, { maxEvents }) };
  } catch (error) {
    // A store that failed to open is tried again on the next question.
    if (
      store !== undefined &&
      (await store.then(
        () => false,
        () => true,
      ))
    )
      store = undefined;
    return { id: request.id, ok: false, error: transferable(error) };
  }
}

parentPort?.on('message', (request: AsOfRequest) => {
  void handle(request).then((response) => parentPort?.postMessage(response));
});
