import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { EventStoreConfig } from '@lifeline/event-store';
import type { TaskFilter, TaskViewer } from '@lifeline/read-models';
import type { AsOf } from './as-of';
import type { AsOfAnswer, AsOfQuestion, InstanceAsOf, TasksAsOf } from './as-of-query';
import type { AsOfRequest, AsOfResponse, AsOfWorkerData, AsOfWorkerError } from './as-of.worker';
import {
  AsOfBusy,
  AsOfInvalid,
  AsOfPoolClosed,
  AsOfQueueTimeout,
  AsOfTooLarge,
  AsOfWorkerFailed,
  UnknownReadModel,
} from './errors';

export interface AsOfPoolOptions {
  /** Where the worker threads read the log from: each opens its own connection. */
  store: EventStoreConfig;
  /** Worker threads, each rebuilding one as-of view at a time (default 2). */
  workers?: number;
  /** Queries that may wait for a worker; one more is refused with AUDIT.BUSY (default 8). */
  queue?: number;
  /** A query waiting longer than this for a worker fails with AUDIT.AS_OF_TIMEOUT (default 30 s). */
  queueTimeoutMs?: number;
  /** Above this many events an as-of view is refused with AUDIT.AS_OF_TOO_LARGE. */
  maxEvents?: number;
  /** The compiled worker entry; by default found by asOfWorkerFile(). */
  workerFile?: string;
  /** Timers for the queue timeout (tests pass their own and fire them; no sleeping). */
  timers?: { set(fire: () => void, ms: number): unknown; clear(handle: unknown): void };
}

export const AS_OF_POOL_DEFAULTS = { workers: 2, queue: 8, queueTimeoutMs: 30_000 } as const;

/**
 * The worker runs compiled JavaScript, whoever starts it. The server runs from dist/, where the
 * worker is this file's .js sibling. Under jest this module is TypeScript compiled in memory by
 * @swc/jest, with no .js beside it: the built copy in dist/ is started instead, so tests that start
 * as-of workers need `npm run build` first (as the e2e suites already do). A TypeScript loader inside
 * the worker was not chosen: it would also need jest's path aliases and its ESM transforms.
 */
export function asOfWorkerFile(): string {
  const sibling = join(__dirname, 'as-of.worker.js');
  if (existsSync(sibling)) return sibling;
  const built = resolve(__dirname, '..', '..', '..', 'dist', 'libs', 'audit', 'src', 'as-of.worker.js');
  if (existsSync(built)) return built;
  throw new AsOfWorkerFailed(`No compiled as-of worker at ${sibling} or ${built}: run npm run build`);
}

interface Job {
  request: AsOfRequest;
  resolve(answer: AsOfAnswer): void;
  reject(error: Error): void;
  timer?: unknown;
}

interface Slot {
  worker: Worker;
  job?: Job;
  startedAt?: number;
  /** The error the worker died of, reported just before its exit. */
  failure?: Error;
}

/** The documented error a worker's failure stands for: the same class as when the rebuild ran in the request. */
function revive(error: AsOfWorkerError): Error {
  const details = error.details as { events?: number; limit?: number; known?: string[] } | undefined;
  switch (error.code) {
    case 'AUDIT.AS_OF_TOO_LARGE':
      return new AsOfTooLarge(details?.events ?? 0, details?.limit ?? 0);
    case 'AUDIT.INVALID_AS_OF':
      return new AsOfInvalid(error.message);
    case 'AUDIT.UNKNOWN_READ_MODEL':
      return new UnknownReadModel(error.message, details?.known ?? []);
    default:
      return new AsOfWorkerFailed(`${error.name}: ${error.message}`);
  }
}

/**
 * Runs as-of rebuilds (the whole log replayed into memory, seconds on a big log) on a few worker
 * threads, so the server's event loop keeps answering. At most `workers` run at once and `queue`
 * wait; more are refused with AUDIT.BUSY and a Retry-After, never piled up.
 */
export class AsOfPool {
  private readonly size: number;
  private readonly maxQueue: number;
  private readonly queueTimeoutMs: number;
  private readonly timers: NonNullable<AsOfPoolOptions['timers']>;
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private serial = 0;
  private closed = false;
  /** A moving average of how long one rebuild takes, for Retry-After. */
  private averageMs = 1_000;

  constructor(private readonly options: AsOfPoolOptions) {
    this.size = Math.max(1, Math.trunc(options.workers ?? AS_OF_POOL_DEFAULTS.workers));
    this.maxQueue = Math.max(0, Math.trunc(options.queue ?? AS_OF_POOL_DEFAULTS.queue));
    this.queueTimeoutMs = Math.max(0, options.queueTimeoutMs ?? AS_OF_POOL_DEFAULTS.queueTimeoutMs);
    this.timers = options.timers ?? {
      set: (fire, ms) => setTimeout(fire, ms),
      clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
  }

  /** The task list a viewer saw at that point. */
  async tasks(asOf: AsOf, viewer: TaskViewer, filter: TaskFilter): Promise<TasksAsOf> {
    return (await this.run(asOf, { kind: 'tasks', viewer, filter })) as TasksAsOf;
  }

  /** One instance as it was at that point. */
  async instance(asOf: AsOf, instanceId: string): Promise<InstanceAsOf> {
    return (await this.run(asOf, { kind: 'instance', instanceId })) as InstanceAsOf;
  }

  /** Workers started, queries running and waiting (for health and tests). */
  stats(): { workers: number; running: number; waiting: number } {
    return {
      workers: this.slots.length,
      running: this.slots.filter((s) => s.job !== undefined).length,
      waiting: this.waiting.length,
    };
  }

  run(asOf: AsOf, question: AsOfQuestion): Promise<AsOfAnswer> {
    if (this.closed) return Promise.reject(new AsOfPoolClosed());
    return new Promise<AsOfAnswer>((resolve, reject) => {
      const job: Job = { request: { id: ++this.serial, asOf, question }, resolve, reject };
      const slot = this.idleSlot();
      if (slot) return this.dispatch(slot, job);
      if (this.waiting.length >= this.maxQueue) return reject(new AsOfBusy(this.retryAfterSeconds()));
      job.timer = this.timers.set(() => {
        const index = this.waiting.indexOf(job);
        if (index < 0) return;
        this.waiting.splice(index, 1);
        job.reject(new AsOfQueueTimeout(this.queueTimeoutMs, this.retryAfterSeconds()));
      }, this.queueTimeoutMs);
      this.waiting.push(job);
    });
  }

  /** Refuses what waits, stops the workers (a running rebuild is abandoned) and waits for them to exit. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) {
      this.timers.clear(job.timer);
      job.reject(new AsOfPoolClosed());
    }
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }

  /** Seconds until a worker is likely free: the queries ahead, shared by the workers, at the average rebuild time. */
  private retryAfterSeconds(): number {
    const ahead = this.waiting.length + this.slots.filter((s) => s.job !== undefined).length;
    return Math.min(60, Math.max(1, Math.ceil((this.averageMs * Math.max(1, ahead)) / this.size / 1000)));
  }

  private idleSlot(): Slot | undefined {
    const idle = this.slots.find((s) => s.job === undefined);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.startWorker();
    return undefined;
  }

  private startWorker(): Slot {
    const workerData: AsOfWorkerData = { store: this.options.store, maxEvents: this.options.maxEvents };
    const worker = new Worker(this.options.workerFile ?? asOfWorkerFile(), { workerData });
    const slot: Slot = { worker };
    worker.on('message', (response: AsOfResponse) => this.answered(slot, response));
    worker.on('error', (error) => (slot.failure = error));
    worker.on('exit', (code) => this.exited(slot, code));
    this.slots.push(slot);
    return slot;
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.startedAt = performance.now();
    // A busy worker keeps the process alive until it answers; an idle one does not.
    slot.worker.ref();
    slot.worker.postMessage(job.request);
  }

  private answered(slot: Slot, response: AsOfResponse): void {
    const job = slot.job;
    if (job === undefined || job.request.id !== response.id) return;
    this.averageMs = this.averageMs * 0.7 + (performance.now() - (slot.startedAt ?? 0)) * 0.3;
    slot.job = undefined;
    if (response.ok) job.resolve(response.answer);
    else job.reject(revive(response.error));
    this.next(slot);
  }

  private next(slot: Slot): void {
    const job = this.waiting.shift();
    if (job === undefined) {
      slot.worker.unref();
      return;
    }
    this.timers.clear(job.timer);
    this.dispatch(slot, job);
  }

  private exited(slot: Slot, code: number): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    const job = slot.job;
    slot.job = undefined;
    if (job !== undefined) {
      job.reject(
        this.closed
          ? new AsOfPoolClosed()
          : new AsOfWorkerFailed(
              `The as-of worker stopped (exit code ${code}): ${slot.failure?.message ?? 'no error'}`,
            ),
      );
    }
    // A worker that died is replaced for the queries still waiting.
    if (!this.closed && this.waiting.length > 0) this.next(this.startWorker());
  }
}
