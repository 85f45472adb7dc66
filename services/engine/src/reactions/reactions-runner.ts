import type Database from 'better-sqlite3';
import {
  PartitionLeaseLost,
  partitionOf,
  partitionOfEvent,
  type EventStore,
  type PartitionLease,
  type PartitionedStore,
  type StoreTx,
  type StoredEvent,
  type Subscription,
} from '@lifeline/event-store';
import { partitionKeyOfRecord, type LifelineEvent } from '@lifeline/process-domain';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock';
import { isInfrastructureError } from '../shared/failure-policy';
import type { Reactor, Verdict } from './reactor';
import type { EngineReactionEffects } from './reaction-effects';

/** Backoff after an infrastructure error: 1 s, doubling, at most 30 s. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/** The checkpoint name of the reactions in the shared per-partition checkpoints. */
const REACTIONS = 'reactions';

/** How many events of a partition one fold reads at a time, when this process takes a partition over. */
const FOLD_CHUNK = 2_000;

/** What this process owns, when the engines share the work by partition. */
interface Owned {
  leases: readonly PartitionLease[];
  count: number;
  partitions: ReadonlySet<number>;
  /** Per partition, the position its records are folded up to: events at or before it are skipped. */
  from: Map<number, number>;
  /** The same for events of no record (definitions): the global checkpoint at the take-over. */
  unpartitionedFrom: number;
}

/** Told by the runner when a write found one of its leases taken: ownership takes it from there. */
export type LeaseLostListener = (partitions: readonly number[]) => void;

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
  /** Set when the engines share the work by partition: the partitions this process owns now. */
  private owned: Owned | undefined;
  private partitioned: { store: PartitionedStore; onLeaseLost: LeaseLostListener } | undefined;

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

  /**
   * The engines share the work by partition: this runner reacts only to the records of the partitions
   * `own` hands it, and fires only their timers (docs/decisions/0013-ownership-by-partition.md).
   */
  sharePartitions(store: PartitionedStore, onLeaseLost: LeaseLostListener): void {
    if (this.inline) throw new Error('Ownership by partition needs the subscription-fed reactor');
    this.partitioned = { store, onLeaseLost };
    this.owned = { leases: [], count: 0, partitions: new Set(), from: new Map(), unpartitionedFrom: 0 };
  }

  start(): void {
    this.stopped = false;
    if (!this.inline && !this.partitioned) this.subscribe();
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
    const checkpoint = this.reactor.state.checkpoint();
    // Sharing by partition, the subscription passes over the other partitions' events: it is as far as it read.
    return this.owned ? Math.max(checkpoint, this.subscription?.position() ?? 0) : checkpoint;
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
      } else if (this.owned) {
        const owned = this.owned;
        // Owning nothing, this process has no records and no schedules to fire.
        if (owned.leases.length === 0 || !this.reactor.hasDue(now, owned.partitions.has(0))) return;
        await this.inStateTransaction(() =>
          this.store.unitOfWork(async (tx) => {
            await this.reactor.fireDueTimers(tx, now);
            // The schedules are no record's: the owner of partition 0 fires them.
            if (owned.partitions.has(0)) await this.reactor.fireDueSchedules(tx, now);
            // Fenced: a process that lost a partition meanwhile commits none of this. Position 0 moves no
            // checkpoint: a partition taken over may have events its subscription has not reacted to yet.
            await this.advanceShared(tx, owned, 0);
          }),
        );
        this.recovered();
      } else if (this.reactor.hasDue(now, true)) {
        await this.inStateTransaction(() =>
          this.store.unitOfWork(async (tx) => {
            await this.reactor.fireDueTimers(tx, now);
            await this.reactor.fireDueSchedules(tx, now);
          }),
        );
      }
      if (this.inline) this.recovered();
    } catch (error) {
      if (error instanceof PartitionLeaseLost) this.leaseLost(error);
      else this.failed(error, 'timer tick failed');
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

  // ---- ownership by partition ----

  /**
   * From now on, reacts for these partitions only (each with its lease): forgets the records of the
   * others, folds each newly owned partition's records up to where its previous owner reacted, and
   * subscribes to the owned partitions' events (and those of no record) from there.
   */
  own(leases: readonly PartitionLease[], count: number): Promise<void> {
    return this.serial(async () => {
      if (!this.partitioned) throw new Error('own() needs sharePartitions() first');
      await this.subscription?.stop();
      this.subscription = undefined;
      const partitions = new Set(leases.map((lease) => lease.partition));
      const state = this.reactor.state;
      // Owning nothing (between two assignments) keeps what is folded: most of it is this engine's again next.
      if (leases.length > 0) {
        const before = this.owned && this.owned.count === count ? this.owned.partitions : new Set<number>();
        const partitionOfRecord = (recordKey: string) => partitionOf(partitionKeyOfRecord(recordKey), count);
        const owns = (recordKey: string) => partitions.has(partitionOfRecord(recordKey));
        const regained = (recordKey: string) => owns(recordKey) && !before.has(partitionOfRecord(recordKey));
        const moved = await this.inStateTransaction(async () => state.ownPartitions(owns, regained, count));
        if (moved > 0) this.logger.info({ timers: moved }, 'timers of the partitions that moved taken out or put back');
      }
      const shared = await this.partitioned.store.partitionLeases.checkpoints(REACTIONS, count, [...partitions]);
      const from = await this.foldPartitions(count, shared);
      this.owned = { leases, count, partitions, from, unpartitionedFrom: state.checkpoint() };
      this.logger.info({ partitions: [...partitions], count }, 'reactions own these partitions');
      if (this.stopped || leases.length === 0) return;
      const fromPosition = Math.min(this.owned.unpartitionedFrom, ...from.values());
      this.subscription = this.store.subscribe((events) => this.handleOwnedBatch(events), {
        fromPosition,
        batchSize: this.options.batchSize ?? 256,
        partitions: { count, owned: [...partitions], unpartitioned: true },
        onError: (error) => this.ownedSubscriptionFailed(error),
      });
    });
  }

  /**
   * Brings each owned partition's records up to its shared checkpoint (where its previous owner reacted)
   * without reacting, since the events in between were reacted to already: the partitions taken over, read
   * in one pass over the log. Returns, per partition, the position its records are folded up to.
   */
  private async foldPartitions(count: number, upTo: ReadonlyMap<number, number>): Promise<Map<number, number>> {
    const state = this.reactor.state;
    const folded = new Map<number, number>();
    for (const [partition] of upTo) folded.set(partition, state.partitionCheckpoint(partition));
    const behind = [...upTo].filter(([partition, target]) => folded.get(partition)! < target).map(([p]) => p);
    if (behind.length === 0) return folded;
    const filter = { count, owned: behind, unpartitioned: false };
    const end = Math.max(...behind.map((p) => upTo.get(p)!));
    let position = Math.min(...behind.map((p) => folded.get(p)!));
    while (position < end) {
      const read = await this.partitioned!.store.readPartitions(position, FOLD_CHUNK, filter);
      const last = read.length < FOLD_CHUNK ? end : Math.min(read.at(-1)!.position, end);
      const events = read.filter((event) => {
        if (event.position > last) return false;
        const partition = partitionOfEvent(event.metadata, count)!;
        return event.position > folded.get(partition)! && event.position <= upTo.get(partition)!;
      });
      await this.inStateTransaction(async () => {
        await this.reactor.foldOnly(events);
        for (const partition of behind) {
          const at = Math.max(folded.get(partition)!, Math.min(last, upTo.get(partition)!));
          state.setPartitionCheckpoint(partition, at);
          folded.set(partition, at);
        }
      });
      position = last;
    }
    this.logger.info({ partitions: behind, upTo: end }, 'records of the partitions taken over folded from the log');
    return folded;
  }

  private handleOwnedBatch(events: StoredEvent[]): Promise<void> {
    return this.serial(async () => {
      const owned = this.owned!;
      const verdict = (event: StoredEvent): Verdict => {
        const partition = partitionOfEvent(event.metadata, owned.count);
        if (partition === undefined) {
          if (event.position <= owned.unpartitionedFrom) return 'skip';
          // Definitions are folded everywhere; another event of no record (written before ownership) has
          // its reactions made by the owner of partition 0 alone.
          return isDefinitionEvent(event.type) || !owned.partitions.has(0) ? 'fold' : 'react';
        }
        return event.position <= (owned.from.get(partition) ?? 0) ? 'skip' : 'react';
      };
      const last = events[events.length - 1]!.position;
      await this.inStateTransaction(() =>
        this.store.unitOfWork(async (tx) => {
          await this.reactor.handleOwned(tx, events, verdict);
          const state = this.reactor.state;
          for (const partition of owned.partitions) state.setPartitionCheckpoint(partition, last);
          state.setCheckpoint(last);
          await this.advanceShared(tx, owned, last);
        }),
      );
      this.recovered();
    });
  }

  private advanceShared(tx: StoreTx, owned: Owned, position: number): Promise<void> {
    return this.partitioned!.store.partitionLeases.advance(tx, REACTIONS, owned.count, owned.leases, position);
  }

  private ownedSubscriptionFailed(error: unknown): void {
    if (error instanceof PartitionLeaseLost) return this.leaseLost(error);
    this.failed(error, 'reactions stopped on an infrastructure error; resuming from the checkpoints');
    if (this.stopped) return;
    const delay = Math.min(RETRY_FIRST_MS * 2 ** (this.consecutiveErrors - 1), RETRY_MAX_MS);
    setTimeout(() => {
      const owned = this.owned;
      if (!this.stopped && owned)
        void this.own(owned.leases, owned.count).catch((e: unknown) => this.failed(e, 'resuming the reactions failed'));
    }, delay).unref();
  }

  /** Another process took a partition: nothing of it was committed here; ownership re-owns what is left. */
  private leaseLost(error: PartitionLeaseLost): void {
    this.logger.warn({ partitions: error.partitions }, 'partition taken by another engine; its work stops here');
    this.partitioned?.onLeaseLost(error.partitions);
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

const DEFINITION_EVENTS: ReadonlySet<LifelineEvent['type']> = new Set([
  'DefinitionPublished',
  'DefinitionActivated',
  'DefinitionDeactivated',
  'ExecutionOrderChanged',
]);

const isDefinitionEvent = (type: string): boolean => DEFINITION_EVENTS.has(type as LifelineEvent['type']);
