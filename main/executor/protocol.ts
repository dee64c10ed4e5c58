// The Open Inference Protocol (KServe v2 REST, as NVIDIA Triton speaks it) as bytes: the
// JSON request and response objects, Triton's binary tensor data extension (a JSON header
// of Inference-Header-Content-Length bytes, then the raw tensors in order), the mapping of
// protocol datatypes to onnxruntime's, and the checks of tensors against a model's inputs.
// The executor server (server.ts) and its client (client.ts) both encode and decode here,
// so the two sides cannot drift apart. Also the scanner of Triton's model upload body
// (parseLoadRequest), which must not turn a ~740 MB base64 body into one string.
import type { OipDatatype, RawTensor } from './link.js';

/** A request the protocol says is wrong: carries the HTTP status the server answers with. */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
  }
}

export const INFERENCE_HEADER = 'inference-header-content-length';

export type ParameterValue = string | number | boolean;
export type Parameters = Record<string, ParameterValue>;

export interface TensorMetadata {
  name: string;
  datatype: OipDatatype;
  /** -1 for a dimension of any size (symbolic or unknown in the model). */
  shape: number[];
}

/** $metadata_model_response of the protocol. */
export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** $metadata_server_response. */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

interface RequestInputJson {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  parameters?: Parameters;
  data?: unknown[];
}

interface RequestOutputJson {
  name: string;
  parameters?: Parameters;
}

export interface InferRequestJson {
  id?: string;
  parameters?: Parameters;
  inputs: RequestInputJson[];
  outputs?: RequestOutputJson[];
}

export interface ResponseOutputJson {
  name: string;
  shape: number[];
  datatype: OipDatatype;
  parameters?: Parameters;
  data?: unknown[];
}

export interface InferResponseJson {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutputJson[];
}

/** One entry of $repository_index_response; `sha256` is this executor's addition. */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  reason: string;
  sha256?: string;
}

// ---- datatypes ------------------------------------------------------------------------

/** onnxruntime-node's tensor type names (a string union kept here so this file needs no onnxruntime import). */
export type OrtTensorType =
  | 'bool' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'int8' | 'int16' | 'int32' | 'int64'
  | 'float16' | 'float32' | 'float64' | 'string';

const ortTypeByDatatype: Record<OipDatatype, OrtTensorType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string'
};

const datatypeByOrtType = new Map<string, OipDatatype>(Object.entries(ortTypeByDatatype).map(([oip, ort]) => [ort, oip as OipDatatype]));

/** Bytes per element; 0 for BYTES, whose elements carry their own length. */
const elementSizes: Record<OipDatatype, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BYTES: 0
};

export function isOipDatatype(value: unknown): value is OipDatatype {
  return typeof value === 'string' && Object.hasOwn(elementSizes, value);
}

export function ortTypeOf(datatype: OipDatatype): OrtTensorType {
  return ortTypeByDatatype[datatype];
}

/** The protocol datatype of an onnxruntime tensor type, or null when the protocol has none (e.g. int4). */
export function datatypeOfOrtType(type: string): OipDatatype | null {
  return datatypeByOrtType.get(type) ?? null;
}

export function elementSize(datatype: OipDatatype): number {
  return elementSizes[datatype];
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

// The binary extension is little-endian; typed arrays use the platform's order.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('the executor protocol needs a little-endian platform');

// ---- FP16 -----------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of a number (round to nearest, ties to even). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const full = mantissa | 0x800000;
    const shift = 14 - e;
    return sign | ((full + (1 << (shift - 1)) - 1 + ((full >> shift) & 1)) >> shift);
  }
  mantissa += 0xfff + ((mantissa >> 13) & 1);
  if (mantissa & 0x800000) {
    mantissa = 0;
    e += 1;
    if (e >= 0x1f) return sign | 0x7c00;
  }
  return sign | (e << 10) | (mantissa >> 13);
}

export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// ---- BYTES elements -------------------------------------------------------------------

/** BYTES elements as the binary extension lays them out: a 4-byte LE length, then the bytes. */
export function encodeBytesElements(values: readonly (string | Uint8Array)[]): Uint8Array {
  const encoded = values.map((v) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v));
  const out = Buffer.allocUnsafe(encoded.reduce((sum, bytes) => sum + 4 + bytes.byteLength, 0));
  let offset = 0;
  for (const bytes of encoded) {
    out.writeUInt32LE(bytes.byteLength, offset);
    out.set(bytes, offset + 4);
    offset += 4 + bytes.byteLength;
  }
  return plainView(out);
}

/**
 * A plain Uint8Array over the same bytes. RawTensor data must not be a Buffer: a Buffer's
 * slice() is a view, where consumers expect Uint8Array's copy (e.g. to realign).
 */
function plainView(bytes: Uint8Array, start = 0, end = bytes.byteLength): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start);
}

/** The elements of BYTES data; throws naming the tensor when the layout is broken. */
export function decodeBytesElements(tensorName: string, data: Uint8Array): string[] {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const values: string[] = [];
  let offset = 0;
  while (offset < bytes.byteLength) {
    if (offset + 4 > bytes.byteLength) throw new ProtocolError(400, `tensor '${tensorName}': BYTES data ends inside an element's length`);
    const length = bytes.readUInt32LE(offset);
    if (offset + 4 + length > bytes.byteLength) throw new ProtocolError(400, `tensor '${tensorName}': a BYTES element runs past the end of the data`);
    values.push(bytes.toString('utf8', offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return values;
}

// ---- JSON tensor data ↔ bytes -----------------------------------------------------------

function flatten(data: unknown[]): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: unknown[][] = [data];
  const positions = [0];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const index = positions[positions.length - 1];
    if (index >= top.length) {
      stack.pop();
      positions.pop();
      continue;
    }
    positions[positions.length - 1] = index + 1;
    const value = top[index];
    if (Array.isArray(value)) {
      stack.push(value);
      positions.push(0);
    } else out.push(value);
  }
  return out;
}

function integerRange(datatype: OipDatatype): [number, number] {
  switch (datatype) {
    case 'UINT8':
      return [0, 0xff];
    case 'UINT16':
      return [0, 0xffff];
    case 'UINT32':
      return [0, 0xffffffff];
    case 'INT8':
      return [-0x80, 0x7f];
    case 'INT16':
      return [-0x8000, 0x7fff];
    default:
      return [-0x80000000, 0x7fffffff];
  }
}

/**
 * JSON `data` (flat or nested, row-major) as the tensor's binary layout. Each element is
 * checked against the datatype; the count must match the shape.
 */
export function jsonDataToBytes(name: string, datatype: OipDatatype, shape: readonly number[], data: unknown[]): Uint8Array {
  const values = flatten(data);
  const count = elementCount(shape);
  if (values.length !== count) throw new ProtocolError(400, `tensor '${name}': ${values.length} data elements for shape [${shape.join(',')}] (${count} expected)`);
  const bad = (index: number): ProtocolError =>
    new ProtocolError(400, `tensor '${name}': element ${index} (${JSON.stringify(values[index]) ?? String(values[index])}) is not a valid ${datatype} value`);
  switch (datatype) {
    case 'BYTES': {
      if (values.some((v) => typeof v !== 'string')) throw bad(values.findIndex((v) => typeof v !== 'string'));
      return encodeBytesElements(values as string[]);
    }
    case 'BOOL': {
      const out = new Uint8Array(count);
      values.forEach((v, i) => {
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) throw bad(i);
      });
      return out;
    }
    case 'INT64':
    case 'UINT64': {
      const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
      const [low, high] = datatype === 'INT64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      values.forEach((v, i) => {
        let big: bigint;
        if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && /^-?\d+$/.test(v)) big = BigInt(v);
        else throw bad(i);
        if (big < low || big > high) throw bad(i);
        out[i] = big;
      });
      return new Uint8Array(out.buffer);
    }
    case 'FP16': {
      const out = new Uint16Array(count);
      values.forEach((v, i) => {
        if (typeof v !== 'number') throw bad(i);
        out[i] = float16Bits(v);
      });
      return new Uint8Array(out.buffer);
    }
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(count) : new Float64Array(count);
      values.forEach((v, i) => {
        if (typeof v !== 'number') throw bad(i);
        out[i] = v;
      });
      return new Uint8Array(out.buffer);
    }
    default: {
      const [low, high] = integerRange(datatype);
      const Array_ = { UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array, INT8: Int8Array, INT16: Int16Array, INT32: Int32Array }[datatype];
      const out = new Array_(count);
      values.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < low || v > high) throw bad(i);
        out[i] = v;
      });
      return new Uint8Array(out.buffer);
    }
  }
}

/** A tensor's bytes as JSON `data` (flat, row-major); 64-bit integers become numbers. */
export function bytesToJsonData(tensor: RawTensor): unknown[] {
  const { data } = tensor;
  const aligned = data.byteOffset % 8 === 0 ? data : data.slice();
  const view = <T>(Ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number }): T =>
    new Ctor(aligned.buffer, aligned.byteOffset, aligned.byteLength / Ctor.BYTES_PER_ELEMENT);
  switch (tensor.datatype) {
    case 'BYTES':
      return decodeBytesElements(tensor.name, data);
    case 'BOOL':
      return Array.from(data, (v) => v !== 0);
    case 'INT64':
      return Array.from(view(BigInt64Array), Number);
    case 'UINT64':
      return Array.from(view(BigUint64Array), Number);
    case 'FP16':
      return Array.from(view(Uint16Array), float16Value);
    case 'FP32':
      return Array.from(view(Float32Array));
    case 'FP64':
      return Array.from(view(Float64Array));
    case 'UINT8':
      return Array.from(data);
    case 'UINT16':
      return Array.from(view(Uint16Array));
    case 'UINT32':
      return Array.from(view(Uint32Array));
    case 'INT8':
      return Array.from(view(Int8Array));
    case 'INT16':
      return Array.from(view(Int16Array));
    case 'INT32':
      return Array.from(view(Int32Array));
  }
}

/** Checks that a tensor's byte count fits its shape and datatype (for BYTES: its element count). */
export function checkTensorBytes(tensor: RawTensor): void {
  const count = elementCount(tensor.shape);
  if (tensor.datatype === 'BYTES') {
    const elements = decodeBytesElements(tensor.name, tensor.data).length;
    if (elements !== count) throw new ProtocolError(400, `tensor '${tensor.name}': ${elements} BYTES elements for shape [${tensor.shape.join(',')}] (${count} expected)`);
    return;
  }
  const expected = count * elementSize(tensor.datatype);
  if (tensor.data.byteLength !== expected) {
    throw new ProtocolError(
      400,
      `tensor '${tensor.name}': ${tensor.data.byteLength} bytes for shape [${tensor.shape.join(',')}] of ${tensor.datatype} (${expected} expected)`
    );
  }
}

// ---- inference request (server side: decode; client side: encode) ---------------------

export interface RequestedOutput {
  name: string;
  binary: boolean;
}

export interface DecodedInferRequest {
  id?: string;
  parameters: Parameters;
  inputs: RawTensor[];
  /** null: every model output, each binary or JSON as `binaryByDefault` says. */
  outputs: RequestedOutput[] | null;
  binaryByDefault: boolean;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkParameters(value: unknown, where: string): Parameters {
  if (value === undefined) return {};
  if (!isRecord(value)) throw new ProtocolError(400, `${where}: "parameters" must be an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new ProtocolError(400, `${where}: parameter "${key}" must be a string, number or boolean`);
    }
  }
  return value as Parameters;
}

function parseJsonHeader(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (error) {
    throw new ProtocolError(400, `${what} is not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
}

/**
 * Parses the header-content-length header value: null when absent, else a whole number
 * that must fit inside the body.
 */
export function headerLength(value: string | string[] | undefined, bodyLength: number): number | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value[0] : value;
  if (!/^\d+$/.test(text.trim())) throw new ProtocolError(400, `Inference-Header-Content-Length must be a whole number, got "${text}"`);
  const length = Number(text.trim());
  if (length > bodyLength) {
    throw new ProtocolError(400, `Inference-Header-Content-Length is ${length} but the body has only ${bodyLength} bytes`);
  }
  return length;
}

/**
 * Decodes an inference request body: all JSON, or (with `jsonLength`) a JSON header and
 * the binary data of the inputs that carry `binary_data_size`, in order. Binary inputs
 * are views of `body`, not copies.
 */
export function decodeInferRequest(body: Uint8Array, jsonLength: number | null): DecodedInferRequest {
  const jsonEnd = jsonLength ?? body.byteLength;
  const json = parseJsonHeader(body.subarray(0, jsonEnd), 'the inference request');
  if (!isRecord(json)) throw new ProtocolError(400, 'the inference request must be a JSON object');
  if (json.id !== undefined && typeof json.id !== 'string') throw new ProtocolError(400, 'request "id" must be a string');
  const parameters = checkParameters(json.parameters, 'the inference request');
  if (!Array.isArray(json.inputs)) throw new ProtocolError(400, 'the inference request has no "inputs" array');
  let offset = jsonEnd;
  const seen = new Set<string>();
  const inputs = json.inputs.map((input: unknown, index: number): RawTensor => {
    if (!isRecord(input) || typeof input.name !== 'string') throw new ProtocolError(400, `input ${index} has no "name"`);
    const name = input.name;
    if (seen.has(name)) throw new ProtocolError(400, `input '${name}' is given twice`);
    seen.add(name);
    if (!isOipDatatype(input.datatype)) throw new ProtocolError(400, `input '${name}': unknown datatype ${JSON.stringify(input.datatype) ?? 'undefined'}`);
    const shape = input.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new ProtocolError(400, `input '${name}': "shape" must be an array of whole numbers ≥ 0`);
    }
    const inputParameters = checkParameters(input.parameters, `input '${name}'`);
    const binarySize = inputParameters.binary_data_size;
    let data: Uint8Array;
    if (binarySize !== undefined) {
      if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0) {
        throw new ProtocolError(400, `input '${name}': binary_data_size must be a whole number ≥ 0`);
      }
      if (jsonLength === null) throw new ProtocolError(400, `input '${name}' has binary_data_size but the request has no Inference-Header-Content-Length header`);
      if (offset + binarySize > body.byteLength) {
        throw new ProtocolError(400, `input '${name}': binary_data_size ${binarySize} runs past the end of the body (${body.byteLength - offset} bytes left)`);
      }
      data = plainView(body, offset, offset + binarySize);
      offset += binarySize;
    } else {
      if (!Array.isArray(input.data)) throw new ProtocolError(400, `input '${name}' has neither "data" nor binary_data_size`);
      data = jsonDataToBytes(name, input.datatype, shape, input.data);
    }
    const tensor: RawTensor = { name, datatype: input.datatype, shape, data };
    checkTensorBytes(tensor);
    return tensor;
  });
  if (offset !== body.byteLength) {
    throw new ProtocolError(400, `the body has ${body.byteLength - offset} bytes of binary data that no input claims`);
  }
  const binaryByDefault = parameters.binary_data_output === true;
  let outputs: RequestedOutput[] | null = null;
  // No "outputs", or an empty list, asks for every output (as Triton does).
  if (json.outputs !== undefined) {
    if (!Array.isArray(json.outputs)) throw new ProtocolError(400, '"outputs" must be an array');
    outputs = json.outputs.map((output: unknown, index: number): RequestedOutput => {
      if (!isRecord(output) || typeof output.name !== 'string') throw new ProtocolError(400, `requested output ${index} has no "name"`);
      const outputParameters = checkParameters(output.parameters, `output '${output.name}'`);
      const binary = outputParameters.binary_data;
      return { name: output.name, binary: typeof binary === 'boolean' ? binary : binaryByDefault };
    });
    if (outputs.length === 0) outputs = null;
  }
  return { ...(typeof json.id === 'string' ? { id: json.id } : {}), parameters, inputs, outputs, binaryByDefault };
}

/** An encoded body: the JSON header and the chunks that follow it, with the header's length. */
export interface EncodedBody {
  json: Buffer;
  chunks: Uint8Array[];
  /** Inference-Header-Content-Length; null when the body is JSON alone. */
  headerLength: number | null;
  byteLength: number;
}

function encodedBody(json: object, chunks: Uint8Array[]): EncodedBody {
  const header = Buffer.from(JSON.stringify(json), 'utf8');
  const binaryBytes = chunks.reduce((sum, c) => sum + c.byteLength, 0);
  return { json: header, chunks, headerLength: chunks.length > 0 ? header.byteLength : null, byteLength: header.byteLength + binaryBytes };
}

/** A request with every input as binary data and every output asked for as binary (client side). */
export function encodeInferRequest(inputs: readonly RawTensor[], options: { outputs?: readonly string[]; id?: string; parameters?: Parameters } = {}): EncodedBody {
  for (const input of inputs) checkTensorBytes(input);
  const json: InferRequestJson = {
    ...(options.id !== undefined ? { id: options.id } : {}),
    parameters: { ...options.parameters, binary_data_output: true },
    inputs: inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, parameters: { binary_data_size: t.data.byteLength } })),
    ...(options.outputs ? { outputs: options.outputs.map((name) => ({ name, parameters: { binary_data: true } })) } : {})
  };
  return encodedBody(json, inputs.map((t) => t.data));
}

/** A response: outputs asked for as binary go after the JSON, the others inline (server side). */
export function encodeInferResponse(response: {
  modelName: string;
  modelVersion?: string;
  id?: string;
  parameters?: Parameters;
  outputs: readonly { tensor: RawTensor; binary: boolean }[];
}): EncodedBody {
  const chunks: Uint8Array[] = [];
  const json: InferResponseJson = {
    model_name: response.modelName,
    ...(response.modelVersion !== undefined ? { model_version: response.modelVersion } : {}),
    ...(response.id !== undefined ? { id: response.id } : {}),
    ...(response.parameters ? { parameters: response.parameters } : {}),
    outputs: response.outputs.map(({ tensor, binary }) => {
      const base = { name: tensor.name, shape: tensor.shape, datatype: tensor.datatype };
      if (!binary) return { ...base, data: bytesToJsonData(tensor) };
      chunks.push(tensor.data);
      return { ...base, parameters: { binary_data_size: tensor.data.byteLength } };
    })
  };
  return encodedBody(json, chunks);
}

/** Decodes an inference response (client side); binary outputs are views of `body`. */
export function decodeInferResponse(body: Uint8Array, jsonLength: number | null): { json: InferResponseJson; outputs: RawTensor[] } {
  const jsonEnd = jsonLength ?? body.byteLength;
  const json = parseJsonHeader(body.subarray(0, jsonEnd), 'the inference response');
  if (!isRecord(json) || !Array.isArray(json.outputs)) throw new ProtocolError(502, 'the inference response has no "outputs" array');
  let offset = jsonEnd;
  const outputs = json.outputs.map((output: unknown, index: number): RawTensor => {
    if (!isRecord(output) || typeof output.name !== 'string' || !isOipDatatype(output.datatype) || !Array.isArray(output.shape)) {
      throw new ProtocolError(502, `response output ${index} lacks a name, a known datatype or a shape`);
    }
    const shape = output.shape as number[];
    const parameters = isRecord(output.parameters) ? output.parameters : {};
    const size = parameters.binary_data_size;
    let data: Uint8Array;
    if (typeof size === 'number') {
      if (offset + size > body.byteLength) throw new ProtocolError(502, `response output '${output.name}' runs past the end of the body`);
      data = plainView(body, offset, offset + size);
      offset += size;
    } else if (Array.isArray(output.data)) {
      data = jsonDataToBytes(output.name, output.datatype, shape, output.data);
    } else {
      throw new ProtocolError(502, `response output '${output.name}' has neither data nor binary_data_size`);
    }
    return { name: output.name, datatype: output.datatype, shape, data };
  });
  return { json: json as unknown as InferResponseJson, outputs };
}

// ---- checks against a model ------------------------------------------------------------

/**
 * Checks a request's inputs against the model's: every input present once, none unknown,
 * datatypes equal, shapes of the same rank with fixed dimensions equal (-1 matches any).
 * Requested outputs must exist. Messages name the tensor.
 */
export function checkAgainstModel(metadata: ModelMetadata, inputs: readonly RawTensor[], outputs: readonly RequestedOutput[] | null): void {
  const expected = new Map(metadata.inputs.map((t) => [t.name, t]));
  for (const input of inputs) {
    const spec = expected.get(input.name);
    if (!spec) {
      throw new ProtocolError(400, `model '${metadata.name}' has no input '${input.name}' (inputs: ${metadata.inputs.map((t) => t.name).join(', ')})`);
    }
    if (spec.datatype !== input.datatype) throw new ProtocolError(400, `input '${input.name}': datatype ${input.datatype}, the model expects ${spec.datatype}`);
    const fits = spec.shape.length === input.shape.length && spec.shape.every((d, i) => d === -1 || d === input.shape[i]);
    if (!fits) throw new ProtocolError(400, `input '${input.name}': shape [${input.shape.join(',')}], the model expects [${spec.shape.join(',')}]`);
  }
  const given = new Set(inputs.map((t) => t.name));
  const missing = metadata.inputs.filter((t) => !given.has(t.name)).map((t) => t.name);
  if (missing.length > 0) throw new ProtocolError(400, `missing input${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(', ')} of model '${metadata.name}'`);
  const outputNames = new Set(metadata.outputs.map((t) => t.name));
  for (const output of outputs ?? []) {
    if (!outputNames.has(output.name)) {
      throw new ProtocolError(400, `model '${metadata.name}' has no output '${output.name}' (outputs: ${metadata.outputs.map((t) => t.name).join(', ')})`);
    }
  }
}

// ---- model upload (Triton's load request with file: parameters) -------------------------

export interface LoadRequest {
  /** The "config" parameter (Triton's model configuration as a JSON string), if given. */
  config?: string;
  /** `file:<version>/<name>` parameters, decoded from base64. */
  files: { path: string; bytes: Buffer }[];
  /** Any other parameters. */
  parameters: Parameters;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** Base64 characters decoded per step: a multiple of 4, so every step ends on a whole quantum. */
const BASE64_STEP = 4 << 20;

class BodyScanner {
  position = 0;
  constructor(readonly body: Buffer) {}

  fail(message: string): never {
    throw new ProtocolError(400, `the load request is not valid JSON: ${message} at byte ${this.position}`);
  }

  skipSpace(): void {
    const b = this.body;
    while (this.position < b.length && (b[this.position] === 0x20 || b[this.position] === 0x0a || b[this.position] === 0x0d || b[this.position] === 0x09)) this.position++;
  }

  atEnd(): boolean {
    this.skipSpace();
    return this.position >= this.body.length;
  }

  expect(char: string): void {
    this.skipSpace();
    if (this.body[this.position] !== char.charCodeAt(0)) this.fail(`expected '${char}'`);
    this.position++;
  }

  /** Consumes `char` if it is next. */
  accept(char: string): boolean {
    this.skipSpace();
    if (this.body[this.position] !== char.charCodeAt(0)) return false;
    this.position++;
    return true;
  }

  /** The extent of the JSON string starting here (between its quotes), consumed. */
  stringRange(): { start: number; end: number; escaped: boolean } {
    this.expect('"');
    const start = this.position;
    for (;;) {
      const quote = this.body.indexOf(QUOTE, this.position);
      if (quote < 0) this.fail('unterminated string');
      let backslashes = 0;
      while (quote - 1 - backslashes >= start && this.body[quote - 1 - backslashes] === BACKSLASH) backslashes++;
      this.position = quote + 1;
      if (backslashes % 2 === 0) {
        const firstBackslash = this.body.indexOf(BACKSLASH, start);
        return { start, end: quote, escaped: firstBackslash >= 0 && firstBackslash < quote };
      }
    }
  }

  /** A (small) JSON string value, decoded. */
  string(): string {
    const { start, end } = this.stringRange();
    return JSON.parse(this.body.toString('utf8', start - 1, end + 1)) as string;
  }

  /** Any (small) JSON value, decoded: finds its end by nesting depth, outside strings. */
  value(): unknown {
    this.skipSpace();
    const start = this.position;
    let depth = 0;
    while (this.position < this.body.length) {
      const c = this.body[this.position];
      if (c === QUOTE) {
        this.stringRange();
        if (depth === 0) break;
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
        if (depth === 0) {
          this.position++;
          break;
        }
      } else if (depth === 0 && c === 0x2c) break;
      this.position++;
    }
    try {
      return JSON.parse(this.body.toString('utf8', start, this.position));
    } catch {
      this.position = start;
      return this.fail('bad value');
    }
  }
}

/** Decodes base64 text body[start, end) in steps, never as one string; rejects non-base64. */
function decodeBase64Range(body: Buffer, start: number, end: number, escaped: boolean, key: string): Buffer {
  const out = Buffer.allocUnsafeSlow(Math.floor(((end - start) * 3) / 4) + 3);
  let written = 0;
  let significant = 0;
  let carry = '';
  for (let position = start; position < end; ) {
    let stop = Math.min(end, position + BASE64_STEP);
    // Never split a JSON escape (\/, \n …) between two steps.
    if (escaped && stop < end && body[stop - 1] === BACKSLASH) stop++;
    let text = carry + body.toString('latin1', position, stop);
    if (escaped) text = text.replace(/\\(.)/g, (_, c: string) => (c === '/' ? '/' : c === 'n' || c === 'r' ? '' : `\\${c}`));
    if (/[^A-Za-z0-9+/=]/.test(text)) throw new ProtocolError(400, `parameter "${key}" is not base64`);
    const whole = stop === end ? text.length : text.length - (text.length % 4);
    carry = text.slice(whole);
    const chunk = text.slice(0, whole);
    significant += chunk.replace(/=+$/, '').length;
    written += out.write(chunk, written, 'base64');
    position = stop;
  }
  if (written !== Math.floor((significant * 3) / 4)) throw new ProtocolError(400, `parameter "${key}" is not valid base64`);
  return out.subarray(0, written);
}

/**
 * Scans Triton's load request, `{"parameters": {"config": "…", "file:1/model.onnx": "<base64>"}}`,
 * straight from the body's bytes. A VGG-16 tail is ~740 MB of base64: more than V8's
 * longest string, so JSON.parse of the body is not an option. Only this flat shape is
 * accepted: other top-level keys and non-file parameters are small and parsed normally.
 */
export function parseLoadRequest(body: Buffer): LoadRequest {
  const request: LoadRequest = { files: [], parameters: {} };
  const scanner = new BodyScanner(body);
  if (scanner.atEnd()) return request;
  scanner.expect('{');
  if (scanner.accept('}')) return finishLoad(scanner, request);
  do {
    const key = scanner.string();
    scanner.expect(':');
    if (key !== 'parameters') {
      scanner.value();
      continue;
    }
    scanner.expect('{');
    if (scanner.accept('}')) continue;
    do {
      const name = scanner.string();
      scanner.expect(':');
      scanner.skipSpace();
      if (name.startsWith('file:')) {
        if (body[scanner.position] !== QUOTE) throw new ProtocolError(400, `parameter "${name}" must be a base64 string`);
        const range = scanner.stringRange();
        request.files.push({ path: name.slice('file:'.length), bytes: decodeBase64Range(body, range.start, range.end, range.escaped, name) });
        continue;
      }
      const value = scanner.value();
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new ProtocolError(400, `parameter "${name}" must be a string, number or boolean`);
      }
      if (name === 'config') {
        if (typeof value !== 'string') throw new ProtocolError(400, 'parameter "config" must be a string holding JSON');
        try {
          JSON.parse(value);
        } catch {
          throw new ProtocolError(400, 'parameter "config" is not valid JSON');
        }
        request.config = value;
      } else request.parameters[name] = value;
    } while (scanner.accept(','));
    scanner.expect('}');
  } while (scanner.accept(','));
  scanner.expect('}');
  return finishLoad(scanner, request);
}

function finishLoad(scanner: BodyScanner, request: LoadRequest): LoadRequest {
  if (!scanner.atEnd()) scanner.fail('unexpected data after the object');
  return request;
}

/** The start of a load request body that uploads one file; the base64 text and `LOAD_BODY_END` follow. */
export function loadBodyStart(config: string | undefined, filePath: string): string {
  return `{"parameters":{${config !== undefined ? `"config":${JSON.stringify(config)},` : ''}${JSON.stringify(`file:${filePath}`)}:"`;
}

export const LOAD_BODY_END = '"}}';
