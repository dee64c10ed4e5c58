// Quantizing a model file for real: per-tensor calibration (the float model run with
// onnxruntime-node on seeded sample inputs, every float activation made a graph output and
// its smallest and largest value kept), the project's own quantizer
// (app/quantization/quantize.ts) in the QDQ or the QOperator format, and the check that
// counts: the quantized model loads and runs in onnxruntime-node, and its top-1 class
// agrees with the float model's on held-out sample inputs (other seeds than calibration's).
import * as ort from 'onnxruntime-node';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { onnx } from '../../app/onnx/generated/onnx.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { encodeModel, valueInfoProto } from '../../app/onnx/writer.js';
import { rangeOf, widenRange, type TensorRange } from '../../app/quantization/parameters.js';
import { quantizeModel, type QuantizationFormat, type QuantizedModel } from '../../app/quantization/quantize.js';
import { generateInputs } from './inputs.js';

export type Feeds = Record<string, ort.Tensor>;

/** Seeds of the calibration samples start here; evaluation samples' at EVALUATION_SEED_BASE. */
const CALIBRATION_SEED_BASE = 1000;
const EVALUATION_SEED_BASE = 5000;

export interface QuantizeFileOptions {
  format: QuantizationFormat;
  /** Sample inputs the ranges are calibrated on (default 8). */
  calibrationSamples?: number;
  /** Held-out sample inputs top-1 agreement is measured on (default 32; 0 skips the check). */
  evaluationSamples?: number;
  /** Values of symbolic input dimensions (default 1). */
  dimValues?: Record<string, number>;
}

export interface Top1Agreement {
  /** Samples whose top-1 class (argmax of the first output's last axis) is the same for both models. */
  agreeing: number;
  samples: number;
}

export interface QuantizedFile {
  bytes: Uint8Array;
  quantized: QuantizedModel;
  ranges: Map<string, TensorRange>;
  /** Null when no evaluation samples were asked for. */
  top1: Top1Agreement | null;
}

const sessionOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };

/** `count` seeded sample inputs for `model`. */
export function sampleInputs(model: OnnxModel, count: number, seedBase: number, dimValues: Record<string, number> = {}): Feeds[] {
  return Array.from({ length: count }, (_, i) => generateInputs(model, { seed: seedBase + i, dimValues }));
}

/** The float model with every float32 activation (and model input) also a graph output. */
function observingModel(model: OnnxModel, dimValues: Record<string, number>): { bytes: Uint8Array; observed: string[] } {
  const analysis = analyzeModel(model, { dimValues, defaultSymbolicDims: true });
  const existing = new Set(model.graph.outputs.map((o) => o.name));
  const observed: string[] = [];
  const extra: onnx.ValueInfoProto[] = [];
  for (const layer of analysis.layers) {
    for (const position of [layer.nodeIndex, ...layer.stepNodes]) {
      for (const name of model.graph.nodes[position].outputs) {
        const facts = analysis.tensors.get(name);
        if (!facts || facts.elementType !== 'float32') continue;
        observed.push(name);
        if (!existing.has(name)) extra.push(valueInfoProto(name, 'float32', null));
      }
    }
  }
  for (const input of analysis.inputs) if (input.elementType === 'float32') observed.push(input.name);
  const proto = onnx.ModelProto.create({ ...model.proto, graph: onnx.GraphProto.create({ ...model.proto.graph, output: [...(model.proto.graph?.output ?? []), ...extra] }) });
  return { bytes: encodeModel(proto), observed: [...new Set(observed)] };
}

/** The range of every float activation over `samples` (per tensor: the smallest and largest value seen). */
export async function calibrateRanges(model: OnnxModel, samples: readonly Feeds[], dimValues: Record<string, number> = {}): Promise<Map<string, TensorRange>> {
  const { bytes, observed } = observingModel(model, dimValues);
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  const ranges = new Map<string, TensorRange>();
  try {
    for (const feeds of samples) {
      const wanted = Object.fromEntries(session.inputNames.map((name) => [name, feeds[name]]));
      const results = await session.run(wanted);
      for (const name of observed) {
        const tensor = results[name] ?? feeds[name];
        if (!tensor || tensor.type !== 'float32') continue;
        const range = rangeOf(tensor.data as Float32Array);
        if (range) ranges.set(name, widenRange(ranges.get(name), range));
      }
      for (const tensor of Object.values(results)) tensor.dispose();
    }
  } finally {
    await session.release();
  }
  return ranges;
}

/** Runs `bytes` on each sample (sessions with graph optimisation off, as the split checks use). */
export async function runSamples(bytes: Uint8Array, samples: readonly Feeds[]): Promise<Feeds[]> {
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  try {
    const outputs: Feeds[] = [];
    for (const feeds of samples) outputs.push(await session.run(Object.fromEntries(session.inputNames.map((name) => [name, feeds[name]]))));
    return outputs;
  } finally {
    await session.release();
  }
}

/** The index of the largest value of each row of a tensor's last axis (the first row of a batch: sample 0). */
export function topClass(tensor: ort.Tensor): number {
  const data = tensor.data as ArrayLike<number>;
  const width = tensor.dims[tensor.dims.length - 1] ?? data.length;
  let best = 0;
  for (let i = 1; i < width; i++) if (data[i] > data[best]) best = i;
  return best;
}

/** How often the two models' first outputs pick the same top-1 class on `samples`. */
export async function top1Agreement(floatBytes: Uint8Array, quantizedBytes: Uint8Array, outputName: string, samples: readonly Feeds[]): Promise<Top1Agreement> {
  const reference = await runSamples(floatBytes, samples);
  const quantized = await runSamples(quantizedBytes, samples);
  let agreeing = 0;
  reference.forEach((outputs, i) => {
    if (topClass(outputs[outputName]) === topClass(quantized[i][outputName])) agreeing++;
  });
  return { agreeing, samples: samples.length };
}

/** Calibrates, quantizes and checks `model` (the float file's bytes: `floatBytes`). */
export async function quantizeModelBytes(floatBytes: Uint8Array, options: QuantizeFileOptions): Promise<QuantizedFile> {
  const model = readOnnxModel(floatBytes);
  const dimValues = options.dimValues ?? {};
  const ranges = await calibrateRanges(model, sampleInputs(model, options.calibrationSamples ?? 8, CALIBRATION_SEED_BASE, dimValues), dimValues);
  const quantized = quantizeModel(model, { format: options.format, ranges });
  const bytes = encodeModel(quantized.proto);
  const evaluation = options.evaluationSamples ?? 32;
  const top1 = evaluation > 0 ? await top1Agreement(floatBytes, bytes, model.graph.outputs[0].name, sampleInputs(model, evaluation, EVALUATION_SEED_BASE, dimValues)) : null;
  return { bytes, quantized, ranges, top1 };
}
