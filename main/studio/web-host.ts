// The web host: `neurosurgeon studio --web` serves the built renderer (dist/renderer) and
// the studio contract over a WebSocket, on loopback only, so the very renderer of the
// desktop window runs in any browser (headless machines, end-to-end tests). The framing
// is app/studio/wire.ts, shared with the renderer's side (renderer/host/).
//
// Guarding it: a random token made per launch (crypto.randomBytes) must be in the page's
// URL (`/?token=…`) and in the socket's (`/studio?token=…`), compared in constant time;
// a wrong or missing one gets 403 and the socket is refused. The Host header must name
// this loopback address (no DNS rebinding) and a socket's Origin, when sent, this page.
// Static files are served without directory traversal, with the same CSP as Electron's
// window and no Referer (the token stays in the address bar). Every message is checked:
// a malformed one gets an error reply and the socket and the host stay up. An upload's
// chunks may also come as HTTP POST bodies (UPLOAD_CHUNK_PATH, same token, Host and Origin
// checks, at most MAX_UPLOAD_CHUNK_BYTES each), handled as the contract's upload.chunk.
// An export downloads as a zip from EXPORT_DOWNLOAD_PATH + a one-time ticket that
// partition.download issued (Host checked; the ticket is the secret), streamed file by file.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { StudioEventName } from '../../app/studio/contract.js';
import {
  decodeMessage,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  MAX_UPLOAD_CHUNK_BYTES,
  parseRequest,
  STUDIO_SOCKET_PATH,
  UPLOAD_CHUNK_PATH,
  EXPORT_DOWNLOAD_PATH,
  WireRequestError
} from '../../app/studio/wire.js';
import { packageRoot } from '../files/paths.js';
import { contentSecurityPolicy } from './csp.js';
import { lookUpStaticFile } from './static-files.js';
import { zipFolder } from '../files/zip-folder.js';
import type { StudioLog } from './preferences.js';
import { errorPayload, type StudioService } from './service.js';

export class WebHostError extends Error {
  override name = 'WebHostError';
}

export interface WebHostOptions {
  service: StudioService;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The built renderer (default dist/renderer). */
  rendererDir?: string;
  /** Fixed token for tests; a fresh random one otherwise. */
  token?: string;
  /** Largest message a client may send (default MAX_MESSAGE_BYTES); a bigger one closes its socket with 1009. */
  maxMessageBytes?: number;
  /** Called for every new socket, e.g. to announce a model opened from the command line. */
  onClient?: (send: (event: StudioEventName, payload: unknown) => void) => void;
  log?: StudioLog;
}


function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time token check (hashing first makes both sides the same length). */
export function tokenMatches(expected: string, given: string | null): boolean {
  return given !== null && timingSafeEqual(digest(expected), digest(given));
}

export class WebHost {
  readonly token: string;
  private readonly server: Server;
  private readonly sockets: WebSocketServer;
  private readonly rendererDir: string;
  private readonly log: StudioLog;
  private readonly offService: () => void;
  private port = 0;

  constructor(private readonly options: WebHostOptions) {
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.rendererDir = path.resolve(options.rendererDir ?? path.join(packageRoot(), 'dist', 'renderer'));
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.server = createServer((request, response) => this.serveFile(request, response));
    this.sockets = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes ?? MAX_MESSAGE_BYTES, perMessageDeflate: false });
    this.server.on('upgrade', (request, socket, head) => this.upgrade(request, socket, head));
    this.sockets.on('connection', (socket) => this.attach(socket));
    this.offService = options.service.on((event, payload) => this.broadcast(event, payload));
  }

  /** The address to open: the page with this launch's token. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/?token=${encodeURIComponent(this.token)}`;
  }

  get clientCount(): number {
    return this.sockets.clients.size;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) =>
        reject(new WebHostError(error.code === 'EADDRINUSE' ? `port ${this.options.port} is already in use; pick another with --port` : `cannot listen: ${error.message}`));
      this.server.once('error', onError);
      this.server.listen(this.options.port ?? 0, '127.0.0.1', () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.url;
  }

  async close(): Promise<void> {
    this.offService();
    for (const socket of this.sockets.clients) socket.terminate();
    await new Promise<void>((resolve) => this.sockets.close(() => resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- HTTP --------------------------------------------------------------------------

  private hostAllowed(request: IncomingMessage): boolean {
    const host = request.headers.host;
    return host === `127.0.0.1:${this.port}` || host === `localhost:${this.port}`;
  }

  private securityHeaders(): Record<string, string> {
    return {
      'Content-Security-Policy': contentSecurityPolicy({ connectSources: [`ws://127.0.0.1:${this.port}`, `ws://localhost:${this.port}`] }),
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin'
    };
  }

  private refuse(response: ServerResponse, status: number, text: string): void {
    response.writeHead(status, { ...this.securityHeaders(), 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(`${text}\n`);
  }

  private originAllowed(origin: string | undefined): boolean {
    return origin === undefined || origin === `http://127.0.0.1:${this.port}` || origin === `http://localhost:${this.port}`;
  }

  private answerJson(response: ServerResponse, status: number, body: unknown): void {
    response.writeHead(status, { ...this.securityHeaders(), 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(JSON.stringify(body));
  }

  /** An upload's chunk as a POST body: checked like a socket, then handed to upload.chunk. */
  private receiveChunk(request: IncomingMessage, response: ServerResponse, url: URL): void {
    if (!this.originAllowed(request.headers.origin) || !tokenMatches(this.token, url.searchParams.get('token'))) {
      request.resume();
      return this.answerJson(response, 403, { error: { name: 'ContractError', message: 'upload refused: wrong or missing token, or another origin' } });
    }
    const length = Number(request.headers['content-length']);
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_UPLOAD_CHUNK_BYTES) {
      request.resume();
      return this.answerJson(response, 413, { error: { name: 'ContractError', message: `an upload chunk must say its length and hold at most ${MAX_UPLOAD_CHUNK_BYTES} bytes` } });
    }
    const body = Buffer.allocUnsafe(length);
    let filled = 0;
    request.on('data', (part: Buffer) => {
      if (filled + part.length > length) {
        request.destroy();
        return;
      }
      part.copy(body, filled);
      filled += part.length;
    });
    request.on('error', () => response.destroy());
    request.on('end', () => {
      const params = { uploadId: url.searchParams.get('uploadId') ?? '', offset: Number(url.searchParams.get('offset')), bytes: new Uint8Array(body.buffer, body.byteOffset, filled) };
      this.options.service.handle('upload.chunk', params).then(
        (result) => this.answerJson(response, 200, { result }),
        (error: unknown) => this.answerJson(response, 400, { error: errorPayload(error) })
      );
    });
  }

  /** An export folder as a zip, for a ticket partition.download issued (once). */
  private sendExport(response: ServerResponse, ticket: string): void {
    const dir = this.options.service.takeDownload(ticket);
    if (dir === null) return this.refuse(response, 404, 'this download link was used already or has expired; export again, or ask for a new link');
    const fileName = `${path.basename(dir)}.zip`.replace(/[^A-Za-z0-9._-]/g, '_');
    let zip;
    try {
      zip = zipFolder(dir);
    } catch (error) {
      return this.refuse(response, 410, `the export ${path.basename(dir)} is gone (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
    }
    response.writeHead(200, {
      ...this.securityHeaders(),
      'Content-Type': 'application/zip',
      'Content-Disposition': `attachment; filename="${fileName}"`,
      'Cache-Control': 'no-store'
    });
    zip.on('error', (error) => {
      this.options.log?.(`studio: export download of ${dir} failed: ${error.message}`);
      response.destroy();
    });
    zip.pipe(response);
  }

  private serveFile(request: IncomingMessage, response: ServerResponse): void {
    if (!this.hostAllowed(request)) return this.refuse(response, 403, 'forbidden: unexpected Host header');
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${this.port}`);
    if (url.pathname === UPLOAD_CHUNK_PATH && request.method === 'POST') return this.receiveChunk(request, response, url);
    if (url.pathname.startsWith(EXPORT_DOWNLOAD_PATH) && request.method === 'GET') return this.sendExport(response, url.pathname.slice(EXPORT_DOWNLOAD_PATH.length));
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return this.refuse(response, 405, 'method not allowed');
    }
    const found = lookUpStaticFile(this.rendererDir, url.pathname);
    if (found.kind === 'malformed') return this.refuse(response, 400, 'bad request: malformed path');
    // The page needs the token; its scripts and styles are the public bundle, and the
    // socket they open asks for the token again.
    if (found.isPage && !tokenMatches(this.token, url.searchParams.get('token'))) {
      return this.refuse(response, 403, 'forbidden: open the studio with the address (and token) `neurosurgeon studio --web` printed');
    }
    if (found.kind === 'missing') {
      if (url.pathname === '/favicon.ico') {
        response.writeHead(204, this.securityHeaders());
        return void response.end();
      }
      if (found.isPage && found.file) return this.refuse(response, 503, `the studio's renderer is not built (${path.relative(packageRoot(), found.file)} is missing); run \`npm run build\``);
      return this.refuse(response, 404, 'not found');
    }
    const file = found.file;
    response.writeHead(200, {
      ...this.securityHeaders(),
      'Content-Type': found.contentType,
      'Content-Length': String(found.size),
      'Cache-Control': found.isPage ? 'no-store' : 'no-cache'
    });
    if (request.method === 'HEAD') return void response.end();
    createReadStream(file)
      .on('error', () => response.destroy())
      .pipe(response);
  }

  // ---- WebSocket ---------------------------------------------------------------------

  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${this.port}`);
    const originAllowed = this.originAllowed(request.headers.origin);
    const refusal =
      url.pathname !== STUDIO_SOCKET_PATH
        ? '404 Not Found'
        : !this.hostAllowed(request) || !originAllowed || !tokenMatches(this.token, url.searchParams.get('token'))
          ? '403 Forbidden'
          : null;
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (ws) => this.sockets.emit('connection', ws, request));
  }

  private attach(socket: WebSocket): void {
    socket.on('message', (data, isBinary) => void this.receive(socket, data, isBinary));
    socket.on('error', (error) => this.log(`studio: a studio socket failed: ${error.message}`));
    this.options.onClient?.((event, payload) => this.sendEvent(socket, event, payload));
  }

  private async receive(socket: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let id: number | null = null;
    try {
      const frame = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const request = parseRequest(decodeMessage(isBinary ? new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength) : frame.toString('utf8')));
      id = request.id;
      const result = await this.options.service.handle(request.method, request.params);
      this.send(socket, { id, result });
    } catch (error) {
      if (error instanceof WireRequestError) id = error.requestId;
      this.send(socket, { id, error: errorPayload(error) });
    }
  }

  private send(socket: WebSocket, message: unknown): void {
    if (socket.readyState !== socket.OPEN) return;
    try {
      socket.send(encodeMessage(message));
    } catch (error) {
      this.log(`studio: could not send a reply: ${(error as Error).message}`);
    }
  }

  private sendEvent(socket: WebSocket, event: StudioEventName, payload: unknown): void {
    this.send(socket, { event, payload });
  }

  private broadcast(event: StudioEventName, payload: unknown): void {
    if (this.sockets.clients.size === 0) return;
    const frame = encodeMessage({ event, payload });
    for (const socket of this.sockets.clients) if (socket.readyState === socket.OPEN) socket.send(frame);
  }
}

/** Starts a web host and returns it listening. */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host = new WebHost(options);
  await host.listen();
  return host;
}
