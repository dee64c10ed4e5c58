// Round trip: models written by the builder read back with every field intact, and
// broken bytes give one-line OnnxFormatErrors.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { readOnnxModel, tensorValues, OnnxFormatError } from './reader.js';
import { onnx } from './generated/onnx.js';
import { int64 } from './writer.js';

function tinyModel(): Uint8Array {
  const b = new GraphBuilder('tiny', { seed: 7 });
  const x = b.input('input', 'float32', ['batch', 3, 8, 8]);
  const c = b.conv(x, { inChannels: 3, outChannels: 4, kernel: 3, pad: 1, name: '/conv1' });
  const r = b.relu(c);
  const f = b.flatten(r);
  const y = b.linear(f, 256, 10, '/fc');
  b.output(y, 'float32', ['batch', 10]);
  return b.toBytes();
}

describe('readOnnxModel', () => {
  it('reads nodes, attributes, initializers, opsets and shapes', () => {
    const model = readOnnxModel(tinyModel());
    expect(model.irVersion).toBe(8);
    expect(model.opsetImports).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'Flatten', 'Gemm']);
    const conv = model.graph.nodes[0];
    expect(conv.name).toBe('/conv1');
    expect(conv.attributes.get('kernel_shape')).toEqual({ kind: 'ints', value: [3, 3] });
    expect(conv.attributes.get('group')).toEqual({ kind: 'int', value: 1 });
    expect(model.graph.nodes[3].attributes.get('alpha')).toEqual({ kind: 'float', value: 1 });
    expect(model.graph.inputs).toEqual([{ name: 'input', type: { elementType: 'float32', shape: ['batch', 3, 8, 8] } }]);
    const weight = model.graph.initializers.get('/conv1.weight');
    expect(weight?.dims).toEqual([4, 3, 3, 3]);
    expect(weight?.byteLength).toBe(4 * 3 * 9 * 4);
    expect(weight?.storage.kind).toBe('raw');
  });

  it('keeps weights as views into the input bytes (no copy)', () => {
    const bytes = tinyModel();
    const model = readOnnxModel(bytes);
    const weight = model.graph.initializers.get('/fc.weight');
    expect(weight?.storage.kind).toBe('raw');
    if (weight?.storage.kind === 'raw') expect(weight.storage.bytes.buffer).toBe(bytes.buffer);
  });

  it('reads int64 tensor values and external data references', () => {
    const tensor = new onnx.TensorProto({
      name: 'w',
      dataType: 1,
      dims: [int64(2), int64(3)],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        new onnx.StringStringEntryProto({ key: 'location', value: 'weights.bin' }),
        new onnx.StringStringEntryProto({ key: 'offset', value: '64' }),
        new onnx.StringStringEntryProto({ key: 'length', value: '24' })
      ]
    });
    const b = new GraphBuilder('ext');
    const shape = b.constantInt64('shape', [2], [1, -1]);
    const x = b.input('x', 'float32', [2, 3]);
    const y = b.op('Reshape', [x, shape]);
    b.output(y, 'float32', [1, 6]);
    const proto = b.toProto();
    proto.graph?.initializer?.push(tensor);
    const model = readOnnxModel(onnx.ModelProto.encode(proto).finish());
    expect(tensorValues(model.graph.initializers.get('shape')!)).toEqual([1, -1]);
    expect(model.externalData).toEqual([{ tensor: 'w', location: 'weights.bin', offset: 64, length: 24 }]);
  });

  it('names the problem for empty, truncated and non-ONNX input', () => {
    const bytes = tinyModel();
    expect(() => readOnnxModel(new Uint8Array())).toThrow(/empty/);
    expect(() => readOnnxModel(bytes.subarray(0, bytes.length - 100))).toThrow(/truncated ONNX model/);
    expect(() => readOnnxModel(new TextEncoder().encode('hello, this is not a model at all'))).toThrow(OnnxFormatError);
    const error = (() => {
      try {
        readOnnxModel(new TextEncoder().encode('{"json": true}'));
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(error?.message).toMatch(/^not an ONNX model/);
    expect(error?.message).not.toContain('\n');
  });
});
