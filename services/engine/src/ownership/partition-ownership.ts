import type { PartitionLease, PartitionLeases } from '@lifeline/event-store';
import type { Logger } from 'pino';

/** Something that works for the partitions this process owns: the reactions, the outbox relay. */
export interface PartitionWorker {
  /** Work for exactly these partitions from now on; resolves once the work for the others has stopped. */
  own(leases: readonly PartitionLease[], count: number): Promise<void>;
}

/** What the Kafka consumer group gave this process: partitions of the entity topic, out of `partitionCount`. */
export interface Assignment {
  partitionCount: number;
  partitions: readonly number[];
}

export interface OwnershipHealth {
  mode: 'partitions';
  partitionCount: number;
  /** Partitions this process owns and works for (it holds their leases). */
  partitions: number[];
  /** Assigned by the consumer group, still held by the engine that had them (it finishes its batch first). */
  waiting: number[];
}

/** How often a partition still held by its previous owner is asked for again. */
const RETRY_MS = 250;

/**
 * Ownership by partition (docs/decisions/0013-ownership-by-partition.md). The Kafka consumer group says
 * which partitions of the entity topic are this engine's; a lease in the shared store makes it so. A
 * partition this engine lost is given to its workers' successors only after they stopped working for
 * it, then its lease is released; a partition it gained is worked for once its lease is taken, which
 * waits for the previous owner to release it (or for its session to end, when it died).
 */
export class PartitionOwnership {
  private assigned: Assignment = { partitionCount: 0, partitions: [] };
  private readonly held = new Map<number, PartitionLease>();
  /** Given up, workers not yet stopped for them, or their lease not yet released. */
  private readonly releasing = new Set<number>();
  private count = 0;
  private queue: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  private stopped = false;
  /** What the workers were last handed (count and leases), so an unchanged set is not handed again. */
  private told = '0:';

  constructor(
    private readonly leases: PartitionLeases,
    private readonly owner: string,
    private readonly workers: readonly PartitionWorker[],
    private readonly logger: Logger,
  ) {
    leases.onLost((error, partitions) => {
      const lost = partitions ?? [...this.held.keys()];
      this.logger.error({ err: error, partitions: lost }, 'partition leases lost; taking the partitions again');
      this.forget(lost);
    });
  }

  /** The consumer group's new assignment (a rebalance): hand over what moved, take what came. */
  assign(assignment: Assignment): void {
    this.assigned = assignment;
    this.reconcileSoon();
  }

  /** A worker found a lease taken by another engine: that partition is no longer this engine's. */
  leaseLost(partitions: readonly number[]): void {
    this.forget(partitions);
  }

  health(): OwnershipHealth {
    const partitions = [...this.held.keys()].sort((a, b) => a - b);
    return {
      mode: 'partitions',
      partitionCount: this.count,
      partitions,
      waiting: this.assigned.partitions.filter((p) => !this.held.has(p)).sort((a, b) => a - b),
    };
  }

  /** Gives every partition back (their workers stop first), so the other engines take them at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.assigned = { partitionCount: this.count, partitions: [] };
    await this.run(() => this.reconcile());
  }

  private forget(partitions: readonly number[]): void {
    for (const partition of partitions) this.held.delete(partition);
    this.reconcileSoon();
  }

  private reconcileSoon(): void {
    void this.run(() => this.reconcile()).catch((error: unknown) => {
      this.logger.error({ err: error }, 'partition ownership failed; trying again');
      this.scheduleRetry();
    });
  }

  private run(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async reconcile(): Promise<void> {
    const { partitionCount, partitions } = this.assigned;
    const wanted = new Set(partitions);
    // A new partition count moves most records to other partitions: every partition is handed over again.
    const recount = partitionCount !== this.count && this.held.size > 0;
    const lost = [...this.held.keys()].filter((p) => recount || !wanted.has(p));
    for (const partition of lost) {
      this.held.delete(partition);
      this.releasing.add(partition);
    }
    // Workers stop for what is no longer held (lost here, or taken by another engine) before a lease goes; if
    // that fails, the leases wait in `releasing` for the next attempt, so none is kept by mistake.
    await this.tellWorkers();
    const released = [...this.releasing];
    for (const partition of released) {
      await this.leases.release(partition);
      this.releasing.delete(partition);
    }
    if (released.length > 0) this.logger.info({ partitions: released }, 'partitions handed over');
    this.count = partitionCount;
    const gained: number[] = [];
    for (const partition of partitions) {
      if (this.held.has(partition) || this.stopped) continue;
      const lease = await this.leases.tryAcquire(partition, this.owner);
      if (lease === undefined) continue;
      this.held.set(partition, lease);
      gained.push(partition);
    }
    if (gained.length > 0) {
      await this.tellWorkers();
      this.logger.info({ partitions: gained, count: partitionCount }, 'partitions taken over');
    }
    if (!this.stopped && partitions.some((p) => !this.held.has(p))) this.scheduleRetry();
  }

  /** Hands the workers what is held now, when it differs from what they have. */
  private async tellWorkers(): Promise<void> {
    const leases = [...this.held.values()].sort((a, b) => a.partition - b.partition);
    const told = `${this.count}:${leases.map((l) => `${l.partition}@${l.epoch}`).join(',')}`;
    if (told === this.told) return;
    for (const worker of this.workers) await worker.own(leases, this.count);
    this.told = told;
  }

  private scheduleRetry(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.reconcileSoon();
    }, RETRY_MS);
    this.retry.unref();
  }
}
