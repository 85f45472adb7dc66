import { PositionWaiters, type EventStore, type StoredEvent, type Subscription } from '@lifeline/event-store';
import { allProjections } from './projections';
import { Projector, ReadModelDb, runProjector, type Projection, type Sql } from './read-model-db';

export class ReadModelsNotCaughtUp extends Error {
  readonly code = 'READ_MODELS.NOT_CAUGHT_UP';
  constructor(
    readonly file: string,
    readonly position: number,
    readonly target: number,
  ) {
    super(`Read-model file ${file} reached position ${position}, not ${target}: kept the current file`);
    this.name = 'ReadModelsNotCaughtUp';
  }
}

/** A view that is still being built from the log after start-up (a new layout, a new or deleted file). */
export interface ViewCatchingUp {
  view: string;
  /** The last event it has applied, and the log's head when the process started: it is served once it gets there. */
  position: number;
  target: number;
}

/**
 * A query on a view that is still being built from the log: its rows would be missing, not wrong, so it is
 * answered 503 with how far the view has got instead of with a partial answer.
 */
export class ReadModelCatchingUp extends Error {
  readonly code = 'READ_MODEL.CATCHING_UP';
  readonly retryAfterSeconds = 2;
  constructor(readonly views: ViewCatchingUp[]) {
    super(
      `Still building ${views
        .map((v) => `${v.view} from the log (event ${v.position} of ${v.target})`)
        .join(', ')}; try again shortly`,
    );
    this.name = 'ReadModelCatchingUp';
  }
}

export interface ReadModelsOptions {
  projections?: Projection[];
  batchSize?: number;
  /** How long switchTo waits for a rebuilt file to catch up with the log's head. */
  catchUpTimeoutMs?: number;
  /** How long start waits for the views to reach the log's head before it returns with some still catching up. */
  startCatchUpWaitMs?: number;
  onError?: (error: unknown) => void;
}

interface Served {
  db: ReadModelDb;
  projector: Projector;
  unlisten: () => void;
  subscription?: Subscription;
}

/**
 * The read-model file the API queries, and the projector that keeps it current. It can switch to
 * a rebuilt file in one step: queries see the old rows until the new file has caught up.
 */
export class ReadModels {
  private served: Served;
  private store?: EventStore;
  private readonly waiters = new PositionWaiters();
  private readonly projections: Projection[];
  /** The log's head when the read models started, and the views that had not reached it yet. */
  private catchUpTarget = 0;
  private readonly behind = new Set<string>();

  private constructor(
    file: string,
    private readonly options: ReadModelsOptions,
  ) {
    this.projections = options.projections ?? allProjections();
    this.served = this.serve(file);
  }

  static open(file: string, options: ReadModelsOptions = {}): ReadModels {
    return new ReadModels(file, options);
  }

  /** The connection to query now; take it per query, since a switch replaces it. */
  get db(): Sql {
    return this.served.db.sql;
  }

  get file(): string {
    return this.served.db.file;
  }

  get projector(): Projector {
    return this.served.projector;
  }

  /** The global position every read model has reached. */
  position(): number {
    return this.served.projector.checkpoint();
  }

  /** The position `views` (projection names) have all reached; every read model's when none are named. */
  positionOf(views?: readonly string[]): number {
    if (views === undefined || views.length === 0) return this.position();
    const projector = this.served.projector;
    let min = Number.POSITIVE_INFINITY;
    for (const view of views) min = Math.min(min, projector.positionOf(view));
    return min;
  }

  /**
   * Resolves true once the read models reach `position`, false after `timeoutMs` (read-your-writes). With `views`,
   * only those projections need to: one being rebuilt from the log does not hold up queries of the others.
   */
  waitForPosition(position: number, timeoutMs: number, views?: readonly string[]): Promise<boolean> {
    if (this.positionOf(views) >= position) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return this.waiters.wait(position, timeoutMs, views === undefined ? undefined : () => this.positionOf(views));
  }

  /**
   * Applies events this process just committed, from memory, when they follow the checkpoint
   * directly (the one-pass write path calls it before answering). Anything else is left to the
   * subscription, which reads the log from the checkpoint: inline application never skips a gap.
   */
  applyCommitted(events: readonly StoredEvent[]): boolean {
    const first = events[0];
    if (first === undefined) return true;
    const projector = this.served.projector;
    // Projections at the checkpoint just before these apply them; one being rebuilt catches up on its own.
    if (!projector.follows(first.position)) return false;
    projector.applyBatch(events as StoredEvent[], { onlyFollowing: true });
    return true;
  }

  /**
   * The views still being built from the log since start-up: a projection whose layout changed (rebuilt from
   * position 0), a read-model file that is new or was deleted, or one far behind the log. Once a view reaches the
   * head the log had at start, it stays served (later lag is what `minPosition` is for).
   */
  catchingUp(): ViewCatchingUp[] {
    if (this.behind.size === 0) return [];
    const projector = this.served.projector;
    return [...this.behind].map((view) => ({
      view,
      position: projector.positionOf(view),
      target: this.catchUpTarget,
    }));
  }

  /** Throws ReadModelCatchingUp when one of `views` (projection names) is still being built from the log. */
  assertServed(...views: string[]): void {
    if (this.behind.size === 0) return;
    const waiting = this.catchingUp().filter((v) => views.includes(v.view));
    if (waiting.length > 0) throw new ReadModelCatchingUp(waiting);
  }

  /** Keeps the served file current from the store's log. */
  async start(store: EventStore): Promise<void> {
    if (this.store) return;
    this.store = store;
    // Read before subscribing: whatever the subscription applies after this is at or past it.
    this.catchUpTarget = await store.headPosition();
    this.markServed(this.served.projector);
    this.served.subscription = await runProjector(store, this.served.projector, {
      batchSize: this.options.batchSize,
      onError: this.options.onError,
    });
    // The few events a restart finds unapplied are applied before the caller goes on (and the API listens); a
    // view rebuilt from the whole log goes on catching up behind, reported by catchingUp().
    // 0 means listen at once: even a timer of 0 ms lets a catch-up run for a turn of the loop, and a short log
    // would be caught up by then (a start that then reported nothing behind, nondeterministically).
    const wait = this.options.startCatchUpWaitMs ?? 2_000;
    if (this.behind.size > 0 && wait > 0) {
      await this.served.subscription.caughtUpTo(this.catchUpTarget, wait);
      this.markServed(this.served.projector);
    }
  }

  /**
   * Serves a rebuilt file from now on. When running, the new file first catches up with the log's
   * head on its own subscription; the old file keeps serving until then, and is closed after.
   */
  async switchTo(file: string): Promise<void> {
    const next = this.serve(file);
    if (this.store) {
      try {
        next.subscription = await runProjector(this.store, next.projector, {
          batchSize: this.options.batchSize,
          onError: this.options.onError,
        });
        const head = await this.store.headPosition();
        const caughtUp = await next.subscription.caughtUpTo(head, this.options.catchUpTimeoutMs ?? 30_000);
        if (!caughtUp) throw new ReadModelsNotCaughtUp(file, next.projector.checkpoint(), head);
      } catch (error) {
        await this.retire(next);
        throw error;
      }
    }
    const previous = this.served;
    this.served = next;
    // A switched-to file has caught up with the head before it is served.
    this.behind.clear();
    await this.retire(previous);
    this.waiters.reached(this.position());
  }

  async close(): Promise<void> {
    await this.retire(this.served);
    this.waiters.cancel();
    this.store = undefined;
  }

  private serve(file: string): Served {
    const db = ReadModelDb.open(file, { backgroundCheckpoints: true });
    const projector = new Projector(db, this.projections);
    const unlisten = projector.onCheckpoint((position) => {
      // A file being caught up before a switch must not wake readers of the served one.
      if (this.served?.projector !== projector) return;
      if (this.behind.size > 0) this.markServed(projector);
      this.waiters.reached(position);
    });
    return { db, projector, unlisten };
  }

  /** Keeps in `behind` the views of `projector` that have not reached the start's target yet. */
  private markServed(projector: Projector): void {
    for (const projection of this.projections) {
      if (projector.positionOf(projection.name) >= this.catchUpTarget) this.behind.delete(projection.name);
      else this.behind.add(projection.name);
    }
  }

  private async retire(served: Served): Promise<void> {
    served.unlisten();
    await served.subscription?.stop();
    await served.db.closeAndWait();
  }
}
