import { AsOfInvalid } from './errors';
import { parseAsOf } from './as-of';

describe('parseAsOf: a global position or a strict ISO-8601 instant', () => {
  it.each([
    ['12345', { kind: 'position', position: 12345 }],
    [' 0 ', { kind: 'position', position: 0 }],
    ['2026-11-21T10:00:00Z', { kind: 'time', at: '2026-11-21T10:00:00.000Z' }],
    ['2026-11-21T10:00Z', { kind: 'time', at: '2026-11-21T10:00:00.000Z' }],
    ['2026-11-21T11:30:00.5+01:30', { kind: 'time', at: '2026-11-21T10:00:00.500Z' }],
    ['2028-02-29T23:59:59Z', { kind: 'time', at: '2028-02-29T23:59:59.000Z' }],
    // Year 0 is a leap year (divisible by 400); Date.UTC would read it as 1900, which is not.
    ['0000-02-29T21:20:30.3Z', { kind: 'time', at: '0000-02-29T21:20:30.300Z' }],
    ['0400-02-29T00:00:00Z', { kind: 'time', at: '0400-02-29T00:00:00.000Z' }],
  ])('%s is read as it says', (text, expected) => {
    expect(parseAsOf(text)).toEqual(expected);
  });

  it.each([
    ['2026-02-31T00:00:00Z', 'a day February does not have'],
    ['2026-02-29T00:00:00Z', 'February 29th of a common year'],
    ['2100-02-29T00:00:00Z', 'February 29th of a century that is not a leap year'],
    ['0100-02-29T00:00:00Z', 'February 29th of year 100 (not a leap year, whatever Date.UTC makes of it)'],
    ['2026-04-31T00:00:00Z', 'April 31st'],
    ['2026-13-01T00:00:00Z', 'month 13'],
    ['2026-00-10T00:00:00Z', 'month 0'],
    ['2026-01-00T00:00:00Z', 'day 0'],
    ['2026-01-01T24:00:00Z', 'hour 24'],
    ['2026-01-01T10:60:00Z', 'minute 60'],
    ['2026-01-01T10:00:60Z', 'second 60'],
    ['2026-01-01T10:00:00+24:00', 'a zone of 24 hours'],
    ['2026-01-01T10:00:00+01:60', 'a zone minute of 60'],
    ['2026-01-01T10:00:00', 'no zone'],
    ['yesterday', 'words'],
    ['-1', 'a negative position'],
    ['1234567890123456', 'a position of 16 digits'],
  ])('%s is refused with AUDIT.INVALID_AS_OF (%s)', (text) => {
    let refusal: unknown;
    try {
      parseAsOf(text);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AsOfInvalid);
    expect((refusal as AsOfInvalid).code).toBe('AUDIT.INVALID_AS_OF');
  });
});
