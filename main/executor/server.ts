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
// Inference responses carry "compute_ms", "queue_ms" and "receive_ms" in `parameters`.
//
// Requests are admitted by AdmissionGate (load-stats.ts): --max-concurrency run at once in
// session worker threads (repository.ts), --max-queue wait, the rest get 503. Bodies over
// --max-body-mb get 413 before or while they arrive (the rest is not buffered). Every
// failure is the protocol's {"error": "..."} with a fitting status, and no request can
// take the process down.
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
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
import { checkModelName, ModelRepository, SessionError, SessionWorkers, type ResolvedModel } from './repository.js';

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
  modelsDir?: string;
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
export const EXTENSIONS = ['binary_tensor_data', 'model_repository', 'studio'];

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
    private readonly idleMs = 30_000
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(idleMs, 10_000));
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

  close(): void {
    clearInterval(this.sweeper);
    this.free.length = 0;
  }
}

interface ReceivedBody {
  body: Buffer;
  receiveMs: number;
}

/**
 * Reads a whole request body into one buffer of its own (so it can be handed to a worker
 * without a copy), shifted so the byte at `alignAt` (the start of the binary tensors)
 * lies on an 8-byte boundary. Stops buffering past `limit` bytes (413).
 */
function readBody(req: http.IncomingMessage, limit: number, arrivedAt: number, alignAt: number | null, buffers?: BodyBuffers): Promise<ReceivedBody> {
  const declared = req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
  if (declared !== null && declared > limit) return Promise.reject(tooLarge(declared, limit));
  const shift = alignAt !== null ? (8 - (alignAt % 8)) % 8 : 0;
  const allocate = (size: number): Buffer => Buffer.from(buffers ? buffers.take(size + shift) : (Buffer.allocUnsafeSlow(size + shift).buffer as ArrayBuffer), shift, size);
  return new Promise<ReceivedBody>((resolve, reject) => {
    const fixed = declared !== null ? allocate(declared) : null;
    const chunks: Buffer[] = [];
    let received = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > limit || (fixed && received > fixed.byteLength)) {
        cleanup();
        req.resume();
        reject(tooLarge(received, limit));
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

/** A small JSON request body (index, unload, profile options): {} when empty. */
async function readJsonObject(req: http.IncomingMessage, arrivedAt: number): Promise<Record<string, unknown>> {
  const { body } = await readBody(req, 1 << 20, arrivedAt, null);
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

function sendEncoded(res: http.ServerResponse, encoded: EncodedBody): Promise<void> {
  const headers: http.OutgoingHttpHeaders = { 'content-length': encoded.byteLength };
  if (encoded.headerLength !== null) {
    headers['content-type'] = 'application/octet-stream';
    headers[INFERENCE_HEADER] = encoded.headerLength;
  } else headers['content-type'] = 'application/json';
  res.writeHead(200, headers);
  return writeChunks(res, [encoded.json, ...encoded.chunks]);
}

interface Route {
  method: string;
  pattern: RegExp;
  /** false only for /v2/health/live. */
  auth: boolean;
  handle: (context: RequestContext, match: RegExpExecArray) => Promise<void> | void;
}

interface RequestContext {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  arrivedAt: number;
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
  const bodyBuffers = new BodyBuffers(Math.min(options.maxBodyBytes, 512 << 20));
  const expectedToken = options.token !== undefined ? digest(options.token) : null;
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
    const headerValue = context.req.headers[INFERENCE_HEADER];
    const alignAt = typeof headerValue === 'string' && /^\d+$/.test(headerValue) ? Number(headerValue) : null;
    const { body, receiveMs } = await readBody(context.req, options.maxBodyBytes, context.arrivedAt, alignAt, bodyBuffers);
    let request;
    try {
      request = decodeInferRequest(body, headerLength(headerValue, body.byteLength));
      checkAgainstModel(model.metadata, request.inputs, request.outputs);
    } catch (error) {
      bodyBuffers.give(body.buffer as ArrayBuffer);
      throw error;
    }
    const fetches = request.outputs?.map((o) => o.name) ?? model.metadata.outputs.map((o) => o.name);
    const binary = new Map(request.outputs?.map((o) => [o.name, o.binary]) ?? []);
    let computeMs = 0;
    const { value: outputs, slot } = await inSlot(model, async (slot) => {
      const result = await workers.run(slot.index, model.sha256, request.inputs, fetches, [body.buffer as ArrayBuffer]);
      for (const buffer of result.returned) bodyBuffers.give(buffer);
      computeMs = result.computeMs;
      return result.outputs;
    }).catch((error: unknown) => {
      if (error instanceof RequestTimeoutError) stats.timedOut++;
      throw error;
    });
    stats.record({ model: model.sha256, queueMs: slot.queuedMs, computeMs, alone: !slot.overlapped });
    await sendEncoded(
      context.res,
      encodeInferResponse({
        modelName: model.name,
        modelVersion: String(model.version),
        ...(request.id !== undefined ? { id: request.id } : {}),
        parameters: { compute_ms: round(computeMs), queue_ms: round(slot.queuedMs), receive_ms: round(receiveMs) },
        outputs: outputs.map((tensor) => ({ tensor, binary: binary.get(tensor.name) ?? request.binaryByDefault }))
      })
    );
  }

  async function profile(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const model = repository.resolve(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2]));
    const body = await readJsonObject(context.req, context.arrivedAt);
    const runs = positiveIntegerField(body, 'runs', 20, 1, 10_000);
    const warmup = positiveIntegerField(body, 'warmup', 3, 0, 1_000);
    const minTimeMs = positiveIntegerField(body, 'minTimeMs', 0, 0, 60_000);
    // The level it serves at unless asked otherwise, as every profile (main/profiling/profile-process.ts).
    const optimization = body.optimization ?? DEFAULT_GRAPH_OPTIMIZATION;
    if (optimization !== 'disabled' && optimization !== 'all') throw new ProtocolError(400, '"optimization" must be "disabled" or "all"');
    const { value } = await inSlot(model, (_, signal) =>
      profileInChildProcess(model.source.kind === 'file' ? model.source.path : model.source.bytes, { ep: options.ep, runs, warmup, minMeasureMs: minTimeMs, optimization, signal })
    );
    await sendJson(context.res, 200, value);
  }

  async function load(context: RequestContext, match: RegExpExecArray): Promise<void> {
    const name = decodeSegment(match[1]);
    checkModelName(name);
    const { body } = await readBody(context.req, options.maxBodyBytes, context.arrivedAt, null);
    const request = parseLoadRequest(body);
    const outcome = await repository.load(name, request);
    await sendJson(context.res, 200, { ...outcome, sessionsCreated: repository.sessionsCreated });
  }

  async function sink(context: RequestContext): Promise<void> {
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      context.req.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > options.maxBodyBytes) {
          context.req.removeAllListeners('data');
          context.req.resume();
          reject(tooLarge(bytes, options.maxBodyBytes));
        }
      });
      context.req.on('end', resolve);
      context.req.on('close', () => reject(new ClientGoneError('the client closed the connection during the request')));
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
    {
      method: 'GET',
      pattern: new RegExp(`^${MODEL}$`),
      auth: true,
      handle: ({ res }, match) => sendJson(res, 200, repository.resolve(decodeSegment(match[1]), match[2] === undefined ? undefined : decodeSegment(match[2])).metadata)
    },
    { method: 'POST', pattern: new RegExp(`^${MODEL}/infer$`), auth: true, handle: infer },
    {
      method: 'POST',
      pattern: /^\/v2\/repository\/index$/,
      auth: true,
      handle: async (context) => {
        const body = await readJsonObject(context.req, context.arrivedAt);
        await sendJson(context.res, 200, repository.index(body.ready === true));
      }
    },
    { method: 'POST', pattern: /^\/v2\/repository\/models\/([^/]+)\/load$/, auth: true, handle: load },
    {
      method: 'POST',
      pattern: /^\/v2\/repository\/models\/([^/]+)\/unload$/,
      auth: true,
      handle: async (context, match) => {
        await readJsonObject(context.req, context.arrivedAt);
        await repository.unload(decodeSegment(match[1]));
        await sendJson(context.res, 200, {});
      }
    },
    { method: 'POST', pattern: /^\/v2\/studio\/models\/([^/]+)(?:\/versions\/([^/]+))?\/profile$/, auth: true, handle: profile },
    { method: 'GET', pattern: /^\/v2\/studio\/load$/, auth: true, handle: ({ res }) => sendJson(res, 200, stats.snapshot(repository.sessionsCreated)) },
    { method: 'POST', pattern: /^\/v2\/studio\/sink$/, auth: true, handle: sink },
    { method: 'GET', pattern: /^\/v2\/studio\/source$/, auth: true, handle: source }
  ];

  /** Answers an error; for a body too large, also stops reading it (the connection closes). */
  function sendError(context: RequestContext, status: number, message: string): void {
    const { req, res } = context;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (status === 413) {
      // Closing at once resets the connection before the client reads the answer (and a
      // `connection: close` header makes Node close the socket as soon as the answer is
      // out): let what is in flight drain for a moment, discarded, then close.
      req.resume();
      res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
    }
    if (status === 401) res.setHeader('www-authenticate', 'Bearer');
    sendJson(res, status, { error: message }).catch(() => res.destroy());
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const arrivedAt = performance.now();
    const context: RequestContext = { req, res, url: new URL(req.url ?? '/', 'http://executor'), arrivedAt };
    res.on('error', () => undefined);
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
      if (req.headers.expect?.toLowerCase() === '100-continue') res.writeContinue();
      await route.handle(context, route.pattern.exec(path) as RegExpExecArray);
    } catch (error) {
      if (error instanceof ClientGoneError) return;
      const [status, message] =
        error instanceof ProtocolError
          ? [error.status, error.message]
          : error instanceof QueueFullError
            ? [503, error.message]
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

  const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 30_000 }, (req, res) => void handle(req, res));
  server.on('checkContinue', (req, res) => void handle(req, res));
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
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
      bodyBuffers.close();
    }
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

