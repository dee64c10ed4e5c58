// Measures a model layer by layer with onnxruntime's own profiler — the paper's per-layer
// characterisation, for real. A profiling session runs warm-up runs and then `runs`
// timed runs; its trace (a temporary file) is parsed and mapped back to the original
// nodes by app/profiling/trace.ts. A second, plain session gives the whole-model time
// without profiling overhead. The result is a LatencyProfile (app/profiling/types.ts),
// which the planner takes as its latencies; profile files are read and written here.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from '../app/onnx/generated/onnx.js';
import { readOnnxModel } from '../app/onnx/reader.js';
import { encodeModel } from '../app/onnx/writer.js';
import type { OnnxModel } from '../app/onnx/model.js';
import {
  attributeOptimizedGraph,
  attributeRuns,
  identityAttribution,
  parseTrace,
  spread,
  splitRuns,
  TraceFormatError,
  median,
  type GraphTopology,
  type NodeRunTimes
} from '../app/profiling/trace.js';
import type { ExecutionProviderName, LatencyProfile, LayerTiming } from '../app/profiling/types.js';
import type { AnalyzedModel } from './analyze-file.js';
import { writeFileAtomic } from './atomic-write.js';
import { deviceInfo } from './device-info.js';
import { generateInputs } from './inputs.js';
import { inlineExternalData } from './model-file.js';
import { sessionOptionsFor, type ProviderChoice } from './providers.js';
import { firstLine } from './runtime-shapes.js';
import { isRecord, readJsonFile } from './json-file.js';
import { modelIdentity, sha256 } from './model-file.js';

export class ProfileError extends Error {
  override name = 'ProfileError';
}

export class ProfileCancelledError extends Error {
  override name = 'ProfileCancelledError';
  constructor() {
    super('profiling cancelled');
  }
}

export type ProfilePhase = 'load' | 'warmup' | 'profile' | 'whole-model';

export interface ProfileProgress {
  phase: ProfilePhase;
  done: number;
  total: number;
}

export interface ProfileOptions {
  ep: ExecutionProviderName;
  /** Timed runs (default 20), in the profiling session and in the whole-model session alike. */
  runs?: number;
  /** Untimed runs before the timed ones in each session (default 3). */
  warmup?: number;
  /** onnxruntime graph optimisation level, the same in both sessions (default 'disabled'). */
  optimization?: 'disabled' | 'all';
  /** Run on CPU when `ep` is not available here, instead of failing. */
  allowCpuFallback?: boolean;
  /** Model inputs (e.g. from main/input-files.ts); generated from `seed` when absent. */
  inputs?: Record<string, ort.Tensor>;
  dimValues?: Record<string, number>;
  seed?: number;
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
  /** Per timed run: the sum of every kernel's time, and the part given to original nodes, ms. */
  kernelMsPerRun: number[];
  attributedMsPerRun: number[];
  /** Per original node: its time in each timed run, ms. */
  nodeMsPerRun: number[][];
}

const TEMP_PREFIX = 'neurosurgeon-profile-';

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

async function runTimes(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  count: number,
  phase: ProfilePhase,
  options: ProfileOptions,
  describe: () => string
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
    for (const tensor of Object.values(results)) tensor.dispose();
    options.onProgress?.({ phase, done: done + 1, total: count });
  }
  return times;
}

/** Profiles a model layer by layer; see ProfileDetails for what else is reported. */
export async function profileModelDetailed(analyzed: AnalyzedModel, options: ProfileOptions): Promise<ProfileDetails> {
  const runs = options.runs ?? 20;
  const warmup = options.warmup ?? 3;
  const optimization = options.optimization ?? 'disabled';
  if (!Number.isInteger(runs) || runs < 1) throw new ProfileError(`runs must be a positive integer, got ${runs}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new ProfileError(`warmup must be a non-negative integer, got ${warmup}`);
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
  const base: ort.InferenceSession.SessionOptions = { ...choice.sessionOptions, graphOptimizationLevel: optimization, logSeverityLevel: 3 };

  const folder = mkdtempSync(path.join(profileTempRoot(), TEMP_PREFIX));
  let session: ort.InferenceSession | null = null;
  try {
    // 1. The profiling session: its trace holds every kernel of every run.
    options.onProgress?.({ phase: 'load', done: 0, total: 1 });
    const optimizedPath = path.join(folder, 'optimized.onnx');
    session = await openSession(
      source,
      { ...base, enableProfiling: true, profileFilePrefix: path.join(folder, 'trace'), ...(usesOptimizedGraph ? { optimizedModelFilePath: optimizedPath } : {}) },
      describe
    );
    throwIfAborted(options.signal);
    options.onProgress?.({ phase: 'load', done: 1, total: 1 });
    await runTimes(session, feeds, warmup, 'warmup', options, describe);
    await runTimes(session, feeds, runs, 'profile', options, describe);
    session.endProfiling();
    await session.release();
    session = null;
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
    const macs = analyzed.analysis.layers.map((l) => l.macs);
    const attribution = usesOptimizedGraph
      ? attributeOptimizedGraph(original, topology(readOnnxModel(readFileSync(optimizedPath))), macs)
      : identityAttribution(original);
    const attributed = attributeRuns(timedRuns, attribution, model.graph.nodes.length);

    // 2. A plain session for the whole-model time, without profiling overhead.
    throwIfAborted(options.signal);
    session = await openSession(source, base, describe);
    await runTimes(session, feeds, warmup, 'warmup', options, describe);
    const wholeTimes = await runTimes(session, feeds, runs, 'whole-model', options, describe);
    await session.release();
    session = null;

    const layers = model.graph.nodes.map((node, index) => layerTiming(node.name, node.opType, index, attributed.nodes[index], analyzed));
    const profile: LatencyProfile = {
      schemaVersion: 1,
      kind: 'latency-profile',
      model: modelIdentity(analyzed),
      device: deviceInfo(choice.used),
      ep: choice.used,
      ...(choice.fellBack ? { requestedEp: choice.requested, fallbackReason: choice.fallbackReason } : {}),
      predicted: false,
      graphOptimization: optimization,
      runs,
      warmup,
      wholeModelMs: median(wholeTimes),
      sumOfMediansMs: layers.reduce((sum, l) => sum + l.medianMs, 0),
      date: new Date().toISOString(),
      layers
    };
    const byStatus = (status: string): string[] => model.graph.nodes.filter((_, i) => attributed.nodes[i].status === status).map((n) => n.name);
    return {
      profile,
      provider: choice,
      folded: byStatus('folded'),
      fused: byStatus('fused'),
      unobserved: model.graph.nodes.filter((_, i) => attributed.nodes[i].status !== 'folded' && !attributed.nodes[i].observed).map((n) => n.name),
      unattributedKernels: attributed.unattributedKernels,
      kernelMsPerRun: attributed.kernelMsPerRun,
      attributedMsPerRun: attributed.attributedMsPerRun,
      nodeMsPerRun: attributed.nodes.map((n) => n.msPerRun)
    };
  } finally {
    await session?.release().catch(() => undefined);
    rmSync(folder, { recursive: true, force: true });
  }
}

function layerTiming(name: string, op: string, index: number, times: NodeRunTimes, analyzed: AnalyzedModel): LayerTiming {
  const { median: medianMs, p10, p90 } = times.msPerRun.length > 0 ? spread(times.msPerRun) : { median: 0, p10: 0, p90: 0 };
  return {
    index,
    name,
    op,
    provider: times.observed ? times.provider : null,
    medianMs,
    p10Ms: p10,
    p90Ms: p90,
    outputBytes: times.outputBytes ?? analyzed.analysis.layers[index]?.outputBytes ?? null,
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
  const nodes = analyzed.model.graph.nodes;
  const mismatch = profile.layers.length !== nodes.length ? 0 : profile.layers.findIndex((l, i) => l.index !== i || l.name !== nodes[i].name);
  if (profile.layers.length !== nodes.length || mismatch >= 0) {
    throw new ProfileError(
      profile.layers.length !== nodes.length
        ? `${profileLabel} has ${profile.layers.length} layers, ${file} has ${nodes.length} nodes`
        : `${profileLabel} does not match ${file}: layer ${mismatch} is "${profile.layers[mismatch].name}", the model's node ${mismatch} is "${nodes[mismatch].name}"`
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
  if (json.schemaVersion !== 1) throw new ProfileError(`${label}: schemaVersion ${JSON.stringify(json.schemaVersion ?? null)} is not supported (1 is)`);
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
  return json as unknown as LatencyProfile;
}

export function writeProfileFile(filePath: string, profile: LatencyProfile): void {
  writeFileAtomic(filePath, `${JSON.stringify(profile, null, 2)}\n`);
}
