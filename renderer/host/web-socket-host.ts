// The StudioHost of the browser: the contract over the web host's WebSocket, in the
// framing of app/studio/wire.ts (the same module main/studio/web-host.ts speaks). Every
// result and event is checked against the contract before the UI sees it. An upload's
// chunks go as HTTP POST bodies instead (sendUploadChunk): the browser reads the file
// slice and sends it itself, so the page's thread never copies the bytes.
import {
  checkEvent,
  checkParams,
  checkResult,
  isStudioEventName,
  type StudioEvent,
  type StudioEventName,
  type StudioHost,
  type StudioMethod,
  type StudioParams,
  type StudioResult
} from '../../app/studio/contract.js';
import {
  CLOSE_MESSAGE_TOO_BIG,
  decodeMessage,
  encodeMessage,
  isWireEvent,
  messageTooBigText,
  parseServerMessage,
  STUDIO_SOCKET_PATH,
  UPLOAD_CHUNK_PATH
} from '../../app/studio/wire.js';
import { HostConnectionError, StudioRequestError, type ConnectionEvents, type UploadChannel } from './host-error.js';

interface Pending {
  method: StudioMethod;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

type Listener = (payload: unknown) => void;

/** The socket URL for the page this renderer was served from (`/?token=…` → `/studio?token=…`). */
export function socketUrlForPage(location: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${STUDIO_SOCKET_PATH}?token=${encodeURIComponent(token)}`;
}

function closeReason(event: CloseEvent): string {
  if (event.code === CLOSE_MESSAGE_TOO_BIG) return messageTooBigText();
  if (event.code === 1008 || event.code === 4403) return 'the studio refused the connection (wrong or missing token in the page address)';
  return event.reason ? `the studio closed the connection (${event.reason})` : 'the connection to the studio was lost (is `neurosurgeon studio --web` still running?)';
}

/** The upload-chunk address beside the socket's (`ws://h/studio?token=t` → `http://h/upload-chunk?token=t`). */
export function uploadChunkUrl(socketUrl: string, uploadId: string, offset: number): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = UPLOAD_CHUNK_PATH;
  url.searchParams.set('uploadId', uploadId);
  url.searchParams.set('offset', String(offset));
  return url.toString();
}

export function webSocketHost(url: string): StudioHost & ConnectionEvents & UploadChannel {
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  const opened = new Promise<void>((resolve) => socket.addEventListener('open', () => resolve(), { once: true }));
  const pending = new Map<number, Pending>();
  const listeners = new Map<StudioEventName, Set<Listener>>();
  const lostListeners = new Set<(reason: string) => void>();
  let lostReason: string | null = null;
  let nextId = 1;

  const loseConnection = (reason: string) => {
    if (lostReason !== null) return;
    lostReason = reason;
    for (const request of pending.values()) request.reject(new HostConnectionError(reason));
    pending.clear();
    for (const listener of lostListeners) listener(reason);
  };

  socket.addEventListener('close', (event) => loseConnection(closeReason(event)));
  socket.addEventListener('error', () => {
    if (socket.readyState !== WebSocket.OPEN) loseConnection('could not connect to the studio (is `neurosurgeon studio --web` still running?)');
  });

  socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => {
    let message;
    try {
      message = parseServerMessage(decodeMessage(event.data));
    } catch (error) {
      console.warn(`studio: ignored a malformed message from the host: ${(error as Error).message}`);
      return;
    }
    if (isWireEvent(message)) {
      if (!isStudioEventName(message.event)) {
        console.warn(`studio: ignored unknown event "${message.event}"`);
        return;
      }
      let payload: unknown;
      try {
        payload = checkEvent(message.event, message.payload);
      } catch (error) {
        console.warn(`studio: ${(error as Error).message}`);
        return;
      }
      for (const listener of listeners.get(message.event) ?? []) listener(payload);
      return;
    }
    if (message.id === null) {
      // The host could not tell which request it was answering: one of ours was malformed.
      console.warn(`studio: the host refused a message: ${'error' in message ? message.error.message : 'no reason given'}`);
      return;
    }
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    if ('error' in message) {
      request.reject(new StudioRequestError(message.error));
      return;
    }
    try {
      request.resolve(checkResult(request.method, message.result));
    } catch (error) {
      request.reject(error as Error);
    }
  });

  return {
    async request<M extends StudioMethod>(method: M, params: StudioParams<M>): Promise<StudioResult<M>> {
      const checked = checkParams(method, params);
      if (lostReason !== null) throw new HostConnectionError(lostReason);
      await opened;
      if (lostReason !== null) throw new HostConnectionError(lostReason);
      const id = nextId++;
      const frame = encodeMessage({ id, method, params: checked });
      return new Promise<StudioResult<M>>((resolve, reject) => {
        pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject });
        socket.send(frame);
      });
    },

    on<E extends StudioEventName>(event: E, listener: (payload: StudioEvent<E>) => void): () => void {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      const untyped = listener as Listener;
      set.add(untyped);
      return () => set.delete(untyped);
    },

    async sendUploadChunk({ uploadId, offset, chunk }) {
      if (lostReason !== null) throw new HostConnectionError(lostReason);
      let response: Response;
      try {
        response = await fetch(uploadChunkUrl(url, uploadId, offset), { method: 'POST', body: chunk, headers: { 'Content-Type': 'application/octet-stream' }, cache: 'no-store' });
      } catch (error) {
        throw new HostConnectionError(`could not send a chunk to the studio (${(error as Error).message})`);
      }
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        throw new HostConnectionError(`the studio answered a chunk with HTTP ${response.status} and no JSON`);
      }
      const message = parseServerMessage({ id: 0, ...(typeof body === 'object' && body !== null ? body : {}) });
      if ('error' in message) throw new StudioRequestError(message.error);
      if (!('result' in message)) throw new HostConnectionError('the studio answered a chunk with neither result nor error');
      return checkResult('upload.chunk', message.result);
    },

    onConnectionLost(listener) {
      lostListeners.add(listener);
      if (lostReason !== null) listener(lostReason);
      return () => lostListeners.delete(listener);
    }
  };
}
