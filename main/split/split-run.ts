// Real split runs, the paper's runtime: cut a model at topological cut K (surgery.ts), run
// the head here with onnxruntime-node, ship the crossing tensors to the executor through
// the client (shaped to the chosen network), get the tail's outputs back, and check them
// against a full local run. SplitRunner opens the model once (full-model session, seeded
// inputs, reference outputs); PreparedSplit holds one cut (head session, tail uploaded)
// and times runs of it. `neurosurgeon run` (runSplit) and `sweep` (sweep.ts) use both.
// The whole model goes to each executor once (ensureSource) and the executor builds every
// tail from it with the same surgery (main/executor/sources.ts, part-builder.ts), checked
// against the hash of the tail's description cut here; where it cannot, the tail itself is
// uploaded.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { median } from '../../app/profiling/trace.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type ExecutionProviderName, type GraphOptimization } from '../../app/profiling/types.js';
import type { Objective } from '../../app/partition/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import type { LinkShaper } from '../executor/link.js';
import { realClock, shaperFor } from '../executor/shaper.js';
import { BEST_EFFORT_TIMEOUT_MS, type DeviceExecutor, type RemoteExecutor } from '../executor/remote-executor.js';
import type { NetworkConditions } from '../../app/partition/types.js';
import { ExecutorError } from '../executor/client.js';
import { sha256 } from '../model/model-file.js';
import { generateInputs } from '../model/inputs.js';
import { inlineExternalData } from '../model/model-file.js';
import { fromRawTensor, toRawTensor } from '../executor/ort-tensors.js';
import { runSessionOptions, sessionOptionsFor, type ProviderChoice } from '../profiling/providers.js';
import { firstLine } from '../errors/user-errors.js';
import { checkDeviceRequest, gatherLatencies, predictCuts, predictDagPartition, resolveLink, sanitizeModelName, type CutPrediction, type LinkChoice, type NetworkRequest } from './split-prediction.js';
import type { DagPartition } from '../../app/partition/dag.js';
import { splitModel, type CrossingTensor } from './surgery.js';
import { describePart } from './part-builder.js';
import { encodeModel } from '../../app/onnx/writer.js';
import type { onnx } from '../../app/onnx/generated/onnx.js';

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

/**
 * What runs on the device: the first `cut` layers (a topological cut), or any
 * predecessor-closed set of layers (the DAG min-cut's partition).
 */
export type DeviceLayers = number | { dag: readonly number[] };

/** The layers of a choice, and how reports name it: the cut number, or 'dag'. */
export function deviceLayersOf(choice: DeviceLayers): { layers: number[]; cut: number | 'dag' } {
  if (typeof choice === 'number') return { layers: Array.from({ length: choice }, (_, i) => i), cut: choice };
  return { layers: [...choice.dag].sort((a, b) => a - b), cut: 'dag' };
}

export interface CutMeasurement {
  /** The topological cut measured, or 'dag' for a DAG partition. */
  cut: number | 'dag';
  runs: SplitRunTiming[];
  median: SplitRunTiming;
  outputCheck: OutputCheck;
}

export interface SplitRunnerOptions {
  ep?: ExecutionProviderName;
  allowCpuFallback?: boolean;
  /** onnxruntime graph optimisation for the local sessions (default DEFAULT_GRAPH_OPTIMIZATION, as every profile). */
  optimization?: GraphOptimization;
  seed?: number;
  dimValues?: Record<string, number>;
  /**
   * Emulates a device this many times slower than this machine (default 1): each head run
   * is stretched to that multiple of its measured time, as the shaper stretches transfers.
   */
  deviceSlowdown?: number;
  /**
   * Send the whole model to an executor once and let it build each tail (default true);
   * false uploads every tail, as before (the bench's baseline).
   */
  uploadOnce?: boolean;
  /**
   * The head runs on this device executor (main/executor/device.ts), which sends its output
   * straight to the server; here only the full model's reference run is made.
   */
  device?: DeviceExecutor;
}

/** The runner's options out of a run's or a sweep's request (both carry these fields). */
export function runnerOptionsOf(request: Omit<SplitRunnerOptions, 'optimization'>): SplitRunnerOptions {
  return {
    ep: request.ep,
    allowCpuFallback: request.allowCpuFallback,
    seed: request.seed,
    dimValues: request.dimValues,
    deviceSlowdown: request.deviceSlowdown,
    uploadOnce: request.uploadOnce,
    device: request.device
  };
}

/** The shaping a device executor applies to its link to the server: none for an unshaped or measured link. */
export function deviceLinkNetwork(link: LinkChoice): NetworkConditions | null {
  return link.kind === 'preset' && link.preset.network.name !== 'unshaped' ? link.preset.network : null;
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
    readonly deviceSlowdown: number,
    private readonly options: SplitRunnerOptions
  ) {}

  /** Per executor: the kept model's hash once it holds the model, null where it cannot build parts. */
  private readonly sources = new Map<RemoteExecutor, Promise<string | null>>();
  /** How each head (on a device executor) or tail reached an executor (counts: built there from the kept model, or uploaded). */
  readonly tailsPlaced = { built: 0, uploaded: 0 };

  static async open(analyzed: AnalyzedModel, options: SplitRunnerOptions = {}): Promise<SplitRunner> {
    const deviceSlowdown = checkSlowdown(options.deviceSlowdown ?? 1);
    const provider = await sessionOptionsFor(options.ep ?? 'cpu', { allowCpuFallback: options.allowCpuFallback });
    // The options every measured or served run uses (the device's profile included), worker
    // threads not spinning: while the executor computes the tail (or another session runs)
    // spinning would steal its CPU — 2–4× slower alternating runs on a 2-core machine.
    const sessionOptions = runSessionOptions(provider, options.optimization ?? DEFAULT_GRAPH_OPTIMIZATION);
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
    return new SplitRunner(analyzed, provider, sessionOptions, inputs, expected, fullSession, deviceSlowdown, options);
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
      throw new UsageError(`cut ${cut} is out of range: ${this.modelName} has ${this.nodeCount} layers (cuts 0..${this.nodeCount})`);
    }
  }

  /**
   * Cuts the model (at a topological cut, or along a DAG partition), opens the head's
   * session and uploads the tail to `remote` (which may be null only when nothing runs
   * remotely).
   */
  async prepare(choice: DeviceLayers, remote: RemoteExecutor | null): Promise<PreparedSplit> {
    if (typeof choice === 'number') this.checkCut(choice);
    const { layers, cut } = deviceLayersOf(choice);
    const label = cut === 'dag' ? 'the DAG partition' : `cut ${cut}`;
    const parts = splitModel(this.analyzed.model, this.analyzed.analysis, new Set(layers));
    // Each part is encoded only where its bytes are needed: a local session, or an upload.
    const stem = path.basename(this.analyzed.path, '.onnx');
    const device = this.options.device;
    let head: ort.InferenceSession | null = null;
    let deviceHead: string | null = null;
    if (parts.head && device) {
      deviceHead = await this.placePart(device, 'head', parts.head, layers, sanitizeModelName(`${stem}-head-${cut}`));
    } else if (parts.head) {
      try {
        head = await ort.InferenceSession.create(encodeModel(parts.head), this.sessionOptions);
      } catch (error) {
        throw new SplitRunError(`onnxruntime cannot open the head of ${this.modelName} at ${label}: ${ortMessage(error)}`);
      }
    }
    let tailName: string | null = null;
    if (parts.tail) {
      const releaseHead = async () => {
        await head?.release();
        if (deviceHead) await device?.unloadModel(deviceHead, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
      };
      if (!remote) {
        await releaseHead();
        throw new SplitRunError(`${label} runs part of ${this.modelName} remotely: an executor is needed`);
      }
      try {
        tailName = await this.placePart(remote, 'tail', parts.tail, layers, sanitizeModelName(`${stem}-tail-${cut}`));
      } catch (error) {
        await releaseHead();
        throw error;
      }
    }
    const tailOutputs = parts.outputs.filter((o) => o.from === 'tail').map((o) => o.name);
    return new PreparedSplit(this, cut, layers, head, tailName, parts.crossing, tailOutputs, remote, device && (deviceHead || tailName) ? { executor: device, head: deviceHead } : null);
  }

  /**
   * The kept model's hash on `remote` (uploaded there the first time), or null where the
   * executor cannot build parts (no extension, external data here, or upload-once off).
   */
  private keptSource(remote: RemoteExecutor): Promise<string | null> {
    let kept = this.sources.get(remote);
    if (!kept) {
      const usable = this.options.uploadOnce !== false && remote.ensureSource && remote.buildModel && this.analyzed.model.externalData.length === 0;
      kept = usable ? (remote.ensureSource?.(this.analyzed.bytes, this.analyzed.sha256 ?? sha256(this.analyzed.bytes)).then((s) => s?.sha256 ?? null) ?? Promise.resolve(null)) : Promise.resolve(null);
      kept.catch(() => this.sources.delete(remote));
      this.sources.set(remote, kept);
    }
    return kept;
  }

  /** Loads a head or tail on `remote`: built there from the kept model when it can, else uploaded. */
  private async placePart(remote: RemoteExecutor, part: 'head' | 'tail', proto: onnx.ModelProto, localLayers: number[], name: string): Promise<string> {
    const source = await this.keptSource(remote);
    if (source && remote.buildModel) {
      try {
        // Checked by the part's description: the client need not encode (nor hash) the part.
        const description = sha256(Buffer.from(describePart(proto), 'utf8'));
        const built = await remote.buildModel(name, { source, part, localLayers, dimValues: this.options.dimValues ?? {}, description });
        this.tailsPlaced.built++;
        return built.name;
      } catch (error) {
        // A build that differs (409) or cannot be made here (501, 400): this tail goes up itself.
        if (!(error instanceof ExecutorError) || error.status === undefined || error.status === 401 || error.status >= 500 && error.status !== 501) throw error;
        if (error.status === 404) this.sources.delete(remote);
      }
    }
    const uploaded = await remote.uploadModel(encodeModel(proto), { name });
    this.tailsPlaced.uploaded++;
    return uploaded.name;
  }

  async release(): Promise<void> {
    await this.fullSession.release();
  }
}

/** One cut, ready to run: the head's session here, the tail loaded on the executor. */
export class PreparedSplit {
  constructor(
    private readonly runner: SplitRunner,
    readonly cut: number | 'dag',
    /** The layers this split runs on the device. */
    readonly localLayers: readonly number[],
    private readonly head: ort.InferenceSession | null,
    readonly tailName: string | null,
    readonly crossing: CrossingTensor[],
    private readonly tailOutputs: string[],
    private readonly remote: RemoteExecutor | null,
    /** With a device executor: it, and the head's model there (null at cut 0). */
    private readonly device: { executor: DeviceExecutor; head: string | null } | null = null
  ) {}

  /** One run through the device executor: the head there, its output sent by the device to the server. */
  private async runOnDevice(device: { executor: DeviceExecutor; head: string | null }, network: NetworkConditions | null): Promise<{ timing: SplitRunTiming; outputs: Feeds }> {
    const inputs = Object.entries(this.runner.inputs).map(([name, tensor]) => toRawTensor(name, tensor));
    const outcome = await device.executor.forward(inputs, {
      head: device.head,
      tail: this.tailName,
      tailInputs: this.crossing.map((c) => c.name),
      tailOutputs: this.tailOutputs,
      outputs: Object.keys(this.runner.expected),
      upstream: this.remote?.url,
      network
    });
    const outputs: Feeds = {};
    for (const raw of outcome.outputs) outputs[raw.name] = fromRawTensor(raw);
    const t = outcome.timings;
    return {
      timing: { localMs: t.deviceMs, encodeMs: t.encodeMs, uploadMs: t.uploadMs, remoteMs: this.tailName ? t.remoteMs : 0, downloadMs: t.downloadMs, totalMs: t.totalMs, bytesUp: t.bytesUp, bytesDown: t.bytesDown },
      outputs
    };
  }

  /** How messages name this split. */
  get label(): string {
    return this.cut === 'dag' ? 'the DAG partition' : `cut ${this.cut}`;
  }

  /** True when some layer runs on the executor. */
  get runsRemotely(): boolean {
    return this.tailName !== null;
  }

  /** Bytes of the tensors this cut uploads (as the analysis knows them). */
  get crossingBytes(): number {
    return this.crossing.reduce((sum, c) => sum + (c.bytes ?? 0), 0);
  }

  /** One run, timed; `link` is the (shaped) client the crossing tensors go through. */
  async runOnce(link: RemoteExecutor | null, network: NetworkConditions | null = null): Promise<{ timing: SplitRunTiming; outputs: Feeds }> {
    if (this.device) return this.runOnDevice(this.device, network);
    const values: Feeds = { ...this.runner.inputs };
    const start = performance.now();
    let localMs = 0;
    if (this.head) {
      const feeds = Object.fromEntries(this.head.inputNames.map((name) => [name, values[name]]));
      try {
        Object.assign(values, await this.head.run(feeds));
      } catch (error) {
        throw new SplitRunError(`onnxruntime failed running the head of ${this.runner.modelName} at ${this.label}: ${ortMessage(error)}`);
      }
      localMs = performance.now() - start;
      if (this.runner.deviceSlowdown > 1) {
        await realClock.sleep(localMs * (this.runner.deviceSlowdown - 1));
        localMs = performance.now() - start;
      }
    }
    const timing: SplitRunTiming = { localMs, encodeMs: 0, uploadMs: 0, remoteMs: 0, downloadMs: 0, totalMs: 0, bytesUp: 0, bytesDown: 0 };
    if (this.tailName) {
      if (!link) throw new SplitRunError(`${this.label} runs part of ${this.runner.modelName} remotely: an executor is needed`);
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
  async measure(
    link: RemoteExecutor | null,
    options: { runs: number; warmup?: number; onRun?: (done: number) => void; /** With a device executor: the shaping of its link to the server. */ network?: NetworkConditions | null }
  ): Promise<CutMeasurement> {
    const network = options.network ?? null;
    const checks: OutputCheck[] = [];
    for (let i = 0; i < (options.warmup ?? 1); i++) checks.push(compareOutputs(this.runner.expected, (await this.runOnce(link, network)).outputs));
    const runs: SplitRunTiming[] = [];
    for (let i = 0; i < options.runs; i++) {
      const { timing, outputs } = await this.runOnce(link, network);
      runs.push(timing);
      checks.push(compareOutputs(this.runner.expected, outputs));
      options.onRun?.(i + 1);
    }
    return { cut: this.cut, runs, median: medianTiming(runs), outputCheck: mergeChecks(checks) };
  }

  /** Releases the head's session and unloads the tail from the executor (best effort, within BEST_EFFORT_TIMEOUT_MS). */
  async release(): Promise<void> {
    await this.head?.release();
    if (this.device?.head) await this.device.executor.unloadModel(this.device.head, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
    if (this.tailName && this.remote) await this.remote.unloadModel(this.tailName, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
  }
}

// ---- `neurosurgeon run` ----------------------------------------------------------------

export interface SplitRunRequest {
  analyzed: AnalyzedModel;
  /** A cut index, 'auto' for the predicted best cut, or 'dag' for the DAG min-cut partition. */
  cut: number | 'auto' | 'dag';
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
  /** Send the whole model to the executor once and let it build the tail (default true). */
  uploadOnce?: boolean;
  /** Run the head on this device executor (SplitRunnerOptions.device); its profile gives the device latencies. */
  device?: DeviceExecutor;
  /** Clients of the executor: `connect()` unshaped (uploads, profiles, load), `connect(shaper)` for the runs. */
  connect: (shaper?: LinkShaper) => RemoteExecutor;
  onProgress?: (message: string) => void;
}

export interface SplitRunReport extends CutMeasurement {
  /** The layers run on the device (indices into the analysis's layers). */
  localLayers: number[];
  model: string;
  network: { name: string; uplinkMbps: number; downlinkMbps: number; rttMs: number; shaped: boolean };
  chosenBy: 'user' | 'auto';
  nodes: number;
  crossing: string[];
  ep: ExecutionProviderName;
  /** The emulated device's slowdown over this machine (1: none). */
  deviceSlowdown: number;
  /** The device executor the head ran on (--device-executor); absent: this machine. */
  deviceExecutor?: string;
  /** For --cut auto or dag: what the decision saw and the predicted cost of every cut (and of the DAG partition). */
  decision?: {
    objective: Objective;
    serverLoad: number;
    latencies: { local: string; remote: string };
    chosen: number | 'dag';
    predicted: { cut: number; totalMs: number; energyMJ: number }[];
    dag?: { localLayers: number[]; totalMs: number; energyMJ: number };
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
  if (typeof request.cut === 'number' && (!Number.isInteger(request.cut) || request.cut < 0 || request.cut > nodeCount)) {
    throw new UsageError(`cut ${request.cut} is out of range: ${path.basename(analyzed.path)} has ${nodeCount} layers (cuts 0..${nodeCount})`);
  }
  checkSlowdown(request.deviceSlowdown ?? 1);
  checkDeviceRequest(request, request.network.name);
  const decided = request.cut === 'auto' || request.cut === 'dag';
  const needsExecutor = decided || (request.cut as number) < nodeCount || request.network.name === 'measured';
  const control = needsExecutor ? request.connect() : null;
  const link = await resolveLink(request.network, control);
  let choice: DeviceLayers;
  let prediction: CutPrediction | null = null;
  let dag: DagPartition | null = null;
  if (decided) {
    const remote = control as RemoteExecutor;
    const latencies = await gatherLatencies(analyzed, remote, {
      ep: request.ep,
      allowCpuFallback: request.allowCpuFallback,
      localFile: request.localFile,
      remoteFile: request.remoteFile,
      deviceSlowdown: request.deviceSlowdown,
      seed: request.seed,
      dimValues: request.dimValues,
      device: request.device,
      onProgress: request.onProgress
    });
    const { loadFactor } = await remote.load();
    prediction = predictCuts(analyzed, latencies, link.preset, loadFactor, request.objective, request.ep);
    if (request.cut === 'dag') dag = predictDagPartition(analyzed, latencies, link.preset, loadFactor, request.objective, request.ep);
    choice = dag ? { dag: dag.localNodes } : prediction.chosen;
  } else {
    choice = request.cut as number;
  }
  const remoteNeeded = deviceLayersOf(choice).layers.length < nodeCount;

  const runner = await SplitRunner.open(analyzed, runnerOptionsOf(request));
  try {
    const prepared = await runner.prepare(choice, remoteNeeded ? control : null);
    try {
      const data = remoteNeeded ? request.connect(shaperForLink(link)) : null;
      const measurement = await prepared.measure(data, { runs: request.runs, network: deviceLinkNetwork(link) });
      const network = link.preset.network;
      const report: SplitRunReport = {
        model: path.basename(analyzed.path),
        network: { ...network, shaped: link.kind === 'preset' && network.name !== 'unshaped' },
        chosenBy: decided ? 'auto' : 'user',
        nodes: nodeCount,
        ...measurement,
        localLayers: [...prepared.localLayers],
        crossing: prepared.crossing.map((c) => c.name),
        ep: runner.provider.used,
        deviceSlowdown: runner.deviceSlowdown,
        ...(request.device ? { deviceExecutor: request.device.url } : {})
      };
      if (prediction) {
        report.decision = {
          objective: prediction.objective,
          serverLoad: prediction.options.serverLoad,
          latencies: prediction.latencies,
          chosen: dag ? 'dag' : prediction.chosen,
          predicted: prediction.plan.cuts.map((c) => ({ cut: c.cut, totalMs: c.totalMs, energyMJ: c.energyMJ })),
          ...(dag ? { dag: { localLayers: dag.localNodes, totalMs: dag.cost.totalMs, energyMJ: dag.cost.energyMJ } } : {})
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
