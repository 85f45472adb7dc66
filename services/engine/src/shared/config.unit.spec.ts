import { ConfigInvalid, DEFAULT_TOKEN_MAX_LIFETIME_SECONDS, loadConfig, parseLifetime } from './config';

describe('token lifetime configuration', () => {
  it.each([
    ['3600', 3600],
    ['90s', 90],
    ['30m', 1800],
    ['12h', 43_200],
    ['7d', 604_800],
    ['PT24H', 86_400],
    ['P1D', 86_400],
    ['P1W', 604_800],
    ['PT1H30M', 5400],
    [' 24h ', 86_400],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseLifetime(text)).toBe(seconds);
  });

  it.each(['', '0', 'PT0S', 'P1M', 'P1Y', '24 hours', '-5', '1.5h', 'PT', 'h'])('refuses %j', (text) => {
    expect(parseLifetime(text)).toBeUndefined();
  });

  it('defaults to 24 hours and reads LIFELINE_TOKEN_MAX_LIFETIME', () => {
    expect(loadConfig({}).tokenMaxLifetimeSeconds).toBe(DEFAULT_TOKEN_MAX_LIFETIME_SECONDS);
    expect(DEFAULT_TOKEN_MAX_LIFETIME_SECONDS).toBe(86_400);
    expect(loadConfig({ LIFELINE_TOKEN_MAX_LIFETIME: 'PT1H' }).tokenMaxLifetimeSeconds).toBe(3600);
  });

  it('refuses an unreadable LIFELINE_TOKEN_MAX_LIFETIME at start', () => {
    expect(() => loadConfig({ LIFELINE_TOKEN_MAX_LIFETIME: 'forever' })).toThrow(ConfigInvalid);
    expect(() => loadConfig({ LIFELINE_TOKEN_MAX_LIFETIME: 'forever' })).toThrow(/LIFELINE_TOKEN_MAX_LIFETIME/);
  });
});
