// Layers onnxruntime removes before it runs anything, at any optimisation level above
// 'disabled' (its "basic" graph transformers):
// - constant folding: the Shape (or Size) of a tensor whose shape is static, and every layer
//   computed from constants and such shapes alone (ConstantFolding);
// - a Cast to the type its input already has, an Identity or Dropout (CastElimination,
//   EliminateIdentity, EliminateDropout);
// - an Add or Sub of zeros and a Mul or Div by ones that change nothing (NoopElimination);
// - a node that computes exactly what an earlier one did (CommonSubexpressionElimination,
//   after ConstantSharing has made equal small constants one);
// - the Concat of a Reshape's target shape made of its own input's dimensions and constants
//   (ReshapeFusion), with the Shape, Gather and Unsqueeze only it read.
// PyTorch's exporter writes all of these in its shape arithmetic: each attention block of
// the text classifier among the real exports reads its input's Shape three times and
// Unsqueezes the same scalar into three Concats; ShuffleNet's channel splits compute from
// the Shape of static tensors. predict.ts costs these layers nothing at such levels; the
// rules were checked against the graph onnxruntime 1.30 saves after optimising
// (main/model/eliminated.test.ts).
import { analyzeModel } from '../analysis/analyze.js';
import { isStatic } from '../analysis/shape-math.js';
import type { LayerAnalysis, ModelAnalysis } from '../analysis/types.js';
import type { AttributeValue, Dim, OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.js';
import { tensorValues } from '../onnx/reader.js';
import { hasSubgraph, nondeterministicOps } from '../analysis/weights.js';

/** What a predicted layer onnxruntime eliminates gives as its `kernel` (LayerTiming.kernel): none runs for it. */
export const ELIMINATED_KERNEL = 'eliminated';

/** Constants onnxruntime's ConstantSharing makes one when their values are equal (it shares scalars and small vectors). */
const SHARED_CONSTANT_ELEMENTS = 8;
/** Ops that pass their input on unchanged at inference. */
const PASS_THROUGH_OPS = new Set(['Identity', 'Dropout']);
/** Ops that read only their input's shape. */
const SHAPE_OPS = new Set(['Shape', 'Size']);
/** Each op's neutral operand: which input positions may hold it, and its value. */
const NEUTRAL_OPERANDS: Record<string, { positions: readonly number[]; value: number }> = {
  Add: { positions: [0, 1], value: 0 },
  Sub: { positions: [1], value: 0 },
  Mul: { positions: [0, 1], value: 1 },
  Div: { positions: [1], value: 1 }
};

/** A small constant's tensor: an initializer, or the value of a Constant node. */
function constantTensor(name: string, graph: OnnxGraph, constants: ReadonlyMap<string, OnnxNode>): OnnxTensor | null {
  const initializer = graph.initializers.get(name);
  if (initializer) return initializer;
  const value = constants.get(name)?.attributes.get('value');
  return value?.kind === 'tensor' ? value.value : null;
}

/**
 * The graph's small constants (initializers and Constant nodes of at most `limit` elements)
 * by value name, with their element type; null for anything else.
 */
export function smallConstants(graph: OnnxGraph, limit = SHARED_CONSTANT_ELEMENTS): (name: string) => { elementType: OnnxTensor['elementType']; values: number[] } | null {
  const constants = new Map<string, OnnxNode>();
  for (const node of graph.nodes) if (node.opType === 'Constant' && node.domain === '') for (const output of node.outputs) constants.set(output, node);
  return (name) => {
    const tensor = constantTensor(name, graph, constants);
    const values = tensor && tensor.elementCount <= limit ? tensorValues(tensor, limit) : null;
    return tensor && values ? { elementType: tensor.elementType, values } : null;
  };
}

/** An attribute as CSE compares it; null for kinds it does not compare (subgraphs), whose nodes are never merged. */
function attributeKey(value: AttributeValue): string | null {
  switch (value.kind) {
    case 'tensor':
      return `tensor:${value.value.elementType}:${value.value.dims.join('x')}:${tensorValues(value.value, SHARED_CONSTANT_ELEMENTS)?.join(',') ?? value.value.name}`;
    case 'graph':
    case 'graphs':
    case 'tensors':
    case 'unsupported':
      return null;
    default:
      return `${value.kind}:${JSON.stringify(value.value)}`;
  }
}

/**
 * Whether onnxruntime knows a value's whole shape when it optimises the graph, as a test by
 * name: `analysis` gave the model's symbolic dimensions values, onnxruntime keeps them symbols.
 */
export function staticShapesAtOptimisation(analysis: ModelAnalysis, model: OnnxModel): (name: string) => boolean {
  const shape = shapesAtOptimisation(analysis, model);
  return (name) => isStatic(shape(name));
}

/** A value's shape as onnxruntime knows it when it optimises the graph: the model's symbolic dimensions stay symbols. */
export function shapesAtOptimisation(analysis: ModelAnalysis, model: OnnxModel): (name: string) => Dim[] | null {
  const symbolic = analysis.symbolicDims.length > 0 ? analyzeModel(model, {}) : analysis;
  return (name) => symbolic.tensors.get(name)?.shape ?? null;
}

/**
 * The layers of `analysis` (each a single node; `model` is what it was made from) that
 * onnxruntime eliminates at 'basic' and above, by layer index. A layer whose output is a
 * model output is kept.
 */
export function eliminatedLayers(analysis: ModelAnalysis, model: OnnxModel, staticShape = staticShapesAtOptimisation(analysis, model)): Set<number> {
  return optimisedAway(analysis, model, staticShape).layers;
}

/** shapesAtOptimisation and optimisedAway together: what a prediction above 'disabled' needs of the optimised graph. */
export function settledAtOptimisation(analysis: ModelAnalysis, model: OnnxModel): { shape: (name: string) => Dim[] | null; layers: Set<number>; constants: Set<string> } {
  const shape = shapesAtOptimisation(analysis, model);
  return { shape, ...optimisedAway(analysis, model, (name) => isStatic(shape(name))) };
}

/**
 * What onnxruntime settles before it runs anything, at 'basic' and above: the layers it
 * eliminates (eliminatedLayers), and the values it then holds as constants — weights, the
 * Shapes of static tensors and everything computed from constants alone (the bounds of
 * PyTorch's channel splits, computed from the Shape of the tensor they slice).
 */
export function optimisedAway(analysis: ModelAnalysis, model: OnnxModel, staticShape = staticShapesAtOptimisation(analysis, model)): { layers: Set<number>; constants: Set<string> } {
  const graph = model.graph;
  /** Values onnxruntime computes once, when it optimises: weights, folded shapes, what is computed from them alone. */
  const folded = new Set<string>(analysis.weights.values);
  const eliminated = new Set<number>();
  const constants = new Map<string, OnnxNode>();
  for (const node of graph.nodes) if (node.opType === 'Constant' && node.domain === '') for (const output of node.outputs) constants.set(output, node);
  const modelOutputs = new Set(graph.outputs.map((o) => o.name));
  /** Value name → the earlier value it is equal to. */
  const same = new Map<string, string>();
  const firstByKey = new Map<string, OnnxNode>();
  const smallConstant = (name: string): { tensor: OnnxTensor; values: number[] } | null => {
    if (!analysis.weights.values.has(name)) return null;
    const tensor = constantTensor(name, graph, constants);
    const values = tensor && tensor.elementCount <= SHARED_CONSTANT_ELEMENTS ? tensorValues(tensor, SHARED_CONSTANT_ELEMENTS) : null;
    return tensor && values ? { tensor, values } : null;
  };
  const inputKey = (name: string): string => {
    const constant = smallConstant(name);
    if (constant) return `const:${constant.tensor.elementType}:${constant.tensor.dims.join('x')}:${constant.values.join(',')}`;
    return same.get(name) ?? name;
  };
  const shapeKey = (name: string): string | null => {
    const shape = analysis.tensors.get(same.get(name) ?? name)?.shape ?? analysis.tensors.get(name)?.shape;
    return shape ? shape.join('x') : null;
  };
  const single = (layer: LayerAnalysis): OnnxNode | null => (layer.stepNodes.length === 0 ? (graph.nodes[layer.nodeIndex] ?? null) : null);
  for (const layer of analysis.layers) {
    const node = single(layer);
    if (!node || node.name !== layer.name || node.outputs.some((o) => modelOutputs.has(o))) continue;
    const inputs = node.inputs.filter((name) => name !== '');
    const deterministic = !nondeterministicOps.has(node.opType) && !hasSubgraph(node);
    const foldable = node.domain === '' && SHAPE_OPS.has(node.opType) ? staticShape(inputs[0]) : deterministic && inputs.length > 0 && inputs.every((name) => folded.has(name));
    if (foldable) {
      eliminated.add(layer.index);
      for (const output of node.outputs) folded.add(output);
      continue;
    }
    if (node.domain === '' && PASS_THROUGH_OPS.has(node.opType) && inputs.length >= 1 && node.outputs.length === 1) {
      eliminated.add(layer.index);
      same.set(node.outputs[0], same.get(inputs[0]) ?? inputs[0]);
      continue;
    }
    if (node.domain === '' && node.opType === 'Cast' && node.outputs.length === 1) {
      const from = analysis.tensors.get(inputs[0])?.elementType;
      if (from && from === layer.outputs[0]?.elementType) {
        eliminated.add(layer.index);
        same.set(node.outputs[0], same.get(inputs[0]) ?? inputs[0]);
        continue;
      }
    }
    const neutral = node.domain === '' && inputs.length === 2 ? NEUTRAL_OPERANDS[node.opType] : undefined;
    if (neutral) {
      const position = neutral.positions.find((p) => smallConstant(inputs[p])?.values.every((v) => v === neutral.value));
      if (position !== undefined) {
        const other = inputs[1 - position];
        const otherFacts = analysis.tensors.get(other);
        // Only where the constant broadcasts nothing: the output is the other input as it is.
        if (otherFacts?.shape && shapeKey(other) === shapeKey(node.outputs[0]) && otherFacts.elementType === layer.outputs[0]?.elementType) {
          eliminated.add(layer.index);
          same.set(node.outputs[0], same.get(other) ?? other);
          continue;
        }
      }
    }
    if (!deterministic || inputs.length === 0) continue;
    const attributes = [...node.attributes.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => ({ name, key: attributeKey(value) }));
    if (attributes.some((a) => a.key === null)) continue;
    const key = `${node.domain}|${node.opType}|${node.inputs.map((name) => (name === '' ? '' : inputKey(name))).join(',')}|${attributes.map((a) => `${a.name}=${a.key}`).join(';')}`;
    const first = firstByKey.get(key);
    if (first && first.outputs.length === node.outputs.length) {
      eliminated.add(layer.index);
      node.outputs.forEach((output, i) => same.set(output, same.get(first.outputs[i]) ?? first.outputs[i]));
      continue;
    }
    firstByKey.set(key, node);
  }
  fuseReshapeShapes(analysis, graph, eliminated, (name) => same.get(name) ?? name, smallConstant);
  return { layers: eliminated, constants: folded };
}

/**
 * onnxruntime's ReshapeFusion: a Reshape whose target shape is a Concat of one-element
 * constants and, at position i, Unsqueeze(Gather(Shape(the Reshape's own input), i)) (PyTorch's
 * `x.view(x.size(0), -1)`) reads a constant shape instead, with 0 at those positions. The
 * Concat goes, and each Unsqueeze, Gather and Shape that fed nothing else goes with it.
 */
function fuseReshapeShapes(
  analysis: ModelAnalysis,
  graph: OnnxGraph,
  eliminated: Set<number>,
  canonical: (name: string) => string,
  smallConstant: (name: string) => { values: number[] } | null
): void {
  const producer = new Map<string, { layer: number; node: OnnxNode }>();
  const readers = new Map<string, number>();
  for (const layer of analysis.layers) {
    if (eliminated.has(layer.index) || layer.stepNodes.length > 0) continue;
    const node = graph.nodes[layer.nodeIndex];
    if (!node) continue;
    for (const output of node.outputs) producer.set(output, { layer: layer.index, node });
    for (const input of node.inputs) if (input !== '') readers.set(canonical(input), (readers.get(canonical(input)) ?? 0) + 1);
  }
  for (const output of graph.outputs) readers.set(canonical(output.name), (readers.get(canonical(output.name)) ?? 0) + 1);
  const made = (name: string, opType: string): { layer: number; node: OnnxNode } | null => {
    const found = producer.get(canonical(name));
    return found && found.node.opType === opType && found.node.domain === '' ? found : null;
  };
  const single = (name: string): number | null => {
    const values = smallConstant(name)?.values;
    return values?.length === 1 ? values[0] : null;
  };
  for (const { node: reshape } of [...producer.values()].filter((p) => p.node.opType === 'Reshape' && p.node.domain === '')) {
    if (reshape.inputs.length < 2) continue;
    const concat = made(reshape.inputs[1], 'Concat');
    if (!concat || readers.get(canonical(reshape.inputs[1])) !== 1 || eliminated.has(concat.layer)) continue;
    const data = canonical(reshape.inputs[0]);
    const chains: { layer: number; output: string }[][] = [];
    const fusable = concat.node.inputs.every((input, position) => {
      if (single(input) !== null) return true;
      const unsqueeze = made(input, 'Unsqueeze');
      const axes = unsqueeze ? (unsqueeze.node.inputs[1] ? smallConstant(unsqueeze.node.inputs[1])?.values : axesAttribute(unsqueeze.node)) : null;
      const gather = unsqueeze && axes?.length === 1 && axes[0] === 0 ? made(unsqueeze.node.inputs[0], 'Gather') : null;
      const axis = gather?.node.attributes.get('axis');
      const index = gather && (axis === undefined || (axis.kind === 'int' && axis.value === 0)) ? single(gather.node.inputs[1]) : null;
      const shape = gather && index === position ? made(gather.node.inputs[0], 'Shape') : null;
      if (!unsqueeze || !gather || !shape || shape.node.attributes.size > 0 || canonical(shape.node.inputs[0]) !== data) return false;
      chains.push([
        { layer: unsqueeze.layer, output: canonical(input) },
        { layer: gather.layer, output: canonical(unsqueeze.node.inputs[0]) },
        { layer: shape.layer, output: canonical(gather.node.inputs[0]) }
      ]);
      return true;
    });
    if (!fusable || chains.length === 0) continue;
    eliminated.add(concat.layer);
    for (const chain of chains) {
      for (const link of chain) {
        const left = (readers.get(link.output) ?? 0) - 1;
        readers.set(link.output, left);
        if (left > 0 || eliminated.has(link.layer)) break;
        eliminated.add(link.layer);
      }
    }
  }
}

/** An Unsqueeze's axes written as an attribute (opsets before 13). */
function axesAttribute(node: OnnxNode): number[] | null {
  const axes = node.attributes.get('axes');
  return axes?.kind === 'ints' ? axes.value : null;
}
