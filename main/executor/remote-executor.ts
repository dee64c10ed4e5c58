// What the split runner, sweeps and split prediction need of an executor: the few calls of
// ExecutorClient (client.ts) they use, so tests and the bench can hand in any executor.
import type { LatencyProfile } from '../../app/profiling/types.js';
import type { BuildSpec, ForwardOptions, ForwardTimings, InferOutcome, LinkMeasurement } from './client.js';
import type { RawTensor } from './link.js';

/**
 * The longest a best-effort call after a failure (unloading a tail) may wait: when the
 * executor is what failed, it must not cost a whole --timeout-ms again.
 */
export const BEST_EFFORT_TIMEOUT_MS = 2000;

/** What the split runner needs of an executor (ExecutorClient in main/executor/client.ts). */
export interface RemoteExecutor {
  readonly url: string;
  uploadModel(bytes: Uint8Array, options?: { name?: string }): Promise<{ name: string; sha256: string; uploaded: boolean }>;
  /** `timeoutMs` bounds a best-effort unload (cleanup after a failure must not wait a whole timeout again). */
  /** Upload a model once (studio_sources): the executor keeps these bytes; null where it cannot. */
  ensureSource?(bytes: Uint8Array, knownSha256?: string): Promise<{ sha256: string; uploaded: boolean } | null>;
  /** Loads a part the executor builds from a kept model, checked against `spec.sha256` (409 when it differs). */
  buildModel?(name: string, spec: BuildSpec): Promise<{ name: string; sha256: string }>;
  unloadModel(model: string, options?: { timeoutMs?: number }): Promise<void>;
  /** `compress`: the request body sent with that Content-Encoding (a `+deflate` wire encoding). */
  infer(model: string, inputs: RawTensor[], options?: { outputs?: string[]; id?: string; compress?: 'gzip' | 'deflate' }): Promise<InferOutcome>;
  /** `optimization` matches the profile to how the executor serves (onnxruntime level 'all'). */
  profile(model: string, options?: { runs?: number; warmup?: number; minTimeMs?: number; optimization?: 'disabled' | 'all' }): Promise<LatencyProfile>;
  load(): Promise<{ loadFactor: number }>;
  measureLink(options?: { probeBytes?: number; rounds?: number }): Promise<LinkMeasurement>;
}

/** A device executor (device.ts): an executor that also runs heads and forwards to its upstream server. */
export interface DeviceExecutor extends RemoteExecutor {
  forward(inputs: RawTensor[], options: ForwardOptions): Promise<{ outputs: RawTensor[]; timings: ForwardTimings }>;
}
