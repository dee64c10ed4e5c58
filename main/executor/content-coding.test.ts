// HTTP compression of inference bodies against a real executor process: gzip and deflate
// requests (binary tensors, as tritonclient sends them with request compression) give the
// same answer as plain ones, Accept-Encoding gets a compressed answer, an unknown coding
// 415, a corrupt stream 400, and a small body that inflates past --max-body-mb 413.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { inflateBody, requestCoding, responseCoding } from './content-coding.js';
import { startExecutorProcess, type ExecutorProcess } from './executor-process.js';
import { ExecutorClient } from './client.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'executor-coding-'));
let executor: ExecutorProcess;

/** x: FP32 [n] → x + x. */
function doubler(): Uint8Array {
  const b = new GraphBuilder('doubler');
  const x = b.input('x', 'float32', ['n']);
  b.output(b.op('Add', [x, x], {}, 'y'), 'float32', ['n']);
  return b.toBytes();
}

beforeAll(async () => {
  mkdirSync(path.join(root, 'doubler', '1'), { recursive: true });
  writeFileSync(path.join(root, 'doubler', '1', 'model.onnx'), doubler());
  executor = await startExecutorProcess(['--models', root, '--max-body-mb', '1']);
}, 60_000);
afterAll(async () => {
  await executor?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A binary-tensor request for n zeros but the first few (compresses very well). */
function binaryRequest(n: number): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [n], datatype: 'FP32', parameters: { binary_data_size: n * 4 } }], outputs: [{ name: 'y_output_0', parameters: { binary_data: false } }] }));
  const values = new Float32Array(n);
  values.set([1, 2, 3]);
  return { body: Buffer.concat([json, Buffer.from(values.buffer)]), headerLength: json.byteLength };
}

async function infer(body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${executor.url}/v2/models/doubler/infer`, { method: 'POST', body, headers });
}

describe('compressed inference bodies', () => {
  it('takes gzip and deflate request bodies like plain ones', async () => {
    const { body, headerLength } = binaryRequest(1000);
    for (const [coding, compress] of [
      ['gzip', zlib.gzipSync],
      ['deflate', zlib.deflateSync]
    ] as const) {
      const answer = await infer(compress(body), { 'content-encoding': coding, 'inference-header-content-length': String(headerLength), 'accept-encoding': 'identity' });
      expect(answer.status, `${coding}: ${answer.status === 200 ? '' : await answer.text()}`).toBe(200);
      const json = (await answer.json()) as { outputs: { data: number[] }[] };
      expect(json.outputs[0].data.slice(0, 4)).toEqual([2, 4, 6, 0]);
    }
  });

  it("the studio's client sends compressed bodies, fewer bytes for the same answer", async () => {
    const client = new ExecutorClient({ url: executor.url });
    try {
      const values = new Float32Array(10_000);
      values[1] = 5;
      const input = { name: 'x', datatype: 'FP32' as const, shape: [10_000], data: new Uint8Array(values.buffer) };
      const plain = await client.infer('doubler', [input]);
      const deflated = await client.infer('doubler', [input], { compress: 'deflate' });
      expect(new Float32Array(deflated.outputs[0].data.slice().buffer)[1]).toBe(10);
      expect(deflated.timings.bytesUp).toBeLessThan(plain.timings.bytesUp / 10);
    } finally {
      client.close();
    }
  });

  it('answers in gzip when Accept-Encoding asks', async () => {
    const { body, headerLength } = binaryRequest(1000);
    const answer = await infer(body, { 'inference-header-content-length': String(headerLength), 'accept-encoding': 'gzip' });
    expect(answer.headers.get('content-encoding')).toBe('gzip');
    // fetch inflates it; the content is the plain answer.
    expect(((await answer.json()) as { outputs: { data: number[] }[] }).outputs[0].data[2]).toBe(6);
  });

  it('refuses an unknown coding (415), a corrupt stream (400) and a bomb (413)', async () => {
    const { body, headerLength } = binaryRequest(100);
    const header = { 'inference-header-content-length': String(headerLength) };
    const unknown = await infer(body, { ...header, 'content-encoding': 'br' });
    expect(unknown.status).toBe(415);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/Content-Encoding "br"/);
    const corrupt = await infer(Buffer.from('this is not gzip at all'), { ...header, 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(((await corrupt.json()) as { error: string }).error).toMatch(/corrupt/);
    // 4 MB of zeros deflate to about 4 kB; the limit is 1 MB.
    const bomb = zlib.gzipSync(Buffer.alloc(4 << 20));
    expect(bomb.byteLength).toBeLessThan(10_000);
    const tooBig = await infer(bomb, { ...header, 'content-encoding': 'gzip' });
    expect(tooBig.status).toBe(413);
    expect(((await tooBig.json()) as { error: string }).error).toMatch(/inflates to more than/);
  });
});

describe('content coding helpers', () => {
  it('parses the headers', () => {
    expect(requestCoding(undefined)).toBe('identity');
    expect(requestCoding('GZIP')).toBe('gzip');
    expect(() => requestCoding('zstd')).toThrow(/not supported/);
    expect(responseCoding('deflate, gzip;q=0.5')).toBe('deflate');
    expect(responseCoding('gzip;q=0, identity')).toBeNull();
    expect(responseCoding('*')).toBe('gzip');
  });
  it('stops inflating at the limit without keeping what came before', async () => {
    await expect(inflateBody(zlib.deflateRawSync(Buffer.alloc(100_000)), 'deflate', 50_000)).rejects.toThrow(/inflates to more than the limit of 50000/);
    expect((await inflateBody(zlib.deflateRawSync(Buffer.alloc(1000, 7)), 'deflate', 50_000)).byteLength).toBe(1000);
  });
});
