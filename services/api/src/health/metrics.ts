import { Injectable } from '@nestjs/common';

/** Counters exposed at /metrics (Prometheus text) and /health. */
@Injectable()
export class Metrics {
  private readonly counters = new Map<string, number>();
  private readonly sources: (() => Record<string, number>)[] = [];

  increment(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by);
  }

  /** Adds counters kept elsewhere (the Kafka source's dead letters, say). */
  register(source: () => Record<string, number>): void {
    this.sources.push(source);
  }

  snapshot(): Record<string, number> {
    const all: Record<string, number> = Object.fromEntries(this.counters);
    for (const source of this.sources) Object.assign(all, source());
    return all;
  }
}
