import { z } from 'zod';

/** The names the contracts share, each written once: the API, the CLI and the BPMN mapping import them from here. */

/** An entity type (`Invoice`): an envelope's `entityType`, a definition's `relatedEntity`, a record's type. */
export const ENTITY_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
/** A definition key (`invoice-approval`). */
export const DEFINITION_KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const ENTITY_EVENT_KINDS = ['created', 'updated', 'deleted'] as const;
export const entityEventKindSchema = z.enum(ENTITY_EVENT_KINDS);
export type EntityEventKind = z.infer<typeof entityEventKindSchema>;

/** The message of a value that is missing (undefined, or null unless `nullIsMissing` is false), else `message`: zod's `error` option. */
export const requiredOr =
  (message: string, nullIsMissing = true) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined || (nullIsMissing && issue.input === null) ? 'is required' : message;

/** Runs a check only while its value has no issue yet: the first problem of a value is the one reported. */
export const clean = (payload: { issues: unknown[] }): boolean => payload.issues.length === 0;
// Zod runs `when` on every check (its types list it for refinements only); `abort` would also stop list-wide checks.
export const first = <E extends string | ((issue: { input?: unknown }) => string)>(error: E) =>
  ({ error, when: clean }) as { error: E };
