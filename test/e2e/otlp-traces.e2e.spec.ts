import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BuiltServer } from './built-server';

jest.setTimeout(60_000);

const admin = { sub: 'admin', roles: ['admin'] };
const app = { sub: 'app', roles: ['ingest'] };
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SENT_SPAN = '00f067aa0ba902b7';

/** A local HTTP endpoint that keeps what is posted to it (the OTLP collector, the webhook receiver). */
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

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

async function eventually<T>(probe: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('traces over OTLP on the built embedded server (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  let collector: Sink;
  let receiver: Sink;
  let server: BuiltServer;

  beforeAll(async () => {
    collector = await Sink.start();
    receiver = await Sink.start();
    server = await BuiltServer.start({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, LIFELINE_WEBHOOK_POLL_MS: '100' });
  });
  afterAll(async () => {
    await server?.stop();
    await collector?.stop();
    await receiver?.stop();
  });

  it('a request is a server span child of the traceparent sent; the events carry it; the webhook call is a client span', async () => {
    expect(
      (await server.call(admin, 'POST', '/webhooks', { url: `${receiver.url}/hook`, events: ['InstanceStarted'] }))
        .status,
    ).toBe(201);
    const recorded = await server.call(
      app,
      'POST',
      '/entity-events',
      {
        id: 'traced-customer',
        entityType: 'Customer',
        entityId: 'T-1',
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { name: 'Traced', email: 't@example.com', status: 'New' },
      },
      { traceparent: `00-${TRACE}-${SENT_SPAN}-01` },
    );
    expect(recorded.status).toBe(202);
    const instances = await server.until(
      () => server.call(admin, 'GET', '/instances?entityType=Customer&entityId=T-1'),
      (a) => a.body?.items?.length === 1,
    );
    const history = await server.call(admin, 'GET', `/instances/${instances.body.items[0].id}/history`);
    const recordedIn = history.body.items[0].traceparent as string;
    const [, traceId, serverSpan] = recordedIn.split('-');
    expect(traceId).toBe(TRACE);
    expect(serverSpan).not.toBe(SENT_SPAN);

    const call = await eventually(() => receiver.posts[0], 'the webhook');
    const [, callTrace, clientSpan] = String(call.headers.traceparent).split('-');
    expect(callTrace).toBe(TRACE);

    const spans = await eventually(() => {
      const all = collector.posts
        .filter((p) => p.url === '/v1/traces')
        .flatMap((p) => {
          const body = JSON.parse(p.body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
          return body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
        })
        .filter((s) => s.traceId === TRACE);
      return all.some((s) => s.name === 'webhook delivery') && all.some((s) => s.name === 'HTTP POST')
        ? all
        : undefined;
    }, 'the exported spans');
    const serverSpans = spans.filter((s) => s.name === 'HTTP POST');
    // The POST /entity-events span: a server span (kind 2) whose parent is the span sent, and whose id the events carry.
    expect(serverSpans).toContainEqual(
      expect.objectContaining({ kind: 2, spanId: serverSpan, parentSpanId: SENT_SPAN }),
    );
    // The webhook call: a client span (kind 3) of the trace, child of the recorded context, sent as the header.
    expect(spans).toContainEqual(
      expect.objectContaining({ name: 'webhook delivery', kind: 3, spanId: clientSpan, parentSpanId: serverSpan }),
    );
  });
});
