// A model's configuration the way NVIDIA Triton describes it, built once and written two
// ways: as config.pbtxt beside an exported tail (main/split/export.ts) and as the JSON of
// Triton's `GET /v2/models/M/config` on our executor (server.ts) — the same facts both
// times: name, platform onnxruntime_onnx, no batching dimension (max_batch_size 0), and each
// input and output with its Triton data type and dims (-1 for a variable one).
//
// Two things a plain number cannot say are kept honest: a dimension beyond 2^53 (a JS
// number would round it) is written with its exact digits when the model file declares
// them, else as -1; and a tensor of unknown rank has no dims Triton could take (`dims: [ -1 ]`
// would claim rank 1), so when any input (or output) has one, the whole input (or output)
// list is left out for Triton's auto-complete to read from the model, with a comment.

const tritonTypes: Record<string, string> = {
  float32: 'TYPE_FP32',
  float16: 'TYPE_FP16',
  float64: 'TYPE_FP64',
  bfloat16: 'TYPE_BF16',
  uint8: 'TYPE_UINT8',
  uint16: 'TYPE_UINT16',
  uint32: 'TYPE_UINT32',
  uint64: 'TYPE_UINT64',
  int8: 'TYPE_INT8',
  int16: 'TYPE_INT16',
  int32: 'TYPE_INT32',
  int64: 'TYPE_INT64',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING'
};

export class TritonConfigError extends Error {
  override name = 'TritonConfigError';
}

/** One tensor as the configuration gets it: an element type name (float32 …) and its shape. */
export interface ConfigTensor {
  name: string;
  /** ONNX / onnxruntime element type name: float32, int64, string … */
  elementType: string;
  /**
   * Dimensions: a number (a static size; negative for a variable one), a string for a
   * symbolic one (variable), null for an unknown one (variable), or a bigint for an exact
   * size beyond 2^53. null for the whole shape: unknown rank.
   */
  shape: readonly (number | string | bigint | null)[] | null;
}

/** A dimension as Triton's JSON carries it: a number, or the exact decimal digits of one beyond 2^53. */
export type TritonDim = number | string;

export interface TritonTensorConfig {
  name: string;
  data_type: string;
  dims: TritonDim[];
}

export interface TritonModelConfig {
  name: string;
  platform: 'onnxruntime_onnx';
  backend: 'onnxruntime';
  max_batch_size: 0;
  /** Absent when left to Triton's auto-complete (a tensor of unknown rank). */
  input?: TritonTensorConfig[];
  output?: TritonTensorConfig[];
}

export interface BuiltConfig {
  config: TritonModelConfig;
  /** Why something was left out or widened, one line each (comments in config.pbtxt). */
  notes: string[];
}

export function tritonDataType(elementType: string): string | null {
  return tritonTypes[elementType] ?? null;
}

function tritonDim(dim: number | string | bigint | null, tensor: string, notes: string[]): TritonDim {
  if (typeof dim === 'bigint') return dim <= BigInt(Number.MAX_SAFE_INTEGER) && dim >= 0n ? Number(dim) : dim < 0n ? -1 : dim.toString();
  if (typeof dim !== 'number' || dim < 0) return -1;
  if (!Number.isSafeInteger(dim)) {
    notes.push(`${tensor}: a dimension beyond 2^53 whose exact value is not known is written as variable (-1)`);
    return -1;
  }
  return dim;
}

function tensorList(tensors: readonly ConfigTensor[], kind: 'input' | 'output', notes: string[]): TritonTensorConfig[] | undefined {
  const unknownRank = tensors.find((t) => t.shape === null);
  if (unknownRank) {
    notes.push(`${kind}s left to Triton's auto-complete from the model: ${unknownRank.name} has an unknown rank, which config dims cannot express`);
    return undefined;
  }
  return tensors.map((tensor) => {
    const type = tritonDataType(tensor.elementType);
    if (!type) throw new TritonConfigError(`tensor ${tensor.name}: element type ${tensor.elementType} has no Triton data type`);
    return { name: tensor.name, data_type: type, dims: (tensor.shape ?? []).map((dim) => tritonDim(dim, tensor.name, notes)) };
  });
}

/** Triton's configuration of an ONNX model served by onnxruntime, with no batching dimension. */
export function tritonModelConfig(name: string, inputs: readonly ConfigTensor[], outputs: readonly ConfigTensor[]): BuiltConfig {
  const notes: string[] = [];
  const input = tensorList(inputs, 'input', notes);
  const output = tensorList(outputs, 'output', notes);
  return {
    config: { name, platform: 'onnxruntime_onnx', backend: 'onnxruntime', max_batch_size: 0, ...(input ? { input } : {}), ...(output ? { output } : {}) },
    notes: [...new Set(notes)]
  };
}

function pbtxtTensor(tensor: TritonTensorConfig): string {
  return `  {\n    name: ${JSON.stringify(tensor.name)}\n    data_type: ${tensor.data_type}\n    dims: [ ${tensor.dims.join(', ')} ]\n  }`;
}

/** config.pbtxt (protobuf text format) of a configuration; notes become comments at the top. */
export function renderPbtxt({ config, notes }: BuiltConfig): string {
  return [
    ...notes.map((note) => `# ${note}`),
    `name: ${JSON.stringify(config.name)}`,
    `platform: "${config.platform}"`,
    `backend: "${config.backend}"`,
    `max_batch_size: ${config.max_batch_size}`,
    ...(config.input ? [`input [\n${config.input.map(pbtxtTensor).join(',\n')}\n]`] : []),
    ...(config.output ? [`output [\n${config.output.map(pbtxtTensor).join(',\n')}\n]`] : []),
    ''
  ].join('\n');
}
