// Measures a (cut, encoding) on sample inputs (issue 16): the unsplit model, the head, each
// crossing tensor encoded to real bytes and decoded (main/split/wire-codecs.ts), the tail,
// against the unsplit outputs — bytes on the wire, encode and decode ms on this machine,
// top-1 agreement, max and mean absolute error. The int8/uint8 scale and zero point are
// calibrated per tensor on separate calibration samples (other seeds), and recorded.
// Samples: image inputs ([N, 3, H, W] float) get image-like pictures (wire-codecs.ts
// imageLikeInput), every other input generateInputs' seeded values. The result feeds
// app/partition/wire-encoding.ts chooseEncodedCut, the CLI and the bench.
import * as ort from 'onnxruntime-node';
import type { ModelAnalysis } from '../../app/analysis/types.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import { rangeOf, widenRange, type TensorRange } from '../../app/quantization/parameters.js';
import {
  type AffineParameters,
  type EncodedCutMeasurement,
  type WireEncoding,
  affineParameters,
  isLossy,
  parseWireEncoding,
  whyNotApplicable,
  whyNotApplicableAtCut,
  wireEncodingName
} from '../../app/partition/wire-encoding.js';
import { median } from '../../app/profiling/trace.js';
import { generateInputs } from '../model/inputs.js';
import { calibrateRanges, topClass } from '../model/quantize-file.js';
import { resolvedDims, type AnalyzedModel } from '../model/analyze-file.js';
import { encodeSplit, splitModel, type CrossingTensor } from './surgery.js';
import { imageLikeInput, isImageDims, roundTrip } from './wire-codecs.js';
import { NO_SPINNING } from '../profiling/providers.js';

export type Feeds = Record<string, ort.Tensor>;

// Worker threads that do not spin: after a tail run, onnxruntime's threads would otherwise
// spin-wait on the cores the next codec is being timed on (a JPEG timed right after a tail
// run took 4 ms more than the same JPEG timed after another codec).
const sessionOptions: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'disabled',
  logSeverityLevel: 3,
  ...NO_SPINNING
};

/** Default number of evaluation samples (the N). */
export const DEFAULT_ENCODING_SAMPLES = 32;
export const CALIBRATION_SAMPLES = 8;

/** `count` sample inputs: image-like pictures for image inputs, seeded generated values otherwise. */
export function encodingSamples(model: OnnxModel, count: number, seedBase: number, dimValues: Record<string, number> = {}): Feeds[] {
  return Array.from({ length: count }, (_, i) => {
    const feeds = generateInputs(model, { seed: seedBase + i, dimValues });
    for (const [name, tensor] of Object.entries(feeds)) {
      if (tensor.type === 'float32' && isImageDims(tensor.dims)) feeds[name] = new ort.Tensor('float32', imageLikeInput(tensor.dims, seedBase + i + 1), tensor.dims);
    }
    return feeds;
  });
}

async function session(bytes: Uint8Array | null): Promise<ort.InferenceSession | null> {
  return bytes ? ort.InferenceSession.create(bytes, sessionOptions) : null;
}

async function run(s: ort.InferenceSession | null, values: Feeds): Promise<Feeds> {
  if (!s) return {};
  return s.run(Object.fromEntries(s.inputNames.map((name) => [name, values[name]])));
}

export interface CutEvaluation {
  cut: number;
  crossing: CrossingTensor[];
  /** Calibrated ranges of the float crossing tensors (what the int8/uint8 parameters came from). */
  ranges: Record<string, TensorRange>;
  measurements: (EncodedCutMeasurement & { wire: Record<string, { bytes: number; affine?: AffineParameters }> })[];
}

/** The affine parameters of a crossing tensor from its calibrated range. */
export function affineFor(ranges: Record<string, TensorRange>, name: string, type: 'int8' | 'uint8'): AffineParameters {
  const range = ranges[name];
  if (!range) throw new Error(`tensor "${name}" has no calibrated range`);
  return affineParameters(range, type);
}

/**
 * Evaluates topological cut `cut` (the first `cut` analysis layers on the device) in each of
 * `encodings`. An encoding that cannot apply to some crossing tensor sends that tensor as it
 * is when the tensor is not float (integers are never quantized) and is skipped, with the
 * reason, when it is a float tensor it cannot carry (JPEG of a non-image) or when only
 * integer tensors cross (a lossy encoding would change nothing there).
 */
export async function evaluateCut(
  model: OnnxModel,
  analysis: ModelAnalysis,
  cut: number,
  encodings: readonly string[],
  samples: readonly Feeds[],
  calibration: readonly Feeds[],
  expectedOutputs?: readonly Feeds[]
): Promise<CutEvaluation> {
  const localLayers = new Set(Array.from({ length: cut }, (_, i) => i));
  const split = splitModel(model, analysis, localLayers);
  const parts = encodeSplit(split);
  const [head, tail] = await Promise.all([session(parts.head), session(parts.tail)]);
  const outputName = model.graph.outputs[0].name;
  try {
    const crossingValues = async (feeds: Feeds): Promise<Feeds> => ({ ...feeds, ...(await run(head, feeds)) });
    const ranges: Record<string, TensorRange> = {};
    if (encodings.some((e) => isLossy(parseWireEncoding(e)))) {
      for (const feeds of calibration) {
        const values = await crossingValues(feeds);
        for (const t of split.crossing) {
          const tensor = values[t.name];
          if (tensor?.type !== 'float32') continue;
          const r = rangeOf(tensor.data as Float32Array);
          if (r) ranges[t.name] = widenRange(ranges[t.name], r);
        }
      }
    }
    const encodingsParsed = encodings.map((name) => ({ name, encoding: parseWireEncoding(name) }));
    // A lossy encoding where only integer tensors cross would send them as they are: it is skipped, naming the tensor.
    const integerOnly = split.crossing.length > 0 && split.crossing.every((t) => t.elementType !== 'float32');
    const skippedAtCut = (encoding: WireEncoding): string | undefined =>
      integerOnly ? (whyNotApplicableAtCut(encoding, split.crossing.map((t) => ({ name: t.name, elementType: t.elementType, dims: null, isModelInput: t.producedBy === 'input' }))) ?? undefined) : undefined;
    const totals = encodingsParsed.map(({ encoding }) => ({ bytes: 0, encodeMs: [] as number[], decodeMs: [] as number[], agree: 0, maxAbs: 0, sumAbs: 0, count: 0, wire: {} as Record<string, { bytes: number; affine?: AffineParameters }>, skipped: skippedAtCut(encoding) }));
    for (let s = 0; s < samples.length; s++) {
      const feeds = samples[s];
      const values = await crossingValues(feeds);
      const reference = expectedOutputs?.[s] ?? (tail ? { ...values, ...(await run(tail, values)) } : values);
      const tailRuns = new Map<string, Feeds>();
      for (let e = 0; e < encodingsParsed.length; e++) {
        const { encoding } = encodingsParsed[e];
        const total = totals[e];
        if (total.skipped) continue;
        const decoded: Feeds = { ...values };
        let encodeMs = 0;
        let decodeMs = 0;
        for (const t of split.crossing) {
          const tensor = values[t.name];
          const reason = whyNotApplicable(encoding, { name: t.name, elementType: t.elementType, dims: tensor.dims, isModelInput: t.producedBy === 'input' });
          let applied: WireEncoding = encoding;
          if (reason) {
            if (t.elementType === 'float32') {
              total.skipped = reason;
              break;
            }
            applied = { base: 'fp32', deflate: encoding.deflate };
          }
          const affine = applied.base === 'int8' || applied.base === 'uint8' || applied.base === 'jpeg' ? affineFor(ranges, t.name, applied.base === 'int8' ? 'int8' : 'uint8') : undefined;
          const trip = await roundTrip(tensor, applied, affine);
          total.bytes += trip.wireBytes;
          encodeMs += trip.encodeMs;
          decodeMs += trip.decodeMs;
          total.wire[t.name] = { bytes: (total.wire[t.name]?.bytes ?? 0) + trip.wireBytes, ...(affine ? { affine } : {}) };
          decoded[t.name] = trip.decoded;
        }
        if (total.skipped) continue;
        total.encodeMs.push(encodeMs);
        total.decodeMs.push(decodeMs);
        // Deflate is lossless: "int8+deflate" decodes to what "int8" does, so its tail run is shared.
        const key = `${encoding.base}${encoding.quality ?? ''}`;
        let outputs = tailRuns.get(key);
        if (!outputs) {
          outputs = isLossy(encoding) && tail ? { ...decoded, ...(await run(tail, decoded)) } : reference;
          tailRuns.set(key, outputs);
        }
        const a = reference[outputName];
        const b = outputs[outputName];
        if (a.type === 'float32' && b.type === 'float32') {
          const x = a.data as Float32Array;
          const y = b.data as Float32Array;
          for (let i = 0; i < x.length; i++) {
            const d = Math.abs(x[i] - y[i]);
            total.maxAbs = Math.max(total.maxAbs, d);
            total.sumAbs += d;
          }
          total.count += x.length;
          if (topClass(a) === topClass(b)) total.agree++;
        } else total.agree++;
      }
    }
    const n = samples.length;
    return {
      cut,
      crossing: split.crossing,
      ranges,
      measurements: encodingsParsed.map(({ encoding }, e) => {
        const t = totals[e];
        return {
          cut,
          encoding: wireEncodingName(encoding),
          uploadBytes: t.bytes / n,
          // Medians over the samples: one slow call (a codec's first, a burst of other load) would
          // otherwise move the mean by more than one encoding differs from the next.
          encodeMs: t.encodeMs.length > 0 ? median(t.encodeMs) : 0,
          decodeMs: t.decodeMs.length > 0 ? median(t.decodeMs) : 0,
          agreement: t.skipped ? null : t.agree / n,
          maxAbsError: t.maxAbs,
          meanAbsError: t.count > 0 ? t.sumAbs / t.count : 0,
          wire: Object.fromEntries(Object.entries(t.wire).map(([k, v]) => [k, { ...v, bytes: v.bytes / n }])),
          ...(t.skipped ? { skipped: t.skipped } : {})
        };
      })
    };
  } finally {
    await Promise.all([head?.release(), tail?.release()]);
  }
}

/** Runs the unsplit model on each sample (the reference the agreement is measured against). */
export async function unsplitOutputs(bytes: Uint8Array, samples: readonly Feeds[]): Promise<Feeds[]> {
  const s = await ort.InferenceSession.create(bytes, sessionOptions);
  try {
    const out: Feeds[] = [];
    for (const feeds of samples) out.push(await run(s, feeds));
    return out;
  } finally {
    await s.release();
  }
}

/**
 * What an export in `encoding` needs beside the graphs (export.ts ExportRequest.wire): the
 * int8 / uint8 / JPEG ranges of every tensor, calibrated on CALIBRATION_SAMPLES sample inputs
 * of the calibration seeds (none for fp32 and fp16, which need no parameters).
 */
export async function calibratedWire(analyzed: AnalyzedModel, encoding: WireEncoding): Promise<{ encoding: WireEncoding; ranges: Record<string, TensorRange> }> {
  if (encoding.base === 'fp32' || encoding.base === 'fp16') return { encoding, ranges: {} };
  const dims = resolvedDims(analyzed);
  const ranges = await calibrateRanges(analyzed.model, encodingSamples(analyzed.model, CALIBRATION_SAMPLES, 5000, dims), dims);
  return { encoding, ranges: Object.fromEntries(ranges) };
}
