import { LifelineMetrics } from './metrics';

describe('LifelineMetrics', () => {
  it('given gauges read at scrape time, when /health asks for the counters, then no gauge is read', async () => {
    const metrics = new LifelineMetrics();
    let gaugeReads = 0;
    metrics.gauge('lifeline_test_open_tasks', 'a query over every task', ['role'], () => {
      gaugeReads++;
      return [[{ role: 'accounting' }, 3]];
    });
    metrics.counter('lifeline_test_kafka_total', 'kept elsewhere', ['topic'], () => [[{ topic: 'invoices' }, 7]]);
    metrics.entityEventsRecorded.inc({ source: 'http' }, 4);
    metrics.entityEventsRefused.inc({ source: 'kafka' });

    expect(await metrics.counters()).toEqual({
      'lifeline_entity_events_recorded_total{source="http"}': 4,
      'lifeline_entity_events_refused_total{source="kafka"}': 1,
      'lifeline_test_kafka_total{topic="invoices"}': 7,
    });
    expect(gaugeReads).toBe(0);

    // A scrape still reads every gauge and reports the same counters.
    const text = await metrics.text();
    expect(gaugeReads).toBe(1);
    expect(text).toContain('lifeline_test_open_tasks{role="accounting"} 3');
    expect(text).toContain('lifeline_entity_events_recorded_total{source="http"} 4');
    expect(text).toContain('lifeline_test_kafka_total{topic="invoices"} 7');
  });

  it('given a counter without labels, then /health names it alone', async () => {
    const metrics = new LifelineMetrics();
    metrics.counter('lifeline_test_crashes_total', 'kept elsewhere', [], () => 2);
    expect((await metrics.counters())['lifeline_test_crashes_total']).toBe(2);
  });
});
