// Instances: a filtered list, and one instance with its flow, variables, incidents, jobs and full history.
import { get, post, query, session } from './api.js';
import {
  h,
  replace,
  time,
  badge,
  announce,
  field,
  errorBox,
  select,
  debounce,
  recordLink,
  fieldList,
  serialized,
} from './dom.js';
import { instanceDiagram } from './bpmn-viewer.js';
import { startFailuresSection } from './failures.js';

const STATUSES = [
  ['', 'Any status'],
  ['running', 'Running'],
  ['suspended', 'Suspended'],
  ['incident', 'Incident'],
  ['completed', 'Completed'],
  ['terminated', 'Terminated'],
];

/**
 * The activities where an instance is: one per line of its flow (several while parallel branches run);
 * once it ended, none rests anywhere, and the activity it ended at is shown.
 */
function currentActivities(instance) {
  const positions = instance.positions ?? [];
  if (positions.length) return positions.map((p) => p.activityId);
  return instance.currentActivity ? [instance.currentActivity] : [];
}

/** Where each line rests; once it ended, the activity it ended at (a position of no line). */
function positionsOf(instance) {
  const positions = instance.positions ?? [];
  if (positions.length) return positions;
  return instance.currentActivity && (instance.status === 'completed' || instance.status === 'terminated')
    ? []
    : currentActivities(instance).map((activityId) => ({ token: 'main', activityId }));
}

function whereText(instance) {
  const at = currentActivities(instance);
  return at.length ? at.join(', ') : '—';
}

/** Each position with the time its line got there (a single one reads as before). */
function wherePositions(instance) {
  const positions = instance.positions ?? [];
  if (positions.length < 2) return whereText(instance);
  return h(
    'ul',
    { class: 'positions' },
    positions.map((p) => h('li', { 'data-token': p.token }, h('code', {}, p.activityId), ' since ', time(p.since))),
  );
}

export function instancesView(container, [search]) {
  const initial = new URLSearchParams(search ?? '');
  let position = 0;
  const errors = errorBox();
  const status = h('p', { class: 'list-status', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const processSelect = select('definition', [['', 'All processes']], '');
  const statusSelect = select('status', STATUSES, initial.get('status') ?? '');
  const typeInput = h('input', {
    type: 'text',
    name: 'entityType',
    autocomplete: 'off',
    value: initial.get('entityType') ?? '',
    placeholder: 'Invoice',
  });
  const idInput = h('input', {
    type: 'text',
    name: 'entityId',
    autocomplete: 'off',
    value: initial.get('entityId') ?? '',
    placeholder: 'INV-7',
  });
  const incidentSelect = select(
    'incidents',
    [
      ['', 'With or without'],
      ['true', 'With incidents'],
      ['false', 'Without incidents'],
    ],
    initial.get('incidents') ?? '',
  );
  const filters = () => ({
    definition: processSelect.value,
    status: statusSelect.value,
    entityType: typeInput.value.trim(),
    entityId: idInput.value.trim(),
    incidents: incidentSelect.value,
  });
  // Open failed starts: no instance to list them under, so they head the list (admins and auditors).
  const failures = startFailuresSection({ status: 'open' }, { title: 'Failed starts', onRetried: () => refresh() });
  const onFilter = () => refresh();
  for (const control of [processSelect, statusSelect, incidentSelect]) control.addEventListener('change', onFilter);
  for (const control of [typeInput, idInput]) control.addEventListener('input', debounce(onFilter, 300));

  replace(
    container,
    h('h1', { tabindex: '-1' }, 'Instances'),
    h(
      'form',
      {
        class: 'filters',
        role: 'search',
        'aria-label': 'Filter instances',
        onSubmit: (e) => (e.preventDefault(), refresh()),
      },
      field('Process', processSelect),
      field('Status', statusSelect),
      field('Record type', typeInput),
      field('Record id', idInput),
      field('Incidents', incidentSelect),
    ),
    failures.el,
    errors.el,
    status,
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'grid' },
        h('caption', { class: 'visually-hidden' }, 'Process instances, newest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Instance', 'Process', 'Record', 'Status', 'Current activity', 'Started', 'Ended'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        tbody,
      ),
    ),
  );

  get('/definitions')
    .then((page) => {
      for (const d of page.items)
        processSelect.append(h('option', { value: d.key, selected: d.key === initial.get('definition') }, d.name));
      if (initial.get('definition')) refresh();
    })
    .catch(() => undefined);

  const refresh = serialized(load);

  async function load(minPosition) {
    try {
      const page = await get(
        `/instances${query({ ...filters(), definition: processSelect.value || initial.get('definition') || '', minPosition })}`,
      );
      position = page.position;
      errors.clear();
      replace(
        tbody,
        page.items.length === 0 ? h('tr', {}, h('td', { colspan: '7', class: 'empty' }, 'No instance matches.')) : null,
        page.items.map((i) =>
          h(
            'tr',
            { 'data-instance-id': i.id, 'data-definition': i.definitionKey },
            h('th', { scope: 'row' }, h('a', { href: `#/instances/${i.id}` }, i.id.slice(0, 8))),
            h('td', {}, i.definitionName, h('span', { class: 'muted' }, ` v${i.definitionVersion}`)),
            h('td', {}, recordLink(i.entity)),
            h(
              'td',
              {},
              badge(i.status),
              i.incidents.length
                ? [' ', badge('incident', `${i.incidents.length} incident${i.incidents.length > 1 ? 's' : ''}`)]
                : null,
            ),
            h('td', {}, whereText(i)),
            h('td', {}, time(i.startedAt)),
            h('td', {}, time(i.endedAt)),
          ),
        ),
      );
      status.textContent = `${page.items.length} ${page.items.length === 1 ? 'instance' : 'instances'}`;
    } catch (error) {
      errors.show(error);
    }
    await failures.load(minPosition);
  }

  if (!initial.get('definition')) refresh();
  return {
    onPosition(p) {
      if (p > position) refresh(p);
    },
  };
}

export function instanceView(container, [id]) {
  let lastPosition = 0;
  let definitions = new Map();
  /** The diagram of the instance's version, kept across re-renders (the drawing stays, its marks move). */
  let diagram = null;
  const errors = errorBox();
  const body = h('div', { class: 'instance' });
  replace(
    container,
    h('p', {}, h('a', { href: '#/instances' }, '← All instances')),
    h('h1', { tabindex: '-1' }, 'Instance'),
    errors.el,
    body,
  );

  async function definitionFor(instance) {
    const cacheKey = `${instance.definitionKey}@${instance.definitionVersion}`;
    if (!definitions.has(cacheKey)) {
      const d = await get(`/definitions/${encodeURIComponent(instance.definitionKey)}`);
      const version = d.versions.find((v) => v.version === instance.definitionVersion);
      definitions.set(cacheKey, version ? version.definition : d.definition);
    }
    return definitions.get(cacheKey);
  }

  /** Its version's drawing with its positions (one per line), finished activities and sub-process instances. */
  function diagramFor(instance, definition, visited, history) {
    const version = instance.definitionVersion;
    if (diagram?.key !== instance.definitionKey || diagram.version !== version) {
      diagram = {
        key: instance.definitionKey,
        version,
        component: instanceDiagram({
          key: instance.definitionKey,
          version,
          definition,
          title: instance.definitionName,
        }),
      };
    }
    diagram.component.update({
      positions: positionsOf(instance),
      visited,
      children: history
        .filter((e) => e.type === 'SubprocessStarted')
        .map((e) => ({ activityId: e.data.activityId, instanceId: e.data.childInstanceId })),
    });
    return diagram.component.el;
  }

  async function operate(button, verb, minPositionDone) {
    errors.clear();
    button.disabled = true;
    try {
      const result = await post(`/instances/${id}/${verb}`);
      announce(minPositionDone);
      await load(result.position);
      container.querySelector('h1')?.focus();
    } catch (error) {
      button.disabled = false;
      errors.show(error);
    }
  }

  async function retryJob(button, jobId) {
    errors.clear();
    button.disabled = true;
    try {
      const result = await post(`/jobs/${encodeURIComponent(jobId)}/retry`);
      announce(`Job ${jobId} retried`);
      await load(result.position);
    } catch (error) {
      button.disabled = false;
      errors.show(error);
    }
  }

  async function load(minPosition) {
    try {
      const [instance, history] = await Promise.all([
        get(`/instances/${id}${query({ minPosition })}`),
        get(`/instances/${id}/history`),
      ]);
      lastPosition = instance.lastPosition;
      const definition = await definitionFor(instance);
      // The jobs list is for admins and auditors (GET /jobs); others see the job events in the history.
      const hasService = Object.values(definition.activities ?? {}).some((a) => a.type === 'service');
      const overview = session.me.roles.some((r) => r === 'admin' || r === 'auditor');
      const jobs =
        hasService && overview
          ? (await get(`/jobs${query({ instanceId: id, minPosition: instance.lastPosition, limit: 100 })}`)).items
          : null;
      const visited = new Set(history.items.filter((e) => e.type === 'ActivityEntered').map((e) => e.data.activityId));
      const live = instance.status === 'running' || instance.status === 'suspended' || instance.status === 'incident';
      const actions = [];
      if (session.me.admin && live) {
        if (instance.status === 'suspended') {
          const resume = h(
            'button',
            { type: 'button', class: 'primary', onClick: () => operate(resume, 'resume', 'Instance resumed') },
            'Resume',
          );
          actions.push(resume);
        } else {
          const suspend = h(
            'button',
            { type: 'button', onClick: () => operate(suspend, 'suspend', 'Instance suspended') },
            'Suspend',
          );
          actions.push(suspend);
        }
        const terminate = h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onClick: () => {
              if (window.confirm('Terminate this instance? Its open tasks are cancelled and it cannot be resumed.'))
                operate(terminate, 'terminate', 'Instance terminated');
            },
          },
          'Terminate',
        );
        actions.push(terminate);
      }
      container.querySelector('h1').replaceChildren(`${instance.definitionName} `, badge(instance.status));
      replace(
        body,
        h(
          'dl',
          { class: 'summary' },
          h('dt', {}, 'Record'),
          h('dd', {}, recordLink(instance.entity)),
          h('dt', {}, 'Process'),
          h(
            'dd',
            {},
            h('a', { href: `#/processes/${encodeURIComponent(instance.definitionKey)}` }, instance.definitionName),
            ` version ${instance.definitionVersion}`,
          ),
          h('dt', {}, (instance.positions ?? []).length > 1 ? 'Current positions' : 'Current activity'),
          h('dd', {}, wherePositions(instance)),
          h('dt', {}, 'Started'),
          h('dd', { class: 'started-cause' }, time(instance.startedAt), ` (${causeText(instance.cause)})`),
          h('dt', {}, 'Ended'),
          h('dd', {}, time(instance.endedAt)),
          h('dt', {}, 'Instance id'),
          h('dd', {}, h('code', {}, instance.id)),
          ...subprocessLinks(instance, history.items),
        ),
        actions.length
          ? h('div', { class: 'actions', role: 'group', 'aria-label': 'Instance operations' }, actions)
          : null,
        h('h2', {}, 'Flow'),
        diagramFor(instance, definition, visited, history.items),
        h('h2', {}, 'Incidents'),
        instance.incidents.length
          ? h(
              'ul',
              { class: 'incidents' },
              instance.incidents.map((i) => {
                // Retry runs the activity again where it stopped (an admin, on a running instance).
                const retry =
                  session.me.admin && instance.status !== 'suspended'
                    ? h(
                        'button',
                        {
                          type: 'button',
                          'aria-label': `Retry incident ${i.incidentId}`,
                          onClick: () =>
                            operate(
                              retry,
                              `incidents/${encodeURIComponent(i.incidentId)}/retry`,
                              `Incident ${i.incidentId} retried`,
                            ),
                        },
                        'Retry',
                      )
                    : null;
                return h(
                  'li',
                  { 'data-incident-id': i.incidentId },
                  badge('incident', 'Incident'),
                  ` ${i.activityId}: ${i.message ?? i.code ?? ''}`,
                  i.code ? h('span', { class: 'code' }, ` (${i.code})`) : null,
                  retry ? [' ', retry] : null,
                );
              }),
            )
          : h('p', { class: 'muted' }, 'No open incidents.'),
        jobs ? jobsSection(jobs, instance, retryJob) : null,
        h('h2', {}, 'Variables'),
        fieldList(instance.variables, 'No variables set.'),
        h('h2', {}, 'History'),
        h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'grid compact history' },
            h('caption', { class: 'visually-hidden' }, 'Every event of this instance, in order'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['#', 'Event', 'At', 'Actor', 'Data'].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              {},
              history.items.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', { class: 'num' }, String(e.position)),
                  h('th', { scope: 'row' }, e.type),
                  h('td', {}, time(e.at)),
                  h('td', {}, e.actor ?? ''),
                  h('td', {}, h('code', { class: 'data' }, JSON.stringify(e.data))),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (error) {
      errors.show(error);
    }
  }

  load();
  return {
    onPosition(p) {
      // Only this instance's own events change what is shown; a cheap re-read tells.
      if (p > lastPosition)
        get(`/instances/${id}`)
          .then((i) => i.lastPosition > lastPosition && load(i.lastPosition))
          .catch(() => undefined);
    },
  };
}

/** The jobs of the instance's service activities: state, retries left, lock or backoff, last error; Retry for an open incident. */
function jobsSection(jobs, instance, retryJob) {
  const rows = [...jobs].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  return [
    h('h2', {}, 'Jobs'),
    rows.length
      ? h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'grid compact jobs' },
            h('caption', { class: 'visually-hidden' }, "The jobs of this instance's service activities"),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Activity', 'Type', 'State', 'Retries left', 'Worker', 'Until', 'Last error', ''].map((t) =>
                  h('th', { scope: 'col' }, t),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              rows.map((job) => {
                const retry =
                  session.me.admin && job.incident?.open && instance.status !== 'suspended'
                    ? h(
                        'button',
                        {
                          type: 'button',
                          'aria-label': `Retry job ${job.jobId}`,
                          onClick: () => retryJob(retry, job.jobId),
                        },
                        'Retry',
                      )
                    : null;
                return h(
                  'tr',
                  { 'data-job-id': job.jobId },
                  h('th', { scope: 'row' }, job.activityId),
                  h('td', {}, h('code', {}, job.jobType)),
                  h('td', {}, badge(job.state), job.incident?.open ? [' ', badge('incident', 'Incident')] : null),
                  h('td', { class: 'num' }, String(job.retries)),
                  h('td', {}, job.workerId ?? '—'),
                  h(
                    'td',
                    {},
                    job.state === 'locked'
                      ? ['lock until ', time(job.lockExpiresAt)]
                      : job.state === 'backoff'
                        ? ['retry at ', time(job.retryAt)]
                        : '—',
                  ),
                  h('td', {}, job.lastError ?? (job.errorCode ? `business error ${job.errorCode}` : '—')),
                  h('td', {}, retry),
                );
              }),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No jobs yet.'),
  ];
}

/** How an instance began: a trigger, or by hand (and by whom, where the start recorded it). */
function causeText(cause) {
  if (cause?.kind === 'parent') return `a sub-process, started at ${cause.activityId} of its parent`;
  if (cause?.kind === 'api') return cause.by ? `started by hand by ${cause.by}` : 'started by hand';
  if (cause?.kind === 'schedule') return `schedule, the tick of ${cause.tick}`;
  return cause?.kind ?? 'unknown cause';
}

/**
 * The links between a sub-process and its parent: a child names its parent (its cause), a parent lists the
 * children its history started (SubprocessStarted), with the activity that started each.
 */
function subprocessLinks(instance, history) {
  const link = (id) => h('a', { href: `#/instances/${encodeURIComponent(id)}`, class: 'instance-link' }, id);
  const out = [];
  if (instance.cause?.kind === 'parent') {
    out.push(h('dt', {}, 'Parent instance'), h('dd', { class: 'parent-instance' }, link(instance.cause.instanceId)));
  }
  const children = history.filter((e) => e.type === 'SubprocessStarted');
  if (children.length > 0) {
    out.push(
      h('dt', {}, children.length > 1 ? 'Sub-processes' : 'Sub-process'),
      h(
        'dd',
        { class: 'child-instances' },
        h(
          'ul',
          {},
          children.map((e) =>
            h('li', {}, link(e.data.childInstanceId), ` (${e.data.definitionKey} at ${e.data.activityId})`),
          ),
        ),
      ),
    );
  }
  return out;
}
