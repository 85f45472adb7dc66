import { findDuplicateKey } from './duplicate-keys';

/** Both ways: the full scan, and the count against JSON.parse's value (the fast path callers take); they agree. */
const find = (text: string) => {
  const scanned = findDuplicateKey(text);
  expect(findDuplicateKey(text, JSON.parse(text))).toEqual(scanned);
  return scanned;
};

describe('findDuplicateKey', () => {
  it('given the envelope of issue 11 with kind twice, then it names kind at the root', () => {
    expect(find('{"id":"e-1","kind":"created","entityId":"X","kind":"deleted"}')).toEqual({
      key: 'kind',
      path: 'kind',
    });
  });

  it('given an escaped spelling of the same key, then it is the same key', () => {
    expect(find('{"kind":"created","k\\u0069nd":"deleted"}')).toEqual({ key: 'kind', path: 'kind' });
    expect(find('{"a\\"b":1,"a\\u0022b":2}')).toEqual({ key: 'a"b', path: '["a\\"b"]' });
  });

  it('given duplicates deep inside arrays and objects, then the path leads to them', () => {
    const text = JSON.stringify([{ id: 'a' }, { id: 'b', data: { lines: [{ q: 1 }, { q: 2 }] } }]).replace(
      '{"q":2}',
      '{"q":2,"q":3}',
    );
    expect(find(text)).toEqual({ key: 'q', path: '[1].data.lines[1].q' });
    expect(find('{"odd key":{"x":1,"x":2}}')).toEqual({ key: 'x', path: '["odd key"].x' });
  });

  it('given the same key in different objects, or a key spelled inside a string value, then nothing is duplicate', () => {
    expect(find('[{"kind":1},{"kind":2}]')).toBeUndefined();
    expect(find('{"a":{"kind":1},"b":{"kind":2},"kind":3}')).toBeUndefined();
    expect(find('{"note":"\\"kind\\":1, \\"kind\\":2","kind":"x"}')).toBeUndefined();
    expect(find('{"a":"ends with a backslash \\\\","b":"{\\"a\\":1}","a2":[1,{"a":2}]}')).toBeUndefined();
    expect(find('{"Kind":1,"kind":2}')).toBeUndefined();
  });

  it('given values that are not objects, then nothing is found', () => {
    for (const text of ['"kind"', '42', 'null', '[]', '{}', '[[],[{}]]', ' { } ']) {
      expect(find(text)).toBeUndefined();
    }
  });

  it('given text that is not JSON, then it neither throws nor loops', () => {
    for (const text of ['{"a":1,"a', '{"a\\', '}}}]]]', '{"\\u12":1,"\\u12":2}', '{"a":1,,"a":2', '"']) {
      expect(() => findDuplicateKey(text)).not.toThrow();
    }
  });

  it('given JSON nested 20,000 levels deep, then counting does not overflow the stack', () => {
    const deep = '[{"a":'.repeat(20_000) + '1' + '}]'.repeat(20_000);
    expect(findDuplicateKey(deep, JSON.parse(deep))).toBeUndefined();
    const repeated = '[{"a":'.repeat(20_000) + '1,"a":2' + '}]'.repeat(20_000);
    expect(findDuplicateKey(repeated, JSON.parse(repeated))).toMatchObject({ key: 'a' });
  });

  it('given a mix of shapes, then it finds exactly the first repeated key the text was built with', () => {
    // Differential check: build objects with and without a repeated key and compare with the truth.
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 200; round++) {
      const keys = Array.from(
        { length: 1 + Math.floor(next() * 6) },
        () => ['a', 'b', 'c', 'k\\u0069', 'ki'][Math.floor(next() * 5)]!,
      );
      const decoded = keys.map((k) => JSON.parse(`"${k}"`) as string);
      const members = keys.map((k, i) => `"${k}":${i % 2 ? '"v,\\"x\\":1"' : `[${i},{"${k}":0}]`}`);
      const text = `{"wrap":[{${members.join(',')}}]}`;
      const firstRepeat = decoded.findIndex((k, i) => decoded.indexOf(k) !== i);
      expect(find(text)).toEqual(
        firstRepeat < 0 ? undefined : { key: decoded[firstRepeat], path: `wrap[0].${decoded[firstRepeat]}` },
      );
    }
  });
});
