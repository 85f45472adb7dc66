import type { StoredEvent, StoreTx } from './event-store';

export interface QueuedUnit {
  work: (tx: StoreTx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for a store with transactions: the units of work submitted during one event-loop turn are handed
 * to the store's `commit` together (one transaction), at most `maxUnits` at a time, with a turn of the event loop
 * between two commits.
 */
export class GroupCommit {
  private readonly queue: QueuedUnit[] = [];
  private active = false;
  /** Settles once every unit queued so far is committed or refused (what `close` waits for). */
  drained: Promise<void> = Promise.resolve();

  constructor(
    private readonly commit: (batch: QueuedUnit[]) => Promise<void>,
    private readonly maxUnits: number,
  ) {}

  /** True while units are queued or being committed. */
  get draining(): boolean {
    return this.active;
  }

  submit<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (this.active) return;
      this.active = true;
      // Units submitted during one event-loop turn (concurrent requests) share the commit.
      this.drained = new Promise((done) => setImmediate(() => void this.drain().finally(done)));
    });
  }

  /** Units a commit did not get to (over its time budget) go first into the next one. */
  putBack(units: QueuedUnit[]): void {
    this.queue.unshift(...units);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        await this.commit(this.queue.splice(0, this.maxUnits));
        // A turn of the event loop between two commits: requests waiting for one (a /health probe) are answered.
        if (this.queue.length > 0) await new Promise((next) => setImmediate(next));
      }
    } finally {
      this.active = false;
    }
  }
}

/** What became of one unit of a commit: its view (what it appended, its onCommit listeners) and its result. */
export interface UnitOutcome {
  unit: QueuedUnit;
  view: { readonly appended: readonly StoredEvent[]; readonly commitListeners: readonly (() => void)[] };
  ok: boolean;
  value?: unknown;
  error?: unknown;
}

/**
 * After a commit: the units' own onCommit listeners run, the store's listeners get every committed event in
 * position order (`each` sees them first), `appended` signals the store's subscriptions, and then each unit's
 * promise settles (so a caller is answered after the effects of its commit).
 */
export function settleCommit(
  outcomes: readonly UnitOutcome[],
  listeners: Iterable<(events: readonly StoredEvent[]) => void>,
  appended: () => void,
  each?: (event: StoredEvent) => void,
): void {
  const committed: StoredEvent[] = [];
  for (const { view, ok } of outcomes) {
    if (!ok) continue;
    for (const event of view.appended) {
      each?.(event);
      committed.push(event);
    }
    for (const listener of view.commitListeners) listener();
  }
  if (committed.length > 0) {
    for (const listener of listeners) {
      try {
        listener(committed);
      } catch {
        // A listener's failure is its own (it catches up from its checkpoint); the commit stands.
      }
    }
    appended();
  }
  for (const { unit, ok, value, error } of outcomes) {
    if (ok) unit.resolve(value);
    else unit.reject(error);
  }
}
