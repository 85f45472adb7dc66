import { validTraceparent } from './trace-context';

describe('validTraceparent: the W3C trace context header, or nothing', () => {
  const valid = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('keeps a valid one, lower-cased and trimmed, from a string or a Kafka header buffer', () => {
    expect(validTraceparent(valid)).toBe(valid);
    expect(validTraceparent(` ${valid.toUpperCase()} `)).toBe(valid);
    expect(validTraceparent(Buffer.from(valid))).toBe(valid);
  });

  it.each([
    ['an all-zero trace id', '00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['an all-zero span id', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
    ['another version', '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01'],
    ['text after it', `${valid}-extra`],
    ['not hex', '00-4bf92f3577b34da6a3ce929d0e0e473z-00f067aa0ba902b7-01'],
  ])('drops %s', (_what, value) => {
    expect(validTraceparent(value)).toBeUndefined();
  });

  it('drops what is not a string', () => {
    expect(validTraceparent(undefined)).toBeUndefined();
    expect(validTraceparent(['a', 'b'])).toBeUndefined();
  });
});
