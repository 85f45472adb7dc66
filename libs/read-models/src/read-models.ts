import type { EventStore, StoredEvent, Subscription } from '../../event-store/src/event-store';
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

export interface ReadModelsOptions {
  projections?: Projection[];
  batchSize?: number;
  /** How long switchTo waits for a rebuilt file to catch up with the log's head. */
  catchUpTimeoutMs?: number;
  onError?: (error: unknown) => void;
}

interface Served {
  db: ReadModelDb;
  projector: Projector;
  unlisten: () => void;
  subscription?: Subscription;
}

interface Waiter {
  position: number;
  resolve: (caughtUp: boolean) => void;
  timer: NodeJS.Timeout;
}

/**
 * The read-model file the API queries, and the projector that keeps it current. It can switch to
 * a rebuilt file in one step: queries see the old rows until the new file has caught up.
 */
export class ReadModels {
  private served: Served;
  private store?: EventStore;
  private readonly waiters = new Set<Waiter>();
  private readonly projections: Projection[];

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

  /** Resolves true once the read models reach `position`, false after `timeoutMs` (read-your-writes). */
  waitForPosition(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position() >= position) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        position,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
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
    if (first.position !== projector.checkpoint() + 1) return false;
    projector.applyBatch(events as StoredEvent[]);
    return true;
  }

  /** Keeps the served file current from the store's log. */
  async start(store: EventStore): Promise<void> {
    if (this.store) return;
    this.store = store;
    this.served.subscription = await runProjector(store, this.served.projector, {
      batchSize: this.options.batchSize,
      onError: this.options.onError,
    });
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
    await this.retire(previous);
    this.notify(this.position());
  }

  async close(): Promise<void> {
    await this.retire(this.served);
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(false);
    }
    this.waiters.clear();
    this.store = undefined;
  }

  private serve(file: string): Served {
    const db = ReadModelDb.open(file, { backgroundCheckpoints: true });
    const projector = new Projector(db, this.projections);
    const unlisten = projector.onCheckpoint((position) => {
      // A file being caught up before a switch must not wake readers of the served one.
      if (this.served?.projector === projector) this.notify(position);
    });
    return { db, projector, unlisten };
  }

  private async retire(served: Served): Promise<void> {
    served.unlisten();
    await served.subscription?.stop();
    await served.db.closeAndWait();
  }

  private notify(position: number): void {
    for (const waiter of this.waiters) {
      if (waiter.position <= position) {
        clearTimeout(waiter.timer);
        this.waiters.delete(waiter);
        waiter.resolve(true);
      }
    }
  }
}
