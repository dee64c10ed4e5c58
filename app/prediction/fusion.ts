// Kernels, not layers: which groups of a model's layers onnxruntime runs as ONE kernel at
// a graph-optimisation level, so that prediction can cost what the runtime executes (the
// approach of nn-Meter, MobiSys 2021: detect the backend's fusion rules by testing them,
// then predict per kernel).
//
// FUSION_PATTERNS is the catalogue of candidate patterns, each described twice: as a
// small graph shape this module matches in any model (`nodes`: op types, and which
// earlier pattern nodes feed each one; or, for `siblings`, nodes that all read one value),
// and as a tiny model that main/profiling/fusion-probe.ts builds and runs on onnxruntime at
// each level to see whether the runtime really fuses it, and into which kernel. What the probe finds is a
// FusionRules document (resources/fusion-rules.json, with the onnxruntime version it was
// found on); `kernelGroups` applies only the patterns those rules say are fused.
//
// A matched group's time is predicted as `predictAs` says: 'anchor' (the own regression of
// the group's node with the most MACs — Conv+BatchNorm+Relu runs as one convolution whose
// epilogue does the rest, Transpose+MatMul as one MatMul reading K transposed), or as one
// op of the given type over the group's output (a LayerNorm built from ReduceMean, Sub,
// Pow, … runs as one LayerNormalization kernel; sibling Slices as one Split over their
// bytes). predict.ts then splits the kernel's time among the layers it replaced in
// proportion to their work, as the profiler does (app/profiling/trace.ts nodeWork).
import type { LayerAnalysis, ModelAnalysis } from '../analysis/types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { defaultOpset, type Dim, type OnnxModel, type OnnxNode } from '../onnx/model.js';
import { smallConstants } from './eliminated.js';
import { isStatic } from '../analysis/shape-math.js';
import type { GraphOptimization } from '../profiling/types.js';

/** One node of a pattern: its op types, and the earlier pattern nodes (by position) whose outputs it reads. */
export interface PatternNode {
  ops: readonly string[];
  from?: readonly number[];
}

export interface FusionPattern {
  id: string;
  description: string;
  nodes: readonly PatternNode[];
  /** How the fused kernel is costed: its heaviest node's own regression (by MACs), or one op of this type over the group's output. */
  predictAs: 'anchor' | 'LayerNormalization' | 'SkipLayerNormalization' | 'Gelu' | 'HardSwish' | 'Sigmoid' | 'Split';
  /**
   * The pattern's nodes do not read each other: they all read one value, as their first
   * input (Slices of one tensor that onnxruntime merges into a Split). siblingSplits matches
   * it, not the chain matcher.
   */
  siblings?: true;
  /**
   * 'gemm': the MatMul and Add become a Gemm only as onnxruntime 1.30's MatMulAddFusion
   * allows (matmulAddFuses): tried on MatMul → Add of a weight, of an activation, with
   * inputs of rank 2 and 3, static and symbolic.
   */
  condition?: 'gemm';
  /**
   * Probed and recorded, never grouped: a pattern whose kernels are better found by the
   * smaller patterns inside it (the probe shows what the runtime makes of the whole).
   */
  probeOnly?: boolean;
  /** The probe's tiny model: input shape and the pattern applied to it (its nodes last, in pattern order), giving its output or outputs. */
  probe: { input: number[]; build: (b: GraphBuilder, x: string) => string | string[] };
}

/** What the probe found for one pattern on one runtime, at one level. */
export interface FusionRule {
  id: string;
  description: string;
  /** The pattern's op types, in order. */
  ops: string[];
  /** True when the pattern's nodes ran as one kernel (besides layout reorders), or were folded into a neighbour. */
  fused: boolean;
  /** The kernels that ran for the pattern's nodes (op types as the trace names them), layout reorders included. */
  kernels: string[];
  /** Pattern nodes no kernel computes any more (e.g. a BatchNormalization folded into the Conv's weights). */
  folded: string[];
}

export interface FusionRules {
  kind: 'fusion-rules';
  /** The onnxruntime version the rules were found on (onnxruntime-node's). */
  runtime: string;
  ep: string;
  date: string;
  levels: Partial<Record<GraphOptimization, FusionRule[]>>;
}

const scalar = (b: GraphBuilder, name: string, value: number): string => b.constantFloat(name, [], new Float32Array([value]));
const conv = (b: GraphBuilder, x: string, group = 1): string => b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1, group });
const activations = ['Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'LeakyRelu', 'Tanh', 'HardSwish'] as const;

function activation(b: GraphBuilder, op: (typeof activations)[number], x: string): string {
  if (op === 'Clip') return b.relu6(x);
  if (op === 'LeakyRelu') return b.op(op, [x], { alpha: { float: 0.01 } });
  return b.op(op, [x]);
}

function decomposedLayerNorm(b: GraphBuilder, x: string, features: number): string {
  const mean = b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
  const centred = b.op('Sub', [x, mean]);
  const squared = b.op('Pow', [centred, scalar(b, '/ln.two', 2)]);
  const variance = b.op('ReduceMean', [squared], { axes: [-1], keepdims: 1 });
  const std = b.op('Sqrt', [b.op('Add', [variance, scalar(b, '/ln.eps', 1e-5)])]);
  const normed = b.op('Div', [centred, std]);
  const scaled = b.op('Mul', [normed, b.constantFloat('/ln.weight', [features], new Float32Array(features).fill(1))]);
  return b.op('Add', [scaled, b.constantFloat('/ln.bias', [features], new Float32Array(features))]);
}

const convInput = [1, 32, 28, 28];
const tokens = [1, 64, 128];

export const FUSION_PATTERNS: readonly FusionPattern[] = [
  {
    id: 'conv+batchnorm',
    description: 'Conv → BatchNormalization',
    nodes: [{ ops: ['Conv'] }, { ops: ['BatchNormalization'], from: [0] }],
    predictAs: 'anchor',
    probe: { input: convInput, build: (b, x) => b.batchNorm(conv(b, x), 32) }
  },
  {
    id: 'conv+batchnorm+relu',
    description: 'Conv → BatchNormalization → Relu',
    nodes: [{ ops: ['Conv'] }, { ops: ['BatchNormalization'], from: [0] }, { ops: ['Relu'], from: [1] }],
    predictAs: 'anchor',
    probe: { input: convInput, build: (b, x) => b.relu(b.batchNorm(conv(b, x), 32)) }
  },
  ...activations.map(
    (op): FusionPattern => ({
      id: `conv+${op.toLowerCase()}`,
      description: `Conv → ${op}`,
      nodes: [{ ops: ['Conv'] }, { ops: [op], from: [0] }],
      predictAs: 'anchor',
      probe: { input: convInput, build: (b, x) => activation(b, op, conv(b, x)) }
    })
  ),
  {
    id: 'depthwise-conv+clip',
    description: 'depthwise Conv → Clip (ReLU6)',
    nodes: [{ ops: ['Conv'] }, { ops: ['Clip'], from: [0] }],
    predictAs: 'anchor',
    probe: { input: convInput, build: (b, x) => b.relu6(conv(b, x, 32)) }
  },
  {
    id: 'conv+silu',
    description: 'Conv → Sigmoid → Mul (SiLU / Swish)',
    nodes: [{ ops: ['Conv'] }, { ops: ['Sigmoid'], from: [0] }, { ops: ['Mul'], from: [0, 1] }],
    predictAs: 'anchor',
    probeOnly: true,
    probe: { input: convInput, build: (b, x) => { const y = conv(b, x); return b.mul(y, b.op('Sigmoid', [y])); } }
  },
  {
    id: 'conv+hardsigmoid+mul',
    description: 'Conv → HardSigmoid → Mul (HardSwish as exported before opset 14)',
    nodes: [{ ops: ['Conv'] }, { ops: ['HardSigmoid'], from: [0] }, { ops: ['Mul'], from: [0, 1] }],
    predictAs: 'anchor',
    probe: { input: convInput, build: (b, x) => { const y = conv(b, x); return b.mul(y, b.op('HardSigmoid', [y], { alpha: { float: 1 / 6 } })); } }
  },
  {
    id: 'conv+add',
    description: 'Conv → Add of a residual',
    nodes: [{ ops: ['Conv'] }, { ops: ['Add'], from: [0] }],
    predictAs: 'anchor',
    probe: { input: convInput, build: (b, x) => { const y = conv(b, x); return b.add(conv(b, y), y); } }
  },
  {
    id: 'conv+add+relu',
    description: 'Conv → Add of a residual → Relu',
    nodes: [{ ops: ['Conv'] }, { ops: ['Add'], from: [0] }, { ops: ['Relu'], from: [1] }],
    predictAs: 'anchor',
    probe: { input: convInput, build: (b, x) => { const y = conv(b, x); return b.relu(b.add(conv(b, y), y)); } }
  },
  {
    id: 'gemm+relu',
    description: 'Gemm → Relu',
    nodes: [{ ops: ['Gemm'] }, { ops: ['Relu'], from: [0] }],
    predictAs: 'anchor',
    probe: { input: [1, 256], build: (b, x) => b.relu(b.linear(x, 256, 256)) }
  },
  {
    id: 'matmul+add',
    description: 'MatMul by a weight → Add of a bias (a Linear on tokens)',
    nodes: [{ ops: ['MatMul'] }, { ops: ['Add'], from: [0] }],
    predictAs: 'anchor',
    condition: 'gemm',
    probe: { input: tokens, build: (b, x) => b.matmulLinear(x, 128, 128) }
  },
  {
    id: 'matmul+add+gelu',
    description: 'MatMul → Add → GELU (Erf form): a Linear with its activation',
    nodes: [
      { ops: ['MatMul'] }, { ops: ['Add'], from: [0] }, { ops: ['Div'], from: [1] }, { ops: ['Erf'], from: [2] }, { ops: ['Add'], from: [3] },
      { ops: ['Mul'], from: [1, 4] }, { ops: ['Mul'], from: [5] }
    ],
    predictAs: 'anchor',
    probeOnly: true,
    probe: { input: tokens, build: (b, x) => b.gelu(b.matmulLinear(x, 128, 128)) }
  },
  {
    id: 'gelu',
    description: 'GELU as PyTorch exports it: Div → Erf → Add → Mul → Mul',
    nodes: [{ ops: ['Div'] }, { ops: ['Erf'], from: [0] }, { ops: ['Add'], from: [1] }, { ops: ['Mul'], from: [2] }, { ops: ['Mul'], from: [3] }],
    predictAs: 'Gelu',
    probe: { input: tokens, build: (b, x) => b.gelu(b.relu(x)) }
  },
  {
    id: 'layernorm',
    description: 'LayerNorm as older exports write it: ReduceMean → Sub → Pow → ReduceMean → Add → Sqrt → Div → Mul → Add',
    nodes: [
      { ops: ['ReduceMean'] }, { ops: ['Sub'], from: [0] }, { ops: ['Pow'], from: [1] }, { ops: ['ReduceMean'], from: [2] }, { ops: ['Add'], from: [3] },
      { ops: ['Sqrt'], from: [4] }, { ops: ['Div'], from: [1, 5] }, { ops: ['Mul'], from: [6] }, { ops: ['Add'], from: [7] }
    ],
    predictAs: 'LayerNormalization',
    probe: { input: tokens, build: (b, x) => decomposedLayerNorm(b, b.relu(x), 128) }
  },
  {
    id: 'add+layernorm',
    description: 'Add of a residual → LayerNormalization',
    nodes: [{ ops: ['Add'] }, { ops: ['LayerNormalization'], from: [0] }],
    predictAs: 'SkipLayerNormalization',
    probe: { input: tokens, build: (b, x) => b.layerNorm(b.add(b.relu(x), x), 128) }
  },
  {
    id: 'silu',
    description: 'Sigmoid → Mul (SiLU / Swish) after a non-conv op',
    nodes: [{ ops: ['Sigmoid'] }, { ops: ['Mul'], from: [0] }],
    predictAs: 'Sigmoid',
    probe: { input: tokens, build: (b, x) => { const y = b.relu(x); return b.mul(y, b.op('Sigmoid', [y])); } }
  },
  {
    id: 'hardsigmoid+mul',
    description: 'HardSigmoid → Mul (HardSwish) after a non-conv op',
    nodes: [{ ops: ['HardSigmoid'] }, { ops: ['Mul'], from: [0] }],
    predictAs: 'HardSwish',
    probe: { input: tokens, build: (b, x) => { const y = b.relu(x); return b.mul(y, b.op('HardSigmoid', [y], { alpha: { float: 1 / 6 } })); } }
  },
  {
    id: 'matmul+scale',
    description: 'MatMul of activations → Div by a constant (attention scores)',
    nodes: [{ ops: ['MatMul'] }, { ops: ['Div', 'Mul'], from: [0] }],
    predictAs: 'anchor',
    probe: {
      input: tokens,
      build: (b, x) => b.op('Div', [b.op('MatMul', [x, b.transpose(b.relu(x), [0, 2, 1])]), scalar(b, '/scale', 8)])
    }
  },
  {
    id: 'transpose+matmul',
    description: 'Transpose → MatMul (K transposed for attention scores)',
    nodes: [{ ops: ['Transpose'] }, { ops: ['MatMul'], from: [0] }],
    predictAs: 'anchor',
    probe: { input: tokens, build: (b, x) => b.op('MatMul', [b.relu(x), b.transpose(x, [0, 2, 1])]) }
  },
  {
    id: 'transpose+matmul+scale',
    description: 'Transpose → MatMul → Div by a constant (attention scores with K transposed)',
    nodes: [{ ops: ['Transpose'] }, { ops: ['MatMul'], from: [0] }, { ops: ['Div', 'Mul'], from: [1] }],
    predictAs: 'anchor',
    probe: { input: tokens, build: (b, x) => b.op('Div', [b.op('MatMul', [b.relu(x), b.transpose(x, [0, 2, 1])]), scalar(b, '/scale', 8)]) }
  },
  {
    id: 'attention',
    description: 'MatMul → Div → Softmax → MatMul (scaled dot-product attention, one head)',
    nodes: [{ ops: ['MatMul'] }, { ops: ['Div', 'Mul'], from: [0] }, { ops: ['Softmax'], from: [1] }, { ops: ['MatMul'], from: [2] }],
    predictAs: 'anchor',
    probeOnly: true,
    probe: {
      input: tokens,
      build: (b, x) => {
        const q = b.relu(x);
        const scores = b.op('Div', [b.op('MatMul', [q, b.transpose(x, [0, 2, 1])]), scalar(b, '/scale', 8)]);
        return b.op('MatMul', [b.softmax(scores, -1), x]);
      }
    }
  },
  {
    id: 'slices-to-split',
    description: 'Slices of one tensor along one axis that together cover it once (q, k and v of a packed projection; a channel split) → one Split',
    nodes: [{ ops: ['Slice', 'Gather'] }, { ops: ['Slice', 'Gather'] }],
    siblings: true,
    predictAs: 'Split',
    probe: {
      input: tokens,
      build: (b, x) => {
        const y = b.relu(x);
        const sliced = (start: number, end: number): string =>
          b.op('Slice', [y, b.constantInt64('/split.start', [1], [start]), b.constantInt64('/split.end', [1], [end]), b.constantInt64('/split.axis', [1], [-1])]);
        return [sliced(0, 64), sliced(64, 128)];
      }
    }
  },
  {
    id: 'squeeze-excitation',
    description: 'GlobalAveragePool → Conv 1×1 → Relu → Conv 1×1 → Sigmoid → Mul (squeeze-and-excitation)',
    nodes: [
      { ops: ['GlobalAveragePool'] }, { ops: ['Conv'], from: [0] }, { ops: ['Relu'], from: [1] }, { ops: ['Conv'], from: [2] },
      { ops: ['Sigmoid', 'HardSigmoid'], from: [3] }, { ops: ['Mul'], from: [4] }
    ],
    predictAs: 'anchor',
    probeOnly: true,
    probe: {
      input: convInput,
      build: (b, x) => {
        const y = b.relu(x);
        const squeezed = b.globalAveragePool(y);
        const reduced = b.relu(b.conv(squeezed, { inChannels: 32, outChannels: 8, kernel: 1 }));
        const gate = b.op('Sigmoid', [b.conv(reduced, { inChannels: 8, outChannels: 32, kernel: 1 })]);
        return b.mul(y, gate);
      }
    }
  }
];

/** The probe's tiny model for a pattern (one float input `x`, an output for each of the pattern's outputs). */
export function probeModel(pattern: FusionPattern): Uint8Array {
  const builder = new GraphBuilder(`probe-${pattern.id}`, { seed: 7 });
  const x = builder.input('x', 'float32', pattern.probe.input);
  const built = pattern.probe.build(builder, x);
  // The pattern's output is read by a node after it, as inside a model: onnxruntime 1.30
  // fuses a Conv → HardSigmoid → Mul into one Conv only where the Mul's output is no graph
  // output. A one-column Slice, which nothing fuses with, is that reader.
  const slice = [builder.constantInt64(`${PROBE_READER}starts`, [1], [0]), builder.constantInt64(`${PROBE_READER}ends`, [1], [1]), builder.constantInt64(`${PROBE_READER}axes`, [1], [-1])];
  (typeof built === 'string' ? [built] : built).forEach((y, k) => builder.output(builder.op('Slice', [y, ...slice], {}, k === 0 ? PROBE_READER : `${PROBE_READER}/${k}`), 'float32', null));
  return builder.toBytes();
}

/** The name of the (first) node reading a probe model's pattern output (probeModel): the pattern's nodes come just before it. */
export const PROBE_READER = '/probe/reader';

/** One kernel a model runs: the layers (analysis indices) it replaces, and how it is costed. */
export interface KernelGroup {
  /** Layer indices, pattern order: the first is the anchor. */
  layers: number[];
  /** The rule that made the group; absent for a layer that runs as its own kernel. */
  rule?: string;
  predictAs: FusionPattern['predictAs'];
}

/**
 * Whether onnxruntime turns the MatMul `matmul` and the Add `add` reading it into a Gemm: B
 * a matrix, and A a matrix (the Add's other input anything), or of higher rank with its whole
 * shape known when the graph is optimised and a bias of rank 1 added (then flattened by
 * Reshapes around the Gemm). A Linear over a symbolic sequence (the text classifier's) stays
 * a MatMul and an Add.
 */
export function matmulAddFuses(analysis: ModelAnalysis, matmul: LayerAnalysis, add: LayerAnalysis, staticShape: (name: string) => boolean): boolean {
  const rank = (name: string | undefined): number | null => (name ? (analysis.tensors.get(name)?.shape?.length ?? null) : null);
  const [a, b] = matmul.inputs;
  if (rank(b) !== 2) return false;
  if (rank(a) === 2) return true;
  const made = matmul.outputs[0]?.name;
  const other = add.inputs.find((name) => name !== made);
  return staticShape(a) && other !== undefined && analysis.weights.values.has(other) && (rank(other) ?? 2) <= 1;
}

/** What onnxruntime knows of a model's values when it optimises it (app/prediction/eliminated.ts). */
export interface ValuesAtOptimisation {
  /** A value's shape: the model's symbolic dimensions stay symbols. */
  shape: (name: string) => Dim[] | null;
  /** Whether the value is a constant by then: a weight, or folded from constants and static shapes. */
  constant: (name: string) => boolean;
}

/** The analysis's own shapes, with only its weights constant. */
export function analysedValues(analysis: ModelAnalysis): ValuesAtOptimisation {
  return { shape: (name) => analysis.tensors.get(name)?.shape ?? null, constant: (name) => analysis.weights.values.has(name) };
}

/**
 * The kernels `analysis`'s layers run as, given the patterns `fusedIds` names (the rules'
 * fused patterns at the level predicted) and what onnxruntime knows of the values when it
 * optimises (`values`): every layer belongs to exactly one group. Sibling Slices merged
 * into a Split are found first (siblingSplits); then a chain pattern matches where its
 * nodes' outputs are read only inside the pattern (but the last); the longest pattern wins
 * where several start at one layer; a layer already in a group starts no other.
 */
export function kernelGroups(analysis: ModelAnalysis, model: OnnxModel, fusedIds: ReadonlySet<string>, values: ValuesAtOptimisation = analysedValues(analysis)): KernelGroup[] {
  const graph = model.graph;
  const staticShape = (name: string): boolean => isStatic(values.shape(name));
  const layers = analysis.layers;
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  layers.forEach((layer) => {
    const node = graph.nodes[layer.nodeIndex];
    node?.outputs.forEach((value) => value !== '' && producer.set(value, layer.index));
    for (const value of new Set(layer.inputs)) consumers.set(value, [...(consumers.get(value) ?? []), layer.index]);
  });
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const outputsOf = (index: number): string[] => (graph.nodes[layers[index].nodeIndex]?.outputs ?? []).filter((v) => v !== '');
  const readers = (index: number): number[] => [...new Set(outputsOf(index).flatMap((v) => consumers.get(v) ?? []))];
  const patterns = FUSION_PATTERNS.filter((p) => !p.probeOnly && !p.siblings && fusedIds.has(p.id)).sort((a, b) => b.nodes.length - a.nodes.length);

  const match = (pattern: FusionPattern, anchor: number): number[] | null => {
    if (!pattern.nodes[0].ops.includes(layers[anchor].opType)) return null;
    const chosen = [anchor];
    for (let j = 1; j < pattern.nodes.length; j++) {
      const spec = pattern.nodes[j];
      const sources = (spec.from ?? [j - 1]).map((k) => chosen[k]);
      const candidate = readers(sources[0]).find(
        (c) => !chosen.includes(c) && spec.ops.includes(layers[c].opType) && sources.every((s) => readers(s).includes(c))
      );
      if (candidate === undefined) return null;
      chosen.push(candidate);
    }
    // Every member but the last must be read only inside the group (and not be a graph output).
    for (const member of chosen.slice(0, -1)) {
      if (outputsOf(member).some((v) => graphOutputs.has(v))) return null;
      if (readers(member).some((r) => !chosen.includes(r))) return null;
    }
    if (pattern.condition === 'gemm' && !matmulAddFuses(analysis, layers[chosen[0]], layers[chosen[1]], staticShape)) return null;
    return chosen;
  };

  const taken = new Set<number>();
  const groups: KernelGroup[] = [];
  const groupOf = new Map<number, KernelGroup>();
  for (const pattern of FUSION_PATTERNS.filter((p) => p.siblings && fusedIds.has(p.id))) {
    for (const members of siblingSplits(analysis, model, values)) {
      const group: KernelGroup = { layers: members, rule: pattern.id, predictAs: pattern.predictAs };
      members.forEach((m) => {
        taken.add(m);
        groupOf.set(m, group);
      });
      groups.push(group);
    }
  }
  for (const layer of layers) {
    if (taken.has(layer.index)) continue;
    for (const pattern of patterns) {
      const members = match(pattern, layer.index);
      if (!members || members.some((m) => taken.has(m))) continue;
      const group: KernelGroup = { layers: members, rule: pattern.id, predictAs: pattern.predictAs };
      members.forEach((m) => {
        taken.add(m);
        groupOf.set(m, group);
      });
      groups.push(group);
      break;
    }
  }
  // Layers in no pattern run alone; groups are listed in the order of their first layer.
  for (const layer of layers) if (!taken.has(layer.index)) groups.push({ layers: [layer.index], predictAs: 'anchor' });
  return groups.sort((a, b) => Math.min(...a.layers) - Math.min(...b.layers));
}

/**
 * onnxruntime's GatherSliceToSplitFusion (1.30, from opset 13): where every Slice and Gather
 * reading a value (as its data) takes one part of the same axis — a Slice with constant
 * bounds on one axis and step 1, a Gather of one constant index — and together they take
 * the whole axis once, they become one Split. The axis must have a known size, and the
 * value must be no Shape's and its producer's only output. PyTorch writes such Slices for
 * the packed q, k and v projection of torch.nn.MultiheadAttention (ViT-S's blocks) and for
 * ShuffleNet's channel split, their bounds computed from the Shape of the tensor they split:
 * constants only where that shape is static (the text classifier's Shape, of a tensor with
 * a symbolic sequence length, is not folded, and its Slices stay). Each group's layer
 * indices, in order.
 */
export function siblingSplits(analysis: ModelAnalysis, model: OnnxModel, values: ValuesAtOptimisation = analysedValues(analysis)): number[][] {
  if (defaultOpset(model) < 13) return [];
  const graph = model.graph;
  const constant = smallConstants(graph);
  const producers = new Map<string, OnnxNode>();
  for (const node of graph.nodes) for (const output of node.outputs) producers.set(output, node);
  const readersOfData = new Map<string, LayerAnalysis[]>();
  for (const layer of analysis.layers) {
    const node = graph.nodes[layer.nodeIndex];
    if (!node || node.domain !== '' || layer.stepNodes.length > 0 || (node.opType !== 'Slice' && node.opType !== 'Gather') || !node.inputs[0]) continue;
    readersOfData.set(node.inputs[0], [...(readersOfData.get(node.inputs[0]) ?? []), layer]);
  }
  // onnxruntime reads an index, an axis or a step only from a one-element int64 constant.
  const single = (name: string | undefined): number | null => {
    const found = name ? constant(name) : null;
    return found?.elementType === 'int64' && found.values.length === 1 ? found.values[0] : null;
  };
  const groups: number[][] = [];
  for (const [value, readers] of readersOfData) {
    const producer = producers.get(value);
    if (readers.length < 2 || (producer && (producer.opType === 'Shape' || producer.outputs.filter((o) => o !== '').length > 1))) continue;
    const shape = values.shape(value);
    if (!shape) continue;
    const rank = shape.length;
    const normalise = (axis: number): number => (axis < 0 ? axis + rank : axis);
    const axisOf = (layer: LayerAnalysis): number | null => {
      const node = graph.nodes[layer.nodeIndex];
      if (node.opType === 'Gather') {
        const attribute = node.attributes.get('axis');
        return normalise(attribute?.kind === 'int' ? attribute.value : 0);
      }
      const axis = single(node.inputs[3]);
      return axis === null ? null : normalise(axis);
    };
    const axis = axisOf(readers[0]);
    const size = axis === null ? null : shape[axis];
    if (axis === null || typeof size !== 'number') continue;
    // The parts taken, as [start, end) where known (bounds folded from a Shape are known to
    // be constant, not their values: their sizes, from the analysis, must then add up).
    let covered = 0;
    const known: [number, number][] = [];
    const clamp = (bound: number): number => Math.min(size, Math.max(0, bound < 0 ? bound + size : bound));
    const fuses = readers.every((layer) => {
      const node = graph.nodes[layer.nodeIndex];
      if (axisOf(layer) !== axis) return false;
      if (node.opType === 'Gather') {
        const index = single(node.inputs[1]);
        const at = index === null ? -1 : index < 0 ? index + size : index;
        if (at < 0 || at >= size) return false;
        known.push([at, at + 1]);
        covered += 1;
        return true;
      }
      const [, starts, ends, , steps] = node.inputs;
      const step = steps ? single(steps) : 1;
      const part = layer.outputs[0]?.shape?.[axis];
      if (!starts || !ends || !values.constant(starts) || !values.constant(ends) || step !== 1 || typeof part !== 'number' || part <= 0) return false;
      const [start, end] = [single(starts), single(ends)];
      if (start !== null && end !== null) known.push([clamp(start), clamp(end)]);
      covered += part;
      return true;
    });
    const overlapping = known.sort((a, b) => a[0] - b[0]).some(([start], k) => k > 0 && start < known[k - 1][1]);
    if (fuses && !overlapping && covered === size) groups.push(readers.map((layer) => layer.index).sort((a, b) => a - b));
  }
  return groups;
}

/** The ids of the patterns `rules` found fused at `level` (none when the rules do not cover it). */
export function fusedPatternIds(rules: FusionRules | null | undefined, level: GraphOptimization): Set<string> {
  return new Set((rules?.levels[level] ?? []).filter((rule) => rule.fused).map((rule) => rule.id));
}
