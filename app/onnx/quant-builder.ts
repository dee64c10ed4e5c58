// Pieces of quantized graphs for GraphBuilder: scale / zero-point initializer pairs and
// int8 weights, so tests and the characterisation sweep write QLinearConv, QLinearMatMul,
// QLinearAdd and friends the way onnxruntime's tools do (uint8 activations, int8 weights,
// int32 biases). Whole models are quantized by app/quantization/quantize.ts instead.
import type { GraphBuilder } from './builder.js';

export type ZeroPointType = 'uint8' | 'int8' | 'int32';

function typedZeroPoints(type: ZeroPointType, values: readonly number[]): Uint8Array | Int8Array | Int32Array {
  return type === 'uint8' ? Uint8Array.from(values) : type === 'int8' ? Int8Array.from(values) : Int32Array.from(values);
}

/**
 * A scale and a zero point as initializers: scalars for numbers (per-tensor), 1-D for
 * arrays (per-axis). Returns [scale, zeroPoint].
 */
export function quantParameters(b: GraphBuilder, base: string, scale: number | readonly number[], zeroPoint: number | readonly number[], type: ZeroPointType = 'uint8'): [string, string] {
  const scales = typeof scale === 'number' ? [scale] : scale;
  const zeros = typeof zeroPoint === 'number' ? [zeroPoint] : zeroPoint;
  const dims = typeof scale === 'number' ? [] : [scales.length];
  return [b.constantFloat(`${base}_scale`, dims, Float32Array.from(scales)), b.constantTensor(`${base}_zero_point`, type, dims, typedZeroPoints(type, zeros))];
}

/** Int8 values in a fixed spread pattern over [-127, 127] (for shapes and speed, not accuracy). */
export function int8Pattern(count: number): Int8Array {
  return Int8Array.from({ length: count }, (_, i) => ((i * 37) % 255) - 127);
}

/** An int8 weight initializer of `dims`, filled with int8Pattern. */
export function int8Weight(b: GraphBuilder, base: string, dims: number[]): string {
  return b.constantTensor(base, 'int8', dims, int8Pattern(dims.reduce((a, c) => a * c, 1)));
}
