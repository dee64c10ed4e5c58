// Per-layer latency documents: a measured profile (onnxruntime's own per-node timings on
// one execution provider), a device profile (the paper's per-layer-type regression
// models fitted from a sweep), and a predicted profile made from a device profile. The
// planner takes any of them — or a mix, layer by layer — as its latencies.

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

export interface DeviceInfo {
  hostname: string;
  os: string;
  arch: string;
  cpu: string;
  cpuCores: number;
  memoryBytes: number;
  /** GPU name where one is known (e.g. from the provider or nvidia-smi); null otherwise. */
  gpu: string | null;
}

export interface LayerTiming {
  index: number;
  name: string;
  op: string;
  /** Execution provider that ran this node, as onnxruntime reports it (e.g. 'CPUExecutionProvider'); null when not observed. */
  provider: string | null;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  outputBytes: number | null;
  /** Present (true) on predicted profiles. */
  predicted?: boolean;
  /** How a measured layer got its time: its own kernel, a share of a fused kernel, or none (folded away at load). */
  attribution?: 'measured' | 'fused' | 'folded';
  /** How a predicted layer was predicted: the fitted regression of its type, or the roofline fallback (flagged). */
  method?: 'regression' | 'roofline';
}

export interface ModelIdentity {
  file: string;
  /** SHA-256 of the model file's bytes: profiles are refused for any other model. */
  sha256: string;
  nodes: number;
}

export interface LatencyProfile {
  schemaVersion: 1;
  kind: 'latency-profile';
  model: ModelIdentity;
  device: DeviceInfo;
  ep: ExecutionProviderName;
  /** The provider the user asked for, when it differs from `ep` (CPU fallback). */
  requestedEp?: ExecutionProviderName;
  /** Why the requested provider could not be used. */
  fallbackReason?: string;
  predicted: boolean;
  /** 'disabled' maps timings to the original nodes one to one; 'all' attributes fused kernels to the nodes they replaced. */
  graphOptimization: 'disabled' | 'all';
  runs: number;
  warmup: number;
  /** Median whole-model run time without profiling, ms (null for predicted profiles). */
  wholeModelMs: number | null;
  sumOfMediansMs: number;
  date: string;
  layers: LayerTiming[];
}

/** latency = intercept + Σ coefficient_i × g(feature_i), g = identity ('linear') or ln(1 + x) ('log'). */
export interface RegressionFit {
  layerType: string;
  form: 'linear' | 'log';
  features: string[];
  coefficients: number[];
  intercept: number;
  r2: number;
  samples: number;
}

export interface LayerSample {
  layerType: string;
  /** Feature values by name (the paper's: e.g. conv 'inputSize', 'filterStrideSquaredTimesFilters'). */
  features: Record<string, number>;
  ms: number;
  /** The configuration that produced it, for resuming a sweep and for inspection. */
  config: string;
}

export interface DeviceProfile {
  schemaVersion: 1;
  kind: 'device-profile';
  device: DeviceInfo;
  ep: ExecutionProviderName;
  date: string;
  budgetS: number;
  elapsedS: number;
  /** Configurations measured so far (a resumed sweep continues from these). */
  configurations: number;
  complete: boolean;
  /** Per-run cost outside the kernels (session.run on a one-float Identity model), ms: not in the samples; add it once to a predicted whole-model time. */
  overheadMs: number;
  fits: RegressionFit[];
  samples: LayerSample[];
}
