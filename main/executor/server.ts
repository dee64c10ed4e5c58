// main/executor/ — the remote side: the Open Inference Protocol server (here), its protocol,
// repository and load statistics, the client and its shaped link, tensor conversion
// (ort-tensors.ts) and a real executor child process (executor-process.ts).
//
// The remote executor: a headless HTTP server (node:http) speaking the Open Inference
// Protocol v2 REST API the way NVIDIA Triton does — health, server and model metadata,
// inference with Triton's binary tensor data extension, and Triton's model repository
// extension (index, load with `file:` uploads, unload). The studio runs split tails here
// (or on a real Triton); `neurosurgeon executor` (main/cli/executor-command.ts) starts it.
//
// Studio extensions, under /v2/studio (listed as "studio" in the server metadata):
//   POST /v2/studio/models/{m}[/versions/{v}]/profile  {"runs","warmup","minTimeMs","optimization"}
//        → a LatencyProfile (app/profiling/types.ts) measured here, per layer, by
//          `neurosurgeon profile` in a child process (main/profiling/profile-process.ts, as
//          every profile; "optimization" defaults to the level it serves at); it takes an
//          execution slot like an inference.
//   GET  /v2/studio/load → ExecutorLoad (load-stats.ts): in flight, queued, completed,
//          rejected, recent compute percentiles and Neurosurgeon's load factor K.
//   POST /v2/studio/sink → reads and discards the body: {"bytes", "receive_ms"} (uplink probe).
//   GET  /v2/studio/source?bytes=N → N bytes of zeros (downlink probe).
// Upload a model once (listed as "studio_sources"; sources.ts): PUT/GET
// /v2/studio/sources/{sha256} keeps a whole model by its hash, and POST
// /v2/studio/models/{m}/build loads a part of it (tail, head or the model itself) built
// here by the PartBuilder the executor was started with, checked against the client's hash.
// As a device (device.ts): with --upstream, POST /v2/studio/forward runs a head here and
// sends its output to that server (no other); --slowdown F stretches compute and profiles.
// Inference responses carry "compute_ms", "queue_ms" and "receive_ms" in `parameters`.
// Triton's model configuration extension, `GET /v2/models/{m}[/versions/{v}]/config` (the
// same facts as an export's config.pbtxt, triton-config.ts), and statistics extension,
// `GET /v2/models[/{m}[/versions/{v}]]/stats` (model-stats.ts), are served too.
//
// Requests are admitted by AdmissionGate (load-stats.ts): --max-concurrency run at once in
// session worker threads (repository.ts), --max-queue wait, the rest get 503. Bodies over
// --max-body-mb get 413 before or while they arrive (the rest is not buffered). Before a
// body is read it must fit the in-flight body budget (--max-inflight-mb, BodyBudget): the
// bytes of every body being received or waiting; a body that does not fit gets 503 with
// Retry-After without being read. A request's head must arrive within --headers-timeout-s,
// and its body within --body-timeout-s and above --min-body-rate-kbps over every 10 s
// (408 beyond). Once the executor is idle after large bodies, their buffers are let go and
// a garbage collection returns the memory, so its RSS goes back near where it was. Every
// failure is the protocol's {"error": "..."} with a fitting status, and no request can
// take the process down. Inference bodies may be compressed both ways, as Triton's are
// (Content-Encoding gzip/deflate in, Accept-Encoding honoured out; content-coding.ts).
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import { DEFAULT_GRAPH_OPTIMIZATION, type ExecutionProviderName } from '../../app/profiling/types.js';
import { toolVersion } from '../files/paths.js';
import { profileInChildProcess } from '../profiling/profile-process.js';
import { ProfileError } from '../profiling/profiler.js';
import { runSessionOptions, sessionOptionsFor } from '../profiling/providers.js';
import { AdmissionAbortedError, AdmissionGate, LoadStats, QueueFullError, type Slot } from './load-stats.js';
import {
  checkAgainstModel,
  decodeInferRequest,
  encodeInferResponse,
  headerLength,
  INFERENCE_HEADER,
  parseLoadRequest,
  ProtocolError,
  type EncodedBody,
  type ServerMetadata
} from './protocol.js';
import { checkModelName, EMULATED_STEADY_RUNS, MODEL_FILE, ModelRepository, SessionError, SessionWorkers, type LoadOutcome, type ResolvedModel } from './repository.js';
import { ModelStatsBook, type ModelStatistics } from './model-stats.js';
import { tritonModelConfig, type TritonModelConfig } from './triton-config.js';
import { ortTypeOf } from './protocol.js';
import { parseBuildRequest, sha256Hex, SourceStore, type BuiltPart, type PartBuilder } from './sources.js';
import { PartFiles } from './part-files.js';
import { parseForward, slowedDeviceProfile, slowedProfile, UpstreamClients, type UpstreamOptions } from './device.js';
import { characterizeInChildProcess } from '../profiling/characterize-process.js';
import { DeviceProfileError } from '../profiling/characterize.js';
import { realClock } from './shaper.js';
import type { RawTensor } from './link.js';
import { compressChunks, inflateBody, requestCoding, responseCoding } from './content-coding.js';
import { decodeImageInputs } from './image-inputs.js';

export interface ExecutorOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Bearer token required on everything but /v2/health/live. */
  token?: string;
  ep: ExecutionProviderName;
  maxBodyBytes: number;
  maxConcurrency: number;
  maxQueue: number;
  /** Per request, from its body's arrival until its answer (queue wait and compute). */
  timeoutMs: number;
  /** Bytes of request bodies held at once, being received or waiting (default: see defaultMaxInflightBytes). */
  maxInflightBytes?: number;
  /** A request's head (request line and headers) must arrive within this long (default 30 000 ms). */
  headersTimeoutMs?: number;
  /** A body must arrive within this long (0, the default: no absolute limit). */
  bodyTimeoutMs?: number;
  /** A body arriving slower than this, kbit/s, over any 10 s window is cut off (default 32; 0: no floor). */
  minBodyRateKbps?: number;
  modelsDir?: string;
  /** Builds parts of kept models (sources.ts); without it, builds answer 501 and clients upload parts themselves. */
  partBuilder?: PartBuilder;
  /** Bytes of whole models kept for builds (default 2 GiB). */
  maxSourceBytes?: number;
  /** As a device executor: the one server it forwards heads' outputs to (device.ts). */
  upstream?: UpstreamOptions;
  /** Emulates a device this many times slower (≥ 1; default 1): compute stretched, profiles scaled. */
  slowdown?: number;
  /** One line per request (method, path, status, ms); quiet when absent. */
  log?: (line: string) => void;
  /** Warnings (a model in DIR that failed to load …). */
  warn?: (line: string) => void;
}

export interface RunningExecutor {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const EXECUTOR_NAME = 'neurosurgeon-executor';
export const EXTENSIONS = ['binary_tensor_data', 'model_repository', 'model_configuration', 'statistics', 'studio', 'studio_sources'];

/** Bodies held at once by default: a quarter of this machine's memory, at most 4 GiB, at least one --max-body-mb body. */
export function defaultMaxInflightBytes(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes, Math.min(4 << 30, Math.floor(os.totalmem() / 4)));
}

/** The window over which a body's arrival rate is checked against --min-body-rate-kbps. */
export const BODY_RATE_WINDOW_MS = 10_000;

/**
 * The in-flight body budget (--max-inflight-mb): bytes of request bodies being received or
 * waiting for their answer. A body is admitted before it is read — by its Content-Length,
 * or chunk by chunk when it has none — or refused with 503 and Retry-After.
 */
export class BodyBudget {
  used = 0;

  constructor(readonly limit: number) {}

  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }
}

/** A 503 that tells the client when to try again. */
class RetryLaterError extends ProtocolError {
  constructor(
    message: string,
    readonly retryAfterS = 1
  ) {
    super(503, message);
  }
}

/** The executor could not start listening (port taken, bad address). */
export class ExecutorStartError extends Error {
  override name = 'ExecutorStartError';
}

/** The client went away before its request was read: nothing to answer. */
class ClientGoneError extends Error {
  override name = 'ClientGoneError';
}

class RequestTimeoutError extends Error {
  override name = 'RequestTimeoutError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Compares a request's bearer token with the expected one in constant time. */
function tokenMatches(header: string | undefined, expected: Buffer): 'ok' | 'missing' | 'wrong' {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return 'missing';
  return timingSafeEqual(digest(match[1].trim()), expected) ? 'ok' : 'wrong';
}

const POOLED_MIN_BYTES = 1 << 20;

/**
 * Buffers for large request bodies, reused once a worker hands them back: a fresh 100 MB
 * buffer costs more in page faults than the copy of the body into it. Holds at most
 * `maxBytes`, and lets go of buffers unused for `idleMs`.
 */
export class BodyBuffers {
  private readonly free: { buffer: ArrayBuffer; since: number }[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxBytes: number,
    private readonly idleMs = 1500
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(idleMs / 3, 10_000)));
    this.sweeper.unref();
  }

  /** An ArrayBuffer of at least `size` bytes that no one else holds. */
  take(size: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const length = this.free[i].buffer.byteLength;
      if (length >= size && length <= size * 2 && (best < 0 || length < this.free[best].buffer.byteLength)) best = i;
    }
    if (best >= 0) return this.free.splice(best, 1)[0].buffer;
    return Buffer.allocUnsafeSlow(size).buffer as ArrayBuffer;
  }

  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength < POOLED_MIN_BYTES || buffer.byteLength > this.maxBytes || this.free.some((f) => f.buffer === buffer)) return;
    this.free.push({ buffer, since: performance.now() });
    let total = this.free.reduce((sum, f) => sum + f.buffer.byteLength, 0);
    while (total > this.maxBytes) total -= (this.free.shift() as { buffer: ArrayBuffer }).buffer.byteLength;
  }

  get pooledBytes(): number {
    return this.free.reduce((sum, f) => sum + f.buffer.byteLength, 0);
  }

  private sweep(): void {
    const now = performance.now();
    for (let i = this.free.length - 1; i >= 0; i--) if (now - this.free[i].since > this.idleMs) this.free.splice(i, 1);
  }

  /** Lets go of every pooled buffer. */
  clear(): void {
    this.free.length = 0;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.free.length = 0;
  }
}

interface ReceivedBody {
  body: Buffer;
  receiveMs: number;
}

/** How a body must arrive: its deadline, its rate floor, and (for a body of no declared length) the budget to take its bytes from. */
export interface BodyRules {
  /** 0: no absolute limit. */
  timeoutMs: number;
  /** Bytes per second over each BODY_RATE_WINDOW_MS; 0: no floor. */
  minBytesPerSecond: number;
  /** Takes bytes from the in-flight budget as they arrive (chunked bodies); false when full. */
  take?: (bytes: number) => boolean;
}

const NO_RULES: BodyRules = { timeoutMs: 0, minBytesPerSecond: 0 };

/**
 * Watches a body's arrival: fails it (408) past the absolute deadline, or when a window of
 * BODY_RATE_WINDOW_MS brought fewer bytes than the floor asks — one byte every few seconds
 * no longer holds a connection forever.
 */
function watchArrival(rules: BodyRules, startedAt: number, fail: (error: ProtocolError) => void): { add: (bytes: number) => void; stop: () => void } {
  let total = 0;
  let windowStart = startedAt;
  let windowBytes = 0;
  const timer =
    rules.timeoutMs > 0 || rules.minBytesPerSecond > 0
      ? setInterval(() => {
          const now = performance.now();
          if (rules.timeoutMs > 0 && now - startedAt > rules.timeoutMs) {
            return fail(new ProtocolError(408, `the request body did not arrive within ${rules.timeoutMs / 1000} s (--body-timeout-s)`));
          }
          if (rules.minBytesPerSecond > 0 && now - windowStart >= BODY_RATE_WINDOW_MS) {
            const rate = (total - windowBytes) / ((now - windowStart) / 1000);
            if (rate < rules.minBytesPerSecond) {
              return fail(
                new ProtocolError(408, `the request body arrived at ${((rate * 8) / 1000).toFixed(2)} kbit/s, below ${((rules.minBytesPerSecond * 8) / 1000).toFixed(0)} kbit/s (--min-body-rate-kbps)`)
              );
            }
            windowStart = now;
            windowBytes = total;
          }
        }, Math.min(1000, BODY_RATE_WINDOW_MS / 4))
      : null;
  return {
    add: (bytes) => {
      total += bytes;
    },
    stop: () => {
      if (timer) clearInterval(timer);
    }
  };
}

/**
 * Reads a whole request body into one buffer of its own (so it can be handed to a worker
 * without a copy), shifted so the byte at `alignAt` (the start of the binary tensors)
 * lies on an 8-byte boundary. Stops buffering past `limit` bytes (413), when the body
 * arrives too slowly or too late (408), or when a body of no declared length no longer fits
 * the in-flight budget (503).
 */
function readBody(req: http.IncomingMessage, limit: number, arrivedAt: number, alignAt: number | null, buffers?: BodyBuffers, rules: BodyRules = NO_RULES): Promise<ReceivedBody> {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (declared !== null && declared > limit) return Promise.reject(tooLarge(declared, limit));
  const shift = alignAt !== null ? (8 - (alignAt % 8)) % 8 : 0;
  const allocate = (size: number): Buffer => Buffer.from(buffers ? buffers.take(size + shift) : (Buffer.allocUnsafeSlow(size + shift).buffer as ArrayBuffer), shift, size);
  return new Promise<ReceivedBody>((resolve, reject) => {
    const fixed = declared !== null ? allocate(declared) : null;
    const chunks: Buffer[] = [];
    let received = 0;
    const stopWith = (error: Error) => {
      cleanup();
      stopTakingBody(req);
      reject(error);
    };
    const watch = watchArrival(rules, performance.now(), stopWith);
    const cleanup = () => {
      watch.stop();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      watch.add(chunk.byteLength);
      if (received > limit || (fixed && received > fixed.byteLength)) {
        stopWith(tooLarge(received, limit));
        return;
      }
      if (!fixed && rules.take && !rules.take(chunk.byteLength)) {
        stopWith(new RetryLaterError(`the executor holds as many request bodies as --max-inflight-mb allows; retry in a moment`));
        return;
      }
      if (fixed) chunk.copy(fixed, received - chunk.byteLength);
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      let body = fixed;
      if (!body) {
        body = allocate(received);
        let offset = 0;
        for (const chunk of chunks) offset += chunk.copy(body, offset);
      }
      resolve({ body: body.subarray(0, received), receiveMs: performance.now() - arrivedAt });
    };
    const onClose = () => {
      cleanup();
      reject(new ClientGoneError('the client closed the connection during the request'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

function tooLarge(bytes: number, limit: number): ProtocolError {
  return new ProtocolError(413, `request body of ${bytes} bytes or more is over the limit of ${limit} bytes (--max-body-mb)`);
}

/**
 * Stops taking in a body that will not be read. Node would drain an unread body at full
 * speed once the answer is out; for a 200 MB upload being refused that is a second of
 * discarding at loopback speed, and memory the allocator keeps afterwards. The rest of a
 * body is discarded up to `allowance` bytes — enough for a client that reads its answer
 * only once its upload is done (fetch) to finish a body of that size — and past that the
 * request is paused: TCP's window stops the client, costing nothing here.
 */
export const DISCARD_ALLOWANCE_BYTES = 8 << 20;

function stopTakingBody(req: http.IncomingMessage, allowance = DISCARD_ALLOWANCE_BYTES): void {
  req.removeAllListeners('data');
  let discarded = 0;
  req.on('data', (chunk: Buffer) => {
    discarded += chunk.byteLength;
    if (discarded > allowance) {
      req.removeAllListeners('data');
      req.pause();
    }
  });
  req.resume();
}

/** A small JSON request body (index, unload, profile options): {} when empty. */
async function readJsonObject(req: http.IncomingMessage, arrivedAt: number, rules: BodyRules = NO_RULES): Promise<Record<string, unknown>> {
  const { body } = await readBody(req, 1 << 20, arrivedAt, null, undefined, rules);
  if (body.toString('utf8').trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ProtocolError(400, `the request body is not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ProtocolError(400, 'the request body must be a JSON object');
  return json as Record<string, unknown>;
}

/** Writes a response body honouring backpressure; settles even when the client goes away meanwhile. */
function writeChunks(res: http.ServerResponse, chunks: readonly Uint8Array[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let index = 0;
    const onError = (error: Error) => reject(error);
    const onClose = () => {
      if (!res.writableFinished) reject(new ClientGoneError('the client closed the connection during the response'));
    };
    res.once('error', onError);
    res.once('close', onClose);
    const next = () => {
      while (index < chunks.length) {
        if (!res.write(chunks[index++])) {
          res.once('drain', next);
          return;
        }
      }
      res.end(() => {
        res.off('error', onError);
        res.off('close', onClose);
        resolve();
      });
    };
    next();
  });
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown): Promise<void> {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.byteLength });
  return writeChunks(res, [body]);
}

function sendEmpty(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

/** Answers smaller than this are not compressed, whatever Accept-Encoding says. */
export const MIN_COMPRESSED_RESPONSE_BYTES = 1024;

/** An inference answer; compressed in `coding` when the client's Accept-Encoding asked (the inference header length stays the uncompressed JSON's, as Triton's). */
async function sendEncoded(res: http.ServerResponse, encoded: EncodedBody, coding: 'gzip' | 'deflate' | null = null): Promise<void> {
  const headers: http.OutgoingHttpHeaders = { 'content-length': encoded.byteLength };
  if (encoded.headerLength !== null) {
    headers['content-type'] = 'application/octet-stream';
    headers[INFERENCE_HEADER] = encoded.headerLength;
  } else headers['content-type'] = 'application/json';
  let chunks: readonly Uint8Array[] = [encoded.json, ...encoded.chunks];
  // Small answers are sent as they are: compressing a few hundred bytes gains nothing (as web servers' minimum length).
  if (coding && encoded.byteLength >= MIN_COMPRESSED_RESPONSE_BYTES) {
    const compressed = await compressChunks(chunks, coding);
    chunks = [compressed];
    headers['content-length'] = compressed.byteLength;
    headers['content-encoding'] = coding;
    headers.vary = 'Accept-Encoding';
  }
  res.writeHead(200, headers);
  return writeChunks(res, chunks);
}

interface Route {
  method: string;
  pattern: RegExp;
  /** false only for /v2/health/live. */
  auth: boolean;
  /** The route keeps its body in memory: it must fit the in-flight body budget first. */
  holdsBody?: boolean;
  handle: (context: RequestContext, match: RegExpExecArray) => Promise<void> | void;
}

interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  arrivedAt: number;
  /** How its body must arrive (deadline, rate floor, budget for a body of no declared length). */
  rules: BodyRules;
  /** Bytes of the in-flight budget this request holds, given back when its answer is done. */
  reserved: number;
}

const MODEL = '/v2/models/([^/]+)(?:/versions/([^/]+))?';

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ProtocolError(400, `"${segment}" is not a valid URL path segment`);
  }
}

function positiveIntegerField(body: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const value = body[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolError(400, `"${key}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Starts an executor; resolves once it listens (and every model under --models has been tried). */
export async function startExecutor(options: ExecutorOptions): Promise<RunningExecutor> {
  const provider = await sessionOptionsFor(options.ep);
  const workers = new SessionWorkers(options.maxConcurrency);
  const repository = new ModelRepository({
    dir: options.modelsDir,
    workers,
    // Slots share the cores: onnxruntime threads that spin while waiting for work would
    // burn the cycles the other slots need (measured: a multiple of the throughput lost).
    sessionOptions: runSessionOptions(provider, DEFAULT_GRAPH_OPTIMIZATION)
  });
  const gate = new AdmissionGate(options.maxConcurrency, options.maxQueue);
  const stats = new LoadStats(gate);
  const modelStats = new ModelStatsBook();
  const budget = new BodyBudget(options.maxInflightBytes ?? defaultMaxInflightBytes(options.maxBodyBytes));
  const bodyBuffers = new BodyBuffers(Math.min(options.maxBodyBytes, budget.limit, 512 << 20));
  const minBytesPerSecond = ((options.minBodyRateKbps ?? 32) * 1000) / 8;
  const reclaimer = memoryReclaimer(
    () => budget.used === 0 && gate.inFlight === 0 && gate.queued === 0,
    () => {
      bodyBuffers.clear();
      void workers.collectGarbage();
    }
  );
  const expectedToken = options.token !== undefined ? digest(options.token) : null;
  const sourceStore = new SourceStore(options.maxSourceBytes ?? 2 << 30);
  const partFiles = new PartFiles((sha256) => sourceStore.has(sha256));
  const slowdown = options.slowdown ?? 1;
  const upstreamClients = options.upstream ? new UpstreamClients(options.upstream, options.timeoutMs) : null;
  // An emulated device is --slowdown× this machine at its steady speed, as its profiles
  // are: the runs after a request's own find it (PreparedSplit.steadyHeadMs says why), as
  // many as fit in the stretched time.
  const steadyRuns = slowdown > 1 ? Math.min(EMULATED_STEADY_RUNS, Math.max(0, Math.floor(slowdown) - 1)) : 0;
  /** Stretches a compute to slowdown × its steady time (a sleep after it); returns the stretched time. */
  const stretch = async (run: { computeMs: number; steadyMs: number; spentMs: number }): Promise<number> => {
    if (slowdown <= 1) return run.computeMs;
    const emulatedMs = run.steadyMs * slowdown;
    if (emulatedMs > run.spentMs) await realClock.sleep(emulatedMs - run.spentMs);
    return Math.max(emulatedMs, run.spentMs);
  };
  let closing = false;

  try {
    for (const failure of await repository.loadAll()) options.warn?.(`model '${failure.name}' not loaded: ${failure.reason}`);
  } catch (error) {
    await workers.close();
    throw error;
  }

  /** Waits for a slot and runs `work` in it, within the request's time limit. */
  async function inSlot<T>(model: ResolvedModel, work: (slot: Slot, signal: AbortSignal) => Promise<T>): Promise<{ value: T; slot: Slot }> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new RequestTimeoutError(`model '${model.name}' did not answer within ${options.timeoutMs / 1000} s (--timeout-s)`));
      }, options.timeoutMs);
    });
    expired.catch(() => undefined);
    try {
      let slot: Slot;
      try {
        slot = await Promise.race([gate.acquire(controller.signal), expired]);
      } catch (error) {
        if (error instanceof AdmissionAbortedError) throw new RequestTimeoutError(`model '${model.name}' waited ${options.timeoutMs / 1000} s for a free slot (--timeout-s)`);
        throw error;
      }
      // The slot stays taken until the work really ends, even when the answer was a timeout.
      const running = repository.withSessions(model, () => work(slot, controller.signal)).finally(() => slot.release());
      running.catch(() => undefined);
      return { value: await Promise.race([running, expired]), slot };
    } finally {
      clearTimeout(timer);
    }
  }

  async function infer(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const model = repository.resolve(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2]));
    try {
      await inferResolved(context, model);
    } catch (error) {
      if (!(error instanceof ClientGoneError)) modelStats.failure(model.name, model.version, performance.now() - context.arrivedAt);
      throw error;
    }
  }

  async function inferResolved(context: RequestContext, model: ResolvedModel): Promise<void> {
    const headerValue = context.req.headers[INFERENCE_HEADER];
    const alignAt = typeof headerValue === 'string' && /^\d+$/.test(headerValue) ? Number(headerValue) : null;
    const coding = requestCoding(context.req.headers['content-encoding']);
    const received = await readBody(context.req, options.maxBodyBytes, context.arrivedAt, coding === 'identity' ? alignAt : null, coding === 'identity' ? bodyBuffers : undefined, context.rules);
    let body = received.body;
    if (coding !== 'identity') {
      // Inflated in a stream that stops at --max-body-mb, then placed in a buffer of its own, aligned like any body.
      const inflated = await inflateBody(body, coding, options.maxBodyBytes);
      const shift = alignAt !== null ? (8 - (alignAt % 8)) % 8 : 0;
      body = Buffer.from(bodyBuffers.take(inflated.byteLength + shift), shift, inflated.byteLength);
      inflated.copy(body);
    }
    const receiveMs = received.receiveMs;
    if (body.byteLength >= LARGE_BODY_BYTES) reclaimer.sawLargeBody();
    const decodeStarted = performance.now();
    let request;
    try {
      request = decodeInferRequest(body, headerLength(headerValue, body.byteLength));
      if (request.inputs.some((input) => input.datatype === 'BYTES')) request = { ...request, inputs: await decodeImageInputs(model.metadata, request.inputs) };
      checkAgainstModel(model.metadata, request.inputs, request.outputs);
    } catch (error) {
      bodyBuffers.give(body.buffer as ArrayBuffer);
      throw error;
    }
    const inputMs = performance.now() - decodeStarted;
    const fetches = request.outputs?.map((o) => o.name) ?? model.metadata.outputs.map((o) => o.name);
    const binary = new Map(request.outputs?.map((o) => [o.name, o.binary]) ?? []);
    let computeMs = 0;
    const { value: outputs, slot } = await inSlot(model, async (slot) => {
      const result = await workers.run(slot.index, model.sha256, request.inputs, fetches, [body.buffer as ArrayBuffer], steadyRuns);
      for (const buffer of result.returned) bodyBuffers.give(buffer);
      computeMs = await stretch(result);
      return result.outputs;
    }).catch((error: unknown) => {
      if (error instanceof RequestTimeoutError) stats.timedOut++;
      throw error;
    });
    stats.record({ model: model.sha256, queueMs: slot.queuedMs, computeMs, alone: !slot.overlapped });
    const encodeStarted = performance.now();
    const encoded = encodeInferResponse({
      modelName: model.name,
      modelVersion: String(model.version),
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: { compute_ms: round(computeMs), queue_ms: round(slot.queuedMs), receive_ms: round(receiveMs) },
      outputs: outputs.map((tensor) => ({ tensor, binary: binary.get(tensor.name) ?? request.binaryByDefault }))
    });
    const answeredAt = performance.now();
    modelStats.success(model.name, model.version, { totalMs: answeredAt - context.arrivedAt, queueMs: slot.queuedMs, inputMs, inferMs: computeMs, outputMs: answeredAt - encodeStarted });
    await sendEncoded(context.res, encoded, responseCoding(context.req.headers['accept-encoding']));
  }

  /** Triton's model configuration of a loaded version, from its session's inputs and outputs. */
  function modelConfig(model: ResolvedModel): TritonModelConfig {
    const tensor = (t: { name: string; datatype: Parameters<typeof ortTypeOf>[0]; shape: number[] }) => ({ name: t.name, elementType: ortTypeOf(t.datatype), shape: t.shape });
    return tritonModelConfig(model.name, model.metadata.inputs.map(tensor), model.metadata.outputs.map(tensor)).config;
  }

  /** Triton's statistics: every loaded version of `name` (every model when null), or the one version asked for. */
  function modelStatistics(name: string | null, version: string | undefined): { model_stats: ModelStatistics[] } {
    if (name !== null) {
      const resolved = repository.resolve(name, version);
      const versions = version === undefined ? resolved.metadata.versions : [String(resolved.version)];
      return { model_stats: versions.map((v) => modelStats.entry(name, v)) };
    }
    const ready = repository.index(true).filter((entry) => entry.version !== undefined);
    return { model_stats: ready.map((entry) => modelStats.entry(entry.name, entry.version as string)) };
  }

  async function profile(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const model = repository.resolve(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2]));
    const body = await readJsonObject(context.req, context.arrivedAt, context.rules);
    const runs = positiveIntegerField(body, 'runs', 20, 1, 10_000);
    const warmup = positiveIntegerField(body, 'warmup', 3, 0, 1_000);
    const minTimeMs = positiveIntegerField(body, 'minTimeMs', 0, 0, 60_000);
    // The level it serves at unless asked otherwise, as every profile (main/profiling/profile-process.ts).
    const optimization = body.optimization ?? DEFAULT_GRAPH_OPTIMIZATION;
    if (optimization !== 'disabled' && optimization !== 'all') throw new ProtocolError(400, '"optimization" must be "disabled" or "all"');
    const { value } = await inSlot(model, (_, signal) =>
      profileInChildProcess(model.source.kind === 'file' ? model.source.path : model.source.bytes, { ep: options.ep, runs, warmup, minMeasureMs: minTimeMs, optimization, signal })
    );
    // A whole kept model opened from a part file is profiled as that model, as its bytes would be.
    const standsFor = model.source.kind === 'file' ? model.source.standsFor : undefined;
    const profiled = standsFor ? { ...value, model: { ...value.model, file: MODEL_FILE, sha256: standsFor } } : value;
    await sendJson(context.res, 200, slowedProfile(profiled, slowdown));
  }

  /**
   * POST /v2/studio/forward (device.ts): runs the head here (stretched by --slowdown), sends
   * the crossing tensors to the --upstream server over the link the request shapes, and
   * answers the outputs asked for, with where the time went.
   */
  async function forward(context: RequestContext): Promise<void> {
    const headerValue = context.req.headers[INFERENCE_HEADER];
    const alignAt = typeof headerValue === 'string' && /^\d+$/.test(headerValue) ? Number(headerValue) : null;
    const { body } = await readBody(context.req, options.maxBodyBytes, context.arrivedAt, alignAt, undefined, context.rules);
    const started = performance.now();
    const request = decodeInferRequest(body, headerLength(headerValue, body.byteLength));
    const plan = parseForward(request, options.upstream ?? null);
    const values = new Map<string, RawTensor>(request.inputs.map((t) => [t.name, t]));
    const produced: string[] = [];
    let deviceMs = 0;
    if (plan.head) {
      const model = repository.resolve(plan.head);
      const wanted = new Set(model.metadata.inputs.map((t) => t.name));
      const feeds = request.inputs.filter((t) => wanted.has(t.name));
      checkAgainstModel(model.metadata, feeds, null);
      const fetches = model.metadata.outputs.map((t) => t.name);
      const { value: outputs, slot } = await inSlot(model, async (slot) => {
        const result = await workers.run(slot.index, model.sha256, feeds, fetches, [], steadyRuns);
        deviceMs = await stretch(result);
        return result.outputs;
      });
      stats.record({ model: model.sha256, queueMs: slot.queuedMs, computeMs: deviceMs, alone: !slot.overlapped });
      for (const tensor of outputs) {
        values.set(tensor.name, tensor);
        produced.push(tensor.name);
      }
    }
    let timings = { encodeMs: 0, uploadMs: 0, remoteMs: 0 as number | undefined, downloadMs: 0, bytesUp: 0, bytesDown: 0 };
    if (plan.tail && upstreamClients) {
      const sent = plan.tailInputs.map((name) => {
        const tensor = values.get(name);
        if (!tensor) throw new ProtocolError(400, `tail input '${name}' is neither a request input nor an output of the head`);
        return tensor;
      });
      const outcome = await upstreamClients.infer(plan.network, plan.tail, sent, plan.tailOutputs);
      for (const tensor of outcome.outputs) {
        values.set(tensor.name, tensor);
        produced.push(tensor.name);
      }
      timings = outcome.timings;
    }
    const names = request.outputs?.map((o) => o.name) ?? produced;
    const outputs = names.map((name) => {
      const tensor = values.get(name);
      if (!tensor) throw new ProtocolError(400, `output '${name}' was computed neither by the head nor by the tail`);
      return { tensor, binary: true };
    });
    const encoded = encodeInferResponse({
      modelName: plan.head ?? plan.tail ?? '',
      ...(request.id !== undefined ? { id: request.id } : {}),
      parameters: {
        device_ms: round(deviceMs),
        encode_ms: round(timings.encodeMs),
        upload_ms: round(timings.uploadMs),
        remote_ms: round(timings.remoteMs ?? 0),
        download_ms: round(timings.downloadMs),
        bytes_up: timings.bytesUp,
        bytes_down: timings.bytesDown,
        total_ms: round(performance.now() - started)
      },
      outputs
    });
    await sendEncoded(context.res, encoded);
  }

  async function load(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const name = decodeSegment(match[1]);
    checkModelName(name);
    const { body } = await readBody(context.req, options.maxBodyBytes, context.arrivedAt, null, undefined, context.rules);
    if (body.byteLength >= LARGE_BODY_BYTES) reclaimer.sawLargeBody();
    const request = parseLoadRequest(body);
    const outcome = await repository.load(name, request);
    await sendJson(context.res, 200, { ...outcome, sessionsCreated: repository.sessionsCreated });
  }

  /** PUT /v2/studio/sources/{sha256}: keeps a whole model by its hash (checked). */
  async function putSource(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const expected = match[1];
    const { body } = await readBody(context.req, options.maxBodyBytes, context.arrivedAt, null, undefined, context.rules);
    if (body.byteLength >= LARGE_BODY_BYTES) reclaimer.sawLargeBody();
    const actual = sha256Hex(body);
    if (actual !== expected) throw new ProtocolError(400, `the body's SHA-256 is ${actual.slice(0, 16)}…, not the ${expected.slice(0, 16)}… the URL names`);
    if (!sourceStore.put(actual, body)) {
      throw new ProtocolError(413, `a model of ${body.byteLength} bytes is over the ${sourceStore.maxBytes} bytes of models this executor keeps`);
    }
    // The file its parts' weights reference is written now, not in the first build's time (a
    // sweep's first cut would pay for it); a failed write is retried by that build, which reports it.
    if (options.partBuilder) await partFiles.sourceFile(actual, body).catch(() => undefined);
    await sendJson(context.res, 200, { sha256: actual, bytes: body.byteLength, stored: true });
  }

  /** POST /v2/studio/models/{m}/build: builds a part of a kept model here and loads it as model m. */
  async function build(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const name = decodeSegment(match[1]);
    checkModelName(name);
    const request = parseBuildRequest(await readJsonObject(context.req, context.arrivedAt, context.rules));
    const source = sourceStore.get(request.source);
    if (!source) throw new ProtocolError(404, `no kept model with SHA-256 ${request.source.slice(0, 16)}… (PUT it to /v2/studio/sources/${request.source})`);
    if (!options.partBuilder) throw new ProtocolError(501, 'this executor builds no parts of models (started without the surgery code); upload the part');
    const started = performance.now();
    let built: BuiltPart;
    try {
      built = await options.partBuilder(source, request.source, request);
    } catch (error) {
      if (error instanceof ProtocolError) throw error;
      throw new ProtocolError(400, `cannot build the ${request.part} of ${request.source.slice(0, 16)}…: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
    // The whole model's bytes are the kept model's, whose SHA-256 the upload checked: it stands for that model.
    const standsFor = request.part === 'model' ? request.source : undefined;
    for (const [what, expected, actual] of [
      ['SHA-256', request.sha256, () => standsFor ?? sha256Hex(built.bytes())],
      ['description SHA-256', request.description, () => sha256Hex(Buffer.from(built.describe(), 'utf8'))]
    ] as const) {
      if (expected === undefined) continue;
      const got = actual();
      if (got !== expected) throw new ProtocolError(409, `the ${request.part} built here has ${what} ${got.slice(0, 16)}…, not the ${expected.slice(0, 16)}… the client expects; upload it instead`);
    }
    // Checked by its description, a part needs no bytes of its own weights: it is opened from a
    // small file that references the kept model's (part-files.ts). Checked by its bytes' hash, it
    // is those bytes — the whole model's are the kept model's own, so it references them too.
    let buildMs: number;
    let outcome: LoadOutcome;
    if (built.referencing && (request.sha256 === undefined || standsFor)) {
      const part = await partFiles.writePart(built.referencing(await partFiles.sourceFile(request.source, source)));
      buildMs = performance.now() - started;
      outcome = await repository.loadFile(name, part.path, part.sha256, standsFor);
    } else {
      const bytes = built.bytes();
      buildMs = performance.now() - started;
      outcome = await repository.load(name, { files: [{ path: '1/model.onnx', bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }], parameters: {} });
    }
    await sendJson(context.res, 200, { ...outcome, buildMs: round(buildMs), sessionsCreated: repository.sessionsCreated });
  }

  async function sink(context: RequestContext): Promise<void> {
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        watch.stop();
        stopTakingBody(context.req);
        reject(error);
      };
      const watch = watchArrival(context.rules, performance.now(), fail);
      context.req.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        watch.add(chunk.byteLength);
        if (bytes > options.maxBodyBytes) fail(tooLarge(bytes, options.maxBodyBytes));
      });
      context.req.on('end', () => {
        watch.stop();
        resolve();
      });
      context.req.on('close', () => {
        watch.stop();
        reject(new ClientGoneError('the client closed the connection during the request'));
      });
    });
    await sendJson(context.res, 200, { bytes, receive_ms: round(performance.now() - context.arrivedAt) });
  }

  async function source(context: RequestContext): Promise<void> {
    const value = context.url.searchParams.get('bytes') ?? '';
    if (!/^\d+$/.test(value) || Number(value) > 1 << 30) throw new ProtocolError(400, '"bytes" must be a whole number up to 1073741824');
    const total = Number(value);
    const block = new Uint8Array(Math.min(total, 1 << 20));
    const chunks: Uint8Array[] = [];
    for (let sent = 0; sent < total; sent += block.byteLength) chunks.push(block.subarray(0, Math.min(block.byteLength, total - sent)));
    context.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
    await writeChunks(context.res, chunks);
  }

  const metadata: ServerMetadata = { name: EXECUTOR_NAME, version: toolVersion(), extensions: EXTENSIONS };
  const routes: Route[] = [
    { method: 'GET', pattern: /^\/v2\/health\/live$/, auth: false, handle: ({ res }) => sendEmpty(res, 200) },
    { method: 'GET', pattern: /^\/v2\/health\/ready$/, auth: true, handle: ({ res }) => sendEmpty(res, closing ? 400 : 200) },
    { method: 'GET', pattern: /^\/v2\/?$/, auth: true, handle: ({ res }) => sendJson(res, 200, metadata) },
    {
      method: 'GET',
      pattern: new RegExp(`^${MODEL}/ready$`),
      auth: true,
      handle: ({ res }, match) => {
        const name = decodeSegment(match[1]);
        const version = match[2] === undefined ? undefined : decodeSegment(match[2]);
        try {
          repository.resolve(name, version);
          return sendEmpty(res, repository.isReady(name, version) ? 200 : 400);
        } catch (error) {
          return sendEmpty(res, error instanceof ProtocolError ? error.status : 400);
        }
      }
    },
    // Before the metadata route, which would take "stats" for a model name (as in Triton).
    { method: 'GET', pattern: /^\/v2\/models\/stats$/, auth: true, handle: ({ res }) => sendJson(res, 200, modelStatistics(null, undefined)) },
    {
      method: 'GET',
      pattern: new RegExp(`^${MODEL}$`),
      auth: true,
      handle: ({ res }, match) => sendJson(res, 200, repository.resolve(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2])).metadata)
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${MODEL}/config$`),
      auth: true,
      handle: ({ res }, match) => sendJson(res, 200, modelConfig(repository.resolve(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2]))))
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${MODEL}/stats$`),
      auth: true,
      handle: ({ res }, match) => sendJson(res, 200, modelStatistics(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2])))
    },
    { method: 'POST', pattern: new RegExp(`^${MODEL}/infer$`), auth: true, holdsBody: true, handle: infer },
    {
      method: 'POST',
      pattern: /^\/v2\/repository\/index$/,
      auth: true,
      holdsBody: true,
      handle: async (context) => {
        const body = await readJsonObject(context.req, context.arrivedAt, context.rules);
        await sendJson(context.res, 200, repository.index(body.ready === true));
      }
    },
    { method: 'POST', pattern: /^\/v2\/repository\/models\/([^/]+)\/load$/, auth: true, holdsBody: true, handle: load },
    {
      method: 'POST',
      pattern: /^\/v2\/repository\/models\/([^/]+)\/unload$/,
      auth: true,
      holdsBody: true,
      handle: async (context, match) => {
        await readJsonObject(context.req, context.arrivedAt, context.rules);
        const name = decodeSegment(match[1]);
        await repository.unload(name);
        modelStats.forget(name);
        await sendJson(context.res, 200, {});
      }
    },
    { method: 'POST', pattern: /^\/v2\/studio\/models\/([^/]+)(?:\/versions\/([^/]+))?\/profile$/, auth: true, holdsBody: true, handle: profile },
    { method: 'GET', pattern: /^\/v2\/studio\/load$/, auth: true, handle: ({ res }) => sendJson(res, 200, stats.snapshot(repository.sessionsCreated)) },
    { method: 'POST', pattern: /^\/v2\/studio\/sink$/, auth: true, handle: sink },
    { method: 'PUT', pattern: /^\/v2\/studio\/sources\/([0-9a-f]{64})$/, auth: true, holdsBody: true, handle: putSource },
    {
      method: 'GET',
      pattern: /^\/v2\/studio\/sources\/([0-9a-f]{64})$/,
      auth: true,
      handle: ({ res }, match) => {
        const bytes = sourceStore.get(match[1]);
        if (!bytes) throw new ProtocolError(404, `no kept model with SHA-256 ${match[1].slice(0, 16)}…`);
        return sendJson(res, 200, { sha256: match[1], bytes: bytes.byteLength });
      }
    },
    { method: 'POST', pattern: /^\/v2\/studio\/models\/([^/]+)\/build$/, auth: true, holdsBody: true, handle: build },
    { method: 'POST', pattern: /^\/v2\/studio\/forward$/, auth: true, holdsBody: true, handle: forward },
    {
      method: 'POST',
      pattern: /^\/v2\/studio\/characterize$/,
      auth: true,
      holdsBody: true,
      handle: async (context) => {
        const body = await readJsonObject(context.req, context.arrivedAt, context.rules);
        const budgetS = positiveIntegerField(body, 'budgetS', 300, 1, 3600);
        // Cancelled when the client goes away: the sweep would only take the cores for nothing.
        const controller = new AbortController();
        context.res.once('close', () => controller.abort());
        // No byte moves while the sweep runs: the connection's idle limit must outlast it.
        context.res.setTimeout(budgetS * 1000 + 120_000);
        let profile;
        try {
          profile = await characterizeInChildProcess({ ep: options.ep, budgetS, signal: controller.signal });
        } catch (error) {
          if (error instanceof DeviceProfileError) throw new ProtocolError(500, error.message);
          throw error;
        }
        await sendJson(context.res, 200, slowedDeviceProfile(profile, slowdown));
      }
    },
    { method: 'GET', pattern: /^\/v2\/studio\/source$/, auth: true, handle: source }
  ];

  /**
   * Answers an error; for a body that is not to be read (too large, too slow, or no room for
   * it: `unread`), also stops reading it (the connection closes).
   */
  function sendError(context: RequestContext, status: number, message: string, retry?: { afterS: number; unread: boolean }): void {
    const { req, res } = context;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (retry) res.setHeader('retry-after', String(retry.afterS));
    if (status === 413 || status === 408 || (retry?.unread && !req.complete)) {
      // Closing at once resets the connection before the client reads the answer (and a
      // `connection: close` header makes Node close the socket as soon as the answer is
      // out): the answer goes out, at most DISCARD_ALLOWANCE_BYTES more of the body are taken
      // in and dropped (stopTakingBody), and a moment later the connection closes.
      stopTakingBody(req);
      res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    }
    if (status === 401) res.setHeader('www-authenticate', 'Bearer');
    sendJson(res, status, { error: message }).catch(() => res.destroy());
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const context: RequestContext = { req, res, url: new URL(req.url ?? '/', 'http://executor'), arrivedAt, rules: NO_RULES, reserved: 0 };
    res.on('error', () => undefined);
    // Whatever happens to the request, its share of the in-flight budget comes back with its answer.
    res.once('close', () => {
      budget.give(context.reserved);
      context.reserved = 0;
      reclaimer.check();
    });
    try {
      const path = context.url.pathname;
      const candidates = routes.filter((r) => r.pattern.test(path));
      if (candidates.length === 0) throw new ProtocolError(404, `no such endpoint: ${req.method} ${path}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader('allow', [...new Set(candidates.map((r) => r.method))].join(', '));
        throw new ProtocolError(405, `${req.method} is not allowed on ${path}`);
      }
      if (route.auth && expectedToken) {
        const verdict = tokenMatches(req.headers.authorization, expectedToken);
        if (verdict !== 'ok') throw new ProtocolError(401, verdict === 'missing' ? 'this executor needs an Authorization: Bearer token' : 'wrong bearer token');
      }
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > options.maxBodyBytes) throw tooLarge(declared, options.maxBodyBytes);
      context.rules = { timeoutMs: options.bodyTimeoutMs ?? 0, minBytesPerSecond };
      if (route.holdsBody) {
        // Admission before the body is read: it must fit the in-flight budget, or wait outside.
        if (declared > budget.limit) {
          throw new ProtocolError(413, `request body of ${declared} bytes is over the ${budget.limit} bytes of bodies the executor holds at once (--max-inflight-mb)`);
        }
        if (declared > 0) {
          if (!budget.tryTake(declared)) {
            throw new RetryLaterError(`the executor is holding ${budget.used} bytes of request bodies, no room for ${declared} more (--max-inflight-mb); retry in a moment`);
          }
          context.reserved = declared;
        } else if (req.headers['content-length'] === undefined) {
          context.rules = {
            ...context.rules,
            take: (bytes) => {
              if (!budget.tryTake(bytes)) return false;
              context.reserved += bytes;
              return true;
            }
          };
        }
      }
      if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
      await route.handle(context, route.pattern.exec(path) as RegExpExecArray);
    } catch (error) {
      if (error instanceof ClientGoneError) return;
      // A 503 says when to come back; the load figures count it as rejected either way.
      if (error instanceof RetryLaterError) {
        gate.rejected++;
        return sendError(context, 503, error.message, { afterS: error.retryAfterS, unread: true });
      }
      if (error instanceof QueueFullError) return sendError(context, 503, error.message, { afterS: 1, unread: false });
      const [status, message] =
        error instanceof ProtocolError
          ? [error.status, error.message]
          : error instanceof RequestTimeoutError
              ? [504, error.message]
              : (error instanceof SessionError && !error.internal) || error instanceof ProfileError
                ? [400, error.message]
                : [500, `internal error: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`];
      sendError(context, status, message);
    } finally {
      options.log?.(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - arrivedAt).toFixed(1)} ms`);
    }
  }

  // Node's own deadline for a request's head; bodies have theirs (watchArrival). The check
  // runs every second, so a head that trickles in is cut off on time, not 30 s late.
  const headersTimeoutMs = options.headersTimeoutMs ?? 30_000;
  const server = http.createServer(
    { requestTimeout: 0, headersTimeout: headersTimeoutMs, keepAliveTimeout: 30_000, connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeoutMs / 4)) },
    (req, res) => void handle(req, res)
  );
  // A client may half-close its side once its request is sent (RFC 9112 §9.6); Node would
  // then drop the request unanswered. Answer it, then close (an undocumented but long-standing
  // property of http.Server).
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on('checkContinue', (req, res) => void handle(req, res));
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (socket.writable) socket.end(`HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    socket.destroy();
  });
  // A connection idle this long (no byte either way) is closed; it outlasts any request's own time limit.
  server.setTimeout(options.timeoutMs + 60_000);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (error: NodeJS.ErrnoException) => {
    await repository.close();
    await workers.close();
    throw new ExecutorStartError(
      error.code === 'EADDRINUSE' ? `port ${options.port} on ${options.host} is already in use` : `cannot listen on ${options.host}:${options.port} (${error.code ?? error.message})`
    );
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    async close() {
      closing = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      await repository.close();
      await workers.close();
      sourceStore.clear();
      partFiles.close();
      upstreamClients?.close();
      bodyBuffers.close();
      reclaimer.stop();
    }
  };
}

/** A body this large leaves enough memory behind to be worth a garbage collection once the executor is idle. */
const LARGE_BODY_BYTES = 8 << 20;

/** When the collections after the first are made, ms after it. */
const LATER_COLLECTIONS_MS = [1000, 3000];

/** V8's gc(), reached without --expose-gc on the command line; null where V8 refuses. */
function exposedGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

/**
 * Gives memory back after a burst of large bodies: once `idle()` has held for 750 ms (no
 * body held, nothing running or queued), the pooled body buffers are let go and the session
 * workers collect (`release`), and full garbage collections here free the buffers, again 1 s
 * and 3 s later while still idle; the allocator returns them to the system.
 */
function memoryReclaimer(idle: () => boolean, release: () => void): { sawLargeBody(): void; check(): void; stop(): void } {
  const gc = exposedGc();
  let dirty = false;
  let idleSince: number | null = null;
  const check = () => {
    if (!dirty) return;
    if (!idle()) {
      idleSince = null;
      return;
    }
    idleSince ??= performance.now();
    if (performance.now() - idleSince < 750) return;
    dirty = false;
    idleSince = null;
    release();
    gc?.();
    // A buffer still on its way back from a worker (in a message, a settling promise) is
    // reachable during the first collection; later ones, here and in the workers, free it
    // too (one second after was not always enough on a machine busy with other work).
    for (const afterMs of LATER_COLLECTIONS_MS) {
      setTimeout(() => {
        if (!idle()) return;
        release();
        gc?.();
      }, afterMs).unref();
    }
  };
  const timer = setInterval(check, 250);
  timer.unref();
  return {
    sawLargeBody: () => {
      dirty = true;
      idleSince = null;
    },
    check,
    stop: () => clearInterval(timer)
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

