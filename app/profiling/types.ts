// Per-layer latency documents: a measured profile (onnxruntime's own per-node timings on
// one execution provider), a device profile (the paper's per-layer-type regression
// models fitted from a sweep), and a predicted profile made from a device profile. The
// planner takes any of them — or a mix, layer by layer — as its latencies.

export type ExecutionProviderName = 'cpu' | 'webgpu' | 'cuda' | 'dml' | 'coreml';

export const EXECUTION_PROVIDERS: readonly ExecutionProviderName[] = ['cpu', 'webgpu', 'cuda', 'dml', 'coreml'];

/** onnxruntime's graph optimisation level: none, or every optimisation (fusions, constant folding, layouts). */
export type GraphOptimization = 'disabled' | 'all';

/**
 * The level every measured profile, split run and executor session uses unless told
 * otherwise: the one the executor serves with ('all'), so a profile describes the model as
 * it actually runs on either side. Characterisation is the exception (DeviceProfile).
 */
export const DEFAULT_GRAPH_OPTIMIZATION: GraphOptimization = 'all';

/** Timed and warm-up runs of a profile unless told otherwise — the CLI's, the studio's and the executor's alike. */
export const DEFAULT_PROFILE_RUNS = 20;
export const DEFAULT_PROFILE_WARMUP = 3;

/** p10 and p90 of a profile's timed whole runs, ms: how steady the machine was while it measured. */
export interface RunSpread {
  p10Ms: number;
  p90Ms: number;
}

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
  /** Measured layers: the median before the profiler's per-kernel overhead was taken off (see LatencyProfile.profilerOverheadMsPerKernel). */
  rawMedianMs?: number;
  outputBytes: number | null;
  /** Present (true) on predicted profiles. */
  predicted?: boolean;
  /** How a measured layer got its time: its own kernel, a share of a fused kernel, or none (folded away at load). */
  attribution?: 'measured' | 'fused' | 'folded';
  /** How a predicted layer was predicted: the fitted regression of its type, or the roofline fallback (flagged). */
  method?: 'regression' | 'roofline';
  /**
   * Predicted layers of a fused kernel: the fusion rule (app/prediction/fusion.ts) whose
   * kernel's time this layer shares; 'eliminated' where onnxruntime runs no kernel for it
   * (app/prediction/eliminated.ts).
   */
  kernel?: string;
}

export interface ModelIdentity {
  file: string;
  /** SHA-256 of the model file's bytes: profiles are refused for any other model. */
  sha256: string;
  nodes: number;
}

/**
 * A per-layer latency profile. Schema 2: `layers` are the analysis's layers (weight-only
 * nodes folded into the layers that read them, app/analysis/weights.ts); schema 1 listed
 * every node and is refused.
 */
export interface LatencyProfile {
  schemaVersion: 2;
  kind: 'latency-profile';
  model: ModelIdentity;
  device: DeviceInfo;
  ep: ExecutionProviderName;
  /** The provider the user asked for, when it differs from `ep` (CPU fallback). */
  requestedEp?: ExecutionProviderName;
  /** Why the requested provider could not be used. */
  fallbackReason?: string;
  predicted: boolean;
  /**
   * The graph optimisation level it ran at ('disabled' maps timings to the original nodes
   * one to one; 'all' attributes fused kernels to the nodes they replaced). Predicted
   * profiles: the level their device profile was characterised at.
   */
  graphOptimization: GraphOptimization;
  /**
   * onnxruntime intra-op threads the sessions ran with (set explicitly, see
   * main/profiling/providers.ts intraOpThreads). Null: not known (a predicted profile from
   * a device profile that did not record it, or a file written before it was recorded).
   */
  threads: number | null;
  runs: number;
  warmup: number;
  /**
   * Typical whole-model run time without profiling, ms (null for predicted profiles): the
   * mean of the middle half of the timed runs (the median of fewer than four). On a quiet
   * machine it is the median within a few per cent; under load, when runs fall into two
   * groups (preempted or not), it is far steadier than the median.
   */
  wholeModelMs: number | null;
  /**
   * Spread of the timed whole-model runs (null for predicted profiles and files written
   * before it was recorded); app/profiling/stability.ts flags a profile whose p90/p10 is
   * beyond its bound.
   */
  wholeModelSpread: RunSpread | null;
  /**
   * Σ layers' medianMs. Measured profiles: the layers' medians are scaled by `layerScale`
   * so they add up to the typical profiled run, as wholeModelMs is typical of the plain
   * ones (medians do not add up: under load each layer's median misses the runs where it
   * was preempted, the run's total does not).
   */
  sumOfMediansMs: number;
  /**
   * Measured profiles: the typical profiled run's total (same statistic as wholeModelMs)
   * over the sum of the layers' own medians (≈ 1 on a quiet machine, above 1 when runs were
   * preempted); each layer's medianMs, p10Ms and p90Ms are its own times × this. Absent:
   * not scaled.
   */
  layerScale?: number;
  /**
   * Per-run cost outside every layer, ms: session.run binding the inputs and returning the
   * outputs. A whole run ≈ sumOfMediansMs + runOverheadMs. Measured profiles: the plain run
   * time of a model with the same inputs and outputs and no work; predicted profiles: the
   * device profile's `overheadMs`. Absent in profiles written before it was recorded.
   */
  runOverheadMs?: number;
  /**
   * What onnxruntime's profiler adds to each kernel event on this machine, ms (its own
   * bookkeeping inside the timed interval, a few µs per kernel on a CPU): calibrated
   * when the profile is made (main/profiling/profiler.ts) and already taken off every layer's time.
   * Absent: not corrected (predicted profiles, and profiles written before it was recorded).
   */
  profilerOverheadMsPerKernel?: number;
  /** Sum of the layers' `rawMedianMs` (before the per-kernel correction), ms. */
  rawSumOfMediansMs?: number;
  date: string;
  layers: LayerTiming[];
  /** Predicted profiles: per layer type, the predicted time and the device profile's cross-validated error for it (app/prediction/errors.ts). */
  predictionErrors?: TypePredictionError[];
}

/** How much slower a layer type runs inside a network (at least 1), for layers whose `sizeFeature` is at most `upTo`. */
export interface ContextFactor {
  factor: number;
  sizeFeature: string;
  upTo: number;
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
  /**
   * A size class: the fit holds for layers whose feature `sizeFeature` is at least
   * `sizeFrom` and below `sizeTo` (an absent bound is open). Absent: the layer type's only
   * fit. A type split into classes lists one fit per class, smallest first.
   */
  sizeFeature?: string;
  sizeFrom?: number;
  sizeTo?: number;
  /** Fitted to kernels timed at this level ('all'), for predictions at it; absent: the profile's own level. */
  level?: GraphOptimization;
}

export interface LayerSample {
  layerType: string;
  /** Feature values by name (the paper's: e.g. conv 'inputSize', 'filterStrideSquaredTimesFilters'). */
  features: Record<string, number>;
  ms: number;
  /** The median kernel time before the profiler's per-kernel overhead was taken off, ms. */
  rawMs?: number;
  /** The configuration that produced it, for resuming a sweep and for inspection. */
  config: string;
  /** Times the configuration was measured (absent: once); `ms` is the lowest median of them. */
  passes?: number;
  /** The level the kernel was timed at when not the profile's own ('all': the NCHWc kernel, fitted apart). */
  level?: GraphOptimization;
  /** At 'all': the layout reorders onnxruntime ran around the kernel (not in `ms`), each its written bytes and median ms. */
  reorders?: ReorderSample[];
}

/** One NCHWc layout reorder (ReorderInput or ReorderOutput) timed in the sweep. */
export interface ReorderSample {
  bytes: number;
  ms: number;
}

/** The cost of one layout reorder on this device: interceptMs + msPerByte × the bytes it writes, fitted to the sweep's reorders. */
export interface ReorderFit {
  interceptMs: number;
  msPerByte: number;
  samples: number;
}

/** onnxruntime's blocked (NCHWc) layout on a CPU, as main/profiling/fusion-probe.ts probeNchwcLayout finds it. */
export interface NchwcLayout {
  /** Channels per block: 16 with AVX-512, 8 with AVX2. */
  blockSize: number;
  /** The channel multiple a Conv's input (ungrouped) or channels (depthwise) must have to be converted: 4 on onnxruntime 1.30. */
  channelAlignment: number;
  /** What a reorder into or out of the layout costs (app/prediction/nchwc-layout.ts fitReorders); absent until the sweep has timed some. */
  reorder?: ReorderFit;
}

/** One cold-weight probe layer timed alone: its sweep key and its time, ms. */
export interface HotWeightProbe {
  config: string;
  ms: number;
}

/** One probe of the memory's streaming rate during a sweep (main/profiling/streaming-probe.ts). */
export interface StreamingProbe {
  /** Seconds into the sweep (resumed sweeps counted on from where they stopped). */
  atS: number;
  /** The probe layer's weight bytes over its median run, bytes per ms. */
  bytesPerMs: number;
}

export interface DeviceProfile {
  schemaVersion: 1;
  kind: 'device-profile';
  device: DeviceInfo;
  ep: ExecutionProviderName;
  /**
   * The level the grid's configurations were timed at: 'disabled', always. Samples and fits
   * marked `level: 'all'` are NCHWc kernels timed at 'all' (layout reorders left out), which
   * predictions at 'all' use (app/prediction/predict.ts). Absent in files written before it
   * was recorded (they were 'disabled' too).
   */
  graphOptimization?: GraphOptimization;
  /** onnxruntime intra-op threads the configurations were timed with; absent in older files. */
  threads?: number;
  /** The CPUs the characterisation ran pinned to (`--cpus`); absent where it could run on every CPU. */
  cpus?: number[];
  date: string;
  budgetS: number;
  elapsedS: number;
  /** Configurations measured so far (a resumed sweep continues from these). */
  configurations: number;
  complete: boolean;
  /** Per-run cost outside the kernels (session.run on a one-float Identity model), ms: not in the samples; add it once to a predicted whole-model time. */
  overheadMs: number;
  /**
   * What onnxruntime's profiler adds to each kernel event, ms, calibrated at the start of
   * the sweep and taken off every sample (each sample's `rawMs` keeps the uncorrected
   * time). Absent in profiles whose samples are uncorrected (a resumed sweep starts over).
   */
  profilerOverheadMsPerKernel?: number;
  /**
   * onnxruntime's blocked (NCHWc) layout on this CPU, found by testing the runtime at the
   * start of the sweep (main/profiling/fusion-probe.ts probeNchwcLayout): which Conv layers
   * run blocked at 'all' (app/prediction/features.ts runsBlocked), and so are predicted
   * from the kernels timed at 'all'; the others run the plain kernel timed at 'disabled'.
   * Null where the runtime converts no Conv; absent in older profiles (every Conv then
   * counts as blocked).
   */
  nchwcLayout?: NchwcLayout | null;
  /**
   * Layers with weights were timed as copies, each with weights of its own, until the
   * copies' weights filled this many bytes (app/prediction/predict.ts layerReplicas),
   * so that they find their weights outside the core's cache as inside a model. Absent in
   * older profiles, which timed every layer alone (a sweep then starts over).
   */
  replicaWeightBytes?: number;
  /**
   * The features of the Convs timed at 'all' count their channels padded to whole blocks,
   * as the blocked kernel computes them (app/prediction/features.ts kernelFeatures). Absent
   * in older profiles: a sweep resuming one times those samples again.
   */
  blockedChannelsPadded?: boolean;
  /** The largest cache a core has to itself (its L2), bytes, where the OS tells it; null where not. */
  coreCacheBytes?: number | null;
  /**
   * What a layer's weights cost when they come from beyond the core's cache, ms per weight
   * byte: FC layers timed alone (weights kept in the core's cache between runs) and as
   * copies, the difference over their weights (median). Predictions of a model whose
   * weights all fit in that cache take it off (app/prediction/predict.ts). Absent in older
   * profiles.
   */
  coldWeightMsPerByte?: number;
  /**
   * The cold-weight probes' FC layers as timed alone (their weights kept in the core's
   * cache), by sweep key: a bench times them again to tell how much hot weights have slowed
   * since (main/profiling/characterize.ts retimeHotWeights). Absent in older profiles.
   */
  hotWeightProbes?: HotWeightProbe[];
  /**
   * The memory's streaming rate probed every few seconds of the sweep: one-row FC layers
   * beyond the cache are floored at the probes' median (app/prediction/predict.ts
   * weightStreamingBytesPerMs). Absent in older profiles, which take the streamed FC samples'.
   */
  streamingProbes?: StreamingProbe[];
  /**
   * What one kernel of shape arithmetic (Shape, Gather, Concat, … on a few integers) costs
   * inside a network, ms: a generated chain of them run whole against the same network
   * without them (app/prediction/shape-arithmetic.ts). Predictions give it to each such
   * layer in place of its type's fit. Absent in older profiles.
   */
  shapeArithmeticMsPerKernel?: number;
  /**
   * What a kernel timed alone, as the sweep times its samples, pays that the same kernel
   * does not among others in a network, ms: probe ops alone against their cost in a chain
   * run whole (app/prediction/lone-kernel.ts). Predictions take it off each fitted layer,
   * shared among the copies the sweep timed. Absent in older profiles (nothing taken off).
   */
  loneKernelExcessMs?: number;
  /**
   * Per layer type, how much slower its layers run inside a network than alone in the sweep:
   * generated networks profiled at the end of the characterisation, measured over what the
   * fits predict for them (app/prediction/context.ts). Predictions multiply each layer of
   * the type no larger than the networks' by it. Absent in older profiles and for types
   * without one.
   */
  contextFactors?: Partial<Record<string, ContextFactor>>;
  /**
   * The same at 'all', from the networks profiled at that level (its kernels, fused and in
   * the blocked layout), which predictions at 'all' take in place of `contextFactors`.
   * Absent in older profiles, whose predictions at 'all' take `contextFactors`.
   */
  contextFactorsAtAll?: Partial<Record<string, ContextFactor>>;
  /**
   * What the context factors were found from, per level: each calibration network's layers'
   * lowest medians, ms (null for a layer no pass timed), in calibrationNetworks(level)'s
   * order and layer order. Kept so that
   * the factors can be found again against new fits (`neurosurgeon refit`). Absent in older
   * profiles, whose refit keeps their factors.
   */
  contextTimes?: Partial<Record<GraphOptimization, (number | null)[][]>>;
  fits: RegressionFit[];
  /** Per fitted layer type: how well its fits predict samples they were not fitted to (5-fold cross-validation); absent in older files. */
  typeErrors?: LayerTypeError[];
  samples: LayerSample[];
}

/** Per layer type of a predicted profile: its layers' predicted time, and how far the device profile says such predictions may be off. */
export interface TypePredictionError {
  /** A layer type of app/prediction/features.ts, or 'roofline' for layers of no fitted type. */
  layerType: string;
  layers: number;
  predictedMs: number;
  /** Of the model's predicted layer time. */
  share: number;
  /** The device profile's cross-validated median and mean relative error for the type; null for roofline layers or an older profile. */
  medianError: number | null;
  meanError: number | null;
  /** Sweep samples behind the type's fits. */
  samples: number | null;
}

/** A layer type's cross-validated prediction error on the sweep's own samples. */
export interface LayerTypeError {
  layerType: string;
  /** Errors of the fits for kernels at this level ('all'); absent: the profile's own level. */
  level?: GraphOptimization;
  samples: number;
  /** Of them, configurations the adaptive phase added where this type's error was highest. */
  adaptiveSamples: number;
  /** Median and mean of |predicted − measured| / measured over the held-out samples. */
  medianError: number;
  meanError: number;
  /** The same with the local correction (app/prediction/local-correction.ts), present where predictions correct this type; absent in older files. */
  corrected?: { medianError: number; meanError: number };
}
