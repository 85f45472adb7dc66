import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback, unzip as unzipCallback } from 'node:zlib';
import { CompressionCodecs, CompressionTypes, type KafkaMessage } from 'kafkajs';
import snappyCodec from 'kafkajs-snappy';
import { compressFrame, decompressFrame } from 'lz4-napi';
import { decompress as zstdDecompress } from 'fzstd';

/** The codecs a Kafka producer may compress a batch with; Lifeline consumes all of them. */
export const KAFKA_CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCodec = (typeof KAFKA_CODECS)[number];
/** What Lifeline's own producers may compress with (`KAFKA_COMPRESSION`); the zstd package only decompresses. */
export const KAFKA_PRODUCER_CODECS = ['none', 'gzip', 'snappy', 'lz4'] as const;
export type KafkaProducerCodec = (typeof KAFKA_PRODUCER_CODECS)[number];

export interface KafkaCodecImplementation {
  compress?(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

/** A codec asked for an operation it has no implementation of. */
export class KafkaCodecUnavailable extends Error {
  readonly code = 'KAFKA.CODEC_UNAVAILABLE';
  constructor(
    readonly codec: KafkaCodec,
    operation: 'compress' | 'decompress',
  ) {
    super(`No ${codec} codec can ${operation} here`);
    this.name = 'KafkaCodecUnavailable';
  }
}

const TYPES: Record<KafkaCodec, Exclude<CompressionTypes, CompressionTypes.None>> = {
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

const gzip = promisify(gzipCallback);
const unzip = promisify(unzipCallback);
const snappy = snappyCodec();

/** gzip: node's zlib; snappy: kafkajs-snappy (pure JS); lz4: lz4-napi (prebuilt); zstd: fzstd (pure JS, decompress only). */
const BUILT_IN: Record<KafkaCodec, KafkaCodecImplementation> = {
  gzip: { compress: (data) => gzip(data), decompress: (data) => unzip(data) },
  snappy: { compress: (data) => snappy.compress({ buffer: data }), decompress: (data) => snappy.decompress(data) },
  lz4: { compress: (data) => compressFrame(data), decompress: (data) => decompressFrame(data) },
  zstd: {
    decompress: async (data) => {
      const out = zstdDecompress(data);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
  },
};

const implementations = new Map<KafkaCodec, KafkaCodecImplementation | undefined>(
  KAFKA_CODECS.map((codec) => [codec, BUILT_IN[codec]]),
);
const decompressedBatches: Record<KafkaCodec, number> = { gzip: 0, snappy: 0, lz4: 0, zstd: 0 };
let registered = false;

/**
 * Installs the four codecs into kafkajs (a process-wide table). Every kafkajs user here calls it
 * first; calling it again does nothing.
 */
export function registerKafkaCodecs(): void {
  if (registered) return;
  for (const codec of KAFKA_CODECS) {
    const guarded = guardedCodec(codec);
    CompressionCodecs[TYPES[codec]] = () => guarded;
  }
  registered = true;
}

/**
 * Replaces the implementation behind a codec (`undefined`: none); returns the undo. For tests that
 * need a batch this process cannot decode.
 */
export function replaceKafkaCodec(codec: KafkaCodec, implementation: KafkaCodecImplementation | undefined): () => void {
  const before = implementations.get(codec);
  implementations.set(codec, implementation);
  return () => void implementations.set(codec, before);
}

/** How many batches of each codec this process decompressed (for /metrics, and to see producers' codecs). */
export function decompressedBatchCounts(): Record<KafkaCodec, number> {
  return { ...decompressedBatches };
}

export function kafkaCompressionType(codec: KafkaProducerCodec): CompressionTypes {
  return codec === 'none' ? CompressionTypes.None : TYPES[codec];
}

/** A batch kafkajs fetched but this process could not decompress. */
export interface UndecodableBatch {
  codec: string;
  error: string;
  /** Offsets of the whole batch, as its header gives them. */
  firstOffset: string;
  lastOffset: string;
}

const MARKER_HEADERS = {
  marker: 'lifeline-undecodable-batch',
  codec: 'lifeline-undecodable-codec',
  error: 'lifeline-undecodable-error',
  firstOffset: 'lifeline-undecodable-first-offset',
  lastOffset: 'lifeline-undecodable-last-offset',
} as const;
// Only records made by this process carry it, so a producer cannot forge a stuck partition.
const MARKER_NONCE = randomUUID();

/** The undecodable batch a message stands for, if it is one of the markers this module made. */
export function undecodableBatch(message: KafkaMessage): UndecodableBatch | undefined {
  const headers = message.headers;
  if (!headers || headers[MARKER_HEADERS.marker]?.toString() !== MARKER_NONCE) return undefined;
  const text = (name: string) => headers[name]?.toString() ?? '';
  return {
    codec: text(MARKER_HEADERS.codec),
    error: text(MARKER_HEADERS.error),
    firstOffset: text(MARKER_HEADERS.firstOffset),
    lastOffset: text(MARKER_HEADERS.lastOffset),
  };
}

interface BatchHeader {
  firstOffset: bigint;
  lastOffsetDelta: number;
  count: number;
}

/**
 * kafkajs hands a codec only the compressed bytes, and a decompression error there fails the
 * whole fetch (every partition of that broker) again and again. So the codec answers a failure
 * with one marker record per record of the batch instead: the consumer sees the batch's
 * partition and offsets, reports it, and pauses just that partition.
 */
function guardedCodec(codec: KafkaCodec) {
  const type = TYPES[codec];
  return {
    async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
      const implementation = implementations.get(codec);
      if (!implementation?.compress) throw new KafkaCodecUnavailable(codec, 'compress');
      return implementation.compress(encoder.buffer);
    },
    async decompress(compressed: Buffer): Promise<Buffer> {
      const header = batchHeaderBefore(compressed, type);
      try {
        const implementation = implementations.get(codec);
        if (!implementation) throw new KafkaCodecUnavailable(codec, 'decompress');
        const records = await implementation.decompress(compressed);
        if (header && !holdsRecords(records, header.count)) {
          throw new Error(`the ${codec} batch does not decompress into its ${header.count} records`);
        }
        decompressedBatches[codec] += 1;
        return records;
      } catch (error) {
        // Not a v2 record batch we can place: kafkajs's own failure (a logged, counted crash) it is.
        if (!header) throw error;
        return markerRecords(codec, header, error instanceof Error ? error.message : String(error));
      }
    },
  };
}

// FirstOffset(8) Length(4) LeaderEpoch(4) Magic(1) CRC(4) Attributes(2) LastOffsetDelta(4)
// FirstTimestamp(8) MaxTimestamp(8) ProducerId(8) ProducerEpoch(2) FirstSequence(4) RecordCount(4)
const BATCH_HEADER_BYTES = 61;
const LENGTH_COUNTED_FROM = 12;

/**
 * The record-batch header just before the compressed records: kafkajs slices them out of the
 * fetch response without copying. Checked field by field, so a wrong guess is never used.
 */
function batchHeaderBefore(compressed: Buffer, type: number): BatchHeader | undefined {
  if (compressed.byteOffset < BATCH_HEADER_BYTES) return undefined;
  const header = Buffer.from(compressed.buffer, compressed.byteOffset - BATCH_HEADER_BYTES, BATCH_HEADER_BYTES);
  const length = header.readInt32BE(8);
  const magic = header.readInt8(16);
  const attributes = header.readInt16BE(21);
  const count = header.readInt32BE(57);
  if (length !== BATCH_HEADER_BYTES - LENGTH_COUNTED_FROM + compressed.length) return undefined;
  if (magic !== 2 || (attributes & 0x07) !== type || count <= 0) return undefined;
  return { firstOffset: header.readBigInt64BE(0), lastOffsetDelta: header.readInt32BE(23), count };
}

/** True when `data` holds `count` length-prefixed records, as a decompressed batch must. */
function holdsRecords(data: Buffer, count: number): boolean {
  let at = 0;
  for (let i = 0; i < count; i++) {
    let value = 0;
    let shift = 0;
    let byte: number;
    do {
      if (at >= data.length || shift > 28) return false;
      byte = data[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    const length = value % 2 === 0 ? value / 2 : -(value + 1) / 2;
    if (length < 0 || at + length > data.length) return false;
    at += length;
  }
  return true;
}

/** `count` records (Kafka record format v2) with no key or value and the marker headers. */
function markerRecords(codec: KafkaCodec, header: BatchHeader, error: string): Buffer {
  const headers: [string, string][] = [
    [MARKER_HEADERS.marker, MARKER_NONCE],
    [MARKER_HEADERS.codec, codec],
    [MARKER_HEADERS.error, error],
    [MARKER_HEADERS.firstOffset, header.firstOffset.toString()],
    [MARKER_HEADERS.lastOffset, (header.firstOffset + BigInt(header.lastOffsetDelta)).toString()],
  ];
  const encodedHeaders = Buffer.concat([
    varint(headers.length),
    ...headers.flatMap(([name, value]) => {
      const [n, v] = [Buffer.from(name), Buffer.from(value)];
      return [varint(n.length), n, varint(v.length), v];
    }),
  ]);
  const records: Buffer[] = [];
  for (let i = 0; i < header.count; i++) {
    // attributes, timestamp delta, offset delta, null key, null value, headers
    const body = Buffer.concat([
      Buffer.of(0),
      varint(0),
      varint(Math.min(i, header.lastOffsetDelta)),
      varint(-1),
      varint(-1),
      encodedHeaders,
    ]);
    records.push(varint(body.length), body);
  }
  return Buffer.concat(records);
}

/** Kafka's zig-zag varint. */
function varint(n: number): Buffer {
  let zigzag = n >= 0 ? n * 2 : -n * 2 - 1;
  const bytes: number[] = [];
  while (zigzag >= 0x80) {
    bytes.push((zigzag % 0x80) | 0x80);
    zigzag = Math.floor(zigzag / 0x80);
  }
  bytes.push(zigzag);
  return Buffer.from(bytes);
}
