import {
  decideScheduleTicks,
  latestTickAtOrBefore,
  nextTickAfter,
  parseDefinition,
  ReactionBook,
  type LifelineEvent,
  type LoggedEvent,
  type ProcessDefinition,
  type Reaction,
} from '@lifeline/process-domain';

/** given(logged events).whenTheClockIs(now).then(ticks): the schedule's part of the reactions decider. */
function given(...history: LoggedEvent[]) {
  const book = new ReactionBook();
  for (const entry of history) book.fold(entry);
  return {
    book,
    whenTheClockIs: (now: string): Reaction[] => decideScheduleTicks(book.definitions, now, context),
  };
}

const context = { idFor: (name: string, at: string) => `id(${name}@${at})` };
let serial = 0;
const logged = (streamId: string, event: LifelineEvent, at: string): LoggedEvent => ({
  id: `e${++serial}`,
  streamId,
  at,
  correlationId: 'corr',
  event,
});

const weekly = (cron = '0 7 * * MON', timeZone?: string): ProcessDefinition =>
  parseDefinition(
    JSON.stringify({
      key: 'weekly-audit',
      name: 'Weekly audit',
      relatedEntity: 'Audit',
      triggers: [{ on: 'schedule', cron, ...(timeZone ? { timeZone } : {}) }],
      start: 'check',
      activities: {
        check: { type: 'human', title: 'Audit the books', assignee: { role: 'auditors' }, next: 'done' },
        done: { type: 'end' },
      },
    }),
    'application/json',
  );

const published = (definition: ProcessDefinition, at: string, version = 1): LoggedEvent =>
  logged(
    `definition-${definition.key}`,
    { type: 'DefinitionPublished', data: { key: definition.key, version, definition } },
    at,
  );
const deactivated = (at: string): LoggedEvent =>
  logged('definition-weekly-audit', { type: 'DefinitionDeactivated', data: { key: 'weekly-audit' } }, at);
const activated = (at: string): LoggedEvent =>
  logged('definition-weekly-audit', { type: 'DefinitionActivated', data: { key: 'weekly-audit' } }, at);

/** The event the engine records for a tick reaction: what the runner folds back. */
const recordedTick = (reaction: Reaction, at: string): LoggedEvent => {
  if (reaction.type !== 'RecordScheduleTick') throw new Error(`not a tick: ${reaction.type}`);
  return logged(reaction.streamId, { type: 'ScheduleTicked', data: reaction.data }, at);
};

const ticksOf = (reactions: Reaction[]) =>
  reactions.map((r) => (r.type === 'RecordScheduleTick' ? { streamId: r.streamId, ...r.data } : r));

// Monday 2026-11-30; the definition is published on the Sunday before.
const SUNDAY = '2026-11-29T12:00:00.000Z';
const MONDAY_7 = '2026-11-30T07:00:00.000Z';
const NEXT_MONDAY_7 = '2026-12-07T07:00:00.000Z';

describe('schedule triggers: which tick fires when', () => {
  it('nothing is due before the first tick after publishing; at the tick, one start of its own record', () => {
    const book = given(published(weekly(), SUNDAY));
    expect(book.whenTheClockIs('2026-11-30T06:59:59.999Z')).toEqual([]);
    const reactions = book.whenTheClockIs(MONDAY_7);
    expect(ticksOf(reactions)).toEqual([
      {
        streamId: `entity-Audit-schedule:weekly-audit:${MONDAY_7}`,
        definitionKey: 'weekly-audit',
        definitionVersion: 1,
        triggerIndex: 0,
        tick: MONDAY_7,
        instanceId: `id(start:weekly-audit:schedule:weekly-audit:${MONDAY_7}@${MONDAY_7})`,
        nextTick: NEXT_MONDAY_7,
      },
    ]);
    expect(reactions[0]!.origin).toMatchObject({ commandId: `schedule:weekly-audit:${MONDAY_7}`, idTime: MONDAY_7 });
  });

  it('a tick recorded is not due again; the next one is a week later', () => {
    const book = given(published(weekly(), SUNDAY));
    const [tick] = book.whenTheClockIs(MONDAY_7);
    book.book.fold(recordedTick(tick!, MONDAY_7));
    expect(book.whenTheClockIs('2026-12-07T06:59:59.000Z')).toEqual([]);
    expect(ticksOf(book.whenTheClockIs(NEXT_MONDAY_7)).map((t) => 'tick' in t && t.tick)).toEqual([NEXT_MONDAY_7]);
  });

  it('folding the same tick twice (fired, then read back) changes nothing', () => {
    const book = given(published(weekly(), SUNDAY));
    const [tick] = book.whenTheClockIs(MONDAY_7);
    book.book.fold(recordedTick(tick!, MONDAY_7));
    const once = book.book.definitions;
    book.book.fold(recordedTick(tick!, MONDAY_7));
    expect(book.book.definitions).toBe(once);
  });

  it('after downtime over five ticks, only the latest fires; the first missed one is named', () => {
    const book = given(published(weekly(), SUNDAY));
    const afterFiveWeeks = '2026-12-28T09:00:00.000Z';
    expect(ticksOf(book.whenTheClockIs(afterFiveWeeks))).toEqual([
      expect.objectContaining({
        tick: '2026-12-28T07:00:00.000Z',
        skippedFrom: MONDAY_7,
        nextTick: '2027-01-04T07:00:00.000Z',
      }),
    ]);
  });

  it('a cron of every second, a year after the last tick: one start, found without walking the missed ticks', () => {
    const book = given(published(weekly('* * * * * *'), '2026-01-01T00:00:00.000Z'));
    const reactions = book.whenTheClockIs('2027-01-01T00:00:00.500Z');
    expect(ticksOf(reactions)).toEqual([
      expect.objectContaining({
        tick: '2027-01-01T00:00:00.000Z',
        skippedFrom: '2026-01-01T00:00:01.000Z',
        nextTick: '2027-01-01T00:00:01.000Z',
      }),
    ]);
  });

  it('ticks are read in the time zone, across DST: 07:00 Amsterdam is 06:00Z in winter, 05:00Z in summer', () => {
    const book = given(published(weekly('0 7 * * MON', 'Europe/Amsterdam'), '2026-03-20T00:00:00.000Z'));
    const [winter] = book.whenTheClockIs('2026-03-23T06:00:00.000Z');
    expect(ticksOf([winter!])[0]).toMatchObject({
      tick: '2026-03-23T06:00:00.000Z',
      nextTick: '2026-03-30T05:00:00.000Z',
    });
    book.book.fold(recordedTick(winter!, '2026-03-23T06:00:00.000Z'));
    // Clocks go forward on Sunday 29 March: the next 07:00 is an hour earlier in UTC.
    expect(book.whenTheClockIs('2026-03-30T04:59:59.000Z')).toEqual([]);
    expect(ticksOf(book.whenTheClockIs('2026-03-30T05:00:00.000Z'))[0]).toMatchObject({
      tick: '2026-03-30T05:00:00.000Z',
    });
  });

  it('a time in the DST gap fires once after it; a time that occurs twice fires once', () => {
    const trigger = { cron: '30 2 * * *', timeZone: 'Europe/Amsterdam' };
    // 29 March 2026: 02:30 does not exist (02:00 → 03:00); it runs at 03:00 CEST = 01:00Z.
    expect(nextTickAfter(trigger, '2026-03-28T12:00:00.000Z')).toBe('2026-03-29T01:00:00.000Z');
    // 25 October 2026: 02:30 happens twice; only the first (CEST, 00:30Z) is a tick.
    expect(nextTickAfter(trigger, '2026-10-24T12:00:00.000Z')).toBe('2026-10-25T00:30:00.000Z');
    expect(nextTickAfter(trigger, '2026-10-25T00:30:00.000Z')).toBe('2026-10-26T01:30:00.000Z');
    expect(latestTickAtOrBefore(trigger, '2026-10-25T01:45:00.000Z')).toBe('2026-10-25T00:30:00.000Z');
  });

  it('a deactivated definition fires nothing; re-activated, it resumes at the next tick after the activation (no burst)', () => {
    const book = given(published(weekly(), SUNDAY), deactivated('2026-11-29T13:00:00.000Z'));
    expect(book.whenTheClockIs('2026-12-20T09:00:00.000Z')).toEqual([]);
    book.book.fold(activated('2026-12-20T09:00:00.000Z'));
    expect(book.whenTheClockIs('2026-12-20T09:00:00.000Z')).toEqual([]);
    expect(ticksOf(book.whenTheClockIs('2026-12-21T07:00:00.000Z'))).toEqual([
      expect.not.objectContaining({ skippedFrom: expect.anything() }),
    ]);
    expect(ticksOf(book.whenTheClockIs('2026-12-21T07:00:00.000Z'))[0]).toMatchObject({
      tick: '2026-12-21T07:00:00.000Z',
    });
  });

  it('a new version re-plans from its own cron, and its ticks carry the new version', () => {
    const book = given(published(weekly(), SUNDAY));
    const [first] = book.whenTheClockIs(MONDAY_7);
    book.book.fold(recordedTick(first!, MONDAY_7));
    book.book.fold(published(weekly('0 9 * * *'), '2026-11-30T08:00:00.000Z', 2));
    expect(ticksOf(book.whenTheClockIs('2026-11-30T09:00:00.000Z'))).toEqual([
      expect.objectContaining({ tick: '2026-11-30T09:00:00.000Z', definitionVersion: 2 }),
    ]);
  });

  it('a new version without a schedule has no ticks', () => {
    const book = given(published(weekly(), SUNDAY));
    const entityOnly = { ...weekly(), triggers: [{ on: 'created' as const }] };
    book.book.fold(published(entityOnly, '2026-11-29T13:00:00.000Z', 2));
    expect(book.whenTheClockIs(NEXT_MONDAY_7)).toEqual([]);
  });

  it('a recorded tick starts one instance on its record, caused by the schedule', () => {
    const book = given(published(weekly(), SUNDAY));
    const [tick] = book.whenTheClockIs('2026-12-14T07:00:00.000Z');
    const reactions = book.book.react(recordedTick(tick!, '2026-12-14T07:00:00.000Z'), context);
    expect(reactions).toEqual([
      expect.objectContaining({
        type: 'StartInstance',
        command: {
          type: 'StartInstance',
          instanceId: `id(start:weekly-audit:schedule:weekly-audit:2026-12-14T07:00:00.000Z@2026-12-14T07:00:00.000Z)`,
          definitionKey: 'weekly-audit',
          definitionVersion: 1,
          entity: { type: 'Audit', id: 'schedule:weekly-audit:2026-12-14T07:00:00.000Z' },
          variables: {},
          cause: { kind: 'schedule', tick: '2026-12-14T07:00:00.000Z', triggerIndex: 0, skippedFrom: MONDAY_7 },
        },
        entityData: {},
      }),
    ]);
  });

  it('a schedule trigger is never matched by an entity event of its type', () => {
    const book = given(published(weekly(), SUNDAY));
    const created = logged(
      'entity-Audit-A1',
      {
        type: 'EntityEventRecorded',
        data: {
          envelope: { id: 'ev1', entityType: 'Audit', entityId: 'A1', kind: 'created', occurredAt: SUNDAY, data: {} },
          source: { kind: 'http' },
        },
      },
      SUNDAY,
    );
    expect(book.book.react(created, context)).toEqual([]);
  });

  it('a definition stored with a bad cron or time zone (before validation) folds without throwing and never ticks', () => {
    for (const trigger of [
      { on: 'schedule' as const, cron: 'not a cron', timeZone: 'UTC' },
      { on: 'schedule' as const, cron: '0 7 * * MON', timeZone: 'Mars/Olympus_Mons' },
    ]) {
      const stored = { ...weekly(), triggers: [trigger] };
      const book = given(published(stored, SUNDAY));
      expect(book.book.definitions.byKey['weekly-audit']?.schedule?.nextTick).toBeUndefined();
      expect(book.whenTheClockIs('2027-01-01T00:00:00.000Z')).toEqual([]);
    }
  });
});
