import { CompressionTypes, type KafkaMessage } from 'kafkajs';
import {
  decompressedBatchCounts,
  registerKafkaCodecs,
  replaceKafkaCodec,
  undecodableBatch,
  type KafkaCodec,
} from './codecs';

// kafkajs's own record-batch encoder and decoder: the path a fetched batch takes, without a broker.
/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs's protocol modules have no typed entry point */
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as {
  RecordBatch(args: {
    compression: number;
    firstOffset: unknown;
    lastOffsetDelta: number;
    records: unknown[];
  }): Promise<{
    buffer: Buffer;
  }>;
};
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (args: object) => unknown;
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (
  decoder: unknown,
) => Promise<{ records: KafkaMessage[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;
const Long = require('kafkajs/src/utils/long') as { fromValue(v: string): unknown };
/* eslint-enable @typescript-eslint/no-require-imports */

const TYPES: Record<KafkaCodec, CompressionTypes> = {
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

const values = Array.from({ length: 5 }, (_, i) =>
  JSON.stringify({ id: `e-${i}`, entityType: 'Order', entityId: `O-${i}`, note: 'x'.repeat(100) }),
);

async function encodedBatch(codec: KafkaCodec, firstOffset = '40'): Promise<Buffer> {
  const records = values.map((value, i) => Record({ offsetDelta: i, key: `Order:O-${i}`, value }));
  const batch = await RecordBatch({
    compression: TYPES[codec],
    firstOffset: Long.fromValue(firstOffset),
    lastOffsetDelta: values.length - 1,
    records,
  });
  return batch.buffer;
}

// The fetch response holds other bytes before a batch; the codec must not rely on the batch starting at 0.
const decode = async (batch: Buffer) =>
  (await decodeRecordBatch(new Decoder(Buffer.concat([Buffer.alloc(100, 7), batch]).subarray(100)))).records;

describe('Kafka codecs', () => {
  beforeAll(() => registerKafkaCodecs());

  it.each(['gzip', 'snappy', 'lz4'] as const)('round-trips a %s batch through kafkajs and counts it', async (codec) => {
    const before = decompressedBatchCounts()[codec];
    const records = await decode(await encodedBatch(codec));
    expect(records.map((r) => r.value?.toString())).toEqual(values);
    expect(records.map((r) => r.offset)).toEqual(['40', '41', '42', '43', '44']);
    expect(records.every((r) => undecodableBatch(r) === undefined)).toBe(true);
    expect(decompressedBatchCounts()[codec]).toBe(before + 1);
  });

  it('turns a batch whose codec is missing into one marker per record, with the batch offsets and the reason', async () => {
    const batch = await encodedBatch('lz4', '1000');
    const restore = replaceKafkaCodec('lz4', undefined);
    try {
      const records = await decode(batch);
      expect(records).toHaveLength(values.length);
      expect(records.map((r) => r.offset)).toEqual(['1000', '1001', '1002', '1003', '1004']);
      expect(records.every((r) => r.value === null)).toBe(true);
      expect(undecodableBatch(records[0])).toEqual({
        codec: 'lz4',
        error: 'No lz4 codec can decompress here',
        firstOffset: '1000',
        lastOffset: '1004',
      });
    } finally {
      restore();
    }
  });

  it('turns corrupt compressed bytes into markers instead of failing the fetch', async () => {
    const batch = await encodedBatch('gzip');
    // The gzip stream starts after the 61-byte batch header; wreck its middle.
    for (let i = 61 + 20; i < batch.length - 10; i++) batch[i] ^= 0x5a;
    const records = await decode(batch);
    const marker = undecodableBatch(records[0]);
    expect(marker).toMatchObject({ codec: 'gzip', firstOffset: '40', lastOffset: '44' });
    expect(marker?.error).toMatch(/./);
  });

  it('refuses a batch that decompresses into fewer records than its header counts', async () => {
    const batch = await encodedBatch('snappy');
    const restore = replaceKafkaCodec('snappy', { decompress: async () => Buffer.from([0x02, 0x00]) });
    try {
      const records = await decode(batch);
      expect(undecodableBatch(records[0])?.error).toBe('the snappy batch does not decompress into its 5 records');
    } finally {
      restore();
    }
  });

  it('ignores a producer-written header that imitates a marker', () => {
    const forged: KafkaMessage = {
      key: null,
      value: null,
      timestamp: '0',
      attributes: 0,
      offset: '0',
      headers: { 'lifeline-undecodable-batch': Buffer.from('guess'), 'lifeline-undecodable-codec': Buffer.from('lz4') },
    };
    expect(undecodableBatch(forged)).toBeUndefined();
  });
});
