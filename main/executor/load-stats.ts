// How busy the executor is, and who may run next. AdmissionGate hands out the
// --max-concurrency execution slots (one per session worker, repository.ts) and keeps at
// most --max-queue requests waiting; beyond that a request is refused (HTTP 503).
// LoadStats keeps the recent completed runs and turns them into the live figures of
// `GET /v2/studio/load`, among them Neurosurgeon's server-load factor K (the planner
// multiplies remote latency by it), computed by the pure function serverLoadFactor.
//
// K means "how much longer would a request sent now take on the server than on an idle
// server". Each completed run's slowdown is (queue_ms + compute_ms) / baseline, the
// baseline being the median compute_ms of recent runs of the same model that ran alone
// (no other run overlapped them) — or that model's fastest recent run when none ran
// alone. Then:
//   idle now (nothing running, nothing queued)  → K = 1: a new request would run alone;
//   otherwise K = max(1, median slowdown of the runs completed in the last few seconds,
//                     1 + queued / maxConcurrency).
// The last term is the queue a new request would wait behind, in units of one run, so K
// rises at once when requests pile up, before any of them completes.
import { median } from '../../app/profiling/trace.js';

export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export class AdmissionAbortedError extends Error {
  override name = 'AdmissionAbortedError';
}

/** A held execution slot: `index` picks the worker; release it exactly once. */
export interface Slot {
  readonly index: number;
  /** How long the request waited for the slot, ms. */
  readonly queuedMs: number;
  /** True once another run shared the executor with this one at any moment. */
  readonly overlapped: boolean;
  release(): void;
}

interface Waiter {
  resolve: (slot: Slot) => void;
  reject: (error: Error) => void;
  since: number;
}

export class AdmissionGate {
  private readonly free: number[];
  private readonly active = new Set<{ overlapped: boolean }>();
  private readonly waiters: Waiter[] = [];
  rejected = 0;

  constructor(
    readonly maxConcurrency: number,
    readonly maxQueue: number
  ) {
    this.free = Array.from({ length: maxConcurrency }, (_, i) => maxConcurrency - 1 - i);
  }

  get inFlight(): number {
    return this.active.size;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** A slot now, or after waiting in line; QueueFullError when the line is full. */
  acquire(signal?: AbortSignal): Promise<Slot> {
    const since = performance.now();
    if (this.free.length > 0) return Promise.resolve(this.grant(since));
    if (this.waiters.length >= this.maxQueue) {
      this.rejected++;
      return Promise.reject(new QueueFullError(`the executor is busy: ${this.inFlight} running, ${this.waiters.length} waiting (--max-queue ${this.maxQueue})`));
    }
    return new Promise<Slot>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, since };
      this.waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const index = this.waiters.indexOf(waiter);
          if (index < 0) return;
          this.waiters.splice(index, 1);
          reject(new AdmissionAbortedError('gave up waiting for an execution slot'));
        },
        { once: true }
      );
    });
  }

  private grant(since: number): Slot {
    const index = this.free.pop() as number;
    const run = { overlapped: false };
    if (this.active.size > 0) {
      run.overlapped = true;
      for (const other of this.active) other.overlapped = true;
    }
    this.active.add(run);
    let released = false;
    return {
      index,
      queuedMs: performance.now() - since,
      get overlapped() {
        return run.overlapped;
      },
      release: () => {
        if (released) return;
        released = true;
        this.active.delete(run);
        this.free.push(index);
        const next = this.waiters.shift();
        if (next) next.resolve(this.grant(next.since));
      }
    };
  }
}

/** One completed inference, as the load figures need it. */
export interface CompletedRun {
  /** Which model ran (its content hash): baselines are per model. */
  model: string;
  queueMs: number;
  computeMs: number;
  /** No other run overlapped it. */
  alone: boolean;
  /** When it finished, ms on performance.now()'s clock. */
  endedAt: number;
}

export interface LoadFactorInput {
  /** Completed runs, oldest first: the recent window for slowdowns, the longer history for baselines. */
  history: readonly CompletedRun[];
  now: number;
  inFlight: number;
  queued: number;
  maxConcurrency: number;
  /** Runs that completed within this many ms count as "now" (default 5000). */
  windowMs?: number;
}

/** Neurosurgeon's K (see the file comment for the definition). Pure. */
export function serverLoadFactor(input: LoadFactorInput): number {
  if (input.inFlight === 0 && input.queued === 0) return 1;
  const windowMs = input.windowMs ?? 5000;
  const queueTerm = 1 + input.queued / input.maxConcurrency;
  const byModel = new Map<string, { alone: number[]; all: number[] }>();
  for (const run of input.history) {
    let entry = byModel.get(run.model);
    if (!entry) byModel.set(run.model, (entry = { alone: [], all: [] }));
    entry.all.push(run.computeMs);
    if (run.alone) entry.alone.push(run.computeMs);
  }
  const slowdowns: number[] = [];
  for (const run of input.history) {
    if (input.now - run.endedAt > windowMs) continue;
    const entry = byModel.get(run.model);
    if (!entry) continue;
    const baseline = entry.alone.length > 0 ? median(entry.alone.slice(-32)) : Math.min(...entry.all);
    if (baseline > 0) slowdowns.push((run.queueMs + run.computeMs) / baseline);
  }
  const observed = slowdowns.length > 0 ? median(slowdowns) : 1;
  return Math.max(1, observed, input.queued > 0 ? queueTerm : 1);
}

export interface Percentiles {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** How many runs they were computed from. */
  count: number;
}

/** `GET /v2/studio/load`. */
export interface ExecutorLoad {
  inFlight: number;
  queued: number;
  maxConcurrency: number;
  maxQueue: number;
  /** Inferences answered with outputs since start. */
  completed: number;
  /** Requests refused with 503: the queue was full, or the in-flight body budget (--max-inflight-mb). */
  rejected: number;
  /** Requests answered 504 because they ran out of time. */
  timedOut: number;
  /** Recent compute time of inferences, ms (the last `count` runs). */
  computeMs: Percentiles;
  /** Recent time spent waiting for a slot, ms. */
  queueMs: Percentiles;
  /** Neurosurgeon's server-load factor K (≥ 1); see main/executor/load-stats.ts. */
  loadFactor: number;
  /** onnxruntime sessions created since start: loading identical model bytes again reuses one. */
  sessionsCreated: number;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), count: sorted.length };
}

const HISTORY = 512;

export class LoadStats {
  private readonly history: CompletedRun[] = [];
  completed = 0;
  timedOut = 0;

  constructor(private readonly gate: AdmissionGate) {}

  record(run: Omit<CompletedRun, 'endedAt'>): void {
    this.completed++;
    this.history.push({ ...run, endedAt: performance.now() });
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
  }

  loadFactor(): number {
    return serverLoadFactor({
      history: this.history,
      now: performance.now(),
      inFlight: this.gate.inFlight,
      queued: this.gate.queued,
      maxConcurrency: this.gate.maxConcurrency
    });
  }

  snapshot(sessionsCreated: number): ExecutorLoad {
    const recent = this.history.slice(-256);
    return {
      inFlight: this.gate.inFlight,
      queued: this.gate.queued,
      maxConcurrency: this.gate.maxConcurrency,
      maxQueue: this.gate.maxQueue,
      completed: this.completed,
      rejected: this.gate.rejected,
      timedOut: this.timedOut,
      computeMs: percentiles(recent.map((r) => r.computeMs)),
      queueMs: percentiles(recent.map((r) => r.queueMs)),
      loadFactor: this.loadFactor(),
      sessionsCreated
    };
  }
}
