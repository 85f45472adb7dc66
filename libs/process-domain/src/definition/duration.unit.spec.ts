import { DurationOutOfRange, InvalidDuration, InvalidInstant } from './definition-errors';
import { addDuration, isValidDuration, isWithinMaxDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it('given every designator, when parsed, then each field carries its amount', () => {
    expect(parseDuration('P1Y2M3W4DT5H6M7.5S')).toEqual({
      years: 1,
      months: 2,
      weeks: 3,
      days: 4,
      hours: 5,
      minutes: 6,
      seconds: 7.5,
    });
  });

  it('given PT10M, when parsed, then only minutes are set', () => {
    expect(parseDuration('PT10M')).toEqual({
      years: 0,
      months: 0,
      weeks: 0,
      days: 0,
      hours: 0,
      minutes: 10,
      seconds: 0,
    });
  });

  it('given a comma as the decimal sign, when parsed, then the fraction is kept', () => {
    expect(parseDuration('PT0,25S')?.seconds).toBe(0.25);
  });

  it.each(['P2D', 'PT10M', 'P30D', 'P1W', 'PT0S', 'P1YT1S', 'PT1.5S'])('given %s, then it is valid', (text) => {
    expect(isValidDuration(text)).toBe(true);
  });

  it.each([
    '',
    'P',
    'PT',
    'P1DT',
    '-P1D',
    'P-1D',
    '2D',
    'p2d',
    'P1.5D',
    'PT1.5M',
    'P1M2Y',
    'PT10M ',
    'P1D1D',
    'P1234567890D',
  ])('given %p, then it is invalid', (text) => {
    expect(isValidDuration(text)).toBe(false);
  });
});

describe('addDuration', () => {
  it.each([
    ['2026-11-19T10:00:00Z', 'P2D', '2026-11-21T10:00:00.000Z'],
    ['2026-11-21T10:00:00Z', 'PT10M', '2026-11-21T10:10:00.000Z'],
    ['2026-11-21T10:00:00.250Z', 'PT1.5S', '2026-11-21T10:00:01.750Z'],
    ['2026-01-31T08:00:00Z', 'P1M', '2026-02-28T08:00:00.000Z'],
    ['2028-01-31T08:00:00Z', 'P1M', '2028-02-29T08:00:00.000Z'],
    ['2028-02-29T00:00:00Z', 'P1Y', '2029-02-28T00:00:00.000Z'],
    ['2026-11-30T00:00:00Z', 'P3M', '2027-02-28T00:00:00.000Z'],
    ['2026-12-31T23:00:00Z', 'PT2H', '2027-01-01T01:00:00.000Z'],
    ['2026-11-21T10:00:00Z', 'P1W', '2026-11-28T10:00:00.000Z'],
    ['2026-11-21T10:00:00+02:00', 'P1D', '2026-11-22T08:00:00.000Z'],
    ['2026-11-21T10:00:00Z', 'P1Y2M3DT4H', '2028-01-24T14:00:00.000Z'],
  ])('given %s plus %s, then it is %s', (instant, duration, expected) => {
    expect(addDuration(instant, duration)).toBe(expected);
  });

  it('given an invalid duration, when added, then InvalidDuration with code DURATION.INVALID is thrown', () => {
    expect(() => addDuration('2026-11-21T10:00:00Z', 'ten minutes')).toThrow(InvalidDuration);
    const thrown = (() => {
      try {
        addDuration('2026-11-21T10:00:00Z', 'P');
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toMatchObject({ code: 'DURATION.INVALID', family: 'validation' });
  });

  it('given the same sum asked again, or after another one, then each answer is its own (and an invalid one still throws)', () => {
    expect(addDuration('2026-11-21T10:00:00Z', 'P2D')).toBe('2026-11-23T10:00:00.000Z');
    expect(addDuration('2026-11-21T10:00:00Z', 'P2D')).toBe('2026-11-23T10:00:00.000Z');
    expect(addDuration('2026-11-21T10:00:00Z', 'P3D')).toBe('2026-11-24T10:00:00.000Z');
    expect(addDuration('2026-11-22T10:00:00Z', 'P3D')).toBe('2026-11-25T10:00:00.000Z');
    expect(() => addDuration('', '')).toThrow(InvalidDuration);
    expect(() => addDuration('', '')).toThrow(InvalidDuration);
  });

  it('given an invalid instant, when a duration is added, then InvalidInstant is thrown', () => {
    expect(() => addDuration('yesterday', 'P1D')).toThrow(InvalidInstant);
  });

  it.each(['P999999999Y', 'P99999999Y', 'P99999999D', 'PT999999999H', 'P7974Y'])(
    'given %s, which lands past 9999-12-31, when added, then DurationOutOfRange (a domain error, never a RangeError) is thrown',
    (duration) => {
      let thrown: unknown;
      try {
        addDuration('2026-11-21T10:00:00Z', duration);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DurationOutOfRange);
      expect(thrown).toMatchObject({ code: 'DURATION.OUT_OF_RANGE', family: 'validation' });
    },
  );

  it('given the last representable instant, when P0D is added, then it is kept; a millisecond more is out of range', () => {
    expect(addDuration('9999-12-31T23:59:59.999Z', 'PT0S')).toBe('9999-12-31T23:59:59.999Z');
    expect(() => addDuration('9999-12-31T23:59:59.999Z', 'PT0.001S')).toThrow(DurationOutOfRange);
  });
});

describe('isWithinMaxDuration', () => {
  it.each(['P100Y', 'P1200M', 'P5217W', 'P36525D', 'PT876600H', 'PT52596000M'])(
    'given %s, then it is within P100Y',
    (text) => {
      expect(isWithinMaxDuration(parseDuration(text)!)).toBe(true);
    },
  );

  it.each(['P101Y', 'P100YT1S', 'P1201M', 'P5218W', 'P36526D', 'PT876601H', 'P99999999Y'])(
    'given %s, then it is longer than P100Y',
    (text) => {
      expect(isWithinMaxDuration(parseDuration(text)!)).toBe(false);
    },
  );
});
