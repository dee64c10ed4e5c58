// onnxruntime tensors ↔ the raw little-endian tensors the Open Inference Protocol's binary
// extension carries (RawTensor, main/executor/link.ts). Numeric tensors become views of
// their own bytes, without a copy; BYTES (string) tensors use the protocol's layout, each
// element a 4-byte little-endian length followed by its bytes. Used by the split runner
// to ship a head's outputs to the executor and to read the tail's outputs back.
import * as ort from 'onnxruntime-node';
import type { OipDatatype, RawTensor } from './link.js';
import { encodeBytesElements } from './protocol.js';

export class TensorConversionError extends Error {
  override name = 'TensorConversionError';
}

type NumericOrtType = Exclude<ort.Tensor.Type, 'string' | 'int4' | 'uint4'>;

const oipByOrt: Record<NumericOrtType, OipDatatype> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL'
};

type TypedArrayConstructor =
  | Float32ArrayConstructor | Float64ArrayConstructor | Uint16ArrayConstructor | Int8ArrayConstructor
  | Int16ArrayConstructor | Int32ArrayConstructor | BigInt64ArrayConstructor | Uint8ArrayConstructor
  | Uint32ArrayConstructor | BigUint64ArrayConstructor;

const arrayByOip: Record<Exclude<OipDatatype, 'BYTES'>, { type: NumericOrtType; array: TypedArrayConstructor }> = {
  FP32: { type: 'float32', array: Float32Array },
  FP64: { type: 'float64', array: Float64Array },
  FP16: { type: 'float16', array: Uint16Array },
  INT8: { type: 'int8', array: Int8Array },
  INT16: { type: 'int16', array: Int16Array },
  INT32: { type: 'int32', array: Int32Array },
  INT64: { type: 'int64', array: BigInt64Array },
  UINT8: { type: 'uint8', array: Uint8Array },
  UINT16: { type: 'uint16', array: Uint16Array },
  UINT32: { type: 'uint32', array: Uint32Array },
  UINT64: { type: 'uint64', array: BigUint64Array },
  BOOL: { type: 'bool', array: Uint8Array }
};

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}


function decodeStrings(raw: RawTensor): string[] {
  const bytes = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  const values: string[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 4 > bytes.byteLength) throw new TensorConversionError(`tensor "${raw.name}": BYTES data ends inside an element's length`);
    const length = bytes.readUInt32LE(offset);
    if (offset + 4 + length > bytes.byteLength) throw new TensorConversionError(`tensor "${raw.name}": BYTES element runs past the end of the data`);
    values.push(bytes.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return values;
}

/** A tensor's bytes as a RawTensor; numeric data is a view, not a copy. */
export function toRawTensor(name: string, tensor: ort.Tensor): RawTensor {
  const shape = [...tensor.dims];
  if (tensor.type === 'string') return { name, datatype: 'BYTES', shape, data: encodeBytesElements(tensor.data as string[]) };
  const datatype = oipByOrt[tensor.type as NumericOrtType];
  if (!datatype) throw new TensorConversionError(`tensor "${name}" has element type ${tensor.type}, which the Open Inference Protocol cannot carry`);
  const data = tensor.data as ArrayBufferView;
  return { name, datatype, shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** An onnxruntime tensor from a RawTensor; copies only when the bytes are not aligned for their type. */
export function fromRawTensor(raw: RawTensor): ort.Tensor {
  const count = elementCount(raw.shape);
  if (raw.datatype === 'BYTES') {
    const values = decodeStrings(raw);
    if (values.length !== count) throw new TensorConversionError(`tensor "${raw.name}": ${values.length} BYTES elements for shape [${raw.shape.join(',')}]`);
    return new ort.Tensor('string', values, raw.shape);
  }
  const spec = arrayByOip[raw.datatype];
  if (!spec) throw new TensorConversionError(`tensor "${raw.name}" has unknown datatype ${String(raw.datatype)}`);
  const size = spec.array.BYTES_PER_ELEMENT;
  if (raw.data.byteLength !== count * size) {
    throw new TensorConversionError(`tensor "${raw.name}": ${raw.data.byteLength} bytes for ${count} ${raw.datatype} elements (expected ${count * size})`);
  }
  const aligned = raw.data.byteOffset % size === 0 ? raw.data : raw.data.slice();
  const data = new spec.array(aligned.buffer as ArrayBuffer, aligned.byteOffset, count);
  return new ort.Tensor(spec.type, data as ort.Tensor.DataTypeMap[NumericOrtType], raw.shape);
}

/** The byte length of a RawTensor's data (what crosses the link for it). */
export function rawBytes(tensors: readonly RawTensor[]): number {
  return tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
}
