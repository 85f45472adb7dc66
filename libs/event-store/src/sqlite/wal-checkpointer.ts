import { Worker } from 'node:worker_threads';

/**
 * Runs SQLite's WAL checkpoints on a thread of their own. By default the connection that commits
 * past the checkpoint threshold copies the whole WAL back into the database file and syncs it, on the
 * event loop: a stall of tens or hundreds of milliseconds every few thousand events. Here the
 * committing connections never checkpoint (their automatic threshold is set far away, only as a
 * safety net), and a worker with its own connection runs PASSIVE checkpoints, which never block
 * writers or readers; once one has copied everything, the next writer starts the WAL from the top.
 */
export class WalCheckpointer {
  private stopped = false;

  private constructor(
    private readonly worker: Worker,
    private readonly exited: Promise<void>,
  ) {}

  /** Starts checkpointing `file` every `intervalMs`. */
  static start(
    file: string,
    options: { intervalMs?: number; onError?: (message: string) => void } = {},
  ): WalCheckpointer {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, driver: require.resolve('better-sqlite3'), intervalMs: options.intervalMs ?? 250 },
    });
    worker.unref();
    worker.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'error' in message) {
        options.onError?.(String((message as { error: unknown }).error));
      }
    });
    worker.on('error', (error) => options.onError?.(String(error)));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return new WalCheckpointer(worker, exited);
  }

  /** Stops after one last checkpoint (bounded: a stuck worker is terminated). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Keep the process alive for the last checkpoint (the worker is unref'd while it runs).
    this.worker.ref();
    this.worker.postMessage('stop');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5_000).unref());
    if ((await Promise.race([this.exited, timeout])) === 'timeout') await this.worker.terminate();
  }
}

/** The automatic threshold left on committing connections: only a safety net if the worker stops (about 400 MB). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 100_000;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
let stopping = false;
let timer;
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
};
const tick = () => {
  checkpoint();
  if (!stopping) timer = setTimeout(tick, workerData.intervalMs);
};
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  stopping = true;
  clearTimeout(timer);
  checkpoint();
  db.close();
  process.exit(0);
});
timer = setTimeout(tick, workerData.intervalMs);
`;
