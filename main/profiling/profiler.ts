// main/profiling/ — measuring and predicting per-layer latency: the profiler (here), the
// process every profile runs in (profile-process.ts), the characterisation sweep
// (characterize.ts), execution providers, threads and session options (providers.ts), the
// machine a profile ran on (device-info.ts) and where the planner's latencies come from
// (latency-sources.ts).
//
// Measures a model layer by layer with onnxruntime's own profiler — the paper's per-layer
// characterisation, for real. Two sessions of the model are open together: a profiling
// one, whose trace (a temporary file) is parsed and mapped back to the analysis's layers by
// app/profiling/trace.ts, and a plain one for the whole-model time without profiling
// overhead. After warm-up runs of each, their timed runs are interleaved block by block
// (profiled, plain, plain, profiled, …) so that a burst of other load lands on both kinds alike;
// both sessions run with the options the executor serves with (runSessionOptions: graph
// optimisation 'all' by default, explicit threads, no spinning worker threads, which is
// what lets two sessions share the cores). The result is a LatencyProfile
// (app/profiling/types.ts), which the planner takes as its latencies; profile files are
// read and written here. Every profile the product makes — `neurosurgeon profile`, the
// studio's "Profile local", the executor's profile endpoint, split prediction — runs this
// in a process of its own (profile-process.ts).
//
// Three corrections make the layers add up to the whole run. The profiler's own
// bookkeeping inside every kernel's timed interval (a few µs, most of a tiny layer's
// time) is calibrated on a chain of trivial kernels (calibrateProfilerOverhead,
// arithmetic in app/profiling/overhead.ts) and taken off every kernel event. The layers'
// medians are scaled to the typical profiled run (layerScaleFor): medians do not add up
// when runs are preempted. And the per-run cost outside every layer — session.run binding
// the inputs and returning the outputs — is measured on an "I/O twin" of the model (same
// inputs and outputs, no work) and recorded as `runOverheadMs`, so whole ≈ Σ layers +
// runOverheadMs. The whole runs' spread is recorded too: runs that spread beyond
// app/profiling/stability.ts's bound are followed by more runs (up to 5×), and a profile
// still spread that far is flagged unstable.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { elementBits, ElementType, type ElementTypeName } from '../../app/onnx/element-type.js';
import { encodeModel, rawTensorProto } from '../../app/onnx/writer.js';
import { profilerOverheadFrom, type ProfilerOverhead } from '../../app/profiling/overhead.js';
import { UNSTABLE_SPREAD } from '../../app/profiling/stability.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import {
  attributeOptimizedGraph,
  attributionByLayer,
  attributeRuns,
  identityAttribution,
  nodeWork,
  parseTrace,
  splitRuns,
  traceMedian,
  traceSpread,
  TraceFormatError,
  median,
  percentile,
  spread,
  trimmedMean,
  type GraphTopology,
  type NodeRunTimes
} from '../../app/profiling/trace.js';
import { DEFAULT_GRAPH_OPTIMIZATION, DEFAULT_PROFILE_RUNS, DEFAULT_PROFILE_WARMUP, type ExecutionProviderName, type GraphOptimization, type LatencyProfile, type LayerTiming } from '../../app/profiling/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { deviceInfo } from './device-info.js';
import { generateInputs } from '../model/inputs.js';
import { inlineExternalData } from '../model/model-file.js';
import { runSessionOptions, sessionOptionsFor, threadOptions, type ProviderChoice } from './providers.js';
import { withPrepackingFor } from '../model/prepacking.js';
import { firstLine } from '../errors/user-errors.js';
import { isRecord, readJsonFile } from '../files/json-file.js';
import { modelIdentity, sha256 } from '../model/model-file.js';

export class ProfileError extends Error {
  override name = 'ProfileError';
}

export class ProfileCancelledError extends Error {
  override name = 'ProfileCancelledError';
  constructor() {
    super('profiling cancelled');
  }
}

/**
 * The profiler's steps, in order: calibrating its own per-kernel cost, opening the two
 * sessions, warm-up runs, the interleaved timed runs, the per-run cost on the I/O twin.
 */
export type ProfilePhase = 'calibrate' | 'load' | 'warmup' | 'profile' | 'overhead';

export const PROFILE_PHASES: readonly ProfilePhase[] = ['calibrate', 'load', 'warmup', 'profile', 'overhead'];

export interface ProfileProgress {
  phase: ProfilePhase;
  done: number;
  total: number;
}

export interface ProfileOptions {
  ep: ExecutionProviderName;
  /**
   * Timed runs (default DEFAULT_PROFILE_RUNS), in the profiling session and in the plain
   * (whole-model) session alike; more when they are unsteady (extendedRunTarget). The
   * profile's `runs` says how many were made.
   */
  runs?: number;
  /**
   * More timed runs than `runs` where they are fast: as many as make this many ms of runs
   * (estimated from the warm-up, at most MAX_TIMED_RUNS). A model of a few µs needs
   * hundreds of runs for stable medians; 20 runs of one swung its sum of layers by 2×.
   * Default 0: exactly `runs`.
   */
  minMeasureMs?: number;
  /** Untimed runs before the timed ones in each session (default DEFAULT_PROFILE_WARMUP). */
  warmup?: number;
  /** onnxruntime graph optimisation level, the same in both sessions (default DEFAULT_GRAPH_OPTIMIZATION, 'all': how the executor serves). */
  optimization?: GraphOptimization;
  /** Run on CPU when `ep` is not available here, instead of failing. */
  allowCpuFallback?: boolean;
  /** Model inputs (e.g. from main/model/input-files.ts); generated from `seed` when absent. */
  inputs?: Record<string, ort.Tensor>;
  dimValues?: Record<string, number>;
  seed?: number;
  /**
   * The profiler's cost per kernel event, ms, when already known (e.g. calibrated once
   * for many profiles); calibrated on this machine when absent. 0 keeps raw kernel times.
   */
  profilerOverheadMsPerKernel?: number;
  signal?: AbortSignal;
  onProgress?: (progress: ProfileProgress) => void;
}

/** The profile plus what it cannot hold: how each original node was accounted for. */
export interface ProfileDetails {
  profile: LatencyProfile;
  provider: ProviderChoice;
  /** Original nodes no kernel computes (constant-folded or eliminated at load), by name. */
  folded: string[];
  /** Original nodes whose time is a share of a kernel fused with other nodes, by name. */
  fused: string[];
  /** Original nodes expected to run that no run of the trace showed, by name. */
  unobserved: string[];
  /** Kernels of the trace no original node accounts for, by name. */
  unattributedKernels: string[];
  /** Per timed run: the sum of every kernel's time, and the part given to original nodes, ms (corrected). */
  kernelMsPerRun: number[];
  attributedMsPerRun: number[];
  /** Per timed run of the plain session: its wall time, ms. */
  wholeMsPerRun: number[];
  /** Per timed run of the profiling session: its wall time, ms (the profiler's bookkeeping included). */
  profiledMsPerRun: number[];
  /** Per original node: its time in each timed run, ms (corrected). */
  nodeMsPerRun: number[][];
  /** Per original node: its time in each timed run before the per-kernel correction, ms. */
  rawNodeMsPerRun: number[][];
}

const TEMP_PREFIX = 'neurosurgeon-profile-';
/** Warm-up runs of the I/O twin (tens of µs each): enough for session.run's JavaScript to be compiled. */
const IO_TWIN_WARMUP = 1000;
/** Most timed runs `minMeasureMs` may ask for (a trace of a small model's runs stays a few MB). */
export const MAX_TIMED_RUNS = 1000;

/** Timed runs for a model whose warm-up runs took `warmupMs` each: `runs`, or more to fill `minMeasureMs`. */
export function timedRunCount(runs: number, minMeasureMs: number, warmupMs: readonly number[]): number {
  if (!(minMeasureMs > 0) || warmupMs.length === 0) return runs;
  const perRunMs = Math.max(median([...warmupMs]), 1e-3);
  return Math.max(runs, Math.min(MAX_TIMED_RUNS, Math.ceil(minMeasureMs / perRunMs)));
}
const CALIBRATION_TEMP_PREFIX = 'neurosurgeon-calibration-';

/** Where temporary traces go (one fresh folder per profile, always removed). */
export function profileTempRoot(): string {
  return os.tmpdir();
}

export function profileTempPrefix(): string {
  return TEMP_PREFIX;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ProfileCancelledError();
}

/** onnxruntime's message without its source-location and status-code prefixes. */
function ortMessage(error: unknown): string {
  return firstLine(error)
    .replace(/^Error:\s*/, '')
    .replace(/^\S+\.(cc|cpp|h):\d+\s+\S+(\s+\S+)*?\]?\s(?=[A-Z[])/, '')
    .replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '');
}

/**
 * The names nodes carry in the session: their own where non-empty and unique, otherwise
 * the engine's name (`OnnxNode.name`), made unique — so every kernel maps to one node.
 */
export function profiledNodeNames(model: OnnxModel): string[] {
  const used = new Set<string>();
  const protoNames = (model.proto.graph?.node ?? []).map((n) => n.name ?? '');
  return model.graph.nodes.map((node, index) => {
    let name = protoNames[index] !== '' ? protoNames[index] : node.name;
    if (used.has(name)) name = `${node.name}__${index}`;
    while (used.has(name)) name = `${name}_`;
    used.add(name);
    return name;
  });
}

/** What to hand onnxruntime: the file's bytes, its path (external data), or a renamed copy. */
function sessionSource(analyzed: AnalyzedModel, names: readonly string[]): string | Uint8Array {
  const protoNodes = analyzed.model.proto.graph?.node ?? [];
  const renamed = protoNodes.some((n, i) => (n.name ?? '') !== names[i]);
  if (!renamed) return analyzed.model.externalData.length > 0 ? analyzed.path : analyzed.bytes;
  inlineExternalData(analyzed);
  const graph = analyzed.model.proto.graph as onnx.GraphProto;
  return encodeModel(
    new onnx.ModelProto({
      ...analyzed.model.proto,
      graph: new onnx.GraphProto({ ...graph, node: protoNodes.map((n, i) => new onnx.NodeProto({ ...n, name: names[i] })) })
    })
  );
}

function topology(model: OnnxModel, names?: readonly string[]): GraphTopology {
  return {
    nodes: model.graph.nodes.map((n, i) => ({ name: names?.[i] ?? n.name, inputs: n.inputs, outputs: n.outputs })),
    sources: [...model.graph.inputs.map((i) => i.name), ...model.graph.initializers.keys()]
  };
}


async function openSession(
  source: string | Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  describe: () => string
): Promise<ort.InferenceSession> {
  try {
    return typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options);
  } catch (error) {
    throw new ProfileError(`${describe()}: ${ortMessage(error)}`);
  }
}

/** The type and dimensions of each output of a run, by name. */
type OutputSpecs = Record<string, { type: ort.Tensor.Type; dims: readonly number[] }>;

/** Where a batch of runs stands in its phase, for progress events: `before` runs already done of `total`. */
interface PhaseProgress {
  phase: ProfilePhase;
  before: number;
  total: number;
}

async function runTimes(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  count: number,
  progress: PhaseProgress | null,
  options: Pick<ProfileOptions, 'signal' | 'onProgress'>,
  describe: () => string,
  outputs?: OutputSpecs
): Promise<number[]> {
  const times: number[] = [];
  for (let done = 0; done < count; done++) {
    throwIfAborted(options.signal);
    const start = performance.now();
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await session.run(feeds);
    } catch (error) {
      throw new ProfileError(`${describe()}: ${ortMessage(error)}`);
    }
    times.push(performance.now() - start);
    for (const [name, tensor] of Object.entries(results)) {
      if (outputs) outputs[name] = { type: tensor.type, dims: tensor.dims };
      tensor.dispose();
    }
    if (progress) options.onProgress?.({ phase: progress.phase, done: progress.before + done + 1, total: progress.total });
  }
  return times;
}

// ---------------------------------------------------------------------------------------
// The profiler's own cost, and the per-run cost outside every layer.

/** Trivial kernels of common kinds: no input besides the activation, one constant, two. */
const CALIBRATION_KINDS = ['Relu', 'Add', 'Clip', 'Reshape', 'Mul', 'Softmax', 'Sum'] as const;
const CALIBRATION_SHORT_CHAIN = CALIBRATION_KINDS.length;
const CALIBRATION_LONG_CHAIN = CALIBRATION_KINDS.length * 31;
const CALIBRATION_WARMUP = 40;
const CALIBRATION_RUNS = 100;

/**
 * `nodes` trivially cheap kernels in a row over a four-float tensor, cycling through
 * CALIBRATION_KINDS: the profiler's bookkeeping grows with the tensors an event
 * describes (here ≈3.0 µs for a Relu, ≈3.7 µs for a Clip with its two bounds, ≈4.7 µs
 * for an eight-input Sum), so the chain mixes the kinds a model is mostly made of.
 */
function trivialChain(nodes: number): Uint8Array {
  const builder = new GraphBuilder('profiler-calibration');
  const shape = [1, 4];
  let value = builder.input('x', 'float32', shape);
  const half = builder.constantFloat('/half', shape, new Float32Array(4).fill(0.5));
  const low = builder.constantFloat('/low', [], new Float32Array([-1]));
  const high = builder.constantFloat('/high', [], new Float32Array([1]));
  const sameShape = builder.constantInt64('/shape', [2], shape);
  for (let i = 0; i < nodes; i++) {
    const kind = CALIBRATION_KINDS[i % CALIBRATION_KINDS.length];
    const inputs =
      kind === 'Add' || kind === 'Mul' ? [value, half] : kind === 'Clip' ? [value, low, high] : kind === 'Reshape' ? [value, sameShape] : kind === 'Sum' ? [value, half, half] : [value];
    value = builder.op(kind, inputs, kind === 'Softmax' ? { axis: -1 } : {}, `/${kind}_${i}`);
  }
  builder.output(value, 'float32', shape);
  return builder.toBytes();
}

/**
 * Measures what onnxruntime's profiler adds to each kernel event on this machine (see
 * app/profiling/overhead.ts): plain runs of a 7- and a 217-kernel chain and profiled
 * runs of the long one (twice), each session's runs back to back as a profile runs them
 * (interleaving the sessions would leave every run with cold caches, which a plain
 * model run does not have); medians throughout. CPU provider: the bookkeeping measured
 * is host-side, the same for every provider. About 0.5 s.
 */
export async function calibrateProfilerOverhead(signal?: AbortSignal): Promise<ProfilerOverhead> {
  const folder = mkdtempSync(path.join(profileTempRoot(), CALIBRATION_TEMP_PREFIX));
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled', logSeverityLevel: 3, ...threadOptions() };
  const feeds = { x: new ort.Tensor('float32', new Float32Array([0.5, -0.5, 0.25, 2]), [1, 4]) };
  const describe = (): string => 'onnxruntime cannot run the profiler calibration model';
  const sessions: ort.InferenceSession[] = [];
  try {
    const open = async (nodes: number, tracePrefix: string | null): Promise<ort.InferenceSession> => {
      const session = await openSession(trivialChain(nodes), tracePrefix ? { ...options, enableProfiling: true, profileFilePrefix: path.join(folder, tracePrefix) } : options, describe);
      sessions.push(session);
      return session;
    };
    const quiet = { signal };
    const timedRuns = async (session: ort.InferenceSession): Promise<number[]> => {
      await runTimes(session, feeds, CALIBRATION_WARMUP, null, quiet, describe);
      return runTimes(session, feeds, CALIBRATION_RUNS, null, quiet, describe);
    };
    const plainRuns = async (nodes: number): Promise<number[]> => {
      const session = await open(nodes, null);
      const times = await timedRuns(session);
      await session.release();
      sessions.splice(sessions.indexOf(session), 1);
      return times;
    };
    const profiledRuns = async (tracePrefix: string): Promise<number[][]> => {
      const session = await open(CALIBRATION_LONG_CHAIN, tracePrefix);
      await timedRuns(session);
      session.endProfiling();
      await session.release();
      sessions.splice(sessions.indexOf(session), 1);
      const traceFile = readdirSync(folder).find((f) => f.startsWith(tracePrefix) && f.endsWith('.json'));
      if (!traceFile) throw new ProfileError('onnxruntime wrote no profiling trace for the profiler calibration');
      const runs = splitRuns(parseTrace(readFileSync(path.join(folder, traceFile), 'utf8'))).slice(-CALIBRATION_RUNS);
      return runs.map((kernels) => kernels.map((k) => k.durationUs));
    };
    // Two profiled sessions, before and after the plain ones, and the lower cost of the
    // two: a process's first profiling session keeps its books more slowly (its heap
    // still growing), and load from other processes only ever adds time.
    const firstProfiled = await profiledRuns('first');
    const plainShortMs = await plainRuns(CALIBRATION_SHORT_CHAIN);
    const plainLongMs = await plainRuns(CALIBRATION_LONG_CHAIN);
    const secondProfiled = await profiledRuns('second');
    const [first, second] = [firstProfiled, secondProfiled].map((profiledKernelUs) =>
      profilerOverheadFrom({ shortChainNodes: CALIBRATION_SHORT_CHAIN, longChainNodes: CALIBRATION_LONG_CHAIN, plainShortMs, plainLongMs, profiledKernelUs })
    );
    return first.kernelMs <= second.kernelMs ? first : second;
  } finally {
    for (const session of sessions) await session.release().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  }
}

/** A one-element tensor of `type` (zero), as ConstantOfShape's `value`; null for types it cannot fill. */
function zeroValue(type: ort.Tensor.Type): { type: ElementTypeName; tensor: onnx.ITensorProto } | null {
  if (!(type in ElementType) || type === 'string') return null;
  const name = type as ElementTypeName;
  const bits = elementBits(name);
  if (bits < 8) return null;
  return { type: name, tensor: rawTensorProto('value', name, [1], new Uint8Array(bits / 8)) };
}

/**
 * The model's "I/O twin": the same inputs (which nothing reads) and outputs of the same
 * types and shapes, each made by one ConstantOfShape. Running it costs what session.run
 * costs the model outside its layers: binding the inputs and returning the outputs.
 * Null when an input or output has a type the twin cannot reproduce.
 */
export function ioTwinModel(feeds: Record<string, ort.Tensor>, outputs: OutputSpecs): Uint8Array | null {
  const builder = new GraphBuilder('io-twin');
  for (const [name, tensor] of Object.entries(feeds)) {
    if (!(tensor.type in ElementType) || tensor.type === 'string') return null;
    builder.input(name, tensor.type as ElementTypeName, [...tensor.dims]);
  }
  const renames = new Map<string, string>();
  for (const [name, output] of Object.entries(outputs)) {
    const zero = zeroValue(output.type);
    if (!zero) return null;
    const shape = builder.constantInt64(`/twin/${name}_shape`, [output.dims.length], [...output.dims]);
    const [value] = builder.node('ConstantOfShape', [shape], { value: zero.tensor }, { name: `/twin/${name}` });
    builder.output(value, zero.type, [...output.dims]);
    renames.set(value, name);
  }
  // The builder names values itself: the outputs take the model's output names back.
  const proto = builder.toProto();
  for (const node of proto.graph?.node ?? []) node.output = (node.output ?? []).map((value) => renames.get(value) ?? value);
  for (const output of proto.graph?.output ?? []) output.name = renames.get(output.name ?? '') ?? output.name;
  return encodeModel(proto);
}

/**
 * Median plain run time of the model's I/O twin, ms; null when there is no twin or it
 * does not run (e.g. an output that is also an input): the profile then has no
 * `runOverheadMs`, which is no reason to fail it.
 */
async function measureRunOverheadMs(
  feeds: Record<string, ort.Tensor>,
  outputs: OutputSpecs,
  sessionOptions: ort.InferenceSession.SessionOptions,
  runs: number,
  signal: AbortSignal | undefined
): Promise<number | null> {
  const twin = Object.keys(outputs).some((name) => name in feeds) ? null : ioTwinModel(feeds, outputs);
  if (!twin) return null;
  const describe = (): string => 'the I/O twin does not run';
  let session: ort.InferenceSession;
  try {
    session = await openSession(twin, sessionOptions, describe);
  } catch {
    return null;
  }
  try {
    await runTimes(session, feeds, IO_TWIN_WARMUP, null, { signal }, describe);
    return median(await runTimes(session, feeds, runs, null, { signal }, describe));
  } catch (error) {
    if (error instanceof ProfileCancelledError) throw error;
    return null;
  } finally {
    await session.release();
  }
}

/**
 * Timed runs of one session before the other's, so that both see the same load: each
 * block lasts about INTERLEAVE_BLOCK_MS (one run of a model slower than that) and the
 * timed runs make at least MIN_INTERLEAVED_BLOCKS blocks per session.
 */
const INTERLEAVE_BLOCK_MS = 20;
const MIN_INTERLEAVED_BLOCKS = 10;

/** Runs per block of the interleaved timed runs, for `runs` runs of about `perRunMs` each. */
export function interleaveBlock(runs: number, perRunMs: number): number {
  const byTime = Math.ceil(INTERLEAVE_BLOCK_MS / Math.max(perRunMs, 1e-3));
  const byCount = Math.ceil(runs / MIN_INTERLEAVED_BLOCKS);
  return Math.max(1, Math.min(byTime, byCount));
}

/**
 * The typical run of a set of timed runs, ms: the mean of their middle half (the
 * interquartile mean, app/profiling/trace.ts trimmedMean), the same statistic for the
 * whole runs (wholeModelMs) and for the profiled runs' totals the layers are scaled to, so
 * that the two compare like with like. A median jumps between the two groups runs fall
 * into under load (preempted or not); a mean trimmed less keeps a rare preemption of a
 * µs-scale run (lenet's sum of layers came out 1.95× its whole run so).
 */
export function typicalRunMs(runsMs: readonly number[]): number {
  return trimmedMean(runsMs, 0.25);
}

/**
 * The factor that makes the layers' medians add up to the typical profiled run: Σ medians
 * is below the runs' totals when runs are preempted (each layer's median leaves out the
 * runs where it was the one hit, the total does not) — 0.34–0.73 of the whole run on a
 * busy machine without it. 1 when there is nothing to scale.
 *
 * `exposure` (≤ 1, runExposure) is the part of a profiled run's timed kernel intervals
 * that a plain run also spends: the rest is the profiler's bookkeeping inside them (taken
 * off every kernel, but preempted all the same while it ran) — a third of the intervals
 * for a model of µs-scale kernels. The part of the profiled totals above their p10 (what
 * preemption added) is scaled by it, as if the runs had been as exposed as a plain run
 * (ShuffleNet's layers added up to 1.2–1.4× the whole run under load without).
 */
export function layerScaleFor(layerMediansMs: readonly number[], runTotalsMs: readonly number[], exposure = 1): number {
  const sum = layerMediansMs.reduce((total, ms) => total + ms, 0);
  if (!(sum > 0) || runTotalsMs.length === 0) return 1;
  const base = percentile(runTotalsMs, 10);
  const typical = typicalRunMs(runTotalsMs);
  const factor = Number.isFinite(exposure) ? Math.min(1, Math.max(0, exposure)) : 1;
  const scale = (base + Math.max(0, typical - base) * factor) / sum;
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** What the per-kernel correction took off a typical run, ms: median over runs of Σ raw − Σ corrected layer times. */
export function bookkeepingPerRunMs(rawMsPerRunByLayer: readonly (readonly number[])[], correctedTotalsMs: readonly number[]): number {
  const taken = correctedTotalsMs.map((corrected, run) => rawMsPerRunByLayer.reduce((sum, runs) => sum + (runs[run] ?? 0), 0) - corrected);
  return taken.length > 0 ? Math.max(0, median(taken)) : 0;
}

/**
 * The part of a profiled run's kernel intervals that is the model's own work: its
 * unpreempted total (p10 of the corrected run totals) over that plus the bookkeeping taken
 * off each run (`correctionMs`); 1 when unknown.
 */
export function runExposure(runTotalsMs: readonly number[], correctionMs: number): number {
  if (runTotalsMs.length === 0 || !(correctionMs > 0)) return 1;
  const base = percentile(runTotalsMs, 10);
  const ratio = base / (base + correctionMs);
  return Number.isFinite(ratio) && ratio > 0 ? Math.min(1, ratio) : 1;
}

/** Timed runs report progress at most this often, ms (see the timed loop). */
const PROGRESS_EVERY_MS = 500;

/** Unsteady timed runs get more of them: up to this many times the runs asked for (and MAX_TIMED_RUNS)… */
const UNSTEADY_RUNS_FACTOR = 5;
/** …as long as the timed runs have taken less than this, ms. */
const UNSTEADY_EXTRA_MS = 15_000;

/**
 * How many timed runs to reach once `done` are done: `done` (stop) when the whole runs so
 * far are steady (p90/p10 within UNSTABLE_SPREAD), else `requested` more — up to
 * UNSTEADY_RUNS_FACTOR × requested, MAX_TIMED_RUNS, and while the runs have taken less
 * than UNSTEADY_EXTRA_MS. A burst of load shorter than the timed runs is thus outvoted.
 */
export function extendedRunTarget(state: { done: number; requested: number; wholeMs: readonly number[]; elapsedMs: number }): number {
  const { done, requested, wholeMs, elapsedMs } = state;
  const limit = Math.min(MAX_TIMED_RUNS, requested * UNSTEADY_RUNS_FACTOR);
  if (done >= limit || elapsedMs >= UNSTEADY_EXTRA_MS || wholeMs.length === 0) return done;
  const { p10, p90 } = spread([...wholeMs]);
  const steady = !(p10 > 0) || p90 / p10 <= UNSTABLE_SPREAD;
  return steady ? done : Math.min(limit, done + requested);
}

/** Profiles a model layer by layer; see ProfileDetails for what else is reported. */
export async function profileModelDetailed(analyzed: AnalyzedModel, options: ProfileOptions): Promise<ProfileDetails> {
  let runs = options.runs ?? DEFAULT_PROFILE_RUNS;
  const warmup = options.warmup ?? DEFAULT_PROFILE_WARMUP;
  const minMeasureMs = options.minMeasureMs ?? 0;
  const optimization = options.optimization ?? DEFAULT_GRAPH_OPTIMIZATION;
  if (!Number.isInteger(runs) || runs < 1) throw new ProfileError(`runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new ProfileError(`warmup must be a non-negative integer, got ${warmup}`);
  if (!(Number.isFinite(minMeasureMs) && minMeasureMs >= 0)) throw new ProfileError(`minMeasureMs must be a non-negative number, got ${minMeasureMs}`);
  throwIfAborted(options.signal);
  const model = analyzed.model;
  const file = path.basename(analyzed.path);
  const choice = await sessionOptionsFor(options.ep, { allowCpuFallback: options.allowCpuFallback });
  const describe = (): string => `onnxruntime cannot run ${file} on ${choice.used}`;
  let feeds: Record<string, ort.Tensor>;
  try {
    feeds = options.inputs ?? generateInputs(model, { seed: options.seed, dimValues: options.dimValues });
  } catch (error) {
    throw new ProfileError(`${file}: ${firstLine(error)}`);
  }
  const names = profiledNodeNames(model);
  const source = sessionSource(analyzed, names);
  const usesOptimizedGraph = optimization === 'all' || choice.used !== 'cpu';
  // Fatal only: a model onnxruntime refuses is reported as one ProfileError line, not also in its coloured log.
  const base: ort.InferenceSession.SessionOptions = { ...withPrepackingFor(runSessionOptions(choice, optimization), model), logSeverityLevel: 4 };
  const progress = (phase: ProfilePhase, done: number, total: number): void => options.onProgress?.({ phase, done, total });

  progress('calibrate', 0, 1);
  const kernelOverheadMs = options.profilerOverheadMsPerKernel ?? (await calibrateProfilerOverhead(options.signal)).kernelMs;
  progress('calibrate', 1, 1);
  throwIfAborted(options.signal);
  const folder = mkdtempSync(path.join(profileTempRoot(), TEMP_PREFIX));
  const sessions: ort.InferenceSession[] = [];
  try {
    // 1. Two sessions of the model, open together (their threads do not spin while the
    // other runs): the profiling one, whose trace holds every kernel of every run, and a
    // plain one for the whole-model time without the profiler's bookkeeping.
    progress('load', 0, 2);
    const optimizedPath = path.join(folder, 'optimized.onnx');
    const profiling = await openSession(
      source,
      { ...base, enableProfiling: true, profileFilePrefix: path.join(folder, 'trace'), ...(usesOptimizedGraph ? { optimizedModelFilePath: optimizedPath } : {}) },
      describe
    );
    sessions.push(profiling);
    throwIfAborted(options.signal);
    progress('load', 1, 2);
    const plain = await openSession(source, base, describe);
    sessions.push(plain);
    throwIfAborted(options.signal);
    progress('load', 2, 2);

    // 2. Warm-up runs of each; their time sets how many timed runs fill minMeasureMs.
    const outputs: OutputSpecs = {};
    await runTimes(profiling, feeds, warmup, { phase: 'warmup', before: 0, total: warmup + Math.max(warmup, 1) }, options, describe);
    const plainWarmup = Math.max(warmup, 1);
    const warmupMs = await runTimes(plain, feeds, plainWarmup, { phase: 'warmup', before: warmup, total: warmup + plainWarmup }, options, describe, outputs);
    const requestedRuns = runs;
    runs = timedRunCount(runs, minMeasureMs, warmupMs);
    // A fast model gets as many more warm-up runs as it gets more timed runs: JavaScript's
    // side of session.run keeps getting faster for a few thousand calls (senna-ner: 25 µs
    // a run over the first 1,000, 18 µs after 3,000), which only a µs-scale model notices.
    const extraWarmup = runs - requestedRuns;
    await runTimes(profiling, feeds, extraWarmup, null, options, describe);
    await runTimes(plain, feeds, extraWarmup, null, options, describe, outputs);

    // 3. The timed runs, interleaved block by block (profiled, plain, plain, profiled, …), so a
    // burst of other load lands on both kinds alike instead of skewing one of them.
    // Runs that spread beyond the bound (something else took the CPU) are followed by more
    // of them (extendedRunTarget), so that the medians of the two kinds, both drawn from the
    // same busy machine, come out alike.
    // The kind that goes first alternates (profiled, plain, plain, profiled, …): whatever
    // follows a block boundary — a progress line waking the process that reads it, which
    // then takes this one's core — falls on both kinds alike instead of always on one
    // (plain runs 2× the profiled ones under load, measured, when it always fell on them).
    // Progress is reported at most every PROGRESS_EVERY_MS for the same reason.
    const block = interleaveBlock(runs, median([...warmupMs]));
    const wholeTimes: number[] = [];
    const profiledTimes: number[] = [];
    const timedStart = performance.now();
    let lastReport = timedStart;
    let target = runs;
    let done = 0;
    for (let pair = 0; done < target; pair++) {
      const count = Math.min(block, target - done);
      const profiled = async (): Promise<void> => {
        profiledTimes.push(...(await runTimes(profiling, feeds, count, null, options, describe)));
      };
      const whole = async (): Promise<void> => {
        wholeTimes.push(...(await runTimes(plain, feeds, count, null, options, describe, outputs)));
      };
      if (pair % 2 === 0) {
        await profiled();
        await whole();
      } else {
        await whole();
        await profiled();
      }
      done += count;
      const now = performance.now();
      if (done >= target) target = extendedRunTarget({ done, requested: runs, wholeMs: wholeTimes, elapsedMs: now - timedStart });
      if (done >= target || now - lastReport >= PROGRESS_EVERY_MS) {
        progress('profile', done, target);
        lastReport = now;
      }
    }
    runs = done;
    profiling.endProfiling();
    for (const session of sessions.splice(0)) await session.release();
    const traceFile = readdirSync(folder).find((f) => f.startsWith('trace') && f.endsWith('.json'));
    if (!traceFile) throw new ProfileError(`onnxruntime wrote no profiling trace for ${file}`);
    let trace;
    try {
      trace = parseTrace(readFileSync(path.join(folder, traceFile), 'utf8'));
    } catch (error) {
      if (error instanceof TraceFormatError) throw new ProfileError(`${file}: ${error.message}`);
      throw error;
    }
    const timedRuns = splitRuns(trace).slice(-runs);
    const original = topology(model, names);
    const { layers: analysedLayers } = analyzed.analysis;
    const { layerOfNode, nodeOfLayer } = layerMapping(analyzed);
    const work = layerOfNode.map((layer, node) => (nodeOfLayer[layer] === node ? nodeWork(analysedLayers[layer].macs, analysedLayers[layer].outputs.map((o) => o.shape)) : 0));
    const attribution = usesOptimizedGraph
      ? attributeOptimizedGraph(original, topology(readOnnxModel(readFileSync(optimizedPath))), work)
      : identityAttribution(original);
    const attributed = attributeRuns(timedRuns, attributionByLayer(attribution, layerOfNode, nodeOfLayer), analysedLayers.length, kernelOverheadMs);

    // 4. The per-run cost outside every layer, on the model's I/O twin.
    throwIfAborted(options.signal);
    progress('overhead', 0, 1);
    const runOverheadMs = await measureRunOverheadMs(feeds, outputs, base, Math.max(runs, 50), options.signal);
    progress('overhead', 1, 1);

    const ownLayers = analysedLayers.map((layer) => layerTiming(layer.name, layer.opType, layer.index, attributed.nodes[layer.index], analyzed));
    const layerScale = layerScaleFor(
      ownLayers.map((l) => l.medianMs),
      attributed.attributedMsPerRun,
      runExposure(attributed.attributedMsPerRun, bookkeepingPerRunMs(attributed.nodes.map((n) => n.rawMsPerRun), attributed.attributedMsPerRun))
    );
    const layers = ownLayers.map((l) => ({ ...l, medianMs: l.medianMs * layerScale, p10Ms: l.p10Ms * layerScale, p90Ms: l.p90Ms * layerScale }));
    const whole = spread(wholeTimes);
    const profile: LatencyProfile = {
      schemaVersion: 2,
      kind: 'latency-profile',
      model: modelIdentity(analyzed),
      device: deviceInfo(choice.used),
      ep: choice.used,
      ...(choice.fellBack ? { requestedEp: choice.requested, fallbackReason: choice.fallbackReason } : {}),
      predicted: false,
      graphOptimization: optimization,
      threads: base.intraOpNumThreads ?? null,
      runs,
      warmup,
      wholeModelMs: typicalRunMs(wholeTimes),
      wholeModelSpread: { p10Ms: whole.p10, p90Ms: whole.p90 },
      sumOfMediansMs: layers.reduce((sum, l) => sum + l.medianMs, 0),
      layerScale,
      ...(runOverheadMs !== null ? { runOverheadMs } : {}),
      profilerOverheadMsPerKernel: kernelOverheadMs,
      rawSumOfMediansMs: layers.reduce((sum, l) => sum + (l.rawMedianMs ?? l.medianMs), 0),
      date: new Date().toISOString(),
      layers
    };
    const byStatus = (status: string): string[] => analysedLayers.filter((_, i) => attributed.nodes[i].status === status).map((l) => l.name);
    return {
      profile,
      provider: choice,
      folded: byStatus('folded'),
      fused: byStatus('fused'),
      unobserved: analysedLayers.filter((_, i) => attributed.nodes[i].status !== 'folded' && !attributed.nodes[i].observed).map((l) => l.name),
      unattributedKernels: attributed.unattributedKernels,
      kernelMsPerRun: attributed.kernelMsPerRun,
      attributedMsPerRun: attributed.attributedMsPerRun,
      wholeMsPerRun: wholeTimes,
      profiledMsPerRun: profiledTimes,
      nodeMsPerRun: attributed.nodes.map((n) => n.msPerRun),
      rawNodeMsPerRun: attributed.nodes.map((n) => n.rawMsPerRun)
    };
  } finally {
    for (const session of sessions) await session.release().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Which layer each graph node's time belongs to (its own, a quantization step's the layer it is a step of, or for a weight-only node the
 * first layer reading what it computes; -1 when none does), and each layer's own node.
 */
function layerMapping(analyzed: AnalyzedModel): { layerOfNode: number[]; nodeOfLayer: number[] } {
  const { layers, weightNodes } = analyzed.analysis;
  const layerOfNode = new Array<number>(analyzed.model.graph.nodes.length).fill(-1);
  for (const layer of layers) for (const position of [layer.nodeIndex, ...layer.stepNodes]) layerOfNode[position] = layer.index;
  for (const weight of weightNodes) layerOfNode[weight.nodeIndex] = weight.consumers.length > 0 ? Math.min(...weight.consumers) : -1;
  return { layerOfNode, nodeOfLayer: layers.map((layer) => layer.nodeIndex) };
}

function layerTiming(name: string, op: string, index: number, times: NodeRunTimes, analyzed: AnalyzedModel): LayerTiming {
  const { median: medianMs, p10, p90 } = times.msPerRun.length > 0 ? traceSpread(times.msPerRun) : { median: 0, p10: 0, p90: 0 };
  return {
    index,
    name,
    op,
    provider: times.observed ? times.provider : null,
    medianMs,
    p10Ms: p10,
    p90Ms: p90,
    rawMedianMs: times.rawMsPerRun.length > 0 ? traceMedian(times.rawMsPerRun) : 0,
    // The analysis's size first: at 'all' the kernel that produces a layer's output may
    // write it in a blocked layout (NCHWc pads channels to 8 or 16), which no cut sends.
    outputBytes: analyzed.analysis.layers[index]?.outputBytes ?? times.outputBytes ?? null,
    attribution: times.status
  };
}

/** Profiles a model layer by layer on one execution provider. */
export async function profileModel(analyzed: AnalyzedModel, options: ProfileOptions): Promise<LatencyProfile> {
  return (await profileModelDetailed(analyzed, options)).profile;
}

/** Refuses a profile measured on another model (other bytes, or other nodes). */
export function validateProfileFor(profile: LatencyProfile, analyzed: AnalyzedModel, profileLabel = 'profile.json'): void {
  const file = path.basename(analyzed.path);
  const hash = sha256(analyzed.bytes);
  if (profile.model.sha256 !== hash) {
    throw new ProfileError(
      `${profileLabel} was made for model ${profile.model.file} (sha256 ${profile.model.sha256.slice(0, 12)}…), not ${file} (sha256 ${hash.slice(0, 12)}…)`
    );
  }
  const layers = analyzed.analysis.layers;
  const mismatch = profile.layers.length !== layers.length ? 0 : profile.layers.findIndex((l, i) => l.index !== i || l.name !== layers[i].name);
  if (profile.layers.length !== layers.length || mismatch >= 0) {
    throw new ProfileError(
      profile.layers.length !== layers.length
        ? `${profileLabel} has ${profile.layers.length} layers, ${file} has ${layers.length}`
        : `${profileLabel} does not match ${file}: layer ${mismatch} is "${profile.layers[mismatch].name}", the model's layer ${mismatch} is "${layers[mismatch].name}"`
    );
  }
}


/** Reads a latency profile and checks its shape; every problem is one ProfileError line. */
export async function readProfileFile(filePath: string): Promise<LatencyProfile> {
  return checkProfileShape(await readJsonFile(filePath, (message) => new ProfileError(message)), filePath);
}

export function checkProfileShape(json: unknown, label: string): LatencyProfile {
  if (!isRecord(json)) throw new ProfileError(`${label}: not a latency profile (not a JSON object)`);
  if (json.kind !== 'latency-profile') throw new ProfileError(`${label}: not a latency profile (kind is ${JSON.stringify(json.kind ?? null)})`);
  if (json.schemaVersion === 1) {
    throw new ProfileError(`${label}: made by an older version that listed weight-only nodes as layers (schemaVersion 1); profile the model again`);
  }
  if (json.schemaVersion !== 2) throw new ProfileError(`${label}: schemaVersion ${JSON.stringify(json.schemaVersion ?? null)} is not supported (2 is)`);
  const model = json.model;
  if (!isRecord(model) || typeof model.sha256 !== 'string' || typeof model.file !== 'string' || typeof model.nodes !== 'number') {
    throw new ProfileError(`${label}: "model" must have file, sha256 and nodes`);
  }
  if (!Array.isArray(json.layers)) throw new ProfileError(`${label}: "layers" must be an array`);
  json.layers.forEach((layer: unknown, i: number) => {
    if (!isRecord(layer) || typeof layer.index !== 'number' || typeof layer.name !== 'string' || typeof layer.op !== 'string') {
      throw new ProfileError(`${label}: layer ${i} must have index, name and op`);
    }
    for (const key of ['medianMs', 'p10Ms', 'p90Ms']) {
      if (typeof layer[key] !== 'number' || !Number.isFinite(layer[key]) || (layer[key] as number) < 0) {
        throw new ProfileError(`${label}: layer ${i} ("${layer.name}") has no valid ${key}`);
      }
    }
  });
  if (typeof json.sumOfMediansMs !== 'number' || !(json.wholeModelMs === null || typeof json.wholeModelMs === 'number')) {
    throw new ProfileError(`${label}: sumOfMediansMs and wholeModelMs must be numbers`);
  }
  if (json.graphOptimization !== 'disabled' && json.graphOptimization !== 'all') {
    throw new ProfileError(`${label}: graphOptimization must be "disabled" or "all", got ${JSON.stringify(json.graphOptimization ?? null)}`);
  }
  // Written before threads and the whole runs' spread were recorded: not known.
  const threads = json.threads ?? null;
  if (threads !== null && !(typeof threads === 'number' && Number.isInteger(threads) && threads > 0)) throw new ProfileError(`${label}: threads must be a positive whole number or null`);
  const wholeSpread = json.wholeModelSpread ?? null;
  if (wholeSpread !== null && !(isRecord(wholeSpread) && typeof wholeSpread.p10Ms === 'number' && typeof wholeSpread.p90Ms === 'number')) {
    throw new ProfileError(`${label}: wholeModelSpread must have p10Ms and p90Ms, or be null`);
  }
  return { ...json, threads, wholeModelSpread: wholeSpread } as unknown as LatencyProfile;
}

export function writeProfileFile(filePath: string, profile: LatencyProfile): void {
  writeFileAtomic(filePath, `${JSON.stringify(profile, null, 2)}\n`);
}
