// What per-layer analysis produces: for every node its output tensors (shape, type,
// bytes), parameters and multiply-accumulates, and where each shape came from. The
// partitioner, the CLI and the studio all read these types.
import type { ElementTypeName } from '../onnx/element-type.js';
import type { Dim } from '../onnx/model.js';
import type { GraphWeights } from './weights.js';

/**
 * Where a tensor's shape came from: 'declared' (the file's inputs/outputs/value_info),
 * 'static' (shape inference in app/), 'runtime' (an onnxruntime run in main/), or
 * 'unknown' (none could tell; bytes are then unknown too).
 */
export type ShapeSource = 'declared' | 'static' | 'runtime' | 'unknown';

export interface TensorFacts {
  name: string;
  elementType: ElementTypeName;
  shape: Dim[] | null;
  /** Bytes of the tensor when its shape is fully static; null otherwise. */
  bytes: number | null;
  source: ShapeSource;
}

/**
 * One layer: a node that computes on activations (every node but the weight-only ones,
 * app/analysis/weights.ts). Layers are the cut points: cut K runs layers 0..K-1 on the device.
 */
export interface LayerAnalysis {
  /** Position among the layers (topological order). */
  index: number;
  /** Position of the node in the graph's node list. */
  nodeIndex: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: TensorFacts[];
  /** Sum of the outputs' bytes; null when any output size is unknown. */
  outputBytes: number | null;
  /**
   * Elements of the weights this layer reads (weights, biases), counted at their source:
   * an initializer read through an Identity alias or a weight-only chain counts here.
   */
  params: number;
  paramBytes: number;
  /** The weight values this layer reads (initializers, Constant outputs, folded values). */
  weightInputs: string[];
  /** Graph positions of the weight-only nodes that compute what this layer reads, folded into it. */
  foldedNodes: number[];
  /**
   * Graph positions of the activation QuantizeLinear / DequantizeLinear nodes that run as
   * steps of this layer (app/analysis/quant-steps.ts): a Q reading this layer's output, a DQ
   * feeding this layer alone. Their outputs inside the layer are no crossing tensors; a
   * cut between two layers falls between a Q and the next DQ, so the 8-bit tensor crosses.
   */
  stepNodes: number[];
  /** Multiply-accumulates (all of them, integer ones included); null when the op is unknown or its shapes are not known. */
  macs: number | null;
  /** The MACs of the layer's own node, without its steps' (equal to `macs` for a layer without steps). */
  nodeMacs: number | null;
  /**
   * The part of `macs` computed on integers: QLinearConv, QLinearMatMul, ConvInteger,
   * MatMulInteger and their com.microsoft kin, and a QDQ node whose data and weight inputs all
   * come from DequantizeLinear of 8-bit integers (runtimes run it as the integer kernel).
   * `macs − intMacs` are float MACs. Null when `macs` is.
   */
  intMacs: number | null;
  /** Problems worth showing: 'unknown-op', 'unknown-shape', 'symbolic-shape'. */
  flags: LayerFlag[];
}

export type LayerFlag = 'unknown-op' | 'unknown-shape' | 'symbolic-shape';

/** A weight-only node: it computes a weight (an alias, a Constant, a folded chain), so it is no layer. */
export interface WeightNode {
  nodeIndex: number;
  name: string;
  opType: string;
  outputs: TensorFacts[];
  /** Layers that read its outputs, directly or through other weight-only nodes. */
  consumers: number[];
}

export interface ModelAnalysis {
  layers: LayerAnalysis[];
  /** Nodes that compute weights only, folded into the layers that read them (app/analysis/weights.ts). */
  weightNodes: WeightNode[];
  /** Which values are weights (never traffic, never a cut's crossing tensor) and what computes them. */
  weights: GraphWeights;
  /**
   * Symbolic dimensions of the model's inputs and the values the analysis used for them,
   * with where each came from: 'given' (the caller's dimValues) or 'default' (1).
   */
  symbolicDims: SymbolicDim[];
  /** Every value of the graph by name: inputs, initializers' consumers' outputs, node outputs. */
  tensors: Map<string, TensorFacts>;
  inputs: TensorFacts[];
  outputs: TensorFacts[];
  totals: {
    /** Elements of the weights the layers read, each stored weight counted once (shared weights too). */
    params: number;
    paramBytes: number;
    /** Sum over layers whose MACs are known. */
    macs: number;
    /** The integer part of `macs` (LayerAnalysis.intMacs); `macs − intMacs` are float MACs. */
    intMacs: number;
    /** Layers whose MACs could not be counted (unknown op or shape). */
    unknownMacLayers: number;
    /**
     * Bytes of weights one run reads: each stored weight once however many layers read it
     * (a PyTorch export's layers sharing weights through Identity read one copy), an
     * embedding table by the rows a Gather takes from it.
     */
    weightBytesPerRun: number;
  };
  /** Names of node outputs whose shapes static inference could not settle. */
  unresolved: string[];
}

/** A shape observed by running the model (main/model/runtime-shapes.ts). */
export interface RuntimeShape {
  elementType: ElementTypeName;
  shape: number[];
}

export interface SymbolicDim {
  name: string;
  value: number;
  source: 'given' | 'default';
}

export interface AnalyzeOptions {
  /** Values for symbolic dimensions, e.g. { batch: 1 }; unnamed dims default to nothing. */
  dimValues?: Record<string, number>;
  /** Give every symbolic input dimension without a value DEFAULT_SYMBOLIC_DIM (analyze.ts), reported in symbolicDims. */
  defaultSymbolicDims?: boolean;
  /** Shapes from a real run; they win over static inference for the tensors they cover. */
  runtimeShapes?: Map<string, RuntimeShape>;
}
