// The typed ONNX graph the whole engine works on. `reader.ts` builds it from bytes;
// analysis, partitioning and the UI read it; surgery (main/) writes new models from the
// protobuf objects it keeps (`OnnxModel.proto`), so weights are never copied to be read.
import type { onnx } from './generated/onnx.js';
import type { ElementTypeName } from './element-type.js';

/** A static size, a symbolic one (`dim_param`, e.g. "batch"), or unknown. */
export type Dim = number | string | null;

export interface TensorType {
  elementType: ElementTypeName;
  /** null when the rank itself is unknown. */
  shape: Dim[] | null;
}

export interface ValueInfo {
  name: string;
  /** null for non-tensor values (sequences, maps) or when the file gives no type. */
  type: TensorType | null;
}

export type AttributeValue =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: OnnxTensor }
  | { kind: 'graph'; value: OnnxGraph }
  | { kind: 'floats'; value: number[] }
  | { kind: 'ints'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensors'; value: OnnxTensor[] }
  | { kind: 'graphs'; value: OnnxGraph[] }
  | { kind: 'unsupported'; type: string };

/** Where a tensor's bytes are. Inline data are views into the file's bytes, never copies. */
export type TensorStorage =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'values'; values: ArrayLike<number> }
  | { kind: 'strings'; values: Uint8Array[] }
  | { kind: 'external'; location: string; offset: number; length: number | null }
  | { kind: 'empty' };

export interface OnnxTensor {
  name: string;
  elementType: ElementTypeName;
  dims: number[];
  /** Number of elements (product of dims; 1 for a scalar). */
  elementCount: number;
  /** Size of the data in bytes, from dims and type (external or inline alike). */
  byteLength: number;
  storage: TensorStorage;
}

export interface OnnxNode {
  /** Position in the graph's node list (which ONNX requires to be topologically sorted). */
  index: number;
  /** The node's name, or `${opType}_${index}` when the file leaves it empty. */
  name: string;
  opType: string;
  /** '' for the default ONNX domain (ai.onnx). */
  domain: string;
  /** Input value names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attributes: Map<string, AttributeValue>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  /** Runtime inputs: graph inputs that are not also initializers. */
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** value_info entries, the types the file declares for intermediate values. */
  valueInfo: Map<string, ValueInfo>;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface ExternalDataReference {
  tensor: string;
  location: string;
  offset: number;
  length: number | null;
}

export interface OnnxModel {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  /** Every initializer whose bytes live in a side file; main/ resolves them. */
  externalData: ExternalDataReference[];
  /** Size of the bytes the model was read from. */
  byteLength: number;
  /** The decoded protobuf, kept for writing new models (surgery) without copying weights. */
  proto: onnx.ModelProto;
}

/** Default-domain opset version of a model (the one most ops are versioned by). */
export function defaultOpset(model: Pick<OnnxModel, 'opsetImports'>): number {
  const entry = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return entry ? entry.version : 0;
}

export function formatShape(shape: Dim[] | null): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}
