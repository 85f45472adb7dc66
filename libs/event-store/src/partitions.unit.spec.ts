import { Partitioners } from 'kafkajs';
import { partitionHash, partitionOf, partitionOfEvent } from './partitions';

describe('partitions: Kafka default partitioner', () => {
  // Apache Kafka's own vectors for Utils.murmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java),
  // as signed ints; the partitioner takes them `& 0x7fffffff`.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%s) is Kafka’s', (key, signed) => {
    expect(partitionHash(key)).toBe(signed & 0x7fffffff);
  });

  it('puts every key where kafkajs’s DefaultPartitioner puts it (non-ASCII keys and every tail length too)', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, partitionId) => ({ partitionId, leader: 0 }));
    const keys = ['Kunde:Ü-1', 'Invoice:INV-7', 'Order:O-1234', 'A:1', 'A:12', 'A:123', 'Ticket:日本-42'];
    for (let n = 0; n < 500; n++) keys.push(`Invoice:INV-${n}`);
    for (const key of keys) {
      const kafkajs = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } } as never);
      expect([key, partitionOf(key, 12)]).toEqual([key, kafkajs]);
    }
  });

  it('spreads keys over the partitions and keeps each key on one', () => {
    const counts = new Array<number>(12).fill(0);
    for (let n = 0; n < 12_000; n++) counts[partitionOf(`Invoice:INV-${n}`, 12)]! += 1;
    // 1,000 expected per partition; a fair hash stays well within ±15 %.
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
    expect(partitionOf('Invoice:INV-7', 12)).toBe(partitionOf('Invoice:INV-7', 12));
  });

  it('an event of no record has no partition', () => {
    expect(partitionOfEvent({}, 12)).toBeUndefined();
    expect(partitionOfEvent({ partitionKey: 'Invoice:INV-7' }, 12)).toBe(partitionOf('Invoice:INV-7', 12));
  });
});
