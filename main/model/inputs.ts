// Model inputs for real runs: generated from the model's input specs (seeded random
// values, symbolic dimensions set by the caller, default 1) so every run of the same
// model is repeatable. Index inputs that feed a Gather get values inside the gathered
// table, so embedding lookups stay in range.
import * as ort from 'onnxruntime-node';
import type { OnnxModel, Dim } from '../../app/onnx/model.js';
import { seededRandom } from '../../app/onnx/builder.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';

export class InputSpecError extends Error {
  override name = 'InputSpecError';
}

export function concreteShape(shape: Dim[] | null, dimValues: Record<string, number>, inputName: string): number[] {
  if (!shape) throw new InputSpecError(`input "${inputName}" has no declared shape; give its shape`);
  return shape.map((d) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (typeof d === 'string') return dimValues[d] ?? 1;
    return 1;
  });
}

/** Exclusive upper bound for an integer input that feeds Gather's indices, if any. */
function indexRange(model: OnnxModel, inputName: string): number {
  for (const node of model.graph.nodes) {
    if (node.opType === 'Gather' && node.inputs[1] === inputName) {
      const table = model.graph.initializers.get(node.inputs[0]);
      const axisAttr = node.attributes.get('axis');
      const axis = axisAttr?.kind === 'int' ? axisAttr.value : 0;
      if (table) return table.dims[axis < 0 ? axis + table.dims.length : axis];
    }
  }
  return 10;
}

const ortTypes: Partial<Record<ElementTypeName, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  int64: 'int64',
  int32: 'int32',
  int16: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool'
};

export function generateInputs(model: OnnxModel, options: { seed?: number; dimValues?: Record<string, number> } = {}): Record<string, ort.Tensor> {
  const random = seededRandom(options.seed ?? 42);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of model.graph.inputs) {
    const type = input.type;
    if (!type) throw new InputSpecError(`input "${input.name}" is not a tensor`);
    const dims = concreteShape(type.shape, options.dimValues ?? {}, input.name);
    const count = dims.reduce((a, b) => a * b, 1);
    const ortType = ortTypes[type.elementType];
    if (!ortType) throw new InputSpecError(`input "${input.name}" has element type ${type.elementType}, which cannot be generated`);
    feeds[input.name] = new ort.Tensor(ortType, makeData(type.elementType, count, random, indexRange(model, input.name)), dims);
  }
  return feeds;
}

function makeData(type: ElementTypeName, count: number, random: () => number, range: number): ort.Tensor.DataType {
  switch (type) {
    case 'float32':
      return Float32Array.from({ length: count }, () => random() * 2 - 1);
    case 'float64':
      return Float64Array.from({ length: count }, () => random() * 2 - 1);
    case 'float16':
      return new Uint16Array(count).fill(0x3c00);
    case 'int64':
      return BigInt64Array.from({ length: count }, () => BigInt(Math.floor(random() * range)));
    case 'uint64':
      return BigUint64Array.from({ length: count }, () => BigInt(Math.floor(random() * range)));
    case 'int32':
      return Int32Array.from({ length: count }, () => Math.floor(random() * range));
    case 'uint32':
      return Uint32Array.from({ length: count }, () => Math.floor(random() * range));
    case 'int16':
      return Int16Array.from({ length: count }, () => Math.floor(random() * range));
    case 'uint16':
      return Uint16Array.from({ length: count }, () => Math.floor(random() * range));
    case 'int8':
      return Int8Array.from({ length: count }, () => Math.floor(random() * Math.min(range, 127)));
    case 'uint8':
      return Uint8Array.from({ length: count }, () => Math.floor(random() * Math.min(range, 255)));
    case 'bool':
      return Uint8Array.from({ length: count }, () => (random() < 0.5 ? 1 : 0));
    default:
      throw new InputSpecError(`cannot generate ${type} data`);
  }
}
