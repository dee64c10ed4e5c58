// How a crossing tensor (or the model input) travels: its wire encoding. The pure half of
// "send less" (issue 16): the encodings' names and when each applies, the lossy codecs
// themselves on typed arrays (fp16, int8 and uint8 affine with a calibrated per-tensor
// scale and zero point, ONNX QuantizeLinear's rounding), and the cost of a cut sent in an
// encoding, with the choice over (cut, encoding) under an accuracy bound. The lossless
// stage (deflate) and JPEG need Node or a codec package and live in
// main/split/wire-codecs.ts; the graph side (QuantizeLinear / DequantizeLinear, Cast) is
// main/split/encode-surgery.ts.
import type { ElementTypeName } from '../onnx/element-type.js';
import { costOfPartition, isStrictlyBetter } from './cost.js';
import type { CutTable } from './cuts.js';
import { DEFAULT_DECISION_RANGE, decisionTable, type BandwidthRange } from './decision-table.js';
import type { CutCost, Objective, PlanOptions } from './types.js';

/** The value encodings; each may be followed by lossless deflate ("+deflate"). */
export const WIRE_BASES = ['fp32', 'fp16', 'int8', 'uint8', 'jpeg'] as const;
export type WireBase = (typeof WIRE_BASES)[number];

export interface WireEncoding {
  base: WireBase;
  deflate: boolean;
  /** JPEG quality 1..100 (jpeg only). */
  quality?: number;
}

/** The datatype on the wire, as Triton's config.pbtxt and the Open Inference Protocol name it. */
export type WireDatatype = 'FP32' | 'FP16' | 'INT8' | 'UINT8' | 'BYTES' | 'AS_IS';

export const DEFAULT_JPEG_QUALITY = 90;

/** Every encoding `auto` tries for a crossing tensor (the input also gets uint8 and JPEG at quality 90 and 95). */
export const TENSOR_ENCODINGS: readonly string[] = ['fp32', 'fp32+deflate', 'fp16', 'fp16+deflate', 'int8', 'int8+deflate'];
export const INPUT_ENCODINGS: readonly string[] = [...TENSOR_ENCODINGS, 'uint8', 'uint8+deflate', 'jpeg', 'jpeg95'];

export class WireEncodingError extends Error {
  override name = 'WireEncodingError';
}

/** Parses "fp16", "int8+deflate", "jpeg", "jpeg75" (quality 75); throws one line naming the valid forms. */
export function parseWireEncoding(text: string): WireEncoding {
  const match = /^(fp32|fp16|int8|uint8|jpeg)(\d{1,3})?(\+deflate)?$/.exec(text.trim());
  if (!match || (match[2] !== undefined && match[1] !== 'jpeg')) {
    throw new WireEncodingError(`unknown encoding "${text}"; valid: auto, ${WIRE_BASES.join(', ')}, each optionally +deflate, jpegNN for a JPEG quality`);
  }
  const base = match[1] as WireBase;
  const encoding: WireEncoding = { base, deflate: match[3] !== undefined };
  if (base === 'jpeg') {
    const quality = match[2] === undefined ? DEFAULT_JPEG_QUALITY : Number(match[2]);
    if (quality < 1 || quality > 100) throw new WireEncodingError(`JPEG quality must be 1..100, got ${quality}`);
    if (encoding.deflate) throw new WireEncodingError('jpeg is already entropy-coded; "+deflate" does not apply to it');
    encoding.quality = quality;
  }
  return encoding;
}

export function wireEncodingName(encoding: WireEncoding): string {
  const quality = encoding.base === 'jpeg' && encoding.quality !== DEFAULT_JPEG_QUALITY ? String(encoding.quality) : '';
  return `${encoding.base}${quality}${encoding.deflate ? '+deflate' : ''}`;
}

/** True when the encoding loses information (its accuracy must be measured). */
export function isLossy(encoding: WireEncoding): boolean {
  return encoding.base !== 'fp32';
}

export function wireDatatype(encoding: WireEncoding, elementType: ElementTypeName): WireDatatype {
  if (encoding.base === 'fp32') return elementType === 'float32' ? 'FP32' : 'AS_IS';
  return ({ fp16: 'FP16', int8: 'INT8', uint8: 'UINT8', jpeg: 'BYTES' } as const)[encoding.base];
}

/** What is known of a tensor when deciding whether an encoding applies. */
export interface EncodableTensor {
  name: string;
  elementType: ElementTypeName;
  /** Concrete dims, or null when unknown. */
  dims: readonly number[] | null;
  /** True for a model input (uint8 pixels and JPEG apply only there). */
  isModelInput: boolean;
}

/**
 * Null when `encoding` applies to `tensor`, else the one-line reason it does not.
 * Integer and bool tensors travel as they are (fp32 and +deflate only); uint8 and JPEG are
 * for a float model input; JPEG only for an image: [N, C, H, W] with C = 1 or 3.
 */
export function whyNotApplicable(encoding: WireEncoding, tensor: EncodableTensor): string | null {
  if (encoding.base === 'fp32') return null;
  if (tensor.elementType !== 'float32') {
    return `${wireEncodingName(encoding)} does not apply to tensor "${tensor.name}": it is ${tensor.elementType}, sent as it is (only float32 tensors are re-encoded)`;
  }
  if ((encoding.base === 'uint8' || encoding.base === 'jpeg') && !tensor.isModelInput) {
    return `${encoding.base} does not apply to tensor "${tensor.name}": it is not a model input (pixels are an input's form; use int8 for an activation)`;
  }
  if (encoding.base === 'jpeg') {
    const dims = tensor.dims;
    if (!dims || dims.length !== 4 || (dims[1] !== 1 && dims[1] !== 3) || dims[2] < 8 || dims[3] < 8) {
      return `jpeg does not apply to tensor "${tensor.name}": it is not an image [N, 1|3, H, W] (dims ${dims ? `[${dims.join(', ')}]` : 'unknown'})`;
    }
  }
  return null;
}

/**
 * Null when `encoding` can carry the tensors crossing a cut, else the one-line reason, naming
 * the tensor: a float tensor it cannot carry (uint8 or JPEG of an activation, JPEG of a
 * non-image), or — for a lossy encoding — no float tensor at all (integer and bool tensors
 * travel as they are, so the encoding would change nothing). A cut that also crosses integer
 * tensors beside float ones sends the integers as they are. Nothing crossing: null.
 */
export function whyNotApplicableAtCut(encoding: WireEncoding, tensors: readonly EncodableTensor[]): string | null {
  if (!isLossy(encoding) || tensors.length === 0) return null;
  const floats = tensors.filter((t) => t.elementType === 'float32');
  for (const tensor of floats) {
    const reason = whyNotApplicable(encoding, tensor);
    if (reason) return reason;
  }
  return floats.length === 0 ? whyNotApplicable(encoding, tensors[0]) : null;
}

/** The encodings (of INPUT_ENCODINGS) that can carry a cut's crossing tensors, fp32 first; only fp32 when nothing crosses. */
export function encodingsForCut(tensors: readonly EncodableTensor[]): string[] {
  if (tensors.length === 0) return ['fp32'];
  return INPUT_ENCODINGS.filter((name) => whyNotApplicableAtCut(parseWireEncoding(name), tensors) === null);
}

/** Per-tensor affine quantization: real = (q − zeroPoint) × scale. */
export interface AffineParameters {
  scale: number;
  zeroPoint: number;
  /** int8: −128..127; uint8: 0..255. */
  type: 'int8' | 'uint8';
}

/** Affine parameters that map `range` (widened to hold 0, so zeros stay exact) onto the type's 256 levels. */
export function affineParameters(range: { min: number; max: number }, type: 'int8' | 'uint8'): AffineParameters {
  if (!(Number.isFinite(range.min) && Number.isFinite(range.max) && range.min <= range.max)) {
    throw new WireEncodingError(`calibration range [${range.min}, ${range.max}] is not a finite range`);
  }
  const low = Math.min(0, range.min);
  const high = Math.max(0, range.max);
  const scale = Math.fround(high > low ? (high - low) / 255 : 1);
  const qmin = type === 'int8' ? -128 : 0;
  const zeroPoint = Math.min(qmin + 255, Math.max(qmin, qmin + Math.round(-low / scale)));
  return { scale, zeroPoint, type };
}

/** Round half to even, as ONNX QuantizeLinear does. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** QuantizeLinear: saturate(round(x / scale) + zeroPoint). */
export function quantizeAffine(values: Float32Array, p: AffineParameters): Int8Array | Uint8Array {
  const out = p.type === 'int8' ? new Int8Array(values.length) : new Uint8Array(values.length);
  const qmin = p.type === 'int8' ? -128 : 0;
  const qmax = qmin + 255;
  for (let i = 0; i < values.length; i++) {
    const q = roundHalfEven(values[i] / p.scale) + p.zeroPoint;
    out[i] = q < qmin ? qmin : q > qmax ? qmax : q;
  }
  return out;
}

/** DequantizeLinear: (q − zeroPoint) × scale, in float32. */
export function dequantizeAffine(values: Int8Array | Uint8Array, p: AffineParameters): Float32Array {
  const out = new Float32Array(values.length);
  const scale = Math.fround(p.scale);
  for (let i = 0; i < values.length; i++) out[i] = Math.fround((values[i] - p.zeroPoint) * scale);
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half precision, round to nearest even (what ONNX Cast to FLOAT16 does). */
export function float32ToFloat16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i];
    const x = u32[0];
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    let mantissa = x & 0x7fffff;
    if (exponent === 0xff) {
      out[i] = sign | 0x7c00 | (mantissa ? 0x200 : 0);
      continue;
    }
    const e = exponent - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mantissa |= 0x800000;
      const shift = 14 - e;
      let half = mantissa >>> shift;
      const remainder = mantissa & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
      out[i] = sign | half;
      continue;
    }
    let half = (e << 10) | (mantissa >>> 13);
    const remainder = mantissa & 0x1fff;
    if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++;
    out[i] = sign | half;
  }
  return out;
}

export function float16ToFloat32(values: Uint16Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const h = values[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) out[i] = sign * mantissa * 2 ** -24;
    else if (exponent === 0x1f) out[i] = mantissa ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return out;
}

/** What was measured for one (cut, encoding): on this device and on the sample inputs. */
export interface EncodedCutMeasurement {
  cut: number;
  encoding: string;
  /** Mean bytes on the wire over the samples (every crossing tensor, after deflate where asked). */
  uploadBytes: number;
  /** Device-side encode time per inference, ms (measured here). */
  encodeMs: number;
  /** Server-side decode time per inference, ms (measured here; charged as remote time, times the load K). */
  decodeMs: number;
  /** Top-1 agreement with the unsplit model in 0..1; null when not measured (lossless: 1). */
  agreement: number | null;
  maxAbsError?: number;
  meanAbsError?: number;
  /** Set when the encoding could not apply at this cut: the one-line reason. */
  skipped?: string;
}

export interface EncodedCutCost extends CutCost {
  encoding: string;
  encodeMs: number;
  decodeMs: number;
  agreement: number | null;
}

/**
 * time = head + encode + encoded bytes / bandwidth + RTT + K × (decode + tail) + download:
 * the cut's own cost with the encoded upload, the encode charged as device compute and the
 * decode as server compute.
 */
export function costOfEncodedCut(table: CutTable, m: EncodedCutMeasurement, options: PlanOptions): EncodedCutCost {
  const { cut } = m;
  if (!Number.isInteger(cut) || cut < 0 || cut > table.nodeCount) throw new RangeError(`cut ${cut} is outside 0..${table.nodeCount}`);
  const anyRemote = cut < table.nodeCount;
  const cost = costOfPartition(
    {
      cut,
      localMs: table.localPrefixMs[cut] + (anyRemote ? m.encodeMs : 0),
      unscaledRemoteMs: table.remoteSuffixMs[cut] + (anyRemote ? m.decodeMs : 0),
      uploadBytes: m.uploadBytes,
      downloadBytes: table.downloadBytes[cut],
      anyRemote
    },
    options
  );
  return { ...cost, encoding: m.encoding, encodeMs: m.encodeMs, decodeMs: m.decodeMs, agreement: m.agreement };
}

export interface EncodedChoice {
  best: EncodedCutCost;
  /** Every measured (cut, encoding) with its cost, and why the ones not eligible were left out. */
  considered: EncodedCutCost[];
  excluded: { cut: number; encoding: string; reason: string }[];
}

/** Top-1 agreement `auto` needs by default. */
export const DEFAULT_MIN_AGREEMENT = 0.99;

/**
 * The best (cut, encoding) among `measurements` for `objective`, never one whose agreement is
 * below `minAgreement` or unmeasured while lossy. Ties go to the smaller cut, then to the
 * encoding listed first. Throws when nothing is eligible.
 */
export function chooseEncodedCut(
  table: CutTable,
  measurements: readonly EncodedCutMeasurement[],
  options: PlanOptions,
  objective: Objective,
  minAgreement = DEFAULT_MIN_AGREEMENT
): EncodedChoice {
  const considered: EncodedCutCost[] = [];
  const excluded: EncodedChoice['excluded'] = [];
  let best: EncodedCutCost | null = null;
  const value = (c: CutCost) => (objective === 'latency' ? c.totalMs : c.energyMJ);
  for (const m of measurements) {
    if (m.skipped) {
      excluded.push({ cut: m.cut, encoding: m.encoding, reason: m.skipped });
      continue;
    }
    const lossy = isLossy(parseWireEncoding(m.encoding));
    const agreement = lossy ? m.agreement : (m.agreement ?? 1);
    if (agreement === null) {
      excluded.push({ cut: m.cut, encoding: m.encoding, reason: `${m.encoding} at cut ${m.cut}: agreement not measured` });
      continue;
    }
    if (agreement < minAgreement) {
      excluded.push({ cut: m.cut, encoding: m.encoding, reason: `${m.encoding} at cut ${m.cut}: top-1 agreement ${(agreement * 100).toFixed(1)} % is below ${(minAgreement * 100).toFixed(1)} %` });
      continue;
    }
    const cost = costOfEncodedCut(table, m, options);
    considered.push(cost);
    if (!best || isStrictlyBetter(value(cost), value(best)) || (value(cost) === value(best) && cost.cut < best.cut)) best = cost;
  }
  if (!best) throw new WireEncodingError(`no (cut, encoding) meets the accuracy bound of ${(minAgreement * 100).toFixed(1)} % top-1 agreement`);
  return { best, considered, excluded };
}

export interface EncodedDecisionRow {
  fromMbps: number;
  toMbps: number;
  cut: number;
  /** The encoding to send the cut's tensors in ('fp32' for device-only: nothing is sent). */
  encoding: string;
}

/**
 * The decision table over bandwidth with an encoding column: the best eligible (cut,
 * encoding) per uplink range. Each measured pair is a cut of its own to decisiontable.ts
 * (its encode added to the local time, its decode to the remote, its measured bytes as the
 * upload), so the breakpoints are exact as there; pairs below `minAgreement` are left out.
 */
export function encodedDecisionTable(
  table: CutTable,
  measurements: readonly EncodedCutMeasurement[],
  options: PlanOptions,
  range: BandwidthRange = DEFAULT_DECISION_RANGE,
  objective: Objective = 'latency',
  minAgreement = DEFAULT_MIN_AGREEMENT
): EncodedDecisionRow[] {
  const eligible = measurements
    .filter((m) => !m.skipped && m.cut < table.nodeCount)
    .filter((m) => {
      const agreement = isLossy(parseWireEncoding(m.encoding)) ? m.agreement : (m.agreement ?? 1);
      return agreement !== null && agreement >= minAgreement;
    })
    .sort((a, b) => a.cut - b.cut);
  const n = table.nodeCount;
  const count = eligible.length;
  const pairs: CutTable = {
    nodeCount: count,
    localPrefixMs: Float64Array.from([...eligible.map((m) => table.localPrefixMs[m.cut] + m.encodeMs), table.localPrefixMs[n]]),
    remoteSuffixMs: Float64Array.from([...eligible.map((m) => table.remoteSuffixMs[m.cut] + m.decodeMs), 0]),
    uploadBytes: Float64Array.from([...eligible.map((m) => m.uploadBytes), 0]),
    downloadBytes: Float64Array.from([...eligible.map((m) => table.downloadBytes[m.cut]), 0])
  };
  return decisionTable(pairs, options, range, objective).rows.map((row) => ({
    fromMbps: row.fromMbps,
    toMbps: row.toMbps,
    cut: row.cut === count ? n : eligible[row.cut].cut,
    encoding: row.cut === count ? 'fp32' : eligible[row.cut].encoding
  }));
}

/** Per cut, the best measured encoding within the bound (its cost and what was measured); cuts with nothing eligible are absent. */
export function bestEncodingPerCut(
  table: CutTable,
  measurements: readonly EncodedCutMeasurement[],
  options: PlanOptions,
  objective: Objective,
  minAgreement = DEFAULT_MIN_AGREEMENT
): Map<number, { cost: EncodedCutCost; measurement: EncodedCutMeasurement }> {
  const byCut = new Map<number, EncodedCutMeasurement[]>();
  for (const m of measurements) byCut.set(m.cut, [...(byCut.get(m.cut) ?? []), m]);
  const best = new Map<number, { cost: EncodedCutCost; measurement: EncodedCutMeasurement }>();
  for (const [cut, list] of byCut) {
    try {
      const choice = chooseEncodedCut(table, list, options, objective, minAgreement);
      const measurement = list.find((m) => m.encoding === choice.best.encoding) as EncodedCutMeasurement;
      best.set(cut, { cost: choice.best, measurement });
    } catch (error) {
      if (!(error instanceof WireEncodingError)) throw error;
    }
  }
  return best;
}
