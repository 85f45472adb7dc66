import jwt from 'jsonwebtoken';
import { runCli } from './cli';
import type { CliIo } from './io';

const SECRET = 'cli-secret-0123456789abcdef0123456789';

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env, cwd: process.cwd() };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

const lifetimeOf = (token: string) => {
  const claims = jwt.verify(token.trim(), SECRET) as { iat: number; exp: number; sub: string };
  return claims.exp - claims.iat;
};

describe('lifeline token', () => {
  it('signs for the server’s cap by default: 24 h, or LIFELINE_TOKEN_MAX_LIFETIME', async () => {
    const daily = await cli(['token', 'bob', '--roles', 'accounting', '--secret', SECRET]);
    expect(daily.code).toBe(0);
    expect(lifetimeOf(daily.stdout)).toBe(86_400);
    const hourly = await cli(['token', 'bob', '--secret', SECRET], { LIFELINE_TOKEN_MAX_LIFETIME: 'PT1H' });
    expect(lifetimeOf(hourly.stdout)).toBe(3600);
  });

  it('signs for a shorter --expires-in', async () => {
    for (const [text, seconds] of [
      ['30m', 1800],
      ['PT2H', 7200],
      ['600', 600],
    ] as const) {
      const run = await cli(['token', 'bob', '--secret', SECRET, '--expires-in', text]);
      expect({ text, code: run.code, lifetime: lifetimeOf(run.stdout) }).toEqual({ text, code: 0, lifetime: seconds });
    }
  });

  it('refuses an --expires-in beyond the cap, saying which cap, and prints no token', async () => {
    const run = await cli(['token', 'admin', '--roles', 'admin', '--secret', SECRET, '--expires-in', '30d']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining(
        '--expires-in 30d is 2592000 s, beyond the 86400 s the server accepts (LIFELINE_TOKEN_MAX_LIFETIME)',
      ),
    });
    const capped = await cli(['token', 'bob', '--secret', SECRET, '--expires-in', '2h'], {
      LIFELINE_TOKEN_MAX_LIFETIME: '1h',
    });
    expect(capped.code).toBe(2);
    expect(capped.stderr).toContain('beyond the 3600 s');
  });

  it('refuses an unreadable --expires-in', async () => {
    const run = await cli(['token', 'bob', '--secret', SECRET, '--expires-in', 'soon']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--expires-in soon: give seconds');
  });

  it.each([
    ['the engine', 'system', '"system" is reserved for the engine'],
    ['the engine, cased', 'SYSTEM', 'reserved for the engine'],
    ['a right-to-left override', 'bob\u202e', 'bidi-override'],
    ['a blank', ' ', 'non-blank'],
  ])('refuses to sign for %s', async (_name, sub, reason) => {
    const run = await cli(['token', sub, '--roles', 'admin', '--secret', SECRET]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(reason);
  });
});
