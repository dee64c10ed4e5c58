// Arithmetic on shapes whose dims may be static, symbolic ('batch') or unknown: the
// building blocks the inference rules (rules-*.ts) share. Anything that does not fit
// throws InferenceError; analyze.ts turns that into an unknown shape for the node.
import type { Dim } from '../onnx/model.js';

export class InferenceError extends Error {
  override name = 'InferenceError';
}

export function fail(message: string): never {
  throw new InferenceError(message);
}

export function isStatic(shape: Dim[] | null): shape is number[] {
  return shape !== null && shape.every((d) => typeof d === 'number');
}

/** Negative axes count from the end; throws when out of range. */
export function normalizeAxis(axis: number, rank: number): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) fail(`axis ${axis} out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  const normalized = axes.map((a) => normalizeAxis(a, rank));
  if (new Set(normalized).size !== normalized.length) fail('repeated axis');
  return normalized;
}

/** Two dims known to be the same size, preferring the more informative one. */
export function mergeDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number') {
    if (typeof b === 'number' && a !== b) fail(`dims ${a} and ${b} differ`);
    return a;
  }
  if (typeof b === 'number') return b;
  return a ?? b;
}

function broadcastPair(a: Dim, b: Dim): Dim {
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number') {
    if (a !== b) fail(`cannot broadcast ${a} with ${b}`);
    return a;
  }
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return a !== null && a === b ? a : null;
}

/** Numpy multidirectional broadcasting. */
export function broadcastShapes(shapes: readonly Dim[][]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const shape of shapes) {
      const offset = i - (rank - shape.length);
      if (offset >= 0) dim = broadcastPair(dim, shape[offset]);
    }
    out.push(dim);
  }
  return out;
}

/** A product of dims kept as a number times a multiset of symbols, or unknown. */
export interface DimProduct {
  factor: number;
  symbols: string[];
  unknown: boolean;
}

export function productOf(dims: readonly Dim[]): DimProduct {
  const product: DimProduct = { factor: 1, symbols: [], unknown: false };
  for (const d of dims) {
    if (typeof d === 'number') product.factor *= d;
    else if (typeof d === 'string') product.symbols.push(d);
    else product.unknown = true;
  }
  return product;
}

/** The dim a product stands for: a number, a single symbol, or null (e.g. 'batch'×3). */
export function dimOfProduct(product: DimProduct): Dim {
  if (product.unknown) return null;
  if (product.symbols.length === 0) return product.factor;
  if (product.symbols.length === 1 && product.factor === 1) return product.symbols[0];
  if (product.factor === 0) return 0;
  return null;
}

/** numerator / denominator as a dim, when the symbols cancel out cleanly. */
export function divideProducts(numerator: DimProduct, denominator: DimProduct): Dim {
  if (numerator.unknown || denominator.unknown) return null;
  const remaining = [...numerator.symbols];
  for (const symbol of denominator.symbols) {
    const at = remaining.indexOf(symbol);
    if (at < 0) return null;
    remaining.splice(at, 1);
  }
  if (denominator.factor === 0) return null;
  const factor = numerator.factor / denominator.factor;
  if (!Number.isInteger(factor)) {
    if (remaining.length === 0) fail(`${numerator.factor} elements do not divide by ${denominator.factor}`);
    return null;
  }
  return dimOfProduct({ factor, symbols: remaining, unknown: false });
}

export function dimProduct(dims: readonly Dim[]): Dim {
  return dimOfProduct(productOf(dims));
}

export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return null;
}

export function multiplyDim(a: Dim, factor: number): Dim {
  if (typeof a === 'number') return a * factor;
  return factor === 1 ? a : null;
}

export type AutoPad = 'NOTSET' | 'SAME_UPPER' | 'SAME_LOWER' | 'VALID';

export interface WindowParams {
  kernel: number;
  stride: number;
  dilation: number;
  padBegin: number;
  padEnd: number;
  autoPad: AutoPad;
  ceilMode: boolean;
}

/** Output size of a sliding window (Conv, pooling) along one axis. */
export function windowOutput(input: Dim, w: WindowParams): Dim {
  const { kernel, stride, dilation } = w;
  if (kernel < 1 || stride < 1 || dilation < 1) fail('kernel, stride and dilation must be positive');
  if (w.autoPad === 'SAME_UPPER' || w.autoPad === 'SAME_LOWER') {
    if (typeof input !== 'number') return stride === 1 ? input : null;
    return Math.ceil(input / stride);
  }
  const pads = w.autoPad === 'VALID' ? 0 : w.padBegin + w.padEnd;
  const span = dilation * (kernel - 1) + 1;
  if (typeof input !== 'number') return span === 1 && stride === 1 && pads === 0 ? input : null;
  const room = input + pads - span;
  if (room < 0) fail(`window ${span} larger than padded input ${input + pads}`);
  if (!w.ceilMode) return Math.floor(room / stride) + 1;
  let out = Math.ceil(room / stride) + 1;
  // The last window must start inside the input or its left padding (PyTorch, ONNX ≥19).
  if ((out - 1) * stride >= input + (w.autoPad === 'VALID' ? 0 : w.padBegin)) out -= 1;
  return out;
}

/** Clamped start, end and size of a slice along an axis of `size` (numpy/ONNX Slice rules). */
export function sliceLength(size: number, start: number, end: number, step: number): { start: number; length: number } {
  if (step === 0 || !Number.isFinite(step)) fail('slice step must be non-zero');
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    const s = clamp(start < 0 ? start + size : start, 0, size);
    const e = clamp(end < 0 ? end + size : end, 0, size);
    return { start: s, length: Math.max(0, Math.ceil((e - s) / step)) };
  }
  const s = clamp(start < 0 ? start + size : start, 0, size - 1);
  const e = clamp(end < 0 ? end + size : end, -1, size - 1);
  return { start: s, length: Math.max(0, Math.ceil((e - s) / step)) };
}

/** Static sizes only: a shape with a symbolic, unknown or negative dimension has no element count. */
export function staticElementCount(shape: readonly Dim[] | null | undefined): number | null {
  if (!shape) return null;
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || dim < 0) return null;
    count *= dim;
  }
  return count;
}
