import { z } from 'zod';

/** The names the contracts share, each written once: the API, the CLI and the BPMN mapping import them from here. */

/** An entity type (`Invoice`): an envelope's `entityType`, a definition's `relatedEntity`, a record's type. */
export const ENTITY_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
/** A definition key (`invoice-approval`). */
export const DEFINITION_KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const ENTITY_EVENT_KINDS = ['created', 'updated', 'deleted'] as const;
export const entityEventKindSchema = z.enum(ENTITY_EVENT_KINDS);
export type EntityEventKind = z.infer<typeof entityEventKindSchema>;

/** The message of a value that is missing (undefined or null), else `message`: zod's `error` option. */
export const requiredOr =
  (message: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined || issue.input === null ? 'is required' : message;
