// sharp is loaded on first use (main/executor/image-inputs.ts loadSharp); where it cannot
// load (no binary for the platform), a JPEG request gets one line naming the codec, 501 from
// the executor and a WireEncodingError from the split runner's codecs (this room's), and
// nothing else stops working.
import * as ort from 'onnxruntime-node';
import { describe, expect, it, vi } from 'vitest';
import { WireEncodingError } from '../../app/partition/wire-encoding.js';
import { decodeImageInputs } from '../executor/image-inputs.js';
import { encodeBytesElements, ProtocolError, type ModelMetadata } from '../executor/protocol.js';
import { decodeTensor, encodeTensor } from './wire-codecs.js';

vi.mock('sharp', () => {
  throw new Error('Could not load the "sharp" module using the linux-x64 runtime\nPossible solutions: …');
});

const metadata: ModelMetadata = {
  name: 'tail',
  versions: ['1'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'input__uint8', datatype: 'UINT8', shape: [1, 3, 2, 2] }],
  outputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 10] }]
};

describe('without the JPEG codec', () => {
  it('answers a JPEG input with 501 naming the codec, in one line, and every time it is asked', async () => {
    const images = { name: 'input__uint8', datatype: 'BYTES' as const, shape: [1], data: encodeBytesElements([new Uint8Array([0xff, 0xd8, 0xff])]) };
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await decodeImageInputs(metadata, [images]).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ProtocolError);
      expect((refused as ProtocolError).status).toBe(501);
      expect((refused as ProtocolError).message).toMatch(/^input 'input__uint8': the JPEG codec \(sharp\) cannot be loaded on this machine: [^\n]+$/);
    }
  });

  it('leaves inputs that are not images alone', async () => {
    const floats = { name: 'x', datatype: 'FP32' as const, shape: [1], data: new Uint8Array(4) };
    await expect(decodeImageInputs(metadata, [floats])).resolves.toEqual([floats]);
  });

  it('refuses the jpeg wire encoding in one line, while the other encodings work', async () => {
    const tensor = new ort.Tensor('float32', new Float32Array(12).fill(0.5), [1, 3, 2, 2]);
    const affine = { type: 'uint8' as const, scale: 1 / 255, zeroPoint: 0 };
    await expect(encodeTensor(tensor, { base: 'jpeg', deflate: false, quality: 90 }, affine)).rejects.toThrow(WireEncodingError);
    await expect(decodeTensor(new Uint8Array(8), tensor, { base: 'jpeg', deflate: false }, affine)).rejects.toThrow(/^the JPEG codec \(sharp\) cannot be loaded on this machine: [^\n]+$/);
    const fp16 = await encodeTensor(tensor, { base: 'fp16', deflate: true });
    expect((await decodeTensor(fp16.bytes, tensor, { base: 'fp16', deflate: true })).tensor.data).toEqual(tensor.data);
  });
});
