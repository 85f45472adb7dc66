import { isScheduleTrigger, type ProcessDefinition } from '../definition/definition';
import type { EntityEventEnvelope } from '../entity/envelope';
import { testCondition } from '../feel/feel';

/** A published definition as the process manager sees it, with its grid settings. */
export interface ActiveDefinition {
  definition: ProcessDefinition;
  version: number;
  enabled: boolean;
  executionOrder: number;
}

/** One process to start for an entity event, by its first matching trigger. */
export interface TriggerMatch {
  definitionKey: string;
  definitionVersion: number;
  triggerIndex: number;
  executionOrder: number;
  delay?: string;
}

/** A trigger whose `when` could not be evaluated; it did not match. */
export interface TriggerError {
  definitionKey: string;
  triggerIndex: number;
  code: string;
  message: string;
}

/**
 * The processes an entity event starts: at most one match per enabled definition of the event's entity type
 * (its first matching trigger), in execution order, then by key, so every node decides the same.
 */
export function matchTriggers(
  definitions: ActiveDefinition[],
  envelope: EntityEventEnvelope,
  now: string,
): { matches: TriggerMatch[]; errors: TriggerError[] } {
  const matches: TriggerMatch[] = [];
  const errors: TriggerError[] = [];
  const context = { entity: envelope.data, record: { type: envelope.entityType, id: envelope.entityId } };
  for (const active of definitions) {
    const { definition } = active;
    if (!active.enabled || definition.relatedEntity !== envelope.entityType) continue;
    for (const [triggerIndex, trigger] of definition.triggers.entries()) {
      if (isScheduleTrigger(trigger) || trigger.on !== envelope.kind) continue;
      if (trigger.fields !== undefined && !changedAny(envelope.changed, trigger.fields)) continue;
      if (trigger.when !== undefined) {
        // What the condition read (`seen`) is not kept for a trigger: only whether it holds.
        const outcome = testCondition(trigger.when, context, now);
        if (!outcome.ok) {
          errors.push({ definitionKey: definition.key, triggerIndex, code: outcome.code, message: outcome.message });
          continue;
        }
        if (!outcome.value) continue;
      }
      const match: TriggerMatch = {
        definitionKey: definition.key,
        definitionVersion: active.version,
        triggerIndex,
        executionOrder: active.executionOrder,
      };
      if (trigger.delay !== undefined) match.delay = trigger.delay;
      matches.push(match);
      break;
    }
  }
  matches.sort(byExecutionOrderThenKey);
  return { matches, errors };
}

/** Without `changed` nobody knows what changed, so a field filter cannot be satisfied. */
function changedAny(changed: string[] | undefined, fields: string[]): boolean {
  return changed !== undefined && changed.some((field) => fields.includes(field));
}

export function byExecutionOrderThenKey(a: TriggerMatch, b: TriggerMatch): number {
  if (a.executionOrder !== b.executionOrder) return a.executionOrder - b.executionOrder;
  // Code-unit comparison, not localeCompare: the order must not depend on the host's locale.
  return a.definitionKey < b.definitionKey ? -1 : a.definitionKey > b.definitionKey ? 1 : 0;
}
