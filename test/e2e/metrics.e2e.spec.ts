import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { FakeClock } from '@lifeline/engine';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';

jest.setTimeout(60_000);

const DAY = 24 * 3600 * 1000;

/** /metrics as a Prometheus server reads it: the HTTP text, parsed by a text-format parser. */
async function scrape(lifeline: RunningLifeline) {
  const response = await fetch(`${lifeline.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const text = await response.text();
  const families = parsePrometheusTextFormat(text);
  const family = (name: string) => {
    const found = families.find((f) => f.name === name);
    if (!found) throw new Error(`no ${name} in /metrics`);
    return found;
  };
  const value = (name: string, labels: Record<string, string> = {}): number => {
    const sample = family(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    return sample ? Number(sample.value) : NaN;
  };
  // The parser folds a histogram's labelled series into one (it reads unlabelled histograms only): a series'
  // count is read from its own `_count` line.
  const histogramCount = (name: string, labels: Record<string, string>): number => {
    const line = text
      .split('\n')
      .find(
        (l) => l.startsWith(`${name}_count{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
      );
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
  };
  return { families, family, value, histogramCount };
}

describe('/metrics in the Prometheus text format, and /health split into liveness and readiness', () => {
  let lifeline: RunningLifeline;

  beforeAll(async () => {
    lifeline = await startLifeline({ env: { LIFELINE_WEBHOOK_RETRY_MS: '600000' } });
  });
  afterAll(async () => {
    await lifeline?.stop();
  });

  it('has HELP and TYPE for every family; counts requests, commands, entity events, tasks, overdue tasks, timers and backlogs', async () => {
    const webhook = await lifeline.call('admin', 'POST', '/webhooks', {
      url: 'http://127.0.0.1:9/nobody',
      events: ['*'],
    });
    expect(webhook.status).toBe(201);
    for (const n of [1, 2, 3]) {
      const recorded = await lifeline.call('app', 'POST', '/entity-events', {
        id: `cust-${n}`,
        entityType: 'Customer',
        entityId: `CUST-${n}`,
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { name: `C${n}`, email: `c${n}@example.com`, status: 'New' },
      });
      expect(recorded.status).toBe(202);
    }
    expect((await lifeline.call('app', 'POST', '/entity-events', { id: 'x' })).status).toBe(400);
    expect(
      (
        await lifeline.call('app', 'POST', '/entity-events', {
          id: 'cust-1',
          entityType: 'Customer',
          entityId: 'CUST-1',
          kind: 'created',
          occurredAt: '2026-11-21T10:00:00Z',
          data: { name: 'C1', email: 'c1@example.com', status: 'New' },
        })
      ).status,
    ).toBe(202);
    await lifeline.settle();

    let m = await scrape(lifeline);
    for (const f of m.families) {
      expect(f.help).not.toBe('');
      expect(['COUNTER', 'GAUGE', 'HISTOGRAM', 'SUMMARY']).toContain(f.type);
    }
    expect(m.family('lifeline_http_request_duration_seconds').type).toBe('HISTOGRAM');
    expect(m.family('lifeline_http_request_duration_seconds').metrics[0]!.buckets).toHaveProperty('+Inf');
    const post = { method: 'POST', route: '/entity-events' };
    expect(m.histogramCount('lifeline_http_request_duration_seconds', { ...post, status: '202' })).toBe(4);
    expect(m.histogramCount('lifeline_http_request_duration_seconds', { ...post, status: '400' })).toBe(1);
    expect(
      m.histogramCount('lifeline_command_duration_seconds', { command: 'RecordEntityEvents', outcome: 'ok' }),
    ).toBe(4);
    expect(m.family('lifeline_command_duration_seconds').type).toBe('HISTOGRAM');

    expect(m.family('lifeline_entity_events_recorded_total').type).toBe('COUNTER');
    expect(m.value('lifeline_entity_events_recorded_total', { source: 'http' })).toBe(3);
    expect(m.value('lifeline_entity_events_duplicate_total', { source: 'http' })).toBe(1);
    expect(m.value('lifeline_entity_events_refused_total', { source: 'http' })).toBe(1);
    expect(m.value('lifeline_tasks_open', { role: 'onboarding' })).toBe(3);
    expect(m.value('lifeline_tasks_overdue')).toBe(0);
    expect(m.value('lifeline_timers_due')).toBe(0);
    expect(m.value('lifeline_incidents_open')).toBe(0);
    expect(m.value('lifeline_outbox_backlog_events')).toBe(0);
    // The webhook's receiver does not answer: each message waits for its next attempt.
    await new Promise((r) => setTimeout(r, 500));
    m = await scrape(lifeline);
    expect(m.value('lifeline_webhook_deliveries_backlog', { status: 'pending' })).toBe(6);
    expect(m.value('lifeline_webhook_deliveries_backlog', { status: 'dead' })).toBe(0);
    const head = await lifeline.engine.store.headPosition();
    expect(m.value('lifeline_log_head_position')).toBe(head);
    expect(m.value('lifeline_read_models_position')).toBe(head);

    // A task whose assignee cannot be resolved raises an incident on its instance.
    const fragile = await lifeline.call('admin', 'POST', '/definitions', {
      key: 'fragile',
      name: 'Fragile',
      relatedEntity: 'Parcel',
      triggers: [{ on: 'created' }],
      start: 'handle',
      activities: {
        handle: { type: 'human', title: 'Handle', assignee: { userFrom: 'entity.handler' }, next: 'done' },
        done: { type: 'end' },
      },
    });
    expect(fragile.status).toBe(201);
    const parcel = { entityType: 'Parcel', entityId: 'P-1', kind: 'created', occurredAt: '2026-11-21T10:00:00Z' };
    expect((await lifeline.call('app', 'POST', '/entity-events', { id: 'p-1', ...parcel, data: {} })).status).toBe(202);
    await lifeline.settle();
    m = await scrape(lifeline);
    expect(m.value('lifeline_incidents_open')).toBe(1);

    // One customer verified: its process waits up to 3 days for the account. Four days on, without the timers
    // ticking, the two other verify tasks (due in a day) are overdue and the wait's timeout is due.
    const tasks = await lifeline.call('dave', 'GET', '/tasks?entityId=CUST-1');
    const verify = tasks.body.items[0] as { id: string };
    const done = await lifeline.call('dave', 'POST', `/tasks/${verify.id}/complete`, {
      result: 'Verified',
      fields: { documentNumber: 'ID-1' },
    });
    expect(done.status).toBe(200);
    await lifeline.settle();
    m = await scrape(lifeline);
    expect(m.value('lifeline_tasks_open', { role: 'onboarding' })).toBe(2);
    expect(m.value('lifeline_timers_due')).toBe(0);
    (lifeline.clock as FakeClock).advance(4 * DAY);
    m = await scrape(lifeline);
    expect(m.value('lifeline_tasks_overdue')).toBe(2);
    expect(m.value('lifeline_timers_due')).toBe(1);
  });

  it('/health/live and /health/ready answer 200 with ok; /health keeps its counters', async () => {
    expect(await lifeline.call(null, 'GET', '/health/live')).toEqual({ status: 200, body: { ok: true } });
    expect(await lifeline.call(null, 'GET', '/health/ready')).toEqual({
      status: 200,
      body: { ok: true, checks: { store: true, reactions: true, kafka: true } },
    });
    const health = await lifeline.call(null, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.counters['lifeline_entity_events_recorded_total{source="http"}']).toBe(4);
  });
});
