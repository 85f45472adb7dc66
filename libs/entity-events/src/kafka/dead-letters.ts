/** Why a Kafka message was not recorded; the code travels in the `lifeline-dlq-reason` header. Stable forever. */
export const DeadLetterReason = {
  /** No value (a tombstone) where an envelope was expected. */
  Empty: 'ENTITY_EVENT.EMPTY',
  TooLarge: 'ENTITY_EVENT.TOO_LARGE',
  NotJson: 'ENTITY_EVENT.NOT_JSON',
  /** JSON with a key twice in one object: which value the producer meant cannot be known. */
  DuplicateKey: 'ENTITY_EVENT.DUPLICATE_KEY',
  /** JSON, but not a valid envelope. */
  Invalid: 'ENTITY_EVENT.INVALID',
  /** The key is missing or is not `<entityType>:<entityId>` of the envelope. */
  KeyMismatch: 'ENTITY_EVENT.KEY_MISMATCH',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

export const DLQ_HEADERS = {
  reason: 'lifeline-dlq-reason',
  message: 'lifeline-dlq-message',
  originalTopic: 'lifeline-original-topic',
  originalPartition: 'lifeline-original-partition',
  originalOffset: 'lifeline-original-offset',
} as const;

export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

/** Counts dead letters by reason, so an operator sees that bad input arrives (never dropped silently). */
export class DeadLetterCounter {
  private readonly counts = new Map<string, number>();

  count(reason: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
}
