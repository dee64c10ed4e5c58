// analyzeModel on models built in code: shapes, element types, parameters and MACs
// checked against hand-computed numbers for each family of ops.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { encodeModel as encode, int64TensorProto, rawTensorProto } from '../onnx/writer.js';
import type { OnnxModel } from '../onnx/model.js';
import { analyzeModel } from './analyze.js';
import type { AnalyzeOptions, LayerAnalysis, ModelAnalysis, RuntimeShape } from './types.js';

function build(name: string, make: (b: GraphBuilder) => void, opset = 17): OnnxModel {
  const b = new GraphBuilder(name, { weights: 'zeros', opset });
  make(b);
  return readOnnxModel(b.toBytes());
}

function analyze(name: string, make: (b: GraphBuilder) => void, options?: AnalyzeOptions, opset = 17): ModelAnalysis {
  return analyzeModel(build(name, make, opset), options);
}

function layer(analysis: ModelAnalysis, name: string): LayerAnalysis {
  const found = analysis.layers.find((l) => l.name === name);
  if (!found) throw new Error(`no layer ${name}`);
  return found;
}

/** A layer, or a weight-only node (not a layer), by name: what both have in common. */
function node(analysis: ModelAnalysis, name: string): { outputs: LayerAnalysis['outputs'] } {
  const found = analysis.layers.find((l) => l.name === name) ?? analysis.weightNodes.find((w) => w.name === name);
  if (!found) throw new Error(`no node ${name}`);
  return found;
}

const shapeOf = (analysis: ModelAnalysis, name: string) => analysis.tensors.get(name)?.shape;

const INT64_MAX = 9223372036854775807n;

describe('convolutions', () => {
  it('counts AlexNet conv1: 3×224×224, 64 filters 11×11 stride 4 pad 2 → 55×55, 70,276,800 MACs', () => {
    const a = analyze('alexnet-conv1', (b) => {
      const x = b.input('x', 'float32', [1, 3, 224, 224]);
      const c = b.conv(x, { inChannels: 3, outChannels: 64, kernel: 11, stride: 4, pad: 2, name: '/conv1' });
      const r = b.relu(c, '/relu1');
      const p = b.maxPool(r, { kernel: 3, stride: 2, name: '/pool1' });
      b.output(b.lrn(p, 5, '/lrn1'), 'float32', null);
    });
    const conv = layer(a, '/conv1');
    expect(conv.outputs[0].shape).toEqual([1, 64, 55, 55]);
    expect(conv.outputs[0].bytes).toBe(64 * 55 * 55 * 4);
    expect(conv.outputBytes).toBe(774_400);
    expect(conv.macs).toBe(70_276_800);
    expect(conv.params).toBe(23_296);
    expect(conv.paramBytes).toBe(93_184);
    expect(conv.flags).toEqual([]);
    expect(conv.outputs[0].source).toBe('static');
    expect(layer(a, '/relu1').macs).toBe(0);
    expect(layer(a, '/pool1').outputs[0].shape).toEqual([1, 64, 27, 27]);
    expect(layer(a, '/pool1').macs).toBe(0);
    expect(layer(a, '/lrn1').macs).toBe(5 * 64 * 27 * 27);
    expect(a.totals).toEqual({ params: 23_296, paramBytes: 93_184, macs: 70_276_800 + 5 * 64 * 27 * 27, intMacs: 0, unknownMacLayers: 0, weightBytesPerRun: 93_184 });
    expect(a.unresolved).toEqual([]);
    expect(a.outputs[0].shape).toEqual([1, 64, 27, 27]);
  });

  it('handles grouped, depthwise, dilated and asymmetric strided convolutions', () => {
    const a = analyze('convs', (b) => {
      const x = b.input('x', 'float32', [1, 8, 10, 10]);
      b.conv(x, { inChannels: 8, outChannels: 4, kernel: 3, pad: 1, group: 2, name: '/grouped' });
      const y = b.input('y', 'float32', [1, 32, 112, 112]);
      b.conv(y, { inChannels: 32, outChannels: 32, kernel: 3, stride: 2, pad: 1, group: 32, bias: false, name: '/depthwise' });
      const z = b.input('z', 'float32', [1, 1, 20, 20]);
      b.conv(z, { inChannels: 1, outChannels: 2, kernel: 3, dilation: 2, name: '/dilated' });
      const w = b.input('w', 'float32', [1, 3, 15, 20]);
      b.conv(w, { inChannels: 3, outChannels: 6, kernel: [3, 5], stride: [2, 1], pad: [1, 2], name: '/asymmetric' });
    });
    expect(layer(a, '/grouped').outputs[0].shape).toEqual([1, 4, 10, 10]);
    expect(layer(a, '/grouped').macs).toBe(4 * 100 * 4 * 9);
    expect(layer(a, '/grouped').params).toBe(4 * 4 * 9 + 4);
    expect(layer(a, '/depthwise').outputs[0].shape).toEqual([1, 32, 56, 56]);
    expect(layer(a, '/depthwise').macs).toBe(903_168);
    expect(layer(a, '/depthwise').params).toBe(288);
    expect(layer(a, '/dilated').outputs[0].shape).toEqual([1, 2, 16, 16]);
    expect(layer(a, '/dilated').macs).toBe(4608);
    expect(layer(a, '/asymmetric').outputs[0].shape).toEqual([1, 6, 8, 20]);
    expect(layer(a, '/asymmetric').macs).toBe(6 * 8 * 20 * 3 * 15);
  });

  it('handles auto_pad, kernel shape from the weight, and 1-D / 3-D convolutions', () => {
    const a = analyze('auto-pad', (b) => {
      const x = b.input('x', 'float32', [1, 3, 15, 15]);
      const w = b.weight('w', [8, 3, 3, 3], 27);
      b.op('Conv', [x, w], { auto_pad: 'SAME_UPPER', strides: [2, 2] }, '/same');
      b.op('Conv', [x, w], { auto_pad: 'SAME_LOWER' }, '/same1');
      b.op('Conv', [x, w], { auto_pad: 'VALID', strides: [2, 2] }, '/valid');
      const s = b.input('s', 'float32', [1, 4, 50]);
      b.op('Conv', [s, b.weight('w1', [8, 4, 5], 20)], { strides: [2], pads: [2, 2] }, '/conv1d');
      const v = b.input('v', 'float32', [1, 2, 8, 16, 16]);
      b.op('Conv', [v, b.weight('w3', [4, 2, 3, 3, 3], 54)], { pads: [1, 1, 1, 1, 1, 1] }, '/conv3d');
    });
    expect(layer(a, '/same').outputs[0].shape).toEqual([1, 8, 8, 8]);
    expect(layer(a, '/same1').outputs[0].shape).toEqual([1, 8, 15, 15]);
    expect(layer(a, '/valid').outputs[0].shape).toEqual([1, 8, 7, 7]);
    expect(layer(a, '/valid').macs).toBe(8 * 49 * 27);
    expect(layer(a, '/conv1d').outputs[0].shape).toEqual([1, 8, 25]);
    expect(layer(a, '/conv1d').macs).toBe(8 * 25 * 20);
    expect(layer(a, '/conv3d').outputs[0].shape).toEqual([1, 4, 8, 16, 16]);
    expect(layer(a, '/conv3d').macs).toBe(4 * 8 * 16 * 16 * 54);
  });

  it('handles ConvTranspose with strides, pads, output_padding, groups and output_shape', () => {
    const a = analyze('deconv', (b) => {
      const x = b.input('x', 'float32', [1, 16, 14, 14]);
      b.op('ConvTranspose', [x, b.weight('w', [16, 8, 4, 4], 1)], { strides: [2, 2], pads: [1, 1, 1, 1] }, '/up');
      b.op('ConvTranspose', [x, b.weight('w2', [16, 4, 3, 3], 1)], { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1], group: 2 }, '/grouped');
      b.op('ConvTranspose', [x, b.weight('w3', [16, 8, 3, 3], 1)], { strides: [2, 2], output_shape: [30, 30] }, '/shaped');
    });
    expect(layer(a, '/up').outputs[0].shape).toEqual([1, 8, 28, 28]);
    expect(layer(a, '/up').macs).toBe(16 * 14 * 14 * 8 * 16);
    expect(layer(a, '/grouped').outputs[0].shape).toEqual([1, 8, 28, 28]);
    expect(layer(a, '/grouped').macs).toBe(16 * 14 * 14 * 4 * 9);
    expect(layer(a, '/shaped').outputs[0].shape).toEqual([1, 8, 30, 30]);
  });

  it('gives unknown shapes, not exceptions, for mismatched channels or malformed attributes', () => {
    const a = analyze('bad-conv', (b) => {
      const x = b.input('x', 'float32', [1, 3, 8, 8]);
      const bad = b.op('Conv', [x, b.weight('w', [4, 4, 3, 3], 1)], {}, '/mismatch');
      b.op('Relu', [bad], {}, '/after');
      b.op('Conv', [x, b.weight('w2', [4, 3, 3, 3], 1)], { kernel_shape: 'three' }, '/malformed');
      b.op('Transpose', [x], { perm: [0, 0, 1, 2] }, '/badperm');
      b.op('Reshape', [x, b.constantInt64('shape', [2], [5, -1])], {}, '/badreshape');
    });
    for (const name of ['/mismatch', '/malformed', '/badperm', '/badreshape']) {
      expect(layer(a, name).outputs[0].shape).toBeNull();
      expect(layer(a, name).flags).toContain('unknown-shape');
    }
    expect(layer(a, '/mismatch').macs).toBeNull();
    expect(layer(a, '/after').outputs[0].source).toBe('unknown');
    expect(layer(a, '/after').macs).toBe(0);
    expect(a.totals.unknownMacLayers).toBe(2);
    expect(a.unresolved).toHaveLength(5);
  });
});

describe('matrix products', () => {
  it('handles Gemm with transA and transB', () => {
    const a = analyze('gemm', (b) => {
      const x = b.input('x', 'float32', [4, 3]);
      b.op('Gemm', [x, b.weight('w', [5, 4], 1), b.weight('bias', [5], 1)], { transA: 1, transB: 1 }, '/gemm');
      b.op('Gemm', [x, b.weight('w2', [3, 7], 1)], {}, '/plain');
      b.op('Gemm', [x, b.weight('w3', [4, 7], 1)], {}, '/mismatch');
    });
    expect(layer(a, '/gemm').outputs[0].shape).toEqual([3, 5]);
    expect(layer(a, '/gemm').macs).toBe(60);
    expect(layer(a, '/gemm').params).toBe(25);
    expect(layer(a, '/plain').outputs[0].shape).toEqual([4, 7]);
    expect(layer(a, '/plain').macs).toBe(84);
    expect(layer(a, '/mismatch').outputs[0].shape).toBeNull();
  });

  it('broadcasts batched MatMul and promotes 1-D operands', () => {
    const a = analyze('matmul', (b) => {
      const x = b.input('x', 'float32', [2, 1, 4, 3]);
      b.op('MatMul', [x, b.input('y', 'float32', [5, 3, 6])], {}, '/batched');
      b.op('MatMul', [b.input('v', 'float32', [3]), b.input('m', 'float32', [3, 6])], {}, '/vector-left');
      b.op('MatMul', [b.input('t', 'float32', [2, 4, 3]), 'v'], {}, '/vector-right');
      b.op('MatMul', ['v', 'v'], {}, '/dot');
    });
    expect(layer(a, '/batched').outputs[0].shape).toEqual([2, 5, 4, 6]);
    expect(layer(a, '/batched').macs).toBe(720);
    expect(layer(a, '/vector-left').outputs[0].shape).toEqual([6]);
    expect(layer(a, '/vector-left').macs).toBe(18);
    expect(layer(a, '/vector-right').outputs[0].shape).toEqual([2, 4]);
    expect(layer(a, '/vector-right').macs).toBe(24);
    expect(layer(a, '/dot').outputs[0].shape).toEqual([]);
    expect(layer(a, '/dot').macs).toBe(3);
  });

  it('analyses an attention block: Q/K/V projections, Reshape with 0/-1, Transpose, Softmax', () => {
    const attention = (b: GraphBuilder, x: string) => {
      const heads = (name: string) => {
        const projected = b.matmulLinear(x, 64, 64, `/${name}`);
        const split = b.reshape(projected, [0, 0, 4, 16], `/${name}/Reshape`);
        return b.transpose(split, name === 'k' ? [0, 2, 3, 1] : [0, 2, 1, 3], `/${name}/Transpose`);
      };
      const [q, k, v] = [heads('q'), heads('k'), heads('v')];
      const scores = b.op('MatMul', [q, k], {}, '/scores');
      const weights = b.softmax(scores, -1, '/softmax');
      const context = b.op('MatMul', [weights, v], {}, '/context');
      const merged = b.transpose(context, [0, 2, 1, 3], '/merge/Transpose');
      return b.reshape(merged, [0, 0, -1], '/merge/Reshape');
    };
    const a = analyze('attention', (b) => {
      const out = attention(b, b.input('x', 'float32', [1, 16, 64]));
      b.output(out, 'float32', [1, 16, 64]);
    });
    expect(shapeOf(a, '/q/Reshape_output_0')).toEqual([1, 16, 4, 16]);
    expect(shapeOf(a, '/k/Transpose_output_0')).toEqual([1, 4, 16, 16]);
    expect(layer(a, '/scores').macs).toBe(4 * 16 * 16 * 16);
    expect(layer(a, '/softmax').macs).toBe(3 * 4 * 16 * 16);
    expect(layer(a, '/context').outputs[0].shape).toEqual([1, 4, 16, 16]);
    expect(layer(a, '/merge/Reshape').outputs[0].shape).toEqual([1, 16, 64]);
    expect(layer(a, '/merge/Reshape').outputs[0].source).toBe('declared');
    expect(layer(a, '/q/MatMul').macs).toBe(16 * 64 * 64);
    expect(layer(a, '/q/Add').macs).toBe(16 * 64);
    const linear = 16 * 64 * 64 + 16 * 64;
    expect(a.totals.macs).toBe(3 * linear + 2 * 16384 + 3072);
    expect(a.totals.params).toBe(3 * (64 * 64 + 64) + 3 * 4 + 3);

    const symbolic = analyze('attention-symbolic', (b) => {
      b.output(attention(b, b.input('x', 'float32', ['batch', 'seq', 64])), 'float32', null);
    });
    expect(shapeOf(symbolic, '/q/Reshape_output_0')).toEqual(['batch', 'seq', 4, 16]);
    expect(shapeOf(symbolic, '/merge/Reshape_output_0')).toEqual(['batch', 'seq', 64]);
    expect(layer(symbolic, '/scores').macs).toBeNull();
    expect(layer(symbolic, '/scores').flags).toEqual(['symbolic-shape']);
    expect(layer(symbolic, '/q/Reshape').flags).toEqual(['symbolic-shape']);
    expect(layer(symbolic, '/q/Reshape').macs).toBe(0);

    const resolved = analyze(
      'attention-resolved',
      (b) => b.output(attention(b, b.input('x', 'float32', ['batch', 'seq', 64])), 'float32', null),
      { dimValues: { batch: 2, seq: 16 } }
    );
    expect(resolved.totals.macs).toBe(2 * a.totals.macs);
    expect(resolved.inputs[0].shape).toEqual([2, 16, 64]);
    expect(resolved.unresolved).toEqual([]);
  });
});

describe('pooling and normalisation', () => {
  it('pools with ceil_mode, counting AveragePool and GlobalAveragePool work', () => {
    const a = analyze('pools', (b) => {
      const x = b.input('x', 'float32', [1, 64, 112, 112]);
      b.maxPool(x, { kernel: 3, stride: 2, ceilMode: true, name: '/ceil' });
      b.maxPool(x, { kernel: 3, stride: 2, name: '/floor' });
      const small = b.input('s', 'float32', [1, 2, 5, 5]);
      b.maxPool(small, { kernel: 2, stride: 2, pad: 1, ceilMode: true, name: '/clipped' });
      b.averagePool(x, { kernel: 3, stride: 1, pad: 1, name: '/avg' });
      b.globalAveragePool(x, '/gap');
      b.node('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] }, { name: '/indices', outputCount: 2 });
    });
    expect(layer(a, '/ceil').outputs[0].shape).toEqual([1, 64, 56, 56]);
    expect(layer(a, '/floor').outputs[0].shape).toEqual([1, 64, 55, 55]);
    expect(layer(a, '/clipped').outputs[0].shape).toEqual([1, 2, 3, 3]);
    expect(layer(a, '/avg').outputs[0].shape).toEqual([1, 64, 112, 112]);
    expect(layer(a, '/avg').macs).toBe(64 * 112 * 112 * 9);
    expect(layer(a, '/gap').outputs[0].shape).toEqual([1, 64, 1, 1]);
    expect(layer(a, '/gap').macs).toBe(64 * 112 * 112);
    const indices = layer(a, '/indices');
    expect(indices.outputs.map((o) => [o.elementType, o.shape])).toEqual([
      ['float32', [1, 64, 56, 56]],
      ['int64', [1, 64, 56, 56]]
    ]);
    expect(indices.outputBytes).toBe(64 * 56 * 56 * 12);
  });

  it('normalises: LayerNorm (with Mean/InvStdDev), BatchNorm', () => {
    const a = analyze('norms', (b) => {
      const x = b.input('x', 'float32', [2, 10, 32]);
      b.layerNorm(x, 32, '/ln');
      const scale = b.constantFloat('scale', [32], new Float32Array(32));
      b.node('LayerNormalization', [x, scale], { axis: 1 }, { name: '/ln3', outputCount: 3 });
      const image = b.input('image', 'float32', [1, 8, 4, 4]);
      b.batchNorm(image, 8, '/bn');
    });
    expect(layer(a, '/ln').outputs[0].shape).toEqual([2, 10, 32]);
    expect(layer(a, '/ln').macs).toBe(640);
    expect(layer(a, '/ln').params).toBe(64);
    expect(layer(a, '/ln').paramBytes).toBe(256);
    expect(layer(a, '/ln3').outputs.map((o) => o.shape)).toEqual([[2, 10, 32], [2, 1, 1], [2, 1, 1]]);
    expect(layer(a, '/ln3').outputBytes).toBe(640 * 4 + 16);
    expect(layer(a, '/bn').outputs[0].shape).toEqual([1, 8, 4, 4]);
    expect(layer(a, '/bn').macs).toBe(128);
    expect(layer(a, '/bn').params).toBe(32);
  });
});

describe('shape subgraphs and constant propagation', () => {
  const pytorchFlatten = (b: GraphBuilder, x: string) => {
    const shape = b.op('Shape', [x], {}, '/Shape');
    const batch = b.op('Gather', [shape, b.constantInt64('zero', [], [0])], { axis: 0 }, '/Gather');
    const unsqueezed = b.op('Unsqueeze', [batch, b.constantInt64('axes', [1], [0])], {}, '/Unsqueeze');
    const target = b.op('Concat', [unsqueezed, b.constantInt64('minus1', [1], [-1])], { axis: 0 }, '/Concat');
    return b.op('Reshape', [x, target], {}, '/Reshape');
  };

  it('resolves PyTorch Shape → Gather → Unsqueeze → Concat → Reshape, with and without a batch value', () => {
    const make = (b: GraphBuilder) => {
      const x = b.input('x', 'float32', ['N', 256, 6, 6]);
      const flat = pytorchFlatten(b, x);
      b.output(b.linear(flat, 9216, 10, '/fc'), 'float32', ['N', 10]);
    };
    const a = analyze('flatten', make);
    expect(shapeOf(a, '/Shape_output_0')).toEqual([4]);
    expect(layer(a, '/Shape').outputs[0].elementType).toBe('int64');
    expect(layer(a, '/Reshape').outputs[0].shape).toEqual(['N', 9216]);
    expect(layer(a, '/fc').outputs[0].shape).toEqual(['N', 10]);
    expect(layer(a, '/fc').outputs[0].source).toBe('declared');
    expect(layer(a, '/fc').macs).toBeNull();
    expect(layer(a, '/fc').flags).toEqual(['symbolic-shape']);
    expect(a.unresolved).toEqual(['/Reshape_output_0', '/fc_output_0']);

    const fixed = analyze('flatten', make, { dimValues: { N: 4 } });
    expect(layer(fixed, '/Reshape').outputs[0].shape).toEqual([4, 9216]);
    expect(layer(fixed, '/fc').macs).toBe(368_640);
    expect(layer(fixed, '/fc').params).toBe(92_170);
    expect(fixed.outputs[0]).toEqual({ name: '/fc_output_0', elementType: 'float32', shape: [4, 10], bytes: 160, source: 'declared' });
    expect(fixed.totals.unknownMacLayers).toBe(0);
  });

  it('slices with negative indices, INT64_MAX ends, steps and reversed order', () => {
    const model = (() => {
      const b = new GraphBuilder('slice', { weights: 'zeros' });
      const x = b.input('x', 'float32', [1, 3, 10, 20]);
      b.op('Slice', [x, b.constantInt64('starts', [2], [1, -5]), b.constantInt64('ends', [2], [-1, 0]), b.constantInt64('axes', [2], [2, -1])], {}, '/neg');
      b.op('Slice', [x, b.constantInt64('s2', [1], [-5]), 'int64max', b.constantInt64('a2', [1], [-1])], {}, '/tomax');
      b.op('Slice', [x, b.constantInt64('s3', [1], [-1]), 'int64min', b.constantInt64('a3', [1], [2]), b.constantInt64('st3', [1], [-1])], {}, '/reverse');
      b.op('Slice', [x, b.constantInt64('s4', [1], [0]), b.constantInt64('e4', [1], [20]), b.constantInt64('a4', [1], [3]), b.constantInt64('st4', [1], [3])], {}, '/stepped');
      const shape = b.op('Shape', [x], {}, '/Shape');
      b.op('Slice', [shape, b.constantInt64('s5', [1], [-2]), 'int64max'], {}, '/tail');
      const proto = b.toProto();
      const int64 = (name: string, value: bigint) => rawTensorProto(name, 'int64', [1], new Uint8Array(new BigInt64Array([value]).buffer));
      proto.graph?.initializer?.push(int64('int64max', INT64_MAX), int64('int64min', -INT64_MAX - 1n));
      return readOnnxModel(encode(proto));
    })();
    const a = analyzeModel(model);
    expect(layer(a, '/neg').outputs[0].shape).toEqual([1, 3, 8, 0]);
    expect(layer(a, '/tomax').outputs[0].shape).toEqual([1, 3, 10, 5]);
    expect(layer(a, '/reverse').outputs[0].shape).toEqual([1, 3, 10, 20]);
    expect(layer(a, '/stepped').outputs[0].shape).toEqual([1, 3, 10, 7]);
    expect(layer(a, '/tail').outputs[0].shape).toEqual([2]);
  });

  it('reads Slice bounds from attributes before opset 10', () => {
    const a = analyze(
      'slice9',
      (b) => {
        const x = b.input('x', 'float32', [4, 10]);
        b.op('Slice', [x], { starts: [1, -3], ends: [1000, -1], axes: [0, 1] }, '/slice');
        b.op('Unsqueeze', [x], { axes: [0, 3] }, '/unsqueeze');
        b.op('Squeeze', [b.input('y', 'float32', [1, 4, 1])], { axes: [0] }, '/squeeze');
      },
      undefined,
      9
    );
    expect(layer(a, '/slice').outputs[0].shape).toEqual([3, 2]);
    expect(layer(a, '/unsqueeze').outputs[0].shape).toEqual([1, 4, 10, 1]);
    expect(layer(a, '/squeeze').outputs[0].shape).toEqual([4, 1]);
  });

  it('splits by sizes, evenly, and by num_outputs (opset 18)', () => {
    const a = analyze('split', (b) => {
      const x = b.input('x', 'float32', [2, 10, 6]);
      b.node('Split', [x, b.constantInt64('sizes', [2], [3, 7])], { axis: 1 }, { name: '/sizes', outputCount: 2 });
      b.node('Split', [x], { axis: -1 }, { name: '/even', outputCount: 3 });
    });
    expect(layer(a, '/sizes').outputs.map((o) => o.shape)).toEqual([[2, 3, 6], [2, 7, 6]]);
    expect(layer(a, '/even').outputs.map((o) => o.shape)).toEqual([[2, 10, 2], [2, 10, 2], [2, 10, 2]]);
    const opset18 = analyze(
      'split18',
      (b) => {
        b.node('Split', [b.input('x', 'float32', [10])], { num_outputs: 4 }, { name: '/uneven', outputCount: 4 });
      },
      undefined,
      18
    );
    expect(layer(opset18, '/uneven').outputs.map((o) => o.shape)).toEqual([[3], [3], [3], [1]]);
  });

  it('computes Resize sizes from a Shape → Slice → Concat subgraph, and scales', () => {
    const a = analyze('resize', (b) => {
      const x = b.input('x', 'float32', [1, 8, 16, 16]);
      const shape = b.op('Shape', [x]);
      const nc = b.op('Slice', [shape, b.constantInt64('s', [1], [0]), b.constantInt64('e', [1], [2])]);
      const sizes = b.op('Concat', [nc, b.constantInt64('hw', [2], [32, 48])], { axis: 0 });
      b.op('Resize', [x, '', '', sizes], { mode: 'nearest' }, '/sizes');
      const scales = b.constantFloat('scales', [4], new Float32Array([1, 1, 2, 0.5]));
      b.op('Resize', [x, '', scales], { mode: 'linear' }, '/scales');
    });
    expect(layer(a, '/sizes').outputs[0].shape).toEqual([1, 8, 32, 48]);
    expect(layer(a, '/sizes').macs).toBe(0);
    expect(layer(a, '/scales').outputs[0].shape).toEqual([1, 8, 32, 8]);
  });

  it('covers the other shape-carrying ops: Expand, Tile, Pad, ConstantOfShape, Range, TopK, reductions, Gather', () => {
    const a = analyze('misc', (b) => {
      const x = b.input('x', 'float32', [2, 1, 5]);
      b.op('Expand', [x, b.constantInt64('to', [3], [3, 2, 4, 1])], {}, '/bad-expand');
      b.op('Expand', [x, b.constantInt64('to4', [4], [3, 1, 4, 1])], {}, '/expand');
      b.op('Tile', [x, b.constantInt64('reps', [3], [1, 3, 2])], {}, '/tile');
      b.op('Pad', [x, b.constantInt64('pads', [6], [0, 1, 2, 0, 1, 3])], {}, '/pad');
      const shape = b.op('Shape', [x]);
      const zeros = b.op('ConstantOfShape', [shape], { value: int64TensorProto('', [1], [0]) }, '/cos');
      b.op('Range', [b.constantInt64('start', [], [2]), b.constantInt64('limit', [], [11]), b.constantInt64('delta', [], [3])], {}, '/range');
      b.node('TopK', [x, b.constantInt64('k', [1], [3])], { axis: -1 }, { name: '/topk', outputCount: 2 });
      b.op('ReduceMean', [x], { axes: [1, 2], keepdims: 0 }, '/mean');
      b.op('ReduceSum', [x, b.constantInt64('raxes', [1], [-1])], {}, '/sum');
      b.op('ArgMax', [x], { axis: 2, keepdims: 0 }, '/argmax');
      b.op('Gather', [b.input('table', 'float32', [100, 16]), b.input('ids', 'int64', [2, 7])], { axis: 0 }, '/embed');
      b.op('Equal', [zeros, b.constantInt64('one', [], [1])], {}, '/equal');
      b.op('Equal', [zeros, shape], {}, '/unbroadcastable');
      b.op('Cast', [x], { to: 6 }, '/cast');
      b.op('Flatten', [x], { axis: 0 }, '/flatten0');
    });
    expect(layer(a, '/bad-expand').outputs[0].shape).toBeNull();
    expect(layer(a, '/expand').outputs[0].shape).toEqual([3, 2, 4, 5]);
    expect(layer(a, '/tile').outputs[0].shape).toEqual([2, 3, 10]);
    expect(layer(a, '/pad').outputs[0].shape).toEqual([2, 3, 10]);
    expect(layer(a, '/cos').outputs[0]).toMatchObject({ elementType: 'int64', shape: [2, 1, 5], bytes: 80 });
    expect(node(a, '/range').outputs[0].shape).toEqual([3]);
    expect(layer(a, '/topk').outputs.map((o) => [o.elementType, o.shape])).toEqual([['float32', [2, 1, 3]], ['int64', [2, 1, 3]]]);
    expect(layer(a, '/mean').outputs[0].shape).toEqual([2]);
    expect(layer(a, '/mean').macs).toBe(10);
    expect(layer(a, '/sum').outputs[0].shape).toEqual([2, 1, 1]);
    expect(layer(a, '/argmax').outputs[0]).toMatchObject({ elementType: 'int64', shape: [2, 1] });
    expect(layer(a, '/embed').outputs[0].shape).toEqual([2, 7, 16]);
    expect(layer(a, '/equal').outputs[0]).toMatchObject({ elementType: 'bool', shape: [2, 1, 5], bytes: 10 });
    expect(layer(a, '/unbroadcastable').outputs[0].shape).toBeNull();
    expect(layer(a, '/cast').outputs[0]).toMatchObject({ elementType: 'int32', bytes: 40 });
    expect(layer(a, '/flatten0').outputs[0].shape).toEqual([1, 10]);
  });

  it('reads Constant nodes (value_ints, value tensor) as Reshape targets', () => {
    const a = analyze('constants', (b) => {
      const x = b.input('x', 'float32', [2, 3, 4]);
      const target = b.op('Constant', [], { value_ints: [0, -1] });
      b.op('Reshape', [x, target], {}, '/ints');
      const tensor = b.op('Constant', [], { value: int64TensorProto('', [3], [4, 3, 2]) });
      b.op('Reshape', [x, tensor], {}, '/tensor');
      b.op('Constant', [], { value_float: { float: 0.5 } }, '/scalar');
    });
    expect(layer(a, '/ints').outputs[0].shape).toEqual([2, 12]);
    expect(layer(a, '/tensor').outputs[0].shape).toEqual([4, 3, 2]);
    expect(node(a, '/scalar').outputs[0]).toMatchObject({ elementType: 'float32', shape: [], bytes: 4 });
  });
});

describe('sources: declared, runtime, unknown ops', () => {
  const withCustomOp = (b: GraphBuilder) => {
    const x = b.input('x', 'float32', [1, 8, 16, 16]);
    const c = b.conv(x, { inChannels: 8, outChannels: 8, kernel: 3, pad: 1, name: '/conv' });
    const [fancy] = b.node('FancyOp', [c], {}, { name: '/fancy', domain: 'com.example' });
    const r = b.relu(fancy, '/relu');
    const g = b.globalAveragePool(r, '/gap');
    b.output(g, 'float32', null);
  };

  it('flags an unknown custom-domain op and goes on with the rest of the graph', () => {
    const a = analyze('custom', withCustomOp);
    expect(layer(a, '/conv').macs).toBe(8 * 256 * 72);
    expect(layer(a, '/fancy').flags).toEqual(['unknown-op', 'unknown-shape']);
    expect(layer(a, '/fancy').macs).toBeNull();
    expect(layer(a, '/fancy').outputs[0].source).toBe('unknown');
    expect(layer(a, '/relu').flags).toEqual(['unknown-shape']);
    expect(layer(a, '/gap').macs).toBeNull();
    expect(layer(a, '/gap').flags).toEqual(['unknown-shape']);
    expect(a.totals.unknownMacLayers).toBe(2);
    expect(a.totals.macs).toBe(8 * 256 * 72);
    expect(a.unresolved).toEqual(['/fancy_output_0', '/relu_output_0', '/gap_output_0']);
  });

  it('lets runtime shapes settle the custom op and override static inference', () => {
    const runtimeShapes = new Map<string, RuntimeShape>([
      ['/fancy_output_0', { elementType: 'float32', shape: [1, 4, 8, 8] }],
      ['/conv_output_0', { elementType: 'float32', shape: [1, 8, 16, 16] }]
    ]);
    const a = analyze('custom', withCustomOp, { runtimeShapes });
    expect(layer(a, '/conv').outputs[0].source).toBe('runtime');
    expect(layer(a, '/fancy').outputs[0]).toEqual({ name: '/fancy_output_0', elementType: 'float32', shape: [1, 4, 8, 8], bytes: 1024, source: 'runtime' });
    expect(layer(a, '/fancy').flags).toEqual(['unknown-op']);
    expect(layer(a, '/relu').outputs[0]).toMatchObject({ shape: [1, 4, 8, 8], source: 'static' });
    expect(layer(a, '/gap').outputs[0].shape).toEqual([1, 4, 1, 1]);
    expect(layer(a, '/gap').macs).toBe(256);
    expect(a.totals.unknownMacLayers).toBe(1);
    expect(a.unresolved).toEqual([]);
  });

  it('keeps the batch symbol through Conv, and resolves it from dimValues', () => {
    const make = (b: GraphBuilder) => {
      const x = b.input('x', 'float32', ['batch', 3, 32, 32]);
      const c = b.conv(x, { inChannels: 3, outChannels: 16, kernel: 3, pad: 1, name: '/conv' });
      b.output(b.relu(c, '/relu'), 'float32', ['batch', null, 32, 32]);
    };
    const symbolic = analyze('symbolic', make);
    expect(symbolic.inputs[0]).toEqual({ name: 'x', elementType: 'float32', shape: ['batch', 3, 32, 32], bytes: null, source: 'declared' });
    expect(layer(symbolic, '/conv').outputs[0].shape).toEqual(['batch', 16, 32, 32]);
    expect(layer(symbolic, '/conv').flags).toEqual(['symbolic-shape']);
    expect(layer(symbolic, '/conv').macs).toBeNull();
    expect(layer(symbolic, '/conv').outputBytes).toBeNull();
    expect(layer(symbolic, '/relu').outputs[0]).toMatchObject({ shape: ['batch', 16, 32, 32], source: 'static' });
    expect(symbolic.totals.unknownMacLayers).toBe(1);

    const fixed = analyze('symbolic', make, { dimValues: { batch: 2 } });
    expect(fixed.inputs[0].shape).toEqual([2, 3, 32, 32]);
    expect(layer(fixed, '/conv').macs).toBe(2 * 16 * 1024 * 27);
    expect(layer(fixed, '/conv').outputBytes).toBe(2 * 16 * 1024 * 4);
    expect(layer(fixed, '/conv').flags).toEqual([]);
    expect(fixed.outputs[0]).toMatchObject({ shape: [2, 16, 32, 32], source: 'static' });
  });

  it('includes initializers in the tensor map and counts shared initializers once in the totals', () => {
    const a = analyze('shared', (b) => {
      const x = b.input('x', 'float32', [1, 4]);
      const w = b.weight('w', [4, 4], 4);
      const h = b.op('MatMul', [x, w], {}, '/first');
      b.output(b.op('MatMul', [h, w], {}, '/second'), 'float32', [1, 4]);
    });
    expect(a.tensors.get('w')).toEqual({ name: 'w', elementType: 'float32', shape: [4, 4], bytes: 64, source: 'declared' });
    expect(layer(a, '/first').params).toBe(16);
    expect(layer(a, '/second').params).toBe(16);
    expect(a.totals.params).toBe(16);
    expect(a.totals.paramBytes).toBe(64);
  });
});

describe('robustness and speed', () => {
  it('never reads the bytes of big initializers', () => {
    const model = build('big', (b) => {
      const x = b.input('x', 'float32', [1, 512, 7, 7]);
      const f = b.flatten(x);
      b.output(b.linear(f, 25088, 256, '/fc6'), 'float32', null);
    });
    const weight = model.graph.initializers.get('/fc6.weight');
    if (!weight) throw new Error('no weight');
    const trap = {
      kind: 'raw' as const,
      get bytes(): Uint8Array {
        throw new Error('weight bytes were read');
      }
    };
    Object.defineProperty(weight, 'storage', { value: trap });
    const a = analyzeModel(model);
    expect(layer(a, '/fc6').macs).toBe(25088 * 256);
    expect(layer(a, '/fc6').paramBytes).toBe((25088 * 256 + 256) * 4);
  });

  it('analyses nodes given out of topological order', () => {
    const b = new GraphBuilder('unsorted', { weights: 'zeros' });
    const x = b.input('x', 'float32', [1, 3, 8, 8]);
    const c = b.conv(x, { inChannels: 3, outChannels: 4, kernel: 3, name: '/conv' });
    b.output(b.relu(c, '/relu'), 'float32', null);
    const proto = b.toProto();
    proto.graph?.node?.reverse();
    const a = analyzeModel(readOnnxModel(encode(proto)));
    // Layers come in topological order; each remembers where its node sits in the file.
    expect(a.layers.map((l) => [l.name, l.index, l.nodeIndex])).toEqual([['/conv', 0, 1], ['/relu', 1, 0]]);
    expect(a.layers[1].outputs[0].shape).toEqual([1, 4, 6, 6]);
  });

  // How fast is a figure of `npm run bench -- --only engine`, not a timed unit test.
  it('analyses a 10,000-node chain, every layer in order', () => {
    const model = build('long', (b) => {
      let x = b.input('x', 'float32', ['batch', 64]);
      const bias = b.constantFloat('bias', [64], new Float32Array(64));
      for (let i = 0; i < 5000; i++) x = b.relu(b.add(x, bias, `/add${i}`), `/relu${i}`);
      b.output(x, 'float32', ['batch', 64]);
    });
    const a = analyzeModel(model, { dimValues: { batch: 8 } });
    expect(a.layers).toHaveLength(10_000);
    expect(a.layers[9_999].name).toBe('/relu4999');
    expect(a.totals.macs).toBe(5000 * 8 * 64);
  });
});


describe('recurrent ops', () => {
  it('gives GRU, LSTM and RNN their shapes and MACs per step × steps, in both layouts and directions', () => {
    const a = analyze('recurrent', (b) => {
      const x = b.input('x', 'float32', [50, 2, 40]);
      const gru = b.node('GRU', [x, b.weight('gw', [1, 3 * 64, 40], 40), b.weight('gr', [1, 3 * 64, 64], 64)], { hidden_size: 64 }, { name: '/gru', outputCount: 2 });
      b.node('LSTM', [x, b.weight('lw', [2, 4 * 32, 40], 40), b.weight('lr', [2, 4 * 32, 32], 32)], { direction: 'bidirectional' }, { name: '/lstm', outputCount: 3 });
      const xb = b.input('xb', 'float32', [2, 50, 40]);
      b.node('RNN', [xb, b.weight('rw', [1, 16, 40], 40), b.weight('rr', [1, 16, 16], 16)], { hidden_size: 16, layout: 1 }, { name: '/rnn', outputCount: 2 });
      b.output(gru[0], 'float32', null);
    });
    expect(layer(a, '/gru').outputs.map((o) => o.shape)).toEqual([[50, 1, 2, 64], [1, 2, 64]]);
    expect(layer(a, '/gru').macs).toBe(50 * 2 * 1 * 3 * 64 * (40 + 64));
    expect(layer(a, '/lstm').outputs.map((o) => o.shape)).toEqual([[50, 2, 2, 32], [2, 2, 32], [2, 2, 32]]);
    expect(layer(a, '/lstm').macs).toBe(50 * 2 * 2 * 4 * 32 * (40 + 32));
    expect(layer(a, '/rnn').outputs.map((o) => o.shape)).toEqual([[2, 50, 1, 16], [2, 1, 16]]);
    expect(layer(a, '/rnn').macs).toBe(50 * 2 * 1 * 1 * 16 * (40 + 16));
    expect(layer(a, '/gru').flags).toEqual([]);
  });

  it('counts a symbolic sequence as symbolic, then settles it with a given dimension', () => {
    const make = (b: GraphBuilder) => {
      const x = b.input('x', 'float32', ['seq', 1, 8]);
      b.node('GRU', [x, b.weight('gw', [1, 24, 8], 8), b.weight('gr', [1, 24, 8], 8)], { hidden_size: 8 }, { name: '/gru', outputCount: 2 });
    };
    expect(layer(analyze('seq', make), '/gru').flags).toContain('symbolic-shape');
    expect(layer(analyze('seq', make, { dimValues: { seq: 10 } }), '/gru').macs).toBe(10 * 3 * 8 * 16);
    const defaulted = analyze('seq', make, { defaultSymbolicDims: true });
    expect(defaulted.symbolicDims).toEqual([{ name: 'seq', value: 1, source: 'default' }]);
    expect(layer(defaulted, '/gru').macs).toBe(3 * 8 * 16);
  });
});
