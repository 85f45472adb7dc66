import type { StoredEvent, Subscription } from '../event-store';
import { PositionWaiters } from '../position-waiters';

/** What the subscription needs from its store: reads of committed events and an append signal. */
export interface PostgresSubscriptionSource {
  head(): Promise<number>;
  read(fromPosition: number, maxCount: number): Promise<StoredEvent[]>;
  /** Registers a listener for appends (this process's commits and other processes' notifications). */
  onAppended(listener: () => void): () => void;
  onStopped(subscription: PostgresSubscription): void;
}

export interface PostgresSubscriptionOptions {
  fromPosition: number;
  batchSize: number;
  pollIntervalMs: number;
  onError?: (error: unknown) => void;
}

/** The longest wait between two reads while the server cannot be reached. */
const MAX_RETRY_MS = 5_000;

/** A lost or refused connection, or the server shutting down (SQLSTATE classes 08 and 57P): worth a retry. */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(code)) return true;
    if (code.startsWith('08') || code.startsWith('57P')) return true;
  }
  return typeof message === 'string' && /Connection terminated/i.test(message);
}

/**
 * Catch-up then live delivery over the log read by position. It may move its cursor to the head it read
 * because positions commit in order (the log's lock, decision 0012): every event up to a committed head
 * is visible to a read that starts after the head was read, so a position below it is never skipped.
 */
export class PostgresSubscription implements Subscription {
  private cursor: number;
  private handledUpTo: number;
  private stopped = false;
  /** Set by every append signal; a signal that arrives while reading must not be slept through. */
  private signalled = true;
  private wake: (() => void) | undefined;
  private unlisten: (() => void) | undefined;
  private loop: Promise<void> = Promise.resolve();
  private readonly waiters = new PositionWaiters();
  /** How long the last retry after a lost connection waited (0: the last read went through). */
  private lostFor = 0;

  constructor(
    private readonly source: PostgresSubscriptionSource,
    private readonly handler: (events: StoredEvent[]) => Promise<void>,
    private readonly options: PostgresSubscriptionOptions,
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
        if (!isConnectionLost(error)) {
          this.fail(error);
          return;
        }
        // The server restarted or dropped the connection: read again from the cursor on a new one.
        this.lostFor = Math.min(Math.max(this.lostFor * 2, this.options.pollIntervalMs), MAX_RETRY_MS);
        await this.sleep(this.lostFor);
        continue;
      }
      this.lostFor = 0;
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
      if (batch.length >= batchSize || this.signalled || this.stopped) continue;
      await this.sleep();
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
