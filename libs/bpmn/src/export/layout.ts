import type { GraphFlow, GraphNode, NodeKind } from './build-process';

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface Layout {
  shapes: Map<string, Bounds>;
  edges: Map<string, Point[]>;
}

/** Standard BPMN sizes, as Camunda Modeler draws them. */
export const SIZES: Record<NodeKind, { width: number; height: number }> = {
  task: { width: 100, height: 80 },
  event: { width: 36, height: 36 },
  gateway: { width: 50, height: 50 },
};
/** Room for one boundary event on a task's bottom edge. */
const BOUNDARY_PITCH = 46;
const COLUMN_GAP = 90;
/** A row holds a task, its boundary events below it, and a lane for the flows that loop back. */
const ROW_HEIGHT = 170;
const MARGIN = 50;

/**
 * A layered left-to-right layout: longest-path layers over the flows without their back edges, one row per node
 * of a layer (ordered by where their predecessors sit), boundary events spread along their task's bottom edge
 * (the task widens to hold them), orthogonal flows; loops run back below their row.
 */
export function layoutGraph(nodes: GraphNode[], flows: GraphFlow[], extraEdges: [string, string][]): Layout {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  // A flow out of a boundary event leaves its task, for layering.
  const anchor = (id: string) => byId.get(id)?.attachedTo ?? id;
  const placed = nodes.filter((node) => node.attachedTo === undefined);
  const outgoing = new Map<string, string[]>(placed.map((node) => [node.id, []]));
  for (const [from, to] of [...flows.map((flow) => [flow.source, flow.target] as [string, string]), ...extraEdges]) {
    outgoing.get(anchor(from))?.push(anchor(to));
  }

  // Back edges: those that close a cycle in a depth-first walk from the start events, in document order.
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const order: string[] = [];
  const visit = (root: string) => {
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const targets = outgoing.get(top.id) ?? [];
      if (top.next < targets.length) {
        const to = targets[top.next++];
        const seen = state.get(to);
        if (seen === 'open') back.add(`${top.id}>${to}`);
        else if (seen === undefined) {
          state.set(to, 'open');
          stack.push({ id: to, next: 0 });
        }
      } else {
        state.set(top.id, 'done');
        order.push(top.id);
        stack.pop();
      }
    }
  };
  for (const node of placed) if (node.element.$type === 'bpmn:StartEvent' && !state.has(node.id)) visit(node.id);
  for (const node of placed) if (!state.has(node.id)) visit(node.id);

  // Longest path from the starts, in topological order (reverse post-order).
  const layer = new Map<string, number>(placed.map((node) => [node.id, 0]));
  const predecessors = new Map<string, string[]>(placed.map((node) => [node.id, []]));
  for (const id of [...order].reverse()) {
    for (const to of outgoing.get(id) ?? []) {
      if (back.has(`${id}>${to}`) || to === id) continue;
      layer.set(to, Math.max(layer.get(to) ?? 0, (layer.get(id) ?? 0) + 1));
      predecessors.get(to)?.push(id);
    }
  }

  // Rows: layer by layer, each node near the mean row of its predecessors, in document order on ties.
  const layers: string[][] = [];
  for (const node of placed) (layers[layer.get(node.id) ?? 0] ??= []).push(node.id);
  const row = new Map<string, number>();
  for (const ids of layers) {
    if (!ids) continue;
    const wanted = ids.map((id, index) => {
      const rows = (predecessors.get(id) ?? []).map((p) => row.get(p)).filter((r): r is number => r !== undefined);
      return { id, index, at: rows.length === 0 ? index : rows.reduce((a, b) => a + b, 0) / rows.length };
    });
    wanted.sort((a, b) => a.at - b.at || a.index - b.index);
    let free = 0;
    for (const { id, at } of wanted) {
      const r = Math.max(free, Math.round(at));
      row.set(id, r);
      free = r + 1;
    }
  }

  // Columns as wide as their widest node; a task with boundary events widens to hold them.
  const boundariesOf = new Map<string, GraphNode[]>();
  for (const node of nodes)
    if (node.attachedTo)
      (boundariesOf.get(node.attachedTo) ?? boundariesOf.set(node.attachedTo, []).get(node.attachedTo)!).push(node);
  const sizeOf = (node: GraphNode) => {
    const size = SIZES[node.kind];
    const boundaries = boundariesOf.get(node.id)?.length ?? 0;
    return { width: Math.max(size.width, boundaries * BOUNDARY_PITCH + 10), height: size.height };
  };
  const columnWidth: number[] = layers.map((ids) =>
    Math.max(0, ...(ids ?? []).map((id) => sizeOf(byId.get(id) as GraphNode).width)),
  );
  const columnX: number[] = [];
  let x = MARGIN;
  for (let c = 0; c < layers.length; c++) {
    columnX[c] = x;
    x += (columnWidth[c] ?? 0) + COLUMN_GAP;
  }

  const shapes = new Map<string, Bounds>();
  for (const node of placed) {
    const c = layer.get(node.id) ?? 0;
    const { width, height } = sizeOf(node);
    const centreX = columnX[c] + columnWidth[c] / 2;
    const centreY = MARGIN + (row.get(node.id) ?? 0) * ROW_HEIGHT + ROW_HEIGHT / 2;
    shapes.set(node.id, { x: centreX - width / 2, y: centreY - height / 2, width, height });
  }
  for (const [host, boundaries] of boundariesOf) {
    const bounds = shapes.get(host) as Bounds;
    const size = SIZES.event;
    const first = bounds.x + bounds.width / 2 - ((boundaries.length - 1) * BOUNDARY_PITCH) / 2;
    boundaries.forEach((boundary, index) => {
      const centreX = first + index * BOUNDARY_PITCH;
      shapes.set(boundary.id, {
        x: centreX - size.width / 2,
        y: bounds.y + bounds.height - size.height / 2,
        width: size.width,
        height: size.height,
      });
    });
  }

  const edges = new Map<string, Point[]>();
  for (const flow of flows) {
    edges.set(
      flow.id,
      route(flow, shapes, byId, (id) => layer.get(anchor(id)) ?? 0, columnX, columnWidth),
    );
  }
  return { shapes, edges };
}

/** Orthogonal waypoints: right side to left side through the gap after the source's column; loops run below. */
function route(
  flow: GraphFlow,
  shapes: Map<string, Bounds>,
  byId: Map<string, GraphNode>,
  layerOf: (id: string) => number,
  columnX: number[],
  columnWidth: number[],
): Point[] {
  const s = shapes.get(flow.source) as Bounds;
  const t = shapes.get(flow.target) as Bounds;
  const fromBoundary = byId.get(flow.source)?.attachedTo !== undefined;
  const sc = { x: s.x + s.width / 2, y: s.y + s.height / 2 };
  const tc = { x: t.x + t.width / 2, y: t.y + t.height / 2 };
  const sourceLayer = layerOf(flow.source);
  const forward = layerOf(flow.target) > sourceLayer;
  const points: Point[] = [];
  if (fromBoundary) {
    points.push({ x: sc.x, y: s.y + s.height }, { x: sc.x, y: s.y + s.height + 12 });
  } else if (forward) {
    points.push({ x: s.x + s.width, y: sc.y });
  } else {
    points.push({ x: sc.x, y: s.y + s.height });
  }
  const last = points[points.length - 1];
  if (forward) {
    const gapX = columnX[sourceLayer] + columnWidth[sourceLayer] + COLUMN_GAP / 2;
    if (last.y !== tc.y) {
      if (fromBoundary) points.push({ x: gapX, y: last.y });
      else points.push({ x: gapX, y: last.y });
      points.push({ x: gapX, y: tc.y });
    }
    points.push({ x: t.x, y: tc.y });
  } else {
    // Below both rows' shapes (and the boundary events hanging under them), then up into the target's bottom.
    const loopY = Math.max(s.y + s.height, t.y + t.height) + (ROW_HEIGHT - SIZES.task.height) / 2 - 10;
    const entryX = flow.source === flow.target || sc.x === tc.x ? tc.x - t.width / 4 : tc.x;
    if (last.y !== loopY) points.push({ x: last.x, y: loopY });
    points.push({ x: entryX, y: loopY }, { x: entryX, y: t.y + t.height });
  }
  return dedupe(points);
}

function dedupe(points: Point[]): Point[] {
  return points.filter((p, i) => i === 0 || p.x !== points[i - 1].x || p.y !== points[i - 1].y);
}
