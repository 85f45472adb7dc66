import type { FormField, Question } from '@lifeline/process-domain';

/** What a Camunda Form gives a human task, or why it cannot. */
export type FormReading = { form?: FormField[]; question?: Question } | { problems: string[] };

const FIELD_TYPES: Record<string, FormField['type']> = {
  textfield: 'text',
  textarea: 'text',
  number: 'number',
  checkbox: 'boolean',
};
/** Components that only show something (or submit): nothing to read back. */
const DISPLAY_ONLY = new Set(['text', 'spacer', 'separator', 'button', 'image', 'html']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value : undefined;

/**
 * Reads a Camunda Form (the JSON Camunda Modeler embeds with `zeebe:userTaskForm`): text fields and areas, numbers,
 * checkboxes and date pickers are form fields; one radio group or checklist is the task's question.
 */
export function readCamundaForm(body: string): FormReading {
  let schema: unknown;
  try {
    schema = JSON.parse(body);
  } catch {
    return { problems: ['the embedded form is not JSON: paste the form as Camunda Modeler exports it'] };
  }
  if (!isObject(schema) || !Array.isArray(schema.components)) {
    return { problems: ['the embedded form has no components list'] };
  }
  const problems: string[] = [];
  const form: FormField[] = [];
  let question: Question | undefined;
  schema.components.forEach((component: unknown, index) => {
    if (!isObject(component)) {
      problems.push(`form component ${index} is not an object`);
      return;
    }
    const type = typeof component.type === 'string' ? component.type : '';
    if (DISPLAY_ONLY.has(type)) return;
    const key = text(component.key);
    const label = text(component.label);
    const required = isObject(component.validate) && component.validate.required === true;
    const named = key ?? label ?? `#${index}`;
    if (type === 'radio' || type === 'checklist') {
      if (question) {
        problems.push(`the form has a second choice (${named}): a task asks one question; make the others fields`);
        return;
      }
      const values = Array.isArray(component.values) ? component.values : [];
      const options = values.map((value) => (isObject(value) ? (text(value.value) ?? text(value.label)) : undefined));
      if (values.length === 0 || options.some((option) => option === undefined)) {
        problems.push(`the choice ${named} needs static options, each with a value`);
        return;
      }
      question = { text: label ?? key ?? '', options: options as string[], multiple: type === 'checklist' };
      return;
    }
    let fieldType = FIELD_TYPES[type];
    if (type === 'datetime') {
      if (component.subtype === 'date') fieldType = 'date';
      else {
        problems.push(`the date-time field ${named} must be a date only (subtype date): Lifeline has date fields`);
        return;
      }
    }
    if (fieldType === undefined) {
      problems.push(
        `the form component ${named} is a ${type || 'component without a type'}: Lifeline forms have text, number, checkbox and date fields, and one radio or checklist question`,
      );
      return;
    }
    if (key === undefined) {
      problems.push(`the form field ${named} needs a key`);
      return;
    }
    form.push({ name: key, type: fieldType, required, ...(label !== undefined ? { label } : {}) });
  });
  if (problems.length > 0) return { problems };
  return { ...(form.length > 0 ? { form } : {}), ...(question ? { question } : {}) };
}
