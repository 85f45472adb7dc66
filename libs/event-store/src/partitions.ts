import type { PartitionFilter, StoreTx, StoredEvent } from './event-store';

/**
 * Partitions of the work: a record (`<entityType>:<entityId>`, the Kafka key of its entity events) belongs
 * to the partition Kafka's default partitioner puts that key in, so the engine that consumes a record's
 * entity events also runs its reactions, its timers and the publishing of its messages
 * (docs/decisions/0013-ownership-by-partition.md).
 */

/**
 * Kafka's murmur2 (the Java client's `Utils.murmur2`, seed 0x9747b28c) over the key's UTF-8 bytes, made
 * positive as its default partitioner does (`& 0x7fffffff`). kafkajs's DefaultPartitioner and librdkafka's
 * `murmur2_random` give the same partitions.
 */
export function partitionHash(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const length = data.length;
  const m = 0x5bd1e995;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The tail bytes, as the reference's fall-through switch takes them.
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h & 0x7fffffff;
}

/** The partition of a record key among `count` partitions: Kafka's `toPositive(murmur2(key)) % count`. */
export const partitionOf = (key: string, count: number): number => partitionHash(key) % count;

/** The partition an event's metadata names among `count`, or undefined for an event of no record. */
export function partitionOfEvent(metadata: { partitionKey?: string }, count: number): number | undefined {
  return metadata.partitionKey === undefined ? undefined : partitionOf(metadata.partitionKey, count);
}

/** One partition held by this process: the epoch its lease was taken at fences every write made for it. */
export interface PartitionLease {
  partition: number;
  epoch: number;
}

/**
 * Leases on partitions, kept by the store every engine shares: a process holds a partition while its
 * session lives (a crash or SIGKILL ends the session and frees it at once), and each take bumps the
 * partition's epoch. Checkpoints per partition advance only under the epoch they were taken at, inside
 * the unit that did the work, so a process that lost a partition cannot commit work for it.
 */
export interface PartitionLeases {
  /** Takes `partition` for this process, or undefined while another process holds it. */
  tryAcquire(partition: number, owner: string): Promise<PartitionLease | undefined>;
  /** Gives `partition` back (its checkpoints stay). */
  release(partition: number): Promise<void>;
  /**
   * The checkpoints (last position handled) of `name` for these partitions among `count`. Where none is stored
   * for this count (the topic's partition count changed, so each partition holds other records now), the
   * lowest checkpoint of `name` under another count: every record's work up to it was done, whatever its
   * partition was. 0 where none is stored at all.
   */
  checkpoints(name: string, count: number, partitions: readonly number[]): Promise<Map<number, number>>;
  /**
   * Inside a unit: moves the checkpoints of `name` for these leases up to `position` (never back), and
   * throws `PartitionLeaseLost` when a lease was taken by another process since, so the unit rolls back.
   */
  advance(tx: StoreTx, name: string, count: number, leases: readonly PartitionLease[], position: number): Promise<void>;
  /**
   * Called when leases are lost outside a write: every lease of this process when its session is lost
   * (PostgreSQL), or those `partitions` when they expired or were found taken on renewal (EventStoreDB).
   */
  onLost(listener: (error: unknown, partitions?: readonly number[]) => void): void;
}

export class PartitionLeaseLost extends Error {
  readonly code = 'STORE.PARTITION_LEASE_LOST';
  constructor(readonly partitions: readonly number[]) {
    super(`Partition lease lost: ${partitions.join(', ')} taken by another process`);
    this.name = 'PartitionLeaseLost';
  }
}

/** A store that keeps partition leases (PostgreSQL, EventStoreDB): the engines of a cluster share work through it. */
export interface PartitionedStore {
  readonly partitionLeases: PartitionLeases;
  /** The first event of a record (an entity or instance stream) stored without a partition key, if any. */
  firstEventWithoutPartition(): Promise<{ position: number; streamId: string } | undefined>;
  /** Events of the log after `fromPosition` that `filter` wants, in order (at most `maxCount`). */
  readPartitions(
    fromPosition: number,
    maxCount: number,
    filter: PartitionFilter,
    prefixes?: readonly string[],
  ): Promise<StoredEvent[]>;
}

export const partitionedStoreOf = (store: object): PartitionedStore | undefined =>
  'partitionLeases' in store ? (store as PartitionedStore) : undefined;
