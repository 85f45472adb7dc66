// The flow of a definition as inline SVG: a layered layout (longest path from `start`, loops drawn back below).
import { h, s } from './dom.js';

const NODE_W = 150;
const NODE_H = 56;
const GAP_X = 110;
const GAP_Y = 28;
const PAD = 24;
/** A gateway's diamond (parallel, inclusive, join): smaller than a box, centred in its slot. */
const GATE = 44;
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
const GATEWAYS = new Set(['parallel', 'inclusive', 'join']);

/** What a node is called in labels: an end that terminates the instance says so; a sub-process names its process. */
const typeLabel = (activity) =>
  activity.type === 'end' && activity.terminate
    ? 'End (terminates)'
    : activity.type === 'subprocess'
      ? `Sub-process: ${activity.process}`
      : (TYPE_LABELS[activity.type] ?? activity.type);

/** Every arrow out of an activity: {to, label, kind}; a `next` that lists several activities forks (kind `fork`). */
export function edgesOf(id, activity) {
  const edges = [];
  const add = (to, label, kind = 'next') => typeof to === 'string' && to && edges.push({ from: id, to, label, kind });
  const addNext = (next, label = '') => {
    if (Array.isArray(next)) for (const to of next) add(to, label, 'fork');
    else add(next, label);
  };
  switch (activity.type) {
    case 'human':
      if (typeof activity.next === 'string' || Array.isArray(activity.next)) addNext(activity.next);
      else for (const [result, to] of Object.entries(activity.next ?? {})) add(to, result, 'result');
      break;
    case 'automatic':
    case 'join':
      addNext(activity.next);
      break;
    case 'service':
      addNext(activity.next);
      for (const [code, to] of Object.entries(activity.errors ?? {})) add(to, `error ${code}`, 'error');
      break;
    case 'wait':
      addNext(activity.next, activity.until ? 'condition holds' : '');
      if (activity.onTimeout && activity.onTimeout !== activity.next)
        add(activity.onTimeout, `timeout ${activity.timeout ?? ''}`.trim(), 'timeout');
      break;
    case 'decision':
      for (const branch of activity.branches ?? []) add(branch.next, branch.when, 'branch');
      add(activity.otherwise, 'otherwise', 'otherwise');
      break;
    case 'parallel':
      for (const to of activity.branches ?? []) add(to, '', 'fork');
      break;
    case 'inclusive':
      for (const branch of activity.branches ?? []) add(branch.next, branch.when, 'branch');
      add(activity.otherwise, 'otherwise', 'otherwise');
      break;
    default:
      break;
  }
  // Boundary events that interrupt a task or a wait take the line elsewhere.
  for (const boundary of activity.boundary ?? []) {
    if (boundary.next)
      add(boundary.next, boundary.after ? `after ${boundary.after}` : `when ${boundary.when}`, 'boundary');
  }
  return edges;
}

/** Where lines begin: `start`, then each conditional start's and a deleted record's first activity. */
const entriesOf = (definition) => [
  definition.start,
  ...(definition.conditionalStarts ?? []).map((c) => c.next),
  ...(typeof definition.onRecordDeleted === 'object' && definition.onRecordDeleted
    ? [definition.onRecordDeleted.next]
    : []),
];

/**
 * Columns of activity ids. An activity's column is its longest path from an entry (`start`, a conditional
 * start's or a deleted record's first activity) over the arrows that do not close a loop, so a join sits
 * after every branch that leads to it, however long; loops go back.
 * In a column, activities follow the rows of those that lead to them (branches keep their order).
 * Unreachable activities come after the deepest column.
 */
export function layers(definition) {
  const activities = definition.activities ?? {};
  const ids = Object.keys(activities);
  const targets = new Map(
    ids.map((id) => [id, [...new Set(edgesOf(id, activities[id]).map((e) => e.to))].filter((to) => activities[to])]),
  );
  // Depth-first from the entries: an arrow to an activity on the current path closes a loop.
  const onPath = new Set();
  const seen = new Set();
  const postorder = [];
  const back = new Set();
  const visit = (id) => {
    seen.add(id);
    onPath.add(id);
    for (const to of targets.get(id)) {
      if (onPath.has(to)) back.add(`${id}\u0000${to}`);
      else if (!seen.has(to)) visit(to);
    }
    onPath.delete(id);
    postorder.push(id);
  };
  const entries = entriesOf(definition).filter((id) => activities[id]);
  for (const id of entries) if (!seen.has(id)) visit(id);
  const forward = (from, to) => !back.has(`${from}\u0000${to}`);
  const depth = new Map();
  const topological = postorder.reverse();
  for (const id of entries) depth.set(id, 0);
  for (const id of topological) {
    for (const to of targets.get(id)) {
      if (forward(id, to)) depth.set(to, Math.max(depth.get(to) ?? 0, depth.get(id) + 1));
    }
  }
  const deepest = Math.max(-1, ...depth.values());
  for (const id of ids) if (!depth.has(id)) depth.set(id, deepest + 1);
  // In the order first reached (so a fork's branches keep the order they are listed in), then the rest.
  const discovered = [...seen, ...ids.filter((id) => !seen.has(id))];
  const order = new Map(discovered.map((id, i) => [id, i]));
  const columns = [];
  for (const id of discovered) (columns[depth.get(id)] ??= []).push(id);
  const filled = columns.filter(Boolean);
  // Each column ordered by the mean row of the activities that lead to it from earlier columns.
  const row = new Map();
  const sources = new Map(ids.map((id) => [id, []]));
  for (const id of ids) for (const to of targets.get(id)) if (forward(id, to)) sources.get(to).push(id);
  for (const column of filled) {
    const weight = new Map(
      column.map((id) => {
        const rows = sources
          .get(id)
          .filter((from) => row.has(from))
          .map((from) => row.get(from));
        return [id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Infinity];
      }),
    );
    column.sort((a, b) => weight.get(a) - weight.get(b) || order.get(a) - order.get(b));
    column.forEach((id, i) => row.set(id, i - (column.length - 1) / 2));
  }
  return filled;
}

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Where arrows leave and enter a node: the box's sides, or a gateway's tips. */
function anchors(activity, { x, y }) {
  const inset = GATEWAYS.has(activity.type) ? (NODE_W - GATE) / 2 : 0;
  return { left: x + inset, right: x + NODE_W - inset, middle: y + NODE_H / 2, centre: x + NODE_W / 2 };
}

function nodeShape(activity, x, y) {
  const cls = `node-shape node-${activity.type}`;
  const cx = x + NODE_W / 2;
  const cy = y + NODE_H / 2;
  switch (activity.type) {
    case 'decision':
      return s('polygon', {
        class: cls,
        points: `${x + NODE_W / 2},${y} ${x + NODE_W},${y + NODE_H / 2} ${x + NODE_W / 2},${y + NODE_H} ${x},${y + NODE_H / 2}`,
      });
    case 'parallel':
    case 'inclusive':
    case 'join': {
      const r = GATE / 2;
      const diamond = s('polygon', {
        class: `${cls} node-gateway`,
        points: `${cx},${cy - r} ${cx + r},${cy} ${cx},${cy + r} ${cx - r},${cy}`,
      });
      // The marker inside: + for all branches (a parallel fork, a join), o for those whose condition holds.
      const marker =
        activity.type === 'inclusive'
          ? s('circle', { class: 'gateway-marker', cx, cy, r: r / 2.6 })
          : s('path', {
              class: 'gateway-marker',
              d: `M${cx - r / 2.4},${cy} H${cx + r / 2.4} M${cx},${cy - r / 2.4} V${cy + r / 2.4}`,
            });
      return [diamond, marker];
    }
    case 'end':
      if (activity.terminate)
        return [
          s('rect', {
            class: `${cls} node-terminate`,
            x,
            y: y + 6,
            width: NODE_W,
            height: NODE_H - 12,
            rx: (NODE_H - 12) / 2,
          }),
          s('circle', { class: 'terminate-marker', cx: x + 16, cy, r: 6 }),
        ];
      return s('rect', { class: cls, x, y: y + 6, width: NODE_W, height: NODE_H - 12, rx: (NODE_H - 12) / 2 });
    case 'wait':
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 4, 'stroke-dasharray': '6 4' });
    case 'automatic':
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 2 });
    case 'service':
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 2, 'stroke-width': 3 });
    case 'subprocess':
      // BPMN's call activity: a thick box with a [+] marker at the bottom.
      return [
        s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 8, 'stroke-width': 3 }),
        s('rect', { class: 'subprocess-marker', x: cx - 7, y: y + NODE_H - 15, width: 14, height: 12 }),
        s('path', {
          class: 'subprocess-marker',
          d: `M${cx - 4},${y + NODE_H - 9} H${cx + 4} M${cx},${y + NODE_H - 13} V${y + NODE_H - 5}`,
        }),
      ];
    default:
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 12 });
  }
}

/** The node's two lines of text: a box's title and type inside it, a gateway's name under its diamond. */
function nodeText(activity, id, x, y, isCurrent) {
  const label = activity.title ?? id;
  if (GATEWAYS.has(activity.type)) {
    return s(
      'text',
      {
        x: x + NODE_W / 2,
        y: y + NODE_H / 2 + GATE / 2 + 13,
        'text-anchor': 'middle',
        class: 'node-title gateway-title',
      },
      `${isCurrent ? '▶ ' : ''}${clip(label, 18)}`,
    );
  }
  return [
    s(
      'text',
      { x: x + NODE_W / 2, y: y + NODE_H / 2 - 4, 'text-anchor': 'middle', class: 'node-title' },
      clip(label, activity.type === 'decision' ? 14 : 20),
    ),
    s(
      'text',
      { x: x + NODE_W / 2, y: y + NODE_H / 2 + 13, 'text-anchor': 'middle', class: 'node-type' },
      isCurrent ? `▶ ${typeLabel(activity)} · current` : typeLabel(activity),
    ),
  ];
}

/** The activities to highlight: one id, a list (every line of a parallel instance), or none. */
const currentSet = (current) =>
  new Set(current === undefined || current === null ? [] : typeof current === 'string' ? [current] : [...current]);

/**
 * The diagram and a text version of it (the same arrows, readable without the picture).
 * `current` highlights the activities where the instance is: one id, or a list (one per line of a
 * parallel instance); `visited` marks activities already passed.
 */
export function flowDiagram(definition, { current, visited = new Set(), title } = {}) {
  const currents = currentSet(current);
  const columns = layers(definition);
  const position = new Map();
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  // Room under the last row for a gateway's name.
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y + 8;
  columns.forEach((column, col) => {
    const columnHeight = column.length * NODE_H + (column.length - 1) * GAP_Y;
    const top = (height - columnHeight) / 2;
    column.forEach((id, row) =>
      position.set(id, { x: PAD + col * (NODE_W + GAP_X), y: top + row * (NODE_H + GAP_Y), col }),
    );
  });
  const width = PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * GAP_X;
  const activities = definition.activities ?? {};
  const edges = Object.entries(activities).flatMap(([id, activity]) => edgesOf(id, activity));
  const anchorOf = (id) => anchors(activities[id], position.get(id));

  const edgeEls = edges
    .filter((e) => position.has(e.to))
    .map((edge, i) => {
      const a = position.get(edge.from);
      const b = position.get(edge.to);
      const from = anchorOf(edge.from);
      const to = anchorOf(edge.to);
      let d;
      let lx;
      let ly;
      if (b.col > a.col) {
        const x1 = from.right;
        const y1 = from.middle;
        const x2 = to.left - 2;
        const y2 = to.middle;
        // An arrow that skips columns (a short branch beside a longer one) runs straight and bends in the last gap.
        const bend = b.col - a.col > 1 ? x2 - GAP_X + 8 : x1;
        const mid = (bend + x2) / 2;
        d = `M${x1},${y1}${bend > x1 ? ` H${bend}` : ''} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
        // A fork's labels sit near the branch they name, apart from each other.
        lx = edge.kind === 'branch' || edge.kind === 'otherwise' ? x2 - GAP_X / 2 + 4 : mid;
        ly = (edge.kind === 'branch' || edge.kind === 'otherwise' ? y2 : (y1 + y2) / 2) - 6;
      } else {
        // A backward or same-column arrow loops below the boxes.
        const x1 = from.centre;
        const y1 = a.y + NODE_H;
        const x2 = to.centre;
        const y2 = b.y + NODE_H + 2;
        const dip = Math.max(y1, y2) + GAP_Y + (i % 3) * 8;
        d = `M${x1},${y1} C${x1},${dip} ${x2},${dip} ${x2},${y2}`;
        lx = (x1 + x2) / 2;
        ly = dip - 4;
      }
      return s(
        'g',
        { class: `edge edge-${edge.kind}`, 'data-from': edge.from, 'data-to': edge.to },
        s('title', {}, `${edge.from} → ${edge.to}${edge.label ? `: ${edge.label}` : ''}`),
        s('path', {
          d,
          'marker-end': 'url(#arrow)',
          ...(edge.kind === 'fork' && !GATEWAYS.has(activities[edge.from].type)
            ? { 'marker-start': 'url(#fork)' }
            : {}),
        }),
        edge.label
          ? s('text', { x: lx, y: ly, 'text-anchor': 'middle', class: 'edge-label' }, clip(edge.label, 18))
          : null,
      );
    });

  const nodeEls = [...position.entries()].map(([id, { x, y }]) => {
    const activity = activities[id];
    const isCurrent = currents.has(id);
    const state = isCurrent ? ' is-current' : visited.has(id) ? ' is-visited' : '';
    const label = activity.title ?? id;
    return s(
      'g',
      {
        class: `node node-kind-${activity.type}${GATEWAYS.has(activity.type) ? ' gateway' : ''}${state}`,
        'data-activity': id,
        'data-type': activity.type,
        ...(activity.type === 'end' && activity.terminate ? { 'data-terminate': 'true' } : {}),
      },
      s('title', {}, `${label} (${typeLabel(activity)}${isCurrent ? ', current' : ''})`),
      nodeShape(activity, x, y),
      nodeText(activity, id, x, y, isCurrent),
    );
  });

  const loopRoom = edges.some((e) => position.has(e.to) && position.get(e.to).col <= position.get(e.from).col)
    ? GAP_Y + 24
    : 0;
  const currentList = [...currents].filter((id) => position.has(id));
  const svg = s(
    'svg',
    {
      class: 'flow',
      viewBox: `0 0 ${width} ${height + loopRoom}`,
      // Scales down to the column's width, never above its natural size; narrow screens scroll it.
      style: `max-width: ${width}px`,
      role: 'img',
      'aria-label': `Flow of ${title ?? definition.name}: ${Object.keys(activities).length} activities${currentList.length ? `, current: ${currentList.join(', ')}` : ''}`,
    },
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: '9',
          refY: '5',
          markerWidth: '7',
          markerHeight: '7',
          orient: 'auto-start-reverse',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }),
      ),
      // A fork without a gateway (a `next` listing several activities) starts each branch with a small diamond.
      s(
        'marker',
        { id: 'fork', viewBox: '0 0 10 10', refX: '1', refY: '5', markerWidth: '8', markerHeight: '8', orient: 'auto' },
        s('path', { d: 'M0,5 L5,0 L10,5 L5,10 z', class: 'fork-head' }),
      ),
    ),
    edgeEls,
    nodeEls,
  );

  const types = new Set(Object.values(activities).map((a) => (a.type === 'end' && a.terminate ? 'terminate' : a.type)));
  const legend = [
    ...Object.entries(TYPE_LABELS).filter(([type]) => types.has(type)),
    ...(types.has('terminate') ? [['terminate', 'End (terminates)']] : []),
  ];
  const text = h(
    'details',
    { class: 'flow-text' },
    h('summary', {}, 'The flow as text'),
    h(
      'ol',
      {},
      columns.flat().map((id) => {
        const activity = activities[id];
        const out = edgesOf(id, activity);
        const together = out.filter((e) => e.kind === 'fork').length > 1;
        return h(
          'li',
          {},
          h('strong', {}, activity.title ?? id),
          ` (${typeLabel(activity)}, ${id})${currents.has(id) ? ' — current' : ''}`,
          out.length
            ? h(
                'ul',
                {},
                out.map((e) =>
                  h(
                    'li',
                    {},
                    `→ ${e.to}`,
                    e.label ? ` when ${e.label}` : '',
                    e.kind === 'fork' && together ? ' (in parallel)' : '',
                  ),
                ),
              )
            : null,
        );
      }),
    ),
  );

  return h(
    'figure',
    { class: 'diagram' },
    h(
      'div',
      { class: 'diagram-scroll', tabindex: '0', 'aria-label': 'Flow diagram (scrolls sideways)', role: 'group' },
      svg,
    ),
    h(
      'figcaption',
      { class: 'legend' },
      legend.map(([type, label]) => h('span', { class: `legend-item legend-${type}` }, label)),
      currentList.length
        ? h(
            'span',
            { class: 'legend-item legend-current' },
            currentList.length > 1 ? 'Current positions' : 'Current activity',
          )
        : null,
    ),
    text,
  );
}
