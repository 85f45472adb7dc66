// The process grid: every definition, sortable and filterable; one definition's triggers, versions, and its diagram
// with a heatmap of its instances.
import { get, post, query, session } from './api.js';
import { h, replace, time, badge, announce, field, errorBox, serialized, select } from './dom.js';
import { processHeatmap } from './bpmn-viewer.js';

const COLUMNS = [
  { key: 'name', label: 'Name' },
  { key: 'relatedEntity', label: 'Related entity' },
  { key: 'executionOrder', label: 'Execution order', numeric: true },
  { key: 'enabled', label: 'Enabled' },
  { key: 'createdAt', label: 'Created at' },
  { key: 'running', label: 'Running', numeric: true },
  { key: 'openTasks', label: 'Open tasks', numeric: true },
];

export function processesView(container, [key]) {
  let rows = [];
  let position = 0;
  let sort = { key: 'executionOrder', direction: 1 };
  let filterText = '';
  let openKey = key;
  let detailSignature = '';
  /** The open definition's diagram: its key, the version shown, and the heatmap laid over it. */
  let diagram = null;
  const errors = errorBox();
  const table = h('table', { class: 'grid' });
  const status = h('p', { class: 'list-status', role: 'status', 'aria-live': 'polite' });
  const detail = h('section', { class: 'process-detail', 'aria-label': 'Process details', tabindex: '-1' });
  const filterInput = h('input', {
    type: 'search',
    name: 'filter',
    autocomplete: 'off',
    placeholder: 'Name, key or entity',
  });
  filterInput.addEventListener('input', () => {
    filterText = filterInput.value.trim().toLowerCase();
    render();
  });

  replace(
    container,
    h('h1', { tabindex: '-1' }, 'Processes'),
    session.me.admin ? h('p', {}, h('a', { class: 'button-link', href: '#/design/new' }, 'New process')) : null,
    h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Filter processes', onSubmit: (e) => e.preventDefault() },
      field('Filter', filterInput),
    ),
    errors.el,
    status,
    h('div', { class: 'table-scroll' }, table),
    detail,
  );

  function compare(a, b) {
    const x = a[sort.key];
    const y = b[sort.key];
    const order =
      typeof x === 'number' || typeof x === 'boolean' ? Number(x) - Number(y) : String(x).localeCompare(String(y));
    return order * sort.direction || a.key.localeCompare(b.key);
  }

  /** Where focus is inside the table, so a live re-render can put it back. */
  function focusKey() {
    const active = document.activeElement;
    if (!active || !table.contains(active)) return null;
    if (active.dataset.sort) return `[data-sort="${active.dataset.sort}"]`;
    const row = active.closest('tr[data-key]');
    if (!row) return null;
    const index = [...row.querySelectorAll('a, button')].indexOf(active);
    return { row: row.dataset.key, index };
  }

  function render() {
    const focused = focusKey();
    renderTable();
    if (typeof focused === 'string') table.querySelector(focused)?.focus();
    else if (focused) {
      const row = table.querySelector(`tr[data-key="${CSS.escape(focused.row)}"]`);
      row?.querySelectorAll('a, button').item(focused.index)?.focus();
    }
  }

  function renderTable() {
    const shown = rows
      .filter((r) => !filterText || [r.name, r.key, r.relatedEntity].some((v) => v.toLowerCase().includes(filterText)))
      .sort(compare);
    const admin = session.me.admin;
    replace(
      table,
      h('caption', { class: 'visually-hidden' }, 'Process definitions; select a column header to sort'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          COLUMNS.map((c) =>
            h(
              'th',
              {
                scope: 'col',
                class: c.numeric ? 'num' : '',
                'aria-sort': sort.key === c.key ? (sort.direction > 0 ? 'ascending' : 'descending') : null,
              },
              h(
                'button',
                {
                  type: 'button',
                  class: 'sort',
                  'data-sort': c.key,
                  onClick: () => {
                    sort = { key: c.key, direction: sort.key === c.key ? -sort.direction : 1 };
                    render();
                    table.querySelector(`[data-sort="${c.key}"]`)?.focus();
                    announce(`Sorted by ${c.label}, ${sort.direction > 0 ? 'ascending' : 'descending'}`);
                  },
                },
                c.label,
                h(
                  'span',
                  { class: 'sort-mark', 'aria-hidden': 'true' },
                  sort.key === c.key ? (sort.direction > 0 ? ' ▲' : ' ▼') : '',
                ),
              ),
            ),
          ),
          admin ? h('th', { scope: 'col' }, 'Actions') : null,
        ),
      ),
      h(
        'tbody',
        {},
        shown.length === 0
          ? h('tr', {}, h('td', { colspan: COLUMNS.length + (admin ? 1 : 0), class: 'empty' }, 'No process matches.'))
          : null,
        shown.map((r) =>
          h(
            'tr',
            { 'data-key': r.key, class: r.key === openKey ? 'is-open' : '' },
            h(
              'th',
              { scope: 'row' },
              h('a', { href: `#/processes/${encodeURIComponent(r.key)}` }, r.name),
              h('span', { class: 'muted key' }, ` ${r.key} · v${r.version}`),
            ),
            h('td', {}, r.relatedEntity),
            h('td', { class: 'num' }, String(r.executionOrder)),
            h('td', {}, r.enabled ? badge('enabled', 'Enabled') : badge('disabled', 'Disabled')),
            h('td', {}, time(r.createdAt)),
            h(
              'td',
              { class: 'num' },
              h(
                'a',
                {
                  href: `#/instances?definition=${encodeURIComponent(r.key)}`,
                  'aria-label': `${r.running} running instances of ${r.name}`,
                },
                String(r.running),
              ),
            ),
            h('td', { class: 'num' }, String(r.openTasks)),
            admin ? h('td', {}, toggleButton(r)) : null,
          ),
        ),
      ),
    );
    status.textContent = `${shown.length} of ${rows.length} processes`;
  }

  function toggleButton(r) {
    const verb = r.enabled ? 'Deactivate' : 'Activate';
    const button = h(
      'button',
      {
        type: 'button',
        class: r.enabled ? 'danger-quiet' : 'primary',
        'aria-label': `${verb} ${r.name}`,
        onClick: async () => {
          errors.clear();
          button.disabled = true;
          try {
            const result = await post(`/definitions/${encodeURIComponent(r.key)}/${verb.toLowerCase()}`);
            await refresh(result.position);
            announce(`${r.name} ${r.enabled ? 'deactivated' : 'activated'}`);
            table.querySelector(`tr[data-key="${CSS.escape(r.key)}"] td:last-child button`)?.focus();
          } catch (error) {
            button.disabled = false;
            errors.show(error);
          }
        },
      },
      verb,
    );
    return button;
  }

  const refresh = serialized(load);

  async function load(minPosition) {
    try {
      const page = await get(`/definitions${query({ minPosition })}`);
      position = page.position;
      rows = page.items;
      errors.clear();
      render();
      const open = rows.find((r) => r.key === openKey);
      // The details re-render only when the definition itself changed, not its counters.
      if (open && `${open.updatedAt}|${open.enabled}|${open.version}` !== detailSignature)
        await showDetail(openKey, minPosition, false);
      else await loadHeat(minPosition);
    } catch (error) {
      errors.show(error);
    }
  }

  async function showDetail(k, minPosition, focus = true) {
    openKey = k;
    for (const tr of table.querySelectorAll('tbody tr')) tr.classList.toggle('is-open', tr.dataset.key === k);
    if (!k) {
      detailSignature = '';
      diagram = null;
      detail.replaceChildren();
      return;
    }
    try {
      const d = await get(`/definitions/${encodeURIComponent(k)}${query({ minPosition })}`);
      if (openKey !== k) return;
      detailSignature = `${d.updatedAt}|${d.enabled}|${d.version}`;
      replace(
        detail,
        h(
          'h2',
          { tabindex: '-1' },
          d.name,
          ' ',
          d.enabled ? badge('enabled', 'Enabled') : badge('disabled', 'Disabled'),
        ),
        h(
          'p',
          { class: 'muted' },
          `${d.key} · version ${d.version} · about ${d.relatedEntity} · execution order ${d.executionOrder} · `,
          h('a', { href: `#/instances?definition=${encodeURIComponent(d.key)}` }, 'see its instances'),
        ),
        session.me.admin
          ? h(
              'p',
              {},
              h('a', { class: 'button-link', href: `#/design/${encodeURIComponent(d.key)}` }, 'Edit in designer'),
            )
          : null,
        h('h3', {}, 'Triggers'),
        d.triggers.length
          ? h(
              'table',
              { class: 'grid compact' },
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Event', 'Fields', 'Condition', 'Delay'].map((t) => h('th', { scope: 'col' }, t)),
                ),
              ),
              h(
                'tbody',
                {},
                d.triggers.map((t) =>
                  h(
                    'tr',
                    {},
                    h('td', {}, t.on),
                    h('td', {}, t.on === 'schedule' ? '' : (t.fields?.join(', ') ?? 'any')),
                    h(
                      'td',
                      {},
                      t.on === 'schedule'
                        ? h('code', {}, `${t.cron} (${t.timeZone})`)
                        : t.when
                          ? h('code', {}, t.when)
                          : 'always',
                    ),
                    h('td', {}, t.delay ?? 'none'),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No triggers: launched only through the API.'),
        h('h3', {}, 'Flow and heatmap'),
        diagramSection(d, minPosition),
        h('h3', {}, 'Versions'),
        h(
          'ul',
          { class: 'versions' },
          [...d.versions].reverse().map((v) => h('li', {}, `Version ${v.version}, published `, time(v.publishedAt))),
        ),
      );
      if (focus) detail.querySelector('h2')?.focus();
    } catch (error) {
      errors.show(error);
    }
  }

  /** The version chosen (the latest unless a reader picked another) drawn with its heatmap. */
  function diagramSection(d, minPosition) {
    const shown = diagram?.key === d.key && d.versions.some((v) => v.version === diagram.version);
    const version = shown ? diagram.version : d.version;
    const holder = h('div', { class: 'diagram-holder' });
    const show = (v, atLeast) => {
      const definition = d.versions.find((x) => x.version === v)?.definition ?? d.definition;
      const component = processHeatmap({ key: d.key, version: v, definition, title: d.name });
      diagram = { key: d.key, version: v, component };
      replace(holder, component.el);
      loadHeat(atLeast);
    };
    const versions = [...d.versions].reverse();
    const picker =
      versions.length > 1
        ? select(
            'version',
            versions.map((v) => [String(v.version), `Version ${v.version}`]),
            String(version),
          )
        : null;
    picker?.addEventListener('change', () => show(Number(picker.value)));
    show(version, minPosition);
    return [picker ? h('div', { class: 'filters' }, field('Version', picker)) : null, holder];
  }

  /** Lays the open version's current figures over its diagram. */
  async function loadHeat(minPosition) {
    const shown = diagram;
    if (!shown) return;
    try {
      const heat = await get(
        `/definitions/${encodeURIComponent(shown.key)}/heatmap${query({ version: shown.version, minPosition })}`,
      );
      if (diagram === shown) shown.component.update(heat);
    } catch (error) {
      errors.show(error);
    }
  }

  refresh();
  return {
    update([k]) {
      showDetail(k);
    },
    onPosition(p) {
      if (p > position) refresh(p);
    },
  };
}
