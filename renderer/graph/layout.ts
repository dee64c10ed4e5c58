// Pure layout of a model's graph (graph-spec.ts) for any set of expanded module groups:
// positioned boxes (layers, graph inputs and outputs, collapsed groups), frames (expanded
// groups, drawn around their members) and edges (polylines with a tensor-shape label), top
// to bottom in topological order. Deterministic; runs in the layout worker
// (layout-worker.ts) and in tests, never needs the DOM.
//
// How, bottom-up like Model Explorer: every expanded group is laid out on its own, its
// direct members (layers, collapsed groups as boxes, expanded groups as frames of the size
// their own layout gave) in one layered layout by @dagrejs/dagre, then placed as a box in
// its parent's layout. An edge between members of different groups is routed in pieces:
// inside each group it leaves, from its member to the group's OUT port (a tiny virtual node
// under everything else); in the lowest group holding both ends, between the two members
// holding them; inside each group it enters, from the group's IN port to its member. The
// pieces join into one polyline; pieces shared by many edges are routed once.
//
// dagre grows faster than linearly (≈1.5 s for 1,000 nodes in one piece), so a large level
// (a flat model, a long encoder) is cut into chunks at "separators" — positions in
// topological order that every path crosses through one member (a chain's every node, the
// Add after a residual block) — each laid out on its own with the previous chunk's separator
// pinned on top, and stacked. Every dagre result is kept by the shape of its input (sizes
// and edges), so the 31 identical layers of a transformer cost one run, and expanding one
// more group re-runs dagre only for the levels that changed.
import dagre, { type GraphLabel } from '@dagrejs/dagre';
import type { GraphSpec, ItemKind, OpFamily } from './graph-spec.js';

export interface LaidOutNode {
  /** Item id (graph-spec.ts): layer i is id i, then inputs, outputs, groups. */
  id: number;
  kind: ItemKind;
  /** Layer index, input/output position, or group id. */
  index: number;
  label: string;
  sublabel: string;
  family: OpFamily;
  /** Centre and size, in layout units (CSS pixels at zoom 1). */
  x: number;
  y: number;
  width: number;
  height: number;
  /** Drawn as a box: false inside a collapsed group, and for an expanded group (a frame). */
  visible: boolean;
  /** Item id of the group holding it, -1 at the top level. */
  parent: number;
}

/** An expanded group: a rectangle around its members, its label in the top strip. */
export interface LaidOutFrame {
  /** Item id and group id. */
  id: number;
  group: number;
  label: string;
  /** Top-left corner and size. */
  x: number;
  y: number;
  width: number;
  height: number;
  depth: number;
}

export interface LaidOutEdge {
  /** Item ids of the boxes it joins (a collapsed group stands for everything inside it). */
  from: number;
  to: number;
  /** The first tensor it carries; `tensors` of GraphSpec.edges in all. */
  tensor: string;
  /** The tensor's shape, "+N" when it carries more than one. */
  label: string;
  /** Polyline, flat [x0, y0, x1, y1, ...], from the source's border to the target's. */
  points: number[];
  /** Where the label goes: the polyline's midpoint by length. */
  labelX: number;
  labelY: number;
  /** Bounding box of the points (culling). */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** Indices into GraphSpec.edges of the producer → consumer edges it stands for. */
  specEdges: number[];
}

export interface GraphLayout {
  /** The spec's key (the model id) and the expanded groups it was laid out with, sorted. */
  key: string;
  expanded: number[];
  /** Every item by id; only `visible` ones are drawn as boxes. */
  nodes: LaidOutNode[];
  /** Ids of the boxes drawn, in id order. */
  visible: number[];
  frames: LaidOutFrame[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
  /** Edge indices leaving / entering each item (keyboard navigation, selection highlight). */
  outgoing: number[][];
  incoming: number[][];
  /** How many pieces dagre laid out, and how many of them it actually ran (the rest were reused). */
  chunks: number;
  dagreRuns: number;
}

/** Room inside a frame around its members; the top strip holds the label. */
export const FRAME_PAD = { x: 12, top: 24, bottom: 10 } as const;
const MARGIN = 24;
/** Members per dagre run before the next separator may close a chunk. */
const CHUNK_TARGET = 48;
const PORT_SIZE = 2;
const DAGRE_OPTIONS: GraphLabel = { rankdir: 'TB', nodesep: 22, edgesep: 12, ranksep: 30, marginx: 0, marginy: 0 };
const ROOT = -1;
const IN = -2;
const OUT = -3;

/** Where dagre put a chunk's members and routed its edges, in the chunk's own coordinates. */
interface ChunkPlacement {
  /** Centre of each member, [x0, y0, x1, y1, ...] in chunk order, then the anchor's. */
  centres: number[];
  /** Polyline of each edge, in the order of the chunk's edge list. */
  routes: number[][];
}

/** dagre results by input shape, kept across layouts (in the worker, across requests). */
const placements = new Map<string, ChunkPlacement>();
const PLACEMENT_CACHE_SIZE = 4000;

interface LevelResult {
  /** Member item ids in layout order; IN and OUT for the ports. */
  members: number[];
  centres: number[];
  /** Route of each level edge, in the level's own coordinates. */
  routes: number[][];
  minX: number;
  minY: number;
  width: number;
  height: number;
}

interface Level {
  edges: Array<[number, number]>;
  byKey: Map<string, number>;
}

interface Stats {
  chunks: number;
  dagreRuns: number;
}

/** Lays out the spec with the given groups (group ids) expanded; see the file comment. */
export function layoutGraph(spec: GraphSpec, expandedGroups: Iterable<number>): GraphLayout {
  const { items } = spec;
  const count = items.length;
  const expanded = new Set<number>();
  for (const group of expandedGroups) if (spec.groupBase + group < count) expanded.add(group);
  const isOpen = (id: number) => items[id].kind === 'group' && expanded.has(items[id].index);

  // hiddenBy[id]: the outermost collapsed group holding the item, -1 when it is shown.
  const hiddenBy = new Int32Array(count).fill(-1);
  const resolve = (id: number) => {
    const parent = items[id].parent;
    if (parent < 0) return -1;
    if (hiddenBy[parent] >= 0) return hiddenBy[parent];
    return isOpen(parent) ? -1 : parent;
  };
  // Groups come in pre-order, parents first: settle them, then everything else.
  for (let id = spec.groupBase; id < count; id++) hiddenBy[id] = resolve(id);
  for (let id = 0; id < spec.groupBase; id++) hiddenBy[id] = resolve(id);
  const rep = (id: number) => (hiddenBy[id] >= 0 ? hiddenBy[id] : id);

  const children = new Map<number, number[]>();
  for (let id = 0; id < count; id++) {
    if (hiddenBy[id] >= 0) continue;
    const parent = items[id].parent;
    let list = children.get(parent);
    if (!list) children.set(parent, (list = []));
    list.push(id);
  }
  for (const list of children.values()) list.sort((a, b) => items[a].order - items[b].order || a - b);

  // Edges between shown boxes, merged per pair.
  const visibleEdges: Array<{ from: number; to: number; specEdges: number[]; segments: Array<[number, number]> }> = [];
  const edgeByPair = new Map<string, number>();
  spec.edges.forEach((edge, index) => {
    const from = rep(edge.from);
    const to = rep(edge.to);
    if (from === to) return;
    const key = `${from}>${to}`;
    const known = edgeByPair.get(key);
    if (known !== undefined) visibleEdges[known].specEdges.push(index);
    else {
      edgeByPair.set(key, visibleEdges.length);
      visibleEdges.push({ from, to, specEdges: [index], segments: [] });
    }
  });

  // Each edge's pieces, level by level.
  const levels = new Map<number, Level>();
  const levelEdge = (container: number, from: number, to: number): [number, number] => {
    let level = levels.get(container);
    if (!level) levels.set(container, (level = { edges: [], byKey: new Map() }));
    const key = `${from}>${to}`;
    let index = level.byKey.get(key);
    if (index === undefined) {
      index = level.edges.length;
      level.byKey.set(key, index);
      level.edges.push([from, to]);
    }
    return [container, index];
  };
  /** [container, the member of it holding the item] from the item's parent up to the root. */
  const chainOf = (id: number): Array<[number, number]> => {
    const chain: Array<[number, number]> = [];
    for (let member = id; ; member = items[member].parent) {
      chain.push([items[member].parent, member]);
      if (items[member].parent < 0) return chain;
    }
  };
  for (const edge of visibleEdges) {
    const up = chainOf(edge.from);
    const down = chainOf(edge.to);
    const downContainers = new Map(down.map(([container, member]) => [container, member]));
    const segments: Array<[number, number]> = [];
    for (const [container, member] of up) {
      const target = downContainers.get(container);
      if (target === undefined) {
        segments.push(levelEdge(container, member, OUT));
        continue;
      }
      segments.push(levelEdge(container, member, target));
      const lowest = down.findIndex(([c]) => c === container);
      for (let k = lowest - 1; k >= 0; k--) segments.push(levelEdge(down[k][0], IN, down[k][1]));
      break;
    }
    edge.segments = segments;
  }

  // Lay out the levels, deepest first, so a frame's size is known before its parent's layout.
  const depthOf = (id: number) => {
    let depth = 0;
    for (let p = items[id].parent; p >= 0; p = items[p].parent) depth++;
    return depth;
  };
  const containers = [...children.keys()].filter((c) => c === ROOT || isOpen(c));
  containers.sort((a, b) => (b === ROOT ? -1 : a === ROOT ? 1 : depthOf(b) - depthOf(a)));
  const stats: Stats = { chunks: 0, dagreRuns: 0 };
  const results = new Map<number, LevelResult>();
  for (const container of containers) {
    const level = levels.get(container) ?? { edges: [], byKey: new Map() };
    const kids = children.get(container) ?? [];
    const usesIn = level.edges.some(([from]) => from === IN);
    const usesOut = level.edges.some(([, to]) => to === OUT);
    const members = [...(usesIn ? [IN] : []), ...kids, ...(usesOut ? [OUT] : [])];
    const local = new Map(members.map((m, i) => [m, i]));
    const sizes = members.map((m): [number, number] => {
      if (m < 0) return [PORT_SIZE, PORT_SIZE];
      const frame = results.get(m);
      return frame ? [frame.width, frame.height] : [items[m].width, items[m].height];
    });
    const edges = level.edges.map(([from, to]): [number, number] => [local.get(from) ?? 0, local.get(to) ?? 0]);
    // Ports sit above and below everything: IN feeds every member without an input, every member without a consumer feeds OUT.
    const extra: Array<[number, number]> = [];
    const hasIncoming = new Set(edges.map(([, to]) => to));
    const hasOutgoing = new Set(edges.map(([from]) => from));
    members.forEach((m, i) => {
      if (m < 0) return;
      if (usesIn && !hasIncoming.has(i)) extra.push([0, i]);
      if (usesOut && !hasOutgoing.has(i)) extra.push([i, members.length - 1]);
    });
    const { centres, routes } = layoutLevel(sizes, edges, extra, stats);
    let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
    members.forEach((_, i) => {
      minX = Math.min(minX, centres[2 * i] - sizes[i][0] / 2);
      maxX = Math.max(maxX, centres[2 * i] + sizes[i][0] / 2);
      minY = Math.min(minY, centres[2 * i + 1] - sizes[i][1] / 2);
      maxY = Math.max(maxY, centres[2 * i + 1] + sizes[i][1] / 2);
    });
    for (const route of routes) {
      for (let k = 0; k < route.length; k += 2) {
        minX = Math.min(minX, route[k]);
        maxX = Math.max(maxX, route[k]);
      }
    }
    if (members.length === 0) [minX, minY, maxX, maxY] = [0, 0, 0, 0];
    const labelWidth = container >= 0 ? items[container].label.replace(/\d+/g, '00').length * 6.6 + 40 : 0;
    const innerWidth = Math.max(maxX - minX, labelWidth - 2 * FRAME_PAD.x);
    // Centre the members when the label makes the frame wider than they are.
    minX -= (innerWidth - (maxX - minX)) / 2;
    results.set(container, {
      members,
      centres,
      routes,
      minX,
      minY,
      width: container === ROOT ? innerWidth : innerWidth + 2 * FRAME_PAD.x,
      height: container === ROOT ? maxY - minY : maxY - minY + FRAME_PAD.top + FRAME_PAD.bottom
    });
  }

  // Place the levels, root first: every member's absolute centre, every level's offset.
  const nodes: LaidOutNode[] = items.map((item, id) => ({
    id,
    kind: item.kind,
    index: item.index,
    label: item.label,
    sublabel: item.sublabel,
    family: item.family,
    x: 0,
    y: 0,
    width: item.width,
    height: item.height,
    visible: hiddenBy[id] < 0 && !isOpen(id),
    parent: item.parent
  }));
  const frames: LaidOutFrame[] = [];
  const offsets = new Map<number, [number, number]>();
  const place = (container: number, ox: number, oy: number, depth: number) => {
    const result = results.get(container);
    if (!result) return;
    offsets.set(container, [ox, oy]);
    result.members.forEach((member, i) => {
      if (member < 0) return;
      const x = result.centres[2 * i] + ox;
      const y = result.centres[2 * i + 1] + oy;
      const node = nodes[member];
      node.x = x;
      node.y = y;
      const inner = results.get(member);
      if (!inner) return;
      node.width = inner.width;
      node.height = inner.height;
      const left = x - inner.width / 2;
      const top = y - inner.height / 2;
      frames.push({ id: member, group: items[member].index, label: items[member].label, x: left, y: top, width: inner.width, height: inner.height, depth });
      place(member, left + FRAME_PAD.x - inner.minX, top + FRAME_PAD.top - inner.minY, depth + 1);
    });
  };
  const root = results.get(ROOT);
  place(ROOT, -(root?.minX ?? 0), -(root?.minY ?? 0), 0);

  const edges: LaidOutEdge[] = visibleEdges.map((edge) => {
    const points: number[] = [];
    for (const [container, index] of edge.segments) {
      const route = results.get(container)?.routes[index] ?? [];
      const [ox, oy] = offsets.get(container) ?? [0, 0];
      for (let k = 0; k < route.length; k += 2) {
        const x = route[k] + ox;
        const y = route[k + 1] + oy;
        const last = points.length;
        if (last >= 2 && Math.abs(points[last - 2] - x) < 0.01 && Math.abs(points[last - 1] - y) < 0.01) continue;
        points.push(x, y);
      }
    }
    if (points.length < 4) {
      const [a, b] = [nodes[edge.from], nodes[edge.to]];
      points.splice(0, points.length, a.x, a.y + a.height / 2, b.x, b.y - b.height / 2);
    }
    const first = spec.edges[edge.specEdges[0]];
    const tensors = new Set(edge.specEdges.map((e) => spec.edges[e].tensor));
    const label = tensors.size > 1 ? `${first.label} +${tensors.size - 1}` : first.label;
    return polylineEdge(edge.from, edge.to, first.tensor, label, points, edge.specEdges);
  });

  const visible: number[] = [];
  nodes.forEach((node) => node.visible && visible.push(node.id));
  return finish(spec.key, [...expanded].sort((a, b) => a - b), nodes, visible, frames, edges, stats);
}

/** One level's members and edges → centres and routes, in chunks at separators (see the file comment). */
function layoutLevel(sizes: Array<[number, number]>, edges: Array<[number, number]>, extra: Array<[number, number]>, stats: Stats): { centres: number[]; routes: number[][] } {
  const count = sizes.length;
  const centres = new Array<number>(2 * count).fill(0);
  const routes: number[][] = edges.map(() => []);
  if (count === 0) return { centres, routes };
  const chunks = chunkAtSeparators(count, [...edges, ...extra]);
  stats.chunks += chunks.length;
  const hasConsumers = new Set([...edges, ...extra].map(([from]) => from));
  let anchor: number | null = null;
  for (const [start, end] of chunks) {
    // The chunk's members are start..end; its edges end inside it and start inside it or at the anchor.
    const inChunk = (i: number) => i >= start && i <= end;
    const localOf = (i: number) => (inChunk(i) ? i - start : end - start + 1);
    const chunkEdges: number[] = [];
    edges.forEach(([from, to], e) => {
      if (inChunk(to) && (inChunk(from) || from === anchor)) chunkEdges.push(e);
    });
    const edgeList = chunkEdges.map((e): [number, number] => [localOf(edges[e][0]), localOf(edges[e][1])]);
    const invisible: Array<[number, number]> = [];
    for (const [from, to] of extra) if (inChunk(to) && (inChunk(from) || from === anchor)) invisible.push([localOf(from), localOf(to)]);
    const size = end - start + 1;
    const hasIncoming = new Set([...edgeList, ...invisible].map(([, to]) => to));
    for (let i = 0; i < size; i++) {
      if (anchor !== null && !hasIncoming.has(i)) invisible.push([size, i]);
      if (i !== size - 1 && !hasConsumers.has(start + i)) invisible.push([i, size - 1]);
    }
    const chunkSizes = sizes.slice(start, end + 1);
    if (anchor !== null) chunkSizes.push(sizes[anchor]);
    const shape = JSON.stringify([chunkSizes, edgeList, invisible]);
    let placement = placements.get(shape);
    if (!placement) {
      placement = runDagre(chunkSizes, edgeList, invisible, anchor !== null);
      stats.dagreRuns++;
      if (placements.size >= PLACEMENT_CACHE_SIZE) placements.delete(placements.keys().next().value as string);
      placements.set(shape, placement);
    }
    let dx = 0;
    let dy = 0;
    if (anchor !== null) {
      dx = centres[2 * anchor] - placement.centres[2 * size];
      dy = centres[2 * anchor + 1] - placement.centres[2 * size + 1];
    }
    for (let i = 0; i < size; i++) {
      centres[2 * (start + i)] = placement.centres[2 * i] + dx;
      centres[2 * (start + i) + 1] = placement.centres[2 * i + 1] + dy;
    }
    const placed = placement;
    chunkEdges.forEach((e, k) => {
      routes[e] = placed.routes[k].map((value, j) => value + (j % 2 === 0 ? dx : dy));
    });
    anchor = end;
  }
  return { centres, routes };
}

/**
 * Splits 0..count-1 into ranges of at least CHUNK_TARGET members, each ending at a
 * separator: a position p such that every edge from at or before p to after p starts at p.
 */
function chunkAtSeparators(count: number, edges: Array<[number, number]>): Array<[number, number]> {
  const delta = new Int32Array(count + 1);
  for (const [a, b] of edges) {
    if (b <= a) return [[0, count - 1]]; // not topological: do not risk a wrong stacking
    delta[a + 1]++;
    delta[b]--;
  }
  const chunks: Array<[number, number]> = [];
  let start = 0;
  let blocked = 0;
  for (let p = 0; p < count; p++) {
    blocked += delta[p];
    const isLast = p === count - 1;
    if (isLast || (p - start + 1 >= CHUNK_TARGET && blocked === 0 && count - p > CHUNK_TARGET / 4)) {
      chunks.push([start, p]);
      start = p + 1;
    }
  }
  return chunks;
}

interface DagreNodeLabel {
  width: number;
  height: number;
  x?: number;
  y?: number;
}

interface DagreEdgeLabel {
  points?: { x: number; y: number }[];
}

function runDagre(sizes: Array<[number, number]>, edgeList: Array<[number, number]>, invisible: Array<[number, number]>, hasAnchor: boolean): ChunkPlacement {
  const graph = new dagre.graphlib.Graph<GraphLabel, DagreNodeLabel, DagreEdgeLabel>({ multigraph: true });
  graph.setGraph({ ...DAGRE_OPTIONS });
  sizes.forEach(([width, height], i) => graph.setNode(String(i), { width, height }));
  edgeList.forEach(([from, to], e) => graph.setEdge(String(from), String(to), {}, `e${e}`));
  invisible.forEach(([from, to], e) => graph.setEdge(String(from), String(to), {}, `i${e}`));
  dagre.layout(graph);
  const centres: number[] = [];
  sizes.forEach((_, i) => {
    const placed = graph.node(String(i));
    centres.push(placed.x ?? 0, placed.y ?? 0);
  });
  const routes = edgeList.map(([from, to], e) => (graph.edge(String(from), String(to), `e${e}`)?.points ?? []).flatMap((p) => [p.x, p.y]));
  if (hasAnchor) shearUpright(centres, routes, sizes.length - 1, sizes.length - 2);
  return { centres, routes };
}

/**
 * dagre may put a chunk's closing separator a little left or right of its anchor; stacked
 * chunk after chunk, that offset would add up and slant a deep model across the screen.
 * A horizontal shear proportional to depth puts the separator straight below the anchor.
 * It moves every box of one rank by the same amount, so nothing comes to overlap.
 */
function shearUpright(centres: number[], routes: number[][], top: number, bottom: number): void {
  const [topX, topY, bottomX, bottomY] = [centres[2 * top], centres[2 * top + 1], centres[2 * bottom], centres[2 * bottom + 1]];
  if (bottomY - topY < 1) return;
  const slope = (bottomX - topX) / (bottomY - topY);
  const shear = (values: number[]) => {
    for (let k = 0; k < values.length; k += 2) values[k] -= slope * (values[k + 1] - topY);
  };
  shear(centres);
  routes.forEach(shear);
}

function polylineEdge(from: number, to: number, tensor: string, label: string, points: number[], specEdges: number[]): LaidOutEdge {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < points.length; i += 2) {
    minX = Math.min(minX, points[i]);
    maxX = Math.max(maxX, points[i]);
    minY = Math.min(minY, points[i + 1]);
    maxY = Math.max(maxY, points[i + 1]);
  }
  const [labelX, labelY] = midpointByLength(points);
  return { from, to, tensor, label, points, labelX, labelY, minX, minY, maxX, maxY, specEdges };
}

function midpointByLength(points: number[]): [number, number] {
  if (points.length < 2) return [0, 0];
  let total = 0;
  for (let i = 2; i < points.length; i += 2) total += Math.hypot(points[i] - points[i - 2], points[i + 1] - points[i - 1]);
  let remaining = total / 2;
  for (let i = 2; i < points.length; i += 2) {
    const length = Math.hypot(points[i] - points[i - 2], points[i + 1] - points[i - 1]);
    if (remaining <= length && length > 0) {
      const t = remaining / length;
      return [points[i - 2] + (points[i] - points[i - 2]) * t, points[i - 1] + (points[i + 1] - points[i - 1]) * t];
    }
    remaining -= length;
  }
  return [points[0], points[1]];
}

/** Moves everything so the top-left corner sits at the margin, and indexes edges by item. */
function finish(key: string, expanded: number[], nodes: LaidOutNode[], visible: number[], frames: LaidOutFrame[], edges: LaidOutEdge[], stats: Stats): GraphLayout {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const grow = (left: number, top: number, right: number, bottom: number) => {
    minX = Math.min(minX, left);
    minY = Math.min(minY, top);
    maxX = Math.max(maxX, right);
    maxY = Math.max(maxY, bottom);
  };
  for (const id of visible) {
    const n = nodes[id];
    grow(n.x - n.width / 2, n.y - n.height / 2, n.x + n.width / 2, n.y + n.height / 2);
  }
  for (const f of frames) grow(f.x, f.y, f.x + f.width, f.y + f.height);
  for (const e of edges) grow(e.minX, e.minY, e.maxX, e.maxY);
  const outgoing: number[][] = nodes.map(() => []);
  const incoming: number[][] = nodes.map(() => []);
  const base = { key, expanded, nodes, visible, frames, edges, outgoing, incoming, chunks: stats.chunks, dagreRuns: stats.dagreRuns };
  if (visible.length === 0) return { ...base, width: 0, height: 0 };
  const dx = MARGIN - minX;
  const dy = MARGIN - minY;
  for (const n of nodes) {
    n.x += dx;
    n.y += dy;
  }
  for (const f of frames) {
    f.x += dx;
    f.y += dy;
  }
  edges.forEach((e, i) => {
    for (let p = 0; p < e.points.length; p += 2) {
      e.points[p] += dx;
      e.points[p + 1] += dy;
    }
    e.labelX += dx;
    e.labelY += dy;
    e.minX += dx;
    e.maxX += dx;
    e.minY += dy;
    e.maxY += dy;
    outgoing[e.from].push(i);
    incoming[e.to].push(i);
  });
  // Frames outermost first, so that drawing them in order nests them.
  frames.sort((a, b) => a.depth - b.depth || a.id - b.id);
  return { ...base, width: maxX - minX + 2 * MARGIN, height: maxY - minY + 2 * MARGIN };
}
