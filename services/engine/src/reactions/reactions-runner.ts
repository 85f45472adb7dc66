import type Database from 'better-sqlite3';
import type { EventStore, StoreTx, StoredEvent, Subscription } from '@lifeline/event-store';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock';
import { isInfrastructureError } from '../shared/failure-policy';
import type { Reactor } from './reactor';
import type { EngineReactionEffects } from './reaction-effects';

/** Backoff after an infrastructure error: 1 s, doubling, at most 30 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

export interface ReactionsHealth {
  ok: boolean;
  /** The last global position the reactions handled. */
  position: number;
  error?: string;
  failures: { recorded: number; unrecorded: number };
}

/**
 * Runs every write of this process as a unit of work. On a store whose units are atomic (the
 * embedded SQLite store) the reactor runs inside each unit: it first catches up with what others
 * appended, then reacts to what the unit appended, so a command's effects commit with it.
 */
export class WritePath {
  constructor(
    private readonly store: EventStore,
    private readonly inline: Reactor | undefined,
  ) {}

  run<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    const reactor = this.inline;
    if (!reactor) return this.store.unitOfWork(work);
    return this.store.unitOfWork(async (tx) => {
      await reactor.catchUp(tx);
      const result = await work(tx);
      await reactor.drain(tx);
      return result;
    });
  }
}

/**
 * When the reactions run besides the writes themselves: due timers on a tick, and (inline) a catch-up
 * with what other processes appended; with a store without atomic units, a checkpointed
 * subscription feeds the reactor and its state moves in the engine's own transaction.
 */
export class ReactionsRunner {
  private ticker?: NodeJS.Timeout;
  private subscription?: Subscription;
  private failure?: unknown;
  private consecutiveErrors = 0;
  private stopped = false;
  /** One tick (or subscription batch) at a time: they share the reactor's state. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly reactor: Reactor,
    private readonly effects: EngineReactionEffects,
    private readonly writes: WritePath,
    /** Set when the reactor's state is not in the store's own transaction (EventStoreDB): its own database. */
    private readonly stateDb: Database.Database | undefined,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: { timerTickMs: number; batchSize?: number },
  ) {}

  get inline(): boolean {
    return this.stateDb === undefined;
  }

  start(): void {
    this.stopped = false;
    if (!this.inline) this.subscribe();
    if (this.options.timerTickMs > 0) {
      this.ticker = setInterval(() => void this.tick(), this.options.timerTickMs);
      this.ticker.unref();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    await this.subscription?.stop();
    await this.queue.catch(() => undefined);
  }

  position(): number {
    return this.reactor.state.checkpoint();
  }

  health(): ReactionsHealth {
    return {
      ok: this.failure === undefined,
      position: this.position(),
      ...(this.failure !== undefined ? { error: String(this.failure) } : {}),
      failures: { ...this.effects.failures },
    };
  }

  /**
   * Fires due timers and schedule ticks and (inline) catches up with others' appends, now. The scheduler calls it on
   * each tick; tests call it after advancing the clock.
   */
  tick(): Promise<void> {
    return this.serial(() => this.tickNow());
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async tickNow(): Promise<void> {
    if (this.stopped) return;
    try {
      const now = this.clock.nowIso();
      if (this.inline) {
        await this.writes.run(async (tx) => {
          await this.reactor.fireDueTimers(tx, now);
          await this.reactor.fireDueSchedules(tx, now);
        });
      } else {
        await this.inStateTransaction(() =>
          this.store.unitOfWork(async (tx) => {
            await this.reactor.fireDueTimers(tx, now);
            await this.reactor.fireDueSchedules(tx, now);
          }),
        );
      }
      if (this.inline) this.recovered();
    } catch (error) {
      this.failed(error, 'timer tick failed');
    }
  }

  /** Resolves once the reactions have handled the log up to `position` (false after the timeout). */
  async caughtUpTo(position: number, timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.inline) await this.writes.run(async () => undefined).catch(() => undefined);
      if (this.position() >= position) return true;
      if (Date.now() >= until || this.stopped) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  // ---- the subscription (stores without atomic units) ----

  private subscribe(): void {
    this.subscription = this.store.subscribe((events) => this.handleBatch(events), {
      fromPosition: this.reactor.state.checkpoint(),
      batchSize: this.options.batchSize ?? 256,
      onError: (error) => {
        this.failed(error, 'reactions stopped on an infrastructure error; resuming from the checkpoint');
        if (this.stopped) return;
        const delay = Math.min(RETRY_FIRST_MS * 2 ** (this.consecutiveErrors - 1), RETRY_MAX_MS);
        setTimeout(() => {
          if (!this.stopped) this.subscribe();
        }, delay).unref();
      },
    });
  }

  private handleBatch(events: StoredEvent[]): Promise<void> {
    return this.serial(async () => {
      await this.inStateTransaction(() => this.store.unitOfWork((tx) => this.reactor.handleBatch(tx, events)));
      this.recovered();
    });
  }

  /** The reactor's state and checkpoint move together: one transaction of its own database per batch. */
  private async inStateTransaction<T>(work: () => Promise<T>): Promise<T> {
    const db = this.stateDb!;
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = await work();
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  private failed(error: unknown, message: string): void {
    this.consecutiveErrors++;
    if (isInfrastructureError(error)) this.failure = error;
    this.logger.error({ err: error, consecutiveErrors: this.consecutiveErrors }, message);
  }

  private recovered(): void {
    this.consecutiveErrors = 0;
    this.failure = undefined;
  }
}
