// Bytes → typed ONNX graph (model.ts). Decoding uses the protobufjs code generated from
// onnx.proto; `bytes` fields come back as views into the input, so a 500 MB model is
// held in memory once. Errors are OnnxFormatError with a one-line message.
import type Long from 'long';
import { onnx } from './generated/onnx.js';
import { byteSizeOf, elementTypeName } from './element-type.js';
import type {
  AttributeValue,
  Dim,
  ExternalDataReference,
  OnnxGraph,
  OnnxModel,
  OnnxNode,
  OnnxTensor,
  TensorStorage,
  TensorType,
  ValueInfo
} from './model.js';

export class OnnxFormatError extends Error {
  override name = 'OnnxFormatError';
}

type IntLike = number | Long | null | undefined;

export function toNumber(value: IntLike): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

const textDecoder = new TextDecoder();

/** Decodes an ONNX model. Throws OnnxFormatError naming what is wrong. */
export function readOnnxModel(bytes: Uint8Array): OnnxModel {
  if (bytes.byteLength === 0) throw new OnnxFormatError('not an ONNX model: the file is empty');
  checkTopLevelFields(bytes);
  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw describeDecodeError(error, bytes.byteLength);
  }
  const irVersion = toNumber(proto.irVersion);
  if (!proto.graph || irVersion <= 0 || irVersion > 64) {
    throw new OnnxFormatError('not an ONNX model: no graph or IR version in the file');
  }
  if (irVersion >= 3 && proto.opsetImport.length === 0) {
    throw new OnnxFormatError('not an ONNX model: no opset import');
  }
  const externalData: ExternalDataReference[] = [];
  const graph = readGraph(proto.graph, externalData);
  return {
    irVersion,
    opsetImports: proto.opsetImport.map((o) => ({ domain: o.domain ?? '', version: toNumber(o.version) })),
    producerName: proto.producerName ?? '',
    producerVersion: proto.producerVersion ?? '',
    graph,
    externalData,
    byteLength: bytes.byteLength,
    proto
  };
}

function describeDecodeError(error: unknown, size: number): OnnxFormatError {
  const message = error instanceof Error ? error.message : String(error);
  if (/index out of range/.test(message)) {
    return new OnnxFormatError(`corrupt ONNX model: a field runs past the end of the data (${size} bytes)`);
  }
  const wireType = /invalid wire type (\d+) at offset (\d+)/.exec(message);
  if (wireType) return new OnnxFormatError(`corrupt ONNX model: invalid protobuf data at byte ${wireType[2]}`);
  return new OnnxFormatError(`corrupt ONNX model: ${message.split('\n')[0]}`);
}

/** ModelProto's field numbers and their wire types (0 varint, 2 length-delimited). */
const modelFieldWireTypes = new Map<number, number>([
  [1, 0], [2, 2], [3, 2], [4, 2], [5, 0], [6, 2], [7, 2], [8, 2], [14, 2], [20, 2], [25, 2], [26, 2]
]);

/**
 * Walks the top-level fields only (cheap: lengths are skipped, not read) to tell a file
 * that is not ONNX at all from a real model that was cut short.
 */
function checkTopLevelFields(bytes: Uint8Array): void {
  let pos = 0;
  let sawGraph = false;
  const readVarint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length) throw new OnnxFormatError(`truncated ONNX model: the data ends at byte ${bytes.length}`);
      const byte = bytes[pos++];
      if (shift < 49) result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if ((byte & 0x80) === 0) return result;
      if (shift > 70) throw new OnnxFormatError(`not an ONNX model: invalid data at byte ${pos}`);
    }
  };
  while (pos < bytes.length) {
    const start = pos;
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (modelFieldWireTypes.get(field) !== wireType) {
      throw new OnnxFormatError(`not an ONNX model: unexpected data at byte ${start}`);
    }
    if (wireType === 0) {
      readVarint();
      continue;
    }
    const length = readVarint();
    if (pos + length > bytes.length) {
      throw new OnnxFormatError(
        `truncated ONNX model: the ${field === 7 ? 'graph' : `field ${field}`} needs ${pos + length} bytes but the data ends at ${bytes.length}`
      );
    }
    if (field === 7) sawGraph = true;
    pos += length;
  }
  if (!sawGraph) throw new OnnxFormatError('not an ONNX model: it has no graph');
}

function readGraph(graph: onnx.IGraphProto, externalData: ExternalDataReference[]): OnnxGraph {
  const initializers = new Map<string, OnnxTensor>();
  for (const tensorProto of graph.initializer ?? []) {
    const tensor = readTensor(tensorProto);
    initializers.set(tensor.name, tensor);
    if (tensor.storage.kind === 'external') {
      const { location, offset, length } = tensor.storage;
      externalData.push({ tensor: tensor.name, location, offset, length });
    }
  }
  const nodes: OnnxNode[] = (graph.node ?? []).map((node, index) => readNode(node, index, externalData));
  const valueInfo = new Map<string, ValueInfo>();
  for (const info of graph.valueInfo ?? []) {
    const value = readValueInfo(info);
    valueInfo.set(value.name, value);
  }
  return {
    name: graph.name ?? '',
    nodes,
    initializers,
    inputs: (graph.input ?? []).map(readValueInfo).filter((v) => !initializers.has(v.name)),
    outputs: (graph.output ?? []).map(readValueInfo),
    valueInfo
  };
}

function readNode(node: onnx.INodeProto, index: number, externalData: ExternalDataReference[]): OnnxNode {
  const opType = node.opType ?? '';
  const attributes = new Map<string, AttributeValue>();
  for (const attribute of node.attribute ?? []) {
    attributes.set(attribute.name ?? '', readAttribute(attribute, externalData));
  }
  return {
    index,
    name: node.name || `${opType}_${index}`,
    opType,
    domain: node.domain === 'ai.onnx' ? '' : (node.domain ?? ''),
    inputs: node.input ?? [],
    outputs: node.output ?? [],
    attributes
  };
}

const AttributeType = onnx.AttributeProto.AttributeType;

function readAttribute(attribute: onnx.IAttributeProto, externalData: ExternalDataReference[]): AttributeValue {
  switch (attribute.type) {
    case AttributeType.FLOAT:
      return { kind: 'float', value: attribute.f ?? 0 };
    case AttributeType.INT:
      return { kind: 'int', value: toNumber(attribute.i) };
    case AttributeType.STRING:
      return { kind: 'string', value: textDecoder.decode(attribute.s ?? new Uint8Array()) };
    case AttributeType.TENSOR:
      return { kind: 'tensor', value: readTensor(attribute.t ?? {}) };
    case AttributeType.GRAPH:
      return { kind: 'graph', value: readGraph(attribute.g ?? {}, externalData) };
    case AttributeType.FLOATS:
      return { kind: 'floats', value: [...(attribute.floats ?? [])] };
    case AttributeType.INTS:
      return { kind: 'ints', value: (attribute.ints ?? []).map(toNumber) };
    case AttributeType.STRINGS:
      return { kind: 'strings', value: (attribute.strings ?? []).map((s) => textDecoder.decode(s)) };
    case AttributeType.TENSORS:
      return { kind: 'tensors', value: (attribute.tensors ?? []).map(readTensor) };
    case AttributeType.GRAPHS:
      return { kind: 'graphs', value: (attribute.graphs ?? []).map((g) => readGraph(g, externalData)) };
    default:
      return { kind: 'unsupported', type: String(attribute.type ?? 'UNDEFINED') };
  }
}

export function readTensor(tensor: onnx.ITensorProto): OnnxTensor {
  const elementType = elementTypeName(tensor.dataType ?? 0);
  const dims = (tensor.dims ?? []).map(toNumber);
  const elementCount = dims.reduce((a, b) => a * b, 1);
  return {
    name: tensor.name ?? '',
    elementType,
    dims,
    elementCount,
    byteLength: byteSizeOf(elementType, elementCount),
    storage: tensorStorage(tensor, elementType)
  };
}

function tensorStorage(tensor: onnx.ITensorProto, elementType: string): TensorStorage {
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const entries = new Map((tensor.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const location = entries.get('location') ?? '';
    const length = entries.has('length') ? Number(entries.get('length')) : null;
    return { kind: 'external', location, offset: Number(entries.get('offset') ?? 0), length };
  }
  if (tensor.rawData && tensor.rawData.byteLength > 0) return { kind: 'raw', bytes: tensor.rawData };
  if (elementType === 'string') return { kind: 'strings', values: tensor.stringData ?? [] };
  const numeric =
    pick(tensor.floatData) ?? pick(tensor.doubleData) ?? pickLong(tensor.int64Data) ?? pickLong(tensor.uint64Data) ?? pick(tensor.int32Data);
  return numeric ? { kind: 'values', values: numeric } : { kind: 'empty' };
}

function pick(values: number[] | null | undefined): number[] | null {
  return values && values.length > 0 ? values : null;
}

function pickLong(values: IntLike[] | null | undefined): number[] | null {
  return values && values.length > 0 ? values.map(toNumber) : null;
}

function readValueInfo(info: onnx.IValueInfoProto): ValueInfo {
  return { name: info.name ?? '', type: readTensorType(info.type) };
}

function readTensorType(type: onnx.ITypeProto | null | undefined): TensorType | null {
  const tensorType = type?.tensorType ?? type?.sparseTensorType;
  if (!tensorType) return null;
  const shape: Dim[] | null = tensorType.shape
    ? (tensorType.shape.dim ?? []).map((d) => {
        if (d.dimValue !== null && d.dimValue !== undefined && d.value === 'dimValue') return toNumber(d.dimValue);
        if (d.dimParam) return d.dimParam;
        return null;
      })
    : null;
  return { elementType: elementTypeName(tensorType.elemType ?? 0), shape };
}

/**
 * Numeric values of a small inline tensor (shape constants, axes, Slice bounds), or null
 * when the tensor is external, non-numeric or larger than `limit` elements.
 */
export function tensorValues(tensor: OnnxTensor, limit = 4096): number[] | null {
  if (tensor.elementCount > limit) return null;
  const { storage } = tensor;
  if (storage.kind === 'values') return Array.from(storage.values);
  if (storage.kind === 'empty') return tensor.elementCount === 0 ? [] : null;
  if (storage.kind !== 'raw') return null;
  const view = new DataView(storage.bytes.buffer, storage.bytes.byteOffset, storage.bytes.byteLength);
  const out: number[] = new Array(tensor.elementCount);
  const read: ((offset: number) => number) | null = (() => {
    switch (tensor.elementType) {
      case 'float32':
        return (i: number) => view.getFloat32(i * 4, true);
      case 'float64':
        return (i: number) => view.getFloat64(i * 8, true);
      case 'int64':
        return (i: number) => Number(view.getBigInt64(i * 8, true));
      case 'uint64':
        return (i: number) => Number(view.getBigUint64(i * 8, true));
      case 'int32':
        return (i: number) => view.getInt32(i * 4, true);
      case 'uint32':
        return (i: number) => view.getUint32(i * 4, true);
      case 'int16':
        return (i: number) => view.getInt16(i * 2, true);
      case 'uint16':
        return (i: number) => view.getUint16(i * 2, true);
      case 'int8':
        return (i: number) => view.getInt8(i);
      case 'uint8':
      case 'bool':
        return (i: number) => view.getUint8(i);
      default:
        return null;
    }
  })();
  if (!read || storage.bytes.byteLength < tensor.byteLength) return null;
  for (let i = 0; i < tensor.elementCount; i++) out[i] = read(i);
  return out;
}
