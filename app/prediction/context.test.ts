// Context factors: found only where the generated networks give enough to go on, never
// below 1 nor above the cap, none for data movement; the networks hold the layer types
// they calibrate; and a prediction multiplies each layer of a type by its factor.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { calibrationNetworks, contextFactors, MAX_CONTEXT_FACTOR, MIN_LAYERS, type ContextSample } from './context.js';
import { layerFeatures } from './features.js';
import { predictProfile } from './predict.js';
import { syntheticDevice } from './test-devices.js';
import { GraphBuilder } from '../onnx/builder.js';

const layers = (layerType: string, count: number, measuredMs: number, predictedMs: number): ContextSample[] => Array.from({ length: count }, (_, i) => ({ layerType, size: 1000 * (i + 1), measuredMs, predictedMs }));

describe('contextFactors', () => {
  it('is the ratio of the sums per type, at least 1 and at most the cap', () => {
    const factors = contextFactors([...layers('normalization', 12, 0.016, 0.008), ...layers('conv', 8, 0.09, 0.1), ...layers('softmax', 6, 1, 0.1)]);
    expect(factors.normalization?.factor).toBeCloseTo(2, 9);
    expect(factors.conv?.factor).toBe(1);
    expect(factors.softmax?.factor).toBe(MAX_CONTEXT_FACTOR);
    // Found up to twice the largest layer of the type the networks held, by the type's size feature.
    expect(factors.normalization).toMatchObject({ sizeFeature: 'neurons', upTo: 24_000 });
    expect(factors.conv).toMatchObject({ sizeFeature: 'macs', upTo: 16_000 });
  });

  it('needs enough layers and enough predicted time of a type, and finds none for data movement', () => {
    const factors = contextFactors([...layers('matmul', MIN_LAYERS - 1, 0.2, 0.1), ...layers('elementwise', 10, 0.002, 0.001), ...layers('dataMovement', 40, 0.01, 0.002)]);
    expect(factors).toEqual({});
  });
});

describe('calibrationNetworks', () => {
  it('holds the layer types it calibrates, every layer with features', () => {
    const types = new Set<string>();
    for (const network of calibrationNetworks()) {
      const model = readOnnxModel(network.bytes);
      const analysis = analyzeModel(model);
      for (const layer of analysis.layers) types.add(layerFeatures(layer, analysis, model.graph)?.layerType ?? 'unmodelled');
    }
    expect([...types].sort()).toEqual(['activation', 'conv', 'dataMovement', 'depthwiseConv', 'elementwise', 'fcBatched', 'matmul', 'normalization', 'pooling', 'softmax']);
  });

  it("gives 'all' full-size networks of its own, with maps as large as an ImageNet model's early blocks", () => {
    const types = new Set<string>();
    let largestMap = 0;
    for (const network of calibrationNetworks('all')) {
      const model = readOnnxModel(network.bytes);
      const analysis = analyzeModel(model);
      for (const layer of analysis.layers) {
        types.add(layerFeatures(layer, analysis, model.graph)?.layerType ?? 'unmodelled');
        largestMap = Math.max(largestMap, layer.outputBytes ?? 0);
      }
    }
    expect([...types].sort()).toEqual(['activation', 'conv', 'depthwiseConv', 'elementwise', 'pooling']);
    // 64 channels at 112×112 in float32: larger than the core caches the small networks fit in.
    expect(largestMap).toBe(64 * 112 * 112 * 4);
    expect(calibrationNetworks('all').map((n) => n.name)).not.toEqual(calibrationNetworks('disabled').map((n) => n.name));
  });
});

describe('predicting with context factors', () => {
  /** A Relu then a LayerNormalization over 64×128, and a device of synthetic fits. */
  const reluThenLayerNorm = () => {
    const b = new GraphBuilder('context');
    const x = b.input('x', 'float32', [1, 64, 128]);
    b.output(b.layerNorm(b.relu(x), 128), 'float32', null);
    const model = readOnnxModel(b.toBytes());
    return { model, analysis: analyzeModel(model), identity: { file: 'c.onnx', sha256: 'c', nodes: 0 }, device: syntheticDevice() };
  };

  it('multiplies each layer of a type no larger than the networks held by its factor, and leaves the other types and larger layers alone', () => {
    const { model, analysis, identity, device } = reluThenLayerNorm();
    const plain = predictProfile(analysis, model, device, identity, { optimization: 'disabled' });
    const slowedUpTo = (upTo: number) => predictProfile(analysis, model, { ...device, contextFactors: { normalization: { factor: 1.5, sizeFeature: 'neurons', upTo } } }, identity, { optimization: 'disabled' });
    const slowed = slowedUpTo(64 * 128);
    expect(slowed.layers.map((l) => l.op)).toEqual(['Relu', 'LayerNormalization']);
    expect(slowed.layers[0].medianMs).toBe(plain.layers[0].medianMs);
    expect(slowed.layers[1].medianMs).toBeCloseTo(plain.layers[1].medianMs * 1.5, 12);
    expect(slowedUpTo(64 * 128 - 1).layers[1].medianMs).toBe(plain.layers[1].medianMs);
  });

  it("at 'all' takes a type's factor found at that level in place of the one found at 'disabled', and the others as they are", () => {
    const { model, analysis, identity, device } = reluThenLayerNorm();
    const upTo = 64 * 128;
    const factored = {
      ...device,
      contextFactors: { normalization: { factor: 1.5, sizeFeature: 'neurons', upTo }, activation: { factor: 1.2, sizeFeature: 'neurons', upTo } },
      contextFactorsAtAll: { normalization: { factor: 2, sizeFeature: 'neurons', upTo } }
    };
    for (const [level, normalization] of [['disabled', 1.5], ['all', 2]] as const) {
      const plain = predictProfile(analysis, model, device, identity, { optimization: level });
      const slowed = predictProfile(analysis, model, factored, identity, { optimization: level });
      expect(slowed.layers[0].medianMs).toBeCloseTo(plain.layers[0].medianMs * 1.2, 12);
      expect(slowed.layers[1].medianMs).toBeCloseTo(plain.layers[1].medianMs * normalization, 12);
    }
  });
});
