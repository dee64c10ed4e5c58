// The device characterisation sweep of Neurosurgeon (Kang et al., ASPLOS 2017, §4.3): a
// grid of single-layer models (built with app/onnx/builder.ts, seeded random weights) is
// timed with onnxruntime-node on one execution provider, each sample gets the paper's
// features (app/prediction/features.ts, the same classifier the predictor uses), and
// per-layer-type regressions are fitted (app/prediction/regression.ts). The result is a
// DeviceProfile (app/profiling/types.ts) written atomically every few configurations, so
// an interrupted sweep loses little and a later call resumes it. app/prediction/predict.ts
// turns the profile into predicted latency profiles for any model.
//
// Timing: graph optimisation 'disabled', always (CHARACTERIZATION_OPTIMIZATION), unlike
// measured profiles, which default to the executor's 'all': at 'all' a lone layer is
// timed with the layout conversions around it (NCHWc reorders on x86) that a whole model
// pays once, and a fused pair is no single layer type. So a sample is one node's kernel
// exactly as a profile at 'disabled' sees it, the device profile and every prediction
// made from it record that level (graphOptimization, with the threads), and predictions
// compare with `neurosurgeon profile --optimization disabled`; 2
// warm-up runs, then 5–100 `session.run` calls (≈0.2 s of runs); a sample is the median
// KERNEL time from onnxruntime's own profiling trace, not the run's wall time. Wall time
// of a single-layer model is mostly binding its input and copying its output back to
// JavaScript, which no layer inside a model pays: a Clip over 1×96×112×112 runs 0.16 ms
// in its kernel but takes 2.5 ms per session.run, so wall time minus a constant
// overhead predicted MobileNetV2 2.4× too slow. `overheadMs` is still measured once (the
// wall time of session.run on a one-float Identity model) and recorded as the per-run
// cost outside the kernels, for whole-model estimates; it is not subtracted from samples.
// What IS subtracted from every kernel event is the profiler's own bookkeeping
// (`profilerOverheadMsPerKernel`, calibrated once per sweep and process by main/profiling/profiler.ts, as a
// profile of a real model does), so a sample is what the layer adds to a plain run.
// The layer runs as inside a model (buildConfig): each output is read by a Shape kernel
// — a layer whose output is a graph output gets a fresh output buffer on every run,
// which no layer inside a model does (a Relu over 1×256×56×56 took 80–190 µs so, 45 µs
// wrapped) — and it runs over several copies of its inputs in turn, so that small inputs
// come from the shared cache as a model's do (INPUT_ROTATION_BYTES).
// Budget allowing, a second pass measures every configuration again and keeps the lower
// median (see PASSES): other processes' load comes in bursts and only slows runs down.
// Two phases take shares of the budget after the grid's first pass (issue 19): the NCHWc
// kernels of conv-like types timed at 'all' (kernelLevelGrid), and adaptive sampling —
// more configurations where a type's cross-validated error is highest, at 'disabled' or,
// for the kernel-level types, at 'all' (worstLayerType, adaptiveConfigFor).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { recurrentGates } from '../../app/analysis/rules-nn.js';
import { GraphBuilder, seededRandom } from '../../app/onnx/builder.js';
import { int8Weight, quantParameters } from '../../app/onnx/quant-builder.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { kernelFeatures, LAYER_TYPE_FEATURES, LAYER_TYPES, type LayerType } from '../../app/prediction/features.js';
import { fitReorders } from '../../app/prediction/nchwc-layout.js';
import { deviceHardware, layerReplicas, MIN_STREAMING_PROBES, REPLICA_WEIGHT_BYTES, STREAMED_FC_MIN_BYTES } from '../../app/prediction/predict.js';
import { ADAPTIVE_KEY_PREFIX } from '../../app/prediction/regression.js';
import { effectiveMedianError, fitsWithErrors } from '../../app/prediction/local-correction.js';
import { correctedKernelMs, median, parseTrace, splitRuns, traceMedian } from '../../app/profiling/trace.js';
import { EXECUTION_PROVIDERS, type DeviceInfo, type DeviceProfile, type ExecutionProviderName, type GraphOptimization, type HotWeightProbe, type LayerSample, type StreamingProbe, type LayerTypeError, type NchwcLayout, type ReorderFit, type ReorderSample } from '../../app/profiling/types.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { coreCacheBytes as readCoreCacheBytes, deviceInfo } from './device-info.js';
import { intraOpThreads, sessionOptionsFor } from './providers.js';
import { calibrateProfilerOverhead } from './profiler.js';
import { probeNchwcLayout, readFusionRules } from './fusion-probe.js';
import { CONTEXT_PASSES, ContextCalibration } from './context-calibration.js';
import { STREAMING_PROBE_EVERY_S, StreamingRateProbe } from './streaming-probe.js';
import { timedRun } from './timed-run.js';
import { allowedCpus, followedCpus, followFastestCpus, formatCpuList } from './cpu-affinity.js';
import { shapeArithmeticProbe, shapeProbeKernels, SHAPE_PROBE_WIDTH } from '../../app/prediction/shape-arithmetic.js';
import { fusedKernelKey } from '../../app/prediction/kernel-lines.js';
import { LONE_KERNEL_CHAIN, LONE_KERNEL_PROBE_OPS, LONE_KERNEL_PROBE_SHAPE, LONE_KERNEL_WRAPPER, loneKernelProbe } from '../../app/prediction/lone-kernel.js';
import { MAX_CONTEXT_FACTOR } from '../../app/prediction/context.js';
import { firstLine } from '../errors/user-errors.js';
import { isRecord, readJsonFile } from '../files/json-file.js';

export class CharacterizeCancelledError extends Error {
  override name = 'CharacterizeCancelledError';
  constructor(readonly profile: DeviceProfile) {
    super(`characterisation cancelled after ${profile.configurations} configurations (saved)`);
  }
}

export class DeviceProfileError extends Error {
  override name = 'DeviceProfileError';
}

export interface CharacterizeProgress {
  /** Layer type of the configuration just measured ('' for a note). */
  layerType: string;
  /** Measurements made so far, resumed ones included: each configuration counts once per pass (PASSES passes). */
  done: number;
  total: number;
  /** Seconds spent by this call (the budget's clock). */
  elapsedS: number;
  /** A message worth showing: a started-over sweep, a configuration that failed or was skipped for the budget. */
  note?: string;
}

export interface CharacterizeOptions {
  ep: ExecutionProviderName;
  /** Seconds this call may spend (default 300); configurations estimated to overrun it are skipped. */
  budgetS?: number;
  outFile: string;
  /** Continue from `outFile` when it is a profile of this device and provider (default true). */
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (event: CharacterizeProgress) => void;
  /** Seed of the weights and inputs (default 1); the grid itself never changes with it. */
  seed?: number;
  /** The configurations to sweep, in order (default sweepGrid(); tests sweep a few). */
  grid?: readonly SweepConfig[];
  /** Add configurations where the fits' cross-validated error is highest (default: with the default grid only). */
  adaptive?: boolean;
  /** Time the NCHWc-capable types' kernels at 'all' too (default: with the default grid only). */
  kernelLevel?: boolean;
  /** Profile the generated networks for the context factors (default: with the default grid only). */
  contextCalibration?: boolean;
  /** The shortest sweep, in seconds, whose context passes are spread over it (default CONTEXT_SPREAD_MIN_S; tests pass 0). */
  contextSpreadMinS?: number;
  /** Probe the memory's streaming rate every `streamingProbeEveryS` of the sweep (default: with the default grid only). */
  streamingProbes?: boolean;
  /** Seconds between two streaming probes (default STREAMING_PROBE_EVERY_S; tests probe more often). */
  streamingProbeEveryS?: number;
}

/** The sweep's optional phases, as `options` leave them. */
export interface SweepPhases {
  adaptive: boolean;
  kernelLevel: boolean;
  contextCalibration: boolean;
  streamingProbes: boolean;
}

/**
 * Which optional phases a sweep runs: each as its option says, else on with the default grid
 * and off with a grid of the caller's own (a test's few configurations run as they are).
 */
export function sweepPhases(options: Pick<CharacterizeOptions, 'grid' | keyof SweepPhases>): SweepPhases {
  const byDefault = options.grid === undefined;
  return {
    adaptive: options.adaptive ?? byDefault,
    kernelLevel: options.kernelLevel ?? byDefault,
    contextCalibration: options.contextCalibration ?? byDefault,
    streamingProbes: options.streamingProbes ?? byDefault
  };
}

interface SweepInput {
  shape: number[];
  elementType: 'float32' | 'int64' | 'uint8';
  /** int64 inputs: values 0 ≤ v < indexLimit. */
  indexLimit?: number;
}

/** One configuration of the sweep: a single-layer model and what it is expected to cost. */
export interface SweepConfig {
  /** Stable identity, stored as LayerSample.config (resuming skips keys already measured). */
  key: string;
  layerType: LayerType;
  macs: number;
  /** Activation bytes read and written (float32). */
  activationBytes: number;
  weightBytes: number;
  inputs: SweepInput[];
  outputTypes?: ElementTypeName[];
  /** Adds the layer to `builder`, reading the model inputs `inputs`; returns its output values. */
  addLayer: (builder: GraphBuilder, inputs: string[]) => string[];
  /**
   * A fused kernel's configuration (timed at 'all' only): the pattern's nodes, which
   * onnxruntime runs as one kernel, described by the features of the one op it predicts
   * them as (app/prediction/fusion.ts predictAs), instead of a single layer's.
   */
  kernelFeatures?: Record<string, number>;
  /** A convolution's window (kernel size and stride): the kernel-level phase spreads its picks over them. */
  window?: { kernel: number; stride: number };
}

// ---------------------------------------------------------------------------------------
// The grid.

/** The level configurations are timed at (see the top of this file): predictions are for it. */
export const CHARACTERIZATION_OPTIMIZATION: GraphOptimization = 'disabled';

const WARMUP_RUNS = 2;
const MIN_RUNS = 5;
const MAX_RUNS = 400;
const TARGET_MEASURE_MS = 200;
/** Every type's cheapest configurations come first (plain round-robin), the rest at an even pace per type. */
const ROUND_ROBIN_FIRST = 6;
/** Until the sweep has its own rates: a modest CPU, for ordering and the first budget checks. */
const NOMINAL_RATES = { gmacsPerSec: 20, gbPerSec: 5, perOpOverheadMs: 0.02 };
/** Seconds to build a model and open a session, beyond its weights. */
const SESSION_SETUP_S = 0.015;
/** Weight bytes per second through generation, encoding and session creation. */
const SETUP_BYTES_PER_S = 60e6;

const f32 = (shape: number[]): SweepInput => ({ shape, elementType: 'float32' });
const elements = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const outSize = (size: number, kernel: number, stride: number, pad: number): number => Math.floor((size + 2 * pad - kernel) / stride) + 1;

function convConfig(layerType: LayerType, c: number, size: number, kernel: number, stride: number, filters: number, group = 1): SweepConfig {
  const pad = kernel >> 1;
  const out = outSize(size, kernel, stride, pad);
  return {
    key: `${layerType} Conv c=${c} hw=${size} k=${kernel} s=${stride} f=${filters} g=${group}`,
    layerType,
    macs: filters * out * out * (c / group) * kernel * kernel,
    activationBytes: 4 * (c * size * size + filters * out * out),
    weightBytes: 4 * filters * (c / group) * kernel * kernel,
    inputs: [f32([1, c, size, size])],
    addLayer: (b, [x]) => [b.conv(x, { inChannels: c, outChannels: filters, kernel, stride, pad, group })],
    window: { kernel, stride }
  };
}

function fcConfig(rows: number, inNeurons: number, outNeurons: number): SweepConfig {
  const gemm = rows === 1;
  return {
    key: gemm ? `fc Gemm in=${inNeurons} out=${outNeurons}` : `fcBatched MatMul rows=${rows} in=${inNeurons} out=${outNeurons}`,
    layerType: gemm ? 'fc' : 'fcBatched',
    macs: rows * inNeurons * outNeurons,
    activationBytes: 4 * rows * (inNeurons + outNeurons),
    weightBytes: 4 * inNeurons * outNeurons,
    inputs: [f32(gemm ? [1, inNeurons] : [1, rows, inNeurons])],
    addLayer: (b, [x]) => {
      if (gemm) return [b.linear(x, inNeurons, outNeurons)];
      const weight = b.weight('/Linear.weight_t', [inNeurons, outNeurons], inNeurons);
      return [b.op('MatMul', [x, weight], {}, '/MatMul')];
    }
  };
}

function matmulConfig(heads: number, m: number, k: number, n: number): SweepConfig {
  return {
    key: `matmul MatMul h=${heads} m=${m} k=${k} n=${n}`,
    layerType: 'matmul',
    macs: heads * m * k * n,
    activationBytes: 4 * heads * (m * k + k * n + m * n),
    weightBytes: 0,
    inputs: [f32([1, heads, m, k]), f32([1, heads, k, n])],
    addLayer: (b, [x, y]) => [b.op('MatMul', [x, y], {}, '/MatMul')]
  };
}

/** A recurrent layer over [seq, 1, input] (PyTorch's export: GRU with linear_before_reset), one direction. */
function recurrentConfig(op: 'RNN' | 'GRU' | 'LSTM', seq: number, input: number, hidden: number): SweepConfig {
  const gates = recurrentGates[op];
  return {
    key: `recurrent ${op} seq=${seq} in=${input} h=${hidden}`,
    layerType: 'recurrent',
    macs: seq * gates * hidden * (input + hidden),
    activationBytes: 4 * seq * (input + hidden),
    weightBytes: 4 * gates * hidden * (input + hidden + 2),
    inputs: [f32([seq, 1, input])],
    addLayer: (b, [x]) => {
      const weights = [b.weight(`/${op}.W`, [1, gates * hidden, input], input), b.weight(`/${op}.R`, [1, gates * hidden, hidden], hidden), b.weight(`/${op}.B`, [1, 2 * gates * hidden], hidden)];
      const attributes: Record<string, number> = op === 'GRU' ? { hidden_size: hidden, linear_before_reset: 1 } : { hidden_size: hidden };
      return [b.node(op, [x, ...weights], attributes, { name: `/${op}`, outputCount: op === 'LSTM' ? 3 : 2 })[0]];
    }
  };
}

type PoolVariant = { op: 'MaxPool' | 'AveragePool'; kernel: number; stride: number; pad: number } | { op: 'GlobalAveragePool' | 'GlobalMaxPool' };

function poolConfig(variant: PoolVariant, c: number, size: number): SweepConfig {
  const windowed = variant.op === 'MaxPool' || variant.op === 'AveragePool';
  const out = windowed ? outSize(size, variant.kernel, variant.stride, variant.pad) : 1;
  const window = windowed ? variant.kernel * variant.kernel : size * size;
  return {
    key: windowed ? `pooling ${variant.op} c=${c} hw=${size} k=${variant.kernel} s=${variant.stride} p=${variant.pad}` : `pooling ${variant.op} c=${c} hw=${size}`,
    layerType: 'pooling',
    macs: c * out * out * window,
    activationBytes: 4 * c * (size * size + out * out),
    weightBytes: 0,
    inputs: [f32([1, c, size, size])],
    addLayer: (b, [x]) => {
      if (!windowed) return [b.op(variant.op, [x], {}, `/${variant.op}`)];
      const options = { kernel: variant.kernel, stride: variant.stride, pad: variant.pad };
      return [variant.op === 'MaxPool' ? b.maxPool(x, options) : b.averagePool(x, options)];
    }
  };
}

const activationOps = ['Relu', 'Clip', 'Sigmoid', 'Tanh', 'LeakyRelu', 'Erf', 'HardSwish', 'HardSigmoid'] as const;

function activationConfig(op: (typeof activationOps)[number], shape: number[]): SweepConfig {
  return {
    key: `activation ${op} x=${shape.join('x')}`,
    layerType: 'activation',
    macs: elements(shape),
    activationBytes: 8 * elements(shape),
    weightBytes: 0,
    inputs: [f32(shape)],
    addLayer: (b, [x]) => {
      if (op === 'Clip') return [b.relu6(x)];
      if (op === 'LeakyRelu') return [b.op(op, [x], { alpha: { float: 0.01 } }, `/${op}`)];
      if (op === 'HardSigmoid') return [b.op(op, [x], { alpha: { float: 1 / 6 } }, `/${op}`)];
      return [b.op(op, [x], {}, `/${op}`)];
    }
  };
}

type NormOp = 'BatchNormalization' | 'InstanceNormalization' | 'LRN' | 'LayerNormalization';

function normConfig(op: NormOp, shape: number[]): SweepConfig {
  const channels = shape[1];
  const features = shape[shape.length - 1];
  return {
    key: `normalization ${op} x=${shape.join('x')}`,
    layerType: 'normalization',
    macs: elements(shape),
    activationBytes: 8 * elements(shape),
    weightBytes: op === 'LayerNormalization' ? 8 * features : 16 * channels,
    inputs: [f32(shape)],
    addLayer: (b, [x]) => {
      switch (op) {
        case 'BatchNormalization':
          return [b.batchNorm(x, channels)];
        case 'LRN':
          return [b.lrn(x, 5)];
        case 'LayerNormalization':
          return [b.layerNorm(x, features)];
        case 'InstanceNormalization': {
          const scale = b.constantFloat('/InstanceNormalization.scale', [channels], new Float32Array(channels).fill(1));
          const bias = b.constantFloat('/InstanceNormalization.bias', [channels], new Float32Array(channels));
          return [b.op(op, [x, scale, bias], { epsilon: { float: 1e-5 } }, `/${op}`)];
        }
      }
    }
  };
}

function softmaxConfig(shape: number[]): SweepConfig {
  return {
    key: `softmax Softmax x=${shape.join('x')}`,
    layerType: 'softmax',
    macs: 3 * elements(shape),
    activationBytes: 8 * elements(shape),
    weightBytes: 0,
    inputs: [f32(shape)],
    addLayer: (b, [x]) => [b.softmax(x, -1)]
  };
}

const elementwiseOps = ['Add', 'Sub', 'Mul', 'Div', 'AddBias', 'Pow', 'Sqrt', 'MulChannels'] as const;

function elementwiseConfig(op: (typeof elementwiseOps)[number], shape: number[]): SweepConfig {
  const binary = op === 'Add' || op === 'Sub' || op === 'Mul' || op === 'Div';
  const count = elements(shape);
  if (op === 'MulChannels') {
    // Squeeze-and-excitation's scale: [1,C,H,W] × [1,C,1,1].
    const gate = [shape[0], shape[1], ...shape.slice(2).map(() => 1)];
    return {
      key: `elementwise MulChannels x=${shape.join('x')}`,
      layerType: 'elementwise',
      macs: count,
      activationBytes: 8 * count,
      weightBytes: 0,
      inputs: [f32(shape), f32(gate)],
      addLayer: (b, [x, y]) => [b.op('Mul', [x, y], {}, '/Mul')]
    };
  }
  return {
    key: `elementwise ${op} x=${shape.join('x')}`,
    layerType: 'elementwise',
    macs: count,
    activationBytes: (binary ? 12 : 8) * count,
    weightBytes: op === 'AddBias' ? 4 * shape[shape.length - 1] : 0,
    inputs: binary ? [f32(shape), f32(shape)] : [f32(shape)],
    addLayer: (b, [x, y]) => {
      if (binary) return [b.op(op, [x, y], {}, `/${op}`)];
      if (op === 'Sqrt') return [b.op('Sqrt', [x], {}, '/Sqrt')];
      if (op === 'Pow') return [b.op('Pow', [x, b.constantFloat('/Pow.exponent', [], new Float32Array([2]))], {}, '/Pow')];
      const features = shape[shape.length - 1];
      return [b.add(x, b.constantFloat('/Add.bias', [features], new Float32Array(features)))];
    }
  };
}

const movementOps = ['Transpose', 'Reshape', 'Flatten', 'Concat', 'Slice', 'Split', 'Identity', 'Unsqueeze', 'Cast', 'Pad', 'Resize'] as const;

function movementConfig(op: (typeof movementOps)[number], shape: number[]): SweepConfig {
  const [n, c, h, w] = shape;
  const count = elements(shape);
  const outputBytes = op === 'Concat' ? 8 * count : op === 'Slice' ? 2 * count : op === 'Cast' ? 2 * count : op === 'Resize' ? 16 * count : op === 'Pad' ? 4 * n * c * (h + 2) * (w + 2) : 4 * count;
  return {
    key: `dataMovement ${op} x=${shape.join('x')}`,
    layerType: 'dataMovement',
    macs: 0,
    activationBytes: 4 * count + outputBytes,
    weightBytes: 0,
    inputs: op === 'Concat' ? [f32(shape), f32(shape)] : [f32(shape)],
    outputTypes: op === 'Split' ? ['float32', 'float32'] : op === 'Cast' ? ['float16'] : undefined,
    addLayer: (b, [x, y]) => {
      switch (op) {
        case 'Transpose':
          return [b.transpose(x, [0, 2, 3, 1])];
        case 'Reshape':
          return [b.reshape(x, [n, c, h * w])];
        case 'Flatten':
          return [b.flatten(x, 1)];
        case 'Concat':
          return [b.concat([x, y], 1)];
        case 'Slice': {
          const starts = b.constantInt64('/Slice.starts', [1], [0]);
          const ends = b.constantInt64('/Slice.ends', [1], [c >> 1]);
          const axes = b.constantInt64('/Slice.axes', [1], [1]);
          return [b.op('Slice', [x, starts, ends, axes], {}, '/Slice')];
        }
        case 'Split':
          return b.node('Split', [x, b.constantInt64('/Split.split', [2], [c >> 1, c - (c >> 1)])], { axis: 1 }, { name: '/Split', outputCount: 2 });
        case 'Identity':
          return [b.op('Identity', [x], {}, '/Identity')];
        case 'Unsqueeze':
          return [b.op('Unsqueeze', [x, b.constantInt64('/Unsqueeze.axes', [1], [0])], {}, '/Unsqueeze')];
        case 'Cast':
          return [b.op('Cast', [x], { to: 10 }, '/Cast')];
        case 'Pad':
          return [b.op('Pad', [x, b.constantInt64('/Pad.pads', [8], [0, 0, 1, 1, 0, 0, 1, 1])], { mode: 'constant' }, '/Pad')];
        case 'Resize': {
          const scales = b.constantFloat('/Resize.scales', [4], new Float32Array([1, 1, 2, 2]));
          return [b.op('Resize', [x, '', scales], { mode: 'nearest' }, '/Resize')];
        }
      }
    }
  };
}

function gatherConfig(vocabulary: number, features: number, tokens: number): SweepConfig {
  return {
    key: `dataMovement Gather vocab=${vocabulary} d=${features} tokens=${tokens}`,
    layerType: 'dataMovement',
    macs: 0,
    activationBytes: 8 * tokens + 4 * tokens * features,
    weightBytes: 4 * vocabulary * features,
    inputs: [{ shape: [1, tokens], elementType: 'int64', indexLimit: vocabulary }],
    addLayer: (b, [indices]) => [b.op('Gather', [b.weight('/Embedding.weight', [vocabulary, features], features), indices], { axis: 0 }, '/Gather')]
  };
}

// Quantized layers (onnxruntime's operator format): uint8 activations with per-tensor
// scales, int8 weights with per-channel (conv) or per-tensor (fc) scales, int32 biases.

const u8 = (shape: number[]): SweepInput => ({ shape, elementType: 'uint8' });

function qconvConfig(layerType: 'qconv' | 'qdepthwiseConv', c: number, size: number, kernel: number, stride: number, filters: number, group = 1): SweepConfig {
  const pad = kernel >> 1;
  const out = outSize(size, kernel, stride, pad);
  const perFilter = (c / group) * kernel * kernel;
  return {
    key: `${layerType} QLinearConv c=${c} hw=${size} k=${kernel} s=${stride} f=${filters} g=${group}`,
    layerType,
    macs: filters * out * out * perFilter,
    activationBytes: c * size * size + filters * out * out,
    weightBytes: filters * perFilter,
    inputs: [u8([1, c, size, size])],
    addLayer: (b, [x]) => {
      const [xScale, xZero] = quantParameters(b, '/x', 0.02, 128);
      const w = int8Weight(b, '/QLinearConv.weight', [filters, c / group, kernel, kernel]);
      const [wScale, wZero] = quantParameters(b, '/QLinearConv.weight', new Array<number>(filters).fill(0.01), new Array<number>(filters).fill(0), 'int8');
      const [yScale, yZero] = quantParameters(b, '/y', 0.05, 128);
      const bias = b.constantTensor('/QLinearConv.bias', 'int32', [filters], new Int32Array(filters));
      const attributes = { group, kernel_shape: [kernel, kernel], pads: [pad, pad, pad, pad], strides: [stride, stride] };
      return [b.op('QLinearConv', [x, xScale, xZero, w, wScale, wZero, yScale, yZero, bias], attributes, '/QLinearConv')];
    }
  };
}

/** An integer FC: QLinearMatMul (uint8 out) or MatMulInteger (int32 out), by an int8 [in, out] weight. */
function qfcConfig(op: 'QLinearMatMul' | 'MatMulInteger', inNeurons: number, outNeurons: number): SweepConfig {
  return {
    key: `qfc ${op} in=${inNeurons} out=${outNeurons}`,
    layerType: 'qfc',
    macs: inNeurons * outNeurons,
    activationBytes: inNeurons + (op === 'MatMulInteger' ? 4 : 1) * outNeurons,
    weightBytes: inNeurons * outNeurons,
    inputs: [u8([1, inNeurons])],
    addLayer: (b, [x]) => {
      const w = int8Weight(b, `/${op}.weight`, [inNeurons, outNeurons]);
      const [xScale, xZero] = quantParameters(b, '/x', 0.02, 128);
      const [wScale, wZero] = quantParameters(b, '/w', 0.01, 0, 'int8');
      if (op === 'MatMulInteger') return [b.op(op, [x, w, xZero, wZero], {}, `/${op}`)];
      const [yScale, yZero] = quantParameters(b, '/y', 0.05, 128);
      return [b.op(op, [x, xScale, xZero, w, wScale, wZero, yScale, yZero], {}, `/${op}`)];
    }
  };
}

const quantizeOps = ['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear'] as const;

function quantizeConfig(op: (typeof quantizeOps)[number], shape: number[]): SweepConfig {
  const count = elements(shape);
  return {
    key: `quantize ${op} x=${shape.join('x')}`,
    layerType: 'quantize',
    macs: count,
    activationBytes: 5 * count,
    weightBytes: 0,
    inputs: [op === 'DequantizeLinear' ? u8(shape) : f32(shape)],
    addLayer: (b, [x]) => {
      const [scale, zero] = quantParameters(b, '/q', 0.02, 128);
      if (op === 'DynamicQuantizeLinear') return b.node(op, [x], {}, { name: `/${op}`, outputCount: 3 });
      const y = b.op(op, [x, scale, zero], {}, `/${op}`);
      // A DequantizeLinear read by one layer is a step of that layer (app/analysis/quant-steps.ts):
      // two readers keep it a layer of its own, as the sweep times it.
      return op === 'DequantizeLinear' ? [y, y] : [y];
    }
  };
}

function qelementwiseConfig(shape: number[]): SweepConfig {
  const count = elements(shape);
  return {
    key: `qelementwise QLinearAdd x=${shape.join('x')}`,
    layerType: 'qelementwise',
    macs: count,
    activationBytes: 3 * count,
    weightBytes: 0,
    inputs: [u8(shape), u8(shape)],
    addLayer: (b, [x, y]) => {
      const [xScale, xZero] = quantParameters(b, '/a', 0.02, 128);
      const [yScale, yZero] = quantParameters(b, '/b', 0.03, 120);
      const [zScale, zZero] = quantParameters(b, '/c', 0.04, 125);
      return b.node('QLinearAdd', [x, xScale, xZero, y, yScale, yZero, zScale, zZero], {}, { name: '/QLinearAdd', domain: 'com.microsoft' });
    }
  };
}

/** Static cost estimate of a configuration, seconds (rates: measured ones once the sweep has them). */
function estimateSeconds(config: SweepConfig, rates: { gmacsPerSec: number; gbPerSec: number; perOpOverheadMs: number }): number {
  const runMs = Math.max(config.macs / (rates.gmacsPerSec * 1e6), (config.activationBytes + config.weightBytes) / (rates.gbPerSec * 1e6)) + rates.perOpOverheadMs;
  const measureMs = Math.max(TARGET_MEASURE_MS, (WARMUP_RUNS + MIN_RUNS) * runMs) + WARMUP_RUNS * runMs;
  return SESSION_SETUP_S + config.weightBytes / SETUP_BYTES_PER_S + measureMs / 1000;
}

/** `count` configurations spread evenly over `configs` sorted by cost (all of them when fewer; the middle one for one). */
function spread(configs: readonly SweepConfig[], count: number): SweepConfig[] {
  const sorted = [...configs].sort((a, b) => estimateSeconds(a, NOMINAL_RATES) - estimateSeconds(b, NOMINAL_RATES));
  if (sorted.length <= count) return sorted;
  if (count <= 1) return count === 1 ? [sorted[Math.floor((sorted.length - 1) / 2)]] : [];
  const picked = new Set<number>();
  for (let i = 0; i < count; i++) picked.add(Math.round((i * (sorted.length - 1)) / (count - 1)));
  return [...picked].map((i) => sorted[i]);
}

function* cartesian<A, B>(as: readonly A[], bs: readonly B[]): Generator<[A, B]> {
  for (const a of as) for (const b of bs) yield [a, b];
}

/**
 * The pointwise (1×1) convs of inverted-residual blocks (MobileNet's, EfficientNet's): few
 * channels expanded six times and projected back, over large maps, where a conv's output
 * and input weigh more than its multiply-adds.
 */
function pointwiseConfigs(): SweepConfig[] {
  const shapes = [[16, 96], [24, 144], [32, 192], [40, 240], [96, 24], [144, 24], [144, 32], [192, 32], [240, 40], [32, 16], [64, 384], [384, 64]] as const;
  return shapes.flatMap(([c, f]) => [112, 56, 28].filter((size) => Math.max(c, f) * size * size <= 2e6).map((size) => convConfig('conv', c, size, 1, 1, f)));
}
const POINTWISE_KEYS = new Set(pointwiseConfigs().map((config) => config.key));

/**
 * The wide pointwise convs of the last stages (EfficientNet's, MobileNet's, RegNet's heads:
 * hundreds of channels over 14×14 and 7×7 maps), where a GEMM's partial column strip costs
 * most (app/prediction/features.ts gemmMacs) and the spread has few samples.
 */
function headPointwiseConfigs(): SweepConfig[] {
  const shapes = [[80, 480], [480, 80], [112, 672], [672, 112], [672, 192], [192, 1152], [1152, 192], [320, 1280], [96, 576], [576, 96]] as const;
  return shapes.flatMap(([c, f]) => [14, 7].map((size) => convConfig('conv', c, size, 1, 1, f)));
}

function gridByType(): Record<LayerType, SweepConfig[]> {
  const conv: SweepConfig[] = [];
  for (const size of [7, 14, 28, 56, 112])
    for (const c of [16, 32, 64, 128, 256, 512])
      for (const kernel of [1, 3, 5, 7, 11])
        for (const stride of [1, 2, 4])
          for (const filters of [16, 32, 64, 128, 256, 512]) {
            if (kernel > size || (stride === 4 && kernel < 7) || (kernel >= 7 && c > 64) || (stride > 1 && size < 14)) continue;
            const config = convConfig('conv', c, size, kernel, stride, filters);
            if (config.macs <= 1.2e9 && config.weightBytes <= 32e6) conv.push(config);
          }
  const stems = [convConfig('conv', 3, 224, 11, 4, 64), convConfig('conv', 3, 224, 7, 2, 64), convConfig('conv', 3, 224, 3, 2, 32), convConfig('conv', 3, 224, 3, 1, 64), convConfig('conv', 3, 112, 3, 1, 32)];
  // Stems over small inputs (a grey 28×28 digit, a 32×32 colour image, a 64×64 spectrogram) and the few-channel convs after them:
  // one or three channels in, where the grid above starts at 16 and k²/s² × filters overstates a conv's work.
  const smallStems = [
    convConfig('conv', 1, 28, 5, 1, 16), convConfig('conv', 1, 28, 3, 1, 32), convConfig('conv', 1, 64, 3, 1, 16), convConfig('conv', 3, 32, 3, 1, 32), convConfig('conv', 3, 32, 5, 1, 64),
    convConfig('conv', 24, 14, 5, 1, 48), convConfig('conv', 32, 14, 3, 1, 64), convConfig('conv', 8, 28, 5, 1, 16)
  ];
  // Large 3×3 convs at high resolution (VGG-style stages, up to ≈3.7 GMAC): outside the
  // grid above, and predictions must not extrapolate to them.
  const wide = [
    [64, 224, 64], [64, 112, 128], [128, 112, 128], [128, 56, 256], [256, 56, 256], [256, 28, 512], [512, 28, 512], [512, 14, 512]
  ].map(([c, size, filters]) => convConfig('conv', c, size, 3, 1, filters));
  // Squeeze-and-excitation's 1×1 convs over a 1×1 map (EfficientNet's, MobileNetV3's): FC-sized, conv-shaped.
  const excitation = [...cartesian([16, 32, 64, 96, 240, 480, 672, 960], [4, 0.25])].map(([c, ratio]) => {
    const narrow = Math.max(4, Math.round(c / 4));
    return ratio === 4 ? convConfig('conv', narrow, 1, 1, 1, c) : convConfig('conv', c, 1, 1, 1, narrow);
  });
  // Grouped, not depthwise (RegNet's, ResNeXt's): channels per group 8–64.
  const grouped: SweepConfig[] = [];
  for (const c of [32, 48, 64, 128, 224, 256, 440])
    for (const size of [7, 14, 28, 56])
      for (const width of [8, 16, 24, 64])
        for (const stride of [1, 2]) {
          if (c % width !== 0 || c / width < 2 || (stride === 2 && size < 14) || c * size * size > 1.6e6) continue;
          grouped.push(convConfig('groupedConv', c, size, 3, stride, c, c / width));
        }

  const depthwise: SweepConfig[] = [];
  for (const c of [16, 32, 64, 96, 144, 192, 384, 576, 960])
    for (const size of [7, 14, 28, 56, 112])
      for (const [kernel, stride] of cartesian([3, 5], [1, 2])) if (c * size * size <= 1.6e6) depthwise.push(convConfig('depthwiseConv', c, size, kernel, stride, c, c));

  const gemm = [...cartesian([64, 256, 512, 1024, 2048, 4096, 9216], [10, 100, 256, 1000, 2048, 4096])].map(([i, o]) => fcConfig(1, i, o));
  // The small end, where a one-row FC takes 1–5 µs (NLP taggers' hidden and output layers), more densely.
  const smallGemm = [...cartesian([128, 300, 768], [16, 50, 300])].map(([i, o]) => fcConfig(1, i, o));
  const rowFc: SweepConfig[] = [];
  for (const rows of [16, 64, 128, 256])
    for (const [i, o] of cartesian([64, 256, 512, 768, 1024], [64, 256, 768, 1024, 3072])) if (rows * i * o <= 5e8) rowFc.push(fcConfig(rows, i, o));

  const matmul: SweepConfig[] = [];
  for (const heads of [1, 4, 8, 12])
    for (const [m, d] of cartesian([16, 32, 64, 128, 256], [32, 64])) matmul.push(matmulConfig(heads, m, d, m), matmulConfig(heads, m, m, d));

  const maps = [...cartesian([16, 64, 128, 256, 512], [7, 14, 28, 56, 112])].filter(([c, size]) => c * size * size <= 2e6);
  const poolVariants: PoolVariant[] = [
    { op: 'MaxPool', kernel: 3, stride: 2, pad: 1 },
    { op: 'MaxPool', kernel: 2, stride: 2, pad: 0 },
    { op: 'MaxPool', kernel: 3, stride: 2, pad: 0 },
    { op: 'AveragePool', kernel: 2, stride: 2, pad: 0 },
    { op: 'AveragePool', kernel: 3, stride: 1, pad: 1 },
    { op: 'GlobalAveragePool' },
    { op: 'GlobalMaxPool' }
  ];
  const pooling = [...cartesian(poolVariants, maps)].map(([variant, [c, size]]) => poolConfig(variant, c, size));

  const activationShapes = [...cartesian([16, 64, 256], [7, 14, 28, 56, 112])].map(([c, size]) => [1, c, size, size]);
  const activation = [...cartesian(activationOps, activationShapes)].map(([op, shape]) => activationConfig(op, shape));

  const imageShapes = [...cartesian([16, 64, 256], [7, 14, 28, 56])].map(([c, size]) => [1, c, size, size]);
  const sequenceShapes = [...cartesian([16, 64, 128, 256], [64, 256, 768, 1024])].map(([seq, d]) => [1, seq, d]);
  const normalization = [
    ...[...cartesian(['BatchNormalization', 'InstanceNormalization', 'LRN'] as const, imageShapes)].map(([op, shape]) => normConfig(op, shape)),
    ...sequenceShapes.map((shape) => normConfig('LayerNormalization', shape))
  ];

  const softmax = [
    ...[...cartesian([1, 4, 8, 12], [16, 64, 128, 256])].map(([h, m]) => softmaxConfig([1, h, m, m])),
    ...[10, 100, 1000, 10000].map((n) => softmaxConfig([1, n]))
  ];

  const elementwise = [
    ...[...cartesian(elementwiseOps.filter((op) => op !== 'AddBias'), imageShapes)].map(([op, shape]) => elementwiseConfig(op, shape)),
    ...[...cartesian([16, 64, 256, 672], [7, 14, 28, 56])].map(([c, size]) => elementwiseConfig('MulChannels', [1, c, size, size])),
    ...sequenceShapes.map((shape) => elementwiseConfig('AddBias', shape))
  ];

  const dataMovement = [
    ...[...cartesian(movementOps, imageShapes)].map(([op, shape]) => movementConfig(op, shape)),
    ...[...cartesian([1000, 30000], [64, 256, 768])].map(([vocabulary, d]) => gatherConfig(vocabulary, d, 128))
  ];

  // Layers of a few hundred values (the NLP and speech models' vectors: SENNA's 300-neuron
  // hidden layer): far below the grids above, where a fit would otherwise guess the fixed
  // cost of a kernel from configurations a hundred times its size.
  const vectorShapes = [[1, 64], [1, 300], [1, 1000], [1, 4096]];
  // Activations larger than the last-level cache (LAST_LEVEL_CACHE_BYTES): their time is the
  // memory's bandwidth, the roof predict.ts puts under memory-bound layers that large.
  const beyondCache = [[1, 256, 192, 192], [1, 512, 192, 192]];
  const tinyMaps = [[1, 4, 4, 4], [1, 16, 4, 4], [1, 16, 8, 8]];
  const vectorActivations = [...cartesian(['Relu', 'Clip', 'Tanh', 'Sigmoid'] as const, vectorShapes)].map(([op, shape]) => activationConfig(op, shape));
  const vectorElementwise = [...cartesian(['Add', 'Mul'] as const, [...vectorShapes.map((s) => [1, 1, ...s]), ...tinyMaps])].map(([op, shape]) => elementwiseConfig(op, shape));
  const tinyMovement = [
    ...[...cartesian(movementOps, tinyMaps)].map(([op, shape]) => movementConfig(op, shape)),
    ...[...cartesian([1000, 30000], [50, 64])].map(([vocabulary, d]) => gatherConfig(vocabulary, d, 5))
  ];

  // Speech and sequence models' GRU and LSTM layers: steps, input and hidden sizes.
  const recurrent: SweepConfig[] = [];
  for (const op of ['GRU', 'LSTM'] as const)
    for (const seq of [1, 10, 50, 200])
      for (const [input, hidden] of cartesian([40, 128, 256], [64, 192, 512])) recurrent.push(recurrentConfig(op, seq, input, hidden));

  const qconv = [
    ...spread(conv, 70).map((config) => {
      const [, c, size, kernel, stride, filters] = /c=(\d+) hw=(\d+) k=(\d+) s=(\d+) f=(\d+)/.exec(config.key)?.map(Number) ?? [];
      return qconvConfig('qconv', c, size, kernel, stride, filters);
    }),
    qconvConfig('qconv', 3, 224, 3, 2, 32),
    qconvConfig('qconv', 3, 224, 7, 2, 64)
  ];
  const qdepthwise = spread(depthwise, 25).map((config) => {
    const [, c, size, kernel, stride] = /c=(\d+) hw=(\d+) k=(\d+) s=(\d+)/.exec(config.key)?.map(Number) ?? [];
    return qconvConfig('qdepthwiseConv', c, size, kernel, stride, c, c);
  });
  const qfc = [...cartesian([64, 256, 512, 1024, 2048, 4096, 9216], [10, 100, 256, 1000, 4096])].flatMap(([i, o]) => [qfcConfig('QLinearMatMul', i, o), qfcConfig('MatMulInteger', i, o)]);
  const quantize = [...cartesian(quantizeOps, [...imageShapes, ...vectorShapes])].map(([op, shape]) => quantizeConfig(op, shape));
  const qelementwise = [...imageShapes, ...tinyMaps].map((shape) => qelementwiseConfig(shape));

  return {
    conv: [...spread(conv, 220), ...stems, ...smallStems, ...wide, ...excitation, ...pointwiseConfigs(), ...headPointwiseConfigs()],
    groupedConv: spread(grouped, 50),
    depthwiseConv: spread(depthwise, 80),
    fc: [...gemm.filter((config) => config.weightBytes <= STREAMED_FC_MIN_BYTES), ...smallGemm],
    fcBatched: spread(rowFc, 60),
    matmul: spread(matmul, 80),
    pooling: spread(pooling, 80),
    activation: [...spread(activation, 84), ...vectorActivations, ...beyondCache.map((shape) => activationConfig('Relu', shape))],
    normalization: spread(normalization, 60),
    softmax,
    elementwise: [...spread(elementwise, 80), ...vectorElementwise],
    dataMovement: [...spread(dataMovement, 80), ...tinyMovement],
    recurrent: [recurrentConfig('RNN', 10, 40, 64), ...spread(recurrent, 40)],
    qconv,
    qdepthwiseConv: qdepthwise,
    qfc: spread(qfc, 30),
    quantize: spread(quantize, 30),
    qelementwise
  };
}

// ---------------------------------------------------------------------------------------
// Adaptive sampling (issue 19; nn-Meter's, MobiSys 2021): once the grid's first pass has
// had its share of the budget, configurations are added where a type's cross-validated
// error is highest, each a seeded random draw from that type's space (wider than the
// grid's values), keyed `adaptive <type> #<n> …` so a resumed sweep continues the same
// sequence and never repeats one.

/**
 * Kernels at 'all' (issue 19): onnxruntime's CPU provider runs convolutions and pooling in
 * its blocked NCHWc layout at 'all' (fusion rules in resources/fusion-rules.json), a kernel
 * that is up to 2× faster than the plain one timed at 'disabled'. A spread of those types'
 * configurations is timed again at 'all' (layout reorders around the lone layer left out:
 * LAYOUT_KERNELS), as samples with `level: 'all'` fitted apart, which predictions at 'all' use.
 */
export const KERNEL_LEVEL_TYPES: Readonly<Partial<Record<LayerType, number>>> = { conv: 90, groupedConv: 25, depthwiseConv: 35, pooling: 25, activation: 20, normalization: 12 };

/**
 * The fused kernels onnxruntime makes of written-out patterns at 'all' (resources/fusion-rules.json):
 * GELU (Div → Erf → Add → Mul → Mul) runs as one Gelu kernel and SiLU (Sigmoid → Mul) as
 * QuickGelu, both predicted as a transcendental activation over their output; a LayerNorm
 * written out runs as one LayerNormalization, and a residual Add before a LayerNorm as one
 * SkipLayerNormalization (`residualNeurons`). Timed as such at 'all', they join those
 * types' fits at 'all' beside the plain layers timed there, so a fused kernel is costed as
 * the kernel it is, not as the op it stands for.
 */
function fusedKernelConfigs(): SweepConfig[] {
  const sequences = [[1, 16, 256], [1, 64, 384], [1, 197, 384], [1, 128, 768], [1, 256, 1024]];
  // Up to the SiLUs of EfficientNet-B0's first blocks (1×96×112×112): with maps up to
  // 1×32×56×56 only, the QuickGelu line (kernel-lines.ts) reached 12 times beyond them.
  const maps = [[1, 96, 112, 112], [1, 144, 56, 56], [1, 32, 56, 56], [1, 96, 28, 28], [1, 240, 14, 14], [1, 672, 7, 7]];
  const kernel = (name: string, layerType: LayerType, shape: number[], features: Record<string, number>, build: (b: GraphBuilder, x: string) => string): SweepConfig => ({
    key: fusedKernelKey(layerType, name, shape),
    layerType,
    macs: elements(shape),
    activationBytes: 8 * elements(shape),
    weightBytes: 0,
    inputs: [f32(shape)],
    addLayer: (b, [x]) => [build(b, x)],
    kernelFeatures: features
  });
  const scalar = (b: GraphBuilder, name: string, value: number): string => b.constantFloat(name, [], new Float32Array([value]));
  return [
    ...sequences.map((shape) => kernel('Gelu', 'activation', shape, { neurons: elements(shape), transcendentalNeurons: elements(shape) }, (b, x) => b.gelu(x))),
    ...maps.map((shape) => kernel('QuickGelu', 'activation', shape, { neurons: elements(shape), transcendentalNeurons: elements(shape) }, (b, x) => b.mul(x, b.op('Sigmoid', [x])))),
    ...sequences.map((shape) =>
      kernel('LayerNormalization', 'normalization', shape, { neurons: elements(shape), lrnWindowNeurons: 0, statisticsNeurons: elements(shape), residualNeurons: 0 }, (b, x) => {
        const d = shape[shape.length - 1];
        const mean = b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 });
        const centred = b.op('Sub', [x, mean]);
        const variance = b.op('ReduceMean', [b.op('Pow', [centred, scalar(b, '/ln.two', 2)])], { axes: [-1], keepdims: 1 });
        const normed = b.op('Div', [centred, b.op('Sqrt', [b.op('Add', [variance, scalar(b, '/ln.eps', 1e-5)])])]);
        return b.op('Add', [b.op('Mul', [normed, b.constantFloat('/ln.weight', [d], new Float32Array(d).fill(1))]), b.constantFloat('/ln.bias', [d], new Float32Array(d))]);
      })
    ),
    ...sequences.map((shape) =>
      kernel('SkipLayerNormalization', 'normalization', shape, { neurons: elements(shape), lrnWindowNeurons: 0, statisticsNeurons: elements(shape), residualNeurons: elements(shape) }, (b, x) =>
        b.layerNorm(b.add(x, x), shape[shape.length - 1])
      )
    )
  ];
}
/**
 * Seconds the context calibrations take (ContextCalibration: at 'disabled' three networks in
 * three passes, about 11 s here; at 'all' two full-size ones in three passes, about 6 s),
 * kept at the end of a sweep's budget when all their passes run there.
 */
const CONTEXT_CALIBRATION_S = 20;
/**
 * When the sweep runs long enough (CONTEXT_SPREAD_MIN_S), the context calibrations' passes
 * but the last run at these shares of its seconds, and only the last at its end. A burst of
 * another process's load lasting seconds then meets one pass at most, where three passes in
 * a row (17 s) could all fall in it: two characterisations of a busy hour whose passes ran in
 * a row kept conv ×1.41 and pooling ×1.57, or normalisation ×2.16 and element-wise ×2.02, at
 * 'disabled', where quiet ones keep 1.00–1.08.
 */
const CONTEXT_PASS_MOMENTS: readonly number[] = [1 / 3, 2 / 3];
const CONTEXT_SPREAD_MIN_S = 90;
const KERNEL_LEVEL_KEY_PREFIX = '@all ';
const CONV_LIKE_TYPES: ReadonlySet<string> = new Set(['conv', 'groupedConv', 'depthwiseConv']);
const KERNEL_LEVEL_BUDGET_SHARE = 0.25;

/**
 * `count` of `configs` spread over their windows (kernel size and stride): an equal share of
 * each window's configurations (spread by cost within it, the picks a window cannot fill
 * given to the others), in turns across the windows, so a phase the budget cuts short has
 * each. Configurations without a window are spread as one.
 */
export function spreadOverWindows(configs: readonly SweepConfig[], count: number): SweepConfig[] {
  const byWindow = new Map<string, SweepConfig[]>();
  for (const config of configs) {
    const window = config.window ? `${config.window.kernel}/${config.window.stride}` : '';
    const group = byWindow.get(window);
    if (group) group.push(config);
    else byWindow.set(window, [config]);
  }
  const groups = [...byWindow.values()].sort((a, b) => a.length - b.length);
  const shares: SweepConfig[][] = [];
  let left = count;
  groups.forEach((group, i) => {
    const share = spread(group, Math.min(group.length, Math.floor(left / (groups.length - i))));
    shares.push(share);
    left -= share.length;
  });
  return inTurns(shares);
}

/** The lists' items in turns: every list's first, then every list's second, and so on (a list that runs out is passed over). */
function inTurns<T>(lists: readonly (readonly T[])[]): T[] {
  const ordered: T[] = [];
  for (let i = 0; lists.some((list) => i < list.length); i++) for (const list of lists) if (i < list.length) ordered.push(list[i]);
  return ordered;
}

/** The kernel-level configurations, round-robin across the types (and the fused kernels), so a phase the budget cuts short still has each type's. */
export function kernelLevelGrid(grid: readonly SweepConfig[]): SweepConfig[] {
  const lists = Object.entries(KERNEL_LEVEL_TYPES).map(([type, count]) => {
    const ofType = grid.filter((c) => c.layerType === type && !c.key.startsWith(ADAPTIVE_KEY_PREFIX));
    // Blocked pointwise convs over large maps are where the fits at 'all' missed most: all of them, interleaved with the spread.
    const pointwise = ofType.filter((c) => POINTWISE_KEYS.has(c.key));
    // Spread by cost alone, the convs a 300-s characterisation timed at 'all' held no 5×5 stride-1 window and two 3×3 stride-1
    // ones beside 42 1×1: LeNet's 5×5 convs were predicted at 2 and 18 µs against 8 and 35 run, a fit extrapolated along k²/s² × filters.
    const rest = spreadOverWindows(ofType.filter((c) => !POINTWISE_KEYS.has(c.key)), Math.max(0, (count ?? 0) - pointwise.length));
    return rest.flatMap((config, i) => (i < pointwise.length ? [pointwise[i], config] : [config])).concat(pointwise.slice(rest.length));
  });
  const types = new Set(grid.map((c) => c.layerType));
  lists.push(fusedKernelConfigs().filter((c) => types.has(c.layerType)));
  return inTurns(lists);
}

/** Share of a call's budget the adaptive phase may take (the grid's first pass gets the rest first). */
const ADAPTIVE_BUDGET_SHARE = 0.2;
/** Configurations drawn for the worst type before the errors are estimated again. */
const ADAPTIVE_BATCH = 6;

const pick = <T,>(random: () => number, values: readonly T[]): T => values[Math.floor(random() * values.length) % values.length];
/** A log-uniform integer in [low, high], rounded to a multiple of `step`. */
const logUniform = (random: () => number, low: number, high: number, step = 1): number => {
  const value = Math.exp(Math.log(low) + random() * (Math.log(high) - Math.log(low)));
  return Math.max(step, Math.round(value / step) * step);
};

/** The types the adaptive phase may add configurations to: the float types models are made of, and the integer FC (the worst-fitted integer type). */
export const ADAPTIVE_TYPES: readonly LayerType[] = ['conv', 'groupedConv', 'depthwiseConv', 'fc', 'fcBatched', 'matmul', 'pooling', 'activation', 'normalization', 'softmax', 'elementwise', 'dataMovement', 'recurrent', 'qfc'];

/**
 * What the adaptive phase samples: a layer type, timed as the sweep times it ('disabled'),
 * or one of the kernel-level types (KERNEL_LEVEL_TYPES) timed at 'all', whose fits
 * predictions at 'all' use and whose errors are reported apart.
 */
export interface AdaptiveStratum {
  layerType: LayerType;
  level?: 'all';
}

/** The `index`-th adaptive configuration of `layerType` (deterministic); null when a draw is out of bounds (the next index is drawn). */
export function adaptiveConfig(layerType: LayerType, index: number): SweepConfig | null {
  const random = seededRandom(keySeed(`${layerType}#${index}`, 19));
  const size = pick(random, [7, 10, 14, 20, 28, 40, 56, 80, 112]);
  let config: SweepConfig | null = null;
  switch (layerType) {
    case 'conv': {
      const kernel = pick(random, [1, 1, 3, 3, 5]);
      const stride = size >= 14 ? pick(random, [1, 1, 2]) : 1;
      config = convConfig('conv', logUniform(random, 8, 512, 8), size, kernel, stride, logUniform(random, 8, 512, 8));
      break;
    }
    case 'groupedConv': {
      const width = pick(random, [8, 16, 24, 32, 48, 64]);
      const groups = logUniform(random, 2, 32);
      config = convConfig('groupedConv', width * groups, size, 3, size >= 14 ? pick(random, [1, 2]) : 1, width * groups, groups);
      break;
    }
    case 'depthwiseConv': {
      const c = logUniform(random, 16, 1152, 8);
      config = convConfig('depthwiseConv', c, size, pick(random, [3, 5, 7]), size >= 14 ? pick(random, [1, 2]) : 1, c, c);
      break;
    }
    case 'fc':
      config = fcConfig(1, logUniform(random, 16, 4096), logUniform(random, 10, 4096));
      break;
    case 'fcBatched':
      config = fcConfig(logUniform(random, 4, 256), logUniform(random, 32, 1536, 8), logUniform(random, 32, 3072, 8));
      break;
    case 'matmul': {
      const m = logUniform(random, 8, 256);
      const d = logUniform(random, 16, 128, 8);
      config = random() < 0.5 ? matmulConfig(logUniform(random, 1, 16), m, d, m) : matmulConfig(logUniform(random, 1, 16), m, m, d);
      break;
    }
    case 'pooling': {
      const variants: PoolVariant[] = [{ op: 'MaxPool', kernel: 3, stride: 2, pad: 1 }, { op: 'MaxPool', kernel: 2, stride: 2, pad: 0 }, { op: 'AveragePool', kernel: 2, stride: 2, pad: 0 }, { op: 'GlobalAveragePool' }];
      config = poolConfig(pick(random, variants), logUniform(random, 8, 1024, 8), size);
      break;
    }
    case 'activation':
      config = activationConfig(pick(random, activationOps), [1, logUniform(random, 8, 512, 8), size, size]);
      break;
    case 'normalization':
      config = random() < 0.5 ? normConfig(pick(random, ['BatchNormalization', 'InstanceNormalization'] as const), [1, logUniform(random, 8, 512, 8), size, size]) : normConfig('LayerNormalization', [1, logUniform(random, 4, 512), logUniform(random, 32, 1024, 32)]);
      break;
    case 'softmax':
      config = random() < 0.7 ? softmaxConfig([1, logUniform(random, 1, 16), logUniform(random, 8, 256), logUniform(random, 8, 256)]) : softmaxConfig([1, logUniform(random, 10, 30000)]);
      break;
    case 'elementwise':
      config = elementwiseConfig(pick(random, elementwiseOps), [1, logUniform(random, 8, 512, 8), size, size]);
      break;
    case 'dataMovement':
      config = movementConfig(pick(random, movementOps), [1, logUniform(random, 8, 512, 8), size, size]);
      break;
    case 'recurrent':
      config = recurrentConfig(pick(random, ['GRU', 'LSTM'] as const), logUniform(random, 1, 300), logUniform(random, 16, 512, 8), logUniform(random, 16, 768, 8));
      break;
    case 'qfc':
      config = qfcConfig(pick(random, ['QLinearMatMul', 'MatMulInteger'] as const), logUniform(random, 16, 4096), logUniform(random, 10, 4096));
      break;
    default:
      return null;
  }
  if (config.macs > 1.5e9 || config.weightBytes > 32e6 || config.activationBytes > 64e6) return null;
  return { ...config, key: `${ADAPTIVE_KEY_PREFIX}${layerType} #${index} ${config.key}` };
}

/**
 * The stratum the adaptive phase samples next: the highest cross-validated median error,
 * discounted by the adaptive samples it already has (so one whose error is noise cannot
 * take the whole phase), over the adaptive types at 'disabled' and the kernel-level types
 * at 'all'. Null when none has an error yet.
 */
export function worstLayerType(errors: readonly LayerTypeError[]): AdaptiveStratum | null {
  let best: { stratum: AdaptiveStratum; score: number } | null = null;
  for (const error of errors) {
    const sampled = error.level === undefined ? (ADAPTIVE_TYPES as readonly string[]).includes(error.layerType) : error.level === 'all' && error.layerType in KERNEL_LEVEL_TYPES;
    if (!sampled) continue;
    const score = effectiveMedianError(error) / (1 + error.adaptiveSamples / 12);
    if (!best || score > best.score) best = { stratum: { layerType: error.layerType as LayerType, ...(error.level === 'all' ? { level: 'all' as const } : {}) }, score };
  }
  return best?.stratum ?? null;
}

/** An adaptive configuration as the stratum times it: at 'all', keyed apart (`adaptive @all <type> #<n> …`). */
export function adaptiveConfigFor(stratum: AdaptiveStratum, index: number): SweepConfig | null {
  const config = adaptiveConfig(stratum.layerType, index);
  if (!config || stratum.level !== 'all') return config;
  return { ...config, key: `${ADAPTIVE_KEY_PREFIX}${KERNEL_LEVEL_KEY_PREFIX}${config.key.slice(ADAPTIVE_KEY_PREFIX.length)}` };
}

/** The i-th term of the base-2 van der Corput sequence: i's bits reversed after the binary point. */
function vanDerCorput(i: number): number {
  let value = 0;
  let weight = 0.5;
  for (let n = i; n > 0; n >>= 1, weight /= 2) if (n & 1) value += weight;
  return value;
}

/** The share of the grid's order the streamed FC layers are spread over. */
export const STREAMED_FC_SPAN = 0.4;

/**
 * One-row FC layers of 72–144 MiB, beyond any cache, which the memory's streaming rate is the
 * median of (predict.ts weightStreamingBytesPerMs). With the grid's one such layer, two
 * characterisations of this machine half an hour apart measured 27.6 and 34.1 GB/s, and every
 * streamed FC layer (Kaldi's, AlexNet's, the ImageNet heads) moved with it; placed among the
 * costliest of the fc grid, a 300-s sweep reached two of four; at fixed moments over the first
 * 80 % of the grid, two of four again.
 */
function streamedFcConfigs(): SweepConfig[] {
  return [fcConfig(1, 9216, 4096), fcConfig(1, 9216, 2048), fcConfig(1, 4096, 6144), fcConfig(1, 6144, 6144)];
}

/**
 * Every configuration of the sweep, in the order it runs: each type's cheapest
 * configurations first, round-robin across types, so a short budget still covers every
 * type; after that each type advances at the same pace through its list, coarse to fine
 * over its cost ranking; the FC layers beyond any cache at fixed moments of it.
 */
export function sweepGrid(): SweepConfig[] {
  const byType = gridByType();
  const ordered: { config: SweepConfig; position: number; typeOrder: number }[] = [];
  // Spread over the first 40 % of the grid, each met at another moment, all of them met: a
  // 300-s characterisation of this machine reaches about half of the grid (623 and 695 of 1286).
  const streamed = streamedFcConfigs();
  streamed.forEach((config, k) => ordered.push({ config, position: (STREAMED_FC_SPAN * (k + 0.5)) / streamed.length, typeOrder: LAYER_TYPES.indexOf('fc') }));
  LAYER_TYPES.forEach((layerType, typeOrder) => {
    const sorted = [...byType[layerType]].sort((a, b) => estimateSeconds(a, NOMINAL_RATES) - estimateSeconds(b, NOMINAL_RATES));
    // After the cheapest few, coarse to fine over the cost ranking (van der Corput order):
    // a sweep the budget cuts short still spans each type's sizes, largest included, where
    // cheapest-first left a loaded machine's sweep without the large layers models spend their time in.
    const rest = sorted.slice(ROUND_ROBIN_FIRST).map((config, i) => ({ config, key: vanDerCorput(i) })).sort((a, b) => a.key - b.key);
    const configs = [...sorted.slice(0, ROUND_ROBIN_FIRST), ...rest.map((entry) => entry.config)];
    configs.forEach((config, rank) => {
      const position = rank < ROUND_ROBIN_FIRST ? rank / 1000 : rank / configs.length;
      ordered.push({ config, position, typeOrder });
    });
  });
  ordered.sort((a, b) => a.position - b.position || a.typeOrder - b.typeOrder);
  // Square attention shapes (m = k) make the same configuration twice: keep one.
  const seen = new Set<string>();
  return ordered.map((entry) => entry.config).filter((config) => !seen.has(config.key) && seen.add(config.key));
}

// ---------------------------------------------------------------------------------------
// Measuring.

/**
 * Kernels a layer timed at 'all' is not charged for: the NCHWc layout conversions onnxruntime
 * puts around a lone layer, which a whole model pays once per run of NCHWc layers.
 */
const LAYOUT_KERNELS = new Set(['ReorderInput', 'ReorderOutput']);

/** Names of the kernels after a configuration's layer (buildConfig), which are not timed: those of the lone-kernel probes' wrapper too. */
const SWEEP_WRAPPER = LONE_KERNEL_WRAPPER;

/**
 * Inside a model, a layer's input was written a few layers earlier and has since been
 * pushed out of the core's own caches (by those layers' weights and activations) into
 * the shared one. The sweep runs each configuration over copies of its inputs in turn,
 * enough copies to fill this many bytes, so small inputs come from the shared cache too
 * (an Add over 1×128×128 took 9 µs on one input, 12–13 µs cycling 16, in a transformer
 * ≈10 µs); larger inputs need no copy.
 */
const INPUT_ROTATION_BYTES = 4 * 2 ** 20;
const MAX_INPUT_COPIES = 16;

/** How many copies of its inputs a configuration runs over in turn (INPUT_ROTATION_BYTES). */
function inputCopies(inputBytes: number): number {
  return Math.min(MAX_INPUT_COPIES, Math.max(1, Math.ceil(INPUT_ROTATION_BYTES / Math.max(inputBytes, 1))));
}

/** The layout with the reorder fit of the samples so far (none yet: as it was, without one). */
function withReorderFit(layout: NchwcLayout, fit: ReorderFit | null): NchwcLayout {
  const { reorder: _previous, ...rest } = layout;
  return fit ? { ...rest, reorder: fit } : rest;
}

interface BuiltConfig {
  bytes: Uint8Array;
  /** The same inputs in separate buffers, run in turn (INPUT_ROTATION_BYTES). */
  feeds: Record<string, ort.Tensor>[];
  features: Record<string, number>;
  /** Copies of the layer in the model, each with its own weights (layerReplicas). */
  replicas: number;
}

function keySeed(key: string, seed: number): number {
  let hash = 2166136261 ^ seed;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 16777619);
  return hash >>> 0;
}

/**
 * A configuration's model and inputs (`replicaCount` copies of its layer), and the layer's
 * features; at 'all' those of the kernel onnxruntime runs there (kernelFeatures: a blocked
 * Conv's channels padded to whole blocks of `layout`).
 */
function buildConfig(config: SweepConfig, seed: number, level: GraphOptimization = CHARACTERIZATION_OPTIMIZATION, replicaCount = layerReplicas(config.weightBytes), layout: NchwcLayout | null = null): BuiltConfig {
  const builder = new GraphBuilder('sweep', { seed: keySeed(config.key, seed) });
  const random = seededRandom(keySeed(config.key, seed + 1));
  const feeds: Record<string, ort.Tensor> = {};
  const addInputs = (replica: number): string[] =>
    config.inputs.map((input, i) => {
      const name = builder.input(replica === 0 ? `input_${i}` : `input_${i}_${replica}`, input.elementType, input.shape);
      const count = elements(input.shape);
      feeds[name] =
        input.elementType === 'int64'
          ? new ort.Tensor('int64', BigInt64Array.from({ length: count }, () => BigInt(Math.floor(random() * (input.indexLimit ?? 1)))), input.shape)
          : input.elementType === 'uint8'
            ? new ort.Tensor('uint8', Uint8Array.from({ length: count }, () => Math.floor(random() * 256)), input.shape)
            : new ort.Tensor('float32', Float32Array.from({ length: count }, () => random() * 2 - 1), input.shape);
      return name;
    });
  // Each copy reads inputs of its own, so that no pass of onnxruntime's merges the copies' weightless first nodes.
  const replicas = replicaCount;
  const replicaOutputs = Array.from({ length: replicas }, (_, replica) => config.addLayer(builder, addInputs(replica)));
  // The layer's outputs are read by another kernel after it, as inside a model, so that
  // onnxruntime plans their memory instead of allocating a graph output on every run.
  // At 'all' a Shape of a static shape is folded to a constant (and the layer, unread, removed):
  // there a one-column Slice reads it instead.
  replicaOutputs.forEach((outputs, replica) =>
    outputs.forEach((value, i) => {
      const suffix = replica === 0 ? `${i}` : `${i}_${replica}`;
      if (level === 'disabled') return builder.output(builder.op('Shape', [value], {}, `${SWEEP_WRAPPER}output_${suffix}`), 'int64', null);
      const slice = [builder.constantInt64(`${SWEEP_WRAPPER}starts_${suffix}`, [1], [0]), builder.constantInt64(`${SWEEP_WRAPPER}ends_${suffix}`, [1], [1]), builder.constantInt64(`${SWEEP_WRAPPER}axes_${suffix}`, [1], [-1])];
      builder.output(builder.op('Slice', [value, ...slice], {}, `${SWEEP_WRAPPER}output_${suffix}`), config.outputTypes?.[i] ?? 'float32', null);
    })
  );
  const bytes = builder.toBytes();
  const model = readOnnxModel(bytes);
  const analysis = analyzeModel(model);
  const layers = analysis.layers.filter((layer) => !layer.name.startsWith(SWEEP_WRAPPER));
  const described = config.kernelFeatures ? { layerType: config.layerType, features: config.kernelFeatures } : layers.length === replicas ? kernelFeatures(layers[0], analysis, model.graph, level === 'all' ? layout : null) : null;
  if (!described || described.layerType !== config.layerType) {
    throw new Error(`configuration "${config.key}" is not recognised as ${config.layerType} (${described?.layerType ?? 'unmodelled'})`);
  }
  const inputBytes = Object.values(feeds).reduce((sum, tensor) => sum + (tensor.data as ArrayBufferView).byteLength, 0);
  const copies = inputCopies(inputBytes);
  const copy = (tensor: ort.Tensor): ort.Tensor =>
    tensor.type === 'int64'
      ? new ort.Tensor('int64', (tensor.data as BigInt64Array).slice(), tensor.dims)
      : tensor.type === 'uint8'
        ? new ort.Tensor('uint8', (tensor.data as Uint8Array).slice(), tensor.dims)
        : new ort.Tensor('float32', (tensor.data as Float32Array).slice(), tensor.dims);
  const rotation = [feeds, ...Array.from({ length: copies - 1 }, () => Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, copy(tensor)])))];
  return { bytes, feeds: rotation, features: described.features, replicas };
}

function openSession(bytes: Uint8Array, sessionOptions: ort.InferenceSession.SessionOptions, tracePrefix?: string, level: GraphOptimization = CHARACTERIZATION_OPTIMIZATION): Promise<ort.InferenceSession> {
  // onnxruntime's default prepacking, not main/model/prepacking.ts's rule: a lone 9216×4096
  // FC timed unpacked took 7.9–9.1 ms where packed it took 9.9–10.5, while AlexNet's fc6 of that
  // size runs 9.7–9.8 ms unpacked inside the model. Alone, the unpacked layer gains what the
  // model's does not, so the packed time is the one that predicts the served layer.
  return ort.InferenceSession.create(bytes, {
    ...sessionOptions,
    graphOptimizationLevel: level,
    logSeverityLevel: 3,
    ...(tracePrefix ? { enableProfiling: true, profileFilePrefix: tracePrefix } : {})
  });
}

/**
 * Median kernel time of a configuration's layer, ms, from onnxruntime's own profiler (the
 * way main/profiling/profiler.ts times every layer of a real model), each kernel event less the
 * profiler's own cost `kernelOverheadMs`, and the same before that correction; the
 * kernels reading the layer's outputs (buildConfig) are not counted. Null when cancelled
 * part way. The number of runs is set from the warm-up's wall time.
 */
async function timeKernel(
  bytes: Uint8Array,
  feeds: readonly Record<string, ort.Tensor>[],
  sessionOptions: ort.InferenceSession.SessionOptions,
  traceFolder: string,
  signal: AbortSignal | undefined,
  kernelOverheadMs: number,
  level: GraphOptimization = CHARACTERIZATION_OPTIMIZATION,
  replicas = 1
): Promise<{ ms: number; rawMs: number; reorders: ReorderSample[] } | null> {
  const prefix = path.join(traceFolder, `config${++traceCounter}`);
  const session = await openSession(bytes, sessionOptions, prefix, level);
  let runs = 0;
  try {
    let lastWarmup = 0;
    for (let i = 0; i < WARMUP_RUNS; i++) lastWarmup = await timedRun(session, feeds[i % feeds.length]);
    const count = Math.min(MAX_RUNS, Math.max(MIN_RUNS, Math.round(TARGET_MEASURE_MS / Math.max(lastWarmup, 1e-3))));
    for (; runs < count; runs++) {
      if (signal?.aborted) break;
      await timedRun(session, feeds[(WARMUP_RUNS + runs) % feeds.length]);
    }
  } finally {
    session.endProfiling();
    await session.release();
  }
  const traceFile = readdirSync(traceFolder).find((name) => name.startsWith(path.basename(prefix) + '_') && name.endsWith('.json'));
  if (!traceFile) throw new Error('onnxruntime wrote no profiling trace');
  const tracePath = path.join(traceFolder, traceFile);
  const trace = parseTrace(readFileSync(tracePath, 'utf8'));
  rmSync(tracePath, { force: true });
  if (signal?.aborted) return null;
  const traceRuns = splitRuns(trace).slice(WARMUP_RUNS);
  const timedRuns = traceRuns.map((kernels) => kernels.filter((kernel) => !kernel.node.startsWith(SWEEP_WRAPPER) && !LAYOUT_KERNELS.has(kernel.op ?? '')));
  if (timedRuns.length === 0) throw new Error('the profiling trace has no timed runs');
  // The layout reorders around the kernel, each node's median over the runs; the copies' (replicas') alike reorders averaged.
  const reorderTimes = new Map<string, { bytes: number; ms: number[] }>();
  for (const kernels of traceRuns) {
    for (const kernel of kernels) {
      if (!LAYOUT_KERNELS.has(kernel.op ?? '') || kernel.outputBytes === null) continue;
      const entry = reorderTimes.get(kernel.node) ?? { bytes: kernel.outputBytes, ms: [] };
      entry.ms.push(correctedKernelMs(kernel, kernelOverheadMs));
      reorderTimes.set(kernel.node, entry);
    }
  }
  const bySize = new Map<number, number[]>();
  for (const { bytes, ms } of reorderTimes.values()) bySize.set(bytes, [...(bySize.get(bytes) ?? []), median(ms)]);
  const reorders = [...bySize].map(([bytes, medians]) => ({ bytes, ms: medians.reduce((a, b) => a + b, 0) / medians.length }));
  return {
    reorders,
    ms: traceMedian(timedRuns.map((kernels) => kernels.reduce((sum, kernel) => sum + correctedKernelMs(kernel, kernelOverheadMs), 0) / replicas)),
    rawMs: traceMedian(timedRuns.map((kernels) => kernels.reduce((sum, kernel) => sum + kernel.durationUs, 0) / 1000 / replicas))
  };
}
let traceCounter = 0;

/**
 * The one-off calibrations of a sweep (the profiler's own cost, what cold weights cost) are
 * properties of this machine and runtime, which do not change while a process runs: a
 * second sweep in the same process (the studio's, or a test's) reuses them. A calibration
 * that was cancelled (null) is not kept.
 */
const calibrations = new Map<string, Promise<unknown>>();
async function onceThisProcess<T>(key: string, calibrate: () => Promise<T>): Promise<T> {
  const known = calibrations.get(key);
  if (known) {
    const value = await known;
    if (value !== null) return value as T;
  }
  const pending = calibrate();
  calibrations.set(key, pending);
  const value = await pending.catch((error: unknown) => {
    calibrations.delete(key);
    throw error;
  });
  if (value === null) calibrations.delete(key);
  return value;
}

/** FC layers of 0.25–2.3 MiB of weights, timed alone and as copies to find what cold weights cost. */
const COLD_WEIGHT_PROBES = [[256, 256], [512, 512], [300, 1000], [768, 768]] as const;

/** One cold-weight probe timed alone, its weights kept in the core's cache (`seed` as the sweep's). */
async function timeHotProbe(config: SweepConfig, sessionOptions: ort.InferenceSession.SessionOptions, traceFolder: string, signal: AbortSignal | undefined, kernelOverheadMs: number, seed: number): Promise<number | null> {
  const alone = buildConfig(config, seed, CHARACTERIZATION_OPTIMIZATION, 1);
  return (await timeKernel(alone.bytes, alone.feeds, sessionOptions, traceFolder, signal, kernelOverheadMs, CHARACTERIZATION_OPTIMIZATION, 1))?.ms ?? null;
}

/**
 * What a layer's weights cost when they come from beyond the core's cache, ms per weight
 * byte (DeviceProfile.coldWeightMsPerByte): each probe FC layer timed alone, its weights
 * left in the core's cache by the previous run, and as copies (layerReplicas); the median
 * of (copies − alone) / weight bytes, at least 0. The probes' times alone are kept too
 * (DeviceProfile.hotWeightProbes). Null when cancelled.
 */
async function calibrateColdWeights(
  sessionOptions: ort.InferenceSession.SessionOptions,
  traceFolder: string,
  signal: AbortSignal | undefined,
  kernelOverheadMs: number,
  seed: number
): Promise<{ msPerByte: number; hotProbes: HotWeightProbe[] } | null> {
  const rates: number[] = [];
  const hotProbes: HotWeightProbe[] = [];
  for (const [inNeurons, outNeurons] of COLD_WEIGHT_PROBES) {
    const config = fcConfig(1, inNeurons, outNeurons);
    const copies = buildConfig(config, seed, CHARACTERIZATION_OPTIMIZATION);
    // The time alone is the lower of two passes: a bench times it again to tell how much hot
    // weights have slowed since, and one burst of load over a 0.1-ms probe made it 10× too long.
    const hotFirst = await timeHotProbe(config, sessionOptions, traceFolder, signal, kernelOverheadMs, seed);
    const hotAgain = await timeHotProbe(config, sessionOptions, traceFolder, signal, kernelOverheadMs, seed);
    const cold = await timeKernel(copies.bytes, copies.feeds, sessionOptions, traceFolder, signal, kernelOverheadMs, CHARACTERIZATION_OPTIMIZATION, copies.replicas);
    if (hotFirst === null || hotAgain === null || !cold) return null;
    const hot = Math.min(hotFirst, hotAgain);
    rates.push((cold.ms - hot) / config.weightBytes);
    hotProbes.push({ config: config.key, ms: hot });
  }
  return { msPerByte: Math.max(0, median(rates)), hotProbes };
}

/**
 * The cold-weight probes of `device` (hotWeightProbes) timed alone again now, as the
 * characterisation timed them. On a machine whose cores' caches other tenants share, a
 * model whose weights fit that cache (LeNet, the SENNA taggers) slows down when they are
 * evicted between its runs, which the sweep's layers — timed as copies, their weights cold
 * — do not show: this says how much hot weights have slowed since. Empty for a profile
 * without them.
 */
export async function retimeHotWeights(device: DeviceProfile, signal?: AbortSignal): Promise<RetimedSample[]> {
  const probes = new Map(COLD_WEIGHT_PROBES.map(([inNeurons, outNeurons]) => fcConfig(1, inNeurons, outNeurons)).map((config) => [config.key, config]));
  const layers = (device.hotWeightProbes ?? []).flatMap((probe) => {
    const config = probes.get(probe.config);
    return config ? [{ config, layerType: 'fc' as const, characterisedMs: probe.ms, copies: 1 }] : [];
  });
  return timeAgain(device, layers, signal);
}

/** A characterised layer timed again now: what its sample says, and what it takes now (ms). */
export interface RetimedSample {
  config: string;
  layerType: LayerSample['layerType'];
  characterisedMs: number;
  nowMs: number;
}

/**
 * How fast this machine runs now against when `device` was characterised: up to `perType`
 * of its samples of each plain layer type (timed at 'disabled', with the sweep's own grid
 * key), timed again exactly as the sweep timed them, with the same threads and profiler
 * correction. A shared machine's speed drifts by 5–10 % over minutes; a bench compares
 * predictions made from one characterisation with runs measured minutes later, so it
 * measures that drift instead of taking it for the predictor's error.
 */
export async function retimeSamples(device: DeviceProfile, perType = 2, signal?: AbortSignal): Promise<RetimedSample[]> {
  const grid = new Map(sweepGrid().map((config) => [config.key, config]));
  const chosen: { sample: LayerSample; config: SweepConfig }[] = [];
  const byType = new Map<LayerSample['layerType'], LayerSample[]>();
  for (const sample of device.samples) {
    if (sample.level !== undefined || !grid.has(sample.config)) continue;
    byType.set(sample.layerType, [...(byType.get(sample.layerType) ?? []), sample]);
  }
  for (const samples of byType.values()) {
    const sorted = [...samples].sort((a, b) => a.ms - b.ms);
    // Spread over the type's sizes: the middle sample, then the largest under 5 ms.
    const picks = [sorted[Math.floor(sorted.length / 2)], [...sorted].reverse().find((s) => s.ms < 5)].filter((s): s is LayerSample => s !== undefined);
    for (const sample of [...new Set(picks)].slice(0, perType)) chosen.push({ sample, config: grid.get(sample.config) as SweepConfig });
  }
  return timeAgain(
    device,
    chosen.map(({ sample, config }) => ({ config, layerType: sample.layerType, characterisedMs: sample.ms })),
    signal
  );
}

/**
 * Sweep layers timed again now, on `device`'s provider with its profiler correction, as the
 * characterisation timed them: each built with `copies` of it, or as many as the sweep
 * builds (layerReplicas) when not given.
 */
async function timeAgain(
  device: DeviceProfile,
  layers: readonly { config: SweepConfig; layerType: LayerSample['layerType']; characterisedMs: number; copies?: number }[],
  signal?: AbortSignal
): Promise<RetimedSample[]> {
  const { sessionOptions } = await sessionOptionsFor(device.ep);
  const traceFolder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-retime-'));
  const retimed: RetimedSample[] = [];
  try {
    for (const { config, layerType, characterisedMs, copies } of layers) {
      if (signal?.aborted) break;
      // Where `--cpus auto` follows the fastest CPU, as the sweep these layers came from did.
      followFastestCpus();
      const built = buildConfig(config, 1, CHARACTERIZATION_OPTIMIZATION, copies, null);
      const timing = await timeKernel(built.bytes, built.feeds, sessionOptions, traceFolder, signal, device.profilerOverheadMsPerKernel ?? 0, CHARACTERIZATION_OPTIMIZATION, built.replicas);
      if (timing) retimed.push({ config: config.key, layerType, characterisedMs, nowMs: timing.ms });
    }
  } finally {
    rmSync(traceFolder, { recursive: true, force: true });
  }
  return retimed;
}

const OVERHEAD_ROUNDS = 5;
const OVERHEAD_RUNS_PER_ROUND = 300;
const OVERHEAD_ROUND_GAP_MS = 100;

/** Wall time of one session.run outside any kernel: an Identity on one float, ms. */
async function measureOverheadMs(sessionOptions: ort.InferenceSession.SessionOptions): Promise<number> {
  const builder = new GraphBuilder('overhead');
  const x = builder.input('x', 'float32', [1]);
  builder.output(builder.op('Identity', [x], {}, '/Identity'), 'float32', [1]);
  const session = await openSession(builder.toBytes(), sessionOptions);
  try {
    const feeds = { x: new ort.Tensor('float32', new Float32Array([1]), [1]) };
    // Enough warm-up for the JavaScript side of session.run to be compiled, as it is by the time a model runs.
    for (let i = 0; i < 3000; i++) await timedRun(session, feeds);
    // Rounds a little apart, the lowest round's median kept: one round of runs lasts a few
    // milliseconds, which one burst of another process's load can cover whole, and this cost
    // is added to every predicted run (a µs-scale model such as SENNA's takes 20 µs).
    const roundMedians: number[] = [];
    for (let round = 0; round < OVERHEAD_ROUNDS; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, OVERHEAD_ROUND_GAP_MS));
      const times: number[] = [];
      for (let i = 0; i < OVERHEAD_RUNS_PER_ROUND; i++) times.push(await timedRun(session, feeds));
      roundMedians.push(median(times));
    }
    return Math.min(...roundMedians);
  } finally {
    await session.release();
  }
}

const SHAPE_PROBE_BLOCKS = 40;
const PROBE_WARMUP_RUNS = 300;
const PROBE_ROUNDS = 9;
/** Runs of each probe network per round, in turns of PROBE_TURN_RUNS. */
const PROBE_RUNS_PER_ROUND = 120;
const PROBE_TURN_RUNS = 20;

/**
 * Two networks run whole in turns (PROBE_TURN_RUNS runs each, the inputs taken from `feeds`
 * in turn), PROBE_ROUNDS rounds of PROBE_RUNS_PER_ROUND each after PROBE_WARMUP_RUNS: per
 * round, the second network's median less the first's; the median round, ms — a burst of
 * load that covers one round moves neither. Null when cancelled before a round ended.
 */
async function medianRunDifference(networks: readonly [Uint8Array, Uint8Array], sessionOptions: ort.InferenceSession.SessionOptions, feeds: readonly Record<string, ort.Tensor>[], signal?: AbortSignal): Promise<number | null> {
  const sessions = [await openSession(networks[0], sessionOptions), await openSession(networks[1], sessionOptions)];
  try {
    let run = 0;
    const next = (): Record<string, ort.Tensor> => feeds[run++ % feeds.length];
    for (let i = 0; i < PROBE_WARMUP_RUNS; i++) for (const session of sessions) await timedRun(session, next());
    const differences: number[] = [];
    for (let round = 0; round < PROBE_ROUNDS && !signal?.aborted; round++) {
      const times: number[][] = [[], []];
      for (let turn = 0; turn < PROBE_RUNS_PER_ROUND / PROBE_TURN_RUNS; turn++) {
        for (const k of turn % 2 === 0 ? [0, 1] : [1, 0]) for (let i = 0; i < PROBE_TURN_RUNS; i++) times[k].push(await timedRun(sessions[k], next()));
      }
      differences.push(median(times[1]) - median(times[0]));
    }
    return differences.length === 0 ? null : median(differences);
  } finally {
    for (const session of sessions) await session.release();
  }
}

/**
 * What one kernel of shape arithmetic costs inside a network on this device, ms
 * (DeviceProfile.shapeArithmeticMsPerKernel; app/prediction/shape-arithmetic.ts says why the
 * fits cannot tell): the probe network with SHAPE_PROBE_BLOCKS blocks and the same network
 * with none, run whole in turns (medianRunDifference), the difference per kernel. Whole runs,
 * not a profile: onnxruntime's profiler costs more per kernel than these kernels do. Null
 * when the difference is not positive (a burst of load on one side).
 */
async function calibrateShapeArithmetic(sessionOptions: ort.InferenceSession.SessionOptions, signal?: AbortSignal): Promise<number | null> {
  const feeds = { x: new ort.Tensor('float32', new Float32Array(SHAPE_PROBE_WIDTH), [1, SHAPE_PROBE_WIDTH]) };
  const difference = await medianRunDifference([shapeArithmeticProbe(0), shapeArithmeticProbe(SHAPE_PROBE_BLOCKS)], sessionOptions, [feeds], signal);
  if (difference === null) return null;
  const perKernel = difference / shapeProbeKernels(SHAPE_PROBE_BLOCKS);
  return perKernel > 0 ? perKernel : null;
}

/** Passes of each side of the lone-kernel calibration. */
const LONE_PROBE_PASSES = 3;

/** The same inputs in separate buffers, as many as the sweep runs a configuration of this input size over (INPUT_ROTATION_BYTES). */
function rotatedFeeds(name: string, dims: readonly number[]): Record<string, ort.Tensor>[] {
  const elements = dims.reduce((product, d) => product * d, 1);
  return Array.from({ length: inputCopies(4 * elements) }, (_, k) => ({ [name]: new ort.Tensor('float32', new Float32Array(elements).fill(0.01 * (k + 1)), [...dims]) }));
}

/**
 * What a kernel timed alone pays that it does not inside a network, ms
 * (DeviceProfile.loneKernelExcessMs, app/prediction/lone-kernel.ts): for each probe op, its
 * time alone as the sweep times a sample (timeKernel) less its cost inside a chain — the
 * chain of LONE_KERNEL_CHAIN and the op alone run whole in turns (medianRunDifference), per
 * added kernel; the median over the ops. Null when it is not positive or the calibration
 * was cancelled.
 */
async function calibrateLoneKernel(sessionOptions: ort.InferenceSession.SessionOptions, kernelOverheadMs: number, signal?: AbortSignal): Promise<number | null> {
  const traceFolder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-lone-kernel-'));
  const excesses: number[] = [];
  const feeds = rotatedFeeds('x', LONE_KERNEL_PROBE_SHAPE);
  try {
    for (const op of LONE_KERNEL_PROBE_OPS) {
      // Each side's lowest of a few passes: load only slows runs, and slows the chain's
      // longer runs more, so one burst would shrink the excess (0.40–0.56 µs with one or two
      // busy loops beside it here, 0.62–0.72 without).
      let aloneMs = Infinity;
      let chainedMs = Infinity;
      for (let pass = 0; pass < LONE_PROBE_PASSES; pass++) {
        const alone = await timeKernel(loneKernelProbe(op, 1), feeds, sessionOptions, traceFolder, signal, kernelOverheadMs);
        const difference = await medianRunDifference([loneKernelProbe(op, 1), loneKernelProbe(op, LONE_KERNEL_CHAIN)], sessionOptions, feeds, signal);
        if (!alone || difference === null || signal?.aborted) return null;
        aloneMs = Math.min(aloneMs, alone.ms);
        chainedMs = Math.min(chainedMs, difference / (LONE_KERNEL_CHAIN - 1));
      }
      excesses.push(aloneMs - chainedMs);
    }
  } finally {
    rmSync(traceFolder, { recursive: true, force: true });
  }
  const excess = median(excesses);
  return excess > 0 ? excess : null;
}

// ---------------------------------------------------------------------------------------
// Profile files.


const isPositiveInteger = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value) && value >= 1;

/** Checks a parsed device profile's shape; every problem is one DeviceProfileError line. */
export function checkDeviceProfileShape(json: unknown, label: string): DeviceProfile {
  if (!isRecord(json)) throw new DeviceProfileError(`${label}: not a device profile (not a JSON object)`);
  if (json.kind !== 'device-profile') throw new DeviceProfileError(`${label}: not a device profile (kind is ${JSON.stringify(json.kind ?? null)})`);
  if (json.schemaVersion !== 1) throw new DeviceProfileError(`${label}: schemaVersion ${JSON.stringify(json.schemaVersion ?? null)} is not supported (1 is)`);
  if (typeof json.ep !== 'string' || !(EXECUTION_PROVIDERS as readonly string[]).includes(json.ep)) {
    throw new DeviceProfileError(`${label}: "ep" must be one of ${EXECUTION_PROVIDERS.join(', ')}`);
  }
  const device = json.device;
  if (!isRecord(device) || typeof device.hostname !== 'string' || typeof device.cpu !== 'string' || typeof device.cpuCores !== 'number') {
    throw new DeviceProfileError(`${label}: "device" must have hostname, cpu and cpuCores`);
  }
  for (const key of ['budgetS', 'elapsedS', 'configurations', 'overheadMs']) {
    if (typeof json[key] !== 'number' || !Number.isFinite(json[key])) throw new DeviceProfileError(`${label}: "${key}" must be a number`);
  }
  const layout = json.nchwcLayout;
  if (layout !== undefined && layout !== null && (!isRecord(layout) || !isPositiveInteger(layout.blockSize) || !isPositiveInteger(layout.channelAlignment))) {
    throw new DeviceProfileError(`${label}: "nchwcLayout" must be null or have a whole blockSize and channelAlignment of at least 1`);
  }
  const reorder = isRecord(layout) ? layout.reorder : undefined;
  const nonNegative = (value: unknown): boolean => typeof value === 'number' && Number.isFinite(value) && value >= 0;
  if (reorder !== undefined && (!isRecord(reorder) || !nonNegative(reorder.interceptMs) || !nonNegative(reorder.msPerByte) || !isPositiveInteger(reorder.samples))) {
    throw new DeviceProfileError(`${label}: "nchwcLayout.reorder" must have non-negative interceptMs and msPerByte and a whole number of samples`);
  }
  if (json.coldWeightMsPerByte !== undefined && !nonNegative(json.coldWeightMsPerByte)) {
    throw new DeviceProfileError(`${label}: "coldWeightMsPerByte" must be a non-negative number`);
  }
  const hotProbes = json.hotWeightProbes;
  if (hotProbes !== undefined && (!Array.isArray(hotProbes) || !hotProbes.every((p: unknown) => isRecord(p) && typeof p.config === 'string' && typeof p.ms === 'number' && Number.isFinite(p.ms) && p.ms > 0))) {
    throw new DeviceProfileError(`${label}: "hotWeightProbes" must be a list of { config, ms } with ms a positive number`);
  }
  const streaming = json.streamingProbes;
  if (streaming !== undefined && (!Array.isArray(streaming) || !streaming.every((p: unknown) => isRecord(p) && nonNegative(p.atS) && typeof p.bytesPerMs === 'number' && Number.isFinite(p.bytesPerMs) && p.bytesPerMs > 0))) {
    throw new DeviceProfileError(`${label}: "streamingProbes" must be a list of { atS, bytesPerMs } with atS non-negative and bytesPerMs a positive number`);
  }
  if (json.shapeArithmeticMsPerKernel !== undefined && !nonNegative(json.shapeArithmeticMsPerKernel)) {
    throw new DeviceProfileError(`${label}: "shapeArithmeticMsPerKernel" must be a non-negative number`);
  }
  if (json.loneKernelExcessMs !== undefined && !nonNegative(json.loneKernelExcessMs)) {
    throw new DeviceProfileError(`${label}: "loneKernelExcessMs" must be a non-negative number`);
  }
  if (json.cpus !== undefined && !(Array.isArray(json.cpus) && json.cpus.length > 0 && json.cpus.every((cpu) => Number.isInteger(cpu) && cpu >= 0))) {
    throw new DeviceProfileError(`${label}: "cpus" must be a list of CPU numbers`);
  }
  if (json.coreCacheBytes !== undefined && json.coreCacheBytes !== null && !isPositiveInteger(json.coreCacheBytes)) {
    throw new DeviceProfileError(`${label}: "coreCacheBytes" must be null or a whole number of bytes`);
  }
  const validFactor = (entry: unknown): boolean =>
    isRecord(entry) && typeof entry.factor === 'number' && entry.factor >= 1 && entry.factor <= MAX_CONTEXT_FACTOR && typeof entry.sizeFeature === 'string' && typeof entry.upTo === 'number' && Number.isFinite(entry.upTo);
  for (const key of ['contextFactors', 'contextFactorsAtAll'] as const) {
    const factors = json[key];
    if (factors !== undefined && (!isRecord(factors) || !Object.values(factors).every(validFactor))) {
      throw new DeviceProfileError(`${label}: "${key}" must give each layer type a factor from 1 to ${MAX_CONTEXT_FACTOR}, a sizeFeature and an upTo size`);
    }
  }
  const times = json.contextTimes;
  const validTimes = (networks: unknown): boolean => Array.isArray(networks) && networks.every((layers) => Array.isArray(layers) && layers.every((ms) => ms === null || (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)));
  if (times !== undefined && (!isRecord(times) || !Object.entries(times).every(([level, networks]) => (level === 'disabled' || level === 'all') && validTimes(networks)))) {
    throw new DeviceProfileError(`${label}: "contextTimes" must give 'disabled' and 'all' lists of each calibration network's layer times in ms`);
  }
  if (json.blockedChannelsPadded !== undefined && typeof json.blockedChannelsPadded !== 'boolean') {
    throw new DeviceProfileError(`${label}: "blockedChannelsPadded" must be true or false`);
  }
  if (json.replicaWeightBytes !== undefined && !isPositiveInteger(json.replicaWeightBytes)) {
    throw new DeviceProfileError(`${label}: "replicaWeightBytes" must be a whole number of bytes`);
  }
  const kernelOverhead = json.profilerOverheadMsPerKernel;
  if (kernelOverhead !== undefined && (typeof kernelOverhead !== 'number' || !Number.isFinite(kernelOverhead) || kernelOverhead < 0)) {
    throw new DeviceProfileError(`${label}: "profilerOverheadMsPerKernel" must be a non-negative number`);
  }
  if (typeof json.complete !== 'boolean') throw new DeviceProfileError(`${label}: "complete" must be true or false`);
  if (!Array.isArray(json.samples)) throw new DeviceProfileError(`${label}: "samples" must be an array`);
  json.samples.forEach((sample: unknown, i: number) => {
    if (!isRecord(sample) || typeof sample.layerType !== 'string' || typeof sample.config !== 'string' || !isRecord(sample.features)) {
      throw new DeviceProfileError(`${label}: sample ${i} must have layerType, config and features`);
    }
    if (typeof sample.ms !== 'number' || !Number.isFinite(sample.ms) || sample.ms < 0) throw new DeviceProfileError(`${label}: sample ${i} ("${sample.config}") has no valid ms`);
    if (sample.rawMs !== undefined && (typeof sample.rawMs !== 'number' || !Number.isFinite(sample.rawMs))) throw new DeviceProfileError(`${label}: sample ${i} ("${sample.config}") has an invalid rawMs`);
  });
  if (!Array.isArray(json.fits)) throw new DeviceProfileError(`${label}: "fits" must be an array`);
  json.fits.forEach((fit: unknown, i: number) => {
    if (
      !isRecord(fit) ||
      typeof fit.layerType !== 'string' ||
      (fit.form !== 'linear' && fit.form !== 'log') ||
      !Array.isArray(fit.features) ||
      !Array.isArray(fit.coefficients) ||
      fit.features.length !== fit.coefficients.length ||
      typeof fit.intercept !== 'number'
    ) {
      throw new DeviceProfileError(`${label}: fit ${i} must have layerType, form (linear|log), features, as many coefficients, and intercept`);
    }
    const sizeClass = [fit.sizeFrom, fit.sizeTo].filter((bound) => bound !== undefined);
    if ((sizeClass.length > 0 && typeof fit.sizeFeature !== 'string') || sizeClass.some((bound) => typeof bound !== 'number')) {
      throw new DeviceProfileError(`${label}: fit ${i} has a size class without a sizeFeature or with a bound that is not a number`);
    }
  });
  return json as unknown as DeviceProfile;
}

/** Reads a device profile file and checks it; every problem is one DeviceProfileError line. */
export async function readDeviceProfile(filePath: string): Promise<DeviceProfile> {
  return checkDeviceProfileShape(await readJsonFile(filePath, (message) => new DeviceProfileError(message)), filePath);
}

/** Same machine: what a device profile's timings depend on (not the OS release or memory). */
export function sameDevice(a: DeviceInfo, b: DeviceInfo): boolean {
  return a.hostname === b.hostname && a.cpu === b.cpu && a.cpuCores === b.cpuCores && a.arch === b.arch && a.gpu === b.gpu;
}

// ---------------------------------------------------------------------------------------
// The sweep.

const SAVE_EVERY_CONFIGS = 5;
const SAVE_EVERY_S = 10;
/**
 * Passes over the grid. Once every configuration has a sample, the budget left goes to
 * measuring each again, keeping the lower median: load from other processes only ever
 * slows a run down, and a burst of it seldom falls on both passes of a configuration.
 */
const PASSES = 2;

const passesOf = (sample: LayerSample | undefined): number => (sample ? (sample.passes ?? 1) : 0);

/** Why a resumable outFile is not resumed, or null when it is. */
async function previousProfile(outFile: string, ep: ExecutionProviderName, device: DeviceInfo, threads: number, cpus: readonly number[] | undefined): Promise<{ profile: DeviceProfile | null; note: string | null }> {
  if (!existsSync(outFile)) return { profile: null, note: null };
  let previous: DeviceProfile;
  try {
    previous = await readDeviceProfile(outFile);
  } catch (error) {
    return { profile: null, note: `starting over: ${firstLine(error)}` };
  }
  if (previous.ep !== ep || !sameDevice(previous.device, device)) {
    return {
      profile: null,
      note: `starting over: ${outFile} was measured on ${previous.device.hostname} (${previous.device.cpu}) with ${previous.ep}, not on ${device.hostname} (${device.cpu}) with ${ep}`
    };
  }
  if (previous.threads !== undefined && previous.threads !== threads) {
    return { profile: null, note: `starting over: ${outFile} was measured with ${previous.threads} onnxruntime threads, this sweep runs ${threads}` };
  }
  const cpuList = (list: readonly number[] | undefined): string => (list ? `CPU ${formatCpuList(list)}` : 'every CPU');
  if (cpuList(previous.cpus) !== cpuList(cpus)) {
    return { profile: null, note: `starting over: ${outFile} was measured on ${cpuList(previous.cpus)}, this sweep runs on ${cpuList(cpus)} (--cpus)` };
  }
  if (previous.replicaWeightBytes !== REPLICA_WEIGHT_BYTES) {
    return {
      profile: null,
      note: `starting over: the samples in ${outFile} timed each layer ${previous.replicaWeightBytes === undefined ? 'alone, its weights left in the core\'s cache' : `over ${previous.replicaWeightBytes} bytes of copies`}, this sweep over ${REPLICA_WEIGHT_BYTES} bytes of copies`
    };
  }
  if (previous.profilerOverheadMsPerKernel === undefined) {
    return { profile: null, note: `starting over: the samples in ${outFile} still hold the profiler's own per-kernel cost` };
  }
  const lacking = previous.samples.find((sample) => (LAYER_TYPE_FEATURES[sample.layerType as LayerType] ?? []).some((name) => !(name in sample.features)));
  if (lacking) {
    const missing = LAYER_TYPE_FEATURES[lacking.layerType as LayerType].filter((name) => !(name in lacking.features));
    return { profile: null, note: `starting over: the samples in ${outFile} lack features this version fits (${lacking.layerType}: ${missing.join(', ')})` };
  }
  return { profile: previous, note: null };
}

/**
 * Runs (or resumes) the sweep on `ep` for up to `budgetS` seconds, fitting and saving
 * the DeviceProfile to `outFile` as it goes. Cancelling through `signal` saves what was
 * measured and throws CharacterizeCancelledError. `elapsedS` in the profile adds up the
 * time of every call that contributed; `budgetS` is this call's.
 */
export async function characterizeDevice(options: CharacterizeOptions): Promise<DeviceProfile> {
  const started = performance.now();
  const budgetS = options.budgetS ?? 300;
  const seed = options.seed ?? 1;
  const elapsedS = (): number => (performance.now() - started) / 1000;
  const grid = options.grid ?? sweepGrid();
  const device = deviceInfo(options.ep);
  const coreCacheBytes = readCoreCacheBytes();
  const { sessionOptions } = await sessionOptionsFor(options.ep);
  const threads = intraOpThreads();
  // Pinned with --cpus LIST: recorded (a resume elsewhere starts over). Following the fastest CPU (--cpus auto) is not a place to record.
  const allowed = allowedCpus();
  const pinnedCpus = followedCpus() === null && allowed && allowed.length < os.cpus().length ? allowed : undefined;

  const samples: LayerSample[] = [];
  const note = (message: string): void => options.onProgress?.({ layerType: '', done: samples.length, total: grid.length, elapsedS: elapsedS(), note: message });
  let previousElapsedS = 0;
  let overheadMs: number | null = null;
  let kernelOverheadMs: number | null = null;
  let nchwcLayout: NchwcLayout | null | undefined;
  let coldWeightMsPerByte: number | undefined;
  let hotWeightProbes: HotWeightProbe[] | undefined;
  let streamingProbes: StreamingProbe[] = [];
  let shapeArithmeticMsPerKernel: number | undefined;
  let loneKernelExcessMs: number | undefined;
  let contextFactors: DeviceProfile['contextFactors'];
  let contextFactorsAtAll: DeviceProfile['contextFactorsAtAll'];
  let contextTimes: NonNullable<DeviceProfile['contextTimes']> = {};
  if (options.resume ?? true) {
    const previous = await previousProfile(options.outFile, options.ep, device, threads, pinnedCpus);
    if (previous.note) note(previous.note);
    if (previous.profile) {
      // Older profiles counted the blocked Convs timed at 'all' over their own channels: those are timed again (kernelFeatures).
      const unpadded = previous.profile.blockedChannelsPadded !== true;
      const stale = (sample: LayerSample): boolean => unpadded && sample.level === 'all' && CONV_LIKE_TYPES.has(sample.layerType);
      const kept = previous.profile.samples.filter((sample) => !stale(sample));
      if (kept.length < previous.profile.samples.length) note(`timing ${previous.profile.samples.length - kept.length} convolutions at 'all' again: their features now count the channels padded to whole blocks`);
      samples.push(...kept);
      previousElapsedS = previous.profile.elapsedS;
      overheadMs = previous.profile.overheadMs;
      kernelOverheadMs = previous.profile.profilerOverheadMsPerKernel ?? null;
      nchwcLayout = previous.profile.nchwcLayout;
      coldWeightMsPerByte = previous.profile.coldWeightMsPerByte;
      hotWeightProbes = previous.profile.hotWeightProbes;
      streamingProbes = [...(previous.profile.streamingProbes ?? [])];
      shapeArithmeticMsPerKernel = previous.profile.shapeArithmeticMsPerKernel;
      loneKernelExcessMs = previous.profile.loneKernelExcessMs;
      contextFactors = previous.profile.contextFactors;
      contextFactorsAtAll = previous.profile.contextFactorsAtAll;
      contextTimes = { ...previous.profile.contextTimes };
    }
  }
  if (nchwcLayout === undefined) {
    note('testing which convolutions onnxruntime runs in its blocked layout…');
    nchwcLayout = await probeNchwcLayout();
  }
  kernelOverheadMs ??= await onceThisProcess(`profiler ${threads}`, async () => (await calibrateProfilerOverhead(options.signal)).kernelMs);
  overheadMs ??= await measureOverheadMs(sessionOptions);
  if (shapeArithmeticMsPerKernel === undefined && !options.signal?.aborted) {
    note('timing shape arithmetic (Shape, Gather, Concat, … on a few integers) inside a network…');
    try {
      shapeArithmeticMsPerKernel = (await calibrateShapeArithmetic(sessionOptions, options.signal)) ?? undefined;
    } catch (error) {
      note(`shape arithmetic calibration failed (${firstLine(error)}); its layers are predicted by their types' fits`);
    }
  }
  if (loneKernelExcessMs === undefined && !options.signal?.aborted) {
    note('timing what a kernel alone pays that it does not inside a network…');
    try {
      loneKernelExcessMs = (await calibrateLoneKernel(sessionOptions, kernelOverheadMs ?? 0, options.signal)) ?? undefined;
    } catch (error) {
      note(`lone-kernel calibration failed (${firstLine(error)}); predictions keep each layer's time alone`);
    }
  }

  const gridKeys = new Set(grid.map((config) => config.key));
  const measuredKeys = new Set(samples.map((sample) => sample.config));
  const sampleByKey = new Map(samples.map((sample) => [sample.config, sample]));
  const doneCount = (): number => grid.reduce((count, config) => count + Math.min(PASSES, passesOf(sampleByKey.get(config.key))), 0);
  const profileNow = (): DeviceProfile => ({
    schemaVersion: 1,
    kind: 'device-profile',
    device,
    ep: options.ep,
    graphOptimization: CHARACTERIZATION_OPTIMIZATION,
    threads,
    ...(pinnedCpus ? { cpus: pinnedCpus } : {}),
    date: new Date().toISOString(),
    budgetS,
    elapsedS: previousElapsedS + elapsedS(),
    configurations: samples.length,
    complete: [...gridKeys].every((key) => measuredKeys.has(key)),
    overheadMs: overheadMs ?? 0,
    profilerOverheadMsPerKernel: kernelOverheadMs ?? 0,
    nchwcLayout: nchwcLayout ? withReorderFit(nchwcLayout, fitReorders(samples)) : null,
    replicaWeightBytes: REPLICA_WEIGHT_BYTES,
    blockedChannelsPadded: true,
    coreCacheBytes,
    ...(coldWeightMsPerByte !== undefined ? { coldWeightMsPerByte } : {}),
    ...(hotWeightProbes !== undefined ? { hotWeightProbes } : {}),
    ...(streamingProbes.length > 0 ? { streamingProbes } : {}),
    ...(shapeArithmeticMsPerKernel !== undefined ? { shapeArithmeticMsPerKernel } : {}),
    ...(loneKernelExcessMs !== undefined ? { loneKernelExcessMs } : {}),
    ...(contextFactors ? { contextFactors } : {}),
    ...(contextFactorsAtAll ? { contextFactorsAtAll } : {}),
    ...(Object.keys(contextTimes).length > 0 ? { contextTimes } : {}),
    ...fitsWithErrors(samples),
    samples
  });
  let latestErrors: LayerTypeError[] = [];
  const save = (): DeviceProfile => {
    const profile = profileNow();
    latestErrors = profile.typeErrors ?? [];
    writeFileAtomic(options.outFile, `${JSON.stringify(profile, null, 1)}\n`);
    return profile;
  };

  save();
  const traceFolder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-characterize-'));
  // Only a sweep that times copies needs what cold weights cost (a grid of weightless layers does not).
  if (coldWeightMsPerByte === undefined && !options.signal?.aborted && grid.some((config) => layerReplicas(config.weightBytes) > 1)) {
    note('timing layers with weights alone and as copies, for what cold weights cost…');
    try {
      const kernelMs = kernelOverheadMs ?? 0;
      const calibrated = await onceThisProcess(`cold weights ${threads} ${kernelMs}`, () => calibrateColdWeights(sessionOptions, traceFolder, options.signal, kernelMs, seed));
      coldWeightMsPerByte = calibrated?.msPerByte;
      hotWeightProbes = calibrated?.hotProbes;
    } catch (error) {
      note(`cold-weight calibration failed (${firstLine(error)}); predictions will not tell small models apart`);
    }
  }
  const phases = sweepPhases(options);
  // The context calibrations (their networks written and opened now, profiled pass by pass:
  // spread over the sweep when it is long enough, CONTEXT_PASS_MOMENTS, the rest at its end).
  const contextCalibrations: ContextCalibration[] = [];
  if (phases.contextCalibration && !options.signal?.aborted) {
    for (const level of ['disabled', 'all'] as const) {
      try {
        contextCalibrations.push(await ContextCalibration.open(level));
      } catch (error) {
        note(`context calibration at '${level}' could not start (${firstLine(error)})`);
      }
    }
  }
  const spreadContextPasses = contextCalibrations.length > 0 && budgetS - CONTEXT_CALIBRATION_S >= (options.contextSpreadMinS ?? CONTEXT_SPREAD_MIN_S);
  const sweepS = contextCalibrations.length === 0 ? budgetS : spreadContextPasses ? budgetS - Math.ceil(CONTEXT_CALIBRATION_S / CONTEXT_PASSES) : Math.max(budgetS / 2, budgetS - CONTEXT_CALIBRATION_S);
  const failedCalibrations = new Map<ContextCalibration, string>();
  const contextPass = async (calibration: ContextCalibration): Promise<void> => {
    if (failedCalibrations.has(calibration) || options.signal?.aborted) return;
    followFastestCpus();
    try {
      await calibration.pass({ ep: options.ep, profilerOverheadMsPerKernel: kernelOverheadMs ?? 0, signal: options.signal });
    } catch (error) {
      failedCalibrations.set(calibration, firstLine(error));
    }
  };
  let spreadPassesDone = 0;
  const contextPassIfDue = async (): Promise<void> => {
    if (!spreadContextPasses) return;
    while (spreadPassesDone < CONTEXT_PASS_MOMENTS.length && elapsedS() >= CONTEXT_PASS_MOMENTS[spreadPassesDone] * sweepS && !options.signal?.aborted) {
      note(`profiling generated networks layer by layer, pass ${spreadPassesDone + 1} of ${CONTEXT_PASSES} (the passes are spread over the sweep)…`);
      for (const calibration of contextCalibrations) await contextPass(calibration);
      spreadPassesDone++;
    }
  };
  // The memory's streaming rate, probed every STREAMING_PROBE_EVERY_S while the sweep runs
  // (streaming-probe.ts); its layer opens at the first probe (about 3 s for its 144 MiB).
  let streamingProbe = phases.streamingProbes ? new StreamingRateProbe(sessionOptions) : null;
  let lastStreamingProbeS = -Infinity;
  const streamingProbeIfDue = async (): Promise<void> => {
    if (!streamingProbe || elapsedS() - lastStreamingProbeS < (options.streamingProbeEveryS ?? STREAMING_PROBE_EVERY_S) || options.signal?.aborted) return;
    try {
      const bytesPerMs = await streamingProbe.bytesPerMs();
      lastStreamingProbeS = elapsedS();
      streamingProbes.push({ atS: Math.round((previousElapsedS + lastStreamingProbeS) * 10) / 10, bytesPerMs });
    } catch (error) {
      note(`the memory's streaming probe failed (${firstLine(error)}); no more probes this sweep (with fewer than ${MIN_STREAMING_PROBES}, streamed FC layers are floored at the sweep's FC samples)`);
      await streamingProbe.close().catch(() => undefined);
      streamingProbe = null;
    }
  };
  let unsaved = 0;
  let lastSave = elapsedS();
  let rates = NOMINAL_RATES;
  // One configuration measured (pass `pass`), merged into the samples; false when it failed or was cancelled.
  const measure = async (config: SweepConfig, pass: number, level: GraphOptimization = CHARACTERIZATION_OPTIMIZATION): Promise<boolean> => {
    await contextPassIfDue();
    followFastestCpus();
    await streamingProbeIfDue();
    const existing = sampleByKey.get(config.key);
    let sample: LayerSample | null = null;
    try {
      const built = buildConfig(config, seed, level, undefined, nchwcLayout ?? null);
      const timing = await timeKernel(built.bytes, built.feeds, sessionOptions, traceFolder, options.signal, kernelOverheadMs ?? 0, level, built.replicas);
      if (timing !== null) {
        sample = {
          layerType: config.layerType,
          features: built.features,
          ms: timing.ms,
          rawMs: timing.rawMs,
          config: config.key,
          passes: pass,
          ...(level !== CHARACTERIZATION_OPTIMIZATION ? { level } : {}),
          ...(timing.reorders.length > 0 ? { reorders: timing.reorders } : {})
        };
      }
    } catch (error) {
      note(`${config.key}: failed (${firstLine(error)})`);
    }
    if (!sample) return false;
    if (existing) {
      if (sample.ms < existing.ms) Object.assign(existing, { ms: sample.ms, rawMs: sample.rawMs }, sample.reorders ? { reorders: sample.reorders } : {});
      existing.passes = pass;
    } else {
      samples.push(sample);
      sampleByKey.set(config.key, sample);
      measuredKeys.add(config.key);
    }
    unsaved++;
    options.onProgress?.({ layerType: config.layerType, done: doneCount(), total: PASSES * grid.length, elapsedS: elapsedS() });
    if (unsaved >= SAVE_EVERY_CONFIGS || elapsedS() - lastSave >= SAVE_EVERY_S) {
      rates = deviceHardware(save());
      unsaved = 0;
      lastSave = elapsedS();
    }
    return true;
  };
  const gridPass = async (pass: number, until: number): Promise<void> => {
    for (const config of grid) {
      if (options.signal?.aborted || elapsedS() >= until) return;
      const existing = sampleByKey.get(config.key);
      if (existing ? passesOf(existing) >= pass : pass > 1) continue;
      // Never start what is expected to overrun the budget; cheaper configurations of other types may still fit.
      if (elapsedS() + estimateSeconds(config, rates) > until) continue;
      await measure(config, pass);
    }
  };
  const adaptivePhase = async (until: number): Promise<void> => {
    if (!phases.adaptive) return;
    let failures = 0;
    while (!options.signal?.aborted && elapsedS() < until && failures < 20) {
      rates = deviceHardware(save());
      if (!everyTypeFitted()) return;
      const stratum = worstLayerType(latestErrors);
      if (!stratum) return;
      let next = samples.filter((s) => s.layerType === stratum.layerType && s.level === stratum.level && s.config.startsWith(ADAPTIVE_KEY_PREFIX)).length;
      for (let drawn = 0; drawn < ADAPTIVE_BATCH && elapsedS() < until && !options.signal?.aborted; next++) {
        const config = adaptiveConfigFor(stratum, next);
        if (!config || sampleByKey.has(config.key)) continue;
        drawn++;
        if (elapsedS() + estimateSeconds(config, rates) > until) continue;
        if (!(await measure(config, PASSES, stratum.level ?? CHARACTERIZATION_OPTIMIZATION))) failures++;
      }
    }
  };
  // The kernel-level and adaptive phases start only once every adaptive type the grid has
  // is fitted: until then the grid's own order serves better (and short sweeps stay as they were).
  const gridTypes = new Set(grid.map((c) => c.layerType));
  const everyTypeFitted = (): boolean => ADAPTIVE_TYPES.every((t) => !gridTypes.has(t) || latestErrors.some((e) => e.layerType === t && e.level === undefined));
  const kernelLevelPass = async (until: number): Promise<void> => {
    if (!phases.kernelLevel) return;
    rates = deviceHardware(save());
    if (!everyTypeFitted()) return;
    for (const config of kernelLevelGrid(grid)) {
      if (options.signal?.aborted || elapsedS() >= until) return;
      const key = `${KERNEL_LEVEL_KEY_PREFIX}${config.key}`;
      if (sampleByKey.has(key) || elapsedS() + estimateSeconds(config, rates) > until) continue;
      await measure({ ...config, key }, PASSES, 'all');
    }
  };
  try {
    try {
      // The grid's first pass, leaving the kernel-level and adaptive phases their shares; then
      // those; then what the first pass left and the second pass, as the budget allows.
      await gridPass(1, sweepS * (1 - ADAPTIVE_BUDGET_SHARE - KERNEL_LEVEL_BUDGET_SHARE));
      await kernelLevelPass(Math.min(sweepS, elapsedS() + sweepS * KERNEL_LEVEL_BUDGET_SHARE));
      await adaptivePhase(Math.min(sweepS, elapsedS() + sweepS * ADAPTIVE_BUDGET_SHARE));
      for (let pass = 1; pass <= PASSES; pass++) await gridPass(pass, sweepS);
    } finally {
      rmSync(traceFolder, { recursive: true, force: true });
    }
    // The passes still to run (all of them after a short sweep), level by level, each pass over all of a level's networks.
    for (const calibration of contextCalibrations) {
      if (options.signal?.aborted) break;
      note(
        calibration.level === 'disabled'
          ? 'profiling generated networks layer by layer: how much slower each layer type runs inside a network…'
          : "profiling full-size generated networks at 'all': how much slower each kernel type runs inside a large network…"
      );
      do await contextPass(calibration);
      while (calibration.passes < CONTEXT_PASSES && !failedCalibrations.has(calibration) && !options.signal?.aborted);
    }
    const calibrationFailed = (level: GraphOptimization, reason: string): void =>
      note(
        level === 'disabled'
          ? `context calibration failed (${reason}); layers are predicted as timed alone`
          : `context calibration at 'all' failed (${reason}); predictions at 'all' take the factors found at 'disabled'`
      );
    for (const calibration of contextCalibrations) {
      if (options.signal?.aborted) break;
      const failure = failedCalibrations.get(calibration) ?? (calibration.passes === 0 ? 'no pass ran' : null);
      if (failure !== null) {
        calibrationFailed(calibration.level, failure);
        continue;
      }
      try {
        if (calibration.level === 'disabled') contextFactors = calibration.factors(profileNow());
        else contextFactorsAtAll = calibration.factors(profileNow(), await readFusionRules());
        contextTimes = { ...contextTimes, [calibration.level]: calibration.times() };
      } catch (error) {
        calibrationFailed(calibration.level, firstLine(error));
      }
    }
  } finally {
    for (const calibration of contextCalibrations) calibration.close();
    await streamingProbe?.close().catch(() => undefined);
  }
  const profile = save();
  if (options.signal?.aborted) throw new CharacterizeCancelledError(profile);
  return profile;
}
