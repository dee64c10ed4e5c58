// The one place that decides which values of a graph are weights, not traffic. A weight is
// an initializer, the output of a `Constant` node, or the output of any deterministic node
// whose inputs are all weights — the values onnxruntime's constant folding computes once at
// load (PyTorch's exporter writes many: `Identity` aliases of initializers, `Constant`
// chains, weights reshaped or transposed). The nodes that compute weights are not layers:
// they are no cut points, no bars, no nodes of the partition problem, never crossing
// tensors; each belongs to the layers that read its outputs (surgery copies it to every
// side that needs it). Analysis (analyze.ts), surgery (main/split) and the studio's
// graph all ask here.
import type { OnnxGraph, OnnxNode } from '../onnx/model.js';

/** Ops whose output changes from run to run although their inputs do not. */
export const nondeterministicOps: ReadonlySet<string> = new Set(['RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli']);

/** A weight the graph stores: an initializer or a Constant node's tensor. */
export interface WeightSource {
  name: string;
  elements: number;
  bytes: number;
}

export interface GraphWeights {
  /** Every weight value by name (initializers, Constant outputs, values computed from weights alone). */
  values: ReadonlySet<string>;
  /** Graph positions of the nodes that compute weights (weight-only nodes), ascending. */
  nodes: readonly number[];
  /** Per weight value, the stored weights it is computed from (an alias's initializer, a chain's sources). */
  sources: ReadonlyMap<string, readonly WeightSource[]>;
  /** For each weight-only node (by graph position), the weight-only nodes it reads, transitively included. */
  feeders: ReadonlyMap<number, readonly number[]>;
  /** The weight-only node producing each computed weight value. */
  producer: ReadonlyMap<string, number>;
}

/** True when the node holds a subgraph (If, Loop, Scan): what it computes is not its op and inputs alone. */
export function hasSubgraph(node: OnnxNode): boolean {
  for (const attribute of node.attributes.values()) if (attribute.kind === 'graph' || attribute.kind === 'graphs') return true;
  return false;
}

function isWeightOnly(node: OnnxNode, values: ReadonlySet<string>): boolean {
  if (nondeterministicOps.has(node.opType) || hasSubgraph(node)) return false;
  if (node.opType === 'Constant' && node.domain === '') return true;
  const inputs = node.inputs.filter((name) => name !== '');
  return inputs.length > 0 && inputs.every((name) => values.has(name));
}

function constantSource(node: OnnxNode, output: string): WeightSource {
  const attributes = node.attributes;
  const tensor = attributes.get('value') ?? attributes.get('sparse_value');
  if (tensor?.kind === 'tensor') return { name: output, elements: tensor.value.elementCount, bytes: tensor.value.byteLength };
  const list = attributes.get('value_floats') ?? attributes.get('value_ints') ?? attributes.get('value_strings');
  if (list?.kind === 'floats' || list?.kind === 'ints' || list?.kind === 'strings') {
    const elementBytes = list.kind === 'ints' ? 8 : list.kind === 'floats' ? 4 : 0;
    return { name: output, elements: list.value.length, bytes: list.value.length * elementBytes };
  }
  // A scalar: value_int (int64), value_float (float32) or value_string.
  return { name: output, elements: 1, bytes: attributes.has('value_int') ? 8 : attributes.has('value_float') ? 4 : 0 };
}

/**
 * Finds the weights of `graph`; `order` is a topological order of its nodes (graph
 * positions), producers first.
 */
export function findWeights(graph: OnnxGraph, order: readonly number[]): GraphWeights {
  const values = new Set<string>();
  const sources = new Map<string, WeightSource[]>();
  const producer = new Map<string, number>();
  const feeders = new Map<number, number[]>();
  for (const tensor of graph.initializers.values()) {
    values.add(tensor.name);
    sources.set(tensor.name, [{ name: tensor.name, elements: tensor.elementCount, bytes: tensor.byteLength }]);
  }
  const nodes: number[] = [];
  for (const position of order) {
    const node = graph.nodes[position];
    if (!isWeightOnly(node, values)) continue;
    nodes.push(position);
    const reads = node.inputs.filter((name) => name !== '');
    const fed = new Set<number>();
    for (const name of reads) {
      const from = producer.get(name);
      if (from === undefined) continue;
      fed.add(from);
      for (const earlier of feeders.get(from) ?? []) fed.add(earlier);
    }
    feeders.set(position, [...fed].sort((a, b) => a - b));
    const inherited = uniqueSources(reads.flatMap((name) => sources.get(name) ?? []));
    for (const output of node.outputs) {
      if (output === '') continue;
      values.add(output);
      producer.set(output, position);
      sources.set(output, node.opType === 'Constant' ? [constantSource(node, output)] : inherited);
    }
  }
  nodes.sort((a, b) => a - b);
  return { values, nodes, sources, feeders, producer };
}

export function uniqueSources(list: readonly WeightSource[]): WeightSource[] {
  const byName = new Map<string, WeightSource>();
  for (const source of list) byName.set(source.name, source);
  return [...byName.values()];
}

/**
 * The weight-only nodes that computing `names` needs, transitively, in graph order: what
 * surgery copies into a part beside its own nodes (`names`: every value the part's nodes
 * read, outer-scope reads of their subgraphs included).
 */
export function weightNodesReading(weights: GraphWeights, names: Iterable<string>): number[] {
  const needed = new Set<number>();
  for (const name of names) {
    const from = weights.producer.get(name);
    if (from === undefined) continue;
    needed.add(from);
    for (const earlier of weights.feeders.get(from) ?? []) needed.add(earlier);
  }
  return [...needed].sort((a, b) => a - b);
}
