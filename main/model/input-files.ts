// Real model inputs from files, for profiling on the data a user cares about: NumPy
// `.npy` arrays and ONNX `TensorProto` files (`.pb`, as the ONNX test data sets ship
// them), given as `name=path` pairs. Each is checked against the model's declared input
// (name, element type, rank, static dims) with a one-line InputFileError; inputs with no
// file are generated (main/model/inputs.ts), their symbolic dims taken from the files' shapes.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { readTensor } from '../../app/onnx/reader.js';
import { formatShape, type OnnxModel } from '../../app/onnx/model.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';
import { generateInputs } from './inputs.js';
import { readRegularFile } from '../files/regular-file.js';

export class InputFileError extends Error {
  override name = 'InputFileError';
}

/** A tensor read from a file, before it is checked against the model. */
export interface FileTensor {
  elementType: LoadableType;
  dims: number[];
  data: ort.Tensor.DataType;
}

export type LoadableType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

const bytesPerElement: Record<LoadableType, number> = {
  float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1
};

/** NumPy type codes (without the byte-order character) → element types. */
const npyTypes: Record<string, LoadableType> = {
  f4: 'float32', f8: 'float64', f2: 'float16', i8: 'int64', i4: 'int32', i2: 'int16', i1: 'int8',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool'
};

function isLoadable(type: ElementTypeName): type is LoadableType {
  return type in bytesPerElement;
}

/** Little-endian bytes → a fresh, aligned typed array of `type`. */
function typedArrayFrom(type: LoadableType, bytes: Uint8Array, count: number): ort.Tensor.DataType {
  // A fresh copy (Node's Buffer.slice would share its pool): aligned and owned.
  const copy = new Uint8Array(bytes.subarray(0, count * bytesPerElement[type])).buffer;
  switch (type) {
    case 'float32': return new Float32Array(copy);
    case 'float64': return new Float64Array(copy);
    case 'float16': return new Uint16Array(copy);
    case 'int64': return new BigInt64Array(copy);
    case 'int32': return new Int32Array(copy);
    case 'int16': return new Int16Array(copy);
    case 'int8': return new Int8Array(copy);
    case 'uint8': return new Uint8Array(copy);
    case 'uint16': return new Uint16Array(copy);
    case 'uint32': return new Uint32Array(copy);
    case 'uint64': return new BigUint64Array(copy);
    case 'bool': return new Uint8Array(copy);
  }
}

/** Numbers (TensorProto's typed fields) → a typed array of `type`. */
function typedArrayFromValues(type: LoadableType, values: ArrayLike<number>): ort.Tensor.DataType {
  const list = Array.from(values);
  switch (type) {
    case 'float32': return Float32Array.from(list);
    case 'float64': return Float64Array.from(list);
    case 'float16': return Uint16Array.from(list); // int32_data holds the float16 bits
    case 'int64': return BigInt64Array.from(list, (v) => BigInt(Math.trunc(v)));
    case 'uint64': return BigUint64Array.from(list, (v) => BigInt(Math.trunc(v)));
    case 'int32': return Int32Array.from(list);
    case 'int16': return Int16Array.from(list);
    case 'int8': return Int8Array.from(list);
    case 'uint8': return Uint8Array.from(list);
    case 'uint16': return Uint16Array.from(list);
    case 'uint32': return Uint32Array.from(list);
    case 'bool': return Uint8Array.from(list, (v) => (v ? 1 : 0));
  }
}

/** A dtype from a .npy header as it may be quoted: only when it looks like one (errors never echo arbitrary bytes of a file). */
function dtypeLabel(descr: string): string {
  return /^[<>|=]?[a-zA-Z]\d{0,2}$/.test(descr) ? descr : '(not a NumPy type code)';
}

const npyMagic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Decodes a NumPy .npy file (format 1.0, 2.0 or 3.0; C order; little-endian). */
export function readNpy(bytes: Uint8Array, label: string): FileTensor {
  if (bytes.length < 10 || npyMagic.some((b, i) => bytes[i] !== b)) throw new InputFileError(`${label}: not a .npy file (no NUMPY magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputFileError(`${label}: truncated .npy header`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new InputFileError(`${label}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 and 3.0 are)`);
  }
  if (headerStart + headerLength > bytes.length) throw new InputFileError(`${label}: truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new InputFileError(`${label}: .npy header lacks descr, fortran_order or shape`);
  }
  if (fortran === 'True') throw new InputFileError(`${label}: Fortran-order .npy arrays are not supported; save it in C order (numpy.ascontiguousarray)`);
  const order = descr[0];
  const code = descr.slice(1);
  if (order === '>' && code !== 'i1' && code !== 'u1' && code !== 'b1') {
    throw new InputFileError(`${label}: big-endian .npy data (${dtypeLabel(descr)}) are not supported; save it little-endian`);
  }
  const elementType = npyTypes[code];
  if (!elementType || !'<|='.includes(order)) {
    // Quoted only when it looks like a dtype: errors about a file never echo arbitrary bytes of it.
    throw new InputFileError(`${label}: .npy dtype ${dtypeLabel(descr)} is not supported`);
  }
  const dims = shapeText
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new InputFileError(`${label}: .npy shape (${shapeText}) is not valid`);
  const count = dims.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(headerStart + headerLength);
  const needed = count * bytesPerElement[elementType];
  if (data.length < needed) throw new InputFileError(`${label}: .npy data are ${data.length} bytes, the shape (${dims.join(', ')}) needs ${needed}`);
  return { elementType, dims, data: typedArrayFrom(elementType, data, count) };
}

/** Decodes a serialized onnx.TensorProto (raw_data or the typed fields). */
export function readTensorProtoFile(bytes: Uint8Array, label: string): FileTensor {
  let proto: onnx.TensorProto;
  try {
    proto = onnx.TensorProto.decode(bytes);
  } catch {
    throw new InputFileError(`${label}: not an ONNX TensorProto file`);
  }
  const tensor = readTensor(proto);
  if (tensor.elementType === 'undefined') throw new InputFileError(`${label}: not an ONNX TensorProto file (no data type)`);
  if (!isLoadable(tensor.elementType)) throw new InputFileError(`${label}: TensorProto element type ${tensor.elementType} is not supported`);
  const { storage } = tensor;
  const type = tensor.elementType;
  let data: ort.Tensor.DataType;
  if (storage.kind === 'raw') {
    if (storage.bytes.length < tensor.byteLength) {
      throw new InputFileError(`${label}: TensorProto raw_data are ${storage.bytes.length} bytes, the shape [${tensor.dims.join(',')}] needs ${tensor.byteLength}`);
    }
    data = typedArrayFrom(type, storage.bytes, tensor.elementCount);
  } else if (storage.kind === 'values') {
    if (storage.values.length !== tensor.elementCount) {
      throw new InputFileError(`${label}: TensorProto holds ${storage.values.length} values, the shape [${tensor.dims.join(',')}] needs ${tensor.elementCount}`);
    }
    data = typedArrayFromValues(type, storage.values);
  } else if (storage.kind === 'empty' && tensor.elementCount === 0) {
    data = typedArrayFromValues(type, []);
  } else if (storage.kind === 'external') {
    throw new InputFileError(`${label}: TensorProto with external data is not supported`);
  } else {
    throw new InputFileError(`${label}: TensorProto has no data`);
  }
  return { elementType: type, dims: tensor.dims, data };
}

/** Reads a tensor file by its extension: .npy, else .pb / .onnx-tensor as TensorProto. */
export async function readTensorFile(filePath: string): Promise<FileTensor> {
  const bytes: Uint8Array = await readRegularFile(filePath, { makeError: (message) => new InputFileError(message) });
  return path.extname(filePath).toLowerCase() === '.npy' ? readNpy(bytes, filePath) : readTensorProtoFile(bytes, filePath);
}

/** `name=path` pairs → { name: path }; a bad or repeated pair is an InputFileError. */
export function parseInputPairs(pairs: readonly string[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const pair of pairs) {
    const split = pair.indexOf('=');
    if (split <= 0 || split === pair.length - 1) throw new InputFileError(`input file "${pair}" must be given as name=path`);
    const name = pair.slice(0, split);
    if (name in files) throw new InputFileError(`input "${name}" is given twice`);
    files[name] = pair.slice(split + 1);
  }
  return files;
}

function declaredInput(model: OnnxModel, name: string): OnnxModel['graph']['inputs'][number] {
  const declared = model.graph.inputs.find((i) => i.name === name);
  if (declared) return declared;
  const names = model.graph.inputs.map((i) => i.name).join(', ');
  throw new InputFileError(`input "${name}" is not an input of the model (its inputs: ${names})`);
}

/** Checks a file's tensor against the model's declared input; one line naming both when they differ. */
export function checkAgainstModel(model: OnnxModel, name: string, tensor: FileTensor): void {
  const type = declaredInput(model, name).type;
  if (!type) return;
  const shape = type.shape;
  const matches =
    type.elementType === tensor.elementType &&
    (shape === null || (shape.length === tensor.dims.length && shape.every((d, i) => typeof d !== 'number' || d < 0 || d === tensor.dims[i])));
  if (!matches) {
    throw new InputFileError(
      `input "${name}": expected ${type.elementType} ${formatShape(shape)}, file has ${tensor.elementType} ${formatShape(tensor.dims)}`
    );
  }
}

/**
 * Every model input as an onnxruntime tensor: from `files` (name → path) where given,
 * checked against the model; generated (seeded) for the rest.
 */
export async function loadInputs(
  model: OnnxModel,
  files: Record<string, string>,
  options: { seed?: number; dimValues?: Record<string, number> } = {}
): Promise<Record<string, ort.Tensor>> {
  const loaded: Record<string, ort.Tensor> = {};
  const dimValues = { ...(options.dimValues ?? {}) };
  for (const [name, filePath] of Object.entries(files)) {
    const declared = declaredInput(model, name);
    const tensor = await readTensorFile(filePath);
    checkAgainstModel(model, name, tensor);
    declared.type?.shape?.forEach((d, i) => {
        if (typeof d === 'string' && !(d in dimValues)) dimValues[d] = tensor.dims[i];
      });
    loaded[name] = new ort.Tensor(tensor.elementType, tensor.data, tensor.dims);
  }
  const missing = model.graph.inputs.some((i) => !(i.name in loaded));
  if (!missing) return loaded;
  const generated = generateInputs(model, { seed: options.seed, dimValues });
  return { ...generated, ...loaded };
}
