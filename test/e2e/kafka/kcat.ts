import { execFileSync } from 'node:child_process';

/** Debian's kcat: a Kafka client nobody here wrote, to show what goes in and out is plain Kafka. */
export function kcatProduce(
  broker: string,
  topic: string,
  lines: { key: string; value: string }[],
  options: { compression?: string; partition?: number; partitioner?: string; headers?: Record<string, string> } = {},
): void {
  const input = lines.map((l) => `${l.key}\t${l.value}`).join('\n') + '\n';
  const args = ['-P', '-b', broker, '-t', topic, '-K', '\t'];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  // librdkafka sends a batch uncompressed when that is smaller: callers send enough to compress.
  if (options.compression) args.push('-z', options.compression, '-X', 'linger.ms=200');
  if (options.partition !== undefined) args.push('-p', String(options.partition));
  // librdkafka's default (consistent_random, CRC32) is not the Java client's; murmur2_random is.
  if (options.partitioner) args.push('-X', `topic.partitioner=${options.partitioner}`);
  execFileSync('kcat', args, { input, timeout: 30_000 });
}

/** Partition count of each topic the broker has (kcat -L: metadata only, never creates a topic). */
export function kcatPartitions(broker: string): Map<string, number> {
  const out = execFileSync('kcat', ['-L', '-J', '-b', broker], { timeout: 30_000, encoding: 'utf8' });
  const metadata = JSON.parse(out) as { topics: { topic: string; partitions: unknown[] }[] };
  return new Map(metadata.topics.map((t) => [t.topic, t.partitions.length]));
}

export interface KcatMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  payload: string | null;
  headers: Record<string, string>;
}

/** Everything on a topic from the beginning (kcat -J: one JSON object per message). */
export function kcatConsume(broker: string, topic: string, sinceMs?: number): KcatMessage[] {
  let out: string;
  try {
    // A shared topic (lifeline.process-events) grows across runs: read from a point in time when given.
    const offset = sinceMs === undefined ? 'beginning' : `s@${sinceMs}`;
    out = execFileSync('kcat', ['-C', '-b', broker, '-t', topic, '-o', offset, '-e', '-q', '-J'], {
      timeout: 30_000,
      maxBuffer: 256 * 1024 * 1024,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // The topic does not exist until the first message is published to it.
    if (String((error as { stderr?: string }).stderr).includes('Unknown topic')) return [];
    throw error;
  }
  return out
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => {
      const m = JSON.parse(l) as {
        topic: string;
        partition: number;
        offset: number;
        key: string | null;
        payload: string | null;
        headers?: string[];
      };
      const headers: Record<string, string> = {};
      for (let i = 0; m.headers && i < m.headers.length; i += 2) headers[m.headers[i]] = m.headers[i + 1];
      return { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, payload: m.payload, headers };
    });
}

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
