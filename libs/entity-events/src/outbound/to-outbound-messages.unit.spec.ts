import type { StoredEvent } from '@lifeline/event-store';
import { OutboundEventInvalid, PROCESS_EVENTS_TOPIC, toOutboundMessages } from './to-outbound-messages';

const metadata = {
  messageId: 'm-1',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  actor: 'alice',
  at: '2026-11-21T10:00:00.000Z',
};

function stored(type: string, data: unknown, streamId = 'instance-i-42'): StoredEvent {
  return { id: 'm-1', type, data, metadata, streamId, revision: 3, position: 17 };
}

const expectedHeaders = (eventType: string) => ({
  messageId: 'm-1',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  actor: 'alice',
  eventType,
});

describe('toOutboundMessages', () => {
  it('turns MessageEmitted into a message on its own topic, keyed by the instance', () => {
    const event = stored('MessageEmitted', {
      activityId: 'escalate',
      topic: 'invoice-commands',
      messageType: 'EscalateInvoice',
      key: 'INV-7',
      payload: { invoice: 'INV-7' },
    });

    const [message, ...rest] = toOutboundMessages(event);

    expect(rest).toEqual([]);
    expect(message.topic).toBe('invoice-commands');
    expect(message.key).toBe('i-42');
    expect(JSON.parse(message.value)).toEqual({
      type: 'EscalateInvoice',
      payload: { invoice: 'INV-7' },
      instanceId: 'i-42',
      activityId: 'escalate',
      messageId: 'm-1',
      at: '2026-11-21T10:00:00.000Z',
    });
    expect(message.headers).toEqual(expectedHeaders('MessageEmitted'));
  });

  it.each([
    'InstanceStarted',
    'InstanceCompleted',
    'InstanceTerminated',
    'TaskCreated',
    'TaskClaimed',
    'TaskCompleted',
  ])('publishes %s on the process-events topic with its position', (type) => {
    const data = { taskId: 't-1', by: 'alice' };
    const [message] = toOutboundMessages(stored(type, data));
    expect(message.topic).toBe(PROCESS_EVENTS_TOPIC);
    expect(message.key).toBe('i-42');
    expect(JSON.parse(message.value)).toEqual({
      type,
      instanceId: 'i-42',
      data,
      messageId: 'm-1',
      at: '2026-11-21T10:00:00.000Z',
      position: 17,
    });
    expect(message.headers).toEqual(expectedHeaders(type));
  });

  it.each(['ActivityEntered', 'VariablesSet', 'WaitStarted', 'TaskReleased', 'IncidentRaised'])(
    'keeps %s internal',
    (type) => {
      expect(toOutboundMessages(stored(type, {}))).toEqual([]);
    },
  );

  it('publishes nothing from other streams, even with a published event type', () => {
    expect(toOutboundMessages(stored('InstanceStarted', {}, 'definition-invoice-approval'))).toEqual([]);
    expect(toOutboundMessages(stored('EntityEventRecorded', {}, 'entity-Invoice-INV-7'))).toEqual([]);
  });

  it('refuses a MessageEmitted without a topic instead of dropping it', () => {
    const event = stored('MessageEmitted', { activityId: 'a', messageType: 'X', payload: {} });
    expect(() => toOutboundMessages(event)).toThrow(OutboundEventInvalid);
  });

  it('given a published event, then its message is a plain object whose value is exactly the JSON text (read once or many times)', () => {
    const event = stored('TaskCreated', { taskId: 't-1', by: 'alice' });
    const [message] = toOutboundMessages({ ...event, metadata: { ...metadata, traceparent: '00-abc-def-01' } });
    const text =
      '{"type":"TaskCreated","instanceId":"i-42","data":{"taskId":"t-1","by":"alice"},"messageId":"m-1","at":"2026-11-21T10:00:00.000Z","position":17}';
    expect(message!.value).toBe(text);
    expect(message!.value).toBe(text);
    expect(Object.keys(message!)).toEqual(['topic', 'key', 'value', 'headers']);
    expect(JSON.parse(JSON.stringify(message))).toEqual({
      topic: PROCESS_EVENTS_TOPIC,
      key: 'i-42',
      value: text,
      headers: { ...expectedHeaders('TaskCreated'), traceparent: '00-abc-def-01' },
    });
    expect({ ...message }.value).toBe(text);
  });
});
