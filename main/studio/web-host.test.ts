// The web host over real sockets on loopback: the token guards the page and the socket,
// requests are answered, events delivered, malformed messages answered without taking
// the host down, model bytes travel in binary frames, upload chunks come as POST bodies
// (token, origin and size checked), exports download as a zip once per ticket, and static files are served with the CSP and without
// directory traversal.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { unzipSync } from 'fflate';
import type { OpenedModel, StudioResult } from '../../app/studio/contract.js';
import { CLOSE_MESSAGE_TOO_BIG, decodeMessage, encodeMessage, parseServerMessage, type WireServerMessage } from '../../app/studio/wire.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { StudioService } from './service.js';
import { startWebHost, type WebHost } from './web-host.js';

let work: string;
let rendererDir: string;
let service: StudioService;
let host: WebHost;
let lenetPath: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'studio-web-'));
  rendererDir = path.join(work, 'renderer');
  mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>Neurosurgeon Studio</title><script src="index.js"></script>');
  writeFileSync(path.join(rendererDir, 'index.js'), 'console.log("studio");');
  writeFileSync(path.join(rendererDir, 'index.css'), 'body { margin: 0 }');
  writeFileSync(path.join(rendererDir, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(path.join(work, 'secret.txt'), 'outside the renderer folder');
  lenetPath = path.join(work, 'lenet.onnx');
  copyFileSync(ensureZooModel('lenet', defaultZooDir()), lenetPath);
  service = new StudioService({
    host: 'web',
    home: path.join(work, 'home'),
    connect: () => {
      throw new Error('no executor in this test');
    },
    supervisor: null,
    log: () => undefined
  });
  host = await startWebHost({ service, rendererDir, log: () => undefined, onClient: (send) => send('app.error', { name: 'Hello', message: 'welcome' }) });
});

afterAll(async () => {
  await host.close();
  await service.dispose();
  rmSync(work, { recursive: true, force: true });
});

interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(pathAndQuery: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const { port } = new URL(host.url);
  return new Promise((resolve, reject) => {
    // A raw request path, so "../" reaches the server unnormalised.
    const request = httpRequest({ host: '127.0.0.1', port: Number(port), path: pathAndQuery, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** POSTs `body` to the upload-chunk address; answers with the status and the parsed JSON. */
function postChunk(query: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const { port } = new URL(host.url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port: Number(port), method: 'POST', path: `/upload-chunk?${query}`, headers: { 'Content-Length': String(body.byteLength), ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown }));
      }
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A client socket that collects every message and can wait for a response or an event. */
class Client {
  readonly messages: WireServerMessage[] = [];
  private waiters: { match: (m: WireServerMessage) => boolean; resolve: (m: WireServerMessage) => void }[] = [];
  private nextId = 1;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      const message = parseServerMessage(decodeMessage(isBinary ? new Uint8Array(data) : data.toString('utf8')));
      this.messages.push(message);
      const waiter = this.waiters.find((w) => w.match(message));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(message);
      }
    });
  }

  static connect(token: string | null, options: { origin?: string } = {}): Promise<Client> {
    const url = new URL(host.url);
    const socketUrl = `ws://127.0.0.1:${url.port}/studio${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
    const socket = new WebSocket(socketUrl, options.origin ? { origin: options.origin } : {});
    return new Promise((resolve, reject) => {
      const client = new Client(socket);
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) => reject(new Error(`HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });
  }

  waitFor(match: (m: WireServerMessage) => boolean): Promise<WireServerMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  async call(method: string, params: unknown): Promise<WireServerMessage> {
    const id = this.nextId++;
    this.socket.send(encodeMessage({ id, method, params }));
    return this.waitFor((m) => 'id' in m && m.id === id);
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket.send(data);
  }

  close(): void {
    this.socket.close();
  }
}

describe('web host: the token', () => {
  it('prints a loopback address with a long random token', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{32}$/);
  });

  it('serves the page only with the token, comparing it exactly', async () => {
    expect((await get(`/?token=${host.token}`)).status).toBe(200);
    expect((await get(`/index.html?token=${host.token}`)).status).toBe(200);
    expect((await get('/')).status).toBe(403);
    expect((await get(`/?token=${host.token.slice(0, -1)}`)).status).toBe(403);
    expect((await get(`/?token=${host.token}x`)).status).toBe(403);
  });

  it('refuses a socket without the right token, from another origin, or on another path', async () => {
    await expect(Client.connect(null)).rejects.toThrow('HTTP 403');
    await expect(Client.connect('wrong')).rejects.toThrow('HTTP 403');
    await expect(Client.connect(host.token, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    const port = new URL(host.url).port;
    await expect(
      new Promise((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/other?token=${host.token}`);
        socket.once('open', resolve);
        socket.once('unexpected-response', (_q, response) => reject(new Error(`HTTP ${response.statusCode}`)));
        socket.once('error', reject);
      })
    ).rejects.toThrow('HTTP 404');
  });

  it('refuses requests naming another host (DNS rebinding)', async () => {
    expect((await get(`/?token=${host.token}`, { Host: 'attacker.example:80' })).status).toBe(403);
  });
});

describe('web host: static files', () => {
  it('serves the bundle with content types and the CSP, and no Referer', async () => {
    const page = await get(`/?token=${host.token}`);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    // The graph's layout worker comes from the page's own files, nothing else may start one.
    expect(page.headers['content-security-policy']).toContain("worker-src 'self'");
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['content-security-policy']).not.toMatch(/unsafe-(inline|eval)/);
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');
    const script = await get('/index.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/index.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    expect((await get('/assets/logo.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it('never leaves the renderer folder', async () => {
    for (const attempt of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/%2e%2e%2f%2e%2e%2fetc/passwd']) {
      const answer = await get(attempt);
      expect(answer.status, attempt).toBe(404);
      expect(answer.body).not.toContain('outside the renderer folder');
    }
    expect((await get('/assets')).status).toBe(404);
    expect((await get('/missing.js')).status).toBe(404);
    expect((await get('/%E0%A4%A')).status).toBe(400);
  });
});

describe('web host: the contract over the socket', () => {
  it('answers requests and greets each new client', async () => {
    const client = await Client.connect(host.token);
    expect(await client.waitFor((m) => 'event' in m && m.event === 'app.error')).toEqual({ event: 'app.error', payload: { name: 'Hello', message: 'welcome' } });
    const info = await client.call('app.info', {});
    expect(info).toMatchObject({ result: { host: 'web', samples: expect.arrayContaining([{ id: 'alexnet', title: 'AlexNet' }]) } });
    const failure = await client.call('model.openPath', { path: path.join(work, 'nothing.onnx') });
    expect(failure).toEqual({ id: expect.any(Number), error: { name: 'ModelFileError', message: `${path.join(work, 'nothing.onnx')}: no such file` } });
    client.close();
  });

  it('answers malformed messages with an error and stays up', async () => {
    const client = await Client.connect(host.token);
    client.sendRaw('{this is not json');
    const notJson = await client.waitFor((m) => 'error' in m && m.id === null);
    expect(notJson).toMatchObject({ error: { name: 'WireError', message: expect.stringContaining('not JSON') } });
    client.sendRaw(JSON.stringify({ id: 77, method: 42 }));
    expect(await client.waitFor((m) => 'id' in m && m.id === 77)).toMatchObject({ error: { name: 'WireError', message: 'a request needs a "method" string' } });
    expect(await client.call('no.such.method', {})).toMatchObject({ error: { name: 'ContractError', message: 'unknown method "no.such.method"' } });
    expect(await client.call('profile.start', { modelId: 'x', side: 'middle' })).toMatchObject({ error: { name: 'ContractError' } });
    client.sendRaw(new Uint8Array([1, 2]));
    expect(await client.waitFor((m) => 'error' in m && m.id === null && m.error.message.includes('4-byte'))).toBeTruthy();
    // The same socket (and the host) still work.
    expect(await client.call('prefs.get', {})).toMatchObject({ result: { theme: 'system' } });
    const other = await Client.connect(host.token);
    expect(await other.call('model.recent', {})).toMatchObject({ result: [] });
    other.close();
    client.close();
  });

  it('carries model bytes in a binary frame (model.openBytes)', async () => {
    const client = await Client.connect(host.token);
    const bytes = new Uint8Array(readFileSync(lenetPath));
    const frame = encodeMessage({ id: 500, method: 'model.openBytes', params: { fileName: 'dropped.onnx', bytes } });
    expect(frame).toBeInstanceOf(Uint8Array);
    client.sendRaw(frame);
    const answer = (await client.waitFor((m) => 'id' in m && m.id === 500)) as { result: { model: { fileName: string; nodes: unknown[] }; source: unknown } };
    expect(answer.result.model.fileName).toBe('dropped.onnx');
    expect(answer.result.model.nodes.length).toBeGreaterThan(5);
    expect(answer.result.source).toEqual({ kind: 'upload', label: 'dropped.onnx' });
    // Bytes sent as plain JSON (not a Uint8Array) are refused by the contract.
    expect(await client.call('model.openBytes', { fileName: 'x.onnx', bytes: [1, 2, 3] })).toMatchObject({ error: { name: 'ContractError', message: expect.stringContaining('bytes') } });
    client.close();
  });

  it('closes a socket that sends more than the message limit with 1009, and the host stays up', async () => {
    const small = await startWebHost({ service, rendererDir, log: () => undefined, maxMessageBytes: 64 * 1024 });
    try {
      const url = new URL(small.url);
      const socket = new WebSocket(`ws://127.0.0.1:${url.port}/studio?token=${small.token}`);
      await new Promise((resolve) => socket.once('open', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(encodeMessage({ id: 1, method: 'model.openBytes', params: { fileName: 'big.onnx', bytes: new Uint8Array(100 * 1024) } }));
      expect(await closed).toBe(CLOSE_MESSAGE_TOO_BIG);
      const again = new WebSocket(`ws://127.0.0.1:${url.port}/studio?token=${small.token}`);
      await new Promise((resolve) => again.once('open', resolve));
      again.close();
    } finally {
      await small.close();
    }
  });

  it('delivers events to every connected client', async () => {
    const first = await Client.connect(host.token);
    const second = await Client.connect(host.token);
    const opened = (await first.call('model.openPath', { path: lenetPath })) as { result: { model: { id: string } } };
    const modelId = opened.result.model.id;
    const started = (await first.call('profile.start', { modelId, side: 'local', ep: 'cpu', runs: 2, warmup: 0 })) as { result: { jobId: string } };
    const isDone = (m: WireServerMessage) => 'event' in m && m.event === 'profile.done' && (m.payload as { jobId: string }).jobId === started.result.jobId;
    const [a, b] = await Promise.all([first.waitFor(isDone), second.waitFor(isDone)]);
    expect(a).toEqual(b);
    expect((a as { payload: { outcome: string } }).payload.outcome).toBe('done');
    expect(second.messages.some((m) => 'event' in m && m.event === 'profile.progress')).toBe(true);
    first.close();
    second.close();
  });

  it('takes upload chunks as POST bodies with the token, from this page only, and opens the file', async () => {
    const client = await Client.connect(host.token);
    const bytes = new Uint8Array(readFileSync(lenetPath));
    const begun = await client.call('upload.begin', { fileName: 'posted.onnx', bytes: bytes.byteLength });
    const uploadId = ('result' in begun ? (begun.result as { uploadId: string }) : { uploadId: '' }).uploadId;
    const token = encodeURIComponent(host.token);
    const half = Math.floor(bytes.byteLength / 2);

    expect((await postChunk(`uploadId=${uploadId}&offset=0`, bytes.subarray(0, half))).status).toBe(403);
    expect((await postChunk(`token=wrong&uploadId=${uploadId}&offset=0`, bytes.subarray(0, half))).status).toBe(403);
    expect((await postChunk(`token=${token}&uploadId=${uploadId}&offset=0`, bytes.subarray(0, half), { Origin: 'http://evil.example' })).status).toBe(403);
    const unknown = await postChunk(`token=${token}&uploadId=nope&offset=0`, bytes.subarray(0, 10));
    expect(unknown).toMatchObject({ status: 400, json: { error: { name: 'UploadError' } } });

    // The second half first: chunks may arrive in any order.
    expect(await postChunk(`token=${token}&uploadId=${uploadId}&offset=${half}`, bytes.subarray(half))).toEqual({ status: 200, json: { result: { received: bytes.byteLength - half } } });
    expect(await postChunk(`token=${token}&uploadId=${uploadId}&offset=0`, bytes.subarray(0, half))).toEqual({ status: 200, json: { result: { received: bytes.byteLength } } });
    const finished = await client.call('upload.finish', { uploadId });
    expect('result' in finished && (finished.result as { model: { fileName: string } }).model.fileName).toBe('posted.onnx');
    client.close();
  });
});

describe('web host: export downloads', () => {
  function getBytes(pathAndQuery: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const { port } = new URL(host.url);
    return new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: Number(port), path: pathAndQuery }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      });
      request.on('error', reject);
      request.end();
    });
  }

  it('streams an export folder as a zip once per ticket, and only an export folder', async () => {
    const { model } = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    const network = { name: 'lte', uplinkMbps: 5.85, downlinkMbps: 13.76, rttMs: 70 };
    const exported = (await service.handle('partition.export', { modelId: model.id, cut: 3, network, serverLoad: 1, objective: 'latency' })) as StudioResult<'partition.export'>;
    // One folder per model and cut: exporting the same cut again replaces it.
    const again = (await service.handle('partition.export', { modelId: model.id, cut: 3, network, serverLoad: 2, objective: 'latency' })) as StudioResult<'partition.export'>;
    expect(again.dir).toBe(exported.dir);
    // Named for the model as this studio knows it (an earlier test uploaded the same bytes under another name).
    const name = path.basename(exported.dir);
    expect(name).toMatch(/^[a-z]+-cut-3$/);
    expect(readdirSync(path.dirname(exported.dir)).filter((entry) => entry.endsWith('-cut-3'))).toEqual([name]);
    // The tail and the repository's copy of it are one file.
    const config = JSON.parse(readFileSync(path.join(exported.dir, 'partition.json'), 'utf8')) as { files: { tail: string; repository: { model: string } } };
    expect(statSync(path.join(exported.dir, config.files.tail)).ino).toBe(statSync(path.join(exported.dir, config.files.repository.model)).ino);

    const link = (await service.handle('partition.download', { dir: exported.dir })) as StudioResult<'partition.download'>;
    expect(link.fileName).toBe(`${name}.zip`);
    const answer = await getBytes(link.url);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/zip');
    expect(answer.headers['content-disposition']).toBe(`attachment; filename="${name}.zip"`);
    const entries = unzipSync(new Uint8Array(answer.body));
    const head = entries[`${name}/head.onnx`];
    expect(head).toBeDefined();
    expect(Buffer.from(head).equals(readFileSync(path.join(exported.dir, 'head.onnx')))).toBe(true);
    expect(Object.keys(entries)).toEqual(expect.arrayContaining([`${name}/partition.json`, `${name}/tail.onnx`, `${name}/${config.files.repository.model}`]));
    // A ticket is spent by its download; a made-up one is refused.
    expect((await getBytes(link.url)).status).toBe(404);
    expect((await getBytes('/export-download/made-up')).status).toBe(404);
    // Only folders an export wrote, under the export folder.
    await expect(service.handle('partition.download', { dir: work })).rejects.toMatchObject({ name: 'ExportError', message: `${work} is not an export folder` });
    mkdirSync(path.join(path.dirname(exported.dir), 'mine'));
    await expect(service.handle('partition.download', { dir: path.join(path.dirname(exported.dir), 'mine') })).rejects.toMatchObject({ message: expect.stringContaining('holds no export') });
    await expect(service.handle('partition.reveal', { dir: exported.dir })).rejects.toMatchObject({ name: 'ExportError', message: expect.stringContaining('cannot show a folder') });
  }, 60_000);
});
