import {
  PartitionLeaseLost,
  partitionOfEvent,
  type EventStore,
  type PartitionFilter,
  type PartitionLease,
  type PartitionedStore,
  type StoredEvent,
  type Subscription,
} from '@lifeline/event-store';
import { errorFields, silentLogger, type EntityEventsLogger } from '../logger';
import type { CheckpointStore } from './checkpoint-store';
import type { OutboundPublisher } from './outbound-publisher';
import { toOutboundMessages } from './to-outbound-messages';

export interface OutboxRelayOptions {
  /** Checkpoint name; two relays with different names publish independently. */
  name?: string;
  batchSize?: number;
  initialRetryMs?: number;
  maxRetryMs?: number;
  /** Injected so tests can drive the backoff without waiting. */
  sleep?: (ms: number) => Promise<void>;
}

/** The checkpoint name of the relay in the shared per-partition checkpoints. */
const OUTBOX = 'outbox';

/** What the relay owns when the engines share the work by partition. */
interface OwnedPartitions {
  leases: readonly PartitionLease[];
  count: number;
  /** Per partition, the last position published by whoever owned it before. */
  from: Map<number, number>;
}

/** The instance events of the owned partitions' records (an instance event always names its record). */
const ownedFilter = (owned: OwnedPartitions): PartitionFilter => ({
  count: owned.count,
  owned: [...owned.from.keys()],
  unpartitioned: false,
});

class RelayStopped extends Error {
  constructor() {
    super('The outbox relay was stopped');
    this.name = 'RelayStopped';
  }
}

/**
 * Publishes instance events to the outbound port, in store order, at least once: a batch is
 * published (retried with backoff until it goes out, never skipped), then its checkpoint is
 * stored. After a crash or restart it resumes from the checkpoint, repeating at most one batch.
 */
export class OutboxRelay {
  private readonly name: string;
  private readonly batchSize: number;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private subscription: Subscription | undefined;
  private position = 0;
  private running = false;
  private wakeSleeper: (() => void) | undefined;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  /** Set when the engines share the work by partition (see `sharePartitions`). */
  private partitioned: { store: PartitionedStore; onLeaseLost: (partitions: readonly number[]) => void } | undefined;
  private owned: OwnedPartitions | undefined;
  /** Set while `own` stops the subscription: a batch still retrying gives up. */
  private handingOver = false;
  /** Messages this relay published (a batch repeated after a failure counts again). */
  published = 0;

  constructor(
    private readonly store: EventStore,
    private readonly publisher: OutboundPublisher,
    private readonly checkpoints: CheckpointStore,
    private readonly logger: EntityEventsLogger = silentLogger,
    options: OutboxRelayOptions = {},
  ) {
    this.name = options.name ?? 'outbox-relay';
    this.batchSize = options.batchSize ?? 200;
    this.initialRetryMs = options.initialRetryMs ?? 200;
    this.maxRetryMs = options.maxRetryMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * The engines share the work by partition: this relay publishes only the messages of the records
   * of the partitions `own` hands it, from the checkpoints their previous owner left in the store.
   */
  sharePartitions(store: PartitionedStore, onLeaseLost: (partitions: readonly number[]) => void): void {
    this.partitioned = { store, onLeaseLost };
    this.owned = { leases: [], count: 0, from: new Map() };
  }

  /** Publishes the messages of these partitions from now on (the previous set's batch in flight ends first). */
  async own(leases: readonly PartitionLease[], count: number): Promise<void> {
    const partitioned = this.partitioned;
    if (!partitioned) throw new Error('own() needs sharePartitions() first');
    // A batch retrying against a broker that is down must not hold the hand-over: it is given up, unpublished
    // and not checkpointed, and the partitions' next owner publishes it.
    this.handingOver = true;
    this.wakeSleeper?.();
    if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
    this.resubscribeTimer = undefined;
    await this.subscription?.stop();
    this.handingOver = false;
    this.subscription = undefined;
    const partitions = leases.map((lease) => lease.partition);
    const from = await partitioned.store.partitionLeases.checkpoints(OUTBOX, count, partitions);
    this.owned = { leases, count, from };
    if (!this.running || leases.length === 0) return;
    this.position = Math.min(...from.values());
    this.subscribe();
    this.logger.info(
      { relay: this.name, partitions, fromPosition: this.position },
      'outbox relay owns these partitions',
    );
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    // Sharing by partition, it starts with what `own` hands it.
    if (this.partitioned) return;
    this.position = await this.checkpoints.get(this.name);
    this.subscribe();
    this.logger.info({ relay: this.name, fromPosition: this.position }, 'outbox relay started');
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.resubscribeTimer) clearTimeout(this.resubscribeTimer);
    this.wakeSleeper?.();
    await this.subscription?.stop();
    this.subscription = undefined;
    this.logger.info({ relay: this.name, position: this.position }, 'outbox relay stopped');
  }

  /** The last global position whose messages are published and checkpointed. */
  checkpoint(): number {
    // Sharing by partition, the subscription passes over the other partitions' events: it is as far as it read.
    return this.owned ? Math.max(this.position, this.subscription?.position() ?? 0) : this.position;
  }

  /** The instance events this relay has yet to publish, counted up to `cap` (the backlog metric). */
  async backlog(cap: number): Promise<number> {
    const owned = this.owned;
    const from = this.checkpoint();
    if (!owned) return (await this.store.readAll(from, cap, ['instance-'])).length;
    if (owned.leases.length === 0) return 0;
    return (await this.partitioned!.store.readPartitions(from, cap, ownedFilter(owned), ['instance-'])).length;
  }

  /** Resolves true once every instance event up to `position` is published (false on timeout). */
  caughtUpTo(position: number, timeoutMs = 5_000): Promise<boolean> {
    return this.subscription ? this.subscription.caughtUpTo(position, timeoutMs) : Promise.resolve(false);
  }

  private subscribe(): void {
    const owned = this.owned;
    this.subscription = this.store.subscribe(
      (events) => (owned ? this.relayOwned(owned, events) : this.relay(events)),
      {
        fromPosition: this.position,
        prefixes: ['instance-'],
        batchSize: this.batchSize,
        ...(owned ? { partitions: ownedFilter(owned) } : {}),
        onError: (error) => this.onSubscriptionError(error),
      },
    );
  }

  private async relay(events: StoredEvent[]): Promise<void> {
    const messages = events.flatMap(toOutboundMessages);
    await this.publishUntilDelivered(messages, events[0].position);
    const last = events[events.length - 1].position;
    await this.checkpoints.set(this.name, last);
    this.position = last;
  }

  /**
   * A batch of the owned partitions: what their previous owner published is skipped, the rest published,
   * then the partitions' checkpoints move in one unit, fenced by the leases (a relay that lost a partition
   * meanwhile stops there; the new owner publishes from the checkpoint, so only that batch may repeat).
   */
  private async relayOwned(owned: OwnedPartitions, events: StoredEvent[]): Promise<void> {
    const fresh = events.filter(
      (event) => event.position > (owned.from.get(partitionOfEvent(event.metadata, owned.count) ?? -1) ?? 0),
    );
    const messages = fresh.flatMap(toOutboundMessages);
    await this.publishUntilDelivered(messages, events[0].position);
    const last = events[events.length - 1].position;
    const leases = this.partitioned!.store.partitionLeases;
    await this.store.unitOfWork((tx) => leases.advance(tx, OUTBOX, owned.count, owned.leases, last));
    this.position = last;
  }

  private async publishUntilDelivered(
    messages: Parameters<OutboundPublisher['publish']>[0],
    fromPosition: number,
  ): Promise<void> {
    let delay = this.initialRetryMs;
    for (let attempt = 1; ; attempt += 1) {
      if (!this.running || this.handingOver) throw new RelayStopped();
      try {
        await this.publisher.publish(messages);
        this.published += messages.length;
        if (attempt > 1) this.logger.info({ relay: this.name, fromPosition, attempt }, 'outbound publish recovered');
        return;
      } catch (error) {
        this.logger.warn(
          { ...errorFields(error), relay: this.name, fromPosition, attempt, retryInMs: delay },
          'outbound publish failed; retrying',
        );
        await this.interruptibleSleep(delay);
        delay = Math.min(delay * 2, this.maxRetryMs);
      }
    }
  }

  private async interruptibleSleep(ms: number): Promise<void> {
    await Promise.race([this.sleep(ms), new Promise<void>((resolve) => (this.wakeSleeper = resolve))]);
    this.wakeSleeper = undefined;
  }

  private onSubscriptionError(error: unknown): void {
    if (!this.running || error instanceof RelayStopped) return;
    if (error instanceof PartitionLeaseLost) {
      this.logger.warn({ relay: this.name, partitions: error.partitions }, 'partition taken by another engine');
      this.partitioned?.onLeaseLost(error.partitions);
      return;
    }
    // The checkpoint store or the mapping failed: resume from the last stored checkpoint later.
    this.logger.error(
      { ...errorFields(error), relay: this.name, position: this.position },
      'outbox relay subscription failed; resubscribing',
    );
    this.resubscribeTimer = setTimeout(() => {
      this.resubscribeTimer = undefined;
      if (this.running) this.subscribe();
    }, this.maxRetryMs);
  }
}
