import pino from 'pino';
import type { PartitionLease, PartitionLeases } from '@lifeline/event-store';
import { PartitionOwnership, type PartitionWorker } from './partition-ownership';

/** Leases as a table in memory: who holds which partition, each take bumping its epoch; every call logged. */
class Leases implements PartitionLeases {
  readonly holder = new Map<number, string>();
  readonly epochs = new Map<number, number>();
  readonly log: string[] = [];
  private lostListener: ((error: unknown) => void) | undefined;

  async tryAcquire(partition: number, owner: string): Promise<PartitionLease | undefined> {
    const holder = this.holder.get(partition);
    if (holder !== undefined && holder !== owner) return undefined;
    const epoch = holder === owner ? this.epochs.get(partition)! : (this.epochs.get(partition) ?? 0) + 1;
    this.holder.set(partition, owner);
    this.epochs.set(partition, epoch);
    this.log.push(`take ${partition}`);
    return { partition, epoch };
  }
  async release(partition: number): Promise<void> {
    this.holder.delete(partition);
    this.log.push(`release ${partition}`);
  }
  async checkpoints(): Promise<Map<number, number>> {
    return new Map();
  }
  async advance(): Promise<void> {}
  onLost(listener: (error: unknown) => void): void {
    this.lostListener = listener;
  }
  /** The session died: nothing is held any more. */
  loseSession(owner: string): void {
    for (const [partition, holder] of this.holder) if (holder === owner) this.holder.delete(partition);
    this.lostListener?.(new Error('session ended'));
  }
}

/** A worker that records what it was handed, and can be told to fail the next hand-over. */
class Worker implements PartitionWorker {
  failNext = false;
  constructor(
    private readonly name: string,
    private readonly log: string[],
  ) {}
  async own(leases: readonly PartitionLease[], count: number): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the store is down');
    }
    this.log.push(`${this.name} owns ${leases.map((l) => l.partition).join(',') || '-'} of ${count}`);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 400));

describe('PartitionOwnership', () => {
  let leases: Leases;
  let worker: Worker;
  let ownership: PartitionOwnership;

  beforeEach(() => {
    leases = new Leases();
    worker = new Worker('w', leases.log);
    ownership = new PartitionOwnership(leases, 'a', [worker], pino({ level: 'silent' }));
  });
  afterEach(() => ownership.stop());

  it('takes what the group assigns, and stops its workers before it gives a lease up', async () => {
    ownership.assign({ partitionCount: 4, partitions: [0, 1, 2, 3] });
    await settle();
    expect(ownership.health()).toEqual({
      mode: 'partitions',
      partitionCount: 4,
      partitions: [0, 1, 2, 3],
      waiting: [],
    });
    leases.log.length = 0;
    ownership.assign({ partitionCount: 4, partitions: [0, 1] });
    await settle();
    expect(leases.log).toEqual(['w owns 0,1 of 4', 'release 2', 'release 3']);
    expect(ownership.health().partitions).toEqual([0, 1]);
  });

  it('waits for a partition another engine still holds, and takes it once given up', async () => {
    leases.holder.set(2, 'b');
    ownership.assign({ partitionCount: 4, partitions: [1, 2] });
    await settle();
    expect(ownership.health()).toMatchObject({ partitions: [1], waiting: [2] });
    await leases.release(2);
    await settle();
    expect(ownership.health()).toMatchObject({ partitions: [1, 2], waiting: [] });
    expect(leases.log.filter((l) => l.startsWith('w owns'))).toEqual(['w owns 1 of 4', 'w owns 1,2 of 4']);
  });

  it('a failed hand-over keeps the lease to give up until the workers have stopped, then releases it', async () => {
    ownership.assign({ partitionCount: 4, partitions: [0, 1] });
    await settle();
    worker.failNext = true;
    ownership.assign({ partitionCount: 4, partitions: [0] });
    await settle();
    // The first attempt failed; the retry stopped the worker for 1, then released it.
    expect(leases.log.slice(-2)).toEqual(['w owns 0 of 4', 'release 1']);
    expect(leases.holder.get(1)).toBeUndefined();
  });

  it('a lost session hands the workers nothing, then takes the assigned partitions again (a new epoch)', async () => {
    ownership.assign({ partitionCount: 4, partitions: [0, 1] });
    await settle();
    const before = leases.epochs.get(0)!;
    leases.loseSession('a');
    await settle();
    expect(leases.log.filter((l) => l.startsWith('w owns')).slice(-2)).toEqual(['w owns - of 4', 'w owns 0,1 of 4']);
    expect(leases.epochs.get(0)).toBe(before + 1);
  });

  it('a new partition count hands every partition over and takes them again', async () => {
    ownership.assign({ partitionCount: 4, partitions: [0, 1] });
    await settle();
    leases.log.length = 0;
    ownership.assign({ partitionCount: 6, partitions: [0, 1, 2] });
    await settle();
    expect(leases.log).toEqual([
      'w owns - of 4',
      'release 0',
      'release 1',
      'take 0',
      'take 1',
      'take 2',
      'w owns 0,1,2 of 6',
    ]);
  });

  it('stop gives every lease back after the workers stopped', async () => {
    ownership.assign({ partitionCount: 4, partitions: [3] });
    await settle();
    await ownership.stop();
    expect(leases.log.slice(-2)).toEqual(['w owns - of 4', 'release 3']);
  });
});
