// The web host's framing: text frames for plain JSON, binary frames for messages holding
// bytes, and the checks that let the server answer a malformed request instead of dying.
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  MAX_MESSAGE_BYTES,
  parseRequest,
  parseServerMessage,
  WireError,
  WireRequestError,
  formatByteLimit
} from './wire.js';

describe('encodeMessage / decodeMessage', () => {
  it('sends a message without bytes as a text frame', () => {
    const frame = encodeMessage({ id: 1, method: 'app.info', params: {} });
    expect(typeof frame).toBe('string');
    expect(decodeMessage(frame)).toEqual({ id: 1, method: 'app.info', params: {} });
  });

  it('sends bytes in a binary frame with placeholders and restores them as views', () => {
    const first = new Uint8Array([1, 2, 3, 4, 5]);
    const second = Buffer.from([9, 8, 7]);
    const frame = encodeMessage({ id: 2, method: 'model.openBytes', params: { fileName: 'a.onnx', bytes: first, nested: [{ more: second }] } });
    expect(frame).toBeInstanceOf(Uint8Array);
    const bytes = frame as Uint8Array;
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
    expect(header.params.bytes).toEqual({ $bytes: 0, length: 5 });
    expect(header.params.nested[0].more).toEqual({ $bytes: 5, length: 3 });
    expect(bytes.byteLength).toBe(4 + headerLength + 8);

    const decoded = decodeMessage(bytes) as { params: { fileName: string; bytes: Uint8Array; nested: { more: Uint8Array }[] } };
    expect(decoded.params.fileName).toBe('a.onnx');
    expect([...decoded.params.bytes]).toEqual([1, 2, 3, 4, 5]);
    expect([...decoded.params.nested[0].more]).toEqual([9, 8, 7]);
    expect(decoded.params.bytes.buffer).toBe(bytes.buffer);
  });

  it('decodes a binary frame handed over as an ArrayBuffer, as browsers deliver it', () => {
    const frame = encodeMessage({ bytes: new Uint8Array([42]) }) as Uint8Array;
    const copy = frame.slice().buffer;
    expect([...(decodeMessage(copy) as { bytes: Uint8Array }).bytes]).toEqual([42]);
  });

  it('refuses a message over the limit, naming the limit', () => {
    expect(() => encodeMessage({ bytes: new Uint8Array(2200) }, 1024)).toThrow("message of 2.2 KiB exceeds the studio's 1 KiB limit per message");
    expect(() => encodeMessage({ text: 'x'.repeat(2000) }, 1024)).toThrow(WireError);
    expect(formatByteLimit(MAX_MESSAGE_BYTES)).toBe('1 GiB');
    expect(formatByteLimit(553 * 1024 * 1024)).toBe('553 MiB');
  });

  it('rejects malformed frames with a WireError', () => {
    expect(() => decodeMessage('{not json')).toThrow(/not JSON/);
    expect(() => decodeMessage(new Uint8Array([1, 0]))).toThrow(/shorter than its 4-byte header/);
    const lying = new Uint8Array(8);
    new DataView(lying.buffer).setUint32(0, 100, true);
    expect(() => decodeMessage(lying)).toThrow(/claims 100 bytes/);
    const header = new TextEncoder().encode('{"bytes":{"$bytes":0,"length":10}}');
    const short = new Uint8Array(4 + header.byteLength + 3);
    new DataView(short.buffer).setUint32(0, header.byteLength, true);
    short.set(header, 4);
    expect(() => decodeMessage(short)).toThrow(/beyond its 3 bytes/);
  });
});

describe('parseRequest', () => {
  it('accepts a request and defaults params', () => {
    expect(parseRequest({ id: 3, method: 'prefs.get' })).toEqual({ id: 3, method: 'prefs.get', params: {} });
  });

  it('keeps the id of a request it can answer', () => {
    try {
      parseRequest({ id: 4, method: 5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WireRequestError);
      expect((error as WireRequestError).requestId).toBe(4);
    }
    expect(() => parseRequest([1, 2])).toThrow(/JSON object/);
    expect(() => parseRequest({ id: 'x', method: 'a' })).toThrow(/integer "id"/);
  });
});

describe('parseServerMessage', () => {
  it('tells responses, errors and events apart', () => {
    expect(parseServerMessage({ id: 1, result: null })).toEqual({ id: 1, result: null });
    expect(parseServerMessage({ id: 1, error: { name: 'X', message: 'y' } })).toEqual({ id: 1, error: { name: 'X', message: 'y' } });
    expect(parseServerMessage({ event: 'executor.status', payload: { a: 1 } })).toEqual({ event: 'executor.status', payload: { a: 1 } });
    expect(parseServerMessage({ id: null, error: { name: 'WireError', message: 'not JSON' } })).toEqual({ id: null, error: { name: 'WireError', message: 'not JSON' } });
    expect(() => parseServerMessage({ id: null, result: 1 })).toThrow(/integer "id"/);
    expect(() => parseServerMessage({ id: 1 })).toThrow(/"result" or "error"/);
    expect(() => parseServerMessage({ id: 1, error: 'boom' })).toThrow(/"name", "message"/);
  });
});
