// How the studio contract (contract.ts) travels over the web host's WebSocket: the one
// framing both ends import — main/studio/web-host.ts on the server, renderer/host/ in the
// browser — so they cannot drift apart. Pure code: no Node, no DOM.
//
// Messages:
//   renderer → main   request   {"id": 7, "method": "model.openPath", "params": {...}}
//   main → renderer   response  {"id": 7, "result": {...}}
//                               {"id": 7, "error": {"name": "ModelFileError", "message": "..."}}
//                               ("id": null when the request was too malformed to have one)
//                     event     {"event": "profile.progress", "payload": {...}}
// A message without binary data is one text frame holding its JSON. A message that holds
// Uint8Arrays (model.openBytes' file bytes) is one binary frame:
//   [u32 little-endian: length H of the header] [H bytes: header JSON, UTF-8] [blob area]
// where the header is the message with every Uint8Array replaced by the placeholder
// {"$bytes": OFFSET, "length": N}, OFFSET counted from the start of the blob area. Decoding
// gives views into the frame (no copy). No message may exceed MAX_MESSAGE_BYTES: encoding
// refuses with a WireError naming the limit, and the server closes a socket that sends
// more (WebSocket close code 1009, "message too big"), which the client reports as such.

export class WireError extends Error {
  override name = 'WireError';
}

/** The WebSocket endpoint; the per-launch token goes in its query: `/studio?token=…`. */
export const STUDIO_SOCKET_PATH = '/studio';

/**
 * Where the web host takes an upload's chunks as plain HTTP POST bodies
 * (`/upload-chunk?token=…&uploadId=…&offset=…`), answered like upload.chunk: the browser
 * sends a slice of the chosen file straight from disk, without copying it through the
 * page. Over Electron's IPC (and as a fallback) chunks travel as upload.chunk requests.
 */
export const UPLOAD_CHUNK_PATH = '/upload-chunk';

/** Where the web host serves an export as a zip: EXPORT_DOWNLOAD_PATH + a one-time ticket from partition.download. */
export const EXPORT_DOWNLOAD_PATH = '/export-download/';

/** Largest chunk body the web host takes at UPLOAD_CHUNK_PATH. */
export const MAX_UPLOAD_CHUNK_BYTES = 64 * 1024 * 1024;

/** Largest message either side sends: room for VGG-16 (~553 MB) and then some. */
export const MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;

/** WebSocket close code the server uses for a message over MAX_MESSAGE_BYTES (RFC 6455 "message too big"). */
export const CLOSE_MESSAGE_TOO_BIG = 1009;

export interface WireRequest {
  id: number;
  method: string;
  params: unknown;
}

export interface WireErrorPayload {
  name: string;
  message: string;
}

/** An error to a message too malformed to carry an id has "id": null. */
export type WireResponse = { id: number; result: unknown } | { id: number | null; error: WireErrorPayload };

export interface WireEvent {
  event: string;
  payload: unknown;
}

export type WireServerMessage = WireResponse | WireEvent;

const HEADER_LENGTH_BYTES = 4;

export function formatByteLimit(bytes: number): string {
  const units: [number, string][] = [[1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} bytes`;
}

function tooBig(bytes: number, limit: number): WireError {
  return new WireError(`message of ${formatByteLimit(bytes)} exceeds the studio's ${formatByteLimit(limit)} limit per message`);
}

function isPlaceholder(value: unknown): value is { $bytes: number; length: number } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return Object.keys(record).length === 2 && typeof record.$bytes === 'number' && typeof record.length === 'number';
}

/** Encodes a message as a text frame (no binary data) or a binary frame (see the top of this file). */
export function encodeMessage(message: unknown, limit = MAX_MESSAGE_BYTES): string | Uint8Array {
  const blobs: Uint8Array[] = [];
  let blobBytes = 0;
  const header = JSON.stringify(message, function (this: unknown, key: string, value: unknown) {
    // JSON.stringify has already turned a Uint8Array into an object by the time `value`
    // arrives, so look at the holder's own property instead.
    const original = key === '' ? message : (this as Record<string, unknown>)[key];
    if (original instanceof Uint8Array) {
      const placeholder = { $bytes: blobBytes, length: original.byteLength };
      blobs.push(original);
      blobBytes += original.byteLength;
      return placeholder;
    }
    return value;
  });
  if (header === undefined) throw new WireError('message is not JSON-serialisable');
  if (blobs.length === 0) {
    if (header.length > limit) throw tooBig(header.length, limit);
    return header;
  }
  const headerBytes = new TextEncoder().encode(header);
  const total = HEADER_LENGTH_BYTES + headerBytes.byteLength + blobBytes;
  if (total > limit) throw tooBig(total, limit);
  const frame = new Uint8Array(total);
  new DataView(frame.buffer).setUint32(0, headerBytes.byteLength, true);
  frame.set(headerBytes, HEADER_LENGTH_BYTES);
  let offset = HEADER_LENGTH_BYTES + headerBytes.byteLength;
  for (const blob of blobs) {
    frame.set(blob, offset);
    offset += blob.byteLength;
  }
  return frame;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WireError(`message is not JSON (${(error as Error).message})`);
  }
}

/** Decodes a text or binary frame back into the message; Uint8Arrays are views into `frame`. */
export function decodeMessage(frame: string | Uint8Array | ArrayBuffer): unknown {
  if (typeof frame === 'string') return parseJson(frame);
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  if (bytes.byteLength < HEADER_LENGTH_BYTES) throw new WireError(`binary message of ${bytes.byteLength} bytes is shorter than its 4-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const blobStart = HEADER_LENGTH_BYTES + headerLength;
  if (blobStart > bytes.byteLength) throw new WireError(`binary message header claims ${headerLength} bytes, only ${bytes.byteLength - HEADER_LENGTH_BYTES} follow`);
  const header = new TextDecoder('utf-8').decode(bytes.subarray(HEADER_LENGTH_BYTES, blobStart));
  const blobArea = bytes.subarray(blobStart);
  const revive = (value: unknown): unknown => {
    if (isPlaceholder(value)) {
      const { $bytes: offset, length } = value;
      if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > blobArea.byteLength) {
        throw new WireError(`binary message refers to bytes ${offset}..${offset + length}, beyond its ${blobArea.byteLength} bytes of data`);
      }
      return blobArea.subarray(offset, offset + length);
    }
    if (Array.isArray(value)) return value.map(revive);
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = revive(item);
      return out;
    }
    return value;
  };
  return revive(parseJson(header));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A malformed request, with its id when it had one (so it can be answered). */
export class WireRequestError extends WireError {
  constructor(
    readonly requestId: number | null,
    message: string
  ) {
    super(message);
  }
}

/**
 * Checks that a decoded message is a request. A message that has a usable id but is
 * otherwise wrong throws a WireError carrying that id, so the server can answer it.
 */
export function parseRequest(message: unknown): WireRequest {
  if (!isRecord(message)) throw new WireRequestError(null, 'a request must be a JSON object');
  const id = Number.isSafeInteger(message.id) ? (message.id as number) : null;
  if (id === null) throw new WireRequestError(null, 'a request needs an integer "id"');
  if (typeof message.method !== 'string' || message.method === '') throw new WireRequestError(id, 'a request needs a "method" string');
  return { id, method: message.method, params: message.params ?? {} };
}

/** Checks that a decoded message from the server is a response or an event. */
export function parseServerMessage(message: unknown): WireServerMessage {
  if (!isRecord(message)) throw new WireError('a server message must be a JSON object');
  if (typeof message.event === 'string') return { event: message.event, payload: message.payload };
  const unanswerable = message.id === null && 'error' in message;
  if (!Number.isSafeInteger(message.id) && !unanswerable) throw new WireError('a server message needs an integer "id" or an "event" name');
  const id = message.id as number | null;
  if ('error' in message) {
    const error = message.error;
    if (!isRecord(error) || typeof error.name !== 'string' || typeof error.message !== 'string') {
      throw new WireError('an error response needs "error": {"name", "message"}');
    }
    return { id, error: { name: error.name, message: error.message } };
  }
  if (!('result' in message) || id === null) throw new WireError('a response needs "result" or "error"');
  return { id, result: message.result };
}

export function isWireEvent(message: WireServerMessage): message is WireEvent {
  return 'event' in message;
}

/** What the client says when the server closed the socket for a message over the limit. */
export function messageTooBigText(limit = MAX_MESSAGE_BYTES): string {
  return `the studio closed the connection: a message exceeded its ${formatByteLimit(limit)} limit`;
}
