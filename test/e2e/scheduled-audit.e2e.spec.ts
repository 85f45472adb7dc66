import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '@lifeline/engine';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { cli } from './audit/fixtures';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Every Monday at 07:00 in Amsterdam (06:00Z in winter), someone audits the books. */
const WEEKLY_AUDIT = `
key: weekly-audit
name: Weekly audit
relatedEntity: Audit
triggers:
  - on: schedule
    cron: "0 7 * * MON"
    timeZone: Europe/Amsterdam
start: check
activities:
  check:
    type: human
    title: Audit the books
    assignee: { role: auditors }
    next: done
  done: { type: end }
`;

// Saturday 10:00Z; the first tick is Monday 30 November 06:00Z.
const START = '2026-11-28T10:00:00.000Z';
const TICK_1 = '2026-11-30T06:00:00.000Z';
const TICK_2 = '2026-12-07T06:00:00.000Z';

describe('a weekly scheduled audit over HTTP on the embedded default, on the fake clock', () => {
  let lifeline: RunningLifeline;
  let dataDir: string;
  let auditor: string;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-schedule-e2e-'));
    lifeline = await startLifeline({ dataDir, clock: new FakeClock(START), demo: false });
    auditor = lifeline.token('erin', ['auditors']);
  });
  afterEach(async () => {
    await lifeline.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const tasks = async () => (await lifeline.call(auditor, 'GET', '/tasks')).body.items;

  it('creates the Taskbox task at the tick, once, on a record of its own whose timeline shows the start', async () => {
    const published = await lifeline.call('admin', 'POST', '/definitions', WEEKLY_AUDIT, {
      'content-type': 'application/yaml',
    });
    expect(published.status).toBe(201);

    await lifeline.advance(Date.parse(TICK_1) - Date.parse(START) - 1000);
    expect(await tasks()).toEqual([]);

    await lifeline.advance(1000);
    const [task, ...more] = await tasks();
    expect(more).toEqual([]);
    expect(task).toMatchObject({
      title: 'Audit the books',
      role: 'auditors',
      definitionKey: 'weekly-audit',
      entity: { type: 'Audit', id: `schedule:weekly-audit:${TICK_1}` },
    });
    const instance = (await lifeline.call('admin', 'GET', `/instances/${task.instanceId}`)).body;
    expect(instance.cause).toEqual({ kind: 'schedule', tick: TICK_1, triggerIndex: 0 });

    const timeline = (
      await lifeline.call(
        'admin',
        'GET',
        `/entities/Audit/${encodeURIComponent(`schedule:weekly-audit:${TICK_1}`)}/timeline`,
      )
    ).body.items as { kind: string; summary: string }[];
    expect(timeline.map((e) => e.kind)).toEqual([
      'ScheduleTicked',
      'InstanceStarted',
      'ActivityEntered',
      'TaskCreated',
    ]);
    expect(timeline[0]!.summary).toBe(`Scheduled start of weekly-audit for the tick at ${TICK_1}`);

    // The instance as it was just after the start, asked by position: the schedule is its cause there too.
    const started = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}?asOf=${TICK_1}`);
    expect(started.status).toBe(200);
    expect(started.body.cause).toEqual({ kind: 'schedule', tick: TICK_1, triggerIndex: 0 });

    // The rest of the week: nothing more; the next Monday: the second audit.
    await lifeline.advance(6 * DAY);
    expect(await tasks()).toHaveLength(1);
    await lifeline.advance(Date.parse(TICK_2) - Date.parse(TICK_1) - 6 * DAY);
    expect((await tasks()).map((t: { entity: { id: string } }) => t.entity.id)).toEqual([
      `schedule:weekly-audit:${TICK_1}`,
      `schedule:weekly-audit:${TICK_2}`,
    ]);
  });

  it('after three weeks without the engine, one audit for the latest Monday; the rest are named as skipped', async () => {
    await lifeline.call('admin', 'POST', '/definitions', WEEKLY_AUDIT, { 'content-type': 'application/yaml' });
    await lifeline.stop();
    const clock = new FakeClock(START);
    clock.advance(3 * 7 * DAY);
    lifeline = await startLifeline({ dataDir, clock, demo: false });
    await lifeline.advance(0);
    await lifeline.advance(HOUR);
    const all = await tasks();
    expect(all.map((t: { entity: { id: string } }) => t.entity.id)).toEqual([
      'schedule:weekly-audit:2026-12-14T06:00:00.000Z',
    ]);
    const instance = (await lifeline.call('admin', 'GET', `/instances/${all[0].instanceId}`)).body;
    expect(instance.cause).toEqual({
      kind: 'schedule',
      tick: '2026-12-14T06:00:00.000Z',
      triggerIndex: 0,
      skippedFrom: TICK_1,
    });
  });

  it('refuses a bad schedule with a code per problem, and keeps nothing', async () => {
    const bad = WEEKLY_AUDIT.replace('cron: "0 7 * * MON"', 'cron: "0 7 * * FUNDAY"').replace(
      'timeZone: Europe/Amsterdam',
      'timeZone: Europe/Atlantis',
    );
    const refused = await lifeline.call('admin', 'POST', '/definitions', bad, { 'content-type': 'application/yaml' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('DEFINITION.INVALID');
    expect(refused.body.error.details).toEqual([
      expect.objectContaining({ path: 'triggers[0].timeZone', code: 'DEFINITION.SCHEDULE_TIME_ZONE_UNKNOWN' }),
      expect.objectContaining({ path: 'triggers[0].cron', code: 'DEFINITION.SCHEDULE_CRON_INVALID' }),
    ]);
    const withDelay = WEEKLY_AUDIT.replace('timeZone: Europe/Amsterdam', 'delay: PT1H');
    const delayed = await lifeline.call('admin', 'POST', '/definitions', withDelay, {
      'content-type': 'application/yaml',
    });
    expect(delayed.body.error.details).toEqual([
      expect.objectContaining({ path: 'triggers[0].delay', code: 'DEFINITION.SCHEDULE_KEY_NOT_ALLOWED' }),
    ]);
    expect((await lifeline.call('admin', 'GET', '/definitions')).body.items).toEqual([]);
  });

  it('what-if over a log with scheduled starts runs, and does not count them as the definition’s triggered starts', async () => {
    await lifeline.call('admin', 'POST', '/definitions', WEEKLY_AUDIT, { 'content-type': 'application/yaml' });
    await lifeline.advance(Date.parse(TICK_1) - Date.parse(START));
    expect(await tasks()).toHaveLength(1);
    const file = join(dataDir, 'weekly.yaml');
    writeFileSync(file, WEEKLY_AUDIT);
    const run = await cli([
      'what-if',
      '--definition',
      file,
      '--from',
      START,
      '--to',
      lifeline.clock.nowIso(),
      '--json',
      '--data-dir',
      dataDir,
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report).toMatchObject({ entityEvents: 0, actual: { started: 0 }, whatIf: { started: 0 } });
  });
});
