// A predicted latency profile: every layer of a model costed on a device WITHOUT running
// it, from that device's profile (app/profiling/types.ts DeviceProfile, made by
// main/profiling/characterize.ts). A layer of a fitted type gets its regression (regression.ts,
// features from features.ts; method 'regression'); any other layer gets the roofline of
// app/partition/estimate.ts with a hardware profile derived from the same sweep's samples
// (method 'roofline'). mixProfiles fills a measured profile's gaps with predictions, so
// the planner can take measured, predicted or mixed latencies. A layer with quantization
// steps (a QDQ layer: DequantizeLinear → Conv → QuantizeLinear) is its node's regression
// plus one 'quantize' regression per step, as the profiler, which runs the graph as written,
// times them.
//
// A profile is predicted for a graph-optimisation level (PredictOptions.optimization). At
// 'disabled' every layer is its own kernel. At 'all' (the level the executor serves with)
// the layers are first grouped into the kernels onnxruntime runs (fusion.ts kernelGroups,
// from the fusion rules found on the runtime): a Conv with its BatchNorm and activation is
// one convolution, a decomposed LayerNorm one LayerNormalization; each kernel is predicted
// once and its time split among the layers it replaced in proportion to their work (MACs,
// or elements written where that is more; an equal split when any is unknown or all are
// zero), as the profiler attributes a measured fused kernel.
import { readersOf } from '../analysis/analyze.js';
import type { LayerAnalysis, ModelAnalysis } from '../analysis/types.js';
import type { OnnxModel } from '../onnx/model.js';
import { estimateLayerMs, hardwarePreset, type HardwarePresetName, type HardwareProfile, type InputActivations } from '../partition/estimate.js';
import type { DeviceProfile, ExecutionProviderName, GraphOptimization, LatencyProfile, LayerSample, LayerTiming, ModelIdentity, RegressionFit } from '../profiling/types.js';
import { blockedLayout, reorderMs } from './nchwc-layout.js';
import { firstOfOpTracker, inNetworkMs } from './lone-kernel.js';
import { dataMovementFeatures, fcWeightBytes, isViewOp, kernelFeatures, LAST_LEVEL_CACHE_BYTES, runsBlocked, stepFeatures, type LayerFeatures } from './features.js';
import { localCorrection } from './local-correction.js';
import { predictWithFits } from './regression.js';
import { median, nodeWork, workShares } from '../profiling/trace.js';
import { staticElementCount } from '../analysis/shape-math.js';
import { predictionErrors } from './errors.js';
import { contextFactorOf } from './context.js';
import { fusedPatternIds, kernelGroups, type FusionRules, type KernelGroup } from './fusion.js';
import { ELIMINATED_KERNEL, settledAtOptimisation } from './eliminated.js';
import { isShapeArithmetic } from './shape-arithmetic.js';
import { kernelLineMs, kernelLines, singleKernelOf, type KernelLine } from './kernel-lines.js';

export class ProfileMixError extends Error {
  override name = 'ProfileMixError';
}

/** Where no sweep sample can tell a roof: the preset closest to each provider's hardware. */
const fallbackPresetByEp: Readonly<Record<ExecutionProviderName, HardwarePresetName>> = {
  cpu: 'mobile-cpu',
  cuda: 'server-gpu',
  dml: 'mobile-gpu',
  webgpu: 'mobile-gpu',
  coreml: 'mobile-gpu'
};

const computeBoundTypes = new Set(['conv', 'fc', 'matmul']);

/** Bytes a memory-bound sample read and wrote (float32 activations). */
function bytesMoved(sample: LayerSample): number | null {
  if (sample.layerType === 'activation') return 8 * sample.features.neurons;
  if (sample.layerType === 'dataMovement') return 2 * sample.features.bytes;
  return null;
}

/**
 * A roofline for THIS device from its sweep: sustained MAC rate from the conv/fc/matmul
 * samples that took ≥ 0.1 ms, bandwidth from the activation and data-movement samples,
 * per-op overhead from the fastest tenth of all samples. Each figure the samples cannot
 * give comes from the preset for the provider (cpu → mobile-cpu, cuda → server-gpu,
 * others → mobile-gpu).
 */
export function deviceHardware(profile: DeviceProfile): HardwareProfile {
  const preset = hardwarePreset(fallbackPresetByEp[profile.ep] ?? 'mobile-cpu');
  const timed = profile.samples.filter((s) => s.ms >= 0.1);
  const macRates = timed.filter((s) => computeBoundTypes.has(s.layerType) && s.features.macs > 0).map((s) => s.features.macs / (s.ms * 1e6));
  const byteRates = timed.flatMap((s) => {
    const bytes = bytesMoved(s);
    return bytes !== null && bytes > 0 ? [bytes / (s.ms * 1e6)] : [];
  });
  const fastest = [...profile.samples.map((s) => s.ms)].sort((a, b) => a - b).slice(0, Math.max(1, Math.floor(profile.samples.length / 10)));
  return {
    name: `${profile.device.cpu || profile.device.hostname} (${profile.ep}, from sweep)`,
    gmacsPerSec: macRates.length ? median(macRates) : preset.gmacsPerSec,
    gbPerSec: byteRates.length ? median(byteRates) : preset.gbPerSec,
    perOpOverheadMs: profile.samples.length ? Math.max(0, median(fastest)) : preset.perOpOverheadMs
  };
}

export { LAST_LEVEL_CACHE_BYTES };

/** Layer types bound by moving their activations: at sizes beyond the cache, floored at the memory's bandwidth. */
const memoryBoundTypes = new Set(['activation', 'elementwise', 'dataMovement', 'normalization', 'softmax', 'pooling']);

/**
 * This device's memory bandwidth, bytes per ms: the median over activation and
 * data-movement samples that moved more than twice the last-level cache (float32 in and
 * out). Null when the sweep has none.
 */
export function memoryBytesPerMs(profile: DeviceProfile): number | null {
  const rates = profile.samples.flatMap((s) => {
    const bytes = bytesMoved(s);
    return bytes !== null && bytes > 2 * LAST_LEVEL_CACHE_BYTES && s.ms > 0 && (s.level ?? 'disabled') === 'disabled' ? [bytes / s.ms] : [];
  });
  return rates.length ? median(rates) : null;
}

/** One-row FC weights no cache holds: a sample beyond this many bytes streams them from memory. */
export const STREAMED_FC_MIN_BYTES = 2 * LAST_LEVEL_CACHE_BYTES;

/** Each one-row FC sample whose weights no cache holds (float32): the rate it streamed them at, bytes per ms. */
export function streamedFcRates(profile: DeviceProfile): number[] {
  return profile.samples.filter((s) => s.layerType === 'fc' && fcWeightBytes(s.features) > STREAMED_FC_MIN_BYTES && s.ms > 0).map((s) => fcWeightBytes(s.features) / s.ms);
}

/** Fewer streaming probes than this say too little of the machine's typical moment: the streamed FC samples' rate stands. */
export const MIN_STREAMING_PROBES = 3;

/**
 * Rate at which this device streams weights from memory, bytes per ms: the median of the
 * sweep's streaming probes (DeviceProfile.streamingProbes), or of streamedFcRates in a profile
 * with fewer. Each sample is the lower of its passes, the quietest moment the sweep met; the
 * probes, taken all through it, give the typical one. Null when neither is there.
 */
export function weightStreamingBytesPerMs(profile: DeviceProfile): number | null {
  const probes = profile.streamingProbes ?? [];
  if (probes.length >= MIN_STREAMING_PROBES) return median(probes.map((probe) => probe.bytesPerMs));
  const rates = streamedFcRates(profile);
  return rates.length ? median(rates) : null;
}

/**
 * Whether a run of the model passes more through the caches than they keep for the next
 * one, so that its one-row FC layers read their weights from memory on every run: its
 * weights alone exceed the last-level cache, or its weights and the activations it writes
 * together exceed half of it. The classifier heads of ImageNet models of 5–20 MB of weights
 * took 3.4–4.5× their sample's time inside the model here (ShuffleNet-V2 ×0.5's 3.9 MiB head
 * 204 µs against 61, MobileNetV3-S's two 165 and 226 µs against 39 and 67); FC layers as
 * fillers between runs made a head stream from 12–16 MiB of them. Predicted with the
 * streaming floor, MobileNetV3-S went from −26 to −19 % and ShuffleNet-V2 from −12 to −5 %
 * against one measured set.
 */
export function streamsWeights(analysis: ModelAnalysis): boolean {
  const written = analysis.layers.reduce((sum, layer) => sum + (layer.outputBytes ?? 0), 0);
  return analysis.totals.paramBytes > LAST_LEVEL_CACHE_BYTES || analysis.totals.weightBytesPerRun + written > LAST_LEVEL_CACHE_BYTES / 2;
}

function inputActivations(layer: LayerAnalysis, analysis: ModelAnalysis, model: OnnxModel): InputActivations {
  const inputs: InputActivations = { bytes: 0, allSizesKnown: true };
  for (const name of new Set(layer.inputs)) {
    if (name === '' || model.graph.initializers.has(name)) continue;
    const bytes = analysis.tensors.get(name)?.bytes ?? null;
    if (bytes === null) inputs.allSizesKnown = false;
    else inputs.bytes += bytes;
  }
  return inputs;
}

export interface PredictOptions {
  /** The level predicted for (default: the device profile's own, 'disabled'). */
  optimization?: GraphOptimization;
  /** The fusion rules found on the runtime (resources/fusion-rules.json); without them no layers are fused. */
  rules?: FusionRules | null;
}

/**
 * Features of the one op a fused kernel runs as (fusion.ts predictAs), over the `neurons`
 * outputs of its last layer, or writing `bytes` (a Split: its parts' outputs together); null
 * where they are unknown or the kernel is costed as its anchor.
 */
function fusedKernelFeatures(predictAs: KernelGroup['predictAs'], neurons: number | null, bytes: number | null): LayerFeatures | null {
  if (predictAs === 'Split') return bytes === null ? null : dataMovementFeatures('Split', bytes);
  if (neurons === null) return null;
  switch (predictAs) {
    case 'LayerNormalization':
      return { layerType: 'normalization', features: { neurons, lrnWindowNeurons: 0, statisticsNeurons: neurons, residualNeurons: 0 } };
    case 'SkipLayerNormalization':
      return { layerType: 'normalization', features: { neurons, lrnWindowNeurons: 0, statisticsNeurons: neurons, residualNeurons: neurons } };
    case 'Gelu':
    case 'Sigmoid':
      return { layerType: 'activation', features: { neurons, transcendentalNeurons: neurons } };
    case 'HardSwish':
      return { layerType: 'activation', features: { neurons, transcendentalNeurons: 0 } };
    default:
      return null;
  }
}

/**
 * The layer a fused kernel is costed as (fusion.ts predictAs 'anchor'): the one with the
 * most MACs — the convolution of Conv → BatchNorm → Relu, the MatMul of Transpose → MatMul
 * (whose Transpose, first in the pattern, is only a data movement) — the first on a tie.
 */
export function heaviestLayer(layers: readonly number[], analysis: ModelAnalysis): number {
  let best = layers[0];
  for (const index of layers) if ((analysis.layers[index].nodeMacs ?? 0) > (analysis.layers[best].nodeMacs ?? 0)) best = index;
  return best;
}

/**
 * The most of a layer's predicted time that hot weights take off. A Conv's copies took 6–32 %
 * longer than the layer alone; one-row FC layers, bound by reading their weights, ran 38–63 %
 * under their cold prediction inside models that keep their weights (the text classifier's
 * 192→576 projections, SENNA's hidden layer, LeNet's 800→500). The cold cost per byte
 * overstates what a small layer saves (SENNA's 54 KB output layer ran no faster hot), so the
 * saving stays capped. Of caps from 0.25 to 0.6, 0.35 did best on fixed inputs (eight
 * pairings of device profiles and measured runs: docs/benchmarks.md).
 */
export const HOT_WEIGHT_SAVING_CAP = 0.35;

/** Layers with fewer weight bytes than this are timed alone by the sweep, larger ones as copies (layerReplicas). */
export const MIN_REPLICATED_WEIGHT_BYTES = 4096;

/**
 * Inside a model, a layer's weights were last read one whole run earlier: every other
 * layer's weights and activations have passed through the core's caches since. A
 * configuration alone in its model finds its weights where its last run left them, in
 * the core's own cache, and runs faster than it does in a model (a 1×1 Conv 1152→320 on
 * 7×7, 1.5 MB of weights: 0.22 ms alone, 0.29 ms as one of eight copies with weights of
 * their own). So a layer with weights is timed as several copies, each with weights
 * and inputs of its own, until the copies' weights fill this many bytes; its time is the
 * run's time over the copies. Layers without weights are not copied (at
 * 'all' onnxruntime would merge identical copies into one).
 */
export const REPLICA_WEIGHT_BYTES = 8 * 2 ** 20;
export const MAX_REPLICAS = 8;

/** How many copies of a configuration's layer its model holds (REPLICA_WEIGHT_BYTES). */
export function layerReplicas(weightBytes: number): number {
  if (weightBytes < MIN_REPLICATED_WEIGHT_BYTES) return 1;
  return Math.min(MAX_REPLICAS, Math.max(1, Math.ceil(REPLICA_WEIGHT_BYTES / weightBytes)));
}

/**
 * The share of the device's core cache (one per thread) that `analysis`'s model fills with
 * the weights it reads per run at `level`: each stored weight once and an embedding table
 * counted by the rows it gathers; null where the device profile lacks the cache or the
 * cold-weight cost.
 */
export function weightCacheOccupancy(analysis: ModelAnalysis, deviceProfile: DeviceProfile, level: GraphOptimization = 'all'): number | null {
  const cache = deviceProfile.coreCacheBytes;
  if (!cache || deviceProfile.coldWeightMsPerByte === undefined) return null;
  // Without optimisation each layer's weights count, shared ones too: the text classifier's
  // MatMuls reading one weight through Identity aliases ran no faster for sharing it there
  // (counting it once took its prediction from −6 % to −16 %).
  const read =
    level === 'disabled'
      ? analysis.layers.reduce((sum, layer) => sum + (layer.opType === 'Gather' ? (layer.outputBytes ?? layer.paramBytes) : layer.paramBytes), 0)
      : analysis.totals.weightBytesPerRun;
  return read / (cache * Math.max(1, deviceProfile.threads ?? 1));
}

/**
 * The share of the cold-weight cost a model's layers save at a cache `occupancy`: all of it
 * up to half the cache, none at a full one, linearly between, as weights that fill most of
 * the cache lose some of it between runs to the activations and to the cache's ways. LeNet
 * (82 %) ran its 800→500 FC at 0.035 ms, where saving the whole cold cost gave 0.025 ms;
 * the text classifier (57 %) and SENNA (17 %) saved nearly all of it on their largest
 * layers.
 */
export function hotWeightSaving(occupancy: number | null): number {
  if (occupancy === null || occupancy >= 1) return 0;
  return Math.min(1, 2 * (1 - occupancy));
}

/**
 * Ops a Conv kernel runs as a pass over its output when onnxruntime fuses them into it. A
 * fused Relu is none: MLAS's conv kernels clamp at zero as they store each output block
 * (their ReLU kernel flag), while any other activation is applied to the block afterwards.
 * At 'all', one thread, a 1×1 Conv 64→256 on 56×56 took 859–888 µs alone and 859–893 µs
 * with Relu fused, 939 µs with Clip and 968 µs with LeakyRelu.
 */
const FUSED_CONV_PASSES = new Set(['Clip', 'Sigmoid', 'HardSigmoid', 'LeakyRelu', 'Tanh', 'HardSwish', 'Add', 'Sum', 'Mul']);
/**
 * Weight-only ops onnxruntime runs as a kernel on every run when it does not optimise
 * (Constant nodes become initializers whatever the level): the views alias their weight, a
 * Cast or Transpose copies it. At 'disabled', six one-row MatMuls sharing a 590 KB weight ran
 * in 40.7 µs reading it directly, in 50.8 µs with each reading it through an Identity of its own
 * and in 412 µs through a Transpose of its own.
 */
const WEIGHT_KERNEL_OPS = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose']);
/** The same for a MatMul: the bias Add of a Linear, which the fused Gemm writes as its own pass over the output. */
const FUSED_MATMUL_PASSES = new Set(['Add']);

/** The ops fused into a kernel that cost it a pass of their own: a Conv's, and a MatMul's over tokens (not a Linear of one row, whose bias rides along). */
function fusedPassOps(opType: string, layerType: string | undefined): ReadonlySet<string> | undefined {
  if (opType === 'Conv') return FUSED_CONV_PASSES;
  return opType === 'MatMul' && layerType === 'fcBatched' ? FUSED_MATMUL_PASSES : undefined;
}


/**
 * Every layer of `analysis` (made from `model`) predicted on the device `deviceProfile`
 * describes, at `options.optimization`: p10 = median = p90 (a prediction has no spread),
 * wholeModelMs null (a whole run is sumOfMediansMs + runOverheadMs, the device's per-run
 * cost: wholeModelEstimateMs). A layer of a fused kernel gets `kernel`, the rule's id.
 */
export function predictProfile(analysis: ModelAnalysis, model: OnnxModel, deviceProfile: DeviceProfile, modelIdentity: ModelIdentity, options: PredictOptions = {}): LatencyProfile {
  const level = options.optimization ?? deviceProfile.graphOptimization ?? 'disabled';
  // Each type's fits for the level: those of kernels timed at it where the sweep has them (conv at 'all': NCHWc), else the profile's own.
  const plainFits = new Map<string, RegressionFit[]>();
  for (const fit of deviceProfile.fits) if ((fit.level ?? 'disabled') === 'disabled') plainFits.set(fit.layerType, [...(plainFits.get(fit.layerType) ?? []), fit]);
  const fitsByType = new Map(plainFits);
  if (level !== 'disabled') {
    const atLevel = new Map<string, RegressionFit[]>();
    for (const fit of deviceProfile.fits) if (fit.level === level) atLevel.set(fit.layerType, [...(atLevel.get(fit.layerType) ?? []), fit]);
    for (const [type, fits] of atLevel) fitsByType.set(type, fits);
  }
  // At 'all', a Conv onnxruntime keeps in the plain layout (runsBlocked, by the layout the
  // device profile found), and a pool on a plain tensor, run the kernels the sweep timed at
  // 'disabled'; a blocked Conv computes whole blocks of channels (kernelFeatures).
  // (A device profile older than the layout probe has none: every Conv and pool counts as blocked.)
  const layoutKnown = level !== 'disabled' && deviceProfile.nchwcLayout !== undefined;
  const layout = level === 'disabled' ? null : (deviceProfile.nchwcLayout ?? null);
  const { reorders, blockedLayers } = blockedLayout(analysis, model.graph, layout);
  const plainAtLevel = (layer: LayerAnalysis, described: LayerFeatures | null): boolean =>
    layoutKnown && (described?.layerType === 'pooling' ? !blockedLayers.has(layer.index) : runsBlocked(layer, analysis, model.graph, layout) === false);
  const hardware = deviceHardware(deviceProfile);
  // A model that passes more through the caches than they keep streams its one-row FC
  // layers' weights from memory on every inference: those layers take at least that long.
  const streamingRate = streamsWeights(analysis) ? weightStreamingBytesPerMs(deviceProfile) : null;
  // A memory-bound layer moving more than the cache holds takes at least its bytes over the memory's bandwidth (the roofline's memory roof).
  const memoryRate = memoryBytesPerMs(deviceProfile);
  // Each fit's residuals on its own samples, smoothed (local-correction.ts).
  const samples = deviceProfile.samples ?? [];
  const plainCorrection = localCorrection(samples, 'disabled', (type) => plainFits.get(type) ?? []);
  const levelCorrection = localCorrection(samples, level, (type) => fitsByType.get(type) ?? []);
  const regression = (described: LayerFeatures | null, plain = false): number | null => {
    const fits = described ? ((plain ? plainFits : fitsByType).get(described.layerType) ?? []) : [];
    const fitted = described ? predictWithFits(fits, described.features) : null;
    if (!described || fitted === null) return null;
    const correct = (fits[0].level ?? 'disabled') === 'disabled' ? plainCorrection : levelCorrection;
    return fitted * correct.factor(described.layerType, described.features);
  };
  const hotSaving = hotWeightSaving(weightCacheOccupancy(analysis, deviceProfile, level)) * (deviceProfile.coldWeightMsPerByte ?? 0);
  // A layer runs slower inside a network than alone in the sweep (app/prediction/context.ts).
  // At 'all' a type calibrated at that level takes its factor from there (context.ts).
  const levelFactors = level === 'all' ? { ...deviceProfile.contextFactors, ...deviceProfile.contextFactorsAtAll } : deviceProfile.contextFactors;
  const contextFactor = (described: LayerFeatures | null): number => contextFactorOf(levelFactors, described);
  // Every fitted prediction is of a kernel timed alone, which pays more than one among others (lone-kernel.ts).
  const loneExcessMs = deviceProfile.loneKernelExcessMs;
  // Shape arithmetic costs what the device's probe network found per kernel (shape-arithmetic.ts), context included.
  const shapeArithmeticMs = deviceProfile.shapeArithmeticMsPerKernel;
  // Without optimisation a view whose input another node also reads (PyTorch's Shape of the
  // tensor it reshapes) copies it: onnxruntime aliases a view's output only to an input read
  // by it alone. At 'disabled', sixteen Reshapes of 256 KB in a chain of Relus added 0.5 µs
  // each to a run, and 8 µs each where a Shape also read their input. Above 'disabled' those
  // Shapes of static tensors are folded away.
  const readers = level === 'disabled' ? readersOf(model.graph) : null;
  const graphOutputs = new Set(model.graph.outputs.map((output) => output.name));
  const copiedView = (layer: LayerAnalysis): boolean => readers !== null && isViewOp(layer.opType) && (readers.get(layer.inputs[0])?.size ?? 0) + (graphOutputs.has(layer.inputs[0]) ? 1 : 0) > 1;
  // Above 'disabled', what onnxruntime knows when it optimises: shapes with the model's symbols kept, and what it folds away (eliminated.ts).
  const optimised = level === 'disabled' ? null : settledAtOptimisation(analysis, model);
  const firstOfOp = firstOfOpTracker();
  const own = analysis.layers.map((layer) => {
    const described = copiedView(layer) && layer.outputBytes !== null ? dataMovementFeatures(layer.opType, layer.outputBytes, false) : kernelFeatures(layer, analysis, model.graph, layout);
    if (shapeArithmeticMs !== undefined && isShapeArithmetic(layer, analysis)) return { ms: shapeArithmeticMs, method: 'regression' as const, layerType: described?.layerType };
    const parts = [regression(described, plainAtLevel(layer, described)), ...layer.stepNodes.map((position) => regression(stepFeatures(position, analysis, model.graph)))];
    const byRegression = parts.every((part) => part !== null);
    let ms = byRegression
      ? inNetworkMs(parts.reduce((sum: number, part) => sum + (part ?? 0), 0) * contextFactor(described), loneExcessMs, layerReplicas(layer.paramBytes), !optimised?.layers.has(layer.index) && firstOfOp(layer.opType))
      : estimateLayerMs(layer, inputActivations(layer, analysis, model), hardware).ms;
    // Timed as copies with cold weights; in a model this small its weights stay in the core's cache (hotWeightSaving).
    if (hotSaving > 0 && byRegression && layer.opType !== 'Gather' && layer.paramBytes >= MIN_REPLICATED_WEIGHT_BYTES) ms = Math.max(ms - layer.paramBytes * hotSaving, (1 - HOT_WEIGHT_SAVING_CAP) * ms);
    if (streamingRate && described?.layerType === 'fc') ms = Math.max(ms, layer.paramBytes / streamingRate);
    if (memoryRate && described && memoryBoundTypes.has(described.layerType)) {
      const moved = inputActivations(layer, analysis, model).bytes + (layer.outputBytes ?? 0);
      if (moved > LAST_LEVEL_CACHE_BYTES) ms = Math.max(ms, moved / memoryRate);
    }
    return { ms, method: byRegression ? ('regression' as const) : ('roofline' as const), layerType: described?.layerType };
  });
  const groups =
    optimised === null
      ? analysis.layers.map((layer): KernelGroup => ({ layers: [layer.index], predictAs: 'anchor' }))
      : kernelGroups(analysis, model, fusedPatternIds(options.rules, level), { shape: optimised.shape, constant: (name) => optimised.constants.has(name) });
  // A group that runs as one named kernel is costed from that kernel's own samples where the sweep has them (kernel-lines.ts).
  const ruleLines = new Map<string, KernelLine>();
  if (optimised !== null) {
    const lines = kernelLines(samples, level);
    for (const rule of options.rules?.levels[level] ?? []) {
      const line = lines.get(singleKernelOf(rule) ?? '');
      if (line) ruleLines.set(rule.id, line);
    }
  }
  const timed = analysis.layers.map((_, i) => ({ ms: own[i].ms, method: own[i].method, kernel: undefined as string | undefined }));
  for (const group of groups) {
    if (group.layers.length < 2) continue;
    const last = analysis.layers[group.layers[group.layers.length - 1]];
    const outputBytes = group.layers.map((i) => analysis.layers[i].outputBytes);
    const fusedOp = fusedKernelFeatures(group.predictAs, staticElementCount(last.outputs[0]?.shape), outputBytes.includes(null) ? null : outputBytes.reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0));
    const line = group.rule === undefined ? undefined : ruleLines.get(group.rule);
    const asOpAlone = fusedOp ? (line && fusedOp.features.neurons > 0 ? kernelLineMs(line, fusedOp.features.neurons) : regression(fusedOp)) : null;
    // A kernel's own line takes no context factor (kernel-lines.ts says why).
    const asOp = asOpAlone === null ? null : inNetworkMs(asOpAlone * (line ? 1 : contextFactor(fusedOp)), loneExcessMs, 1, firstOfOp(`fused ${group.predictAs}`));
    const anchor = heaviestLayer(group.layers, analysis);
    // A Conv kernel applies its fused activation or residual Add as a pass over its output
    // blocks (a 1×1 Conv 24→144 on 56×56 at 'all': 0.186 ms alone, 0.246 ms with Clip fused);
    // a BatchNormalization is folded into its weights and costs nothing.
    // A MatMul with its bias Add fused runs as a Gemm that first writes the broadcast bias
    // (transformer blocks at 'all': 6.1 ms of fused Linears where their MatMuls alone took 5.8).
    const passOps = asOp === null ? fusedPassOps(analysis.layers[anchor].opType, own[anchor].layerType) : undefined;
    // HardSwish written out (HardSigmoid → Mul by its input) is one activation, one pass.
    const hardSwish = group.layers.some((i) => analysis.layers[i].opType === 'HardSigmoid');
    const passes = passOps ? group.layers.filter((i) => i !== anchor && passOps.has(analysis.layers[i].opType) && !(hardSwish && analysis.layers[i].opType === 'Mul')) : [];
    const kernelMs = asOp ?? own[anchor].ms + passes.reduce((sum, i) => sum + own[i].ms, 0);
    // Shared as the profiler shares a measured fused kernel (app/profiling/trace.ts nodeWork).
    const shares = workShares(group.layers.map((i) => nodeWork(analysis.layers[i].nodeMacs, analysis.layers[i].outputs.map((o) => o.shape))));
    group.layers.forEach((i, k) => {
      timed[i] = { ms: kernelMs * shares[k], method: asOp !== null ? 'regression' : own[anchor].method, kernel: group.rule };
    });
  }
  // Above 'disabled', what onnxruntime folds, merges or drops before running (eliminated.ts) runs no kernel.
  if (optimised !== null) {
    for (const index of optimised.layers) timed[index] = { ms: 0, method: 'regression', kernel: ELIMINATED_KERNEL };
  } else {
    // Without optimisation the weight-only nodes that move a weight run on every run too, each
    // charged to the first layer reading it: a view (the text classifier's 27 Identity aliases
    // of its encoder layers' weights) as a view, a Cast or Transpose as a copy.
    for (const node of analysis.weightNodes) {
      const bytes = node.outputs[0]?.bytes ?? null;
      if (!WEIGHT_KERNEL_OPS.has(node.opType) || bytes === null || node.consumers.length === 0) continue;
      const kernelMs = regression(dataMovementFeatures(node.opType, bytes));
      if (kernelMs !== null) timed[Math.min(...node.consumers)].ms += inNetworkMs(kernelMs, loneExcessMs, 1, firstOfOp(node.opType));
    }
  }
  // At 'all', the layout reorders onnxruntime adds around its blocked layers (nchwc-layout.ts),
  // costed by the device's reorder fit, on the layers its trace attributes them to.
  if (level === 'all' && layout?.reorder) for (const reorder of reorders) timed[reorder.layer].ms += reorderMs(layout.reorder, reorder.bytes);
  const layers: LayerTiming[] = analysis.layers.map((layer, i) => ({
    index: layer.index,
    name: layer.name,
    op: layer.opType,
    provider: null,
    medianMs: timed[i].ms,
    p10Ms: timed[i].ms,
    p90Ms: timed[i].ms,
    outputBytes: layer.outputBytes,
    predicted: true,
    method: timed[i].method,
    ...(timed[i].kernel ? { kernel: timed[i].kernel } : {})
  }));
  return {
    schemaVersion: 2,
    kind: 'latency-profile',
    model: modelIdentity,
    device: deviceProfile.device,
    ep: deviceProfile.ep,
    predicted: true,
    predictionErrors: predictionErrors({ layers, graphOptimization: level }, analysis, model.graph, deviceProfile),
    graphOptimization: level,
    threads: deviceProfile.threads ?? null,
    runs: 0,
    warmup: 0,
    wholeModelMs: null,
    wholeModelSpread: null,
    sumOfMediansMs: layers.reduce((sum, layer) => sum + layer.medianMs, 0),
    runOverheadMs: deviceProfile.overheadMs,
    date: new Date().toISOString(),
    layers
  };
}

/**
 * A whole run of the profile's model, ms: measured where the profile has it, otherwise
 * the layers plus the per-run cost outside them (`runOverheadMs`, 0 where unknown).
 */
export function wholeModelEstimateMs(profile: LatencyProfile): number {
  return profile.wholeModelMs ?? profile.sumOfMediansMs + (profile.runOverheadMs ?? 0);
}

/**
 * Per layer, the measured timing where `measured` has one (same index and name), the
 * prediction otherwise. Both must be of the same model file and provider. The result is
 * `predicted` when any layer is, and keeps the measured whole-model time only when no
 * layer is predicted.
 */
export function mixProfiles(measured: LatencyProfile, predicted: LatencyProfile): LatencyProfile {
  if (measured.model.sha256 !== predicted.model.sha256) {
    throw new ProfileMixError(`profiles are of different models (${measured.model.file} and ${predicted.model.file})`);
  }
  if (measured.ep !== predicted.ep) {
    throw new ProfileMixError(`profiles are of different execution providers (${measured.ep} and ${predicted.ep})`);
  }
  const measuredByIndex = new Map(measured.layers.map((layer) => [layer.index, layer]));
  const layers = predicted.layers.map((layer) => {
    const timing = measuredByIndex.get(layer.index);
    if (timing && timing.name !== layer.name) {
      throw new ProfileMixError(`layer ${layer.index} is "${timing.name}" in the measured profile but "${layer.name}" in the predicted one`);
    }
    return timing ?? layer;
  });
  const anyPredicted = layers.some((layer) => layer.predicted === true);
  return {
    ...measured,
    predicted: anyPredicted,
    wholeModelMs: anyPredicted ? null : measured.wholeModelMs,
    sumOfMediansMs: layers.reduce((sum, layer) => sum + layer.medianMs, 0),
    date: new Date().toISOString(),
    layers
  };
}
