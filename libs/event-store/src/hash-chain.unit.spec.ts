import { canonicalJson, computeEventHash } from './hash-chain';

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('reads the same value back as JSON.stringify would store it', () => {
    const value = {
      when: new Date('2026-11-21T10:00:00Z'),
      gone: undefined,
      list: [undefined, NaN, -0, 1e21],
      text: 'é "q" \n \u2028',
    };
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ amount: 1200, status: 'Open' })).toBe(canonicalJson({ status: 'Open', amount: 1200 }));
  });
});

describe('computeEventHash', () => {
  const event = {
    id: 'e-1',
    streamId: 'instance-1',
    revision: 0,
    type: 'InstanceStarted',
    data: { a: 1 },
    metadata: { actor: 'alice' },
  };

  it('depends on the previous hash and on every hashed field', () => {
    const hash = computeEventHash('', event);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeEventHash('', { ...event, data: { a: 2 } })).not.toBe(hash);
    expect(computeEventHash('', { ...event, revision: 1 })).not.toBe(hash);
    expect(computeEventHash('', { ...event, metadata: { actor: 'bob' } })).not.toBe(hash);
    expect(computeEventHash('x', event)).not.toBe(hash);
    expect(computeEventHash('', { ...event, data: { a: 1 } })).toBe(hash);
  });
});
