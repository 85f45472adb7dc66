import { SystemClock } from './clock';

describe('SystemClock', () => {
  it('given the millisecond changes, then nowIso is the new instant, not the one it gave before', () => {
    const clock = new SystemClock();
    const first = clock.nowIso();
    const before = Date.now();
    // Spins until the next millisecond (at most about one): no timer is waited for.
    while (Date.now() === before);
    const next = clock.nowIso();
    expect(Date.parse(next)).toBeGreaterThan(Date.parse(first));
    expect(Date.parse(next)).toBeGreaterThanOrEqual(before + 1);
    expect(Date.parse(next)).toBeLessThanOrEqual(Date.now());
    expect(next).toBe(new Date(Date.parse(next)).toISOString());
  });
});
