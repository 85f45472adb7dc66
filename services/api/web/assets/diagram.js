// The flow of a definition as inline SVG: a layered layout by BFS depth from `start`.
import { h, s } from './dom.js';

const NODE_W = 150;
const NODE_H = 56;
const GAP_X = 110;
const GAP_Y = 28;
const PAD = 24;
const TYPE_LABELS = {
  human: 'Human task',
  automatic: 'Automatic',
  service: 'Service task',
  wait: 'Wait',
  decision: 'Decision',
  end: 'End',
};

/** Every arrow out of an activity: {to, label, kind}. */
export function edgesOf(id, activity) {
  const edges = [];
  const add = (to, label, kind = 'next') => to && edges.push({ from: id, to, label, kind });
  switch (activity.type) {
    case 'human':
      if (typeof activity.next === 'string') add(activity.next, '');
      else for (const [result, to] of Object.entries(activity.next ?? {})) add(to, result, 'result');
      break;
    case 'automatic':
      add(activity.next, '');
      break;
    case 'service':
      add(activity.next, '');
      for (const [code, to] of Object.entries(activity.errors ?? {})) add(to, `error ${code}`, 'error');
      break;
    case 'wait':
      add(activity.next, activity.until ? 'condition holds' : '');
      if (activity.onTimeout && activity.onTimeout !== activity.next)
        add(activity.onTimeout, `timeout ${activity.timeout ?? ''}`.trim(), 'timeout');
      break;
    case 'decision':
      for (const branch of activity.branches ?? []) add(branch.next, branch.when, 'branch');
      add(activity.otherwise, 'otherwise', 'otherwise');
      break;
    default:
      break;
  }
  return edges;
}

/** Depth of each activity from `start` (unreachable ones after the deepest). */
export function layers(definition) {
  const ids = Object.keys(definition.activities ?? {});
  const depth = new Map();
  const queue = [];
  if (definition.activities?.[definition.start]) {
    depth.set(definition.start, 0);
    queue.push(definition.start);
  }
  while (queue.length) {
    const id = queue.shift();
    for (const edge of edgesOf(id, definition.activities[id])) {
      if (!depth.has(edge.to) && definition.activities[edge.to]) {
        depth.set(edge.to, depth.get(id) + 1);
        queue.push(edge.to);
      }
    }
  }
  const deepest = Math.max(-1, ...depth.values());
  for (const id of ids) if (!depth.has(id)) depth.set(id, deepest + 1);
  const columns = [];
  for (const id of ids) (columns[depth.get(id)] ??= []).push(id);
  return columns.filter(Boolean);
}

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function nodeShape(activity, x, y) {
  const cls = `node-shape node-${activity.type}`;
  switch (activity.type) {
    case 'decision':
      return s('polygon', {
        class: cls,
        points: `${x + NODE_W / 2},${y} ${x + NODE_W},${y + NODE_H / 2} ${x + NODE_W / 2},${y + NODE_H} ${x},${y + NODE_H / 2}`,
      });
    case 'end':
      return s('rect', { class: cls, x, y: y + 6, width: NODE_W, height: NODE_H - 12, rx: (NODE_H - 12) / 2 });
    case 'wait':
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 4, 'stroke-dasharray': '6 4' });
    case 'automatic':
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 2 });
    case 'service':
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 2, 'stroke-width': 3 });
    default:
      return s('rect', { class: cls, x, y, width: NODE_W, height: NODE_H, rx: 12 });
  }
}

/**
 * The diagram and a text version of it (the same arrows, readable without the picture).
 * `current` highlights one activity; `visited` marks activities already passed.
 */
export function flowDiagram(definition, { current, visited = new Set(), title } = {}) {
  const columns = layers(definition);
  const position = new Map();
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  columns.forEach((column, col) => {
    const columnHeight = column.length * NODE_H + (column.length - 1) * GAP_Y;
    const top = (height - columnHeight) / 2;
    column.forEach((id, row) =>
      position.set(id, { x: PAD + col * (NODE_W + GAP_X), y: top + row * (NODE_H + GAP_Y), col }),
    );
  });
  const width = PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * GAP_X;
  const edges = Object.entries(definition.activities ?? {}).flatMap(([id, activity]) => edgesOf(id, activity));

  const edgeEls = edges
    .filter((e) => position.has(e.to))
    .map((edge, i) => {
      const a = position.get(edge.from);
      const b = position.get(edge.to);
      let d;
      let lx;
      let ly;
      if (b.col > a.col) {
        const x1 = a.x + NODE_W;
        const y1 = a.y + NODE_H / 2;
        const x2 = b.x - 2;
        const y2 = b.y + NODE_H / 2;
        const mid = (x1 + x2) / 2;
        d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
        lx = mid;
        ly = (y1 + y2) / 2 - 6;
      } else {
        // A backward or same-column arrow loops below the boxes.
        const x1 = a.x + NODE_W / 2;
        const y1 = a.y + NODE_H;
        const x2 = b.x + NODE_W / 2;
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
        s('path', { d, 'marker-end': 'url(#arrow)' }),
        edge.label
          ? s('text', { x: lx, y: ly, 'text-anchor': 'middle', class: 'edge-label' }, clip(edge.label, 18))
          : null,
      );
    });

  const nodeEls = [...position.entries()].map(([id, { x, y }]) => {
    const activity = definition.activities[id];
    const state = id === current ? ' is-current' : visited.has(id) ? ' is-visited' : '';
    const label = activity.title ?? id;
    return s(
      'g',
      { class: `node${state}`, 'data-activity': id },
      s('title', {}, `${label} (${TYPE_LABELS[activity.type] ?? activity.type}${id === current ? ', current' : ''})`),
      nodeShape(activity, x, y),
      s(
        'text',
        { x: x + NODE_W / 2, y: y + NODE_H / 2 - 4, 'text-anchor': 'middle', class: 'node-title' },
        clip(label, activity.type === 'decision' ? 14 : 20),
      ),
      s(
        'text',
        { x: x + NODE_W / 2, y: y + NODE_H / 2 + 13, 'text-anchor': 'middle', class: 'node-type' },
        id === current ? `▶ ${TYPE_LABELS[activity.type]} · current` : (TYPE_LABELS[activity.type] ?? activity.type),
      ),
    );
  });

  const loopRoom = edges.some((e) => position.has(e.to) && position.get(e.to).col <= position.get(e.from).col)
    ? GAP_Y + 24
    : 0;
  const svg = s(
    'svg',
    {
      class: 'flow',
      viewBox: `0 0 ${width} ${height + loopRoom}`,
      // Scales down to the column's width, never above its natural size; narrow screens scroll it.
      style: `max-width: ${width}px`,
      role: 'img',
      'aria-label': `Flow of ${title ?? definition.name}: ${Object.keys(definition.activities ?? {}).length} activities${current ? `, current: ${current}` : ''}`,
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
    ),
    edgeEls,
    nodeEls,
  );

  const text = h(
    'details',
    { class: 'flow-text' },
    h('summary', {}, 'The flow as text'),
    h(
      'ol',
      {},
      columns.flat().map((id) => {
        const activity = definition.activities[id];
        const out = edgesOf(id, activity);
        return h(
          'li',
          {},
          h('strong', {}, activity.title ?? id),
          ` (${TYPE_LABELS[activity.type] ?? activity.type}, ${id})${id === current ? ' — current' : ''}`,
          out.length
            ? h(
                'ul',
                {},
                out.map((e) => h('li', {}, `→ ${e.to}`, e.label ? ` when ${e.label}` : '')),
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
      Object.entries(TYPE_LABELS).map(([type, label]) => h('span', { class: `legend-item legend-${type}` }, label)),
      current ? h('span', { class: 'legend-item legend-current' }, 'Current activity') : null,
    ),
    text,
  );
}
