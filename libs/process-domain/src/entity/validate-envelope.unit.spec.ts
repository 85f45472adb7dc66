import {
  DEFAULT_ENVELOPE_LIMITS,
  EnvelopeLimits,
  isIsoDateTimeWithZone,
  parseEnvelopeJson,
  validateEnvelope,
} from './validate-envelope';

const anInvoiceUpdate = () => ({
  id: 'evt-2026-0001',
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind: 'updated',
  occurredAt: '2026-11-21T10:00:00Z',
  data: {
    number: 'INV-7',
    amount: 1200,
    status: 'ClearedForPayment',
    ownerId: 'alice',
    lines: [{ sku: 'A', qty: 2 }],
  },
  changed: ['status'],
});

const issuesOf = (input: unknown, limits?: EnvelopeLimits) => {
  const result = validateEnvelope(input, limits);
  if (result.ok) throw new Error('expected the envelope to be refused');
  return result.issues;
};
const pathsOf = (input: unknown, limits?: EnvelopeLimits) => issuesOf(input, limits).map((i) => i.path);

describe('validateEnvelope', () => {
  it('given the envelope of the design, when validated, then it is accepted as is', () => {
    const result = validateEnvelope(anInvoiceUpdate());
    expect(result).toEqual({ ok: true, envelope: anInvoiceUpdate() });
  });

  it('given an envelope without changed, when validated, then changed stays absent', () => {
    const { changed: _changed, ...withoutChanged } = anInvoiceUpdate();
    const result = validateEnvelope(withoutChanged);
    expect(result.ok && 'changed' in result.envelope).toBe(false);
    expect(result.ok).toBe(true);
  });

  it('given a typo in a top-level key, when validated, then the unknown key and the missing key are both reported', () => {
    const { entityId, ...rest } = anInvoiceUpdate();
    expect(issuesOf({ ...rest, entityID: entityId })).toEqual([
      { path: 'entityID', message: "unknown key 'entityID'" },
      { path: 'entityId', message: 'is required' },
    ]);
  });

  it.each([null, [], 'text', 42, undefined])('given %p, when validated, then it is refused at the root', (input) => {
    expect(pathsOf(input)).toEqual(['']);
  });

  it('given several problems, when validated, then every one is listed by path', () => {
    const input = {
      id: '',
      entityType: '9Invoice',
      entityId: 'INV\n7',
      kind: 'modified',
      occurredAt: '2026-11-21 10:00',
      data: { ok: 1 },
      changed: ['status', '', 3],
    };
    expect(pathsOf(input)).toEqual(['id', 'entityId', 'entityType', 'kind', 'occurredAt', 'changed[1]', 'changed[2]']);
  });

  it('given ids longer than 200 characters, when validated, then id and entityId are refused', () => {
    const input = {
      ...anInvoiceUpdate(),
      id: 'x'.repeat(201),
      entityId: 'y'.repeat(201),
    };
    expect(pathsOf(input)).toEqual(['id', 'entityId']);
    expect(validateEnvelope({ ...anInvoiceUpdate(), id: 'x'.repeat(200) }).ok).toBe(true);
  });

  it('given an entity type of 101 characters, when validated, then it is refused', () => {
    expect(pathsOf({ ...anInvoiceUpdate(), entityType: 'A'.repeat(101) })).toEqual(['entityType']);
    expect(validateEnvelope({ ...anInvoiceUpdate(), entityType: 'A'.repeat(100) }).ok).toBe(true);
  });

  it.each([
    ['2026-11-21T10:00:00Z', true],
    ['2026-11-21T10:00:00.123+02:00', true],
    ['2026-11-21T10:00Z', true],
    ['2026-11-21T10:00:00', false],
    ['2026-02-30T10:00:00Z', false],
    ['2026-11-21T24:00:00Z', false],
    ['2026-13-01T10:00:00Z', false],
    ['21/11/2026', false],
  ])('given occurredAt %s, when checked, then valid is %s', (text, valid) => {
    expect(isIsoDateTimeWithZone(text)).toBe(valid);
  });

  it('given date-times around month ends, leap years, and the edges of each field, then the answer is the calendar’s (as Date counts days)', () => {
    /** The first version: days from setUTCFullYear, which follows the proleptic Gregorian calendar. */
    const reference = (text: string): boolean => {
      const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/.exec(
        text,
      );
      if (!m) return false;
      const [year, month, day, hour, minute, second, zoneHour, zoneMinute] = m
        .slice(1)
        .map((p) => (p === undefined ? 0 : Number(p)));
      const lastDay = new Date(0);
      lastDay.setUTCFullYear(year!, month!, 0);
      if (month! < 1 || month! > 12 || day! < 1 || day! > lastDay.getUTCDate()) return false;
      if (hour! > 23 || minute! > 59 || second! > 59 || zoneHour! > 23 || zoneMinute! > 59) return false;
      return !Number.isNaN(Date.parse(text));
    };
    const texts: string[] = [];
    for (const year of ['0000', '0004', '0100', '0400', '1900', '2000', '2024', '2026', '2100', '9999']) {
      for (const month of ['00', '01', '02', '04', '12', '13']) {
        for (const day of ['00', '01', '28', '29', '30', '31', '32']) texts.push(`${year}-${month}-${day}T10:00:00Z`);
      }
    }
    for (const time of [
      '23:59:59.999999999Z',
      '24:00Z',
      '12:60Z',
      '12:00:60Z',
      '00:00+23:59',
      '00:00-24:00',
      '00:00+05:60',
    ]) {
      texts.push(`2026-11-21T${time}`);
    }
    for (const text of texts) expect([text, isIsoDateTimeWithZone(text)]).toEqual([text, reference(text)]);
    // Asked again in another order, a text once valid does not make another one pass.
    for (const text of [...texts].reverse())
      expect([text, isIsoDateTimeWithZone(text)]).toEqual([text, reference(text)]);
  });

  it('given data that is an array or null, when validated, then data is refused', () => {
    expect(pathsOf({ ...anInvoiceUpdate(), data: [1] })).toEqual(['data']);
    expect(pathsOf({ ...anInvoiceUpdate(), data: null })).toEqual(['data']);
  });

  it('given prototype-polluting keys inside data, when validated, then each is refused with its path', () => {
    const data = JSON.parse(
      '{"customer":{"__proto__":{"admin":true},"name":"Acme"},"constructor":1,"list":[{"prototype":2}]}',
    );
    expect(pathsOf({ ...anInvoiceUpdate(), data })).toEqual([
      'data.customer.__proto__',
      'data.constructor',
      'data.list[0].prototype',
    ]);
  });

  it('given data nested deeper than the limit, when validated, then the too-deep path is refused', () => {
    const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxDepth: 3 };
    expect(validateEnvelope({ ...anInvoiceUpdate(), data: { a: { b: { c: 1 } } } }, limits).ok).toBe(true);
    expect(pathsOf({ ...anInvoiceUpdate(), data: { a: { b: { c: { d: 1 } } } } }, limits)).toEqual(['data.a.b.c']);
    expect(pathsOf({ ...anInvoiceUpdate(), data: { a: [[[1]]] } }, limits)).toEqual(['data.a[0][0]']);
  });

  it('given a very deep document, when validated with default limits, then it is refused without a stack overflow', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = { x: deep };
    const issues = issuesOf({ ...anInvoiceUpdate(), data: { deep } });
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toContain('deeper than 32');
  });

  it('given a string longer than the limit, when validated, then its path is refused', () => {
    const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxStringLength: 8 };
    const data = {
      customer: { name: 'Acme Limited' },
      [`k${'y'.repeat(8)}`]: 1,
    };
    expect(pathsOf({ ...anInvoiceUpdate(), data }, limits)).toEqual(['data.customer.name', 'data']);
  });

  it('given more keys than the limit, when validated, then it is refused once', () => {
    const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxKeys: 3 };
    const issues = issuesOf({ ...anInvoiceUpdate(), data: { a: 1, b: { c: 2, d: 3 }, e: 4 } }, limits);
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toContain('more than 3');
    expect(validateEnvelope({ ...anInvoiceUpdate(), data: { a: 1, b: { c: 2 } } }, limits).ok).toBe(true);
  });

  it('given non-JSON values inside data, when validated, then they are refused', () => {
    const data = { when: new Date(0), f: () => 1, n: Number.NaN };
    expect(pathsOf({ ...anInvoiceUpdate(), data })).toEqual(['data.when', 'data.f', 'data.n']);
  });

  it('given a parsed envelope whose JSON text is larger than maxBytes, when validated, then it is refused with its size', () => {
    const envelope = anInvoiceUpdate();
    const exact = Buffer.byteLength(JSON.stringify(envelope), 'utf8');
    expect(validateEnvelope(envelope, { ...DEFAULT_ENVELOPE_LIMITS, maxBytes: exact }).ok).toBe(true);
    expect(issuesOf(envelope, { ...DEFAULT_ENVELOPE_LIMITS, maxBytes: exact - 1 })).toEqual([
      { path: '', message: `the envelope is larger than ${exact - 1} bytes (${exact} bytes)` },
    ]);
  });

  it.each([
    ['escaped control characters', '\u0001'.repeat(50_000), 300_000],
    ['three-byte characters', '€'.repeat(50_000), 150_000],
    ['surrogate pairs', '😀'.repeat(25_000), 100_000],
  ])('given data of %s, when validated, then its size is what its JSON text takes in UTF-8', (_, text, bytes) => {
    const envelope = { ...anInvoiceUpdate(), data: { text, list: [text.slice(0, 10), 1.5e-7, true, null] } };
    const exact = Buffer.byteLength(JSON.stringify(envelope), 'utf8');
    expect(exact).toBeGreaterThan(bytes);
    expect(validateEnvelope(envelope, { ...DEFAULT_ENVELOPE_LIMITS, maxBytes: exact }).ok).toBe(true);
    expect(issuesOf(envelope, { ...DEFAULT_ENVELOPE_LIMITS, maxBytes: exact - 1 })).toEqual([
      { path: '', message: `the envelope is larger than ${exact - 1} bytes (${exact} bytes)` },
    ]);
  });

  it('given an accepted envelope, when the input is mutated afterwards, then the envelope does not change', () => {
    const input = anInvoiceUpdate();
    const result = validateEnvelope(input);
    if (!result.ok) throw new Error('expected ok');
    input.data.status = 'Tampered';
    input.data.lines[0].qty = 99;
    input.changed.push('amount');
    expect(result.envelope.data.status).toBe('ClearedForPayment');
    expect(result.envelope.data.lines).toEqual([{ sku: 'A', qty: 2 }]);
    expect(result.envelope.changed).toEqual(['status']);
  });
});

describe('parseEnvelopeJson', () => {
  it('given the JSON of a valid envelope, when parsed, then it is accepted', () => {
    expect(parseEnvelopeJson(JSON.stringify(anInvoiceUpdate()))).toEqual({
      ok: true,
      envelope: anInvoiceUpdate(),
    });
  });

  it('given text that is not JSON, when parsed, then one root issue says so', () => {
    const result = parseEnvelopeJson('{"id": ');
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues).toEqual([{ path: '', message: expect.stringContaining('not valid JSON') }]);
  });

  it('given a message larger than maxBytes in UTF-8, when parsed, then it is refused before parsing', () => {
    const limits = { ...DEFAULT_ENVELOPE_LIMITS, maxBytes: 300 };
    // 100 euro signs are 100 UTF-16 units but 300 UTF-8 bytes.
    const text = JSON.stringify({
      ...anInvoiceUpdate(),
      data: { note: '€'.repeat(100) },
    });
    const result = parseEnvelopeJson(text, limits);
    expect(!result.ok && result.issues).toEqual([
      { path: '', message: expect.stringContaining('larger than 300 bytes') },
    ]);
    expect(parseEnvelopeJson(text, { ...limits, maxBytes: 1000 }).ok).toBe(true);
  });

  it('given a __proto__ key in the JSON, when parsed, then it is refused and nothing is polluted', () => {
    const text = JSON.stringify(anInvoiceUpdate()).replace('"number"', '"__proto__":{"polluted":true},"number"');
    const result = parseEnvelopeJson(text);
    expect(!result.ok && result.issues.map((i) => i.path)).toEqual(['data.__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
