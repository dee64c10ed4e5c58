// The studio's side of the Open Inference Protocol: talks to our executor (server.ts) or
// to any KServe v2 / Triton server over node:http with a keep-alive agent. Tensors go
// both ways as binary data (protocol.ts); model uploads use Triton's base64 `file:` form,
// streamed in chunks, and are skipped when the server already holds the same bytes. When
// a LinkShaper is given (shaper.ts), every request body is written through shapeUpload
// and every response body read through shapeDownload, so transfers take the time the
// chosen network would give them. With our executor's "studio_sources" extension a whole
// model goes up once (ensureSource) and the executor builds each tail or head from it
// (buildModel, sources.ts). Every failure is an ExecutorError with one line that
// names the executor's URL.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';
import type { DeviceProfile, LatencyProfile } from '../../app/profiling/types.js';
import { checkDeviceProfileShape, DeviceProfileError } from '../profiling/characterize.js';
import { checkProfileShape, ProfileError } from '../profiling/profiler.js';
import type { LinkShaper, RawTensor, TransferTimings } from './link.js';
import type { ExecutorLoad } from './load-stats.js';
import {
  decodeInferResponse,
  encodeInferRequest,
  INFERENCE_HEADER,
  LOAD_BODY_END,
  loadBodyStart,
  ProtocolError,
  type ModelMetadata,
  type RepositoryIndexEntry,
  type ServerMetadata
} from './protocol.js';

export type { ExecutorLoad } from './load-stats.js';
export type { ModelMetadata, ServerMetadata, RepositoryIndexEntry } from './protocol.js';

export class ExecutorError extends Error {
  override name = 'ExecutorError';
  constructor(
    message: string,
    /** The HTTP status the executor answered with; undefined when no answer came. */
    readonly status?: number
  ) {
    super(message);
  }
}

export interface ExecutorClientOptions {
  url: string;
  token?: string;
  /** Longest wait without a byte moving either way (default 120 000 ms); large uploads that keep moving are not cut off. */
  timeoutMs?: number;
  shaper?: LinkShaper;
  /** How failures name it (default "executor"; "device executor" for a device, device.ts). */
  role?: string;
}

export interface LinkMeasurement {
  rttMs: number;
  uplinkMbps: number;
  downlinkMbps: number;
  /** Bytes per transfer of the uplink and downlink probes. */
  probeBytes: number;
}

export interface InferOutcome {
  outputs: RawTensor[];
  timings: TransferTimings;
}

/** A request body: produced afresh on each attempt, with its length known up front. */
interface RequestBody {
  length: number;
  contentType: string;
  chunks: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  headers?: Record<string, string>;
}

interface Exchange {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** performance.now() marks: call start, first body byte handed to the link, body sent, response headers, body read. */
  startedAt: number;
  uploadStartedAt: number;
  uploadEndedAt: number;
  responseAt: number;
  endedAt: number;
}

const UPLOAD_CHUNK = 3 << 20;
const PROBE_CHUNK = new Uint8Array(1 << 20);

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function modelPath(model: string): string {
  return `/v2/models/${encodeURIComponent(model)}`;
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

/** What a build asks of a kept model (sources.ts's BuildRequest, less the model name). */
export interface BuildSpec {
  source: string;
  part: 'head' | 'tail' | 'model';
  localLayers: number[];
  dimValues?: Record<string, number>;
  /** SHA-256 the part's bytes must have; or, cheaper for the client, */
  sha256?: string;
  /** SHA-256 the part's description must have (main/split/part-builder.ts describePart). */
  description?: string;
}

/** A split run through a device executor (device.ts): what runs where and over which link. */
export interface ForwardOptions {
  /** The head's model on the device executor; null when the model inputs go up as they are (cut 0). */
  head: string | null;
  /** The tail's model on the upstream server; null when everything runs on the device. */
  tail: string | null;
  tailInputs: string[];
  tailOutputs: string[];
  /** The outputs to answer (the model's). */
  outputs: string[];
  /** The server the caller expects the device to forward to (refused, 403, when it is not its --upstream). */
  upstream?: string;
  /** The device→server link's shaping; null: unshaped. */
  network: { name: string; uplinkMbps: number; downlinkMbps: number; rttMs: number } | null;
}

/** Where the time of a forwarded run went, as the device executor measured it. */
export interface ForwardTimings {
  deviceMs: number;
  encodeMs: number;
  uploadMs: number;
  remoteMs: number;
  downloadMs: number;
  bytesUp: number;
  bytesDown: number;
  totalMs: number;
}

function compressBody(chunks: readonly Uint8Array[], coding: 'gzip' | 'deflate'): Promise<Buffer> {
  const joined = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  return new Promise<Buffer>((resolve, reject) => (coding === 'gzip' ? zlib.gzip : zlib.deflate)(joined, { level: 6 }, (error, out) => (error ? reject(error) : resolve(out))));
}

/** How long an idle keep-alive connection is kept: under the executor's 30 s keepAliveTimeout. */
export const IDLE_CONNECTION_MS = 20_000;

export class ExecutorClient {
  readonly url: string;
  /** Bytes of model uploads this client has sent (Triton loads and kept sources): what the bench counts. */
  bytesUploaded = 0;
  private extensions: Promise<string[]> | null = null;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: ExecutorClientOptions) {
    let base: URL;
    try {
      base = new URL(options.url);
    } catch {
      throw new ExecutorError(`"${options.url}" is not a URL (e.g. http://127.0.0.1:8000)`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ExecutorError(`executor ${options.url}: only http and https URLs are supported`);
    this.base = base;
    this.url = base.origin + base.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 120_000;
    const Agent = base.protocol === 'https:' ? https.Agent : http.Agent;
    // An idle keep-alive connection is closed here before a server's own idle limit (ours:
    // 30 s; Node's default 5 s is covered by the stale-socket retry) can close it under a
    // request just sent on it: a sweep that computes locally for half a minute between calls
    // otherwise met ECONNRESET on its next request now and then.
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: IDLE_CONNECTION_MS });
  }

  /** Closes the idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private fail(message: string, status?: number): ExecutorError {
    return new ExecutorError(`${this.options.role ?? 'executor'} ${this.url}: ${message}`, status);
  }

  private describeNetworkError(error: NodeJS.ErrnoException, gotResponse: boolean): ExecutorError {
    if (error instanceof ExecutorError) return error;
    switch (error.code) {
      case 'ECONNREFUSED':
        return this.fail('connection refused (is the executor running?)');
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return this.fail(`cannot resolve host ${this.base.hostname}`);
      case 'ETIMEDOUT':
        return this.fail('the connection timed out');
      default:
        return this.fail(
          gotResponse
            ? `the connection closed while the response was arriving (${error.code ?? error.message})`
            : `the connection closed before a response came (${error.code ?? error.message})`
        );
    }
  }

  /** One HTTP exchange; retried once when a reused keep-alive connection turns out closed. `timeoutMs` overrides the client's. */
  private async exchange(method: string, path: string, body?: RequestBody, options: { alignBinary?: boolean; timeoutMs?: number } = {}): Promise<Exchange> {
    try {
      return await this.exchangeOnce(method, path, body, options);
    } catch (error) {
      if ((error as { staleSocket?: boolean }).staleSocket) return this.exchangeOnce(method, path, body, options);
      throw error;
    }
  }

  private exchangeOnce(method: string, path: string, body: RequestBody | undefined, options: { alignBinary?: boolean; timeoutMs?: number }): Promise<Exchange> {
    const startedAt = performance.now();
    const marks = { uploadStartedAt: startedAt, uploadEndedAt: startedAt, responseAt: 0 };
    const headers: Record<string, string> = { ...(body?.headers ?? {}) };
    if (body) {
      headers['content-type'] = body.contentType;
      headers['content-length'] = String(body.length);
    }
    if (this.options.token !== undefined) headers.authorization = `Bearer ${this.options.token}`;
    const transport = this.base.protocol === 'https:' ? https : http;
    const request = transport.request(new URL(this.url + path), { method, headers, agent: this.agent });
    const shaper = this.options.shaper;

    return new Promise<Exchange>((resolve, reject) => {
      let settled = false;
      let gotResponse = false;
      const finish = (error: Error | null, exchange?: Exchange) => {
        if (settled) return;
        settled = true;
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(exchange as Exchange);
      };
      const timeoutMs = options.timeoutMs ?? this.timeoutMs;
      request.setTimeout(timeoutMs, () => {
        request.destroy(this.fail(`no data moved for ${timeoutMs >= 10_000 ? (timeoutMs / 1000).toFixed(0) : (timeoutMs / 1000).toFixed(1)} s (timeout)`));
      });
      request.on('error', (error: NodeJS.ErrnoException) => {
        // A keep-alive connection the server had already closed: safe to try once more when
        // the request is a GET or its body never got out (the server cannot have acted on it).
        const bodySent = marks.uploadEndedAt > startedAt;
        if (!gotResponse && request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') && (method === 'GET' || !bodySent)) {
          return finish(Object.assign(this.describeNetworkError(error, false), { staleSocket: true }));
        }
        finish(this.describeNetworkError(error, gotResponse));
      });
      request.on('response', (response) => {
        gotResponse = true;
        marks.responseAt = performance.now();
        this.readResponse(response, options.alignBinary ?? false).then(
          (responseBody) =>
            finish(null, {
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: responseBody,
              startedAt,
              ...marks,
              endedAt: performance.now()
            }),
          (error: NodeJS.ErrnoException) => finish(this.describeNetworkError(error, true))
        );
      });
      this.writeBody(request, body?.chunks() ?? [], shaper, marks).catch((error: NodeJS.ErrnoException) => {
        // The server may answer (e.g. 413) before it has read the whole body; that answer wins.
        if (!gotResponse) finish(this.describeNetworkError(error, false));
      });
    });
  }

  private async writeBody(
    request: http.ClientRequest,
    chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    shaper: LinkShaper | undefined,
    marks: { uploadStartedAt: number; uploadEndedAt: number }
  ): Promise<void> {
    marks.uploadStartedAt = performance.now();
    const source = shaper ? shaper.shapeUpload(chunks) : chunks;
    for await (const chunk of source) {
      if (request.destroyed) return;
      if (!request.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const done = () => {
            request.off('drain', done);
            request.off('close', closed);
            resolve();
          };
          const closed = () => {
            request.off('drain', done);
            reject(Object.assign(new Error('request closed'), { code: 'ECONNRESET' }));
          };
          request.once('drain', done);
          request.once('close', closed);
        });
      }
    }
    await new Promise<void>((resolve) => request.end(resolve));
    marks.uploadEndedAt = performance.now();
  }

  /** Reads a response body (through the shaper); places binary tensors at 8-byte-aligned offsets when asked. */
  private async readResponse(response: http.IncomingMessage, alignBinary: boolean): Promise<Buffer> {
    const declared = Number(response.headers['content-length']);
    const jsonLength = Number(response.headers[INFERENCE_HEADER]);
    const source: AsyncIterable<Uint8Array> = this.options.shaper ? this.options.shaper.shapeDownload(response) : response;
    if (!Number.isSafeInteger(declared) || declared < 0) {
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return Buffer.concat(chunks);
    }
    const shift = alignBinary && Number.isSafeInteger(jsonLength) ? (8 - (jsonLength % 8)) % 8 : 0;
    const body = Buffer.allocUnsafeSlow(declared + shift).subarray(shift);
    let received = 0;
    for await (const chunk of source) {
      if (received + chunk.byteLength > declared) throw new Error('the response is longer than its Content-Length');
      body.set(chunk, received);
      received += chunk.byteLength;
    }
    if (received !== declared) throw Object.assign(new Error(`the response ended after ${received} of ${declared} bytes`), { code: 'ECONNRESET' });
    return body;
  }

  private errorOf(exchange: Exchange): ExecutorError {
    let message = exchange.body.toString('utf8').trim().split('\n')[0];
    try {
      const parsed = JSON.parse(exchange.body.toString('utf8')) as { error?: unknown };
      if (typeof parsed.error === 'string') message = parsed.error.split('\n')[0];
    } catch {
      // not JSON: keep the first line of the text
    }
    return this.fail(`${exchange.status} ${message || http.STATUS_CODES[exchange.status] || ''}`.trim(), exchange.status);
  }

  private async json<T>(method: string, path: string, payload?: unknown, options: { timeoutMs?: number } = {}): Promise<T> {
    const body = payload === undefined ? undefined : jsonBody(payload);
    const exchange = await this.exchange(method, path, body, options);
    if (exchange.status >= 400) throw this.errorOf(exchange);
    try {
      return JSON.parse(exchange.body.toString('utf8')) as T;
    } catch {
      throw this.fail(`${method} ${path} answered ${exchange.status} with a body that is not JSON`);
    }
  }

  private async probe(path: string): Promise<boolean> {
    try {
      const exchange = await this.exchange('GET', path);
      if (exchange.status === 200) return true;
      if (exchange.status >= 400 && exchange.status < 500 && exchange.status !== 401) return false;
      throw this.errorOf(exchange);
    } catch (error) {
      if (error instanceof ExecutorError && error.status === undefined) return false;
      throw error;
    }
  }

  /** Whether the executor answers at all (false when it cannot be reached). */
  live(): Promise<boolean> {
    return this.probe('/v2/health/live');
  }

  ready(): Promise<boolean> {
    return this.probe('/v2/health/ready');
  }

  serverMetadata(): Promise<ServerMetadata> {
    return this.json<ServerMetadata>('GET', '/v2');
  }

  modelMetadata(model: string): Promise<ModelMetadata> {
    return this.json<ModelMetadata>('GET', modelPath(model));
  }

  modelReady(model: string): Promise<boolean> {
    return this.probe(`${modelPath(model)}/ready`);
  }

  /** Triton's repository index (our executor adds each loaded version's sha256). */
  repositoryIndex(options: { ready?: boolean } = {}): Promise<RepositoryIndexEntry[]> {
    return this.json<RepositoryIndexEntry[]>('POST', '/v2/repository/index', options.ready ? { ready: true } : {});
  }

  /**
   * Uploads ONNX bytes the Triton way unless the executor already has a model with these
   * bytes; returns the model name to infer with (`tail-<first 16 hex of sha256>` unless
   * a name is given). On a server that reports no hashes (stock Triton), a ready model of
   * the derived name counts as the same bytes; a given name is always uploaded.
   */
  async uploadModel(bytes: Uint8Array, options: { name?: string } = {}): Promise<{ name: string; sha256: string; uploaded: boolean }> {
    const hash = sha256(bytes);
    const name = options.name ?? `tail-${hash.slice(0, 16)}`;
    let index: RepositoryIndexEntry[] = [];
    try {
      index = await this.repositoryIndex({ ready: true });
    } catch (error) {
      if (!(error instanceof ExecutorError) || error.status === undefined || error.status === 401) throw error;
    }
    const present = index.find((e) => e.name === name && e.state === 'READY');
    if (present && (present.sha256 === hash || (present.sha256 === undefined && options.name === undefined))) {
      return { name, sha256: hash, uploaded: false };
    }
    // Triton needs a config beside uploaded files; this minimal one lets it fill in the rest.
    const start = Buffer.from(loadBodyStart(JSON.stringify({ name, backend: 'onnxruntime', max_batch_size: 0 }), '1/model.onnx'), 'utf8');
    const end = Buffer.from(LOAD_BODY_END, 'utf8');
    const body: RequestBody = {
      length: start.byteLength + 4 * Math.ceil(bytes.byteLength / 3) + end.byteLength,
      contentType: 'application/json',
      *chunks() {
        yield start;
        for (let offset = 0; offset < bytes.byteLength; offset += UPLOAD_CHUNK) {
          const slice = Buffer.from(bytes.buffer, bytes.byteOffset + offset, Math.min(UPLOAD_CHUNK, bytes.byteLength - offset));
          yield Buffer.from(slice.toString('base64'), 'latin1');
        }
        yield end;
      }
    };
    const exchange = await this.exchange('POST', `/v2/repository/models/${encodeURIComponent(name)}/load`, body);
    this.bytesUploaded += body.length;
    if (exchange.status >= 400) throw this.errorOf(exchange);
    return { name, sha256: hash, uploaded: true };
  }

  /** The server's extensions, asked once ([] when it answers none). */
  private serverExtensions(): Promise<string[]> {
    this.extensions ??= this.serverMetadata().then(
      (metadata) => (Array.isArray(metadata.extensions) ? metadata.extensions : []),
      (error: unknown) => {
        this.extensions = null;
        throw error;
      }
    );
    return this.extensions;
  }

  /**
   * Makes sure the executor keeps these whole-model bytes (studio_sources extension):
   * uploads them raw only when it lacks them. Null when the server has no such extension
   * (a stock Triton): the caller uploads each part instead.
   */
  async ensureSource(bytes: Uint8Array, knownSha256?: string): Promise<{ sha256: string; uploaded: boolean } | null> {
    if (!(await this.serverExtensions()).includes('studio_sources')) return null;
    const hash = knownSha256 ?? sha256(bytes);
    const path = `/v2/studio/sources/${hash}`;
    const present = await this.exchange('GET', path);
    if (present.status === 200) return { sha256: hash, uploaded: false };
    if (present.status !== 404) throw this.errorOf(present);
    const body: RequestBody = {
      length: bytes.byteLength,
      contentType: 'application/octet-stream',
      *chunks() {
        for (let offset = 0; offset < bytes.byteLength; offset += UPLOAD_CHUNK) yield bytes.subarray(offset, Math.min(bytes.byteLength, offset + UPLOAD_CHUNK));
      }
    };
    const exchange = await this.exchange('PUT', path, body);
    this.bytesUploaded += body.length;
    if (exchange.status >= 400) throw this.errorOf(exchange);
    return { sha256: hash, uploaded: true };
  }

  /**
   * Loads, as model `name`, a part the executor builds from a kept model (ensureSource);
   * a build whose bytes differ from `spec.sha256` is refused with status 409.
   */
  async buildModel(name: string, spec: BuildSpec): Promise<{ name: string; sha256: string; buildMs: number }> {
    const answer = await this.json<{ name: string; sha256: string; buildMs: number }>('POST', `/v2/studio/models/${encodeURIComponent(name)}/build`, { ...spec, dimValues: spec.dimValues ?? {} });
    return { name: answer.name, sha256: answer.sha256, buildMs: answer.buildMs };
  }

  /** Unloads a model; `timeoutMs` bounds a best-effort unload after a failure (the executor may be the failure). */
  async unloadModel(model: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.json<unknown>('POST', `/v2/repository/models/${encodeURIComponent(model)}/unload`, {}, options);
  }

  /** Runs a model with binary tensors both ways; see TransferTimings for what each time covers. */
  async infer(model: string, inputs: RawTensor[], options: { outputs?: string[]; id?: string; compress?: 'gzip' | 'deflate' } = {}): Promise<InferOutcome> {
    const startedAt = performance.now();
    let encoded;
    try {
      encoded = encodeInferRequest(inputs, options);
    } catch (error) {
      if (error instanceof ProtocolError) throw new ExecutorError(`cannot send to executor ${this.url}: ${error.message}`);
      throw error;
    }
    // Request compression, as tritonclient's request_compression_algorithm: the body deflated, its length the compressed one.
    const compressed = options.compress ? await compressBody([encoded.json, ...encoded.chunks], options.compress) : null;
    const encodeMs = performance.now() - startedAt;
    const exchange = await this.exchange(
      'POST',
      `${modelPath(model)}/infer`,
      {
        length: compressed ? compressed.byteLength : encoded.byteLength,
        contentType: 'application/octet-stream',
        headers: { 'inference-header-content-length': String(encoded.json.byteLength), ...(options.compress ? { 'content-encoding': options.compress } : {}) },
        chunks: () => (compressed ? [compressed] : [encoded.json, ...encoded.chunks])
      },
      { alignBinary: true }
    );
    if (exchange.status >= 400) throw this.errorOf(exchange);
    const header = exchange.headers[INFERENCE_HEADER];
    const jsonLength = header === undefined ? null : Number(header);
    let decoded;
    try {
      decoded = decodeInferResponse(exchange.body, jsonLength !== null && Number.isSafeInteger(jsonLength) ? jsonLength : null);
    } catch (error) {
      if (error instanceof ProtocolError) throw this.fail(`unreadable inference response: ${error.message}`);
      throw error;
    }
    const parameters = decoded.json.parameters ?? {};
    const number = (key: string): number | undefined => (typeof parameters[key] === 'number' ? (parameters[key] as number) : undefined);
    // From the first byte handed to the link (after a shaper's half round trip) until all is sent.
    const clientUploadMs = exchange.uploadEndedAt - exchange.uploadStartedAt;
    return {
      outputs: decoded.outputs,
      timings: {
        encodeMs,
        uploadMs: Math.max(clientUploadMs, number('receive_ms') ?? 0),
        remoteMs: number('compute_ms'),
        downloadMs: exchange.endedAt - exchange.responseAt,
        totalMs: performance.now() - startedAt,
        bytesUp: compressed ? compressed.byteLength : encoded.byteLength,
        bytesDown: exchange.body.byteLength
      }
    };
  }

  /**
   * Runs a split through a device executor: the head there, its output sent by the device
   * straight to its upstream server (studio extension, device.ts), the outputs back here.
   */
  async forward(inputs: RawTensor[], options: ForwardOptions): Promise<{ outputs: RawTensor[]; timings: ForwardTimings }> {
    const parameters: Record<string, string | number> = {
      ...(options.head ? { head_model: options.head } : {}),
      ...(options.tail ? { tail_model: options.tail, tail_inputs: options.tailInputs.join(','), tail_outputs: options.tailOutputs.join(',') } : {}),
      ...(options.upstream ? { upstream: options.upstream } : {}),
      ...(options.network
        ? { network: options.network.name, uplink_mbps: options.network.uplinkMbps, downlink_mbps: options.network.downlinkMbps, rtt_ms: options.network.rttMs }
        : {})
    };
    let encoded;
    try {
      encoded = encodeInferRequest(inputs, { outputs: options.outputs, parameters });
    } catch (error) {
      if (error instanceof ProtocolError) throw new ExecutorError(`cannot send to executor ${this.url}: ${error.message}`);
      throw error;
    }
    const exchange = await this.exchange(
      'POST',
      '/v2/studio/forward',
      {
        length: encoded.byteLength,
        contentType: 'application/octet-stream',
        headers: { 'inference-header-content-length': String(encoded.json.byteLength) },
        chunks: () => [encoded.json, ...encoded.chunks]
      },
      { alignBinary: true }
    );
    if (exchange.status >= 400) throw this.errorOf(exchange);
    const header = exchange.headers[INFERENCE_HEADER];
    let decoded;
    try {
      decoded = decodeInferResponse(exchange.body, header === undefined ? null : Number(header));
    } catch (error) {
      if (error instanceof ProtocolError) throw this.fail(`unreadable forward response: ${error.message}`);
      throw error;
    }
    const parameters_ = decoded.json.parameters ?? {};
    const number = (key: string): number => (typeof parameters_[key] === 'number' ? (parameters_[key] as number) : 0);
    return {
      outputs: decoded.outputs,
      timings: {
        deviceMs: number('device_ms'),
        encodeMs: number('encode_ms'),
        uploadMs: number('upload_ms'),
        remoteMs: number('remote_ms'),
        downloadMs: number('download_ms'),
        bytesUp: number('bytes_up'),
        bytesDown: number('bytes_down'),
        totalMs: number('total_ms')
      }
    };
  }

  /**
   * Per-node latency of a loaded model measured on the executor (studio extension);
   * `optimization` is onnxruntime's graph optimisation while profiling ('all' is how the
   * executor serves; default 'disabled', which times every original node).
   */
  async profile(model: string, options: { runs?: number; warmup?: number; minTimeMs?: number; optimization?: 'disabled' | 'all' } = {}): Promise<LatencyProfile> {
    const json = await this.json<unknown>('POST', `/v2/studio/models/${encodeURIComponent(model)}/profile`, options);
    try {
      return checkProfileShape(json, `executor ${this.url} profile of '${model}'`);
    } catch (error) {
      if (error instanceof ProfileError) throw new ExecutorError(error.message);
      throw error;
    }
  }

  /**
   * The executor's machine characterised (`neurosurgeon characterize` there, for `budgetS`
   * seconds; studio extension): the device profile its predictions are made from.
   */
  async characterize(options: { budgetS: number }): Promise<DeviceProfile> {
    const json = await this.json<unknown>('POST', '/v2/studio/characterize', { budgetS: options.budgetS }, { timeoutMs: Math.max(this.timeoutMs, options.budgetS * 1000 + 120_000) });
    try {
      return checkDeviceProfileShape(json, `${this.options.role ?? 'executor'} ${this.url} device profile`);
    } catch (error) {
      if (error instanceof DeviceProfileError) throw new ExecutorError(error.message);
      throw error;
    }
  }

  /** Live load of the executor, with Neurosurgeon's server-load factor K (studio extension). */
  load(): Promise<ExecutorLoad> {
    return this.json<ExecutorLoad>('GET', '/v2/studio/load');
  }

  /**
   * Round-trip time (median of small requests), then uplink and downlink throughput from
   * probe transfers to the studio's sink and source endpoints, one RTT taken off each.
   * Without `probeBytes` the probe grows until a transfer takes ~150 ms (at most 32 MiB).
   */
  async measureLink(options: { probeBytes?: number; rounds?: number } = {}): Promise<LinkMeasurement> {
    const rounds = Math.max(1, options.rounds ?? 3);
    const timed = async (run: () => Promise<Exchange>): Promise<number> => {
      const exchange = await run();
      if (exchange.status >= 400) throw this.errorOf(exchange);
      return exchange.endedAt - exchange.startedAt;
    };
    const ping = () => timed(() => this.exchange('GET', '/v2/health/ready', { length: 0, contentType: 'text/plain', chunks: emptyBody }));
    await ping();
    const pings: number[] = [];
    for (let i = 0; i < Math.max(5, rounds); i++) pings.push(await ping());
    const rttMs = median(pings);

    const upload = (bytes: number) =>
      timed(() =>
        this.exchange('POST', '/v2/studio/sink', {
          length: bytes,
          contentType: 'application/octet-stream',
          *chunks() {
            for (let sent = 0; sent < bytes; sent += PROBE_CHUNK.byteLength) yield PROBE_CHUNK.subarray(0, Math.min(PROBE_CHUNK.byteLength, bytes - sent));
          }
        })
      );
    const download = (bytes: number) => timed(() => this.exchange('GET', `/v2/studio/source?bytes=${bytes}`));
    const netMs = (elapsedMs: number) => Math.max(elapsedMs - rttMs, elapsedMs * 0.05);

    let probeBytes = options.probeBytes ?? 64 << 10;
    if (options.probeBytes === undefined) {
      while (probeBytes < 32 << 20 && netMs(await upload(probeBytes)) < 150) probeBytes *= 4;
    }
    const mbps = (elapsedMs: number) => (probeBytes * 8) / (netMs(elapsedMs) / 1000) / 1e6;
    const up: number[] = [];
    const down: number[] = [];
    for (let i = 0; i < rounds; i++) {
      up.push(mbps(await upload(probeBytes)));
      down.push(mbps(await download(probeBytes)));
    }
    return { rttMs, uplinkMbps: median(up), downlinkMbps: median(down), probeBytes };
  }
}

function jsonBody(payload: unknown): RequestBody {
  const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
  return { length: bytes.byteLength, contentType: 'application/json', chunks: () => [bytes] };
}
