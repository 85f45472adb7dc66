import type { StoredEvent, SubscribeOptions, Subscription } from './event-store';
import { PositionWaiters } from './position-waiters';

/** What a polling subscription needs from its store: reads of committed events (sync or not) and an append signal. */
export interface PollingSource {
  head(): number | Promise<number>;
  read(fromPosition: number, maxCount: number): StoredEvent[] | Promise<StoredEvent[]>;
  /** Registers a listener for appends (this process's, and others' where the store tells); returns the unregister. */
  onAppended(listener: () => void): () => void;
  onStopped(subscription: PollingSubscription): void;
}

export interface PollingSubscriptionOptions {
  fromPosition: number;
  batchSize: number;
  pollIntervalMs: number;
  onError?: (error: unknown) => void;
  /** A read error worth reading again after a backoff (a lost connection to a server) instead of stopping. */
  retryable?: (error: unknown) => boolean;
}

/** The longest wait between two reads while a retryable error lasts. */
const MAX_RETRY_MS = 5_000;

/** How long a catch-up runs before it lets other work (requests, timers) take a turn of the event loop. */
const CATCH_UP_TURN_MS = 20;

/**
 * Catch-up then live delivery over a log read by position: reads in batches, sleeps when caught
 * up, and wakes on an append signal or after pollIntervalMs (appends by other processes). It may move its
 * cursor to the head it read because every store using it commits positions in order: every event up to a
 * committed head is visible to a read that starts after the head was read, so no position is skipped.
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
  /** How long the last retry after a retryable error waited (0: the last read went through). */
  private retriedFor = 0;

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

  position(): number {
    return this.handledUpTo;
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
        head = await this.source.head();
        batch = await this.source.read(this.cursor, batchSize);
      } catch (error) {
        if (this.stopped) return;
        if (!this.options.retryable?.(error)) {
          this.fail(error);
          return;
        }
        this.retriedFor = Math.min(Math.max(this.retriedFor * 2, this.options.pollIntervalMs), MAX_RETRY_MS);
        await this.sleep(this.retriedFor);
        continue;
      }
      this.retriedFor = 0;
      if (this.stopped) return;
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
        // Reads and handlers may be synchronous (SQLite): a long catch-up (a view rebuilt from the whole log)
        // would otherwise run in microtasks alone and hold every request, /health included, until it ends.
        if (performance.now() - this.lastTurn >= CATCH_UP_TURN_MS) await this.nextTurn();
        continue;
      }
      await this.sleep();
      this.lastTurn = performance.now();
    }
  }

  private sleep(ms = this.options.pollIntervalMs): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private markHandled(position: number): void {
    if (position <= this.handledUpTo) return;
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

/** Starts a polling subscription for a store's `subscribe`; it leaves `live` (what `close` stops) when it stops. */
export function startPolling(
  live: Set<PollingSubscription>,
  source: Omit<PollingSource, 'onStopped'>,
  handler: (events: StoredEvent[]) => Promise<void>,
  options: SubscribeOptions & { onError?: (error: unknown) => void },
  settings: Pick<PollingSubscriptionOptions, 'pollIntervalMs' | 'retryable'>,
): Subscription {
  const subscription = new PollingSubscription({ ...source, onStopped: (s) => live.delete(s) }, handler, {
    fromPosition: options.fromPosition ?? 0,
    batchSize: options.batchSize ?? 500,
    onError: options.onError,
    ...settings,
  });
  live.add(subscription);
  subscription.start();
  return subscription;
}
