// Real split runs, the paper's runtime: cut a model at topological cut K (surgery.ts), run
// the head here with onnxruntime-node, ship the crossing tensors to the executor through
// the client (shaped to the chosen network), get the tail's outputs back, and check them
// against a full local run. SplitRunner opens the model once (full-model session, seeded
// inputs, reference outputs); PreparedSplit holds one cut (head session, tail uploaded)
// and times runs of it. `neurosurgeon run` (runSplit) and `sweep` (sweep.ts) use both.
// The whole model goes to each executor once (ensureSource) and the executor builds every
// tail from it with the same surgery (main/executor/sources.ts, part-builder.ts), checked
// against the hash of the tail's description cut here; where it cannot, the tail itself is
// uploaded. With a wire encoding (issue 16, `run --encoding`) the head and tail carry its
// codec (encode-surgery.ts: QuantizeLinear / Cast at the end of the head, DequantizeLinear /
// Cast at the start of the tail), the encoded tail is uploaded, a model input that crosses
// is encoded here, +deflate goes as the request's Content-Encoding, and the outputs are
// checked for the same top-1 answer rather than equal values.
import { rmSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { median } from '../../app/profiling/trace.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type ExecutionProviderName, type GraphOptimization } from '../../app/profiling/types.js';
import type { Objective } from '../../app/partition/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import type { LinkShaper } from '../executor/link.js';
import { realClock, shaperFor } from '../executor/shaper.js';
import { EMULATED_STEADY_RUNS } from '../executor/repository.js';
import { BEST_EFFORT_TIMEOUT_MS, type DeviceExecutor, type RemoteExecutor } from '../executor/remote-executor.js';
import type { NetworkConditions } from '../../app/partition/types.js';
import { ExecutorError } from '../executor/client.js';
import { sha256 } from '../model/model-file.js';
import { generateInputs } from '../model/inputs.js';
import { inlineExternalData } from '../model/model-file.js';
import { fromRawTensor, toRawTensor } from '../executor/ort-tensors.js';
import { runSessionOptions, sessionOptionsFor, type ProviderChoice } from '../profiling/providers.js';
import { withPrepackingFor } from '../model/prepacking.js';
import { firstLine } from '../errors/user-errors.js';
import { checkDeviceRequest, gatherLatencies, predictCuts, predictDagPartition, resolveLink, sanitizeModelName, type CutPrediction, type LinkChoice, type NetworkRequest } from './split-prediction.js';
import type { DagPartition } from '../../app/partition/dag.js';
import { splitModel, type CrossingTensor, type SplitResult } from './surgery.js';
import { describePart } from './part-builder.js';
import { referencableWeights, referencingSource } from './external-weights.js';
import { PartFiles } from '../executor/part-files.js';
import { encodeModel } from '../../app/onnx/writer.js';
import type { onnx } from '../../app/onnx/generated/onnx.js';
import type { RawTensor } from '../executor/link.js';
import type { TensorRange } from '../../app/quantization/parameters.js';
import { encodeTensor, imageLikeInput, isImageDims } from './wire-codecs.js';
import { float32ToFloat16, isLossy, parseWireEncoding, quantizeAffine, whyNotApplicableAtCut, wireEncodingName, type WireEncoding } from '../../app/partition/wire-encoding.js';
import { encodableCrossing, encodeSplitUniform, type EncodedSplit, type WireTensor } from './encode-surgery.js';
import { SurgeryError } from './surgery.js';
import { topClass } from '../model/quantize-file.js';
import { minAgreementOf, planEncoded, type EncodedPlan } from './encoded-plan.js';

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
  /** Outputs missing, of another shape or type, or beyond tolerance (with a lossy wire encoding: of another top-1 class). */
  mismatches: string[];
  /** 'top1' when a lossy wire encoding was used: float outputs need only pick the same class. */
  mode?: OutputCheckMode;
}

/** 'exact': equal within OUTPUT_TOLERANCE; 'top1': float outputs pick the same top-1 class (a lossy wire encoding). */
export type OutputCheckMode = 'exact' | 'top1';

/** How the crossing tensors travel in a split run: one encoding for every float tensor, with the calibrated ranges of int8 / uint8. */
export interface SplitWire {
  encoding: WireEncoding;
  ranges: Readonly<Record<string, TensorRange>>;
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
   * is stretched to that multiple of its steady time (the fastest of up to three more runs
   * right after it: PreparedSplit.steadyHeadMs), as the shaper stretches transfers.
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

function compareOutputs(expected: Feeds, actual: Feeds, mode: OutputCheckMode = 'exact'): OutputCheck {
  const check: OutputCheck = { maxAbsDiff: 0, maxRelDiff: 0, ok: true, mismatches: [], ...(mode === 'top1' ? { mode } : {}) };
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
    const floating = reference.type === 'float32' || reference.type === 'float64';
    const differs = mode === 'top1' && floating ? topClass(reference) !== topClass(got) : nanMismatch || abs > OUTPUT_TOLERANCE * Math.max(1, scale);
    if (differs) check.mismatches.push(name);
  }
  check.ok = check.mismatches.length === 0;
  return check;
}

function mergeChecks(checks: OutputCheck[]): OutputCheck {
  const mismatches = [...new Set(checks.flatMap((c) => c.mismatches))];
  const mode = checks.find((c) => c.mode)?.mode;
  return {
    maxAbsDiff: Math.max(0, ...checks.map((c) => c.maxAbsDiff)),
    maxRelDiff: Math.max(0, ...checks.map((c) => c.maxRelDiff)),
    ok: mismatches.length === 0,
    mismatches,
    ...(mode ? { mode } : {})
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

/** How one crossing tensor is sent: read under `name` (the head's wire output), sent as `wireName`; a model input in a lossy encoding is encoded here. */
interface WireSend {
  name: string;
  wireName: string;
  encodeHere?: (tensor: ort.Tensor) => Promise<RawTensor>;
}

/** Encodes a model input as the tail's DequantizeLinear / Cast expects it (what a head's QuantizeLinear / Cast would have done). */
export function inputEncoder(w: WireTensor): (tensor: ort.Tensor) => Promise<RawTensor> {
  const bytesOf = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return async (tensor) => {
    if (tensor.type !== 'float32') throw new SplitRunError(`input "${w.name}" is ${tensor.type}; ${w.encoding} re-encodes float32 only`);
    const values = tensor.data as Float32Array;
    const shape = [...tensor.dims];
    if (w.datatype === 'FP16') return { name: w.wireName, datatype: 'FP16', shape, data: bytesOf(float32ToFloat16(values)) };
    if (w.scale !== undefined && w.zeroPoint !== undefined) {
      const affine = { scale: w.scale, zeroPoint: w.zeroPoint, type: w.datatype === 'INT8' ? ('int8' as const) : ('uint8' as const) };
      // JPEG: the images as a BYTES tensor [N], which the executor decodes to the tail's uint8 pixels (image-inputs.ts).
      if (w.datatype === 'BYTES') return { name: w.wireName, datatype: 'BYTES', shape: [shape[0]], data: (await encodeTensor(tensor, parseWireEncoding(w.encoding), affine)).bytes };
      if (w.datatype === 'INT8' || w.datatype === 'UINT8') return { name: w.wireName, datatype: w.datatype, shape, data: bytesOf(quantizeAffine(values, affine)) };
    }
    throw new SplitRunError(`input "${w.name}" cannot be sent as ${w.encoding} (${w.datatype})`);
  };
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
  /** The model's bytes on disk once, for local parts that reference them (openLocalPart). */
  private partFiles: PartFiles | null = null;

  static async open(analyzed: AnalyzedModel, options: SplitRunnerOptions = {}): Promise<SplitRunner> {
    const deviceSlowdown = checkSlowdown(options.deviceSlowdown ?? 1);
    const provider = await sessionOptionsFor(options.ep ?? 'cpu', { allowCpuFallback: options.allowCpuFallback });
    // The options every measured or served run uses (the device's profile included), worker
    // threads not spinning: while the executor computes the tail (or another session runs)
    // spinning would steal its CPU — 2–4× slower alternating runs on a 2-core machine.
    const sessionOptions = runSessionOptions(provider, options.optimization ?? DEFAULT_GRAPH_OPTIMIZATION);
    inlineExternalData(analyzed);
    const inputs = generateInputs(analyzed.model, { seed: options.seed, dimValues: options.dimValues });
    // An image input gets a picture-like one (gradients, flat areas, mild noise), as the
    // encodings' samples do: uniform noise is no camera's output, and it would make a JPEG
    // run send 3–4× the bytes the plan measured on those samples.
    for (const [name, tensor] of Object.entries(inputs)) {
      if (tensor.type === 'float32' && isImageDims(tensor.dims)) inputs[name] = new ort.Tensor('float32', imageLikeInput(tensor.dims, (options.seed ?? 1) + 1), tensor.dims);
    }
    const file = path.basename(analyzed.path);
    let fullSession: ort.InferenceSession;
    const fullOptions = withPrepackingFor(sessionOptions, analyzed.model);
    try {
      fullSession =
        analyzed.model.externalData.length > 0
          ? await ort.InferenceSession.create(analyzed.path, fullOptions)
          : await ort.InferenceSession.create(analyzed.bytes, fullOptions);
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
    const runner = new SplitRunner(analyzed, provider, sessionOptions, inputs, expected, fullSession, deviceSlowdown, options);
    // The heads' weights file is written now, not in the first cut's time: a sweep's cut
    // then costs its own runs (AlexNet's first head cut took 1.9× its runs with the write, the others 1.4×).
    if (!options.device && referencableWeights(analyzed.model.proto, analyzed.bytes) > 0) {
      try {
        await runner.headWeightsFile();
      } catch (error) {
        await runner.release();
        throw new SplitRunError(`cannot write the copy of ${file} the heads read their weights from: ${firstLine(error)}`);
      }
    }
    return runner;
  }

  /** The file (in the runner's parts folder) holding the model's bytes, which the heads' weights reference; written once. */
  private headWeightsFile(): Promise<string> {
    return this.localPartFiles().sourceFile('model', this.analyzed.bytes);
  }

  private localPartFiles(): PartFiles {
    return (this.partFiles ??= new PartFiles(() => true, 'ns-split-parts-'));
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
  async prepare(choice: DeviceLayers, remote: RemoteExecutor | null, wire: SplitWire | null = null): Promise<PreparedSplit> {
    if (typeof choice === 'number') this.checkCut(choice);
    const { layers, cut } = deviceLayersOf(choice);
    const label = cut === 'dag' ? 'the DAG partition' : `cut ${cut}`;
    const plain = splitModel(this.analyzed.model, this.analyzed.analysis, new Set(layers));
    const device = this.options.device;
    const encoded = wire ? this.encodeWire(plain, wire, label) : null;
    const parts = encoded?.split ?? plain;
    // Each part is encoded only where its bytes are needed: a local session, or an upload.
    // A part with a codec in its graph differs from what the executor would build: it goes up itself.
    const stem = path.basename(this.analyzed.path, '.onnx') + (encoded?.lossy ? `-${wireEncodingName(encoded.encoding).replace(/\+/g, '_')}` : '');
    // The head opens here while the executor builds the tail: two processes, so the two overlap.
    if (parts.tail && !remote) throw new SplitRunError(`${label} runs part of ${this.modelName} remotely: an executor is needed`);
    const tailPlaced = parts.tail && remote ? this.placePart(remote, 'tail', parts.tail, layers, sanitizeModelName(`${stem}-tail-${cut}`), !encoded?.lossy) : Promise.resolve(null);
    const headOpened = (async (): Promise<{ head: ort.InferenceSession | null; deviceHead: string | null }> => {
      if (parts.head && device) return { head: null, deviceHead: await this.placePart(device, 'head', parts.head, layers, sanitizeModelName(`${stem}-head-${cut}`), !encoded?.lossy) };
      if (!parts.head) return { head: null, deviceHead: null };
      try {
        return { head: await this.openLocalPart(parts.head), deviceHead: null };
      } catch (error) {
        throw new SplitRunError(`onnxruntime cannot open the head of ${this.modelName} at ${label}: ${ortMessage(error)}`);
      }
    })();
    const [headSettled, tailSettled] = await Promise.allSettled([headOpened, tailPlaced]);
    if (headSettled.status === 'rejected' || tailSettled.status === 'rejected') {
      if (headSettled.status === 'fulfilled') {
        await headSettled.value.head?.release();
        if (headSettled.value.deviceHead) await device?.unloadModel(headSettled.value.deviceHead, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
      }
      if (tailSettled.status === 'fulfilled' && tailSettled.value && remote) await remote.unloadModel(tailSettled.value, { timeoutMs: BEST_EFFORT_TIMEOUT_MS }).catch(() => undefined);
      throw headSettled.status === 'rejected' ? headSettled.reason : (tailSettled as PromiseRejectedResult).reason;
    }
    const { head, deviceHead } = headSettled.value;
    const tailName = tailSettled.value;
    const tailOutputs = parts.outputs.filter((o) => o.from === 'tail').map((o) => o.name);
    const sending = encoded ? { sends: encoded.sends, encoding: encoded.encoding, lossy: encoded.lossy, wire: encoded.split.wire } : null;
    return new PreparedSplit(this, cut, layers, head, tailName, parts.crossing, tailOutputs, remote, device && (deviceHead || tailName) ? { executor: device, head: deviceHead } : null, sending);
  }

  /**
   * The split with `wire`'s codec in its graphs (encode-surgery.ts), and how each crossing
   * tensor is sent. Refused in one line: a device executor (it sends its head's outputs as
   * they are) and any encoding a crossing tensor cannot carry (encode-surgery's reason,
   * naming the tensor).
   */
  private encodeWire(plain: SplitResult, wire: SplitWire, label: string): { split: EncodedSplit; sends: WireSend[]; encoding: WireEncoding; lossy: boolean } {
    const name = wireEncodingName(wire.encoding);
    if (this.options.device && wire.encoding.base !== 'fp32') throw new UsageError(`--encoding ${name} runs with the head on this machine; a device executor sends its head's outputs as they are`);
    if (this.options.device && wire.encoding.deflate) throw new UsageError(`--encoding ${name}: a device executor does not compress what it sends to the server`);
    const refusal = whyNotApplicableAtCut(wire.encoding, encodableCrossing(plain.crossing));
    if (refusal) throw new UsageError(`${label}: ${refusal}`);
    let encoded: EncodedSplit;
    try {
      encoded = encodeSplitUniform(plain, wire.encoding, wire.ranges);
    } catch (error) {
      if (error instanceof SurgeryError) throw new UsageError(`${label}: ${error.message}`);
      throw error;
    }
    const sends = encoded.wire.map((w): WireSend => {
      const crossing = plain.crossing.find((c) => c.name === w.name);
      // A model input is not the head's output: no graph encodes it, so it is encoded here.
      return crossing?.producedBy === 'input' && w.wireName !== w.name ? { name: w.name, wireName: w.wireName, encodeHere: inputEncoder(w) } : { name: w.wireName, wireName: w.wireName };
    });
    return { split: encoded, sends, encoding: wire.encoding, lossy: isLossy(wire.encoding) };
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
  private async placePart(remote: RemoteExecutor, part: 'head' | 'tail', proto: onnx.ModelProto, localLayers: number[], name: string, buildable = true): Promise<string> {
    const source = buildable ? await this.keptSource(remote) : null;
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

  /**
   * A local session of a head (or other part): opened from a small file whose weights
   * reference the model's bytes, written once per runner (external-weights.ts), so its
   * weights are not encoded per cut; from the part's own bytes where none can be referenced.
   */
  private async openLocalPart(proto: onnx.IModelProto): Promise<ort.InferenceSession> {
    const source = this.analyzed.bytes;
    if (referencableWeights(proto, source) === 0) {
      const bytes = encodeModel(proto);
      return ort.InferenceSession.create(bytes, withPrepackingFor(this.sessionOptions, bytes));
    }
    const sourceFile = await this.headWeightsFile();
    const bytes = referencingSource(proto, source, sourceFile).bytes;
    const part = await this.localPartFiles().writePart(bytes);
    try {
      return await ort.InferenceSession.create(part.path, withPrepackingFor(this.sessionOptions, bytes));
    } finally {
      rmSync(part.path, { force: true });
    }
  }

  async release(): Promise<void> {
    await this.fullSession.release();
    this.partFiles?.close();
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
    private readonly device: { executor: DeviceExecutor; head: string | null } | null = null,
    /** With a wire encoding: how each crossing tensor is sent, and the encoding. */
    private readonly sending: { sends: WireSend[]; encoding: WireEncoding; lossy: boolean; wire: WireTensor[] } | null = null
  ) {}

  /** How each crossing tensor travels (empty without a wire encoding). */
  get wire(): WireTensor[] {
    return this.sending?.wire ?? [];
  }

  /** The wire encoding's name ('fp32' without one). */
  get encoding(): string {
    return this.sending ? wireEncodingName(this.sending.encoding) : 'fp32';
  }

  /** One run through the device executor: the head there, its output sent by the device to the server. */
  private async runOnDevice(device: { executor: DeviceExecutor; head: string | null }, network: NetworkConditions | null): Promise<{ timing: SplitRunTiming; outputs: Feeds }> {
    const inputs = Object.entries(this.runner.inputs).map(([name, tensor]) => toRawTensor(name, tensor));
    const outcome = await device.executor.forward(inputs, {
      head: device.head,
      tail: this.tailName,
      tailInputs: this.sending ? this.sending.sends.map((w) => w.wireName) : this.crossing.map((c) => c.name),
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

  /**
   * The head's time at this machine's steady speed, the speed profiles are measured at: the
   * fastest of up to EMULATED_STEADY_RUNS runs right after the query's own, while they fit in
   * the emulated time. The query's own run comes after the previous query's transfers and
   * runs slow until this machine is warm again (MobileNetV3-S: 2.55, 2.23, 1.87, 1.77 ms in a
   * row after 40 ms away, 1.71 back to back); stretched F×, that start would make most of the
   * emulated device.
   */
  private async steadyHeadMs(feeds: Feeds, start: number): Promise<number> {
    const head = this.head as ort.InferenceSession;
    let steadyMs = Infinity;
    for (let run = 0; run < EMULATED_STEADY_RUNS; run++) {
      const runStart = performance.now();
      await head.run(feeds);
      steadyMs = Math.min(steadyMs, performance.now() - runStart);
      if (performance.now() - start + steadyMs > steadyMs * this.runner.deviceSlowdown) break;
    }
    return steadyMs;
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
        const emulatedMs = (await this.steadyHeadMs(feeds, start)) * this.runner.deviceSlowdown;
        const spentMs = performance.now() - start;
        if (emulatedMs > spentMs) await realClock.sleep(emulatedMs - spentMs);
        localMs = performance.now() - start;
      }
    }
    const timing: SplitRunTiming = { localMs, encodeMs: 0, uploadMs: 0, remoteMs: 0, downloadMs: 0, totalMs: 0, bytesUp: 0, bytesDown: 0 };
    if (this.tailName) {
      if (!link) throw new SplitRunError(`${this.label} runs part of ${this.runner.modelName} remotely: an executor is needed`);
      const encodeStart = performance.now();
      const sends = this.sending?.sends ?? this.crossing.map((c) => ({ name: c.name, wireName: c.name }) as WireSend);
      const sent = await Promise.all(sends.map((w) => (w.encodeHere ? w.encodeHere(values[w.name]) : toRawTensor(w.wireName, values[w.name]))));
      const convertMs = performance.now() - encodeStart;
      const compress = this.sending?.encoding.deflate ? ('deflate' as const) : undefined;
      const outcome = await link.infer(this.tailName, sent, { outputs: this.tailOutputs, ...(compress ? { compress } : {}) });
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
    const mode: OutputCheckMode = this.sending?.lossy ? 'top1' : 'exact';
    const checks: OutputCheck[] = [];
    for (let i = 0; i < (options.warmup ?? 1); i++) checks.push(compareOutputs(this.runner.expected, (await this.runOnce(link, network)).outputs, mode));
    const runs: SplitRunTiming[] = [];
    for (let i = 0; i < options.runs; i++) {
      const { timing, outputs } = await this.runOnce(link, network);
      runs.push(timing);
      checks.push(compareOutputs(this.runner.expected, outputs, mode));
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
  /**
   * Send the crossing tensors in this wire encoding ("int8", "fp16+deflate", …), or 'auto':
   * the encoding (and, with --cut auto, the cut) chosen as `plan --encoding auto` chooses.
   */
  encoding?: string;
  /** Top-1 agreement (0..1) an encoding must keep for 'auto' and --cut auto (default 0.99). */
  minAgreement?: number;
  /** Sample inputs the agreement is measured on (default 32). */
  samples?: number;
}

/** What a run in a wire encoding chose, predicted and measured beside its timings. */
export interface SplitRunEncoding {
  /** The encoding the run used (device only: 'fp32', nothing is sent). */
  encoding: string;
  /** What was asked: 'auto' or an encoding's name. */
  requested: string;
  chosenBy: 'user' | 'auto';
  minAgreement: number;
  /** Sample inputs the agreement was measured on. */
  samples: number;
  /** Top-1 agreement with the unsplit model on the samples (encoded-split.ts), and the output errors. */
  agreement: number | null;
  maxAbsError?: number;
  meanAbsError?: number;
  /** True when the agreement is under the bound (only an encoding the user named can be). */
  belowBound: boolean;
  /** The cost model's time and energy for this (cut, encoding), with its bytes per inference and codec times. */
  predicted: { totalMs: number; energyMJ: number; uploadBytes: number; encodeMs: number; decodeMs: number };
  /** What the crossing tensors take in fp32: what the encoding saves against. */
  fp32UploadBytes: number;
  /** How each crossing tensor went: its name on the wire, datatype and int8/uint8 parameters (encode-surgery.ts). */
  wire: WireTensor[];
  /** Every pair measured for the choice with its predicted total, and those left out with why (below the bound, not applicable, JPEG). */
  considered: { cut: number; encoding: string; totalMs: number; agreement: number | null }[];
  excluded: { cut: number; encoding: string; reason: string }[];
}

/**
 * Checks a run's or a sweep's --encoding before any work: a known name or 'auto', none but
 * fp32 with a device executor, and no DAG partition (encodings are measured at topological
 * cuts). Throws a UsageError in one line.
 */
export function checkRunEncoding(encoding: string, context: { device?: boolean; dag?: boolean }): void {
  if (context.dag) throw new UsageError('--encoding chooses among topological cuts; the DAG partition runs in fp32 (leave out --cut dag or --encoding)');
  if (encoding === 'auto') {
    if (context.device) throw new UsageError('--encoding auto runs with the head on this machine; a device executor sends its head\'s outputs as they are');
    return;
  }
  let parsed: WireEncoding;
  try {
    parsed = parseWireEncoding(encoding);
  } catch (error) {
    throw new UsageError(firstLine(error).replace(/^WireEncodingError:\s*/, ''));
  }
  if (context.device && (parsed.base !== 'fp32' || parsed.deflate)) throw new UsageError(`--encoding ${encoding} runs with the head on this machine; a device executor sends its head's outputs as they are`);
}

/** The cut's crossing tensors, checked against an encoding the user named: one line naming the tensor it cannot apply to. */
export function refuseInapplicableEncoding(analyzed: AnalyzedModel, cut: number, encoding: string): void {
  if (encoding === 'auto') return;
  const split = splitModel(analyzed.model, analyzed.analysis, new Set(Array.from({ length: cut }, (_, i) => i)));
  const reason = whyNotApplicableAtCut(parseWireEncoding(encoding), encodableCrossing(split.crossing));
  if (reason) throw new UsageError(`cut ${cut}: ${reason}`);
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
  /** With --encoding: the encoding run, its predicted cost, its measured agreement and what the choice left out. */
  encoded?: SplitRunEncoding;
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
  const encodingAsked = request.encoding;
  if (encodingAsked !== undefined) {
    checkRunEncoding(encodingAsked, { device: Boolean(request.device), dag: request.cut === 'dag' });
    if (typeof request.cut === 'number') refuseInapplicableEncoding(analyzed, request.cut, encodingAsked);
  }
  const minAgreement = minAgreementOf({ minAgreement: request.minAgreement });
  const decided = request.cut === 'auto' || request.cut === 'dag';
  // An encoded run is predicted too (its measured time beside the predicted one): it needs the latencies.
  const predicting = decided || encodingAsked !== undefined;
  const needsExecutor = predicting || (request.cut as number) < nodeCount || request.network.name === 'measured';
  const control = needsExecutor ? request.connect() : null;
  const link = await resolveLink(request.network, control);
  let choice: DeviceLayers;
  let prediction: CutPrediction | null = null;
  let dag: DagPartition | null = null;
  if (predicting) {
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
    choice = dag ? { dag: dag.localNodes } : typeof request.cut === 'number' ? request.cut : prediction.chosen;
  } else {
    choice = request.cut as number;
  }
  let encodedChoice: { plan: EncodedPlan; wire: SplitWire } | null = null;
  if (encodingAsked !== undefined && prediction) {
    // The same choice as `plan --encoding`: at the given cut, or over the candidate cuts for --cut auto.
    const named = encodingAsked !== 'auto' && typeof request.cut === 'number';
    const plan = await planEncoded(analyzed, prediction.table, prediction.options, request.objective, {
      encoding: encodingAsked,
      // An encoding the user named at a cut the user named runs whatever its agreement (the report flags it).
      minAgreement: named ? 0 : minAgreement,
      samples: request.samples,
      ...(typeof request.cut === 'number' ? { cuts: [request.cut] } : {}),
      dimValues: request.dimValues,
      log: request.onProgress
    });
    const best = plan.choice.best;
    const evaluation = plan.evaluations.find((e) => e.cut === best.cut);
    encodedChoice = { plan: { ...plan, minAgreement }, wire: { encoding: parseWireEncoding(best.encoding), ranges: evaluation?.ranges ?? {} } };
    choice = best.cut;
  }
  const remoteNeeded = deviceLayersOf(choice).layers.length < nodeCount;

  const runner = await SplitRunner.open(analyzed, runnerOptionsOf(request));
  try {
    const prepared = await runner.prepare(choice, remoteNeeded ? control : null, encodedChoice?.wire ?? null);
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
      if (encodedChoice && encodingAsked !== undefined) report.encoded = encodedRunReport(encodedChoice.plan, encodingAsked, typeof request.cut === 'number' && encodingAsked !== 'auto', prepared);
      if (prediction) {
        report.decision = {
          objective: prediction.objective,
          serverLoad: prediction.options.serverLoad,
          latencies: prediction.latencies,
          chosen: dag ? 'dag' : (choice as number),
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

/** The encoded part of a run's report: what was chosen and measured on the samples, and what it was predicted to cost. */
function encodedRunReport(plan: EncodedPlan, requested: string, named: boolean, prepared: PreparedSplit): SplitRunEncoding {
  const best = plan.choice.best;
  const measured = plan.evaluations.flatMap((e) => e.measurements).find((m) => m.cut === best.cut && m.encoding === best.encoding);
  const agreement = measured?.agreement ?? (isLossy(parseWireEncoding(best.encoding)) ? null : 1);
  return {
    encoding: best.encoding,
    requested,
    chosenBy: named ? 'user' : 'auto',
    minAgreement: plan.minAgreement,
    samples: plan.samples,
    agreement,
    ...(measured?.maxAbsError !== undefined ? { maxAbsError: measured.maxAbsError } : {}),
    ...(measured?.meanAbsError !== undefined ? { meanAbsError: measured.meanAbsError } : {}),
    belowBound: agreement !== null && agreement < plan.minAgreement,
    predicted: { totalMs: best.totalMs, energyMJ: best.energyMJ, uploadBytes: best.uploadBytes, encodeMs: best.encodeMs, decodeMs: best.decodeMs },
    fp32UploadBytes: prepared.crossingBytes,
    wire: prepared.wire,
    considered: plan.choice.considered.map((c) => ({ cut: c.cut, encoding: c.encoding, totalMs: c.totalMs, agreement: c.agreement })),
    excluded: plan.choice.excluded
  };
}
