import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { PROCESS_EVENTS_TOPIC } from '@lifeline/entity-events';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { describeKafka, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { eventually, kcatConsume, kcatProduce } from './kcat';

jest.setTimeout(120_000);

const HTTP_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const KAFKA_TRACE = '0af7651916cd43dd8448eb211c80319c';
const traceIdOf = (traceparent: string | undefined) => traceparent?.split('-')[1];

/** A webhook receiver that keeps what is posted to it. */
class Sink {
  posts: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  private constructor(private readonly server: Server) {}
  static async start(): Promise<Sink> {
    const sink: Sink = new Sink(
      createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          sink.posts.push({ url: request.url ?? '', headers: request.headers, body });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      }),
    );
    await new Promise<void>((resolve) => sink.server.listen(0, '127.0.0.1', resolve));
    return sink;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describeKafka(
  'traces (OTLP off, the default): a W3C traceparent goes from HTTP and Kafka into the history, out on Kafka and webhooks',
  () => {
    const broker = kafkaBrokers()[0];
    const topic = uniqueTopic('traced-entities');
    const commandsTopic = uniqueTopic('traced-commands');
    const startedAt = Date.now() - 60_000;
    let lifeline: RunningLifeline;
    let receiver: Sink;

    beforeAll(async () => {
      receiver = await Sink.start();
      const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      await admin.disconnect();
      lifeline = await startLifeline({
        env: {
          LIFELINE_ENTITY_SOURCE: 'kafka',
          LIFELINE_OUTBOUND: 'kafka',
          KAFKA_BROKERS: kafkaBrokers().join(','),
          KAFKA_TOPICS: topic,
          KAFKA_GROUP_ID: `lifeline-e2e-${topic}`,
          LIFELINE_WEBHOOK_POLL_MS: '100',
        },
      });
      const published = await lifeline.call('admin', 'POST', '/definitions', {
        key: 'traced-order',
        name: 'Traced order',
        relatedEntity: 'Order',
        triggers: [{ on: 'created' }],
        start: 'announce',
        activities: {
          announce: {
            type: 'automatic',
            emit: { topic: commandsTopic, type: 'OrderAnnounced', payload: { order: 'record.id' } },
            next: 'pack',
          },
          pack: {
            type: 'human',
            title: 'Pack the order',
            assignee: { role: 'sales' },
            results: ['Packed'],
            next: 'done',
          },
          done: { type: 'end' },
        },
      });
      expect(published.status).toBe(201);
      const hook = await lifeline.call('admin', 'POST', '/webhooks', {
        url: `${receiver.url}/hook`,
        events: ['InstanceStarted'],
      });
      expect(hook.status).toBe(201);
    });

    afterAll(async () => {
      await lifeline?.stop();
      await receiver?.stop();
    });

    const instanceOf = (entityId: string) =>
      eventually(
        async () => {
          const list = await lifeline.call('admin', 'GET', `/instances?entityType=Order&entityId=${entityId}`);
          return (list.body.items as { id: string }[] | undefined)?.[0]?.id;
        },
        30_000,
        `the instance of ${entityId}`,
      );

    it('a traceparent on POST /entity-events is in every history event of the instance, on its Kafka messages and its webhook', async () => {
      const recorded = await lifeline.call(
        'app',
        'POST',
        '/entity-events',
        {
          id: `${topic}-http-1`,
          entityType: 'Order',
          entityId: 'H-1',
          kind: 'created',
          occurredAt: '2026-11-21T10:00:00Z',
          data: {},
        },
        { traceparent: `00-${HTTP_TRACE}-00f067aa0ba902b7-01` },
      );
      expect(recorded.status).toBe(202);
      const instanceId = await instanceOf('H-1');

      const history = await lifeline.call('admin', 'GET', `/instances/${instanceId}/history`);
      const items = history.body.items as { type: string; traceparent?: string }[];
      expect(items.map((e) => e.type)).toEqual(
        expect.arrayContaining(['InstanceStarted', 'MessageEmitted', 'TaskCreated']),
      );
      for (const event of items) expect(traceIdOf(event.traceparent)).toBe(HTTP_TRACE);
      // Tracing is off: the events carry the trace context as it came.
      expect(items[0]!.traceparent).toBe(`00-${HTTP_TRACE}-00f067aa0ba902b7-01`);

      // Out on Kafka, read back from the broker with kcat: the lifecycle events and the emitted command.
      const lifecycle = await eventually(
        () => {
          const mine = kcatConsume(broker, PROCESS_EVENTS_TOPIC, startedAt).filter((m) => m.key === instanceId);
          return mine.length >= 2 ? mine : undefined;
        },
        30_000,
        'the lifecycle messages',
      );
      expect(lifecycle.map((m) => m.headers.eventType)).toEqual(
        expect.arrayContaining(['InstanceStarted', 'TaskCreated']),
      );
      for (const message of lifecycle) expect(traceIdOf(message.headers.traceparent)).toBe(HTTP_TRACE);
      const emitted = await eventually(() => kcatConsume(broker, commandsTopic)[0], 30_000, 'the emitted command');
      expect(emitted.headers.traceparent).toBe(items.find((e) => e.type === 'MessageEmitted')!.traceparent);

      // The webhook call carries it too.
      const call = await eventually(
        () => receiver.posts.find((p) => p.body.includes(instanceId)),
        30_000,
        'the webhook',
      );
      expect(call.headers.traceparent).toBe(`00-${HTTP_TRACE}-00f067aa0ba902b7-01`);
    });

    it('a traceparent header on a Kafka entity event is in the history, and /metrics shows the consumer lag per partition', async () => {
      const envelope = {
        id: `${topic}-kafka-1`,
        entityType: 'Order',
        entityId: 'K-1',
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: {},
      };
      kcatProduce(broker, topic, [{ key: 'Order:K-1', value: JSON.stringify(envelope) }], {
        headers: { traceparent: `00-${KAFKA_TRACE}-b7ad6b7169203331-01` },
      });
      const instanceId = await instanceOf('K-1');
      const history = await lifeline.call('admin', 'GET', `/instances/${instanceId}/history`);
      for (const event of history.body.items as { traceparent?: string }[]) {
        expect(event.traceparent).toBe(`00-${KAFKA_TRACE}-b7ad6b7169203331-01`);
      }

      const text = (await lifeline.call(null, 'GET', '/metrics')).body as string;
      const lag = parsePrometheusTextFormat(text).find((f) => f.name === 'lifeline_kafka_consumer_lag');
      expect(lag?.type).toBe('GAUGE');
      const mine = lag!.metrics.filter((m) => m.labels?.topic === topic);
      expect(mine.length).toBeGreaterThanOrEqual(1);
      for (const m of mine) {
        expect(['0', '1']).toContain(m.labels!.partition);
        expect(Number(m.value)).toBe(0);
      }
    });
  },
);
