// HTTP compression of inference bodies, as Triton's HTTP endpoint does it (issue 16):
// requests may come with Content-Encoding gzip or deflate (Triton's client
// `request_compression_algorithm`), and responses are compressed when Accept-Encoding
// asks (`response_compression_algorithm`). Lossless compression of the crossing tensors is
// transport, so it lives here and not in the graph. server.ts calls these on /infer.
// Inflating is streamed and stops at --max-body-mb: a small body that inflates past the
// limit gets 413 without the executor ever holding more than the limit; an unknown coding
// gets 415, a corrupt stream 400. Node's built-in zlib does the work (no dependency: it is
// the same DEFLATE every HTTP client speaks).
import zlib from 'node:zlib';
import { ProtocolError } from './protocol.js';

export type ContentCoding = 'identity' | 'gzip' | 'deflate';

/** The request's Content-Encoding; 415 naming it when the executor cannot decode it. */
export function requestCoding(header: string | string[] | undefined): ContentCoding {
  if (header === undefined) return 'identity';
  const value = (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'x-gzip') return 'gzip';
  if (value === 'deflate') return 'deflate';
  throw new ProtocolError(415, `Content-Encoding "${value}" is not supported; send gzip, deflate or identity`);
}

/**
 * Inflates `body` into at most `limit` bytes, streamed in chunks: 413 once the output passes
 * the limit (the inflater is stopped there), 400 when the stream is corrupt. "deflate" is
 * taken as zlib-wrapped (RFC 1950, what HTTP means) or, failing its header check, raw.
 */
export function inflateBody(body: Uint8Array, coding: Exclude<ContentCoding, 'identity'>, limit: number): Promise<Buffer> {
  const zlibWrapped = body.byteLength >= 2 && (body[0] & 0x0f) === 8 && ((body[0] << 8) | body[1]) % 31 === 0;
  const inflater = coding === 'gzip' ? zlib.createGunzip() : zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const fail = (error: ProtocolError) => {
      if (done) return;
      done = true;
      chunks.length = 0;
      inflater.destroy();
      reject(error);
    };
    inflater.on('data', (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limit) return fail(new ProtocolError(413, `request body inflates to more than the limit of ${limit} bytes (--max-body-mb)`));
      chunks.push(chunk);
    });
    inflater.on('error', (error: Error) => fail(new ProtocolError(400, `the ${coding} request body is corrupt (${error.message.split('\n')[0]})`)));
    inflater.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks, total));
    });
    inflater.end(body);
  });
}

/** The coding to answer in, from Accept-Encoding (q-values honoured; gzip preferred on a tie); null: identity. */
export function responseCoding(header: string | string[] | undefined): Exclude<ContentCoding, 'identity'> | null {
  if (header === undefined) return null;
  const offers = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .map((part) => {
      const [name, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find((m) => m !== null);
      return { name: name.trim(), q: q ? Number(q[1]) : 1 };
    })
    .filter((o) => o.q > 0);
  const rank = (name: string) => offers.find((o) => o.name === name)?.q ?? offers.find((o) => o.name === '*')?.q ?? 0;
  const gzip = rank('gzip');
  const deflate = rank('deflate');
  if (gzip === 0 && deflate === 0) return null;
  return gzip >= deflate ? 'gzip' : 'deflate';
}

/** The response's chunks compressed in `coding` (one buffer; off the event loop). */
export function compressChunks(chunks: readonly Uint8Array[], coding: Exclude<ContentCoding, 'identity'>): Promise<Buffer> {
  const joined = Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
  return new Promise<Buffer>((resolve, reject) => {
    const done = (error: Error | null, out: Buffer) => (error ? reject(error) : resolve(out));
    if (coding === 'gzip') zlib.gzip(joined, { level: 1 }, done);
    else zlib.deflate(joined, { level: 1 }, done);
  });
}
