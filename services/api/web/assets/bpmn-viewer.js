// Process diagrams drawn by bpmn-js (served locally from /assets/vendor/), with Lifeline's figures laid over them:
// per activity the instances there, incidents and time spent (the process page), or where an instance is (its page).
// A canvas is not read by screen readers: each diagram comes with a table of the same figures.
import { ApiError, api, query } from './api.js';
import { h } from './dom.js';

const VENDOR = '/assets/vendor/';
const BUNDLES = {
  viewer: 'bpmn-js/bpmn-navigated-viewer.production.min.js',
  modeler: 'bpmn-js/bpmn-modeler.production.min.js',
};
const STYLES = ['bpmn-js/assets/diagram-js.css', 'bpmn-js/assets/bpmn-js.css', 'bpmn-js/assets/bpmn-font/css/bpmn.css'];
const loaded = new Map();

/** Adds bpmn-js's stylesheets to the page, once. */
export function loadBpmnStyles() {
  for (const path of STYLES) {
    if (document.head.querySelector(`link[data-vendor="${path}"]`)) continue;
    document.head.append(h('link', { rel: 'stylesheet', href: VENDOR + path, 'data-vendor': path }));
  }
}

/**
 * The BpmnJS class of one bundle (`viewer`: the NavigatedViewer, `modeler`: the Modeler), its script loaded once.
 * Both bundles assign the global `BpmnJS`: each is kept as its script defined it, and the global is put back.
 */
export function loadBpmnJs(kind = 'viewer') {
  if (!BUNDLES[kind]) return Promise.reject(new Error(`No bpmn-js bundle ${kind}`));
  if (!loaded.has(kind)) {
    loaded.set(
      kind,
      new Promise((resolve, reject) => {
        loadBpmnStyles();
        const before = window.BpmnJS;
        const script = h('script', { src: VENDOR + BUNDLES[kind], async: true, 'data-vendor': BUNDLES[kind] });
        script.addEventListener('load', () => {
          const BpmnJS = window.BpmnJS;
          if (before === undefined) delete window.BpmnJS;
          else window.BpmnJS = before;
          if (typeof BpmnJS === 'function') resolve(BpmnJS);
          else reject(new ApiError(0, 'BPMN.VIEWER_UNAVAILABLE', 'The diagram viewer did not load.'));
        });
        script.addEventListener('error', () => {
          loaded.delete(kind);
          reject(new ApiError(0, 'BPMN.VIEWER_UNAVAILABLE', 'The diagram viewer could not be loaded.'));
        });
        document.head.append(script);
      }),
    );
  }
  return loaded.get(kind);
}

const xmlCache = new Map();

/** A version's BPMN (with diagram interchange), fetched with the session's token; kept per key and version. */
export function fetchDefinitionBpmn(key, version) {
  const cacheKey = `${key}@${version ?? ''}`;
  if (!xmlCache.has(cacheKey)) {
    const pending = api('GET', `/definitions/${encodeURIComponent(key)}/bpmn${query({ version })}`, undefined, {
      accept: 'application/bpmn+xml',
    });
    // A failure is not kept: the next render asks again.
    pending.catch(() => xmlCache.delete(cacheKey));
    xmlCache.set(cacheKey, pending);
  }
  return xmlCache.get(cacheKey);
}

/** A NavigatedViewer in `container` (attached to the page) showing `xml`, fitted to its width. */
export async function showBpmn(container, xml) {
  const BpmnJS = await loadBpmnJs('viewer');
  const viewer = new BpmnJS({ container });
  await viewer.importXML(xml);
  viewer.get('canvas').zoom('fit-viewport', 'auto');
  return viewer;
}

/** A duration in words: 0 s, 45 s, 20 min, 3 h 5 min, 2 d 4 h. */
export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const hours = Math.floor(min / 60);
  if (hours < 24) return min % 60 ? `${hours} h ${min % 60} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

const TYPE_LABELS = {
  human: 'Human task',
  automatic: 'Automatic',
  service: 'Service task',
  wait: 'Wait',
  decision: 'Decision',
  parallel: 'Parallel fork',
  inclusive: 'Inclusive fork',
  join: 'Join',
  subprocess: 'Sub-process',
  end: 'End',
};

/** What an activity is called in the tables: an end that terminates says so; a sub-process names its process. */
export const typeLabel = (activity) =>
  activity.type === 'end' && activity.terminate
    ? 'End (terminates)'
    : activity.type === 'subprocess'
      ? `Sub-process: ${activity.process}`
      : (TYPE_LABELS[activity.type] ?? activity.type);

const LEVELS = 4;
const MEASURES = {
  time: { label: 'Mean time spent', of: (a) => a.stays.meanMs, text: duration },
  instances: { label: 'Instances now', of: (a) => a.instances, text: String },
  entered: { label: 'Entered', of: (a) => a.entered, text: String },
};

/**
 * Heat levels 1–4 by quantile of `measure` among the activities where it is above zero (0: none, or zero):
 * an activity's level is one more than the share of others below it, in quarters. With the range each level covers.
 */
export function heatLevels(activities, measure = 'time') {
  const of = MEASURES[measure].of;
  const values = activities.map(of).filter((v) => typeof v === 'number' && v > 0);
  const sorted = [...values].sort((a, b) => a - b);
  const levelOf = (v) => {
    if (typeof v !== 'number' || v <= 0) return 0;
    const below = sorted.findIndex((x) => x >= v);
    return Math.min(LEVELS, 1 + Math.floor((LEVELS * below) / sorted.length));
  };
  const levels = new Map(activities.map((a) => [a.activityId, levelOf(of(a))]));
  const ranges = [];
  for (let level = 1; level <= LEVELS; level++) {
    const inLevel = sorted.filter((v) => levelOf(v) === level);
    if (inLevel.length) ranges.push({ level, min: inLevel[0], max: inLevel[inLevel.length - 1] });
  }
  return { levels, ranges };
}

const HEAT_MARKERS = Array.from({ length: LEVELS + 1 }, (_, level) => `lifeline-heat-${level}`);

/**
 * The activities of a definition for the tables: in the drawing's reading order (left to right, then top to bottom)
 * once it is shown, those it does not draw last; by id before.
 */
function activitiesOf(definition, viewer) {
  const entries = Object.entries(definition?.activities ?? {});
  if (!viewer) return entries;
  const registry = viewer.get('elementRegistry');
  const place = (id) => {
    const element = registry.get(id);
    return element ? [element.x + element.width / 2, element.y + element.height / 2] : [Infinity, Infinity];
  };
  return entries
    .map(([id, activity]) => ({ id, activity, at: place(id) }))
    .sort((a, b) => a.at[0] - b.at[0] || a.at[1] - b.at[1] || (a.id < b.id ? -1 : 1))
    .map(({ id, activity }) => [id, activity]);
}

function canvasShell(label) {
  const canvas = h('div', { class: 'bpmn-canvas', role: 'img', 'aria-label': label });
  const status = h('p', { class: 'bpmn-status muted', role: 'status' }, 'Loading the diagram…');
  return { canvas, status };
}

/** Puts the viewer in `canvas` once the XML is there; a failure is said in `status` (the table still reads). */
async function mount(canvas, status, key, version) {
  try {
    const xml = await fetchDefinitionBpmn(key, version);
    // Fitting needs the canvas on the page with its size: the caller attaches it in the same turn.
    if (!canvas.isConnected) await new Promise((resolve) => requestAnimationFrame(resolve));
    const viewer = await showBpmn(canvas, xml);
    status.textContent = '';
    status.hidden = true;
    return viewer;
  } catch (error) {
    status.hidden = false;
    status.classList.add('bpmn-error');
    status.textContent = `The diagram cannot be shown: ${error.message}${error.code ? ` (${error.code})` : ''}`;
    return null;
  }
}

/** Lays `html` over the element of `activityId` if the diagram has one; returns whether it did. */
function overlay(viewer, activityId, type, position, html) {
  if (!viewer.get('elementRegistry').get(activityId)) return false;
  // Figures keep their size whatever the zoom, so they stay readable on a large diagram fitted to the page.
  viewer.get('overlays').add(activityId, type, { position, html, scale: false });
  return true;
}

/**
 * The process page's diagram: a version's drawing with, per activity, the instances there, incidents (red), mean
 * time spent and a heat colour (by quantile, with a legend), and a table of the same figures.
 * `update(heatmap)` lays new figures over the same drawing.
 */
export function processHeatmap({ key, version, definition, title }) {
  const { canvas, status } = canvasShell(`Diagram of ${title}, version ${version}`);
  const measureSelect = h(
    'select',
    { name: 'heat-measure', class: 'heat-measure' },
    Object.entries(MEASURES).map(([value, m]) => h('option', { value }, m.label)),
  );
  const legend = h('figcaption', { class: 'legend heat-legend' });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'grid compact activity-figures' },
    h('caption', {}, `Per activity, version ${version}: instances there now, incidents, and time spent`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          'Activity',
          'Type',
          'Instances now',
          'Incidents',
          'Entered',
          'Stays ended',
          'Mean time',
          'Longest',
          'Heat',
        ].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    tbody,
  );
  let viewer = null;
  let heatmap = { activities: [] };
  const ready = mount(canvas, status, key, version).then((v) => {
    viewer = v;
    render();
    return v;
  });
  measureSelect.addEventListener('change', render);

  function render() {
    const measure = measureSelect.value;
    const byId = new Map(heatmap.activities.map((a) => [a.activityId, a]));
    const { levels, ranges } = heatLevels(heatmap.activities, measure);
    const text = MEASURES[measure].text;
    tbody.replaceChildren(
      ...activitiesOf(definition, viewer).map(([id, activity]) => {
        const a = byId.get(id) ?? { instances: 0, incidents: 0, entered: 0, stays: { count: 0 } };
        const level = levels.get(id) ?? 0;
        return h(
          'tr',
          { 'data-activity': id, class: a.incidents ? 'has-incident' : '' },
          h(
            'th',
            { scope: 'row' },
            activity.title ?? id,
            activity.title ? h('span', { class: 'muted' }, ` ${id}`) : '',
          ),
          h('td', {}, typeLabel(activity)),
          h('td', { class: 'num' }, String(a.instances)),
          h(
            'td',
            { class: 'num' },
            a.incidents ? h('span', { class: 'badge badge-incident' }, String(a.incidents)) : '0',
          ),
          h('td', { class: 'num' }, String(a.entered)),
          h('td', { class: 'num' }, String(a.stays.count)),
          h('td', { class: 'num' }, duration(a.stays.meanMs)),
          h('td', { class: 'num' }, duration(a.stays.maxMs)),
          h('td', {}, level ? h('span', { class: `heat-swatch heat-${level}` }, `${level} of ${LEVELS}`) : '—'),
        );
      }),
    );
    legend.replaceChildren(
      h('span', { class: 'legend-title' }, `Heat by ${MEASURES[measure].label.toLowerCase()}:`),
      ...(ranges.length
        ? ranges.map(({ level, min, max }) =>
            h(
              'span',
              { class: `legend-item heat-swatch heat-${level}`, 'data-level': level },
              min === max ? text(min) : `${text(min)} – ${text(max)}`,
            ),
          )
        : [h('span', { class: 'muted' }, 'no figures yet')]),
      h('span', { class: 'legend-item legend-here' }, 'instances there now'),
      h('span', { class: 'legend-item legend-incidents' }, 'open incidents'),
      h('span', { class: 'legend-item legend-mean' }, 'mean time spent'),
    );
    if (!viewer) return;
    const canvasApi = viewer.get('canvas');
    const overlays = viewer.get('overlays');
    overlays.remove({ type: 'lifeline-heat' });
    for (const [id] of activitiesOf(definition)) {
      if (!viewer.get('elementRegistry').get(id)) continue;
      for (const marker of HEAT_MARKERS) canvasApi.removeMarker(id, marker);
      canvasApi.addMarker(id, `lifeline-heat-${levels.get(id) ?? 0}`);
      const a = byId.get(id);
      if (!a) continue;
      const badges = h(
        'div',
        { class: 'heat-badges', 'data-activity': id, 'aria-hidden': 'true' },
        a.instances ? h('span', { class: 'heat-here', title: `${a.instances} there now` }, String(a.instances)) : null,
        a.incidents
          ? h('span', { class: 'heat-incidents', title: `${a.incidents} open incidents` }, `⚠ ${a.incidents}`)
          : null,
        a.stays.count
          ? h('span', { class: 'heat-mean', title: 'mean time spent' }, `⌀ ${duration(a.stays.meanMs)}`)
          : null,
      );
      if (badges.childElementCount) overlay(viewer, id, 'lifeline-heat', { bottom: 4, left: -6 }, badges);
    }
  }

  const el = h(
    'figure',
    { class: 'bpmn-diagram process-heatmap', 'data-key': key, 'data-version': String(version) },
    h('div', { class: 'heat-controls' }, h('label', {}, 'Colour by ', measureSelect)),
    h('div', { class: 'bpmn-frame' }, canvas, status),
    legend,
    h('div', { class: 'table-scroll' }, table),
  );
  render();
  return {
    el,
    ready,
    update(next) {
      heatmap = next;
      render();
    },
  };
}

/**
 * The instance page's diagram: its version's drawing with the activities where it is now highlighted (one badge
 * per line resting there), the activities it has finished dimmed and marked, and links to its sub-process
 * instances; with a table of each activity's state. `update({positions, visited, children})` moves the marks.
 */
export function instanceDiagram({ key, version, definition, title }) {
  const { canvas, status } = canvasShell(`Diagram of ${title}, version ${version}`);
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'grid compact activity-states' },
    h('caption', {}, 'Each activity of this instance: where it is now, and what it has finished'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Activity', 'Type', 'State'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    tbody,
  );
  const legend = h(
    'figcaption',
    { class: 'legend' },
    h('span', { class: 'legend-item legend-current' }, 'Current position'),
    h('span', { class: 'legend-item legend-visited' }, 'Finished'),
  );
  let viewer = null;
  let state = { positions: [], visited: new Set(), children: [] };
  const ready = mount(canvas, status, key, version).then((v) => {
    viewer = v;
    render();
    return v;
  });

  function render() {
    const here = new Map();
    for (const p of state.positions) here.set(p.activityId, [...(here.get(p.activityId) ?? []), p]);
    const childrenAt = new Map();
    for (const c of state.children) childrenAt.set(c.activityId, [...(childrenAt.get(c.activityId) ?? []), c]);
    const current = [...here.keys()];
    canvas.setAttribute(
      'aria-label',
      `Diagram of ${title}, version ${version}${current.length ? `, current: ${current.join(', ')}` : ''}`,
    );
    legend.querySelector('.legend-current').textContent = current.length > 1 ? 'Current positions' : 'Current position';
    tbody.replaceChildren(
      ...activitiesOf(definition, viewer).map(([id, activity]) => {
        const lines = here.get(id) ?? [];
        const stateText = lines.length
          ? `Current${lines.length > 1 ? ` (${lines.length} lines)` : ''}`
          : state.visited.has(id)
            ? 'Finished'
            : 'Not reached';
        return h(
          'tr',
          { 'data-activity': id, class: lines.length ? 'is-current' : state.visited.has(id) ? 'is-visited' : '' },
          h(
            'th',
            { scope: 'row' },
            activity.title ?? id,
            activity.title ? h('span', { class: 'muted' }, ` ${id}`) : '',
          ),
          h('td', {}, typeLabel(activity)),
          h('td', {}, stateText),
        );
      }),
    );
    if (!viewer) return;
    const canvasApi = viewer.get('canvas');
    viewer.get('overlays').remove({ type: 'lifeline-instance' });
    for (const [id] of activitiesOf(definition)) {
      if (!viewer.get('elementRegistry').get(id)) continue;
      canvasApi.removeMarker(id, 'lifeline-current');
      canvasApi.removeMarker(id, 'lifeline-visited');
      const lines = here.get(id) ?? [];
      if (lines.length) canvasApi.addMarker(id, 'lifeline-current');
      else if (state.visited.has(id)) canvasApi.addMarker(id, 'lifeline-visited');
      const badges = [
        ...lines.map((p) =>
          h('span', { class: 'position-badge', 'data-token': p.token, title: `line ${p.token}` }, '▶ here'),
        ),
        ...(state.visited.has(id) && !lines.length ? [h('span', { class: 'visited-badge' }, '✓')] : []),
        ...(childrenAt.get(id) ?? []).map((c) =>
          h(
            'a',
            { class: 'child-link', href: `#/instances/${encodeURIComponent(c.instanceId)}`, tabindex: '-1' },
            `sub-process ${c.instanceId.slice(0, 8)}`,
          ),
        ),
      ];
      if (badges.length)
        overlay(
          viewer,
          id,
          'lifeline-instance',
          { bottom: 4, left: -6 },
          h('div', { class: 'instance-badges', 'data-activity': id, 'aria-hidden': 'true' }, badges),
        );
    }
  }

  const el = h(
    'figure',
    { class: 'bpmn-diagram instance-diagram', 'data-key': key, 'data-version': String(version) },
    h('div', { class: 'bpmn-frame' }, canvas, status),
    legend,
    h(
      'details',
      { class: 'flow-text' },
      h('summary', {}, 'Every activity and its state'),
      h('div', { class: 'table-scroll' }, table),
    ),
  );
  render();
  return {
    el,
    ready,
    update(next) {
      state = { positions: next.positions ?? [], visited: next.visited ?? new Set(), children: next.children ?? [] };
      render();
    },
  };
}
