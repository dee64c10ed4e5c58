// The JSON documents the CLI prints (and the studio shows): shapes are arrays with
// numbers for static dims, strings for symbolic ones and null for unknown ones.
import { defaultOpset, type Dim } from '../../app/onnx/model.js';
import type { SymbolicDim, TensorFacts } from '../../app/analysis/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';

export interface TensorReport {
  name: string;
  shape: Dim[] | null;
  dtype: string;
  bytes: number | null;
  shapeSource: TensorFacts['source'];
}

export interface AnalysisReport {
  model: {
    path: string;
    irVersion: number;
    opset: number;
    producer: string;
    /** Layers: the cut points, every node but the weight-only ones. */
    layers: number;
    /** Nodes in the file, weight-only ones included. */
    nodes: number;
    /** Nodes that compute weights only (aliases, Constants, folded chains): folded into the layers that read them. */
    weightOnlyNodes: number;
    /** Symbolic input dimensions and the value used for each ('given' with --dim, else 'default'). */
    symbolicDims: SymbolicDim[];
    params: number;
    paramBytes: number;
    /** All multiply-accumulates of layers whose MACs are known, integer and float. */
    macs: number;
    /** The part of `macs` computed on integers (integer kernels, QDQ nodes between 8-bit DequantizeLinear inputs). */
    intMacs: number;
    /** macs − intMacs. */
    floatMacs: number;
    unknownMacLayers: number;
    inputs: TensorReport[];
    outputs: TensorReport[];
    runtimeShapes: boolean;
  };
  layers: {
    index: number;
    /** Position of the layer's node in the file. */
    nodeIndex: number;
    name: string;
    op: string;
    domain: string;
    outputs: TensorReport[];
    outputBytes: number | null;
    params: number;
    macs: number | null;
    /** The integer part of `macs` (null when `macs` is). */
    intMacs: number | null;
    /** Weight-only nodes folded into this layer, by name. */
    folded: string[];
    /** The QuantizeLinear / DequantizeLinear nodes that run as steps of this layer (a QDQ model's), by name. */
    steps: string[];
    flags: string[];
  }[];
}

function tensorReport(facts: TensorFacts): TensorReport {
  return { name: facts.name, shape: facts.shape, dtype: facts.elementType, bytes: facts.bytes, shapeSource: facts.source };
}

export function analysisReport(analyzed: AnalyzedModel): AnalysisReport {
  const { model, analysis } = analyzed;
  return {
    model: {
      path: analyzed.path,
      irVersion: model.irVersion,
      opset: defaultOpset(model),
      producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
      layers: analysis.layers.length,
      nodes: model.graph.nodes.length,
      weightOnlyNodes: analysis.weightNodes.length,
      symbolicDims: analysis.symbolicDims,
      params: analysis.totals.params,
      paramBytes: analysis.totals.paramBytes,
      macs: analysis.totals.macs,
      intMacs: analysis.totals.intMacs,
      floatMacs: analysis.totals.macs - analysis.totals.intMacs,
      unknownMacLayers: analysis.totals.unknownMacLayers,
      inputs: analysis.inputs.map(tensorReport),
      outputs: analysis.outputs.map(tensorReport),
      runtimeShapes: [...analysis.tensors.values()].some((t) => t.source === 'runtime')
    },
    layers: analysis.layers.map((layer) => ({
      index: layer.index,
      nodeIndex: layer.nodeIndex,
      name: layer.name,
      op: layer.opType,
      domain: layer.domain,
      outputs: layer.outputs.map(tensorReport),
      outputBytes: layer.outputBytes,
      params: layer.params,
      macs: layer.macs,
      intMacs: layer.intMacs,
      folded: layer.foldedNodes.map((position) => model.graph.nodes[position].name),
      steps: layer.stepNodes.map((position) => model.graph.nodes[position].name),
      flags: layer.flags
    }))
  };
}
