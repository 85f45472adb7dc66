import type { z } from 'zod';
import type { ValidationIssue } from '../errors';

/** A path as the contracts write it: `activities.review.next`, `changed[1]`. */
export function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else text += text === '' ? String(key) : `.${String(key)}`;
  }
  return text;
}

/**
 * What a refinement may add to a zod issue: a ready path (a walk that builds its own), a stable code, and `item`:
 * the issue is about the item of a list its path ends in (`[i]`: 1, `[i].key`: 2), found by a check of the whole list.
 */
export interface IssueParams {
  path?: string;
  code?: string;
  item?: number;
}

/** What an unknown key of the object at `at` is called. */
export type UnknownKey = (key: string, at: readonly PropertyKey[]) => { message: string; code?: string };

/**
 * Zod's issues as ValidationIssues, in the order a reader of the document meets them: zod lists an object's
 * unknown keys after its properties, so each unknown key moves before the other issues of its object.
 */
export function validationIssues(issues: readonly z.core.$ZodIssue[], unknownKey: UnknownKey): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const paths: (readonly PropertyKey[])[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // Zod checks an object's keys last: its unknown keys go before the issues found inside it.
      let at = out.length;
      while (at > 0 && startsWith(paths[at - 1]!, issue.path)) at--;
      const moved = issue.keys.map((key) => ({ path: pathText([...issue.path, key]), ...unknownKey(key, issue.path) }));
      out.splice(at, 0, ...moved);
      paths.splice(at, 0, ...moved.map(() => issue.path));
      continue;
    }
    const params = (issue.code === 'custom' ? issue.params : undefined) as IssueParams | undefined;
    const path = params?.path ?? pathText(issue.path);
    // A record's key that fails its schema: the key schema's own message.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    const found: ValidationIssue =
      params?.code === undefined ? { path, message } : { path, message, code: params.code };
    let at = out.length;
    if (params?.item !== undefined) {
      // Found by a check of the whole list, after its items' own issues: it goes before those of its item and later ones.
      const list = issue.path.slice(0, issue.path.length - params.item);
      const index = issue.path[list.length] as number;
      while (at > 0 && startsWith(paths[at - 1]!, list) && (paths[at - 1]![list.length] as number) >= index) at--;
    }
    out.splice(at, 0, found);
    paths.splice(at, 0, issue.path);
  }
  return out;
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  if (path.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}
