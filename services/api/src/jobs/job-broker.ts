import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  DomainError,
  InstanceNotFound,
  InstanceNotRunning,
  InstanceSuspendedError,
  JobNotAvailable,
  JobNotFound,
  JobNotOpen,
  type Actor,
  type JobLocked,
} from '@lifeline/process-domain';
import { getJob, nextOfferAfter, offeredJobs, type JobRow } from '@lifeline/read-models';
import { EngineRuntime, RunInstanceCommand, type CommandOrigin, type InstanceCommandResult } from '@lifeline/engine';
import { ReadSide } from '../http/read-side';

export interface FetchRequest {
  workerId: string;
  types: string[];
  maxJobs: number;
  lockDurationMs: number;
  /** How long to wait for a job when none is offered now (0: answer at once). */
  timeoutMs: number;
}

/** A job as its worker gets it: what to do, for which record, and until when the lock runs. */
export interface LockedJob {
  jobId: string;
  jobType: string;
  instanceId: string;
  activityId: string;
  /** Failures it may still have. */
  retries: number;
  inputs: Record<string, unknown>;
  entity: { type: string; id: string };
  lockExpiresAt: string;
}

/**
 * A worker fetches jobs of its types and locks them. `gone` aborts when the worker hangs up: a fetch that waits no
 * longer locks anything, or the jobs would sit out their lock with nobody to do them.
 */
export class FetchAndLockJobsCommand extends Command<LockedJob[]> {
  constructor(
    readonly request: FetchRequest,
    readonly actor: Actor,
    readonly origin: CommandOrigin,
    readonly gone?: AbortSignal,
  ) {
    super();
  }
}

/** Lock attempts of one fetch before it answers with what it got (others took the rest). */
const ROUNDS = 3;
/** Candidates read per round beyond what is wanted: the ones other fetches of this process are locking are skipped. */
const MAX_CANDIDATES = 500;

/** Refusals that mean "someone else got there first, or it is no longer offered": try the next job. */
const passedOver = (error: unknown): boolean =>
  error instanceof JobNotAvailable ||
  error instanceof JobNotOpen ||
  error instanceof JobNotFound ||
  error instanceof InstanceNotFound ||
  error instanceof InstanceNotRunning ||
  error instanceof InstanceSuspendedError;

/**
 * Fetch-and-lock (docs/decisions/0007-jobs.md). The jobs read model names the jobs offered at the
 * engine clock's now; each lock is a command on its instance stream, so of two fetches racing for a
 * job the stream's expected revision lets one lock it and the other is refused and passes it over.
 * Jobs being locked by a fetch of this process are skipped by the others, which only saves wasted
 * attempts. With nothing offered, a fetch waits for the read models to move (a job created, failed,
 * retried) or for the next lock to run out, up to its timeout.
 */
@Injectable()
@CommandHandler(FetchAndLockJobsCommand)
export class JobBroker implements ICommandHandler<FetchAndLockJobsCommand, LockedJob[]>, OnModuleDestroy {
  private readonly locking = new Set<string>();
  private closed = false;
  private wakeAll!: () => void;
  /** Settles when the module stops: waiting fetches answer at once instead of holding the server's close. */
  private readonly closing = new Promise<void>((resolve) => (this.wakeAll = resolve));

  constructor(
    private readonly commands: CommandBus,
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  onModuleDestroy(): void {
    this.closed = true;
    this.wakeAll();
  }

  async execute({ request, actor, origin, gone }: FetchAndLockJobsCommand): Promise<LockedJob[]> {
    // Jobs are offered from the jobs view: while it is being built from the log, offering none would be a lie.
    this.read.served(['jobs']);
    const deadline = Date.now() + request.timeoutMs;
    // One listener per fetch, however often its wait wakes up.
    const hungUp =
      gone && new Promise<void>((resolve) => gone.addEventListener('abort', () => resolve(), { once: true }));
    for (;;) {
      if (gone?.aborted) return [];
      const locked = await this.lockOffered(request, actor, origin);
      const left = deadline - Date.now();
      if (locked.length > 0 || left <= 0 || this.closed) return locked;
      await this.waitForOffer(request.types, left, hungUp);
    }
  }

  private async lockOffered(request: FetchRequest, actor: Actor, origin: CommandOrigin): Promise<LockedJob[]> {
    const locked: LockedJob[] = [];
    for (let round = 0; round < ROUNDS && locked.length < request.maxJobs; round++) {
      const want = request.maxJobs - locked.length;
      const now = this.engine.clock.nowIso();
      const limit = Math.min(want + this.locking.size, MAX_CANDIDATES);
      const candidates = offeredJobs(this.read.db, request.types, now, limit)
        .filter((job) => !this.locking.has(job.jobId))
        .slice(0, want);
      if (candidates.length === 0) break;
      for (const job of candidates) this.locking.add(job.jobId);
      // Started together, the locks share the store's group commit.
      const outcomes = await Promise.allSettled(
        candidates.map((job) =>
          this.commands.execute<RunInstanceCommand, InstanceCommandResult>(
            new RunInstanceCommand(
              job.instanceId,
              {
                type: 'LockJob',
                jobId: job.jobId,
                workerId: request.workerId,
                lockDurationMs: request.lockDurationMs,
              },
              actor,
              { ...origin, commandId: `${origin.commandId}:${job.jobId}` },
            ),
          ),
        ),
      );
      for (const job of candidates) this.locking.delete(job.jobId);
      let failure: unknown;
      outcomes.forEach((outcome, i) => {
        if (outcome.status === 'rejected') {
          if (!passedOver(outcome.reason)) failure ??= outcome.reason;
          return;
        }
        const event = outcome.value.events.find((e): e is JobLocked => e.type === 'JobLocked');
        const row = getJob(this.read.db, candidates[i]!.jobId);
        if (event && row) locked.push(asLocked(row, event.data.lockExpiresAt));
      });
      // A store failure is reported, unless some jobs were locked: those must reach the worker, or they sit out their lock.
      if (failure !== undefined && locked.length === 0) throw failure;
      if (failure !== undefined && !(failure instanceof DomainError)) break;
      if (candidates.length < want) break;
    }
    return locked;
  }

  /** Until the read models move, the next lock of these types runs out, or `timeoutMs` passes. */
  private async waitForOffer(types: string[], timeoutMs: number, hungUp?: Promise<void>): Promise<void> {
    const now = this.engine.clock.now().getTime();
    const next = nextOfferAfter(this.read.db, types, new Date(now).toISOString());
    const untilNext = next === undefined ? timeoutMs : Math.max(Date.parse(next) - now, 1);
    await Promise.race([
      this.read.models.waitForPosition(this.read.models.position() + 1, Math.min(timeoutMs, untilNext)),
      this.closing,
      ...(hungUp ? [hungUp] : []),
    ]);
  }
}

const asLocked = (row: JobRow, lockExpiresAt: string): LockedJob => ({
  jobId: row.jobId,
  jobType: row.jobType,
  instanceId: row.instanceId,
  activityId: row.activityId,
  retries: row.retries,
  inputs: row.inputs,
  entity: row.entity,
  lockExpiresAt,
});
