import { JobApiError, JobClient, type Job, type JobClientOptions } from './client';

/** Thrown by a handler: a business outcome the process models (the activity's `errors`), not a failure to retry. */
export class BusinessError extends Error {
  constructor(
    readonly code: string,
    message?: string,
    readonly variables?: Record<string, unknown>,
  ) {
    super(message ?? code);
    this.name = 'BusinessError';
  }
}

export interface JobContext {
  workerId: string;
  /** Aborted when the worker learns it lost the lock (a heartbeat refused): its answer would be refused too. */
  signal: AbortSignal;
}

/** Does the job: returns the variables to hand back, throws to fail it, throws a BusinessError for a modelled outcome. */
export type JobHandler<Inputs = Record<string, unknown>> = (
  job: Job<Inputs>,
  context: JobContext,
) => Promise<Record<string, unknown> | void> | Record<string, unknown> | void;

export interface WorkerOptions extends JobClientOptions {
  workerId: string;
  types: string[];
  /** Jobs this worker does at once; by default 10. */
  maxJobs?: number;
  /** By default 30 s; the worker extends it every half of it while a handler runs. */
  lockDurationMs?: number;
  /** How long one fetch waits for a job; by default 20 s. */
  pollTimeoutMs?: number;
  /** The backoff of a failure (ISO-8601 duration); by default the activity's retryBackoff. */
  backoff?: string;
  /** Where the worker says what went wrong besides the job (a fetch that failed, a lock lost); by default nowhere. */
  onError?: (error: unknown, job?: Job) => void;
}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * A worker: long-polls for jobs of its types, runs the handler for each (up to `maxJobs` at once),
 * extends the locks of the jobs it is doing, and completes, fails or answers them. `stop()` lets the
 * jobs in hand finish.
 */
export class JobWorker {
  readonly client: JobClient;
  private readonly running = new Set<Promise<void>>();
  private readonly inHandIds = new Set<string>();
  private readonly stopping = new AbortController();
  private loop?: Promise<void>;

  constructor(
    private readonly options: WorkerOptions,
    private readonly handler: JobHandler,
  ) {
    this.client = new JobClient(options);
  }

  get inHand(): number {
    return this.running.size;
  }

  start(): this {
    this.loop ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await Promise.all(this.running);
  }

  private get lockDurationMs(): number {
    return this.options.lockDurationMs ?? 30_000;
  }

  private async run(): Promise<void> {
    const maxJobs = this.options.maxJobs ?? 10;
    let failures = 0;
    while (!this.stopping.signal.aborted) {
      if (this.running.size >= maxJobs) {
        await Promise.race(this.running);
        continue;
      }
      try {
        const jobs = await this.client.fetchAndLock(
          {
            workerId: this.options.workerId,
            types: this.options.types,
            maxJobs: maxJobs - this.running.size,
            lockDurationMs: this.lockDurationMs,
            timeoutMs: this.options.pollTimeoutMs ?? 20_000,
          },
          this.stopping.signal,
        );
        failures = 0;
        for (const job of jobs) {
          // Its lock ran out while its handler runs and this fetch locked it again: the lock is renewed, nothing more.
          if (this.inHandIds.has(job.jobId)) continue;
          this.inHandIds.add(job.jobId);
          const done: Promise<void> = this.handle(job).finally(() => {
            this.running.delete(done);
            this.inHandIds.delete(job.jobId);
          });
          this.running.add(done);
        }
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        // The server restarting or unreachable: try again, waiting longer each time (at most 10 s).
        this.options.onError?.(error);
        await pause(Math.min(250 * 2 ** failures++, 10_000), this.stopping.signal);
      }
    }
  }

  private async handle(job: Job): Promise<void> {
    const { workerId } = this.options;
    const lost = new AbortController();
    const signal = lost.signal;
    let answering = false;
    const beat = setInterval(() => {
      this.client.heartbeat(job.jobId, workerId, this.lockDurationMs).catch((error: unknown) => {
        // A heartbeat that crossed the answer finds the job closed: nothing went wrong.
        if (answering) return;
        if (error instanceof JobApiError && error.lockLost) lost.abort(error);
        this.options.onError?.(error, job);
      });
    }, this.lockDurationMs / 2);
    const answer = () => {
      answering = true;
      clearInterval(beat);
    };
    try {
      let outcome: Record<string, unknown> | void;
      try {
        outcome = await this.handler(job, { workerId, signal });
        answer();
      } catch (error) {
        answer();
        if (lost.signal.aborted) return;
        if (error instanceof BusinessError) {
          await this.client.error(job.jobId, workerId, {
            code: error.code,
            ...(error.message !== error.code ? { message: error.message } : {}),
            ...(error.variables ? { variables: error.variables } : {}),
          });
        } else {
          await this.client.fail(job.jobId, workerId, {
            error: error instanceof Error ? error.message : String(error),
            ...(this.options.backoff !== undefined ? { backoff: this.options.backoff } : {}),
          });
        }
        return;
      }
      if (lost.signal.aborted) return;
      await this.client.complete(job.jobId, workerId, outcome ?? undefined);
    } catch (error) {
      // The answer did not reach the server, or the lock was lost: the job is offered again after its lock.
      this.options.onError?.(error, job);
    } finally {
      answer();
    }
  }
}

/** Starts a worker: `runWorker({ url, token, workerId, types }, async (job) => ({ ...variables }))`. */
export function runWorker<Inputs = Record<string, unknown>>(
  options: WorkerOptions,
  handler: JobHandler<Inputs>,
): JobWorker {
  return new JobWorker(options, handler as JobHandler).start();
}
