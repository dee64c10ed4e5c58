// Where the planner's per-layer latencies come from, for each side (device, server): a
// measured profile (`neurosurgeon profile`), a device profile (`neurosurgeon
// characterize`) from which the paper's regression models predict every layer, or — when
// neither is given — the roofline estimate of a hardware preset. A profile made for
// another model is refused.
import path from 'node:path';
import { estimateLatencies } from '../../app/engine.js';
import { predictProfile } from '../../app/prediction/predict.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type DeviceProfile, type GraphOptimization, type LatencyProfile } from '../../app/profiling/types.js';
import { readFusionRules } from './fusion-probe.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import { checkDeviceProfileShape } from './characterize.js';
import { checkProfileShape, validateProfileFor } from './profiler.js';
import { modelIdentity } from '../model/model-file.js';
import { readJsonFile } from '../files/json-file.js';

export interface SideLatencies {
  ms: number[];
  /** Human-readable: what the numbers are (e.g. "measured on cpu (profile.json)"). */
  source: string;
  /** The latency profile behind them, when there is one (measured or predicted). */
  profile: LatencyProfile | null;
  /** The device profile a prediction was made from. */
  device?: DeviceProfile;
}

/** A device `factor`× slower than the one measured (`--device-slowdown`): every local latency stretched, and the source says so. */
export function slowedDown(side: SideLatencies, factor: number): SideLatencies {
  if (factor === 1) return side;
  return { ...side, ms: side.ms.map((ms) => ms * factor), source: `${side.source} × ${factor} (emulated slower device)` };
}

/**
 * Why `profile`'s latencies will not hold for this process's sessions, which run with
 * `threadsHere` intra-op threads, or null. On this project's 2-core machine a device profile
 * characterised with two threads predicted one-thread runs about 45 % short, while tiny
 * row-parallel layers (a LayerNorm over 128×128) ran 2–3× slower with two threads than one.
 */
export function threadsMismatch(profile: Pick<LatencyProfile, 'threads' | 'predicted'>, label: string, threadsHere: number): string | null {
  if (profile.threads === null || profile.threads === threadsHere) return null;
  const threads = (n: number) => `${n} onnxruntime thread${n === 1 ? '' : 's'}`;
  return `${label} is ${profile.predicted ? 'predicted for' : 'measured with'} ${threads(profile.threads)}, but this device's sessions here run ${threads(threadsHere)} (--threads): its latencies will not match these runs`;
}

export class LatencySourceError extends Error {
  override name = 'LatencySourceError';
}

/**
 * Latencies of every layer from a profile file (measured or device profile). A device
 * profile's prediction is for `optimization` (default the executor's 'all': the layers
 * grouped into the kernels onnxruntime fuses them into, by resources/fusion-rules.json).
 */
export async function latenciesFromFile(analyzed: AnalyzedModel, file: string, options: { optimization?: GraphOptimization } = {}): Promise<SideLatencies> {
  const json = await readJsonFile(file, (message) => new LatencySourceError(message));
  const kind = (json as { kind?: unknown })?.kind;
  const label = path.basename(file);
  if (kind === 'latency-profile') {
    const profile = checkProfileShape(json, label);
    validateProfileFor(profile, analyzed, label);
    return { ms: profile.layers.map((l) => l.medianMs), source: `${profile.predicted ? 'predicted' : 'measured'} on ${profile.ep} (${label})`, profile };
  }
  if (kind === 'device-profile') {
    const device: DeviceProfile = checkDeviceProfileShape(json, label);
    const optimization = options.optimization ?? DEFAULT_GRAPH_OPTIMIZATION;
    const profile = predictProfile(analyzed.analysis, analyzed.model, device, modelIdentity(analyzed), { optimization, rules: await readFusionRules() });
    const fallback = profile.layers.filter((l) => l.method === 'roofline').length;
    return {
      ms: profile.layers.map((l) => l.medianMs),
      source: `predicted for ${device.ep} at ${optimization} on ${device.device.cpu} (${label}${fallback ? `; ${fallback} layers by roofline` : ''})`,
      profile,
      device
    };
  }
  throw new LatencySourceError(`${label}: not a latency profile or device profile (kind is ${JSON.stringify(kind ?? null)})`);
}

export interface LatencyRequest {
  localFile?: string;
  remoteFile?: string;
  devicePreset: string;
  serverPreset: string;
}

export async function resolveLatencies(analyzed: AnalyzedModel, request: LatencyRequest): Promise<{ local: SideLatencies; remote: SideLatencies }> {
  let estimate: ReturnType<typeof estimateLatencies> | null = null;
  const estimated = () => {
    try {
      estimate ??= estimateLatencies(analyzed.analysis, request.devicePreset, request.serverPreset);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    return estimate;
  };
  const local = request.localFile
    ? await latenciesFromFile(analyzed, request.localFile)
    : { ms: estimated().localMs, source: `estimated (${request.devicePreset} roofline)`, profile: null };
  const remote = request.remoteFile
    ? await latenciesFromFile(analyzed, request.remoteFile)
    : { ms: estimated().remoteMs, source: `estimated (${request.serverPreset} roofline)`, profile: null };
  return { local, remote };
}
