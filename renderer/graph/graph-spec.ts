// What the graph lays out, before any position: the model view's layers, graph inputs and
// outputs, and the module groups (app/studio/module-tree.ts) as items with a label, a size
// and a parent group, plus the producer → consumer edges with their tensor's shape. Built
// on the page in O(nodes + edges) and sent once per model to the layout worker
// (layout-worker.ts), which turns it into positions for any set of expanded groups
// (layout.ts). Plain data, so it crosses postMessage as is.
//
// Item ids: layer i is id i; then the graph inputs, the graph outputs, and the groups
// (group g is groupBase + g). GraphLayout.nodes is indexed by the same ids.
import type { ModelView, NodeView, TensorView } from '../../app/studio/model-view.js';
import { groupSize, moduleTree, type ModuleTree } from '../../app/studio/module-tree.js';
import { formatShape } from '../format.js';

export type OpFamily = 'conv' | 'pool' | 'fc' | 'activation' | 'norm' | 'elementwise' | 'shape' | 'other' | 'io' | 'group';

export const OP_FAMILIES: readonly OpFamily[] = ['conv', 'pool', 'fc', 'activation', 'norm', 'elementwise', 'shape', 'other', 'io', 'group'];

export type ItemKind = 'node' | 'input' | 'output' | 'group';

export interface ItemSpec {
  kind: ItemKind;
  /** Layer index for 'node', position in ModelView.inputs / outputs, or the group id. */
  index: number;
  /** Op type, tensor name, or group label. */
  label: string;
  /** Second line: a short node name, the tensor's shape, or "12 layers". */
  sublabel: string;
  family: OpFamily;
  width: number;
  height: number;
  /** Item id of the group holding it, -1 at the top level. */
  parent: number;
  /** Sort key in topological order among siblings (see graphSpec). */
  order: number;
}

export interface EdgeSpec {
  from: number;
  to: number;
  tensor: string;
  /** The tensor's shape, e.g. "1×64×55×55". */
  label: string;
}

export interface GraphSpec {
  /** The model id: the worker keeps specs by it. */
  key: string;
  layerCount: number;
  /** Id of group 0. */
  groupBase: number;
  items: ItemSpec[];
  edges: EdgeSpec[];
}

export const NODE_HEIGHT = 34;
export const IO_HEIGHT = 30;
export const GROUP_HEIGHT = 50;

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

/** Indices of the model nodes whose name or op type contains the query (case-insensitive); empty for an empty query. */
export function searchNodes(model: ModelView, query: string): number[] {
  const needle = query.trim().toLowerCase();
  if (needle === '') return [];
  return model.nodes.filter((n) => n.name.toLowerCase().includes(needle) || n.opType.toLowerCase().includes(needle)).map((n) => n.index);
}

/**
 * Box width for a label pair, estimated from character counts (the worker has no canvas to
 * measure with). Every number counts as two digits, so that repeated blocks whose names
 * differ only in their numbers ("layer.9" / "layer.10") have the same shape and share one
 * dagre run; a longer number is ellipsised when drawn if it does not fit.
 */
export function boxWidth(label: string, sublabel: string, min = 72, max = 200): number {
  const sublabelLength = Math.min(sublabel.replace(/\d+/g, '00').length, 26);
  const estimate = Math.max(label.replace(/\d+/g, '00').length * 7.2, sublabelLength * 5.6) + 22;
  return Math.min(max, Math.max(min, Math.ceil(estimate / 4) * 4));
}

/** The spec of a model view with its module tree (built here when not given). */
export function graphSpec(model: ModelView, tree: ModuleTree = moduleTree(model.nodes.map((n) => n.name))): GraphSpec {
  const layerCount = model.nodes.length;
  const inputBase = layerCount;
  const outputBase = inputBase + model.inputs.length;
  const groupBase = outputBase + model.outputs.length;
  const items: ItemSpec[] = [];
  const groupItem = (group: number) => (group < 0 ? -1 : groupBase + group);

  for (const node of model.nodes) {
    const sublabel = shortNodeName(node.name, node.opType);
    items.push({ kind: 'node', index: node.index, label: node.opType, sublabel, family: opFamily(node.opType), width: boxWidth(node.opType, sublabel), height: NODE_HEIGHT, parent: groupItem(tree.groupOf[node.index]), order: node.index });
  }
  model.inputs.forEach((tensor, i) => items.push(ioItem('input', i, tensor, -1)));
  const producers = new Map<string, number>();
  for (const node of model.nodes) for (const output of node.outputs) producers.set(output.name, node.index);
  model.outputs.forEach((tensor, i) => {
    const producer = tensor.producer >= 0 ? tensor.producer : (producers.get(tensor.name) ?? -1);
    items.push(ioItem('output', i, tensor, producer >= 0 ? producer + 0.5 : layerCount));
  });
  for (const group of tree.groups) {
    const sublabel = `${groupSize(group)} layers`;
    // Room for the summary line the drawing adds ("1.23 G MACs · 4.5 M params").
    const width = boxWidth(group.label, sublabel, 184, 240);
    items.push({ kind: 'group', index: group.id, label: group.label, sublabel, family: 'group', width, height: GROUP_HEIGHT, parent: groupItem(group.parent), order: group.first - 0.25 });
  }
  return { key: model.id, layerCount, groupBase, items, edges: edgeSpecs(model, inputBase, outputBase) };
}

function ioItem(kind: 'input' | 'output', index: number, tensor: TensorView, order: number): ItemSpec {
  const sublabel = formatShape(tensor.shape);
  return { kind, index, label: tensor.name, sublabel, family: 'io', width: boxWidth(tensor.name, sublabel), height: IO_HEIGHT, parent: -1, order };
}

/** One edge per (producer, consumer, tensor): node outputs and graph inputs to the nodes reading them, producers to graph outputs. */
function edgeSpecs(model: ModelView, inputBase: number, outputBase: number): EdgeSpec[] {
  const inputIds = new Map(model.inputs.map((t, i) => [t.name, inputBase + i]));
  const specs: EdgeSpec[] = [];
  const seen = new Set<string>();
  const add = (from: number, to: number, tensor: TensorView) => {
    const key = `${from}>${to}>${tensor.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    specs.push({ from, to, tensor: tensor.name, label: formatShape(tensor.shape) });
  };
  const visit = (node: NodeView) => {
    for (const tensor of node.inputs) {
      if (tensor.isWeight) continue;
      const from = tensor.producer >= 0 ? tensor.producer : inputIds.get(tensor.name);
      if (from !== undefined && from !== node.index) add(from, node.index, tensor);
    }
  };
  model.nodes.forEach(visit);
  model.outputs.forEach((tensor, i) => {
    const from = tensor.producer >= 0 ? tensor.producer : inputIds.get(tensor.name);
    if (from !== undefined) add(from, outputBase + i, tensor);
  });
  return specs;
}
