/**
 * How many partitions change owner when an engine joins or leaves the consumer group, with the assigner the Kafka
 * source uses (kafkajs's default, RoundRobinAssigner: partitions dealt in turn to the members sorted by id), against
 * the fewest a move needs. With ownership by partition each moved partition's reactor state is rebuilt by folding
 * its history, so this count multiplies the rebuild time of a rebalance (docs/scaling.md). A simulation, not a
 * measurement: member ids are random as kafkajs makes them (`<clientId>-<uuid>`), BENCH_MOVES_TRIALS (2000) member
 * sets per case. Run: `npm run -s build && node dist/bench/partition-moves.bench.js` (BENCH_MOVES_PARTITIONS=12,24).
 */
import { randomUUID } from 'node:crypto';
import { AssignerProtocol, PartitionAssigners, type Cluster } from 'kafkajs';
import { markdownTable } from './lib/measure';

const TOPIC = 'entity-events';

type Owners = Map<number, string>;

/** The owner of each partition as kafkajs's round-robin assigner deals them to `members`. */
async function roundRobin(members: string[], partitions: number): Promise<Owners> {
  // The assigner reads only the topic's partition metadata from the cluster.
  const cluster = {
    findTopicPartitionMetadata: () => Array.from({ length: partitions }, (_, partitionId) => ({ partitionId })),
  } as unknown as Cluster;
  const assigner = PartitionAssigners.roundRobin({ cluster, groupId: 'g', logger: undefined as never });
  const assignments = await assigner.assign({
    members: members.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })),
    topics: [TOPIC],
  });
  const owners: Owners = new Map();
  for (const { memberId, memberAssignment } of assignments) {
    const decoded = AssignerProtocol.MemberAssignment.decode(memberAssignment);
    for (const partition of decoded?.assignment[TOPIC] ?? []) owners.set(partition, memberId);
  }
  return owners;
}

const member = () => `lifeline-engine-${randomUUID()}`;

/** Partitions whose owner changed between two assignments. */
function moved(before: Owners, after: Owners): number {
  let count = 0;
  for (const [partition, owner] of after) if (before.get(partition) !== owner) count++;
  return count;
}

async function main(): Promise<void> {
  const partitionCounts = (process.env.BENCH_MOVES_PARTITIONS ?? '12,24').split(',').map(Number);
  const trials = Number(process.env.BENCH_MOVES_TRIALS ?? 2_000);
  const rows: string[][] = [];
  for (const partitions of partitionCounts) {
    for (let n = 1; n <= Math.min(partitions, 12); n++) {
      let joinMoves = 0;
      let leaveMoves = 0;
      for (let t = 0; t < trials; t++) {
        const members = Array.from({ length: n }, member);
        const before = await roundRobin(members, partitions);
        joinMoves += moved(before, await roundRobin([...members, member()], partitions));
        if (n > 1) {
          const gone = members[Math.floor(Math.random() * n)]!;
          leaveMoves += moved(
            before,
            await roundRobin(
              members.filter((m) => m !== gone),
              partitions,
            ),
          );
        }
      }
      // The fewest moves: a joiner takes only its share; a leaver's partitions alone move.
      const joinMin = Math.floor(partitions / (n + 1));
      const leaveMin = n > 1 ? partitions / n : NaN;
      rows.push([
        String(partitions),
        `${n} → ${n + 1}`,
        (joinMoves / trials).toFixed(1),
        String(joinMin),
        n > 1 ? `${n} → ${n - 1}` : '',
        n > 1 ? (leaveMoves / trials).toFixed(1) : '',
        n > 1 ? leaveMin.toFixed(1) : '',
      ]);
    }
  }
  console.log(`kafkajs RoundRobinAssigner, ${trials} random member sets per row; partitions that change owner\n`);
  console.log(
    markdownTable(
      ['partitions', 'join', 'moved (mean)', 'fewest', 'leave', 'moved (mean)', 'fewest'],
      ['r', 'l', 'r', 'r', 'l', 'r', 'r'],
      rows,
    ),
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
