// Tests of the wire codecs on real bytes: sizes per encoding, that lossless round trips are
// exact, that lossy ones stay within their step, JPEG of an image input, and refusals.
import { describe, expect, it } from 'vitest';
import zlib from 'node:zlib';
import * as ort from 'onnxruntime-node';
import { affineParameters, parseWireEncoding } from '../../app/partition/wire-encoding.js';
import { checkApplicable, decodeTensor, encodeTensor, imageLikeInput, roundTrip } from './wire-codecs.js';

// A post-ReLU activation: half zeros.
const activation = new ort.Tensor('float32', Float32Array.from({ length: 4096 }, (_, i) => (i % 2 === 0 ? 0 : (i % 97) / 10)), [1, 16, 16, 16]);
const range = { min: 0, max: 9.6 };

describe('wire codecs', () => {
  it('sends fp32 as its bytes and deflate losslessly', async () => {
    const plain = await roundTrip(activation, parseWireEncoding('fp32'));
    expect(plain.wireBytes).toBe(4096 * 4);
    const deflated = await roundTrip(activation, parseWireEncoding('fp32+deflate'));
    expect(deflated.wireBytes).toBeLessThan(plain.wireBytes / 2);
    expect([...(deflated.decoded.data as Float32Array)]).toEqual([...(activation.data as Float32Array)]);
  });
  it('halves with fp16 and quarters with int8, within a quantization step', async () => {
    const half = await roundTrip(activation, parseWireEncoding('fp16'));
    expect(half.wireBytes).toBe(4096 * 2);
    const p = affineParameters(range, 'int8');
    const int8 = await roundTrip(activation, parseWireEncoding('int8'), p);
    expect(int8.wireBytes).toBe(4096);
    const a = activation.data as Float32Array;
    const b = int8.decoded.data as Float32Array;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(p.scale / 2 + 1e-6);
    expect((await roundTrip(activation, parseWireEncoding('int8+deflate'), p)).wireBytes).toBeLessThan(4096);
  });
  it('keeps integer tensors as they are', async () => {
    const ids = new ort.Tensor('int64', BigInt64Array.from([1n, 2n, 3n, 40000n]), [1, 4]);
    const back = await roundTrip(ids, parseWireEncoding('fp32+deflate'));
    expect([...(back.decoded.data as BigInt64Array)]).toEqual([1n, 2n, 3n, 40000n]);
    expect(() => checkApplicable(parseWireEncoding('int8'), 'input_ids', ids, true)).toThrow(/"input_ids".*int64/);
  });
  it('sends an image input as a JPEG far smaller than its pixels, close to them', async () => {
    const dims = [1, 3, 64, 64];
    const image = new ort.Tensor('float32', imageLikeInput(dims, 7), dims);
    const p = affineParameters({ min: -2.2, max: 2.7 }, 'uint8');
    const pixels = await roundTrip(image, parseWireEncoding('uint8'), p);
    expect(pixels.wireBytes).toBe(3 * 64 * 64);
    const jpeg = await roundTrip(image, parseWireEncoding('jpeg'), p);
    expect(jpeg.wireBytes).toBeLessThan(pixels.wireBytes / 3);
    const a = image.data as Float32Array;
    const b = jpeg.decoded.data as Float32Array;
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
    expect(sum / a.length).toBeLessThan(0.1);
    expect(() => checkApplicable(parseWireEncoding('jpeg'), 'features', new ort.Tensor('float32', new Float32Array(80), [1, 80]), true)).toThrow(/not an image/);
  });
  it('refuses a cut-short or corrupt JPEG payload in one line naming the image', async () => {
    const dims = [1, 3, 32, 32];
    const image = new ort.Tensor('float32', imageLikeInput(dims, 3), dims);
    const p = affineParameters({ min: -2.2, max: 2.7 }, 'uint8');
    const jpeg = parseWireEncoding('jpeg');
    const { bytes } = await encodeTensor(image, jpeg, p);
    await expect(decodeTensor(bytes.subarray(0, bytes.byteLength - 10), image, jpeg, p)).rejects.toThrow(/^JPEG image 0 of 1 is cut short/);
    const garbage = Uint8Array.from(bytes);
    garbage.fill(7, 4);
    await expect(decodeTensor(garbage, image, jpeg, p)).rejects.toThrow(/^JPEG image 0 of 1 does not decode/);
  });
  it('produces a deflate stream any zlib inflates', async () => {
    const deflated = await roundTrip(activation, parseWireEncoding('fp32+deflate'));
    expect(deflated.wireBytes).toBe(zlib.deflateSync(Buffer.from((activation.data as Float32Array).buffer), { level: 6 }).byteLength);
  });
});
