// Where the NCHWc reorders go on small graphs built here (a converted Conv chain keeps its
// layout; a squeeze-and-excitation Mul, a Flatten and a Conv of fewer channels than a block
// read the plain layout; a pool of partial blocks turns back; a tensor is reordered once),
// and the reorder cost fitted to the sweep's reorders. main/profiling/fusion-probe.test.ts
// checks the same placement against onnxruntime on the real exports.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import type { LayerSample, NchwcLayout } from '../profiling/types.js';
import { blockedLayout, fitReorders, nchwcReorders, reorderMs, type LayoutReorder } from './nchwc-layout.js';

const layout: NchwcLayout = { blockSize: 16, channelAlignment: 4 };

function reordersOf(build: (b: GraphBuilder, x: string) => string, channels = 32, useLayout: NchwcLayout | null = layout): Array<Pick<LayoutReorder, 'kind' | 'tensor'> & { layer: string }> {
  const builder = new GraphBuilder('layout');
  const x = builder.input('x', 'float32', [1, channels, 8, 8]);
  builder.output(build(builder, x), 'float32', null);
  const model = readOnnxModel(builder.toBytes());
  const analysis = analyzeModel(model);
  return nchwcReorders(analysis, model.graph, useLayout).map((r) => ({ kind: r.kind, tensor: r.tensor, layer: analysis.layers[r.layer].name }));
}

describe('nchwcReorders', () => {
  it('reorders a chain of converted Convs once in and once out, through activations, pools and a residual Add', () => {
    const reorders = reordersOf((b, x) => {
      const a = b.relu(b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1, name: '/a' }), '/a_relu');
      const pooled = b.maxPool(a, { kernel: 3, stride: 1, pad: 1 });
      return b.conv(b.add(pooled, a), { inChannels: 32, outChannels: 32, kernel: 1, name: '/b' });
    });
    expect(reorders).toEqual([
      { kind: 'ReorderInput', tensor: 'x', layer: '/a' },
      { kind: 'ReorderOutput', tensor: '/b_output_0', layer: '/b' }
    ]);
  });

  it('reads an input of fewer channels than a block as it is', () => {
    expect(reordersOf((b, x) => b.conv(x, { inChannels: 3, outChannels: 32, kernel: 3, pad: 1, name: '/stem' }), 3).map((r) => r.kind)).toEqual(['ReorderOutput']);
  });

  it("turns a squeeze-and-excitation block's broadcasting Mul back to the plain layout, and the next Conv into blocks again", () => {
    const reorders = reordersOf((b, x) => {
      const y = b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1, name: '/y' });
      const squeezed = b.op('Sigmoid', [b.conv(b.globalAveragePool(y), { inChannels: 32, outChannels: 32, kernel: 1, name: '/se' })], {}, '/se_sigmoid');
      return b.conv(b.mul(y, squeezed, '/scale'), { inChannels: 32, outChannels: 32, kernel: 1, name: '/next' });
    });
    expect(reorders).toEqual([
      { kind: 'ReorderInput', tensor: 'x', layer: '/y' },
      { kind: 'ReorderOutput', tensor: '/y_output_0', layer: '/y' },
      { kind: 'ReorderOutput', tensor: '/se_sigmoid_output_0', layer: '/se_sigmoid' },
      { kind: 'ReorderInput', tensor: '/scale_output_0', layer: '/next' },
      { kind: 'ReorderOutput', tensor: '/next_output_0', layer: '/next' }
    ]);
  });

  it('turns back before a Flatten, a pool of part of a block and a Conv of fewer channels than a block; reorders a tensor once', () => {
    const flattened = reordersOf((b, x) => b.op('Flatten', [b.conv(x, { inChannels: 32, outChannels: 32, kernel: 1, name: '/c' })], {}, '/flat'));
    expect(flattened.map((r) => `${r.kind} ${r.tensor}`)).toEqual(['ReorderInput x', 'ReorderOutput /c_output_0']);
    const partial = reordersOf((b, x) => {
      const narrow = b.conv(x, { inChannels: 32, outChannels: 8, kernel: 1, name: '/narrow' });
      return b.conv(b.maxPool(narrow, { kernel: 2, stride: 2 }), { inChannels: 8, outChannels: 32, kernel: 3, pad: 1, name: '/wide' });
    });
    expect(partial.map((r) => `${r.kind} ${r.tensor}`)).toEqual(['ReorderInput x', 'ReorderOutput /narrow_output_0', 'ReorderOutput /wide_output_0']);
    const shared = reordersOf((b, x) => b.add(b.conv(x, { inChannels: 32, outChannels: 32, kernel: 1, name: '/p' }), b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1, name: '/q' })));
    expect(shared.filter((r) => r.kind === 'ReorderInput')).toHaveLength(1);
  });

  it('names the layers that run blocked: a pool of whole blocks after a converted Conv, not one of part of a block', () => {
    const builder = new GraphBuilder('blocked');
    const x = builder.input('x', 'float32', [1, 32, 8, 8]);
    const whole = builder.maxPool(builder.conv(x, { inChannels: 32, outChannels: 32, kernel: 1, name: '/whole' }), { kernel: 2, stride: 2 });
    const partial = builder.maxPool(builder.conv(whole, { inChannels: 32, outChannels: 20, kernel: 1, name: '/partial' }), { kernel: 2, stride: 2 });
    builder.output(partial, 'float32', null);
    const model = readOnnxModel(builder.toBytes());
    const analysis = analyzeModel(model);
    const blocked = blockedLayout(analysis, model.graph, layout).blockedLayers;
    expect(analysis.layers.map((layer) => `${layer.opType} ${blocked.has(layer.index)}`)).toEqual(['Conv true', 'MaxPool true', 'Conv true', 'MaxPool false']);
    expect(blockedLayout(analysis, model.graph, null).blockedLayers.size).toBe(0);
  });

  it('places none without a blocked layout', () => {
    expect(reordersOf((b, x) => b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1 }), 32, null)).toEqual([]);
  });
});

describe('fitReorders', () => {
  const sample = (reorders: { bytes: number; ms: number }[]): LayerSample => ({ layerType: 'conv', features: {}, ms: 1, config: 'c', level: 'all', reorders });

  it('fits ms on bytes written over every sample, and costs a reorder with it', () => {
    const fit = fitReorders([sample([{ bytes: 1e5, ms: 0.012 }, { bytes: 1e6, ms: 0.102 }]), sample([{ bytes: 2e6, ms: 0.202 }, { bytes: 4e5, ms: 0.042 }])]);
    expect(fit?.samples).toBe(4);
    expect(fit!.msPerByte).toBeCloseTo(1e-7, 12);
    expect(fit!.interceptMs).toBeCloseTo(0.002, 9);
    expect(reorderMs(fit!, 5e5)).toBeCloseTo(0.052, 9);
  });

  it('keeps the intercept non-negative and needs four reorders of two sizes', () => {
    const fit = fitReorders([sample([{ bytes: 1e5, ms: 0.001 }, { bytes: 1e6, ms: 0.1 }, { bytes: 2e6, ms: 0.2 }, { bytes: 3e6, ms: 0.3 }])]);
    expect(fit!.interceptMs).toBe(0);
    expect(fit!.msPerByte).toBeGreaterThan(0);
    expect(fitReorders([sample([{ bytes: 1e5, ms: 0.01 }, { bytes: 1e6, ms: 0.1 }])])).toBeNull();
    expect(fitReorders([sample([1, 2, 3, 4].map(() => ({ bytes: 1e5, ms: 0.01 })))])).toBeNull();
  });
});
