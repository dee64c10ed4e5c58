// The executor's models and their onnxruntime sessions. ModelRepository follows Triton's
// layout and model control: `DIR/<model>/<version>/model.onnx` (versions are whole
// numbers; every version present is loaded, the highest is served unless a request names
// one), load / unload / index, and uploads of Triton's `file:<version>/<name>` form —
// written under DIR (staged, then renamed into place) or, without DIR, kept in memory.
// Sessions are cached by the SHA-256 of the model's bytes: loading the same bytes again,
// under any name, reuses them instead of creating new ones.
//
// onnxruntime-node runs a session synchronously on the thread that calls it, so the
// executor runs sessions in worker threads (SessionWorkers), one per execution slot
// (--max-concurrency): the event loop keeps accepting, receiving and answering while
// models compute, and slots really run side by side. Each worker holds its own session of
// every loaded model (sessions cannot be shared between JS threads), so a model's weights
// are in memory once per slot — as Triton's instance groups hold them. The worker's code
// is a self-contained function sent as source text (`sessionWorkerMain`): the build
// bundles the CLI alone, so there is no separate worker file to start.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import type { RawTensor } from './link.js';
import { openRegularFileSync } from '../files/regular-file.js';
import { makeFolders } from '../files/output-path.js';
import { withPrepackingFor, withPrepackingForFile } from '../model/prepacking.js';
import {
  datatypeOfOrtType,
  decodeBytesElements,
  encodeBytesElements,
  ortTypeOf,
  ProtocolError,
  type LoadRequest,
  type ModelMetadata,
  type OrtTensorType,
  type RepositoryIndexEntry,
  type TensorMetadata
} from './protocol.js';

// ---- the session workers ---------------------------------------------------------------

/** A tensor between the main thread and a worker: numeric data as bytes, BYTES as strings. */
interface WireTensor {
  name: string;
  type: OrtTensorType;
  dims: number[];
  data: Uint8Array | string[];
}

interface WireValueMetadata {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

/**
 * Runs of the same inputs right after an emulated device's own that find its steady time
 * (the executor's --slowdown, and run --device-slowdown's heads: PreparedSplit.steadyHeadMs).
 */
export const EMULATED_STEADY_RUNS = 3;

type WorkerCall =
  | { op: 'open'; id: number; key: string; source: string | Uint8Array; options: ort.InferenceSession.SessionOptions }
  | { op: 'run'; id: number; key: string; feeds: WireTensor[]; fetches: string[]; steadyRuns?: number }
  | { op: 'release'; id: number; key: string }
  | { op: 'gc'; id: number };

type CallWithoutId = WorkerCall extends infer C ? (C extends WorkerCall ? Omit<C, 'id'> : never) : never;

type WorkerAnswer =
  | { id: number; ok: true; inputs?: WireValueMetadata[]; outputs?: WireValueMetadata[]; tensors?: WireTensor[]; computeMs?: number; steadyMs?: number; spentMs?: number; returned?: ArrayBuffer[] }
  | { id: number; ok: false; message: string };

/**
 * The body of a session worker. Sent as source text and called with the worker's own
 * `require`, so it must not use anything from this module's scope: only its parameters
 * and globals. Calls are handled one at a time, in order.
 */
function sessionWorkerMain(load: (id: string) => unknown, ortPath: string): void {
  const { parentPort } = load('node:worker_threads') as typeof import('node:worker_threads');
  const runtime = load(ortPath) as typeof import('onnxruntime-node');
  const port = parentPort as import('node:worker_threads').MessagePort;
  const sessions = new Map<string, import('onnxruntime-node').InferenceSession>();
  const arrays: Record<string, { new (buffer: ArrayBufferLike, offset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT: number }> = {
    float32: Float32Array,
    float64: Float64Array,
    float16: Uint16Array,
    int8: Int8Array,
    int16: Int16Array,
    int32: Int32Array,
    int64: BigInt64Array,
    uint8: Uint8Array,
    uint16: Uint16Array,
    uint32: Uint32Array,
    uint64: BigUint64Array,
    bool: Uint8Array
  };
  const message = (error: unknown): string => (error instanceof Error ? error.message : String(error)).split('\n')[0].trim();
  const describe = (values: readonly import('onnxruntime-node').InferenceSession.ValueMetadata[]) =>
    values.map((v) => (v.isTensor ? { name: v.name, isTensor: true, type: v.type, shape: [...v.shape] } : { name: v.name, isTensor: false }));

  async function handle(call: WorkerCall): Promise<void> {
    if (call.op === 'open') {
      const session =
        typeof call.source === 'string'
          ? await runtime.InferenceSession.create(call.source, call.options)
          : await runtime.InferenceSession.create(call.source, call.options);
      await sessions.get(call.key)?.release();
      sessions.set(call.key, session);
      port.postMessage({ id: call.id, ok: true, inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) });
    } else if (call.op === 'gc') {
      // A full collection in this thread too (the main thread set --expose-gc): buffers that
      // passed through it are freed now, not whenever this idle thread next collects.
      let gc: unknown = null;
      try {
        gc = (load('node:vm') as typeof import('node:vm')).runInNewContext('gc');
      } catch {
        gc = null;
      }
      if (typeof gc === 'function') (gc as () => void)();
      port.postMessage({ id: call.id, ok: true });
    } else if (call.op === 'release') {
      await sessions.get(call.key)?.release();
      sessions.delete(call.key);
      port.postMessage({ id: call.id, ok: true });
    } else {
      const session = sessions.get(call.key);
      if (!session) throw new Error(`no session for model ${call.key.slice(0, 12)} in this worker`);
      const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const feed of call.feeds) {
        if (Array.isArray(feed.data)) {
          feeds[feed.name] = new runtime.Tensor('string', feed.data, feed.dims);
          continue;
        }
        const Ctor = arrays[feed.type];
        // Views need their byte offset aligned to the element size; copy otherwise.
        const bytes = feed.data.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? feed.data : feed.data.slice();
        const view = new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
        feeds[feed.name] = new runtime.Tensor(feed.type as 'float32', view as Float32Array, feed.dims);
      }
      const start = performance.now();
      const results = await session.run(feeds, call.fetches);
      const computeMs = performance.now() - start;
      // More runs of the same feeds, right after: the fastest is the session's steady time.
      let steadyMs = computeMs;
      for (let run = 0; run < (call.steadyRuns ?? 0); run++) {
        const runStart = performance.now();
        await session.run(feeds, call.fetches);
        steadyMs = Math.min(steadyMs, performance.now() - runStart);
      }
      const spentMs = performance.now() - start;
      const tensors: WireTensor[] = [];
      const transfer: ArrayBuffer[] = [];
      for (const name of call.fetches) {
        const tensor = results[name];
        if (tensor.type === 'string') {
          tensors.push({ name, type: 'string', dims: [...tensor.dims], data: tensor.data as string[] });
          continue;
        }
        const data = tensor.data as ArrayBufferView;
        tensors.push({ name, type: tensor.type as OrtTensorType, dims: [...tensor.dims], data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
        if (data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) transfer.push(data.buffer);
      }
      // Large input buffers go back to the main thread to hold the next request's body.
      const returned: ArrayBuffer[] = [];
      for (const feed of call.feeds) {
        const buffer = Array.isArray(feed.data) ? null : feed.data.buffer;
        if (buffer instanceof ArrayBuffer && buffer.byteLength >= 1 << 20 && !returned.includes(buffer) && !transfer.includes(buffer)) returned.push(buffer);
      }
      try {
        port.postMessage({ id: call.id, ok: true, tensors, computeMs, steadyMs, spentMs, returned }, [...transfer, ...returned]);
      } catch {
        port.postMessage({ id: call.id, ok: true, tensors, computeMs, steadyMs, spentMs });
      }
    }
  }

  let chain: Promise<void> = Promise.resolve();
  port.on('message', (call: WorkerCall) => {
    chain = chain.then(() => handle(call).catch((error: unknown) => port.postMessage({ id: call.id, ok: false, message: message(error) })));
  });
}

/** onnxruntime refused a model or a run (`internal` false), or a worker failed (`internal` true). */
export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    message: string,
    readonly internal = false
  ) {
    super(message);
  }
}

interface Pending {
  resolve: (answer: WorkerAnswer & { ok: true }) => void;
  reject: (error: Error) => void;
}

interface OpenSpec {
  source: string | Uint8Array;
  options: ort.InferenceSession.SessionOptions;
}

/** One worker thread per execution slot; sessions are opened in every worker. */
export class SessionWorkers {
  private readonly workers: Worker[] = [];
  private readonly pending: Map<number, Pending>[] = [];
  private readonly opened = new Map<string, OpenSpec>();
  private readonly ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  private nextId = 1;
  private closing = false;

  constructor(readonly count: number) {
    for (let i = 0; i < count; i++) this.start(i);
  }

  private start(index: number): void {
    const source = `(${sessionWorkerMain.toString()})(require, ${JSON.stringify(this.ortPath)})`;
    const worker = new Worker(source, { eval: true });
    worker.unref();
    const pending = new Map<number, Pending>();
    this.workers[index] = worker;
    this.pending[index] = pending;
    worker.on('message', (answer: WorkerAnswer) => {
      const call = pending.get(answer.id);
      if (!call) return;
      pending.delete(answer.id);
      if (answer.ok) call.resolve(answer);
      else call.reject(new SessionError(cleanOrtMessage(answer.message)));
    });
    const fail = (reason: string) => {
      for (const call of pending.values()) call.reject(new SessionError(reason, true));
      pending.clear();
    };
    worker.on('error', (error) => fail(`session worker failed: ${error.message.split('\n')[0]}`));
    worker.on('exit', (code) => {
      fail(`session worker stopped (exit code ${code})`);
      if (this.closing || this.workers[index] !== worker) return;
      // A worker that died takes its sessions with it: start a new one and reopen them.
      this.start(index);
      for (const [key, spec] of this.opened) this.call(index, { op: 'open', key, ...spec }).catch(() => undefined);
    });
  }

  private call(index: number, call: CallWithoutId, transfer: ArrayBuffer[] = []): Promise<WorkerAnswer & { ok: true }> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.closing) return reject(new SessionError('the executor is shutting down', true));
      this.pending[index].set(id, { resolve, reject });
      this.workers[index].postMessage({ ...call, id }, transfer);
    });
  }

  /** Opens a session in every worker; returns the model's input and output metadata. */
  async open(key: string, spec: OpenSpec): Promise<{ inputs: WireValueMetadata[]; outputs: WireValueMetadata[] }> {
    const answers = await Promise.allSettled(this.workers.map((_, i) => this.call(i, { op: 'open', key, ...spec })));
    const failure = answers.find((a) => a.status === 'rejected');
    if (failure) {
      await this.release(key);
      throw failure.reason;
    }
    this.opened.set(key, spec);
    const first = (answers[0] as PromiseFulfilledResult<WorkerAnswer & { ok: true }>).value;
    return { inputs: first.inputs ?? [], outputs: first.outputs ?? [] };
  }

  /** Where a model's file now is (after an upload moved into place), for reopening after a worker restart. */
  retarget(key: string, source: string): void {
    const spec = this.opened.get(key);
    if (spec) this.opened.set(key, { ...spec, source });
  }

  async release(key: string): Promise<void> {
    this.opened.delete(key);
    await Promise.allSettled(this.workers.map((_, i) => this.call(i, { op: 'release', key })));
  }

  /**
   * Runs a session in worker `index`; `transfer` lists buffers the caller gives away. Large
   * input buffers come back in `returned`, for reuse. `steadyRuns` more runs of the same
   * inputs follow the first: `steadyMs` is the fastest run, `spentMs` the time of them all.
   */
  async run(
    index: number,
    key: string,
    inputs: readonly RawTensor[],
    fetches: string[],
    transfer: ArrayBuffer[],
    steadyRuns = 0
  ): Promise<{ outputs: RawTensor[]; computeMs: number; steadyMs: number; spentMs: number; returned: ArrayBuffer[] }> {
    const feeds: WireTensor[] = inputs.map((t) => ({
      name: t.name,
      type: ortTypeOf(t.datatype),
      dims: t.shape,
      data: t.datatype === 'BYTES' ? decodeBytesElements(t.name, t.data) : t.data
    }));
    const answer = await this.call(index, { op: 'run', key, feeds, fetches, steadyRuns }, transfer);
    const outputs = (answer.tensors ?? []).map((t): RawTensor => {
      const datatype = datatypeOfOrtType(t.type);
      if (!datatype) throw new SessionError(`output '${t.name}' has element type ${t.type}, which the protocol cannot carry`);
      return { name: t.name, datatype, shape: t.dims, data: Array.isArray(t.data) ? encodeBytesElements(t.data) : t.data };
    });
    const computeMs = answer.computeMs ?? 0;
    return { outputs, computeMs, steadyMs: answer.steadyMs ?? computeMs, spentMs: answer.spentMs ?? computeMs, returned: answer.returned ?? [] };
  }

  /** One full garbage collection in every worker (after a burst of large bodies). */
  async collectGarbage(): Promise<void> {
    await Promise.allSettled(this.workers.map((_, i) => this.call(i, { op: 'gc' })));
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** onnxruntime's message without its source location and status-code prefixes. */
export function cleanOrtMessage(message: string): string {
  return message
    .replace(/^Error:\s*/, '')
    .replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '')
    .replace(/^\S+\.(cc|cpp|h):\d+\s+\S+(\s+\S+)*?\]?\s(?=[A-Z[])/, '');
}

// ---- the repository ----------------------------------------------------------------------

export const PLATFORM = 'onnxruntime_onnx';
export const MODEL_FILE = 'model.onnx';
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/**
 * Where a version's model comes from: a file (with its folder, for external data) or bytes in
 * memory. A file may come with its content hash already known (a part built here, part-files.ts),
 * and may stand for the model whose weights it references (`standsFor`, that model's SHA-256:
 * the whole kept model, opened from a part file).
 */
export type ModelSource = { kind: 'file'; path: string; sha256?: string; standsFor?: string } | { kind: 'memory'; bytes: Uint8Array };

/** One model's sessions (one per worker), shared by every name and version loaded with these bytes. */
interface Instance {
  sha256: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  source: ModelSource;
  /** Loaded model versions that refer to it. */
  users: number;
  /** Runs and profiles in progress. */
  leases: number;
}

interface ModelRecord {
  name: string;
  state: RepositoryIndexEntry['state'];
  reason: string;
  /** Loaded versions, by version number. */
  versions: Map<number, Instance>;
  /** Uploaded without --models: the bytes live here (unloading forgets them). */
  inMemory: boolean;
}

/** A model version ready to serve. */
export interface ResolvedModel {
  name: string;
  version: number;
  sha256: string;
  metadata: ModelMetadata;
  source: ModelSource;
}

export interface LoadOutcome {
  name: string;
  versions: string[];
  /** SHA-256 of the served (highest) version. */
  sha256: string;
  /** True when every version's sessions already existed (identical bytes loaded before). */
  cached: boolean;
}

export interface RepositoryOptions {
  /** Triton-style model repository folder; without it, uploads live in memory. */
  dir?: string;
  workers: SessionWorkers;
  sessionOptions: ort.InferenceSession.SessionOptions;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function sha256OfFile(file: string): Promise<string> {
  // A regular file only (a FIFO named model.onnx would hang the read), read up to its size then.
  const { fd, size } = openRegularFileSync(file, { makeError: (message) => new ProtocolError(400, message) });
  const hash = createHash('sha256');
  for await (const chunk of createReadStream('', { fd, start: 0, end: Math.max(0, size - 1), highWaterMark: 4 << 20 })) if (size > 0) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function versionsIn(folder: string): number[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name) && existsSync(path.join(folder, e.name, MODEL_FILE)))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
}

function toTensorMetadata(values: WireValueMetadata[], model: string): TensorMetadata[] {
  return values.map((v) => {
    const datatype = v.type ? datatypeOfOrtType(v.type) : null;
    if (!v.isTensor || !datatype) {
      throw new ProtocolError(400, `model '${model}': '${v.name}' is ${v.isTensor ? `of element type ${v.type}` : 'not a tensor'}, which the protocol cannot carry`);
    }
    return { name: v.name, datatype, shape: (v.shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
  });
}

export function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name)) throw new ProtocolError(400, `"${name}" is not a valid model name (letters, digits, '_', '.', '-'; at most 128)`);
}

/** `1/model.onnx` → [1, 'model.onnx']; refuses paths that would leave the model's folder. */
function uploadPath(file: string): { version: number; relative: string } {
  const parts = file.split('/');
  if (parts.length < 2 || !/^\d+$/.test(parts[0]) || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\'))) {
    throw new ProtocolError(400, `"file:${file}" must name a file inside a version folder, e.g. "file:1/model.onnx"`);
  }
  return { version: Number(parts[0]), relative: parts.slice(1).join('/') };
}

export class ModelRepository {
  private readonly models = new Map<string, ModelRecord>();
  private readonly instances = new Map<string, Instance>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly dir: string | null;
  sessionsCreated = 0;

  constructor(private readonly options: RepositoryOptions) {
    this.dir = options.dir ? path.resolve(options.dir) : null;
    if (this.dir) makeFolders(this.dir);
  }

  /** Loads every model found under DIR; returns the ones that failed, with why. */
  async loadAll(): Promise<{ name: string; reason: string }[]> {
    const failures: { name: string; reason: string }[] = [];
    for (const name of this.modelsOnDisk()) {
      try {
        await this.load(name);
      } catch (error) {
        failures.push({ name, reason: (error as Error).message });
      }
    }
    return failures;
  }

  private modelsOnDisk(): string[] {
    if (!this.dir) return [];
    return readdirSync(this.dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && MODEL_NAME.test(e.name) && versionsIn(path.join(this.dir as string, e.name)).length > 0)
      .map((e) => e.name)
      .sort();
  }

  /** One load or unload of a name at a time. */
  private exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.locks.set(name, next);
    return next.finally(() => {
      if (this.locks.get(name) === next) this.locks.delete(name);
    });
  }

  /** Loads (or reloads) a model from DIR, or from the files of an upload. */
  load(name: string, request?: LoadRequest): Promise<LoadOutcome> {
    checkModelName(name);
    return this.exclusive(name, () => this.loadNow(name, request));
  }

  /**
   * Loads `name` (one version) from a file whose content hash is known: a part built here
   * (part-files.ts), its weights in the files it references, standing for the model `standsFor`
   * when it is that whole model. Like an upload without --models, unloading forgets it.
   */
  loadFile(name: string, file: string, sha256: string, standsFor?: string): Promise<LoadOutcome> {
    checkModelName(name);
    return this.exclusive(name, () => this.install(name, new Map([[1, { kind: 'file', path: file, sha256, standsFor }]]), this.models.get(name), true));
  }

  private async loadNow(name: string, request?: LoadRequest): Promise<LoadOutcome> {
    const files = request?.files ?? [];
    const record = this.models.get(name);
    if (files.length === 0) {
      if (!this.dir || versionsIn(path.join(this.dir, name)).length === 0) {
        throw new ProtocolError(404, `unknown model '${name}'${this.dir ? ` (no ${name}/<version>/${MODEL_FILE} under ${this.dir})` : ' (upload it: this executor has no --models folder)'}`);
      }
      const folder = path.join(this.dir, name);
      const sources = new Map(versionsIn(folder).map((v) => [v, { kind: 'file', path: path.join(folder, String(v), MODEL_FILE) } as ModelSource]));
      return this.install(name, sources, record, false);
    }
    const parsed = files.map((f) => ({ ...uploadPath(f.path), bytes: f.bytes }));
    const versions = [...new Set(parsed.map((f) => f.version))].sort((a, b) => a - b);
    for (const version of versions) {
      if (!parsed.some((f) => f.version === version && f.relative === MODEL_FILE)) {
        throw new ProtocolError(400, `the upload has files for version ${version} but no "file:${version}/${MODEL_FILE}"`);
      }
    }
    if (!this.dir) {
      const extra = parsed.find((f) => f.relative !== MODEL_FILE);
      if (extra) throw new ProtocolError(400, `"file:${extra.version}/${extra.relative}": files beside ${MODEL_FILE} (external data) need an executor started with --models DIR`);
      const sources = new Map(parsed.map((f) => [f.version, { kind: 'memory', bytes: f.bytes } as ModelSource]));
      return this.install(name, sources, record, true);
    }
    // Stage the upload in a fresh folder, open it from there, and only then move it into place.
    const staging = path.join(this.dir, `.${name}.upload-${process.pid}-${Date.now()}`);
    try {
      for (const file of parsed) {
        const target = path.join(staging, String(file.version), file.relative);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, file.bytes);
      }
      const sources = new Map(versions.map((v) => [v, { kind: 'file', path: path.join(staging, String(v), MODEL_FILE) } as ModelSource]));
      const outcome = await this.install(name, sources, record, false);
      const final = path.join(this.dir, name);
      const retired = `${staging}.old`;
      if (existsSync(final)) renameSync(final, retired);
      renameSync(staging, final);
      rmSync(retired, { recursive: true, force: true });
      for (const [version, instance] of this.models.get(name)?.versions ?? []) {
        if (instance.source.kind === 'file' && instance.source.path.startsWith(staging + path.sep)) {
          instance.source = { kind: 'file', path: path.join(final, String(version), MODEL_FILE) };
          this.options.workers.retarget(instance.sha256, instance.source.path);
        }
      }
      return outcome;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  /** Opens (or reuses) sessions for each version and makes them the model's; the old ones are let go. */
  private async install(name: string, sources: Map<number, ModelSource>, previous: ModelRecord | undefined, inMemory: boolean): Promise<LoadOutcome> {
    const record: ModelRecord = previous ?? { name, state: 'LOADING', reason: '', versions: new Map(), inMemory };
    if (!previous) this.models.set(name, record);
    const wasState = record.state;
    record.state = 'LOADING';
    const acquired = new Map<number, Instance>();
    let cached = true;
    try {
      for (const [version, source] of sources) {
        const { instance, reused } = await this.instanceFor(source, name, version);
        instance.users++;
        acquired.set(version, instance);
        if (!reused) cached = false;
      }
    } catch (error) {
      for (const instance of acquired.values()) this.letGo(instance);
      if (record.versions.size > 0) {
        record.state = wasState === 'LOADING' ? 'READY' : wasState;
      } else if (previous) {
        record.state = 'UNAVAILABLE';
        record.reason = (error as Error).message;
      } else {
        this.models.delete(name);
      }
      throw error;
    }
    for (const instance of record.versions.values()) this.letGo(instance);
    record.versions = acquired;
    record.inMemory = inMemory;
    record.state = 'READY';
    record.reason = '';
    const highest = Math.max(...acquired.keys());
    return { name, versions: [...acquired.keys()].map(String), sha256: (acquired.get(highest) as Instance).sha256, cached };
  }

  private async instanceFor(source: ModelSource, name: string, version: number): Promise<{ instance: Instance; reused: boolean }> {
    const sha256 = source.kind === 'memory' ? sha256Of(source.bytes) : (source.sha256 ?? (await this.sha256OfVersion(source.path)));
    const existing = this.instances.get(sha256);
    if (existing) return { instance: existing, reused: true };
    let opened;
    try {
      const options = source.kind === 'memory' ? withPrepackingFor(this.options.sessionOptions, source.bytes) : await withPrepackingForFile(this.options.sessionOptions, source.path);
      opened = await this.options.workers.open(sha256, { source: source.kind === 'memory' ? source.bytes : source.path, options });
    } catch (error) {
      throw new ProtocolError(400, `onnxruntime cannot load model '${name}' version ${version}: ${(error as Error).message}`);
    }
    let instance: Instance;
    try {
      instance = { sha256, inputs: toTensorMetadata(opened.inputs, name), outputs: toTensorMetadata(opened.outputs, name), source, users: 0, leases: 0 };
    } catch (error) {
      await this.options.workers.release(sha256);
      throw error;
    }
    this.sessionsCreated++;
    this.instances.set(sha256, instance);
    return { instance, reused: false };
  }

  /**
   * The content hash of a version: of model.onnx alone when the folder holds nothing else
   * (so it equals the hash of the uploaded bytes), else of model.onnx and every other file
   * with its name, so models that differ only in external data do not share sessions.
   */
  private async sha256OfVersion(modelPath: string): Promise<string> {
    const folder = path.dirname(modelPath);
    const others = readdirSync(folder, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => path.relative(folder, path.join(e.parentPath, e.name)))
      .filter((f) => f !== MODEL_FILE)
      .sort();
    const modelHash = await sha256OfFile(modelPath);
    if (others.length === 0) return modelHash;
    const hash = createHash('sha256').update(modelHash);
    for (const file of others) hash.update(`\0${file}\0`).update(await sha256OfFile(path.join(folder, file)));
    return hash.digest('hex');
  }

  private letGo(instance: Instance): void {
    instance.users--;
    this.releaseIfUnused(instance);
  }

  private releaseIfUnused(instance: Instance): void {
    if (instance.users > 0 || instance.leases > 0 || this.instances.get(instance.sha256) !== instance) return;
    this.instances.delete(instance.sha256);
    void this.options.workers.release(instance.sha256);
  }

  unload(name: string): Promise<void> {
    return this.exclusive(name, async () => {
      const record = this.models.get(name);
      if (!record || record.versions.size === 0) {
        if (record || this.modelsOnDisk().includes(name)) return;
        throw new ProtocolError(404, `unknown model '${name}'`);
      }
      for (const instance of record.versions.values()) this.letGo(instance);
      record.versions = new Map();
      if (record.inMemory) this.models.delete(name);
      else {
        record.state = 'UNAVAILABLE';
        record.reason = 'unloaded';
      }
    });
  }

  /** Triton's repository index: every model on disk or loaded, one entry per loaded version. */
  index(readyOnly = false): RepositoryIndexEntry[] {
    const entries: RepositoryIndexEntry[] = [];
    const names = new Set([...this.modelsOnDisk(), ...this.models.keys()]);
    for (const name of [...names].sort()) {
      const record = this.models.get(name);
      if (record && record.versions.size > 0) {
        for (const [version, instance] of [...record.versions].sort((a, b) => a[0] - b[0])) {
          entries.push({ name, version: String(version), state: record.state, reason: record.reason, sha256: instance.sha256 });
        }
      } else if (!readyOnly) {
        entries.push({ name, state: record?.state ?? 'UNAVAILABLE', reason: record?.reason || 'not loaded' });
      }
    }
    return readyOnly ? entries.filter((e) => e.state === 'READY') : entries;
  }

  /** The version to serve: the one asked for, else the highest. 404 for unknown models and versions. */
  resolve(name: string, version?: string): ResolvedModel {
    const record = this.models.get(name);
    if (!record) throw new ProtocolError(404, `unknown model '${name}'`);
    if (record.versions.size === 0) throw new ProtocolError(400, `model '${name}' is not ready (${record.reason || record.state.toLowerCase()})`);
    let number: number;
    if (version === undefined) number = Math.max(...record.versions.keys());
    else {
      if (!/^\d+$/.test(version) || !record.versions.has(Number(version))) {
        throw new ProtocolError(404, `model '${name}' has no version ${version} (versions: ${[...record.versions.keys()].join(', ')})`);
      }
      number = Number(version);
    }
    const instance = record.versions.get(number) as Instance;
    return {
      name,
      version: number,
      sha256: instance.sha256,
      source: instance.source,
      metadata: {
        name,
        versions: [...record.versions.keys()].sort((a, b) => a - b).map(String),
        platform: PLATFORM,
        inputs: instance.inputs,
        outputs: instance.outputs
      }
    };
  }

  /** Whether a model (version) is ready; false for unknown ones. */
  isReady(name: string, version?: string): boolean {
    try {
      this.resolve(name, version);
      return this.models.get(name)?.state === 'READY';
    } catch {
      return false;
    }
  }

  /** Keeps a model's sessions alive while `work` uses them, even if it is unloaded meanwhile. */
  async withSessions<T>(model: ResolvedModel, work: () => Promise<T>): Promise<T> {
    const instance = this.instances.get(model.sha256);
    if (!instance) throw new ProtocolError(400, `model '${model.name}' was unloaded`);
    instance.leases++;
    try {
      return await work();
    } finally {
      instance.leases--;
      this.releaseIfUnused(instance);
    }
  }

  /** Releases every session. */
  async close(): Promise<void> {
    for (const sha256 of this.instances.keys()) await this.options.workers.release(sha256);
    this.instances.clear();
    this.models.clear();
  }
}
