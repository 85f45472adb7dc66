import type { ModdleElement } from 'bpmn-moddle';
import type { BpmnElementRef } from '../types';

/** A parsed BPMN element (bpmn-moddle). */
export type El = ModdleElement;

/** A string property, or undefined (moddle leaves absent attributes undefined). */
export const str = (element: El | undefined, key: string): string | undefined => {
  const value = element?.[key];
  return typeof value === 'string' ? value : undefined;
};

/** A many-valued property as a list (absent: empty). */
export const list = (element: El | undefined, key: string): El[] => {
  const value = element?.[key];
  return Array.isArray(value) ? (value as El[]) : [];
};

/** A single element-valued property. */
export const child = (element: El | undefined, key: string): El | undefined => {
  const value = element?.[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as El) : undefined;
};

/** The extension elements (`zeebe:*`, `lifeline:*`) of an element. */
export const extensionsOf = (element: El): El[] => list(child(element, 'extensionElements'), 'values');

/** The first extension element of a type, e.g. `zeebe:TaskDefinition`. */
export const extensionOf = (element: El, type: string): El | undefined =>
  extensionsOf(element).find((value) => value.$type === type);

/** How an issue names the element: id, name when it has one, moddle type. */
export const refOf = (element: El): BpmnElementRef => {
  const name = str(element, 'name');
  return { id: element.id ?? '', ...(name !== undefined && name.trim() !== '' ? { name } : {}), type: element.$type };
};

/** Camunda writes FEEL as `=expr`: the expression without its `=` (a text without one is taken as it is). */
export const feel = (text: string): string => {
  const trimmed = text.trim();
  return trimmed.startsWith('=') ? trimmed.slice(1).trim() : trimmed;
};

/** Whether a Camunda value is an expression (`=…`) rather than a literal. */
export const isExpression = (text: string): boolean => text.trim().startsWith('=');

/** The body of a formal expression (a condition, a timer's duration), trimmed; undefined when empty. */
export const bodyOf = (expression: El | undefined): string | undefined => {
  const body = str(expression, 'body')?.trim();
  return body === undefined || body === '' ? undefined : body;
};

/** An element id as an activity id: `-` and `.` (allowed in XML ids, not in activity ids) become `_`. */
export const activityIdOf = (elementId: string): string => elementId.replace(/[-.]/g, '_');

/** A process id as a definition key: lower case, `_` (and `.`) become `-`. */
export const keyOf = (processId: string): string => processId.toLowerCase().replace(/[_.]/g, '-');

/** Space-separated names (`startableBy`, `fields`) as a list; empty: undefined. */
export const words = (text: string | undefined): string[] | undefined => {
  const items = (text ?? '').split(/\s+/).filter(Boolean);
  return items.length > 0 ? items : undefined;
};
