// Real split runs, the paper's runtime: cut a model at topological cut K (surgery.ts), run
// the head here with onnxruntime-node, ship the crossing tensors to the executor through
// the client (shaped to the chosen network), get the tail's outputs back, and check them
// against a full local run. SplitRunner opens the model once (full-model session, seeded
// inputs, reference outputs); PreparedSplit holds one cut (head session, tail uploaded)
// and times runs of it. `neurosurgeon run` (runSplit) and `sweep` (sweep.ts) use both.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { median } from '../../app/profiling/trace.js';
import type { ExecutionProviderName } from '../../app/profiling/types.js';
import type { Objective } from '../../app/partition/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import type { LinkShaper } from '../executor/link.js';
import { realClock, shaperFor } from '../executor/shaper.js';
import { BEST_EFFORT_TIMEOUT_MS, type RemoteExecutor } from '../executor/remote-executor.js';
import { generateInputs } from '../model/inputs.js';
import { inlineExternalData } from '../model/model-file.js';
import { fromRawTensor, toRawTensor } from '../executor/ort-tensors.js';
import { sessionOptionsFor, type ProviderChoice } from '../profiling/providers.js';
import { firstLine } from '../errors/user-errors.js';
import { gatherLatencies, predictCuts, resolveLink, sanitizeModelName, type CutPrediction, type LinkChoice, type NetworkRequest } from './split-prediction.js';
import { encodeSplit, splitModel, type CrossingTensor } from './surgery.js';

export class SplitRunError extends Error {
  override name = 'SplitRunError';
}

export type Feeds = Record<string, ort.Tensor>;

/** Where the time of one split run went, ms, and what crossed the link, bytes. */
export interface SplitRunTiming {
  localMs: number;
  encodeMs: number;
  uploadMs: number;
  /** Compute time the executor reported; null when it reports none. */
  remoteMs: number | null;
  downloadMs: number;
  totalMs: number;
  bytesUp: number;
  bytesDown: number;
}

export interface OutputCheck {
  /** Largest |split − full| over every element of every model output. */
  maxAbsDiff: number;
  /** maxAbsDiff over the largest |full| of the same output (worst output). */
  maxRelDiff: number;
  ok: boolean;
  /** Outputs missing, of another shape or type, or beyond tolerance. */
  mismatches: string[];
}

export interface CutMeasurement {
  cut: number;
  runs: SplitRunTiming[];
  median: SplitRunTiming;
  outputCheck: OutputCheck;
}

export interface SplitRunnerOptions {
  ep?: ExecutionProviderName;
  allowCpuFallback?: boolean;
  /** onnxruntime graph optimisation for the local sessions (default 'disabled', as `profile`). */
  optimization?: 'disabled' | 'all';
  seed?: number;
  dimValues?: Record<string, number>;
  /**
   * Emulates a device this many times slower than this machine (default 1): each head run
   * is stretched to that multiple of its measured time, as the shaper stretches transfers.
   */
  deviceSlowdown?: number;
}

/** The runner's options out of a run's or a sweep's request (both carry these fields). */
export function runnerOptionsOf(request: Omit<SplitRunnerOptions, 'optimization'>): SplitRunnerOptions {
  return { ep: request.ep, allowCpuFallback: request.allowCpuFallback, seed: request.seed, dimValues: request.dimValues, deviceSlowdown: request.deviceSlowdown };
}

/** Two floats agree when |a − b| ≤ tolerance × max(1, largest |expected| of that output). */
export const OUTPUT_TOLERANCE = 1e-4;

function compareOutputs(expected: Feeds, actual: Feeds): OutputCheck {
  const check: OutputCheck = { maxAbsDiff: 0, maxRelDiff: 0, ok: true, mismatches: [] };
  for (const [name, reference] of Object.entries(expected)) {
    const got = actual[name];
    if (!got || got.type !== reference.type || got.dims.join() !== reference.dims.join()) {
      check.mismatches.push(name);
      check.maxAbsDiff = Infinity;
      check.maxRelDiff = Infinity;
      continue;
    }
    if (reference.type === 'string') {
      const same = (reference.data as string[]).every((value, i) => value === (got.data as string[])[i]);
      if (!same) check.mismatches.push(name);
      continue;
    }
    const a = reference.data as ArrayLike<number | bigint>;
    const b = got.data as ArrayLike<number | bigint>;
    let abs = 0;
    let scale = 0;
    let nanMismatch = false;
    for (let i = 0; i < a.length; i++) {
      const x = Number(a[i]);
      const y = Number(b[i]);
      if (Number.isNaN(x) || Number.isNaN(y)) {
        nanMismatch ||= Number.isNaN(x) !== Number.isNaN(y);
        continue;
      }
      abs = Math.max(abs, Math.abs(x - y));
      scale = Math.max(scale, Math.abs(x));
    }
    check.maxAbsDiff = Math.max(check.maxAbsDiff, nanMismatch ? Infinity : abs);
    check.maxRelDiff = Math.max(check.maxRelDiff, nanMismatch ? Infinity : abs / Math.max(scale, 1e-12));
    if (nanMismatch || abs > OUTPUT_TOLERANCE * Math.max(1, scale)) check.mismatches.push(name);
  }
  check.ok = check.mismatches.length === 0;
  return check;
}

function mergeChecks(checks: OutputCheck[]): OutputCheck {
  const mismatches = [...new Set(checks.flatMap((c) => c.mismatches))];
  return {
    maxAbsDiff: Math.max(0, ...checks.map((c) => c.maxAbsDiff)),
    maxRelDiff: Math.max(0, ...checks.map((c) => c.maxRelDiff)),
    ok: mismatches.length === 0,
    mismatches
  };
}

export function medianTiming(runs: readonly SplitRunTiming[]): SplitRunTiming {
  const of = (pick: (run: SplitRunTiming) => number) => median(runs.map(pick));
  const remote = runs.map((r) => r.remoteMs).filter((v): v is number => v !== null);
  return {
    localMs: of((r) => r.localMs),
    encodeMs: of((r) => r.encodeMs),
    uploadMs: of((r) => r.uploadMs),
    remoteMs: remote.length === runs.length && runs.length > 0 ? median(remote) : null,
    downloadMs: of((r) => r.downloadMs),
    totalMs: of((r) => r.totalMs),
    bytesUp: of((r) => r.bytesUp),
    bytesDown: of((r) => r.bytesDown)
  };
}

export function checkSlowdown(factor: number): number {
  if (!(Number.isFinite(factor) && factor >= 1)) throw new UsageError(`the device slowdown must be a number ≥ 1, got ${factor}`);
  return factor;
}

function ortMessage(error: unknown): string {
  return firstLine(error).replace(/^Error:\s*/, '').replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '');
}

/** One model opened for split runs: its full-model session, seeded inputs and the outputs to match. */
export class SplitRunner {
  private constructor(
    readonly analyzed: AnalyzedModel,
    readonly provider: ProviderChoice,
    private readonly sessionOptions: ort.InferenceSession.SessionOptions,
    readonly inputs: Feeds,
    readonly expected: Feeds,
    private readonly fullSession: ort.InferenceSession,
    readonly deviceSlowdown: number
  ) {}

  static async open(analyzed: AnalyzedModel, options: SplitRunnerOptions = {}): Promise<SplitRunner> {
    const deviceSlowdown = checkSlowdown(options.deviceSlowdown ?? 1);
    const provider = await sessionOptionsFor(options.ep ?? 'cpu', { allowCpuFallback: options.allowCpuFallback });
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      ...provider.sessionOptions,
      graphOptimizationLevel: options.optimization ?? 'disabled',
      logSeverityLevel: 3,
      // onnxruntime's worker threads spin for a while after each run by default; while
      // the executor computes the tail (or another session runs) that spinning steals its
      // CPU — 2–4× slower alternating runs on a 2-core machine. A split run waits anyway.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } }
    };
    inlineExternalData(analyzed);
    const inputs = generateInputs(analyzed.model, { seed: options.seed, dimValues: options.dimValues });
    const file = path.basename(analyzed.path);
    let fullSession: ort.InferenceSession;
    try {
      fullSession =
        analyzed.model.externalData.length > 0
          ? await ort.InferenceSession.create(analyzed.path, sessionOptions)
          : await ort.InferenceSession.create(analyzed.bytes, sessionOptions);
    } catch (error) {
      throw new SplitRunError(`onnxruntime cannot open ${file} on ${provider.used}: ${ortMessage(error)}`);
    }
    let expected: Feeds;
    try {
      expected = await fullSession.run(inputs);
    } catch (error) {
      await fullSession.release();
      throw new SplitRunError(`onnxruntime cannot run ${file} on ${provider.used}: ${ortMessage(error)}`);
    }
    return new SplitRunner(analyzed, provider, sessionOptions, inputs, expected, fullSession, deviceSlowdown);
  }

  get nodeCount(): number {
    return this.analyzed.analysis.layers.length;
  }

  get modelName(): string {
    return path.basename(this.analyzed.path);
  }

  /** Times of plain runs of the whole model in one onnxruntime session: the baseline of the split machinery. */
  async timeWholeModel(runs: number, warmup = 1): Promise<number[]> {
    for (let i = 0; i < warmup; i++) await this.fullSession.run(this.inputs);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await this.fullSession.run(this.inputs);
      times.push(performance.now() - start);
    }
    return times;
  }

  checkCut(cut: number): void {
    if (!Number.isInteger(cut) || cut < 0 || cut > this.nodeCount) {
      throw new UsageError(`cut ${cut} is out of range: ${this.modelName} has ${this.nodeCount} nodes (cuts 0..${this.nodeCount})`);
    }
  }

  /**
   * Cuts the model at `cut`, opens the head's session and uploads the tail to `remote`
   * (which may be null only for cut N, where nothing runs remotely).
   */
  async prepare(cut: number, remote: RemoteExecutor | null): Promise<PreparedSplit> {
    this.checkCut(cut);
    const parts = splitModel(this.analyzed.model, this.analyzed.analysis, new Set(Array.from({ length: cut }, (_, i) => i)));
    const encoded = encodeSplit(parts);
    let head: ort.InferenceSession | null = null;
    if (encoded.head) {
      try {
        head = await ort.InferenceSession.create(encoded.head, this.sessionOptions);
      } catch (error) {
        throw new SplitRunError(`onnxruntime cannot open the head of ${this.modelName} at cut ${cut}: ${ortMessage(error)}`);
      }
    }
    let tailName: string | null = null;
    if (encoded.tail) {
      if (!remote) {
        await head?.release();
        throw new SplitRunError(`cut ${cut} runs part of ${this.modelName} remotely: an executor is needed`);
      }
      try {
        const stem = path.basename(this.analyzed.path, '.onnx');
        tailName = (await remote.uploadModel(encoded.tail, { name: sanitizeModelName(`${stem}-tail-${cut}`) })).name;
      } catch (error) {
        await head?.release();
        throw error;
      }
    }
    return new PreparedSplit(this, cut, head, tailName, parts.crossing, parts.outputs.filter((o) => o.from === 'tail').map((o) => o.name), remote);
  }

  async release(): Promise<void> {
    await this.fullSession.release();
  }
}

/** One cut, ready to run: the head's session here, the tail loaded on the executor. */
export class PreparedSplit {
  constructor(
    private readonly runner: SplitRunner,
    readonly cut: number,
    private readonly head: ort.InferenceSession | null,
    readonly tailName: string | null,
    readonly crossing: CrossingTensor[],
    private readonly tailOutputs: string[],
    private readonly remote: RemoteExecutor | null
  ) {}

  /** Bytes of the tensors this cut uploads (as the analysis knows them). */
  get crossingBytes(): number {
    return this.crossing.reduce((sum, c) => sum + (c.bytes ?? 0), 0);
  }

  /** One run, timed; `link` is the (shaped) client the crossing tensors go through. */
  async runOnce(link: RemoteExecutor | null): Promise<{ timing: SplitRunTiming; outputs: Feeds }> {
    const values: Feeds = { ...this.runner.inputs };
    const start = performance.now();
    let localMs = 0;
    if (this.head) {
      const feeds = Object.fromEntries(this.head.inputNames.map((name) => [name, values[name]]));
      try {
        Object.assign(values, await this.head.run(feeds));
      } catch (error) {
        throw new SplitRunError(`onnxruntime failed running the head of ${this.runner.modelName} at cut ${this.cut}: ${ortMessage(error)}`);
      }
      localMs = performance.now() - start;
      if (this.runner.deviceSlowdown > 1) {
        await realClock.sleep(localMs * (this.runner.deviceSlowdown - 1));
        localMs = performance.now() - start;
      }
    }
    const timing: SplitRunTiming = { localMs, encodeMs: 0, uploadMs: 0, remoteMs: 0, downloadMs: 0, totalMs: 0, bytesUp: 0, bytesDown: 0 };
    if (this.tailName) {
      if (!link) throw new SplitRunError(`cut ${this.cut} runs part of ${this.runner.modelName} remotely: an executor is needed`);
      const encodeStart = performance.now();
      const sent = this.crossing.map((c) => toRawTensor(c.name, values[c.name]));
      const convertMs = performance.now() - encodeStart;
      const outcome = await link.infer(this.tailName, sent, { outputs: this.tailOutputs });
      for (const raw of outcome.outputs) values[raw.name] = fromRawTensor(raw);
      Object.assign(timing, {
        encodeMs: convertMs + outcome.timings.encodeMs,
        uploadMs: outcome.timings.uploadMs,
        remoteMs: outcome.timings.remoteMs ?? null,
        downloadMs: outcome.timings.downloadMs,
        bytesUp: outcome.timings.bytesUp,
        bytesDown: outcome.timings.bytesDown
      });
    }
    timing.totalMs = performance.now() - start;
    return { timing, outputs: values };
  }

  /** One untimed warm-up run, then `runs` timed ones; every run's outputs are checked. */
  async measure(link: RemoteExecutor | null, options: { runs: number; warmup?: number; onRun?: (done: number) => void }): Promise<CutMeasurement> {
    const checks: OutputCheck[] = [];
    for (let i = 0; i < (options.warmup ?? 1); i++) checks.push(compareOutputs(this.runner.expected, (await this.runOnce(link)).outputs));
    const runs: SplitRunTiming[] = [];
    for (let i = 0; i < options.runs; i++) {
      const { timing, outputs } = await this.runOnce(link);
      runs.push(timing);
      checks.push(compareOutputs(this.runner.expected, outputs));
      options.onRun?.(i + 1);
    }
    return { cut: this.cut, runs, median: medianTiming(runs), outputCheck: mergeChecks(checks) };
  }

  /** Releases the head's session and unloads the tail from the executor (best effort, within BEST_EFFORT_TIMEOUT_MS). */
  async release(): Promise<void> {
    await this.head?.release();
    if (this.tailName && this.remote) await this.remote.unloadModel(this.tailName, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
  }
}

// ---- `neurosurgeon run` ----------------------------------------------------------------

export interface SplitRunRequest {
  analyzed: AnalyzedModel;
  /** A cut index, or 'auto' for the predicted best. */
  cut: number | 'auto';
  objective: Objective;
  network: NetworkRequest;
  runs: number;
  ep: ExecutionProviderName;
  allowCpuFallback?: boolean;
  /** Device latencies for 'auto' from this profile file instead of a live profile. */
  localFile?: string;
  /** Server latencies for 'auto' from this profile file instead of the executor's profile. */
  remoteFile?: string;
  /** Emulate a device this many times slower than this machine (SplitRunnerOptions). */
  deviceSlowdown?: number;
  seed?: number;
  dimValues?: Record<string, number>;
  /** Clients of the executor: `connect()` unshaped (uploads, profiles, load), `connect(shaper)` for the runs. */
  connect: (shaper?: LinkShaper) => RemoteExecutor;
  onProgress?: (message: string) => void;
}

export interface SplitRunReport extends CutMeasurement {
  model: string;
  network: { name: string; uplinkMbps: number; downlinkMbps: number; rttMs: number; shaped: boolean };
  chosenBy: 'user' | 'auto';
  nodes: number;
  crossing: string[];
  ep: ExecutionProviderName;
  /** The emulated device's slowdown over this machine (1: none). */
  deviceSlowdown: number;
  /** For --cut auto: what the decision saw and the predicted cost of every cut. */
  decision?: {
    objective: Objective;
    serverLoad: number;
    latencies: { local: string; remote: string };
    chosen: number;
    predicted: { cut: number; totalMs: number; energyMJ: number }[];
  };
}

/** The shaper a link choice puts on the runs: none for the measured (live) link. */
export function shaperForLink(link: LinkChoice): LinkShaper | undefined {
  return link.kind === 'measured' ? undefined : shaperFor(link.preset.network);
}

/** The whole `run` command: decide (or take) the cut, prepare it, run it, check it. */
export async function runSplit(request: SplitRunRequest): Promise<SplitRunReport> {
  const { analyzed } = request;
  const nodeCount = analyzed.analysis.layers.length;
  if (request.cut !== 'auto') {
    if (!Number.isInteger(request.cut) || request.cut < 0 || request.cut > nodeCount) {
      throw new UsageError(`cut ${request.cut} is out of range: ${path.basename(analyzed.path)} has ${nodeCount} nodes (cuts 0..${nodeCount})`);
    }
  }
  checkSlowdown(request.deviceSlowdown ?? 1);
  const needsExecutor = request.cut === 'auto' || request.cut < nodeCount || request.network.name === 'measured';
  const control = needsExecutor ? request.connect() : null;
  const link = await resolveLink(request.network, control);
  let cut: number;
  let prediction: CutPrediction | null = null;
  if (request.cut === 'auto') {
    const remote = control as RemoteExecutor;
    const latencies = await gatherLatencies(analyzed, remote, {
      ep: request.ep,
      allowCpuFallback: request.allowCpuFallback,
      localFile: request.localFile,
      remoteFile: request.remoteFile,
      deviceSlowdown: request.deviceSlowdown,
      seed: request.seed,
      dimValues: request.dimValues,
      onProgress: request.onProgress
    });
    const { loadFactor } = await remote.load();
    prediction = predictCuts(analyzed, latencies, link.preset, loadFactor, request.objective, request.ep);
    cut = prediction.chosen;
  } else {
    cut = request.cut;
  }

  const runner = await SplitRunner.open(analyzed, runnerOptionsOf(request));
  try {
    const prepared = await runner.prepare(cut, cut < nodeCount ? control : null);
    try {
      const data = cut < nodeCount ? request.connect(shaperForLink(link)) : null;
      const measurement = await prepared.measure(data, { runs: request.runs });
      const network = link.preset.network;
      const report: SplitRunReport = {
        model: path.basename(analyzed.path),
        network: { ...network, shaped: link.kind === 'preset' && network.name !== 'unshaped' },
        chosenBy: request.cut === 'auto' ? 'auto' : 'user',
        nodes: nodeCount,
        ...measurement,
        crossing: prepared.crossing.map((c) => c.name),
        ep: runner.provider.used,
        deviceSlowdown: runner.deviceSlowdown
      };
      if (prediction) {
        report.decision = {
          objective: prediction.objective,
          serverLoad: prediction.options.serverLoad,
          latencies: prediction.latencies,
          chosen: prediction.chosen,
          predicted: prediction.plan.cuts.map((c) => ({ cut: c.cut, totalMs: c.totalMs, energyMJ: c.energyMJ }))
        };
      }
      return report;
    } finally {
      await prepared.release();
    }
  } finally {
    await runner.release();
  }
}
