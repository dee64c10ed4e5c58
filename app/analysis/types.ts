// What per-layer analysis produces: for every node its output tensors (shape, type,
// bytes), parameters and multiply-accumulates, and where each shape came from. The
// partitioner, the CLI and the studio all read these types.
import type { ElementTypeName } from '../onnx/element-type.js';
import type { Dim } from '../onnx/model.js';

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

export interface LayerAnalysis {
  index: number;
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: TensorFacts[];
  /** Sum of the outputs' bytes; null when any output size is unknown. */
  outputBytes: number | null;
  /** Elements of the initializers this node reads (weights, biases). */
  params: number;
  paramBytes: number;
  /** Multiply-accumulates; null when the op is unknown or its shapes are not known. */
  macs: number | null;
  /** Problems worth showing: 'unknown-op', 'unknown-shape', 'symbolic-shape'. */
  flags: LayerFlag[];
}

export type LayerFlag = 'unknown-op' | 'unknown-shape' | 'symbolic-shape';

export interface ModelAnalysis {
  layers: LayerAnalysis[];
  /** Every value of the graph by name: inputs, initializers' consumers' outputs, node outputs. */
  tensors: Map<string, TensorFacts>;
  inputs: TensorFacts[];
  outputs: TensorFacts[];
  totals: {
    /** Elements of the initializers the nodes read, each initializer counted once (shared weights too). */
    params: number;
    paramBytes: number;
    /** Sum over layers whose MACs are known. */
    macs: number;
    /** Layers whose MACs could not be counted (unknown op or shape). */
    unknownMacLayers: number;
  };
  /** Names of node outputs whose shapes static inference could not settle. */
  unresolved: string[];
}

/** A shape observed by running the model (main/model/runtime-shapes.ts). */
export interface RuntimeShape {
  elementType: ElementTypeName;
  shape: number[];
}

export interface AnalyzeOptions {
  /** Values for symbolic dimensions, e.g. { batch: 1 }; unnamed dims default to nothing. */
  dimValues?: Record<string, number>;
  /** Shapes from a real run; they win over static inference for the tensors they cover. */
  runtimeShapes?: Map<string, RuntimeShape>;
}
