// Triton's statistics extension (`GET /v2/models[/M[/versions/V]]/stats`): per model
// version, how many inferences succeeded and failed and where their time went, in Triton's
// own JSON shape so tritonclient's get_inference_statistics reads it as it is:
//   success        from the request's arrival to its answer being ready (receiving the body included)
//   fail           the same for requests that failed once the model was known
//   queue          waiting for an execution slot (--max-concurrency)
//   compute_input  decoding the request and checking it against the model
//   compute_infer  onnxruntime's run
//   compute_output encoding the answer
// Every request is a batch of one (max_batch_size 0), so inference_count equals
// execution_count and batch_stats has one row, batch size 1. The executor has no response
// cache: cache_hit and cache_miss stay zero.

/** Triton's {count, ns} pair. */
export interface StatDuration {
  count: number;
  ns: number;
}

export interface InferStatistics {
  success: StatDuration;
  fail: StatDuration;
  queue: StatDuration;
  compute_input: StatDuration;
  compute_infer: StatDuration;
  compute_output: StatDuration;
  cache_hit: StatDuration;
  cache_miss: StatDuration;
}

/** One entry of Triton's `model_stats`. */
export interface ModelStatistics {
  name: string;
  version: string;
  /** Milliseconds since the epoch of the last inference; 0 before the first. */
  last_inference: number;
  inference_count: number;
  execution_count: number;
  inference_stats: InferStatistics;
  batch_stats: { batch_size: number; compute_input: StatDuration; compute_infer: StatDuration; compute_output: StatDuration }[];
}

/** One successful inference's times, ms. */
export interface InferenceTimes {
  totalMs: number;
  queueMs: number;
  inputMs: number;
  inferMs: number;
  outputMs: number;
}

function zero(): StatDuration {
  return { count: 0, ns: 0 };
}

function add(duration: StatDuration, ms: number): void {
  duration.count += 1;
  duration.ns += Math.max(0, Math.round(ms * 1e6));
}

class VersionStats {
  lastInference = 0;
  readonly stats: InferStatistics = {
    success: zero(),
    fail: zero(),
    queue: zero(),
    compute_input: zero(),
    compute_infer: zero(),
    compute_output: zero(),
    cache_hit: zero(),
    cache_miss: zero()
  };
}

export class ModelStatsBook {
  private readonly versions = new Map<string, VersionStats>();

  private of(name: string, version: number | string): VersionStats {
    const key = `${name}\0${version}`;
    let entry = this.versions.get(key);
    if (!entry) this.versions.set(key, (entry = new VersionStats()));
    return entry;
  }

  success(name: string, version: number | string, times: InferenceTimes): void {
    const entry = this.of(name, version);
    entry.lastInference = Date.now();
    add(entry.stats.success, times.totalMs);
    add(entry.stats.queue, times.queueMs);
    add(entry.stats.compute_input, times.inputMs);
    add(entry.stats.compute_infer, times.inferMs);
    add(entry.stats.compute_output, times.outputMs);
  }

  failure(name: string, version: number | string, totalMs: number): void {
    const entry = this.of(name, version);
    entry.lastInference = Date.now();
    add(entry.stats.fail, totalMs);
  }

  /** Forgets a model's figures (on unload: a reloaded model starts from zero, as in Triton). */
  forget(name: string): void {
    for (const key of [...this.versions.keys()]) if (key.startsWith(`${name}\0`)) this.versions.delete(key);
  }

  /** Triton's entry for one loaded model version (zeros before its first inference). */
  entry(name: string, version: number | string): ModelStatistics {
    const entry = this.versions.get(`${name}\0${version}`) ?? new VersionStats();
    const { stats } = entry;
    const executions = stats.success.count;
    return {
      name,
      version: String(version),
      last_inference: entry.lastInference,
      inference_count: executions,
      execution_count: executions,
      inference_stats: structuredClone(stats),
      batch_stats:
        executions > 0
          ? [{ batch_size: 1, compute_input: { ...stats.compute_input }, compute_infer: { ...stats.compute_infer }, compute_output: { ...stats.compute_output } }]
          : []
    };
  }
}
