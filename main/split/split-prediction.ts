// The prediction behind `run --cut auto` and `sweep`: the Neurosurgeon decision made with
// live facts — device latencies from a real local profile (or a profile file), server
// latencies from the executor's own profile of the whole model, the server-load factor K
// from the executor's load report, and the link (a preset the shaper enforces, or the
// live link as measured). The cost of every topological cut comes from app/partition.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildPartitionProblem } from '../../app/engine.js';
import { buildCutTable, planCuts, type CutPlan, type CutTable } from '../../app/partition/cuts.js';
import { optimalDagPartition, type DagPartition } from '../../app/partition/dag.js';
import { defaultPowerProfile, devicePowerFor, type DevicePowerProfile } from '../../app/partition/power.js';
import { networkPreset, type NetworkPreset } from '../../app/partition/presets.js';
import type { NetworkConditions, Objective, PartitionProblem, PlanOptions } from '../../app/partition/types.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type ExecutionProviderName, type LatencyProfile } from '../../app/profiling/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import { latenciesFromFile, slowedDown, threadsMismatch, type SideLatencies } from '../profiling/latency-sources.js';
import { intraOpThreads } from '../profiling/providers.js';
import { encodeModel } from '../../app/onnx/writer.js';
import { inlineExternalData } from '../model/model-file.js';
import { latenciesForWholeRuns } from '../../app/profiling/overhead.js';
import { resolveNetwork } from './plan-service.js';
import { profileInChildProcess } from '../profiling/profile-process.js';
import { profileSettings } from '../../app/profiling/stability.js';
import { sha256 } from '../model/model-file.js';
import { BEST_EFFORT_TIMEOUT_MS, type DeviceExecutor, type RemoteExecutor } from '../executor/remote-executor.js';

export class SplitPredictionError extends Error {
  override name = 'SplitPredictionError';
}

/** The link a run uses: a preset (possibly with custom numbers) that the shaper enforces, or the live link. */
export interface LinkChoice {
  /** 'preset': shaped to `preset`; 'measured': unshaped, predicted with what measureLink found. */
  kind: 'preset' | 'measured';
  preset: NetworkPreset;
}

export interface NetworkRequest {
  name: string;
  uplinkMbps?: number;
  downlinkMbps?: number;
  rttMs?: number;
}

/**
 * A preset with any overrides, or — for 'measured' — the live link measured now. The
 * measured link has no radio model of its own; the Wi-Fi one stands in for energy.
 */
export async function resolveLink(request: NetworkRequest, control: RemoteExecutor | null, power: DevicePowerProfile = defaultPowerProfile()): Promise<LinkChoice> {
  const overrides = { uplinkMbps: request.uplinkMbps, downlinkMbps: request.downlinkMbps, rttMs: request.rttMs };
  if (request.name !== 'measured') return { kind: 'preset', preset: resolveNetwork(request.name, overrides, power) };
  if (Object.values(overrides).some((v) => v !== undefined)) {
    throw new UsageError('--network measured takes no --uplink-mbps, --downlink-mbps or --rtt-ms: the link is measured');
  }
  if (!control) throw new UsageError('--network measured needs an executor to measure the link against');
  const measured = await control.measureLink();
  const network: NetworkConditions = { name: 'measured', uplinkMbps: measured.uplinkMbps, downlinkMbps: measured.downlinkMbps, rttMs: measured.rttMs };
  return { kind: 'measured', preset: { network, radio: { ...networkPreset('wifi').radio } } };
}

export interface LatencyGathering {
  ep: ExecutionProviderName;
  allowCpuFallback?: boolean;
  /** Device latencies from this profile file (measured or device profile) instead of a live profile. */
  localFile?: string;
  /** Server latencies from this profile file instead of the executor's own profile of the model. */
  remoteFile?: string;
  /** The device is emulated this many times slower than its latencies say (SplitRunnerOptions). */
  deviceSlowdown?: number;
  /** Timed runs of each profile (default 10) and warm-up runs (default 2). */
  profileRuns?: number;
  profileWarmup?: number;
  /** Both profiles take more runs where runs are fast, to fill this many ms (ProfileOptions.minMeasureMs; default 0). */
  profileMinMeasureMs?: number;
  seed?: number;
  dimValues?: Record<string, number>;
  /** The device is this executor (main/executor/device.ts): device latencies are its profile of the model. */
  device?: DeviceExecutor;
  onProgress?: (message: string) => void;
  /** Stops the device's profile (its process is killed) when aborted. */
  signal?: AbortSignal;
}

/** Refuses what a device executor cannot be combined with. */
export function checkDeviceRequest(request: { device?: DeviceExecutor; deviceSlowdown?: number }, network: string): void {
  if (!request.device) return;
  if ((request.deviceSlowdown ?? 1) !== 1) throw new UsageError('--device-slowdown emulates a device on this machine; with --device-executor, start that executor with --slowdown instead');
  if (network === 'measured') throw new UsageError('--network measured measures the link from here, not from the device executor: give a preset or --uplink-mbps/--downlink-mbps/--rtt-ms');
}

export interface GatheredLatencies {
  local: SideLatencies;
  remote: SideLatencies;
}

/** What a profiling process reads: the model's file where it came from one, else its bytes (an upload). */
function modelSource(analyzed: AnalyzedModel): string | Uint8Array {
  return path.isAbsolute(analyzed.path) && existsSync(analyzed.path) ? analyzed.path : selfContainedBytes(analyzed);
}

/** The model's bytes as the executor should get them (external data folded in). */
export function selfContainedBytes(analyzed: AnalyzedModel): Uint8Array {
  if (analyzed.model.externalData.length === 0) return analyzed.bytes;
  inlineExternalData(analyzed);
  return encodeModel(analyzed.model.proto);
}

function checkMatchesModel(profile: LatencyProfile, analyzed: AnalyzedModel, label: string): void {
  const layers = analyzed.analysis.layers;
  if (profile.layers.length !== layers.length) {
    throw new SplitPredictionError(`${label} has ${profile.layers.length} layers, ${path.basename(analyzed.path)} has ${layers.length}`);
  }
}

/** Device latencies (a live local profile, or a file) and server latencies (the executor's profile, or a file). */
export async function gatherLatencies(analyzed: AnalyzedModel, control: RemoteExecutor, options: LatencyGathering): Promise<GatheredLatencies> {
  const runs = options.profileRuns ?? 10;
  const warmup = options.profileWarmup ?? 2;
  let local: SideLatencies;
  if (options.localFile) {
    local = await latenciesFromFile(analyzed, options.localFile);
    const mismatch = local.profile ? threadsMismatch(local.profile, path.basename(options.localFile), intraOpThreads()) : null;
    if (mismatch) options.onProgress?.(`warning: ${mismatch}`);
  } else if (options.device) {
    options.onProgress?.(`profiling ${path.basename(analyzed.path)} on the device executor ${options.device.url}`);
    const profile = await profileOn(options.device, analyzed, { runs, warmup, minMeasureMs: options.profileMinMeasureMs });
    checkMatchesModel(profile, analyzed, "the device executor's profile");
    local = { ms: profile.layers.map((l) => l.medianMs), source: `measured by the device executor (${profile.ep} on ${profile.device.cpu}, ${profileSettings(profile)})`, profile };
  } else {
    options.onProgress?.(`profiling ${path.basename(analyzed.path)} on this device (${options.ep})`);
    // As every profile: `neurosurgeon profile` in a process of its own (profile-process.ts).
    const profile = await profileInChildProcess(modelSource(analyzed), {
      ep: options.ep,
      allowCpuFallback: options.allowCpuFallback,
      runs,
      warmup,
      optimization: DEFAULT_GRAPH_OPTIMIZATION,
      minMeasureMs: options.profileMinMeasureMs,
      seed: options.seed,
      dimValues: options.dimValues,
      expectSha256: sha256(analyzed.bytes),
      onWarning: (line) => options.onProgress?.(`warning: ${line}`),
      ...(options.signal ? { signal: options.signal } : {})
    });
    checkMatchesModel(profile, analyzed, 'the profile of this device');
    local = { ms: profile.layers.map((l) => l.medianMs), source: `measured on this device (${profile.ep}, ${profileSettings(profile)})`, profile };
  }
  local = withWholeRunCosts(local, 0);
  local = slowedDown(local, options.deviceSlowdown ?? 1);
  if (options.remoteFile) return { local, remote: withWholeRunCosts(await latenciesFromFile(analyzed, options.remoteFile), analyzed.analysis.layers.length - 1) };
  options.onProgress?.(`profiling ${path.basename(analyzed.path)} on the executor`);
  const uploaded = await loadWholeModel(control, analyzed);
  // The executor serves at DEFAULT_GRAPH_OPTIMIZATION: profiled at it, as the device side is.
  let remoteProfile: LatencyProfile;
  try {
    remoteProfile = await control.profile(uploaded.name, {
      runs,
      warmup,
      optimization: DEFAULT_GRAPH_OPTIMIZATION,
      ...(options.profileMinMeasureMs ? { minTimeMs: Math.round(options.profileMinMeasureMs) } : {})
    });
  } finally {
    // Only the tails run from here on: a whole model uploaded just for this would hold its memory.
    if (uploaded.uploaded) await control.unloadModel(uploaded.name, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
  }
  checkMatchesModel(remoteProfile, analyzed, `the executor's profile of ${uploaded.name}`);
  const remote = withWholeRunCosts(
    {
      ms: remoteProfile.layers.map((l) => l.medianMs),
      source: `measured by the executor (${remoteProfile.ep} on ${remoteProfile.device.cpu}, ${profileSettings(remoteProfile)})`,
      profile: remoteProfile
    },
    remoteProfile.layers.length - 1
  );
  return { local, remote };
}

/** An executor's profile of the whole model (loaded there for it, and unloaded after when it was loaded for it). */
export async function profileOn(executor: RemoteExecutor, analyzed: AnalyzedModel, options: { runs: number; warmup: number; minMeasureMs?: number }): Promise<LatencyProfile> {
  const loaded = await loadWholeModel(executor, analyzed);
  try {
    return await executor.profile(loaded.name, {
      runs: options.runs,
      warmup: options.warmup,
      optimization: DEFAULT_GRAPH_OPTIMIZATION,
      ...(options.minMeasureMs ? { minTimeMs: Math.round(options.minMeasureMs) } : {})
    });
  } finally {
    if (loaded.uploaded) await executor.unloadModel(loaded.name, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
  }
}

/**
 * Loads the whole model on the executor for its profile: built from the kept model (sent
 * once, main/executor/sources.ts) where the executor keeps models, else uploaded the Triton
 * way. `uploaded` says it was loaded here (and is unloaded after the profile).
 */
export async function loadWholeModel(control: RemoteExecutor, analyzed: AnalyzedModel): Promise<{ name: string; uploaded: boolean }> {
  const name = wholeModelName(analyzed);
  if (control.ensureSource && control.buildModel && analyzed.model.externalData.length === 0) {
    const hash = analyzed.sha256 ?? sha256(analyzed.bytes);
    const source = await control.ensureSource(analyzed.bytes, hash);
    if (source) {
      await control.buildModel(name, { source: source.sha256, part: 'model', localLayers: [], sha256: source.sha256 });
      return { name, uploaded: true };
    }
  }
  return control.uploadModel(selfContainedBytes(analyzed), { name });
}

/**
 * A head always holds the first node and a tail always the last: the profile's per-run
 * cost goes to node 0 locally and to node N−1 remotely, and what the whole measured run
 * holds beyond its layers is spread over every node (latenciesForWholeRuns), so cut N
 * predicts the measured whole run and every cut pays each part's run cost once.
 */
function withWholeRunCosts(side: SideLatencies, node: number): SideLatencies {
  if (side.ms.length === 0 || !side.profile) return side;
  const wholeModelMs = side.profile.predicted ? null : side.profile.wholeModelMs;
  return { ...side, ms: latenciesForWholeRuns(side.ms, { runOverheadMs: side.profile.runOverheadMs, runOverheadNode: node, wholeModelMs }) };
}

/** The executor-side name of a whole model (letters, digits, '-', '_', '.'). */
export function wholeModelName(analyzed: AnalyzedModel): string {
  return sanitizeModelName(path.basename(analyzed.path, '.onnx'));
}

export function sanitizeModelName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[._-]+/, '');
  return cleaned === '' ? 'model' : cleaned.slice(0, 100);
}

export interface CutPrediction {
  plan: CutPlan;
  /** The per-cut sums the plan came from (what the cost of an encoded cut is built on). */
  table: CutTable;
  options: PlanOptions;
  objective: Objective;
  chosen: number;
  latencies: { local: string; remote: string };
}

/** The partition problem and plan options of a decision made with live facts. */
function decisionInputs(
  analyzed: AnalyzedModel,
  latencies: GatheredLatencies,
  link: NetworkPreset,
  serverLoad: number,
  ep: ExecutionProviderName,
  power: DevicePowerProfile
): { problem: PartitionProblem; options: PlanOptions } {
  if (!(Number.isFinite(serverLoad) && serverLoad > 0)) throw new SplitPredictionError(`the executor reported a load factor of ${serverLoad}; expected a number > 0`);
  const problem = buildPartitionProblem(analyzed.analysis, { localMs: latencies.local.ms, remoteMs: latencies.remote.ms });
  return { problem, options: { network: link.network, radio: link.radio, device: devicePowerFor(power, ep), serverLoad } };
}

/** The DAG partition (minimum s-t cut) for these latencies, link and load: which layers run on the device, and its cost. */
export function predictDagPartition(
  analyzed: AnalyzedModel,
  latencies: GatheredLatencies,
  link: NetworkPreset,
  serverLoad: number,
  objective: Objective,
  ep: ExecutionProviderName,
  power: DevicePowerProfile = defaultPowerProfile()
): DagPartition {
  const { problem, options } = decisionInputs(analyzed, latencies, link, serverLoad, ep, power);
  return optimalDagPartition(problem, options, objective);
}

/** The Neurosurgeon decision: cost of every cut with these latencies, link and load; the best for `objective`. */
export function predictCuts(
  analyzed: AnalyzedModel,
  latencies: GatheredLatencies,
  link: NetworkPreset,
  serverLoad: number,
  objective: Objective,
  ep: ExecutionProviderName,
  power: DevicePowerProfile = defaultPowerProfile()
): CutPrediction {
  const { problem, options } = decisionInputs(analyzed, latencies, link, serverLoad, ep, power);
  const table = buildCutTable(problem);
  const plan = planCuts(table, options);
  return { plan, table, options, objective, chosen: plan.best[objective], latencies: { local: latencies.local.source, remote: latencies.remote.source } };
}
