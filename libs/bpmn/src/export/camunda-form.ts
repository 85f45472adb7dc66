import type { FormField, Question } from '@lifeline/process-domain';

/** The schema version Camunda Modeler 5 writes; form-js reads older and newer ones alike. */
const FORM_SCHEMA_VERSION = 16;

/**
 * A human task's form fields and question as a Camunda Form (form-js JSON, decision 0010): text → textfield,
 * number → number, boolean → checkbox, date → datetime (date subtype), the question → one radio (or checklist when
 * several answers may be chosen). Key order is fixed so the same task always gives the same text.
 */
export function camundaFormJson(formId: string, form: FormField[] | undefined, question: Question | undefined): string {
  const components: Record<string, unknown>[] = [];
  const keys = new Set<string>();
  for (const field of form ?? []) {
    keys.add(field.name);
    components.push(fieldComponent(field, `${formId}-field-${components.length}`));
  }
  if (question) {
    // The answer's key only has to differ from the fields' names: the import reads the one radio as the question.
    let key = question.multiple ? 'answers' : 'answer';
    for (let n = 2; keys.has(key); n++) key = `${question.multiple ? 'answers' : 'answer'}${n}`;
    components.push({
      id: `${formId}-field-${components.length}`,
      type: question.multiple ? 'checklist' : 'radio',
      key,
      label: question.text,
      values: question.options.map((option) => ({ label: option, value: option })),
    });
  }
  return JSON.stringify({
    id: formId,
    type: 'default',
    schemaVersion: FORM_SCHEMA_VERSION,
    components,
  });
}

function fieldComponent(field: FormField, id: string): Record<string, unknown> {
  const validate = field.required ? { validate: { required: true } } : {};
  switch (field.type) {
    case 'text':
      return { id, type: 'textfield', key: field.name, ...label(field, 'label'), ...validate };
    case 'number':
      return { id, type: 'number', key: field.name, ...label(field, 'label'), ...validate };
    case 'boolean':
      return { id, type: 'checkbox', key: field.name, ...label(field, 'label'), ...validate };
    case 'date':
      // form-js labels a date picker with dateLabel; label is written too for readers that look only there.
      return {
        id,
        type: 'datetime',
        subtype: 'date',
        key: field.name,
        ...label(field, 'dateLabel'),
        ...label(field, 'label'),
        ...validate,
      };
  }
}

function label(field: FormField, property: string): Record<string, string> {
  return field.label === undefined ? {} : { [property]: field.label };
}
