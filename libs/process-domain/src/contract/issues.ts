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

/** What a refinement may add to a zod issue: a ready path (a walk that builds its own) and a stable code. */
export interface IssueParams {
  path?: string;
  code?: string;
}

/**
 * Zod's issues as ValidationIssues, in the order a reader of the document meets them: zod lists an object's
 * unknown keys after its properties, so each unknown key moves before the other issues of its object.
 */
export function validationIssues(
  issues: readonly z.core.$ZodIssue[],
  unknownKey: (key: string) => string,
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  const paths: (readonly PropertyKey[])[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      // Zod checks an object's keys last: its unknown keys go before the issues found inside it.
      let at = out.length;
      while (at > 0 && startsWith(paths[at - 1]!, issue.path)) at--;
      const moved = issue.keys.map((key) => ({ path: pathText([...issue.path, key]), message: unknownKey(key) }));
      out.splice(at, 0, ...moved);
      paths.splice(at, 0, ...moved.map(() => issue.path));
      continue;
    }
    const params = (issue.code === 'custom' ? issue.params : undefined) as IssueParams | undefined;
    const path = params?.path ?? pathText(issue.path);
    out.push(
      params?.code === undefined
        ? { path, message: issue.message }
        : { path, message: issue.message, code: params.code },
    );
    paths.push(issue.path);
  }
  return out;
}

function startsWith(path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean {
  if (path.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (path[i] !== prefix[i]) return false;
  return true;
}
