/** W3C trace context: version 00, a 32-hex trace id, a 16-hex parent span id, 2-hex flags. */
export const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The value when it is a valid `traceparent` (all-zero ids are invalid per the spec), else undefined. */
export function validTraceparent(value: unknown): string | undefined {
  const text = Buffer.isBuffer(value) ? value.toString('latin1') : value;
  if (typeof text !== 'string' || text.length > 64) return undefined;
  const normal = text.trim().toLowerCase();
  const match = TRACEPARENT.exec(normal);
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return normal;
}
