import { parseExpression } from 'feelin';
import type { SyntaxNode } from '@lezer/common';
import { isScheduleTrigger, type EntityEventKind } from '../definition/definition';
import type { EntityEventEnvelope } from '../entity/envelope';
import { FORBIDDEN_KEYS } from '../entity/validate-envelope';
import type { ActiveDefinition } from './match-triggers';

/**
 * Which definitions an entity event could start, found without evaluating every definition's
 * trigger: matching cost then grows with the definitions that could match, not with all of them.
 *
 * A trigger whose condition has a top-level conjunct `entity.<field> = <literal>` can only hold
 * when the record's field equals that literal (FEEL's `false and x` is false whatever x is), so it
 * is filed under (kind, field, literal). Every other trigger is a candidate for every event of its
 * kind. The candidates then go through `matchTriggers`, which decides exactly as before.
 */
export interface TriggerIndex {
  /** entity type → kind → the index of that kind. */
  readonly byType: ReadonlyMap<string, ReadonlyMap<EntityEventKind, KindIndex>>;
}

interface KindIndex {
  /** Definitions with a trigger of this kind that no literal narrows. */
  readonly always: readonly ActiveDefinition[];
  /** field → literal key → definitions. */
  readonly byField: ReadonlyMap<string, ReadonlyMap<string, readonly ActiveDefinition[]>>;
}

interface MutableKindIndex {
  always: ActiveDefinition[];
  byField: Map<string, Map<string, ActiveDefinition[]>>;
}

/** Builds the index of the enabled definitions (disabled ones start nothing). */
export function buildTriggerIndex(definitions: readonly ActiveDefinition[]): TriggerIndex {
  const byType = new Map<string, Map<EntityEventKind, MutableKindIndex>>();
  for (const active of definitions) {
    if (!active.enabled) continue;
    const { definition } = active;
    let kinds = byType.get(definition.relatedEntity);
    if (!kinds) byType.set(definition.relatedEntity, (kinds = new Map()));
    // A definition is filed once per place, however many of its triggers land there.
    const filed = new Set<string>();
    for (const trigger of definition.triggers) {
      // A schedule starts on its ticks, never on an entity event.
      if (isScheduleTrigger(trigger)) continue;
      let kind = kinds.get(trigger.on);
      if (!kind) kinds.set(trigger.on, (kind = { always: [], byField: new Map() }));
      const narrowing = trigger.when === undefined ? undefined : equalityConjunct(trigger.when);
      const place = narrowing ? `${trigger.on}\u0000${narrowing.field}\u0000${narrowing.key}` : `${trigger.on}`;
      if (filed.has(place)) continue;
      filed.add(place);
      if (!narrowing) {
        kind.always.push(active);
        continue;
      }
      let values = kind.byField.get(narrowing.field);
      if (!values) kind.byField.set(narrowing.field, (values = new Map()));
      const list = values.get(narrowing.key);
      if (list) list.push(active);
      else values.set(narrowing.key, [active]);
    }
  }
  return { byType };
}

/** The definitions that may start for this envelope (each once), in no particular order. */
export function candidateDefinitions(index: TriggerIndex, envelope: EntityEventEnvelope): ActiveDefinition[] {
  const kind = index.byType.get(envelope.entityType)?.get(envelope.kind);
  if (!kind) return [];
  if (kind.byField.size === 0) return kind.always as ActiveDefinition[];
  const out = new Set<ActiveDefinition>(kind.always);
  for (const [field, values] of kind.byField) {
    const key = literalKeyOfValue(fieldOf(envelope.data, field));
    if (key === undefined) continue;
    const matching = values.get(key);
    if (matching) for (const active of matching) out.add(active);
  }
  return [...out];
}

function fieldOf(data: Record<string, unknown>, field: string): unknown {
  return Object.prototype.hasOwnProperty.call(data, field) ? data[field] : undefined;
}

/** The key a record value is filed under; undefined for values no literal equals. */
function literalKeyOfValue(value: unknown): string | undefined {
  if (typeof value === 'string') return `s:${value}`;
  if (typeof value === 'number') return Number.isFinite(value) ? `n:${value}` : undefined;
  if (typeof value === 'boolean') return `b:${value}`;
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

const conjuncts = new Map<string, { field: string; key: string } | null>();

/** The first top-level `entity.<field> = <literal>` conjunct of a condition, if any (memoised: the index is rebuilt per definition change). */
export function equalityConjunct(expression: string): { field: string; key: string } | undefined {
  const cached = conjuncts.get(expression);
  if (cached !== undefined) return cached ?? undefined;
  const found = parseConjunct(expression);
  if (conjuncts.size >= 10_000) conjuncts.clear();
  conjuncts.set(expression, found ?? null);
  return found;
}

function parseConjunct(expression: string): { field: string; key: string } | undefined {
  let tree;
  try {
    tree = parseExpression(expression, {}, undefined);
  } catch {
    return undefined;
  }
  let broken = false;
  tree.iterate({
    enter(node) {
      if (node.type.isError) broken = true;
    },
  });
  if (broken) return undefined;
  return conjunctOf(tree.topNode, expression);
}

function childrenOf(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

function conjunctOf(node: SyntaxNode, text: string): { field: string; key: string } | undefined {
  const kids = childrenOf(node);
  switch (node.name) {
    case 'Expression':
      return kids.length === 1 ? conjunctOf(kids[0]!, text) : undefined;
    case 'ParenthesizedExpression': {
      const inner = kids.filter((k) => k.name !== '(' && k.name !== ')');
      return inner.length === 1 ? conjunctOf(inner[0]!, text) : undefined;
    }
    case 'Conjunction': {
      if (kids.length !== 3) return undefined;
      return conjunctOf(kids[0]!, text) ?? conjunctOf(kids[2]!, text);
    }
    case 'Comparison': {
      if (kids.length !== 3 || kids[1]!.name !== 'CompareOp') return undefined;
      if (text.slice(kids[1]!.from, kids[1]!.to) !== '=') return undefined;
      const field = entityField(kids[0]!, text) ?? entityField(kids[2]!, text);
      const key = literalKey(kids[2]!, text) ?? literalKey(kids[0]!, text);
      return field !== undefined && key !== undefined ? { field, key } : undefined;
    }
    default:
      return undefined;
  }
}

/** `entity.status` → `status`; deeper paths and other roots are not narrowed. */
function entityField(node: SyntaxNode, text: string): string | undefined {
  if (node.name !== 'PathExpression') return undefined;
  const kids = childrenOf(node);
  if (kids.length !== 3 || kids[0]!.name !== 'VariableName' || kids[2]!.name !== 'PathName') return undefined;
  if (text.slice(kids[0]!.from, kids[0]!.to) !== 'entity') return undefined;
  const field = text.slice(kids[2]!.from, kids[2]!.to);
  return IDENTIFIER.test(field) && !FORBIDDEN_KEYS.has(field) ? field : undefined;
}

function literalKey(node: SyntaxNode, text: string): string | undefined {
  const source = text.slice(node.from, node.to);
  switch (node.name) {
    case 'StringLiteral':
      // Escapes would need FEEL's unescaping: leave such triggers unnarrowed.
      return /^"[^"\\]*"$/.test(source) ? `s:${source.slice(1, -1)}` : undefined;
    case 'NumericLiteral':
      return NUMBER.test(source) ? `n:${Number(source)}` : undefined;
    case 'BooleanLiteral':
      return source === 'true' || source === 'false' ? `b:${source}` : undefined;
    default:
      return undefined;
  }
}
