// Quantization steps: in a QDQ model every quantized activation goes through a
// QuantizeLinear → DequantizeLinear pair (onnxruntime fuses DQ → Conv → Q into one
// QLinearConv), so the pair is no layer of its own. The Q that quantizes a layer's output
// is the last step of that layer; the DQ that feeds a layer is its first step. Between two
// such layers the only tensor is the Q's 8-bit output: a cut there sends a quarter of the
// float bytes, and no cut is offered where the float tensor would cross for nothing.
//
// A QuantizeLinear is a step of the layer that produces its input, and a DequantizeLinear
// a step of the one layer that reads its output, when the step's scale and zero point are
// weights (static quantization) and the other node is no Q/DQ itself. A Q of a model input
// stays a layer (cut 1 then sends the 8-bit input), as does a DQ read by several layers
// or giving a model output. Merging a node with its only producer or its only consumer
// keeps the layers a DAG, so cuts stay predecessor-closed.
import type { OnnxGraph, OnnxNode } from '../onnx/model.js';
import { isDefaultDomain } from './rules.js';
import type { GraphWeights } from './weights.js';

function isQuantizeOrDequantize(node: OnnxNode): boolean {
  return isDefaultDomain(node.domain) && (node.opType === 'QuantizeLinear' || node.opType === 'DequantizeLinear');
}

/** Every name a node reads: its inputs and whatever its subgraphs read (outer-scope names among them). */
function namesRead(node: OnnxNode): string[] {
  const names = node.inputs.filter((name) => name !== '');
  for (const attribute of node.attributes.values()) {
    const graphs = attribute.kind === 'graph' ? [attribute.value] : attribute.kind === 'graphs' ? attribute.value : [];
    for (const graph of graphs) for (const inner of graph.nodes) names.push(...namesRead(inner));
  }
  return names;
}

/** Scale and zero point (inputs 1 and 2) are weights, and input 0 is an activation. */
function isStaticActivationStep(node: OnnxNode, weights: GraphWeights): boolean {
  const [data, ...parameters] = node.inputs;
  return data !== undefined && data !== '' && !weights.values.has(data) && parameters.every((name) => name === '' || weights.values.has(name));
}

/**
 * The steps of `graph`: for each Q/DQ node that runs as a step of a layer, its graph
 * position → the graph position of the layer's own node.
 */
export function findQuantizationSteps(graph: OnnxGraph, weights: GraphWeights): Map<number, number> {
  const weightNodes = new Set(weights.nodes);
  const producer = new Map<string, number>();
  const readers = new Map<string, Set<number>>();
  for (const node of graph.nodes) {
    if (weightNodes.has(node.index)) continue;
    for (const output of node.outputs) if (output !== '') producer.set(output, node.index);
    for (const input of namesRead(node)) {
      let set = readers.get(input);
      if (!set) readers.set(input, (set = new Set()));
      set.add(node.index);
    }
  }
  const graphOutputs = new Set(graph.outputs.map((output) => output.name));
  const owners = new Map<number, number>();
  for (const node of graph.nodes) {
    if (weightNodes.has(node.index) || !isQuantizeOrDequantize(node) || !isStaticActivationStep(node, weights)) continue;
    if (node.opType === 'QuantizeLinear') {
      const from = producer.get(node.inputs[0]);
      if (from !== undefined && !isQuantizeOrDequantize(graph.nodes[from])) owners.set(node.index, from);
    } else {
      const output = node.outputs[0];
      const consumers = readers.get(output);
      if (!output || graphOutputs.has(output) || !consumers || consumers.size !== 1) continue;
      const [to] = consumers;
      if (!isQuantizeOrDequantize(graph.nodes[to])) owners.set(node.index, to);
    }
  }
  return owners;
}

/** The graph positions of the nodes a layer runs: its own node and its quantization steps, in graph order. */
export function layerNodePositions(layer: { nodeIndex: number; stepNodes: readonly number[] }): number[] {
  return [layer.nodeIndex, ...layer.stepNodes].sort((a, b) => a - b);
}
