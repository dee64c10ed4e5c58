// Pure layout of a model's graph for GraphView: ModelView → positioned boxes (nodes, plus
// the graph's inputs and outputs) and edges (polylines with a tensor-shape label each),
// top to bottom in topological order. Deterministic: the same model gives the same layout.
//
// How: @dagrejs/dagre (layered, Sugiyama-style) does the ranking, crossing reduction and
// positioning. dagre grows faster than linearly (≈1.5 s for the 1,026-node transformer in
// one piece), so the graph is first cut into chunks at "separators" — positions in
// topological order that every path crosses through one node (a chain's every node, the
// Add after a residual block, the Concat closing an Inception module, the LayerNorm after a
// transformer block). Each chunk is laid out by dagre on its own, with the previous chunk's
// separator pinned as its top node, and stacked so that the two copies of the separator
// coincide; chunks of the same shape (a transformer's layers) reuse one dagre result. A
// graph without separators (one long skip connection over everything) is laid out by
// dagre in one piece, which costs about 1.5 s per 1,000 nodes. GraphView caches the result
// per model, so each model is laid out once per session.
import dagre, { type GraphLabel } from '@dagrejs/dagre';
import type { ModelView, NodeView, TensorView } from '../../app/studio/model-view.js';
import { formatShape } from '../format.js';

export type OpFamily = 'conv' | 'pool' | 'fc' | 'activation' | 'norm' | 'elementwise' | 'shape' | 'other' | 'io';

export const OP_FAMILIES: readonly OpFamily[] = ['conv', 'pool', 'fc', 'activation', 'norm', 'elementwise', 'shape', 'other', 'io'];

export interface LaidOutNode {
  /** Position in GraphLayout.nodes: model node i is id i; then the graph inputs, then the graph outputs. */
  id: number;
  kind: 'node' | 'input' | 'output';
  /** The model node's index for 'node'; the position in ModelView.inputs / outputs otherwise. */
  index: number;
  /** Op type, or the tensor name for an input or output. */
  label: string;
  /** Second line: a short form of the node's name, or the tensor's shape for inputs and outputs. */
  sublabel: string;
  family: OpFamily;
  /** Centre and size, in layout units (CSS pixels at zoom 1). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge {
  from: number;
  to: number;
  tensor: string;
  /** The tensor's shape, e.g. "1×64×55×55". */
  label: string;
  /** Polyline through dagre's control points, flat [x0, y0, x1, y1, ...], from the source's border to the target's. */
  points: number[];
  /** Where the label goes: the polyline's midpoint by length. */
  labelX: number;
  labelY: number;
  /** Bounding box of the points (culling). */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export interface GraphLayout {
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  width: number;
  height: number;
  /** Edge ids leaving / entering each layout node (keyboard navigation, selection highlight). */
  outgoing: number[][];
  incoming: number[][];
  /** How many pieces dagre laid out (1 for a graph without separators). */
  chunks: number;
}

export const NODE_HEIGHT = 34;
const IO_HEIGHT = 30;
const MARGIN = 24;
/** Nodes per dagre run before the next separator may close a chunk. */
const CHUNK_TARGET = 48;
const DAGRE_OPTIONS: GraphLabel = { rankdir: 'TB', nodesep: 22, edgesep: 12, ranksep: 30, marginx: 0, marginy: 0 };

const FAMILY_OF_OP = new Map<string, OpFamily>();
const family = (name: OpFamily, ops: string) => ops.split(/\s+/).filter(Boolean).forEach((op) => FAMILY_OF_OP.set(op, name));
family('conv', 'Conv ConvTranspose ConvInteger QLinearConv DeformConv');
family('pool', 'MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxRoiPool RoiAlign MaxUnpool');
family('fc', 'Gemm MatMul MatMulInteger QLinearMatMul Einsum FusedMatMul Attention MultiHeadAttention');
family(
  'activation',
  'Relu LeakyRelu PRelu Sigmoid Tanh Softmax LogSoftmax Elu Selu Celu Gelu FastGelu BiasGelu HardSigmoid HardSwish Softplus Softsign Mish Clip Erf ThresholdedRelu Hardmax Swish QuickGelu'
);
family(
  'norm',
  'BatchNormalization LayerNormalization InstanceNormalization GroupNormalization LRN LpNormalization MeanVarianceNormalization RMSNormalization SimplifiedLayerNormalization SkipLayerNormalization SkipSimplifiedLayerNormalization'
);
family(
  'elementwise',
  'Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Max Min Sum Mean Where Equal Less LessOrEqual Greater GreaterOrEqual And Or Xor Not Cast CastLike Ceil Floor Round Sign Mod BitShift ' +
    'ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceSumSquare ArgMax ArgMin CumSum Sin Cos IsNaN IsInf'
);
family(
  'shape',
  'Reshape Transpose Flatten Squeeze Unsqueeze Concat Split Slice Gather GatherElements GatherND Shape Size Expand Tile Pad Resize Upsample DepthToSpace SpaceToDepth ' +
    'Identity Constant ConstantOfShape Range ScatterND ScatterElements Scatter Trilu OneHot NonZero TopK Compress'
);

/** Which colour family an op belongs to (unknown ops: 'other'). */
export function opFamily(opType: string): OpFamily {
  return FAMILY_OF_OP.get(opType) ?? 'other';
}

/** "/encoder/layer.0/attention/self/query/MatMul" → "self/query"; "/features/features.0/Conv" → "features.0". */
export function shortNodeName(name: string, opType: string): string {
  const segments = name.split('/').filter((s) => s !== '');
  if (segments.length > 1 && segments[segments.length - 1] === opType) segments.pop();
  if (segments.length === 0) return name;
  const last = segments[segments.length - 1];
  const parent = segments.length > 1 ? segments[segments.length - 2] : null;
  return parent !== null && !last.startsWith(parent) ? `${parent}/${last}` : last;
}

/**
 * Box width for a label pair, estimated from character counts (the layout has no canvas to
 * measure with). Every number counts as two digits, so that repeated blocks whose names
 * differ only in their numbers ("layer.9" / "layer.10") have the same shape and share one
 * dagre run; a longer number is ellipsised when drawn if it does not fit.
 */
function boxWidth(label: string, sublabel: string): number {
  const sublabelLength = Math.min(sublabel.replace(/\d+/g, '00').length, 26);
  const estimate = Math.max(label.length * 7.2, sublabelLength * 5.6) + 22;
  return Math.min(200, Math.max(72, Math.ceil(estimate / 4) * 4));
}

interface EdgeSpec {
  from: number;
  to: number;
  tensor: TensorView;
}

/** Lays out a model's graph; see the file comment for how. */
export function layoutModel(model: ModelView): GraphLayout {
  const nodeCount = model.nodes.length;
  const inputBase = nodeCount;
  const outputBase = nodeCount + model.inputs.length;
  const nodes: LaidOutNode[] = [];

  for (const node of model.nodes) {
    const sublabel = shortNodeName(node.name, node.opType);
    nodes.push({ id: node.index, kind: 'node', index: node.index, label: node.opType, sublabel, family: opFamily(node.opType), x: 0, y: 0, width: boxWidth(node.opType, sublabel), height: NODE_HEIGHT });
  }
  model.inputs.forEach((tensor, i) => nodes.push(ioNode(inputBase + i, 'input', i, tensor)));
  model.outputs.forEach((tensor, i) => nodes.push(ioNode(outputBase + i, 'output', i, tensor)));

  const specs = edgeSpecs(model, inputBase, outputBase);
  const order = topologicalOrder(model, inputBase, outputBase);
  const chunks = chunkAtSeparators(order, specs, nodes.length);

  const laidOut = new Map<string, LaidOutEdge>();
  const hasConsumers = new Set(specs.map((s) => s.from));
  const placements = new Map<string, ChunkPlacement>();
  let previousSeparator: number | null = null;
  for (const chunk of chunks) {
    layoutChunk(chunk, previousSeparator, specs, hasConsumers, nodes, placements, laidOut);
    previousSeparator = chunk[chunk.length - 1];
  }

  const edges = specs.map((spec) => laidOut.get(edgeKey(spec)) ?? straightEdge(spec, nodes));
  return finish(nodes, edges, chunks.length);
}

function ioNode(id: number, kind: 'input' | 'output', index: number, tensor: TensorView): LaidOutNode {
  const sublabel = formatShape(tensor.shape);
  return { id, kind, index, label: tensor.name, sublabel, family: 'io', x: 0, y: 0, width: boxWidth(tensor.name, sublabel), height: IO_HEIGHT };
}

/** One edge per (producer, consumer, tensor): node outputs and graph inputs to the nodes reading them, producers to graph outputs. */
function edgeSpecs(model: ModelView, inputBase: number, outputBase: number): EdgeSpec[] {
  const inputIds = new Map(model.inputs.map((t, i) => [t.name, inputBase + i]));
  const specs: EdgeSpec[] = [];
  const seen = new Set<string>();
  const add = (spec: EdgeSpec) => {
    const key = edgeKey(spec);
    if (seen.has(key)) return;
    seen.add(key);
    specs.push(spec);
  };
  const visit = (node: NodeView) => {
    for (const tensor of node.inputs) {
      if (tensor.isWeight) continue;
      const from = tensor.producer >= 0 ? tensor.producer : inputIds.get(tensor.name);
      if (from !== undefined && from !== node.index) add({ from, to: node.index, tensor });
    }
  };
  model.nodes.forEach(visit);
  model.outputs.forEach((tensor, i) => {
    const from = tensor.producer >= 0 ? tensor.producer : inputIds.get(tensor.name);
    if (from !== undefined) add({ from, to: outputBase + i, tensor });
  });
  return specs;
}

const edgeKey = (spec: EdgeSpec) => `${spec.from}>${spec.to}>${spec.tensor.name}`;

/** Inputs first, then nodes in file order (ONNX requires it topological), each graph output right after its producer. */
function topologicalOrder(model: ModelView, inputBase: number, outputBase: number): number[] {
  const outputsAfter = new Map<number, number[]>();
  const trailing: number[] = [];
  model.outputs.forEach((tensor, i) => {
    if (tensor.producer >= 0) outputsAfter.set(tensor.producer, [...(outputsAfter.get(tensor.producer) ?? []), outputBase + i]);
    else trailing.push(outputBase + i);
  });
  const order: number[] = model.inputs.map((_, i) => inputBase + i);
  for (const node of model.nodes) order.push(node.index, ...(outputsAfter.get(node.index) ?? []));
  return [...order, ...trailing];
}

/**
 * Splits the order into chunks of at least CHUNK_TARGET items, each ending at a separator:
 * a position p such that every edge from at or before p to after p starts at p itself.
 */
function chunkAtSeparators(order: number[], specs: EdgeSpec[], idCount: number): number[][] {
  const position = new Int32Array(idCount);
  order.forEach((id, p) => (position[id] = p));
  // blocked[p] > 0: some edge jumps over position p, so p cannot separate.
  const delta = new Int32Array(order.length + 1);
  for (const { from, to } of specs) {
    const a = position[from];
    const b = position[to];
    if (b <= a) return [order]; // not topological: do not risk a wrong stacking
    delta[a + 1]++;
    delta[b]--;
  }
  const chunks: number[][] = [];
  let start = 0;
  let blocked = 0;
  for (let p = 0; p < order.length; p++) {
    blocked += delta[p];
    const isLast = p === order.length - 1;
    if (isLast || (p - start + 1 >= CHUNK_TARGET && blocked === 0 && order.length - p > CHUNK_TARGET / 4)) {
      chunks.push(order.slice(start, p + 1));
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

/** Where dagre put a chunk's boxes and routed its edges, in the chunk's own coordinates. */
interface ChunkPlacement {
  /** Centre of each member, [x0, y0, x1, y1, ...] in chunk order, then the anchor's. */
  centres: number[];
  /** Polyline of each edge, in the order of the chunk's edge list. */
  routes: number[][];
}

/**
 * Lays out one chunk, then moves it so its pinned copy of the previous separator sits on
 * the original. Chunks with the same shape (the layers of a transformer, the blocks of a
 * ResNet stage) get the same dagre result, so each shape is laid out once per model.
 */
function layoutChunk(
  chunk: number[],
  anchorId: number | null,
  specs: EdgeSpec[],
  hasConsumers: Set<number>,
  nodes: LaidOutNode[],
  placements: Map<string, ChunkPlacement>,
  out: Map<string, LaidOutEdge>
): void {
  const local = new Map(chunk.map((id, i) => [id, i]));
  const anchorLocal = chunk.length;
  const chunkSpecs = specs.filter((s) => local.has(s.to) && (local.has(s.from) || s.from === anchorId));
  const edgeList: [number, number][] = chunkSpecs.map((s) => [local.get(s.from) ?? anchorLocal, local.get(s.to) ?? 0]);
  // Keep the chunk between its two separators: sources hang below the anchor, sinks feed the closing separator.
  const hasIncoming = new Set(edgeList.map(([, to]) => to));
  const invisible: [number, number][] = [];
  chunk.forEach((id, i) => {
    if (anchorId !== null && !hasIncoming.has(i)) invisible.push([anchorLocal, i]);
    if (i !== chunk.length - 1 && !hasConsumers.has(id)) invisible.push([i, chunk.length - 1]);
  });
  const sizes = chunk.map((id) => [nodes[id].width, nodes[id].height]);
  if (anchorId !== null) sizes.push([nodes[anchorId].width, nodes[anchorId].height]);
  const shape = JSON.stringify([sizes, edgeList, invisible]);

  let placement = placements.get(shape);
  if (!placement) {
    placement = runDagre(sizes, edgeList, invisible, anchorId !== null);
    placements.set(shape, placement);
  }

  const { centres, routes } = placement;
  let dx = 0;
  let dy = 0;
  if (anchorId !== null) {
    dx = nodes[anchorId].x - centres[2 * anchorLocal];
    dy = nodes[anchorId].y - centres[2 * anchorLocal + 1];
  }
  chunk.forEach((id, i) => {
    nodes[id].x = centres[2 * i] + dx;
    nodes[id].y = centres[2 * i + 1] + dy;
  });
  chunkSpecs.forEach((spec, e) => {
    const points = routes[e].map((value, k) => value + (k % 2 === 0 ? dx : dy));
    out.set(edgeKey(spec), polylineEdge(spec, points));
  });
}

function runDagre(sizes: number[][], edgeList: [number, number][], invisible: [number, number][], hasAnchor: boolean): ChunkPlacement {
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

function polylineEdge(spec: EdgeSpec, points: number[]): LaidOutEdge {
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
  return { from: spec.from, to: spec.to, tensor: spec.tensor.name, label: formatShape(spec.tensor.shape), points, labelX, labelY, minX, minY, maxX, maxY };
}

/** Fallback for an edge dagre did not route (cannot happen for a topological graph): a straight line between the boxes. */
function straightEdge(spec: EdgeSpec, nodes: LaidOutNode[]): LaidOutEdge {
  const a = nodes[spec.from];
  const b = nodes[spec.to];
  return polylineEdge(spec, [a.x, a.y + a.height / 2, b.x, b.y - b.height / 2]);
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

/** Moves everything so the top-left corner sits at the margin, and indexes edges by node. */
function finish(nodes: LaidOutNode[], edges: LaidOutEdge[], chunks: number): GraphLayout {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const n of nodes) {
    minX = Math.min(minX, n.x - n.width / 2);
    maxX = Math.max(maxX, n.x + n.width / 2);
    minY = Math.min(minY, n.y - n.height / 2);
    maxY = Math.max(maxY, n.y + n.height / 2);
  }
  for (const e of edges) {
    minX = Math.min(minX, e.minX);
    maxX = Math.max(maxX, e.maxX);
    minY = Math.min(minY, e.minY);
    maxY = Math.max(maxY, e.maxY);
  }
  if (nodes.length === 0) return { nodes, edges, width: 0, height: 0, outgoing: [], incoming: [], chunks };
  const dx = MARGIN - minX;
  const dy = MARGIN - minY;
  for (const n of nodes) {
    n.x += dx;
    n.y += dy;
  }
  const outgoing: number[][] = nodes.map(() => []);
  const incoming: number[][] = nodes.map(() => []);
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
  return { nodes, edges, width: maxX - minX + 2 * MARGIN, height: maxY - minY + 2 * MARGIN, outgoing, incoming, chunks };
}

/** Indices of the model nodes whose name or op type contains the query (case-insensitive); empty for an empty query. */
export function searchNodes(model: ModelView, query: string): number[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') return [];
  return model.nodes.filter((n) => n.name.toLowerCase().includes(needle) || n.opType.toLowerCase().includes(needle)).map((n) => n.index);
}
