import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { TRACEPARENT } from '@lifeline/entity-events';

export { validTraceparent } from '@lifeline/entity-events';

/** The trace id of a valid traceparent. */
export const traceIdOf = (traceparent: string): string => traceparent.slice(3, 35);

/** Spans around work; `work` gets the traceparent to carry on (the span's own, or the parent's when not tracing). */
export interface Tracing {
  readonly enabled: boolean;
  span<T>(
    name: string,
    kind: 'server' | 'client' | 'consumer' | 'internal',
    parent: string | undefined,
    attributes: Attributes,
    work: (traceparent: string | undefined) => Promise<T>,
  ): Promise<T>;
  shutdown(): Promise<void>;
}

/** Off (the default): the incoming trace context is passed through as it came, nothing else is done. */
export const NO_TRACING: Tracing = {
  enabled: false,
  span: (_name, _kind, parent, _attributes, work) => work(parent),
  shutdown: async () => undefined,
};

const KINDS = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
} as const;

/** Spans exported over OTLP/HTTP in batches (README: Traces). */
export class OtlpTracing implements Tracing {
  readonly enabled = true;
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;

  constructor(url: string, serviceName: string) {
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName }),
      spanProcessors: [
        new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }), scheduledDelayMillis: 1000 }),
      ],
    });
    this.tracer = this.provider.getTracer('lifeline');
  }

  async span<T>(
    name: string,
    kind: 'server' | 'client' | 'consumer' | 'internal',
    parent: string | undefined,
    attributes: Attributes,
    work: (traceparent: string | undefined) => Promise<T>,
  ): Promise<T> {
    const match = parent ? TRACEPARENT.exec(parent) : null;
    const context = match
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: match[1]!,
          spanId: match[2]!,
          traceFlags: parseInt(match[3]!, 16),
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(name, { kind: KINDS[kind], attributes }, context);
    const own = span.spanContext();
    const traceparent = `00-${own.traceId}-${own.spanId}-0${own.traceFlags & 1}`;
    try {
      const result = await work(traceparent);
      span.end();
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      span.end();
      throw error;
    }
  }

  /** Exports what is buffered. */
  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** Tracing as configured: OTLP when an endpoint is set, off otherwise. */
export function createTracing(config: { otlpTracesUrl?: string; serviceName: string }, logger: Logger): Tracing {
  if (!config.otlpTracesUrl) return NO_TRACING;
  logger.info({ url: config.otlpTracesUrl }, 'traces exported over OTLP');
  return new OtlpTracing(config.otlpTracesUrl, config.serviceName);
}
