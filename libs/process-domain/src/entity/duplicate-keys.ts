/** A key that appears twice in one object of a JSON text: the key (unescaped) and where, e.g. `[1].data.kind`. */
export interface DuplicateKey {
  key: string;
  path: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

type Frame = { keys: Set<string>; expectKey: boolean; key: string } | { keys: null; index: number };

/**
 * The first duplicate key of a JSON text, or undefined. JSON.parse keeps the last value of a repeated key, so
 * `"kind":"created","kind":"deleted"` would silently mean deleted; nobody can know which one the sender meant.
 *
 * Given `parsed` (JSON.parse of the same text), the common case is a count: the keys written in the text against
 * the keys the parsed value holds; they differ exactly when one object repeats a key (JSON.parse decodes escapes,
 * so `"k\u0069nd"` counts as `kind`). Only then is the text scanned again for the key and its path. The scans look
 * only at strings and brackets and never throw or loop on text that is not JSON (the caller's JSON.parse says so).
 */
export function findDuplicateKey(text: string, parsed?: unknown): DuplicateKey | undefined {
  if (parsed !== undefined && keysWritten(text) === keysHeld(parsed)) return undefined;
  return locateDuplicateKey(text);
}

/** How many object keys the text writes, or -1 when it is not JSON. */
function keysWritten(text: string): number {
  // Per open bracket: 1 an object expecting a key, 0 an object expecting a value, 2 an array.
  let expecting = new Uint8Array(64);
  let depth = -1;
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (end < 0) return -1;
      if (depth >= 0 && expecting[depth] === 1) {
        count++;
        expecting[depth] = 0;
      }
      i = end;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth === expecting.length) {
        const grown = new Uint8Array(expecting.length * 2);
        grown.set(expecting);
        expecting = grown;
      }
      expecting[depth] = c === OPEN_OBJECT ? 1 : 2;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth < -1) return -1;
    } else if (c === COMMA && depth >= 0 && expecting[depth] === 0) {
      expecting[depth] = 1;
    }
  }
  return count;
}

/** How many keys the objects of a parsed JSON value hold (iterative: parsed JSON may be nested very deep). */
function keysHeld(value: unknown): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const element: unknown = item[i];
        if (element !== null && typeof element === 'object') pending.push(element);
      }
      continue;
    }
    for (const key in item) {
      count++;
      const member = (item as Record<string, unknown>)[key];
      if (member !== null && typeof member === 'object') pending.push(member);
    }
  }
  return count;
}

/** The first repeated key and its path, by a scan that keeps every object's keys. */
function locateDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(text, i);
      if (end < 0) return undefined;
      const top = stack.length > 0 ? stack[stack.length - 1]! : undefined;
      if (top !== undefined && top.keys !== null && top.expectKey) {
        const key = keyOf(text, i, end);
        if (key === undefined) return undefined;
        if (top.keys.has(key)) return { key, path: pathOf(stack, key) };
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === OPEN_OBJECT) {
      stack.push({ keys: new Set(), expectKey: true, key: '' });
    } else if (c === OPEN_ARRAY) {
      stack.push({ keys: null, index: 0 });
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      stack.pop();
    } else if (c === COMMA && stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.keys !== null) top.expectKey = true;
      else top.index++;
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start`, or -1. */
function closingQuote(text: string, start: number): number {
  // Most strings are short: a plain loop; past that, indexOf and a look at the backslashes before the quote.
  let i = start + 1;
  const short = Math.min(text.length, i + 24);
  for (; i < short; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BACKSLASH) i++;
  }
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote < 0) return -1;
    let before = quote - 1;
    while (before >= i && text.charCodeAt(before) === BACKSLASH) before--;
    if ((quote - 1 - before) % 2 === 0) return quote;
    i = quote + 1;
  }
}

function keyOf(text: string, start: number, end: number): string | undefined {
  const raw = text.slice(start + 1, end);
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    return undefined;
  }
}

function pathOf(stack: Frame[], duplicate: string): string {
  let path = '';
  const step = (key: string) => (IDENTIFIER.test(key) ? `${path === '' ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`);
  for (let i = 0; i < stack.length - 1; i++) {
    const frame = stack[i]!;
    path += frame.keys === null ? `[${frame.index}]` : step(frame.key);
  }
  return path + step(duplicate);
}
