import redosCorpus from '../../../../test/corpus/redos-patterns.json';
import { checkFeel, evaluateFeel, FEEL_BUDGET } from './feel';

/** Known ReDoS patterns (OWASP, post-mortems, npm advisories) with the input that makes a backtracking engine stall. */
interface RedosCase {
  name: string;
  source: string;
  pattern: string;
  input: { prefix: string; repeat: string; count: number; suffix: string };
  matches: boolean;
}
const REDOS_CORPUS: RedosCase[] = redosCorpus;
const adversarial = ({ input }: RedosCase) => input.prefix + input.repeat.repeat(input.count) + input.suffix;

const NOW = '2026-11-21T10:00:00Z';
/** The longest string an envelope may hold (README "Limits": strings 64 KiB), the regex input limit. */
const LIMIT = 64 * 1024;

const matches = (text: string, pattern: string, flags?: string) =>
  evaluateFeel(
    flags === undefined ? 'matches(entity.text, entity.pattern)' : 'matches(entity.text, entity.pattern, entity.flags)',
    { entity: { text, pattern, flags } },
    NOW,
  );
const replace = (text: string, pattern: string, replacement: string, flags?: string) =>
  evaluateFeel(
    'replace(entity.text, entity.pattern, entity.replacement, entity.flags)',
    { entity: { text, pattern, replacement, flags: flags ?? null } },
    NOW,
  );
const split = (text: string, pattern: string) =>
  evaluateFeel('split(entity.text, entity.pattern)', { entity: { text, pattern } }, NOW);

describe('FEEL regular expressions run on a linear-time engine', () => {
  it('the input limit is the envelope string limit', () => {
    expect(FEEL_BUDGET.maxPatternInput).toBe(LIMIT);
  });

  describe('the patterns that froze the server answer, at the input limit', () => {
    it.each([
      ['^(a|aa)*$', '42 × a', true, 'a'.repeat(42)],
      ['^(a|aa)*$', '41 × a, then !', false, 'a'.repeat(41) + '!'],
      ['^(a|aa)*$', '64 Ki × a', true, 'a'.repeat(LIMIT)],
      ['^(a|aa)*$', '64 Ki - 1 × a, then !', false, 'a'.repeat(LIMIT - 1) + '!'],
      ['^a*a*a*a*a*$', '200 × a, then !', false, 'a'.repeat(200) + '!'],
      ['^a*a*a*a*a*$', '64 Ki × a', true, 'a'.repeat(LIMIT)],
      ['^a*a*a*a*a*$', '64 Ki - 1 × a, then !', false, 'a'.repeat(LIMIT - 1) + '!'],
    ])('matches(%s) on %s is %s', (pattern, _label, expected, text) => {
      expect(matches(text, pattern)).toEqual({ ok: true, value: expected });
    });

    it('as a literal in the expression, too', () => {
      const context = { entity: { x: 'a'.repeat(41) + '!' } };
      expect(evaluateFeel('matches(entity.x, "^(a|aa)*$")', context, NOW)).toEqual({ ok: true, value: false });
      expect(checkFeel('matches(entity.x, "^(a|aa)*$")')).toBeUndefined();
    });

    it('one character over the input limit is refused by the budget', () => {
      expect(matches('a'.repeat(LIMIT + 1), '^(a|aa)*$')).toMatchObject({
        ok: false,
        code: 'FEEL.BUDGET_EXCEEDED',
        message: expect.stringContaining(`more than ${LIMIT}`),
      });
    });
  });

  describe(`a corpus of ${REDOS_CORPUS.length} known ReDoS patterns, each against its adversarial input, within the step budget`, () => {
    it('holds at least twenty patterns', () => {
      expect(REDOS_CORPUS.length).toBeGreaterThanOrEqual(20);
    });

    it.each(REDOS_CORPUS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expect(matches(adversarial(c), c.pattern)).toEqual({ ok: true, value: c.matches });
    });
  });

  describe('XQuery semantics as far as RE2 allows', () => {
    it('matches searches anywhere unless anchored', () => {
      expect(matches('an invoice', 'voice')).toEqual({ ok: true, value: true });
      expect(matches('an invoice', '^voice')).toEqual({ ok: true, value: false });
      expect(matches('', '')).toEqual({ ok: true, value: true });
    });

    it('flags: i, s, m and x (whitespace outside classes removed)', () => {
      expect(matches('INV-7', '^inv-\\d+$', 'i')).toEqual({ ok: true, value: true });
      expect(matches('a\nb', '^a.b$')).toEqual({ ok: true, value: false });
      expect(matches('a\nb', '^a.b$', 's')).toEqual({ ok: true, value: true });
      expect(matches('x\nINV-7\ny', '^INV-7$')).toEqual({ ok: true, value: false });
      expect(matches('x\nINV-7\ny', '^INV-7$', 'm')).toEqual({ ok: true, value: true });
      expect(matches('hello world', 'hello world', 'x')).toEqual({ ok: true, value: false });
      expect(matches('helloworld', 'hello world', 'x')).toEqual({ ok: true, value: true });
      expect(matches('a b', 'a[ ]b', 'x')).toEqual({ ok: true, value: true });
      expect(matches('AB', ' a b ', 'xi')).toEqual({ ok: true, value: true });
    });

    it('. matches neither \\n nor \\r without s, as in XQuery', () => {
      expect(matches('a\rb', 'a.b')).toEqual({ ok: true, value: false });
      expect(matches('a\rb', 'a.b', 's')).toEqual({ ok: true, value: true });
      expect(matches('a.b', 'a[.]b')).toEqual({ ok: true, value: true });
      expect(matches('a\\b', 'a\\\\.')).toEqual({ ok: true, value: true });
    });

    it('replace: every match, $0 and $N groups, \\$ and \\\\ escapes, flags', () => {
      expect(replace('abcd', '(b)(c)', '[$2$1$0]')).toEqual({ ok: true, value: 'a[cbbc]d' });
      expect(replace('a-b-c', '-', '\\$')).toEqual({ ok: true, value: 'a$b$c' });
      expect(replace('a-b', '-', '\\\\')).toEqual({ ok: true, value: 'a\\b' });
      expect(replace('Abc abc', 'a', 'x', 'i')).toEqual({ ok: true, value: 'xbc xbc' });
      expect(replace('abc', 'x*', '-')).toEqual({ ok: true, value: '-a-b-c-' });
      expect(replace('abc', 'z', '-')).toEqual({ ok: true, value: 'abc' });
      // A group number that names no group stands for nothing; extra digits are text.
      expect(replace('ab', '(a)', '$2|$10')).toEqual({ ok: true, value: '|a0b' });
      expect(replace('a😀b', '', '.')).toEqual({ ok: true, value: '.a.😀.b.' });
    });

    it('split: empty pieces are kept, captured groups are not added', () => {
      expect(split('John Doe', '\\s')).toEqual({ ok: true, value: ['John', 'Doe'] });
      expect(split('a;b;c;;', ';')).toEqual({ ok: true, value: ['a', 'b', 'c', '', ''] });
      expect(split('a1b2c', '(\\d)')).toEqual({ ok: true, value: ['a', 'b', 'c'] });
      expect(split('abc', '')).toEqual({ ok: true, value: ['a', 'b', 'c'] });
      expect(split('a,b', ',*')).toEqual({ ok: true, value: ['a', 'b'] });
      expect(split('abc', 'x')).toEqual({ ok: true, value: ['abc'] });
      expect(split('', ',')).toEqual({ ok: true, value: [''] });
    });

    it('arguments that are not strings give null, as every FEEL builtin does', () => {
      expect(evaluateFeel('matches(null, "a")', {}, NOW)).toEqual({ ok: true, value: null });
      expect(evaluateFeel('matches(12, "1")', {}, NOW)).toEqual({ ok: true, value: null });
      expect(evaluateFeel('split("a,b", null)', {}, NOW)).toEqual({ ok: true, value: null });
      expect(evaluateFeel('matches(input: "abc", pattern: "B", flags: "i")', {}, NOW)).toEqual({
        ok: true,
        value: true,
      });
    });
  });

  describe('what RE2 cannot run is an error with a code, never a backtracking fallback', () => {
    it.each([
      ['(a)\\1', 'back-reference'],
      ['(?<n>a)\\k<n>', 'named back-reference'],
      ['a(?=b)', 'lookahead'],
      ['a(?!b)', 'negative lookahead'],
      ['(?<=a)b', 'lookbehind'],
      ['(?<!a)b', 'negative lookbehind'],
    ])('%s (%s): FEEL.UNSUPPORTED_PATTERN at run time, refused at publish time', (pattern) => {
      expect(matches('aab', pattern)).toMatchObject({
        ok: false,
        code: 'FEEL.UNSUPPORTED_PATTERN',
        message: expect.stringContaining('back-reference or lookaround'),
      });
      expect(checkFeel(`matches(entity.x, ${JSON.stringify(pattern)})`)).toMatch(/FEEL\.UNSUPPORTED_PATTERN/);
      expect(checkFeel(`replace(input: entity.x, pattern: ${JSON.stringify(pattern)}, replacement: "")`)).toMatch(
        /FEEL\.UNSUPPORTED_PATTERN/,
      );
      expect(checkFeel(`split(entity.x, ${JSON.stringify(pattern)})`)).toMatch(/FEEL\.UNSUPPORTED_PATTERN/);
    });

    it('an invalid pattern or flag is FEEL.INVALID_PATTERN, and refused at publish time when written as a literal', () => {
      expect(matches('a', '(')).toMatchObject({ ok: false, code: 'FEEL.INVALID_PATTERN' });
      expect(matches('a', 'a', 'g')).toMatchObject({
        ok: false,
        code: 'FEEL.INVALID_PATTERN',
        message: expect.stringContaining("unknown flag 'g'"),
      });
      expect(checkFeel('matches(entity.x, "(")')).toMatch(/missing closing \)/);
      expect(checkFeel('matches(entity.x, "a", "q")')).toMatch(/unknown flag 'q'/);
      expect(checkFeel('matches(entity.x, entity.pattern)')).toBeUndefined();
    });

    it(`a pattern longer than ${FEEL_BUDGET.maxPatternLength} characters is refused`, () => {
      expect(matches('a', 'a'.repeat(FEEL_BUDGET.maxPatternLength))).toEqual({ ok: true, value: false });
      expect(matches('a', 'a'.repeat(FEEL_BUDGET.maxPatternLength + 1))).toMatchObject({
        ok: false,
        code: 'FEEL.INVALID_PATTERN',
      });
    });
  });

  describe('the budget pays for what a search may read, so the work is bounded whatever the pattern', () => {
    it('a large program over a large input is refused before it runs', () => {
      const outcome = matches('a'.repeat(LIMIT), '(?:a?){500}a{500}');
      expect(outcome).toMatchObject({ ok: false, code: 'FEEL.BUDGET_EXCEEDED' });
    });

    it('replace and split pay for every search, so many matches that each read to the end are refused', () => {
      // Each search for a*b|a reads to the end of the input before it settles on "a": quadratic in RE2 too.
      expect(replace('a'.repeat(LIMIT), 'a*b|a', 'x')).toMatchObject({ ok: false, code: 'FEEL.BUDGET_EXCEEDED' });
      expect(split('a'.repeat(LIMIT), 'a*b|a')).toMatchObject({ ok: false, code: 'FEEL.BUDGET_EXCEEDED' });
      expect(replace('a'.repeat(100), 'a*b|a', 'x')).toEqual({ ok: true, value: 'x'.repeat(100) });
    });

    it('an input with no match costs one search', () => {
      expect(replace('a'.repeat(LIMIT), '^(a|aa)*!$', 'x')).toEqual({ ok: true, value: 'a'.repeat(LIMIT) });
      expect(split('a'.repeat(LIMIT), ',')).toEqual({ ok: true, value: ['a'.repeat(LIMIT)] });
    });
  });
});
