import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

type Labels = Record<string, string | number>;
/** What a collected metric reads at scrape time: one value, or one per label set. */
export type Reading = number | [Labels, number][];

/** Seconds: a command is a few milliseconds on the embedded store, an HTTP request rarely more than a second. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Lifeline's Prometheus metrics (prom-client, one registry per process). What the write path updates
 * is a counter increment or a histogram observation; everything else (backlogs, open tasks, due timers)
 * is read only when /metrics is scraped.
 */
export class LifelineMetrics {
  readonly registry = new Registry();
  readonly commandSeconds: Histogram<'command' | 'outcome'>;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly entityEventsRecorded: Counter<'source'>;
  readonly entityEventsDuplicate: Counter<'source'>;
  readonly entityEventsRefused: Counter<'source'>;
  /** Lifeline's own counters: what /health reports, read without the gauges' scrape-time queries. */
  private readonly ownCounters: Counter<string>[] = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'lifeline_' });
    this.commandSeconds = new Histogram({
      name: 'lifeline_command_duration_seconds',
      help: 'Time to handle a command through the write path (decide, append, react, commit), by command',
      labelNames: ['command', 'outcome'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.httpSeconds = new Histogram({
      name: 'lifeline_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.entityEventsRecorded = new Counter({
      name: 'lifeline_entity_events_recorded_total',
      help: 'Entity events recorded (new), by source',
      labelNames: ['source'],
      registers: [this.registry],
    });
    this.entityEventsDuplicate = new Counter({
      name: 'lifeline_entity_events_duplicate_total',
      help: 'Entity events received again (their id was already recorded), by source',
      labelNames: ['source'],
      registers: [this.registry],
    });
    this.entityEventsRefused = new Counter({
      name: 'lifeline_entity_events_refused_total',
      help: 'Entity events refused as invalid, by source (HTTP answers 400; Kafka sends them to the dead-letter topic)',
      labelNames: ['source'],
      registers: [this.registry],
    });
    this.ownCounters.push(this.entityEventsRecorded, this.entityEventsDuplicate, this.entityEventsRefused);
  }

  /** Times one command; its label is the command's type (a bounded set). */
  async time<T>(command: string, work: () => Promise<T>): Promise<T> {
    const end = this.commandSeconds.startTimer({ command });
    try {
      const result = await work();
      end({ outcome: 'ok' });
      return result;
    } catch (error) {
      end({ outcome: 'refused' });
      throw error;
    }
  }

  /** A gauge read at scrape time. */
  gauge(name: string, help: string, labelNames: string[], read: () => Reading | Promise<Reading>): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const reading = await read();
        this.reset();
        if (typeof reading === 'number') this.set(reading);
        else for (const [labels, value] of reading) this.set(labels, value);
      },
    });
  }

  /** A counter kept elsewhere (the Kafka source's), read at scrape time. */
  counter(name: string, help: string, labelNames: string[], read: () => Reading): void {
    const counter = new Counter({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        const reading = read();
        this.reset();
        if (typeof reading === 'number') this.inc(reading);
        else for (const [labels, value] of reading) this.inc(labels, value);
      },
    });
    this.ownCounters.push(counter);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * Counter totals by name and labels, for /health. Only the counters are read: the whole registry would also
   * run every gauge's scrape-time query (open tasks by role, overdue tasks, backlogs), about 2 ms a probe that
   * grows with the task list, on the event loop, for numbers /health does not report.
   */
  async counters(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const counter of this.ownCounters) {
      const metric = await counter.get();
      for (const v of metric.values) {
        const labels = Object.entries(v.labels);
        const key =
          labels.length === 0 ? metric.name : `${metric.name}{${labels.map(([k, l]) => `${k}="${l}"`).join(',')}}`;
        out[key] = v.value;
      }
    }
    return out;
  }
}
