import pg from 'pg';
import type { StoreTx } from '../event-store';
import { PartitionLeaseLost, type PartitionLease, type PartitionLeases } from '../partitions';

type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/**
 * Partition leases on PostgreSQL. Holding a partition is a session-level advisory lock on a connection of
 * its own: while this process lives it keeps the lock, and when it dies (SIGKILL included) the server ends
 * the session and the lock with it, so a survivor takes the partition at once, without waiting for a lease
 * to run out. Each take bumps the partition's epoch in `partition_leases`; a checkpoint advances only
 * while its row still has the epoch the writer took it at, read `FOR SHARE` in the writer's transaction, so
 * a take waits for that transaction and a writer that lost the partition cannot commit work for it.
 */
export class PostgresPartitionLeases implements PartitionLeases {
  private session: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly held = new Map<number, PartitionLease>();
  private readonly lostListeners: ((error: unknown) => void)[] = [];
  private closed = false;
  private readonly t: { leases: string; checkpoints: string };
  /** The advisory-lock namespace: one per store schema, so two stores on one server do not collide. */
  private readonly lockSpace: string;

  constructor(
    private readonly connectionString: string,
    schema: string,
    private readonly poolQuery: Query,
    private readonly writerQuery: Query,
    quotedSchema: string,
  ) {
    this.t = { leases: `${quotedSchema}.partition_leases`, checkpoints: `${quotedSchema}.partition_checkpoints` };
    this.lockSpace = `lifeline-partition:${schema}`;
  }

  async tryAcquire(partition: number, owner: string): Promise<PartitionLease | undefined> {
    checkPartition(partition);
    const existing = this.held.get(partition);
    if (existing) return existing;
    const session = await this.sessionClient();
    const { rows } = await session.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), $2) AS got', [
      this.lockSpace,
      partition,
    ]);
    if (!rows[0]?.got) return undefined;
    try {
      const taken = await session.query<{ epoch: string }>(
        `INSERT INTO ${this.t.leases} (partition, epoch, owner, taken_at) VALUES ($1, 1, $2, now())
          ON CONFLICT (partition) DO UPDATE SET epoch = ${this.t.leases}.epoch + 1, owner = $2, taken_at = now()
          RETURNING epoch`,
        [partition, owner],
      );
      const lease = { partition, epoch: Number(taken.rows[0]!.epoch) };
      this.held.set(partition, lease);
      return lease;
    } catch (error) {
      await session.query('SELECT pg_advisory_unlock(hashtext($1), $2)', [this.lockSpace, partition]).catch(() => {});
      throw error;
    }
  }

  async release(partition: number): Promise<void> {
    const lease = this.held.get(partition);
    if (!lease) return;
    this.held.delete(partition);
    const session = this.session;
    if (!session) return;
    await session.query(`UPDATE ${this.t.leases} SET owner = NULL WHERE partition = $1 AND epoch = $2`, [
      partition,
      lease.epoch,
    ]);
    await session.query('SELECT pg_advisory_unlock(hashtext($1), $2)', [this.lockSpace, partition]);
  }

  async checkpoints(name: string, count: number, partitions: readonly number[]): Promise<Map<number, number>> {
    const found = new Map<number, number>();
    if (partitions.length === 0) return found;
    const [own, other] = await Promise.all([
      this.poolQuery<{ partition: number; position: string }>(
        `SELECT partition, position FROM ${this.t.checkpoints}
          WHERE name = $1 AND partition_count = $2 AND partition = ANY($3::integer[])`,
        [name, count, partitions],
      ),
      this.poolQuery<{ partition_count: number; lowest: string; stored: string }>(
        `SELECT partition_count, min(position) AS lowest, count(*) AS stored FROM ${this.t.checkpoints}
          WHERE name = $1 AND partition_count <> $2 GROUP BY partition_count`,
        [name, count],
      ),
    ]);
    for (const row of own.rows) found.set(row.partition, Number(row.position));
    // Under another count, a partition without a row had no work done at all: that count's lowest is then 0.
    const lowest = other.rows.map((row) => (Number(row.stored) < row.partition_count ? 0 : Number(row.lowest)));
    const fallback = lowest.length > 0 ? Math.min(...lowest) : 0;
    for (const partition of partitions) if (!found.has(partition)) found.set(partition, fallback);
    return found;
  }

  async advance(
    _tx: StoreTx,
    name: string,
    count: number,
    leases: readonly PartitionLease[],
    position: number,
  ): Promise<void> {
    if (leases.length === 0) return;
    // In the unit's transaction (the writer's connection): the lease rows are read FOR SHARE, so a take
    // (an UPDATE of the row) waits until this transaction ends, and then bumps an epoch this one no longer needs.
    const { rows } = await this.writerQuery<{ partition: number }>(
      `WITH fenced AS (
         SELECT l.partition FROM ${this.t.leases} l
           JOIN unnest($2::integer[], $3::bigint[]) AS u (p, e) ON l.partition = u.p AND l.epoch = u.e
           FOR SHARE OF l)
       INSERT INTO ${this.t.checkpoints} (name, partition_count, partition, position)
         SELECT $1, $5, partition, $4 FROM fenced
       ON CONFLICT (name, partition_count, partition)
         DO UPDATE SET position = GREATEST(${this.t.checkpoints}.position, excluded.position)
       RETURNING partition`,
      [name, leases.map((l) => l.partition), leases.map((l) => l.epoch), position, count],
    );
    if (rows.length === leases.length) return;
    const kept = new Set(rows.map((row) => row.partition));
    const lost = leases.map((l) => l.partition).filter((p) => !kept.has(p));
    // Only the lease the caller named is gone: a newer one this session took since stays (and so does its lock).
    for (const { partition, epoch } of leases) {
      if (!kept.has(partition) && this.held.get(partition)?.epoch === epoch) this.held.delete(partition);
    }
    throw new PartitionLeaseLost(lost);
  }

  onLost(listener: (error: unknown) => void): void {
    this.lostListeners.push(listener);
  }

  /** The partitions this process holds now. */
  heldPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held.clear();
    const session = this.session ?? (await this.connecting?.catch(() => undefined));
    this.session = undefined;
    // Ending the session frees every advisory lock it holds.
    await session?.end().catch(() => undefined);
  }

  private sessionClient(): Promise<pg.Client> {
    if (this.session) return Promise.resolve(this.session);
    if (this.closed) return Promise.reject(new Error('The partition leases are closed'));
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString });
      let lostOnce = false;
      const lost = (error: unknown) => {
        if (lostOnce || this.session !== client) return;
        lostOnce = true;
        this.session = undefined;
        this.held.clear();
        if (this.closed) return;
        for (const listener of this.lostListeners) listener(error);
      };
      client.on('error', lost);
      client.on('end', () => lost(new Error('The partition leases session ended')));
      try {
        await client.connect();
      } catch (error) {
        this.connecting = undefined;
        throw error;
      }
      this.session = client;
      this.connecting = undefined;
      return client;
    })();
    return this.connecting;
  }
}

function checkPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) {
    throw new RangeError(`A partition is an integer from 0, not ${partition}`);
  }
}
