import { EventEmitter } from 'node:events';

/** One message for the outside world; headers carry the metadata envelope (messageId, correlationId, …). */
export interface OutboundMessage {
  topic: string;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** The outbound port: `publish` resolves once every message is durably handed over, in the given order. */
export interface OutboundPublisher {
  publish(messages: OutboundMessage[]): Promise<void>;
  close(): Promise<void>;
}

export const OUTBOUND_MESSAGE_EVENT = 'message';

/**
 * Embedded mode: no broker, messages stay in this process. Keeps the last `capacity` messages for
 * inspection and emits each one as `'message'` on `events`.
 */
export class InProcessOutboundPublisher implements OutboundPublisher {
  readonly events = new EventEmitter();
  private readonly kept: OutboundMessage[] = [];
  private closed = false;

  constructor(private readonly capacity = 1_000) {
    this.events.setMaxListeners(0);
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (this.closed) throw new Error('InProcessOutboundPublisher is closed');
    for (const message of messages) {
      this.kept.push(message);
      if (this.kept.length > this.capacity) this.kept.shift();
      this.events.emit(OUTBOUND_MESSAGE_EVENT, message);
    }
  }

  /** The last messages published, oldest first; optionally only one topic's. */
  messages(topic?: string): OutboundMessage[] {
    return topic === undefined ? [...this.kept] : this.kept.filter((m) => m.topic === topic);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.removeAllListeners();
  }
}
