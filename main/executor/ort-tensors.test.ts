// onnxruntime tensors ↔ raw protocol tensors: every numeric type and strings round-trip,
// numeric data is shared rather than copied, misaligned bytes still decode, and a wrong
// byte count is a named error. The round trip also goes through a real session.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { fromRawTensor, rawBytes, TensorConversionError, toRawTensor } from './ort-tensors.js';

describe('toRawTensor / fromRawTensor', () => {
  const cases: [ort.Tensor, string][] = [
    [new ort.Tensor('float32', Float32Array.from([1.5, -2, 3e-8, 4]), [2, 2]), 'FP32'],
    [new ort.Tensor('float64', Float64Array.from([Math.PI]), [1]), 'FP64'],
    [new ort.Tensor('int64', BigInt64Array.from([-1n, 2n ** 40n]), [2]), 'INT64'],
    [new ort.Tensor('uint64', BigUint64Array.from([2n ** 63n]), [1]), 'UINT64'],
    [new ort.Tensor('int32', Int32Array.from([-7, 8, 9]), [3]), 'INT32'],
    [new ort.Tensor('int8', Int8Array.from([-128, 127]), [2]), 'INT8'],
    [new ort.Tensor('uint8', Uint8Array.from([0, 255]), [2]), 'UINT8'],
    [new ort.Tensor('int16', Int16Array.from([-300]), [1, 1]), 'INT16'],
    [new ort.Tensor('uint16', Uint16Array.from([65535]), [1]), 'UINT16'],
    [new ort.Tensor('uint32', Uint32Array.from([4e9]), [1]), 'UINT32'],
    [new ort.Tensor('bool', Uint8Array.from([1, 0, 1]), [3]), 'BOOL'],
    [new ort.Tensor('float16', Uint16Array.from([0x3c00]), [1]), 'FP16']
  ];

  it.each(cases)('round-trips %s as its protocol datatype', (tensor, datatype) => {
    const raw = toRawTensor('t', tensor);
    expect(raw.datatype).toBe(datatype);
    expect(raw.shape).toEqual([...tensor.dims]);
    const back = fromRawTensor(raw);
    expect(back.type).toBe(tensor.type);
    expect([...back.dims]).toEqual([...tensor.dims]);
    expect(back.data).toEqual(tensor.data);
  });

  it('shares numeric bytes instead of copying them', () => {
    const tensor = new ort.Tensor('float32', new Float32Array(16), [4, 4]);
    const raw = toRawTensor('x', tensor);
    expect(raw.data.buffer).toBe((tensor.data as Float32Array).buffer);
    expect(rawBytes([raw])).toBe(64);
    const back = fromRawTensor(raw);
    expect((back.data as Float32Array).buffer).toBe(raw.data.buffer);
  });

  it('decodes bytes that are not aligned for their element type', () => {
    const backing = new Uint8Array(1 + 8);
    backing.set(new Uint8Array(Float32Array.from([1.25, -3]).buffer), 1);
    const back = fromRawTensor({ name: 'odd', datatype: 'FP32', shape: [2], data: backing.subarray(1) });
    expect([...(back.data as Float32Array)]).toEqual([1.25, -3]);
  });

  it('carries strings in the protocol layout (4-byte length, then the bytes)', () => {
    const raw = toRawTensor('s', new ort.Tensor('string', ['ab', '', 'é'], [3]));
    expect(raw.datatype).toBe('BYTES');
    expect([...raw.data]).toEqual([2, 0, 0, 0, 97, 98, 0, 0, 0, 0, 2, 0, 0, 0, 0xc3, 0xa9]);
    expect(fromRawTensor(raw).data).toEqual(['ab', '', 'é']);
  });

  it('refuses a byte count that does not match the shape', () => {
    expect(() => fromRawTensor({ name: 'bad', datatype: 'FP32', shape: [3], data: new Uint8Array(8) })).toThrow(TensorConversionError);
    expect(() => fromRawTensor({ name: 'bad', datatype: 'FP32', shape: [3], data: new Uint8Array(8) })).toThrow(/8 bytes for 3 FP32 elements/);
  });

  it('feeds a converted tensor to a real session', async () => {
    const builder = new GraphBuilder('relu');
    const x = builder.input('x', 'float32', [1, 4]);
    builder.output(builder.relu(x), 'float32', [1, 4]);
    const session = await ort.InferenceSession.create(builder.toBytes());
    try {
      const input = new ort.Tensor('float32', Float32Array.from([-1, 2, -3, 4]), [1, 4]);
      const outputs = await session.run({ x: fromRawTensor(toRawTensor('x', input)) });
      const raw = toRawTensor('y', Object.values(outputs)[0]);
      expect([...(fromRawTensor(raw).data as Float32Array)]).toEqual([0, 2, 0, 4]);
    } finally {
      await session.release();
    }
  });
});
