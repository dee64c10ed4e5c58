// The model as the studio shows it: a plain, JSON-safe picture of a graph and its analysis
// (no Maps, no weight bytes), built in main/ from the file and sent over the contract to
// the renderer, which draws the graph, the per-layer charts and the node details from it.
import type { LayerAnalysis, LayerFlag, ModelAnalysis, ShapeSource, SymbolicDim } from '../analysis/types.js';
import type { ElementTypeName } from '../onnx/element-type.js';
import { defaultOpset, type AttributeValue, type Dim, type OnnxModel } from '../onnx/model.js';

export interface TensorView {
  name: string;
  elementType: ElementTypeName | null;
  shape: Dim[] | null;
  bytes: number | null;
  source: ShapeSource | 'initializer';
  /** Index of the node (layer) producing it; -1 for a graph input or a weight. */
  producer: number;
  isInitializer: boolean;
  /** A weight: an initializer, a Constant's output or a value computed from weights alone. */
  isWeight: boolean;
}

/** A weight-only node folded into the layer that reads it (an alias, a Constant, a folded chain), as Netron shows weights. */
export interface FoldedNodeView {
  name: string;
  opType: string;
  outputs: TensorView[];
}

export interface AttributeView {
  name: string;
  /** A short, human-readable rendering (long lists and tensors are summarised). */
  value: string;
}

export interface NodeView {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: TensorView[];
  outputs: TensorView[];
  attributes: AttributeView[];
  params: number;
  paramBytes: number;
  macs: number | null;
  /** Of `macs`, the integer ones (a quantized op: QLinearConv, ConvInteger, …); 0 for a float op. */
  intMacs: number | null;
  outputBytes: number | null;
  flags: LayerFlag[];
  /** Nodes whose outputs this node reads (indices, ascending, no duplicates). */
  predecessors: number[];
  /** The weight-only nodes that compute the weights this node reads, in graph order. */
  folded: FoldedNodeView[];
}

export interface ModelView {
  /** SHA-256 of the file: the key results are kept under. */
  id: string;
  fileName: string;
  fileBytes: number;
  producer: string;
  opset: number;
  inputs: TensorView[];
  outputs: TensorView[];
  /** The layers (every node but the weight-only ones), in topological order: the cut points. */
  nodes: NodeView[];
  /** Nodes in the file, weight-only ones included. */
  graphNodeCount: number;
  /** Symbolic input dimensions and the values used for them (given, or a default the page should show). */
  symbolicDims: SymbolicDim[];
  totals: ModelAnalysis['totals'];
}

const MAX_LISTED = 8;

export function formatAttribute(value: AttributeValue): string {
  const list = (items: readonly (number | string)[]) =>
    items.length <= MAX_LISTED ? `[${items.join(', ')}]` : `[${items.slice(0, MAX_LISTED).join(', ')}, … ${items.length} values]`;
  switch (value.kind) {
    case 'float':
    case 'int':
      return String(value.value);
    case 'string':
      return JSON.stringify(value.value);
    case 'floats':
    case 'ints':
      return list(value.value);
    case 'strings':
      return list(value.value.map((s) => JSON.stringify(s)));
    case 'tensor':
      return `tensor ${value.value.elementType} [${value.value.dims.join('×')}]`;
    case 'tensors':
      return `${value.value.length} tensors`;
    case 'graph':
      return `graph "${value.value.name}" (${value.value.nodes.length} nodes)`;
    case 'graphs':
      return `${value.value.length} graphs`;
    case 'unsupported':
      return `(${value.type})`;
  }
}

export function modelViewOf(
  model: OnnxModel,
  analysis: ModelAnalysis,
  file: { id: string; fileName: string; fileBytes: number }
): ModelView {
  const producers = new Map<string, number>();
  for (const layer of analysis.layers) for (const output of layer.outputs) producers.set(output.name, layer.index);
  const initializers = model.graph.initializers;

  const tensorView = (name: string): TensorView => {
    const initializer = initializers.get(name);
    if (initializer) {
      return {
        name,
        elementType: initializer.elementType,
        shape: initializer.dims,
        bytes: initializer.byteLength,
        source: 'initializer',
        producer: -1,
        isInitializer: true,
        isWeight: true
      };
    }
    const facts = analysis.tensors.get(name);
    return {
      name,
      elementType: facts?.elementType ?? null,
      shape: facts?.shape ?? null,
      bytes: facts?.bytes ?? null,
      source: facts?.source ?? 'unknown',
      producer: producers.get(name) ?? -1,
      isInitializer: false,
      isWeight: analysis.weights.values.has(name)
    };
  };
  const weightNodeAt = new Map(analysis.weightNodes.map((w) => [w.nodeIndex, w]));

  const nodeView = (layer: LayerAnalysis): NodeView => {
    const node = model.graph.nodes[layer.nodeIndex];
    // The layer's inputs from outside it: a QDQ layer's steps read its DQ inputs, which are its node's.
    const inputs = layer.inputs.filter((name) => name !== '').map(tensorView);
    const predecessors = [...new Set(inputs.map((t) => t.producer).filter((p) => p >= 0))].sort((a, b) => a - b);
    return {
      index: layer.index,
      name: layer.name,
      opType: layer.opType,
      domain: layer.domain,
      inputs,
      outputs: layer.outputs.map((o) => tensorView(o.name)),
      attributes: [...node.attributes].map(([name, value]) => ({ name, value: formatAttribute(value) })),
      params: layer.params,
      paramBytes: layer.paramBytes,
      macs: layer.macs,
      intMacs: layer.intMacs,
      outputBytes: layer.outputBytes,
      flags: layer.flags,
      predecessors,
      folded: layer.foldedNodes.flatMap((position) => {
        const folded = weightNodeAt.get(position);
        return folded ? [{ name: folded.name, opType: folded.opType, outputs: folded.outputs.map((o) => tensorView(o.name)) }] : [];
      })
    };
  };

  return {
    id: file.id,
    fileName: file.fileName,
    fileBytes: file.fileBytes,
    producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
    opset: defaultOpset(model),
    inputs: analysis.inputs.map((t) => tensorView(t.name)),
    outputs: analysis.outputs.map((t) => tensorView(t.name)),
    nodes: analysis.layers.map(nodeView),
    graphNodeCount: model.graph.nodes.length,
    symbolicDims: analysis.symbolicDims,
    totals: analysis.totals
  };
}
