import type { StoredEvent, Subscription } from '../event-store';
import { PositionWaiters } from '../position-waiters';

/** What a polling subscription needs from its store: synchronous reads and an in-process signal. */
export interface PollingSource {
  head(): number;
  read(fromPosition: number, maxCount: number): StoredEvent[];
  /** Registers a listener for appends made in this process; returns the unregister function. */
  onAppended(listener: () => void): () => void;
  onStopped(subscription: PollingSubscription): void;
}

export interface PollingSubscriptionOptions {
  fromPosition: number;
  batchSize: number;
  pollIntervalMs: number;
  onError?: (error: unknown) => void;
}

/** How long a catch-up runs before it lets other work (requests, timers) take a turn of the event loop. */
const CATCH_UP_TURN_MS = 20;

/**
 * Catch-up then live delivery over a log read by position: reads in batches, sleeps when caught
 * up, and wakes on an in-process append signal or after pollIntervalMs (appends by other processes).
 */
export class PollingSubscription implements Subscription {
  private cursor: number;
  private handledUpTo: number;
  private stopped = false;
  /** Set by every append signal; a signal that arrives while reading must not be slept through. */
  private signalled = true;
  private wake: (() => void) | undefined;
  private unlisten: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly waiters = new PositionWaiters();
  /** When the loop last let the event loop take a turn. */
  private lastTurn = performance.now();

  constructor(
    private readonly source: PollingSource,
    private readonly handler: (events: StoredEvent[]) => Promise<void>,
    private readonly options: PollingSubscriptionOptions,
  ) {
    this.cursor = Math.max(0, options.fromPosition);
    this.handledUpTo = this.cursor;
  }

  start(): void {
    this.unlisten = this.source.onAppended(() => {
      this.signalled = true;
      this.wake?.();
    });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    this.finish();
  }

  caughtUpTo(position: number, timeoutMs = 5000): Promise<boolean> {
    if (this.handledUpTo >= position) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return this.waiters.wait(position, timeoutMs);
  }

  private nextTurn(): Promise<void> {
    return new Promise((resolve) =>
      setImmediate(() => {
        this.lastTurn = performance.now();
        resolve();
      }),
    );
  }

  private async run(): Promise<void> {
    const { batchSize } = this.options;
    while (!this.stopped) {
      this.signalled = false;
      let head: number;
      let batch: StoredEvent[];
      try {
        // Head first: if the batch is not full, every matching event up to head is in it.
        head = this.source.head();
        batch = this.source.read(this.cursor, batchSize);
      } catch (error) {
        this.fail(error);
        return;
      }
      if (batch.length > 0) {
        try {
          await this.handler(batch);
        } catch (error) {
          this.fail(error);
          return;
        }
        const last = batch[batch.length - 1]!.position;
        this.cursor = batch.length < batchSize ? Math.max(last, head) : last;
      } else {
        this.cursor = Math.max(this.cursor, head);
      }
      this.markHandled(this.cursor);
      if (batch.length >= batchSize || this.signalled || this.stopped) {
        // Reads and handlers of this store are synchronous: a long catch-up (a view rebuilt from the whole log)
        // would otherwise run in microtasks alone and hold every request, /health included, until it ends.
        if (performance.now() - this.lastTurn >= CATCH_UP_TURN_MS) await this.nextTurn();
        continue;
      }
      await this.sleep();
      this.lastTurn = performance.now();
    }
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.options.pollIntervalMs);
      this.wake = done;
    });
  }

  private markHandled(position: number): void {
    this.handledUpTo = position;
    this.waiters.reached(position);
  }

  private fail(error: unknown): void {
    this.stopped = true;
    this.finish();
    try {
      this.options.onError?.(error);
    } catch {
      // An onError that throws must not turn into an unhandled rejection of the delivery loop.
    }
  }

  private finish(): void {
    this.unlisten?.();
    this.unlisten = undefined;
    this.waiters.cancel();
    this.source.onStopped(this);
  }
}
