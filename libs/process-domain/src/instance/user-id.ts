/**
 * User ids name people in task lists and in history: the engine's own actor name is reserved, and an
 * id must read as what it is (no control, format or bidi-override characters, no edge blanks).
 */

/** Actor names the engine writes itself (process manager, timers, Kafka ingest, demo publishing). */
export const RESERVED_USER_IDS: readonly string[] = ['system'];

export const MAX_USER_ID_LENGTH = 200;

// Cc: C0/C1 controls and DEL; Cf: format characters (bidi overrides and isolates, zero-width joiners, BOM);
// Zl/Zp: line and paragraph separators. Any of them makes one id look like another.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Is `id` one of the reserved names, however it is cased or composed? */
export const isReservedUserId = (id: string): boolean =>
  RESERVED_USER_IDS.includes(id.normalize('NFKC').trim().toLowerCase());

/** Why `id` cannot be a user id, or undefined when it can. */
export function userIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.trim() === '') return 'a user id must be a non-blank string';
  if ([...id].length > MAX_USER_ID_LENGTH) return `a user id has at most ${MAX_USER_ID_LENGTH} characters`;
  if (INVISIBLE.test(id)) return 'a user id must not contain control, format or bidi-override characters';
  if (id.trim() !== id) return 'a user id must not start or end with blanks';
  if (isReservedUserId(id)) return `"${id}" is reserved for the engine`;
  return undefined;
}
