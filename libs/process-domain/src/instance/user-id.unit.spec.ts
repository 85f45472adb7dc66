import { isReservedUserId, userIdProblem } from '@lifeline/process-domain';

describe('user ids', () => {
  it.each(['alice', 'bob.smith@example.com', 'Zoë', 'שלום', 'user 7', 'x'.repeat(200), 'systems', 'my-system'])(
    'accepts %j',
    (id) => {
      expect(userIdProblem(id)).toBeUndefined();
    },
  );

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['leading blank', ' alice'],
    ['trailing blank', 'alice\u00a0'],
    ['too long', 'x'.repeat(201)],
    ['a NUL', 'al\u0000ice'],
    ['a newline', 'alice\n'],
    ['DEL', 'alice\u007f'],
    ['a C1 control', 'alice\u0085'],
    ['a right-to-left override', '\u202ealice'],
    ['a left-to-right isolate', 'alice\u2066'],
    ['a right-to-left mark', 'alice\u200f'],
    ['a zero-width joiner', 'al\u200dice'],
    ['a byte-order mark', '\ufeffalice'],
    ['a line separator', 'alice\u2028'],
    ['the engine', 'system'],
    ['the engine in capitals', 'SYSTEM'],
    ['the engine in full-width letters', '\uff53\uff59\uff53\uff54\uff45\uff4d'],
  ])('refuses %s', (_name, id) => {
    expect(userIdProblem(id)).toEqual(expect.any(String));
  });

  it('says why the engine name is refused', () => {
    expect(userIdProblem('system')).toBe('"system" is reserved for the engine');
    expect(isReservedUserId('System')).toBe(true);
    expect(isReservedUserId('alice')).toBe(false);
  });

  it('refuses what is not a string', () => {
    expect(userIdProblem(undefined)).toEqual(expect.any(String));
    expect(userIdProblem(42)).toEqual(expect.any(String));
  });
});
