// app/fleet/ — the pure half of `neurosurgeon fleet` (main/fleet/ runs it): the datacenter's
// side of Neurosurgeon, its Figure 16. Many emulated mobile clients send open-loop Poisson
// queries to one Open Inference Protocol executor; each client has a network, a model and a
// policy (cloud-only, Neurosurgeon, load-aware). Here: the report's types (shared by the
// CLI, the bench, the studio's contract and its Throughput view), Poisson arrivals
// (arrivals.ts), network mixes (mix.ts), the policies' cut choice (policy.ts) and the
// statistics — percentiles, throughput at a latency objective, the knee (stats.ts).

/** How a client chooses its cut: always the whole model remotely, its own best split, or its best split for the executor's current load. */
export type FleetPolicy = 'cloud-only' | 'neurosurgeon' | 'load-aware';

export const FLEET_POLICIES: readonly FleetPolicy[] = ['cloud-only', 'neurosurgeon', 'load-aware'];

export function isFleetPolicy(name: string): name is FleetPolicy {
  return (FLEET_POLICIES as readonly string[]).includes(name);
}

/** p50/p95/p99 of a set of latencies, ms (null when there were none). */
export interface LatencyPercentiles {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  count: number;
}

/** One arrival rate of one policy: what the clients saw and what the server did. */
export interface FleetPoint {
  policy: FleetPolicy;
  /** Offered load: Poisson arrivals per second over all clients. */
  arrivalRate: number;
  /** Measured window, s (arrivals in it are counted; the warm-up before it is not). */
  windowS: number;
  /** Queries that arrived in the window. */
  offered: number;
  /** Of those, answered (or run wholly on the device). */
  completed: number;
  /** Refused by the executor with 503 (queue or body budget full). */
  rejected: number;
  /** Other failures (timeouts, 5xx, closed connections). */
  failed: number;
  /** Still unanswered when the drain limit ended the point. */
  unfinished: number;
  /** Queries answered per second: the arrival rate times the share of the window's queries answered (wholly local queries count: they cost the datacenter nothing). */
  throughputQps: number;
  /** Share of completed queries that ran wholly on the device. */
  localOnlyShare: number;
  /** Mean cut over completed queries, as a share of each model's layers (0 cloud-only, 1 device-only). */
  meanCutShare: number;
  /** End-to-end latency (device time, transfers, server) of completed queries. */
  endToEndMs: LatencyPercentiles | null;
  /** The server's part: from the request's last byte sent to the answer's first byte (queue + compute + protocol), of queries that reached it. */
  serverMs: LatencyPercentiles | null;
  /** Mean wait in the executor's queue over the window, from its statistics (null when it reports none). */
  queueWaitMs: number | null;
  /** Mean server-load factor K the clients saw (from the statistics endpoint). */
  meanLoadFactor: number;
  /** Executor process CPU seconds per completed query (null when its process cannot be read). */
  serverCpuSecondsPerQuery: number | null;
  /** The load generator's own CPU per arrived query, ms (process.cpuUsage of the generator). */
  generatorCpuMsPerQuery: number;
  /** Generator CPU over the window, as a share of one core. */
  generatorCpuShare: number;
  /** How late, at p95, arrivals were dispatched against their Poisson schedule, ms: a generator that cannot keep up shows it here. */
  dispatchLagP95Ms: number;
}

export interface FleetObjective {
  /** Latency the p95 must stay within, ms. */
  p95Ms: number;
  /** Which latency the objective bounds: the server's part (network-independent, the default) or end-to-end. */
  scope: 'server' | 'end-to-end';
  /** Largest share of offered queries that may be rejected or fail while meeting the objective. */
  maxErrorShare: number;
}

/** A policy's sweep and what it says at the objective. */
export interface FleetPolicyResult {
  policy: FleetPolicy;
  points: FleetPoint[];
  /** Throughput at the highest load meeting the objective (interpolated between sweep points), qps; 0 when none meets it. */
  throughputAtObjective: number;
  /** The arrival rate where the objective stops being met (interpolated); null when every swept rate meets it. */
  kneeRate: number | null;
}

export interface FleetClientSummary {
  network: string;
  model: string;
  count: number;
  /** The cut Neurosurgeon gives this model on this network at K = 1, and its layer count. */
  neurosurgeonCut: number;
  layers: number;
}

export interface FleetReport {
  executor: string;
  /** 'started' when fleet started its own executor on loopback, 'given' for --executor URL. */
  executorKind: 'started' | 'given';
  clients: number;
  networkMix: Record<string, number>;
  models: string[];
  deviceSlowdown: number;
  objective: FleetObjective;
  seed: number;
  clientGroups: FleetClientSummary[];
  policies: FleetPolicyResult[];
  /** throughputAtObjective of each policy over cloud-only's (null when cloud-only met the objective nowhere). */
  gainsOverCloudOnly: Partial<Record<FleetPolicy, number | null>>;
  /** Load-aware over Neurosurgeon at Neurosurgeon's knee: throughput ratio at that arrival rate (null when either is missing). */
  loadAwareAtKnee: { arrivalRate: number; throughputRatio: number; p95Ratio: number | null } | null;
  generator: {
    /** Generator CPU per arrived query, ms, over every point. */
    cpuMsPerQuery: number;
    /** Highest share of one core the generator used at any point. */
    peakCpuShare: number;
  };
  /** Lines worth reading first (overload, a generator that could not keep up). */
  notes: string[];
}

/** What the studio and the CLI ask of a fleet run. */
export interface FleetRequest {
  clients: number;
  /** Networks and their weights, e.g. { wifi: 1 } or { wifi: 0.5, lte: 0.3, '3g': 0.2 }. */
  networkMix: Record<string, number>;
  /** Zoo model ids (default: the paper's eight). */
  models: string[];
  policies: FleetPolicy[];
  /** Arrival rates swept, queries per second over all clients. */
  rates: number[];
  /** Seconds of arrivals per rate (a fifth of it, at most 2 s, is warm-up and not counted). */
  durationS: number;
  /**
   * After the swept rates, this many more points per policy, each halving the bracket
   * between the last rate that met the objective and the first that did not (as Triton's
   * perf_analyzer searches with a latency threshold): the throughput at the objective to
   * a finer rate than the sweep's steps. 0 (the default): the swept rates only.
   */
  refineSteps?: number;
  deviceSlowdown: number;
  objective: FleetObjective;
  seed: number;
}

/** At most this many refinement points per policy (each halves the bracket: 6 narrow it 64-fold). */
export const MAX_REFINE_STEPS = 6;

/** The paper's eight networks, as the zoo names them. */
export const PAPER_MODELS: readonly string[] = ['alexnet', 'vgg16', 'deepface', 'lenet', 'kaldi-asr', 'senna-pos', 'senna-ner', 'senna-chk'];
