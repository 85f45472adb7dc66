// The Taskbox: counts, filters and the caller's tasks; one task's details, form and actions beside them.
import { get, post, query, session } from './api.js';
import {
  h,
  replace,
  time,
  badge,
  announce,
  field,
  setFieldError,
  errorBox,
  select,
  debounce,
  recordLink,
  fieldList,
} from './dom.js';
import { startProcessPanel } from './start.js';

const STATUS_LABELS = {
  new: 'New',
  ongoing: 'Ongoing',
  postponed: 'Postponed',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export function taskboxView(container, [taskId]) {
  const filters = { status: 'open', role: '', definition: '', due: '', search: '' };
  let listPosition = 0;
  let loading = false;
  let pending = 0;
  let openId = taskId;
  let lastAnnounced = null;
  let definitions = [];

  const countsEl = h('ul', { class: 'counts', 'aria-label': 'Task counts' });
  const listEl = h('ul', { class: 'task-list', 'aria-label': 'Tasks' });
  const listStatus = h('p', { class: 'list-status', role: 'status', 'aria-live': 'polite' });
  const listErrors = errorBox();
  const detailEl = h('section', { class: 'task-detail', 'aria-label': 'Task', tabindex: '-1' });

  const statusSelect = select(
    'status',
    [
      ['open', 'Open (new and ongoing)'],
      ['new', 'New'],
      ['ongoing', 'Ongoing'],
      ['postponed', 'Postponed'],
      ['completed', 'Completed'],
      ['all', 'All'],
    ],
    filters.status,
  );
  const roleSelect = select('role', [['', 'All my roles'], ...session.me.roles.map((r) => [r, r])], '');
  const processSelect = select('definition', [['', 'All processes']], '');
  const dueSelect = select(
    'due',
    [
      ['', 'Any due date'],
      ['overdue', 'Overdue'],
      ['today', 'Due today'],
      ['week', 'Due within 7 days'],
    ],
    '',
  );
  const searchInput = h('input', {
    type: 'search',
    name: 'search',
    autocomplete: 'off',
    placeholder: 'Title or record id',
  });
  const onFilter = () => {
    Object.assign(filters, {
      status: statusSelect.value,
      role: roleSelect.value,
      definition: processSelect.value,
      due: dueSelect.value,
      search: searchInput.value.trim(),
    });
    refreshList();
  };
  for (const control of [statusSelect, roleSelect, processSelect, dueSelect])
    control.addEventListener('change', onFilter);
  searchInput.addEventListener('input', debounce(onFilter, 250));

  // Shown only to those who may start a process by hand (a startableBy role, or admin).
  const starter = startProcessPanel({ onStarted: (result) => refreshList(result.position) });

  replace(
    container,
    h('h1', { tabindex: '-1' }, 'Taskbox'),
    starter.el,
    h(
      'div',
      { class: `taskbox${openId ? ' has-open-task' : ''}` },
      h(
        'section',
        { class: 'task-pane', 'aria-label': 'Task list' },
        countsEl,
        h(
          'form',
          {
            class: 'filters',
            role: 'search',
            'aria-label': 'Filter tasks',
            onSubmit: (e) => (e.preventDefault(), onFilter()),
          },
          field('Status', statusSelect),
          field('Role', roleSelect),
          field('Process', processSelect),
          field('Due', dueSelect),
          field('Search', searchInput),
        ),
        listErrors.el,
        listStatus,
        listEl,
      ),
      detailEl,
    ),
  );

  get('/definitions')
    .then((page) => {
      definitions = page.items;
      for (const d of definitions) processSelect.append(h('option', { value: d.key }, d.name));
    })
    .catch(() => undefined);

  function renderCounts(counts) {
    const items = [
      ['new', 'New', counts.new, () => setStatus('new')],
      ['ongoing', 'Ongoing', counts.ongoing, () => setStatus('ongoing')],
      ['postponed', 'Postponed', counts.postponed, () => setStatus('postponed')],
      [
        'overdue',
        'Overdue',
        counts.overdue,
        () => ((dueSelect.value = 'overdue'), (statusSelect.value = 'open'), onFilter()),
      ],
    ];
    replace(
      countsEl,
      items.map(([key, label, n, act]) =>
        h(
          'li',
          {},
          h(
            'button',
            { type: 'button', class: `count count-${key}`, 'data-count': key, onClick: act },
            h('span', { class: 'count-n' }, String(n)),
            h('span', { class: 'count-label' }, label),
          ),
        ),
      ),
    );
  }

  function setStatus(status) {
    statusSelect.value = status;
    dueSelect.value = '';
    onFilter();
  }

  function renderRow(task) {
    const who = task.assignee
      ? `Assigned to ${task.assignee === session.me.id ? 'me' : task.assignee}`
      : task.role
        ? `Role ${task.role}`
        : 'Unassigned';
    const definition = definitions.find((d) => d.key === task.definitionKey);
    return h(
      'li',
      {
        class: `task-row${task.id === openId ? ' is-open' : ''}${task.overdue ? ' is-overdue' : ''}`,
        'data-task-id': task.id,
      },
      h(
        'a',
        {
          href: `#/tasks/${encodeURIComponent(task.id)}`,
          class: 'task-link',
          'aria-current': task.id === openId ? 'true' : null,
        },
        h('span', { class: 'task-title' }, task.title),
        h(
          'span',
          { class: 'task-meta' },
          definition ? definition.name : (task.definitionKey ?? ''),
          task.entity ? ` · ${task.entity.type} ${task.entity.id}` : '',
        ),
        h('span', { class: 'task-meta' }, who),
      ),
      h(
        'span',
        { class: 'task-side' },
        badge(task.status, STATUS_LABELS[task.status] ?? task.status),
        task.dueAt ? h('span', { class: 'task-due' }, 'Due ', time(task.dueAt)) : null,
        task.overdue ? badge('overdue', 'Overdue') : null,
      ),
    );
  }

  async function refreshList(minPosition) {
    if (loading) {
      pending = Math.max(pending, minPosition ?? listPosition);
      return;
    }
    loading = true;
    container.querySelector('.task-pane')?.setAttribute('aria-busy', 'true');
    try {
      const page = await get(`/tasks${query({ ...filters, minPosition })}`);
      listPosition = page.position;
      listErrors.clear();
      // A live refresh must not take the keyboard user's place away.
      const active = document.activeElement;
      const focusedTask = listEl.contains(active) ? active.closest('.task-row')?.dataset.taskId : undefined;
      const focusedCount = countsEl.contains(active) ? active.dataset.count : undefined;
      renderCounts(page.counts);
      replace(
        listEl,
        page.items.length
          ? page.items.map(renderRow)
          : h('li', { class: 'empty' }, 'No tasks here. New work appears by itself.'),
      );
      if (focusedCount) countsEl.querySelector(`[data-count="${focusedCount}"]`)?.focus();
      if (focusedTask) {
        const row = [...listEl.querySelectorAll('.task-row')].find((r) => r.dataset.taskId === focusedTask);
        (row?.querySelector('a') ?? listEl.querySelector('a') ?? searchInput).focus();
      }
      const summary = `${page.items.length} ${page.items.length === 1 ? 'task' : 'tasks'}`;
      if (summary !== lastAnnounced) {
        listStatus.textContent = summary;
        lastAnnounced = summary;
      }
    } catch (error) {
      listErrors.show(error);
    } finally {
      loading = false;
      container.querySelector('.task-pane')?.removeAttribute('aria-busy');
    }
    if (pending > listPosition) {
      const next = pending;
      pending = 0;
      refreshList(next);
    }
  }

  async function showTask(id, minPosition, focus = true) {
    openId = id;
    container.querySelector('.taskbox')?.classList.toggle('has-open-task', Boolean(id));
    for (const row of listEl.querySelectorAll('.task-row')) {
      const isOpen = row.dataset.taskId === id;
      row.classList.toggle('is-open', isOpen);
      const link = row.querySelector('a');
      if (isOpen) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
    if (!id) {
      replace(
        detailEl,
        h('p', { class: 'muted placeholder' }, 'Choose a task to see its instructions, record and form.'),
      );
      return;
    }
    try {
      const task = await get(`/tasks/${encodeURIComponent(id)}${query({ minPosition })}`);
      if (openId !== id) return;
      renderTask(task);
    } catch (error) {
      const errors = errorBox();
      replace(
        detailEl,
        h('h2', { tabindex: '-1' }, 'Task'),
        errors.el,
        h('p', {}, h('a', { href: '#/tasks' }, 'Back to the task list')),
      );
      errors.show(error);
    }
    if (focus) detailEl.querySelector('h2')?.focus();
  }

  /** Runs a task command, then re-reads the task and the list at the command's position. */
  async function act(errors, button, action, done) {
    errors.clear();
    button.disabled = true;
    try {
      const result = await action();
      announce(done);
      await Promise.all([refreshList(result.position), showTask(openId, result.position, false)]);
      const outcome = detailEl.querySelector('.task-outcome');
      if (outcome) {
        outcome.textContent = done;
        outcome.focus();
      } else {
        // The task went to someone else (reassigned): it is no longer ours to show.
        replace(
          detailEl,
          h('h2', { tabindex: '-1' }, 'Task handed over'),
          h('p', { class: 'task-outcome' }, done),
          h('p', {}, h('a', { href: '#/tasks' }, 'Back to the task list')),
        );
        detailEl.querySelector('h2')?.focus();
      }
    } catch (error) {
      button.disabled = false;
      errors.show(error);
    }
  }

  function renderTask(task) {
    const me = session.me;
    const mine = task.assignee === me.id;
    const open = task.status === 'new' || task.status === 'ongoing' || task.status === 'postponed';
    const errors = errorBox();
    const path = `/tasks/${encodeURIComponent(task.id)}`;
    const definition = definitions.find((d) => d.key === task.definitionKey);

    const actions = h('div', { class: 'actions', role: 'group', 'aria-label': 'Task actions' });
    if (open && !task.assignee) {
      const claim = h(
        'button',
        {
          type: 'button',
          class: 'primary',
          onClick: () => act(errors, claim, () => post(`${path}/claim`), 'Task claimed: it is yours now'),
        },
        'Claim',
      );
      actions.append(claim);
    }
    if (open && mine) {
      const release = h(
        'button',
        {
          type: 'button',
          onClick: () => act(errors, release, () => post(`${path}/release`), 'Task released to its role'),
        },
        'Release',
      );
      actions.append(release);
    }

    const panels = [];
    if (open && (mine || me.admin || !task.assignee)) {
      panels.push(reassignPanel(task, path, errors));
      panels.push(postponePanel(task, path, errors));
    }

    replace(
      detailEl,
      h('a', { href: '#/tasks', class: 'back-link' }, '← All tasks'),
      h('h2', { tabindex: '-1' }, task.title),
      h(
        'p',
        { class: 'task-badges' },
        badge(task.status, STATUS_LABELS[task.status] ?? task.status),
        task.overdue ? badge('overdue', 'Overdue') : null,
      ),
      h(
        'dl',
        { class: 'summary' },
        h('dt', {}, 'Process'),
        h(
          'dd',
          {},
          definition ? definition.name : (task.definitionKey ?? '—'),
          ' · ',
          h('a', { href: `#/instances/${encodeURIComponent(task.instanceId)}` }, 'instance'),
        ),
        h('dt', {}, 'Record'),
        h('dd', {}, recordLink(task.entity)),
        h('dt', {}, 'Assigned to'),
        h(
          'dd',
          {},
          task.assignee
            ? mine
              ? `${task.assignee} (me)`
              : task.assignee
            : task.role
              ? `role ${task.role} (unclaimed)`
              : '—',
        ),
        h('dt', {}, 'Due'),
        h('dd', {}, time(task.dueAt)),
        task.status === 'postponed' ? [h('dt', {}, 'Starts'), h('dd', {}, time(task.startAt))] : null,
        task.completedAt
          ? [
              h('dt', {}, 'Completed'),
              h(
                'dd',
                {},
                time(task.completedAt),
                task.completedBy ? ` by ${task.completedBy}` : '',
                task.result ? ` · ${task.result}` : '',
              ),
            ]
          : null,
      ),
      h('p', { class: 'task-outcome', tabindex: '-1' }),
      task.instructions
        ? h('section', { class: 'instructions' }, h('h3', {}, 'Instructions'), h('p', {}, task.instructions))
        : null,
      task.hint ? h('aside', { class: 'hint' }, h('strong', {}, 'Hint: '), task.hint) : null,
      h(
        'section',
        { class: 'record' },
        h('h3', {}, 'Record'),
        fieldList(task.record, 'No fields recorded for this record'),
      ),
      errors.el,
      actions.childElementCount ? actions : null,
      open ? completeForm(task, path, errors) : completedSummary(task),
      panels,
    );
  }

  function completedSummary(task) {
    if (task.status !== 'completed') return null;
    return h(
      'section',
      { class: 'completed' },
      h('h3', {}, 'Outcome'),
      fieldList(
        {
          ...(task.result ? { result: task.result } : {}),
          ...(task.answers ? { answers: task.answers.join(', ') } : {}),
          ...(task.fields ?? {}),
        },
        'Completed without a result',
      ),
    );
  }

  function completeForm(task, path, errors) {
    const controls = [];
    const formFields = (task.form ?? []).map((f) => {
      const input =
        f.type === 'boolean'
          ? h('input', { type: 'checkbox', name: f.name })
          : f.type === 'number'
            ? h('input', { type: 'number', name: f.name, step: 'any', inputmode: 'decimal' })
            : f.type === 'date'
              ? h('input', { type: 'date', name: f.name })
              : h('textarea', { name: f.name, rows: '3' });
      input.id = `field-${f.name}`;
      controls.push({ f, input });
      if (f.type === 'boolean')
        return h(
          'div',
          { class: 'field checkbox' },
          h('label', {}, input, ` ${f.label ?? f.name}`, f.required ? h('span', { class: 'required' }, ' *') : null),
        );
      return field(f.label ?? f.name, input, { required: f.required });
    });

    let question = null;
    let questionError = null;
    if (task.question) {
      const q = task.question;
      questionError = h('p', { class: 'field-error', id: 'question-error', hidden: true });
      question = h(
        'fieldset',
        { class: 'question', 'aria-describedby': 'question-error' },
        h(
          'legend',
          {},
          q.text,
          h('span', { class: 'required', 'aria-hidden': 'true' }, ' *'),
          h('span', { class: 'field-hint' }, q.multiple ? ' (choose one or more)' : ' (choose one)'),
        ),
        q.options.map((option, i) =>
          h(
            'div',
            { class: 'choice' },
            h('input', { type: q.multiple ? 'checkbox' : 'radio', name: 'answer', value: option, id: `answer-${i}` }),
            h('label', { for: `answer-${i}` }, option),
          ),
        ),
        questionError,
      );
    }

    const results = task.results && task.results.length ? task.results : [null];
    const form = h(
      'form',
      { class: 'complete-form', novalidate: true, 'aria-label': 'Complete the task' },
      h('h3', {}, 'Complete'),
      formFields,
      question,
      h(
        'div',
        { class: 'actions results' },
        results.map((result, i) =>
          h(
            'button',
            { type: 'submit', class: i === 0 ? 'primary' : '', name: 'result', value: result ?? '' },
            result ?? 'Complete',
          ),
        ),
      ),
    );

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const button = event.submitter;
      const result = button && button.value ? button.value : undefined;
      // Required fields and the question are checked here first: nothing is sent until they hold.
      let firstInvalid = null;
      const fields = {};
      for (const { f, input } of controls) {
        let value;
        if (f.type === 'boolean') value = input.checked;
        else if (f.type === 'number') value = input.value.trim() === '' ? undefined : Number(input.value);
        else value = input.value.trim() === '' ? undefined : input.value;
        let message = null;
        if (f.required && value === undefined) message = `${f.label ?? f.name} is required`;
        else if (f.type === 'number' && value !== undefined && !Number.isFinite(value))
          message = `${f.label ?? f.name} must be a number`;
        if (f.type !== 'boolean') setFieldError(input, message);
        if (message && !firstInvalid) firstInvalid = input;
        if (value !== undefined) fields[f.name] = value;
      }
      let answers;
      if (task.question) {
        answers = [...form.querySelectorAll('input[name="answer"]:checked')].map((i) => i.value);
        const missing = answers.length === 0;
        questionError.textContent = missing ? 'Answer the question' : '';
        questionError.hidden = !missing;
        if (missing && !firstInvalid) firstInvalid = form.querySelector('input[name="answer"]');
      }
      if (firstInvalid) {
        firstInvalid.focus();
        announce('Some fields need attention');
        return;
      }
      act(
        errors,
        button ?? form.querySelector('button[type=submit]'),
        () => post(`${path}/complete`, { ...(result ? { result } : {}), fields, ...(answers ? { answers } : {}) }),
        `Task completed${result ? `: ${result}` : ''}`,
      );
    });
    return form;
  }

  function reassignPanel(task, path, errors) {
    const kind = h(
      'select',
      { name: 'kind' },
      h('option', { value: 'user' }, 'a user'),
      h('option', { value: 'role' }, 'a role'),
    );
    const target = h('input', { type: 'text', name: 'target', autocomplete: 'off' });
    const submit = h('button', { type: 'submit' }, 'Reassign');
    return h(
      'details',
      { class: 'panel' },
      h('summary', {}, 'Reassign'),
      h(
        'form',
        {
          onSubmit: (event) => {
            event.preventDefault();
            const to = target.value.trim();
            if (!to) {
              setFieldError(target, 'Say who gets the task');
              target.focus();
              return;
            }
            setFieldError(target, null);
            act(
              errors,
              submit,
              () => post(`${path}/reassign`, kind.value === 'user' ? { user: to } : { role: to }),
              `Task reassigned to ${to}`,
            );
          },
        },
        field('Reassign to', kind),
        field('User id or role', target),
        submit,
      ),
    );
  }

  function postponePanel(task, path, errors) {
    const until = h('input', { type: 'datetime-local', name: 'until' });
    const due = h('input', { type: 'datetime-local', name: 'dueAt' });
    const submit = h('button', { type: 'submit' }, 'Perform later');
    return h(
      'details',
      { class: 'panel' },
      h('summary', {}, 'Perform later'),
      h(
        'form',
        {
          onSubmit: (event) => {
            event.preventDefault();
            if (!until.value) {
              setFieldError(until, 'Choose when the task starts again');
              until.focus();
              return;
            }
            setFieldError(until, null);
            const body = {
              until: new Date(until.value).toISOString(),
              ...(due.value ? { dueAt: new Date(due.value).toISOString() } : {}),
            };
            act(errors, submit, () => post(`${path}/postpone`, body), 'Task postponed');
          },
        },
        field('New start', until, { required: true, hint: 'Hidden from the open list until then (your local time)' }),
        field('New due date', due, { hint: 'Optional' }),
        submit,
      ),
    );
  }

  const initial = openId;
  if (!initial) showTask(undefined);
  refreshList().then(() => initial && openId === initial && showTask(initial));

  return {
    update([id]) {
      showTask(id);
    },
    onPosition(position) {
      if (position > listPosition) refreshList(position);
    },
  };
}
