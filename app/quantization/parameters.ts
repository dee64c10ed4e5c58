// The arithmetic of int8 quantization, as onnxruntime's tools do it: activations are
// uint8 with a per-tensor scale and zero point from a calibrated range (asymmetric, the
// range widened to hold 0 so that zero padding is exact); weights are int8, symmetric
// (zero point 0, values in [-127, 127]), per output channel for convolutions and per
// tensor for matrix products; biases are int32 at the scale input scale × weight scale
// (a weight scale is raised where a bias would not fit in int32 at it, as onnxruntime's
// quantizer does for activations of a tiny range).
// Scales are float32, as the file stores them, and every product is taken in float32 so
// the integer kernels and the QDQ graph agree on them.

/** The smallest and largest value a tensor took over the calibration samples. */
export interface TensorRange {
  min: number;
  max: number;
}

/** Per-tensor uint8 quantization of an activation. */
export interface ActivationParameters {
  scale: number;
  zeroPoint: number;
}

/** A range that holds both `a` and `b`. */
export function widenRange(a: TensorRange | undefined, b: TensorRange): TensorRange {
  return a ? { min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) } : { ...b };
}

/** The range of some values (NaN and infinities left out); null when none is finite. */
export function rangeOf(values: ArrayLike<number>): TensorRange | null {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return min <= max ? { min, max } : null;
}

/** uint8 parameters that map `range` (widened to hold 0) onto 0..255. */
export function uint8Parameters(range: TensorRange): ActivationParameters {
  const low = Math.min(0, range.min);
  const high = Math.max(0, range.max);
  const scale = Math.fround(high > low ? (high - low) / 255 : 1);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-low / scale)));
  return { scale, zeroPoint };
}

/** Symmetric int8 weights: one scale per slice along `axis` 0 (`perChannel`), or one for the whole tensor. */
export interface QuantizedWeight {
  values: Int8Array;
  scales: Float32Array;
}

const INT8_LIMIT = 127;

/**
 * `values` (row-major, `dims`) as int8 with zero point 0: scale = max |w| / 127 per output
 * channel (dim 0) when `perChannel`, else one scale.
 */
export function quantizeWeightSymmetric(values: ArrayLike<number>, dims: readonly number[], perChannel: boolean, minimumScales?: ArrayLike<number>): QuantizedWeight {
  const channels = perChannel ? dims[0] : 1;
  const perSlice = values.length / channels;
  const scales = new Float32Array(channels);
  const out = new Int8Array(values.length);
  for (let c = 0; c < channels; c++) {
    let largest = 0;
    for (let i = c * perSlice; i < (c + 1) * perSlice; i++) largest = Math.max(largest, Math.abs(values[i]));
    const floor = minimumScales ? minimumScales[perChannel ? c : 0] : 0;
    const scale = Math.fround(Math.max(largest > 0 ? largest / INT8_LIMIT : 1, floor));
    scales[c] = scale;
    for (let i = c * perSlice; i < (c + 1) * perSlice; i++) out[i] = Math.max(-INT8_LIMIT, Math.min(INT8_LIMIT, Math.round(values[i] / scale)));
  }
  return { values: out, scales };
}

const INT32_LIMIT = 2 ** 31 - 1;

/**
 * The smallest weight scales at which `bias` fits in int32 (with headroom) for an input of
 * scale `inputScale`: one per bias value (`perChannel`), or one for them all.
 */
export function biasWeightScaleFloor(bias: ArrayLike<number>, inputScale: number, perChannel: boolean): Float32Array {
  const floorOf = (value: number): number => Math.abs(value) / (inputScale * (INT32_LIMIT / 2));
  if (perChannel) return Float32Array.from({ length: bias.length }, (_, i) => floorOf(bias[i]));
  let largest = 0;
  for (let i = 0; i < bias.length; i++) largest = Math.max(largest, floorOf(bias[i]));
  return Float32Array.from([largest]);
}

/** An int32 bias at scale inputScale × weightScale[c] (one weight scale, or one per output channel). */
export function quantizeBias(values: ArrayLike<number>, inputScale: number, weightScales: Float32Array): { values: Int32Array; scales: Float32Array } {
  const scales = new Float32Array(values.length);
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const scale = Math.fround(inputScale * weightScales[weightScales.length === 1 ? 0 : i]);
    scales[i] = scale;
    out[i] = Math.max(-INT32_LIMIT, Math.min(INT32_LIMIT, Math.round(values[i] / scale)));
  }
  return { values: out, scales };
}

/** A row-major [rows, cols] matrix transposed to [cols, rows]. */
export function transposeMatrix(values: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  return out;
}
