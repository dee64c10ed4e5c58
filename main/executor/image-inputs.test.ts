// Image inputs sent as JPEG in a BYTES tensor: decoded to the planar uint8 pixels a model input
// [N, C, H, W] takes (symbolic sizes from the images), other inputs passed as they are, and a
// wrong size, count or corrupt image refused with 400 naming the input. The executor serving
// such a request end to end is in main/split/encoded-run.test.ts and server.test.ts.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeBytesElements, ProtocolError, type ModelMetadata } from './protocol.js';
import type { RawTensor } from './link.js';
import { decodeImageInputs } from './image-inputs.js';

async function jpegOf(width: number, height: number, paint: (x: number, y: number) => [number, number, number]): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(paint(x, y), (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

const metadata = (shape: number[], datatype: 'UINT8' | 'FP32' = 'UINT8'): ModelMetadata => ({
  name: 'tail',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'input__uint8', datatype, shape }],
  outputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 10] }]
});

const images = (elements: Uint8Array[]): RawTensor => ({ name: 'input__uint8', datatype: 'BYTES', shape: [elements.length], data: encodeBytesElements(elements) });

describe('decodeImageInputs', () => {
  it('decodes JPEG images to planar pixels, red in the first plane and blue in the last', async () => {
    const red = await jpegOf(16, 8, () => [250, 10, 10]);
    const blue = await jpegOf(16, 8, () => [10, 10, 250]);
    const [decoded] = await decodeImageInputs(metadata([-1, 3, 8, 16]), [images([red, blue])]);
    expect(decoded).toMatchObject({ name: 'input__uint8', datatype: 'UINT8', shape: [2, 3, 8, 16] });
    const plane = 8 * 16;
    const mean = (from: number) => decoded.data.subarray(from, from + plane).reduce((s, v) => s + v, 0) / plane;
    expect(mean(0)).toBeGreaterThan(230);
    expect(mean(2 * plane)).toBeLessThan(30);
    expect(mean(3 * plane)).toBeLessThan(30);
    expect(mean(5 * plane)).toBeGreaterThan(230);
  });

  it('takes symbolic sizes from the images, and leaves inputs that are not images alone', async () => {
    const gradient = await jpegOf(12, 10, (x, y) => [x * 20, y * 20, 0]);
    const [decoded] = await decodeImageInputs(metadata([1, 3, -1, -1]), [images([gradient])]);
    expect(decoded.shape).toEqual([1, 3, 10, 12]);
    const floats: RawTensor = { name: 'input__uint8', datatype: 'FP32', shape: [1, 3, 10, 12], data: new Uint8Array(4 * 360) };
    expect(await decodeImageInputs(metadata([1, 3, 10, 12]), [floats])).toEqual([floats]);
    const strings = images([new TextEncoder().encode('not an image')]);
    expect(await decodeImageInputs(metadata([1, 3, 10, 12], 'FP32'), [strings])).toEqual([strings]);
  });

  it('refuses, with 400 naming the input, an image of another size, a count the model does not take, a corrupt or cut-short image', async () => {
    const image = await jpegOf(16, 8, () => [100, 100, 100]);
    const refusal = (shape: number[], tensor: RawTensor) => decodeImageInputs(metadata(shape), [tensor]).then(() => null, (error: unknown) => error);
    const wrongSize = await refusal([1, 3, 16, 16], images([image]));
    expect(wrongSize).toBeInstanceOf(ProtocolError);
    expect(wrongSize).toMatchObject({ status: 400, message: "input 'input__uint8': image 0 is 16x8x3, expected 16x16x3" });
    expect(await refusal([1, 3, 8, 16], images([image, image]))).toMatchObject({ status: 400, message: "input 'input__uint8': 2 images, the model takes 1" });
    expect(await refusal([1, 3, 8, 16], images([new Uint8Array(40).fill(7)]))).toMatchObject({ status: 400, message: expect.stringMatching(/^input 'input__uint8': image 0 of 1 does not decode: /) });
    const cut = { ...images([image]), data: encodeBytesElements([image]).subarray(0, 100) };
    expect(await refusal([1, 3, 8, 16], cut)).toMatchObject({ status: 400, message: expect.stringMatching(/^input 'input__uint8': image 0 of 1 is cut short: 96 of \d+ bytes$/) });
    expect(await refusal([1, 3, 8, 16], { ...images([image]), shape: [1, 1] })).toMatchObject({ status: 400, message: "input 'input__uint8': images go as a BYTES tensor of shape [N], not [1,1]" });
  });
});
