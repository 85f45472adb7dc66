// "Start a process": the definitions the signed-in user may start by hand for a record (their startableBy roles),
// then the new instance and, when it lands in their Taskbox, its first task.
import { get, post, query } from './api.js';
import { h, replace, field, errorBox, announce, setFieldError, select } from './dom.js';

/**
 * A collapsible panel; hidden while the user may start nothing. `record` ({type, id}) fixes the record
 * (the record page); without it the user picks the record type and types the id. `onStarted(result)`
 * runs once an instance started (the Taskbox refreshes its list at the result's position).
 */
export function startProcessPanel({ record, onStarted } = {}) {
  let definitions = [];
  const errors = errorBox();
  const outcome = h('div', { class: 'start-outcome', role: 'status', tabindex: '-1' });
  const typeSelect = select('entityType', [], '');
  const idInput = h('input', { type: 'text', name: 'entityId', autocomplete: 'off', maxlength: '200' });
  const processSelect = select('definitionKey', [], '');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Start');
  const form = h(
    'form',
    { 'aria-label': 'Start a process', onSubmit: (event) => (event.preventDefault(), start()) },
    record ? null : field('Record type', typeSelect, { required: true }),
    record ? null : field('Record id', idInput, { required: true, hint: 'e.g. INV-1001' }),
    field('Process', processSelect, { required: true }),
    submit,
  );
  const el = h(
    'details',
    { class: 'panel start-process', hidden: true, 'data-state': 'loading' },
    h('summary', {}, record ? 'Start a process for this record' : 'Start a process'),
    errors.el,
    form,
    outcome,
  );
  typeSelect.addEventListener('change', fillProcesses);

  function fillProcesses() {
    const type = record ? record.type : typeSelect.value;
    const offered = definitions.filter((d) => d.relatedEntity === type);
    replace(
      processSelect,
      offered.map((d) => h('option', { value: d.key }, d.name)),
    );
    submit.disabled = offered.length === 0;
  }

  async function load() {
    try {
      const page = await get(`/definitions${query({ startable: 'true', relatedEntity: record?.type })}`);
      definitions = page.items;
    } catch (error) {
      definitions = [];
      errors.show(error);
    }
    const types = [...new Set(definitions.map((d) => d.relatedEntity))].sort();
    replace(
      typeSelect,
      types.map((t) => h('option', { value: t }, t)),
    );
    fillProcesses();
    el.hidden = definitions.length === 0;
    el.dataset.state = 'ready';
  }

  async function start() {
    errors.clear();
    replace(outcome);
    const entity = record ?? { type: typeSelect.value, id: idInput.value.trim() };
    if (!record && !entity.id) {
      setFieldError(idInput, 'Type the id of the record');
      idInput.focus();
      return;
    }
    if (!record) setFieldError(idInput, null);
    const definition = definitions.find((d) => d.key === processSelect.value);
    if (!definition) return;
    submit.disabled = true;
    try {
      const result = await post('/instances', { definitionKey: definition.key, entity });
      // The task list at the start's position: its first task, if it is the user's to do.
      const tasks = await get(`/tasks${query({ minPosition: result.position })}`).catch(() => ({ items: [] }));
      const task = tasks.items.find((t) => t.instanceId === result.instanceId);
      const said = `Started ${definition.name} for ${entity.type} ${entity.id}`;
      replace(
        outcome,
        h('p', { class: 'task-outcome' }, `${said}.`),
        h(
          'p',
          {},
          'Instance ',
          h('a', { href: `#/instances/${result.instanceId}`, class: 'started-instance' }, result.instanceId),
        ),
        task
          ? h(
              'p',
              {},
              'Your first task: ',
              h('a', { href: `#/tasks/${encodeURIComponent(task.id)}`, class: 'started-task' }, task.title),
            )
          : h('p', { class: 'muted' }, 'Its first step is not in your Taskbox.'),
      );
      announce(said);
      outcome.focus();
      onStarted?.(result);
    } catch (error) {
      errors.show(error);
    } finally {
      submit.disabled = false;
    }
  }

  load();
  return { el, reload: load };
}
