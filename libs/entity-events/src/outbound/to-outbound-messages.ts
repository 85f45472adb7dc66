import type { StoredEvent } from '@lifeline/event-store';
import type { OutboundMessage } from './outbound-publisher';

export const PROCESS_EVENTS_TOPIC = 'lifeline.process-events';
const INSTANCE_STREAM_PREFIX = 'instance-';

/** Instance events the outside world may follow (on PROCESS_EVENTS_TOPIC); the others stay internal. */
export const PUBLISHED_PROCESS_EVENTS: ReadonlySet<string> = new Set([
  'InstanceStarted',
  'InstanceCompleted',
  'InstanceTerminated',
  'TaskCreated',
  'TaskClaimed',
  'TaskCompleted',
]);

/** A stored event that cannot be mapped; the relay stops on it rather than skip it. */
export class OutboundEventInvalid extends Error {
  readonly code = 'OUTBOX.EVENT_INVALID';
  constructor(
    readonly eventId: string,
    reason: string,
  ) {
    super(`Event ${eventId} cannot be published: ${reason}`);
    this.name = 'OutboundEventInvalid';
  }
}

interface MessageEmittedData {
  activityId: string;
  topic: string;
  messageType: string;
  payload: Record<string, unknown>;
}

/** The messages one stored event publishes: an emitted command, a process event, or nothing. */
export function toOutboundMessages(event: StoredEvent): OutboundMessage[] {
  if (!event.streamId.startsWith(INSTANCE_STREAM_PREFIX)) return [];
  const emitted = event.type === 'MessageEmitted';
  if (!emitted && !PUBLISHED_PROCESS_EVENTS.has(event.type)) return [];
  const instanceId = event.streamId.slice(INSTANCE_STREAM_PREFIX.length);
  const { messageId, correlationId, causationId, actor, at, traceparent } = event.metadata;
  // The trace the event was recorded in goes on with it (W3C trace context over Kafka headers).
  const headers: Record<string, string> = { messageId, correlationId, causationId, actor, eventType: event.type };
  if (traceparent) headers.traceparent = traceparent;

  if (emitted) {
    const data = messageEmittedData(event);
    return [
      lazyMessage(data.topic, instanceId, headers, () =>
        JSON.stringify({
          type: data.messageType,
          payload: data.payload,
          instanceId,
          activityId: data.activityId,
          messageId,
          at,
        }),
      ),
    ];
  }
  const { type, data, position } = event;
  return [
    lazyMessage(PROCESS_EVENTS_TOPIC, instanceId, headers, () =>
      JSON.stringify({ type, instanceId, data, messageId, at, position }),
    ),
  ];
}

/**
 * A message whose value is written when first read (then kept): a publisher that keeps messages
 * nobody reads (in process, without a broker) does not pay for serialising every event.
 */
function lazyMessage(
  topic: string,
  key: string,
  headers: Record<string, string>,
  write: () => string,
): OutboundMessage {
  let value: string | undefined;
  return {
    topic,
    key,
    get value(): string {
      return (value ??= write());
    },
    headers,
  };
}

function messageEmittedData(event: StoredEvent): MessageEmittedData {
  const data = event.data;
  if (typeof data !== 'object' || data === null) throw new OutboundEventInvalid(event.id, 'data is not an object');
  const { activityId, topic, messageType, payload } = data as Record<string, unknown>;
  if (typeof topic !== 'string' || topic.length === 0) throw new OutboundEventInvalid(event.id, 'no topic');
  if (typeof messageType !== 'string') throw new OutboundEventInvalid(event.id, 'no messageType');
  if (typeof activityId !== 'string') throw new OutboundEventInvalid(event.id, 'no activityId');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new OutboundEventInvalid(event.id, 'payload is not an object');
  }
  return { activityId, topic, messageType, payload: payload as Record<string, unknown> };
}
