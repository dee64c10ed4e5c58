// Layer types and the paper's features for known layers: AlexNet's first conv and FC
// (the paper's own example), depthwise and grouped convs, the transformer's Linear and
// attention MatMuls, pooling, normalisation, data movement, recurrent layers and an unmodelled op.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { GraphBuilder } from '../onnx/builder.js';
import type { Dim } from '../onnx/model.js';
import { readOnnxModel } from '../onnx/reader.js';
import { buildZooModel } from '../zoo/index.js';
import { GEMM_COLUMN_STRIP, kernelFeatures, LAYER_TYPE_FEATURES, LAYER_TYPES, layerFeatures, stepFeatures, type LayerFeatures } from './features.js';
import { qdqTestGraph, qoperatorTestGraph } from '../analysis/test-quantized-graphs.js';

function featuresOf(bytes: Uint8Array): (LayerFeatures | null)[] {
  const model = readOnnxModel(bytes);
  const analysis = analyzeModel(model);
  return analysis.layers.map((layer) => layerFeatures(layer, analysis, model.graph));
}

function singleLayer(build: (b: GraphBuilder, x: string) => string, shape: Dim[]): LayerFeatures | null {
  const b = new GraphBuilder('one', { weights: 'zeros' });
  const x = b.input('x', 'float32', shape);
  b.output(build(b, x), 'float32', null);
  return featuresOf(b.toBytes())[0];
}

describe('layerFeatures', () => {
  it("gives AlexNet's conv1 and FC layers the paper's features", () => {
    const layers = featuresOf(buildZooModel('alexnet', { weights: 'zeros' }));
    expect(layers[0]).toEqual({
      layerType: 'conv',
      features: {
        inputSize: 3 * 224 * 224,
        filterStrideSquaredTimesFilters: ((11 * 11) / (4 * 4)) * 64,
        macs: 64 * 55 * 55 * 3 * 11 * 11,
        // 3,025 output columns: 190 strips of 16.
        gemmMacs: 64 * 3040 * 3 * 11 * 11,
        im2colElements: 55 * 55 * 3 * 11 * 11,
        outputSize: 64 * 55 * 55
      }
    });
    expect(layers[0]!.features.inputSize).toBe(150528);
    expect(layers[0]!.features.filterStrideSquaredTimesFilters).toBe(484);
    const fc = layers.find((l) => l?.layerType === 'fc');
    expect(fc!.features).toEqual({ inputNeurons: 9216, outputNeurons: 4096, inputTimesOutputNeurons: 9216 * 4096, macs: 9216 * 4096 });
    expect(layers.filter((l) => l?.layerType === 'pooling')).toHaveLength(3);
    expect(layers.filter((l) => l?.layerType === 'activation')).toHaveLength(7);
    expect(layers.find((l) => l?.layerType === 'dataMovement')!.features).toEqual({ bytes: 9216 * 4, copiedBytes: 0, transposedBytes: 0, copies: 0, paddedBytes: 0 });
    expect(layers.find((l) => l?.layerType === 'activation')!.features).toEqual({ neurons: 64 * 55 * 55, transcendentalNeurons: 0 });
  });

  it("counts a conv's GEMM columns in whole strips of 16: a 7×7 map costs as an 8×8 one", () => {
    const b = new GraphBuilder('pointwise');
    const x = b.input('x', 'float32', [1, 192, 7, 7]);
    b.output(b.conv(x, { inChannels: 192, outChannels: 1152, kernel: 1, stride: 1, pad: 0, group: 1 }), 'float32', null);
    const [conv] = featuresOf(b.toBytes());
    expect(conv!.features.macs).toBe(192 * 1152 * 49);
    expect(conv!.features.gemmMacs).toBe(192 * 1152 * 64);
    expect(GEMM_COLUMN_STRIP).toBe(16);
  });

  it('tells depthwise convs from plain and grouped ones', () => {
    const depthwise = singleLayer((b, x) => b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, stride: 2, pad: 1, group: 32 }), [1, 32, 56, 56]);
    expect(depthwise).toEqual({ layerType: 'depthwiseConv', features: { inputSize: 32 * 56 * 56, filterStrideSquaredTimesFilters: (9 / 4) * 32, macs: 32 * 28 * 28 * 9, outputSize: 32 * 28 * 28 } });
    const grouped = singleLayer((b, x) => b.conv(x, { inChannels: 64, outChannels: 128, kernel: 3, pad: 1, group: 2 }), [1, 64, 28, 28]);
    // Grouped, not depthwise: one im2col and GEMM per group.
    expect(grouped).toEqual({
      layerType: 'groupedConv',
      features: { inputSize: 64 * 28 * 28, macs: 128 * 28 * 28 * 32 * 9, im2colElements: 64 * 9 * 28 * 28, groups: 2, outputSize: 128 * 28 * 28 }
    });
    const dilated = singleLayer((b, x) => b.conv(x, { inChannels: 16, outChannels: 16, kernel: 3, pad: 2, dilation: 2 }), [1, 16, 28, 28]);
    expect(dilated!.layerType).toBe('conv');
  });

  it("classifies the transformer's MatMuls: Linear (2-D weight over 128 rows) as fcBatched, attention as matmul", () => {
    const layers = featuresOf(buildZooModel('transformer', { weights: 'zeros' }));
    const model = readOnnxModel(buildZooModel('transformer', { weights: 'zeros' }));
    const types = model.graph.nodes.map((node, i) => [node.opType, layers[i]?.layerType ?? null] as const);
    const matmulTypes = new Set(types.filter(([op]) => op === 'MatMul').map(([, type]) => type));
    expect(matmulTypes).toEqual(new Set(['fcBatched', 'matmul']));
    const attention = layers.find((l) => l?.layerType === 'matmul');
    expect(attention!.features).toEqual({ macs: 4 * 128 * 128 * 64, batches: 4, outputSize: 4 * 128 * 128 });
    const linear = layers.find((l) => l?.layerType === 'fcBatched');
    expect(linear!.features).toEqual({ inputNeurons: 256, outputNeurons: 256, inputTimesOutputNeurons: 256 * 256, macs: 128 * 256 * 256 });
    for (const [op, type] of types) {
      if (op === 'Softmax') expect(type).toBe('softmax');
      if (op === 'LayerNormalization') expect(type).toBe('normalization');
      if (op === 'Reshape' || op === 'Transpose' || op === 'Gather') expect(type).toBe('dataMovement');
      if (op === 'Erf') expect(type).toBe('activation');
      if (op === 'Add' || op === 'Mul' || op === 'Div') expect(type).toBe('elementwise');
    }
  });

  it('gives pooling its input, output and window sizes', () => {
    expect(singleLayer((b, x) => b.maxPool(x, { kernel: 3, stride: 2 }), [1, 64, 55, 55])).toEqual({
      layerType: 'pooling',
      features: { inputSize: 64 * 55 * 55, outputSize: 64 * 27 * 27, outputSizeTimesWindow: 64 * 27 * 27 * 9 }
    });
    expect(singleLayer((b, x) => b.globalAveragePool(x), [1, 512, 7, 7])!.features).toEqual({ inputSize: 512 * 49, outputSize: 512, outputSizeTimesWindow: 512 * 49 });
  });

  it("counts LRN's window apart from other normalisations", () => {
    expect(singleLayer((b, x) => b.lrn(x, 5), [1, 64, 27, 27])!.features).toEqual({ neurons: 64 * 27 * 27, lrnWindowNeurons: 64 * 27 * 27 * 5, statisticsNeurons: 0, residualNeurons: 0 });
    expect(singleLayer((b, x) => b.batchNorm(x, 64), [1, 64, 27, 27])!.features).toEqual({ neurons: 64 * 27 * 27, lrnWindowNeurons: 0, statisticsNeurons: 0, residualNeurons: 0 });
    expect(singleLayer((b, x) => b.layerNorm(x, 256), [1, 128, 256])!.features).toEqual({ neurons: 128 * 256, lrnWindowNeurons: 0, statisticsNeurons: 128 * 256, residualNeurons: 0 });
  });

  it('tells costly activations and copying data movement apart', () => {
    expect(singleLayer((b, x) => b.op('Erf', [x]), [1, 128, 1024])!.features).toEqual({ neurons: 128 * 1024, transcendentalNeurons: 128 * 1024 });
    expect(singleLayer((b, x) => b.transpose(x, [0, 2, 1, 3]), [1, 128, 4, 64])!.features).toEqual({ bytes: 4 * 128 * 256, copiedBytes: 4 * 128 * 256, transposedBytes: 4 * 128 * 256, copies: 1, paddedBytes: 0 });
    expect(singleLayer((b, x) => b.reshape(x, [1, 128, 256]), [1, 128, 4, 64])!.features).toEqual({ bytes: 4 * 128 * 256, copiedBytes: 0, transposedBytes: 0, copies: 0, paddedBytes: 0 });
    expect(singleLayer((b, x) => b.op('Pad', [x, b.constantInt64('/pads', [6], [0, 0, 1, 0, 0, 1])]), [1, 8, 4])!.features).toEqual({ bytes: 4 * 8 * 6, copiedBytes: 4 * 8 * 6, transposedBytes: 0, copies: 1, paddedBytes: 4 * 8 * 6 });
    expect(singleLayer((b, x) => b.concat([x, x], 1), [1, 8, 4])!.features).toEqual({ bytes: 4 * 64, copiedBytes: 4 * 64, transposedBytes: 0, copies: 1, paddedBytes: 0 });
  });

  it("counts the unfolded input a conv's GEMM reads, none for a 1×1 stride-1 conv", () => {
    const conv = (kernel: number, stride: number) => singleLayer((b, x) => b.conv(x, { inChannels: 16, outChannels: 32, kernel, stride, pad: 0 }), [1, 16, 8, 8])!.features;
    expect(conv(1, 1).im2colElements).toBe(0);
    expect(conv(1, 2).im2colElements).toBe(16 * 4 * 4);
    expect(conv(3, 1).im2colElements).toBe(16 * 9 * 6 * 6);
    expect(conv(3, 1).macs).toBe(32 * conv(3, 1).im2colElements);
  });

  it('describes GRU and LSTM layers as recurrent: the input GEMM, the recurrent products, the steps, the gates, and the steps of each op apart', () => {
    const gru = singleLayer((b, x) => b.node('GRU', [x, b.weight('w', [1, 3 * 64, 40], 40), b.weight('r', [1, 3 * 64, 64], 64)], { hidden_size: 64 }, { name: '/gru', outputCount: 2 })[0], [25, 1, 40]);
    expect(gru).toEqual({ layerType: 'recurrent', features: { inputMacs: 25 * 3 * 64 * 40, recurrentMacs: 25 * 3 * 64 * 64, steps: 25, gateNeurons: 25 * 3 * 64, gruSteps: 25, lstmSteps: 0 } });
    // Bidirectional, batch-first (layout 1), hidden size from the weights.
    const lstm = singleLayer((b, x) => b.node('LSTM', [x, b.weight('w', [2, 4 * 32, 16], 16), b.weight('r', [2, 4 * 32, 32], 32)], { layout: 1 }, { name: '/lstm', outputCount: 3 })[0], [2, 10, 16]);
    expect(lstm).toEqual({ layerType: 'recurrent', features: { inputMacs: 20 * 2 * 4 * 32 * 16, recurrentMacs: 20 * 2 * 4 * 32 * 32, steps: 20, gateNeurons: 20 * 2 * 4 * 32, gruSteps: 0, lstmSteps: 20 } });
  });

  it('returns null for unmodelled ops and unknown shapes', () => {
    expect(singleLayer((b, x) => b.op('TopK', [x, b.constantInt64('k', [1], [3])], { axis: -1 }), [1, 10])).toBeNull();
    expect(singleLayer((b, x) => b.relu(x), [1, 'n', 8])).toBeNull();
  });

  it('lists features for every layer type', () => {
    for (const type of LAYER_TYPES) expect(LAYER_TYPE_FEATURES[type].length).toBeGreaterThan(0);
  });

  it('gives integer kernels and quantize ops layer types of their own, with their float twins\' features', () => {
    const model = readOnnxModel(qoperatorTestGraph());
    const analysis = analyzeModel(model);
    const byName = new Map(analysis.layers.map((layer) => [layer.name, layerFeatures(layer, analysis, model.graph)]));
    expect(byName.get('/conv/QLinearConv')).toEqual({
      layerType: 'qconv',
      features: { inputSize: 3 * 64, filterStrideSquaredTimesFilters: 9 * 4, macs: 6912, im2colElements: 3 * 9 * 64 }
    });
    expect(byName.get('/conv_integer/ConvInteger')?.layerType).toBe('qconv');
    expect(byName.get('/fc/QLinearMatMul')).toEqual({ layerType: 'qfc', features: { inputNeurons: 256, outputNeurons: 10, inputTimesOutputNeurons: 2560, macs: 2560 } });
    expect(byName.get('/matmul_integer/MatMulInteger')?.features).toEqual({ inputNeurons: 256, outputNeurons: 3, inputTimesOutputNeurons: 768, macs: 768 });
    expect(byName.get('/add/QLinearAdd')).toEqual({ layerType: 'qelementwise', features: { neurons: 256 } });
    expect(byName.get('/input/QuantizeLinear')).toEqual({ layerType: 'quantize', features: { neurons: 192, dynamicNeurons: 0 } });
    expect(byName.get('/dynamic/DynamicQuantizeLinear')).toEqual({ layerType: 'quantize', features: { neurons: 192, dynamicNeurons: 192 } });
  });

  it('describes a QDQ layer by its own node and each quantization step apart', () => {
    const model = readOnnxModel(qdqTestGraph());
    const analysis = analyzeModel(model);
    const conv = analysis.layers[1];
    expect(layerFeatures(conv, analysis, model.graph)).toEqual({
      layerType: 'conv',
      features: { inputSize: 192, filterStrideSquaredTimesFilters: 36, macs: 6912, gemmMacs: 6912, im2colElements: 3 * 9 * 64, outputSize: 256 }
    });
    expect(conv.stepNodes.map((position) => stepFeatures(position, analysis, model.graph))).toEqual([
      { layerType: 'quantize', features: { neurons: 192, dynamicNeurons: 0 } },
      { layerType: 'quantize', features: { neurons: 256, dynamicNeurons: 0 } }
    ]);
  });
});

describe('features of squeeze-and-excitation', () => {
  it('counts a channel-broadcast Mul apart from a same-shape one', () => {
    const b = new GraphBuilder('se');
    const x = b.input('x', 'float32', [1, 16, 8, 8]);
    const gate = b.op('Sigmoid', [b.globalAveragePool(x)]);
    b.output(b.mul(b.mul(x, gate, '/Mul_scale'), x, '/Mul_same'), 'float32', [1, 16, 8, 8]);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const byName = new Map(analysis.layers.map((l) => [l.name, layerFeatures(l, analysis, model.graph)?.features]));
    expect(byName.get('/Mul_scale')).toEqual({ neurons: 1024, broadcastNeurons: 1024, transcendentalNeurons: 0 });
    expect(byName.get('/Mul_same')).toEqual({ neurons: 1024, broadcastNeurons: 0, transcendentalNeurons: 0 });
  });

  it("counts a LayerNorm's Pow written out apart from its Sub, Sqrt and Div", () => {
    const b = new GraphBuilder('ln');
    const x = b.input('x', 'float32', [1, 197, 192]);
    const centred = b.op('Sub', [x, b.op('ReduceMean', [x], { axes: [-1], keepdims: 1 })], {}, '/Sub');
    const squared = b.op('Pow', [centred, b.constantFloat('/two', [], new Float32Array([2]))], {}, '/Pow');
    const std = b.op('Sqrt', [b.op('Add', [b.op('ReduceMean', [squared], { axes: [-1], keepdims: 1 }), b.constantFloat('/eps', [], new Float32Array([1e-5]))], {}, '/Add')], {}, '/Sqrt');
    b.output(b.op('Div', [centred, std], {}, '/Div'), 'float32', null);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    const byName = new Map(analysis.layers.map((l) => [l.name, layerFeatures(l, analysis, model.graph)?.features]));
    const n = 197 * 192;
    expect(byName.get('/Sub')).toEqual({ neurons: n, broadcastNeurons: n, transcendentalNeurons: 0 });
    expect(byName.get('/Pow')).toEqual({ neurons: n, broadcastNeurons: n, transcendentalNeurons: n });
    expect(byName.get('/Sqrt')).toEqual({ neurons: 197, broadcastNeurons: 0, transcendentalNeurons: 0 });
    expect(byName.get('/Div')).toEqual({ neurons: n, broadcastNeurons: n, transcendentalNeurons: 0 });
  });
});

describe('kernelFeatures: what a blocked Conv computes at all', () => {
  const layout = { blockSize: 16, channelAlignment: 4 };
  function kernelOf(inChannels: number, outChannels: number, group = 1, useLayout: typeof layout | null = layout): { plain: LayerFeatures; kernel: LayerFeatures } {
    const b = new GraphBuilder('padded', { weights: 'zeros' });
    const x = b.input('x', 'float32', [1, inChannels, 12, 12]);
    b.output(b.conv(x, { inChannels, outChannels, kernel: 5, group }), 'float32', null);
    const model = readOnnxModel(b.toBytes());
    const analysis = analyzeModel(model);
    return { plain: layerFeatures(analysis.layers[0], analysis, model.graph)!, kernel: kernelFeatures(analysis.layers[0], analysis, model.graph, useLayout)! };
  }

  it("pads LeNet's Conv 20→50 to whole blocks, 32→64: twice its MACs", () => {
    const { plain, kernel } = kernelOf(20, 50);
    expect(kernel.layerType).toBe('conv');
    expect(kernel.features.macs / plain.features.macs).toBeCloseTo((32 * 64) / (20 * 50), 9);
    expect(kernel.features.gemmMacs / plain.features.gemmMacs).toBeCloseTo((32 * 64) / (20 * 50), 9);
    expect(kernel.features.inputSize / plain.features.inputSize).toBeCloseTo(32 / 20, 9);
    expect(kernel.features.outputSize / plain.features.outputSize).toBeCloseTo(64 / 50, 9);
    expect(kernel.features.filterStrideSquaredTimesFilters / plain.features.filterStrideSquaredTimesFilters).toBeCloseTo(64 / 50, 9);
  });

  it('reads fewer input channels than a block as they are, and pads a depthwise Conv once', () => {
    const stem = kernelOf(3, 20);
    expect(stem.kernel.features.macs / stem.plain.features.macs).toBeCloseTo(32 / 20, 9);
    expect(stem.kernel.features.inputSize).toBe(stem.plain.features.inputSize);
    const depthwise = kernelOf(24, 24, 24);
    expect(depthwise.kernel.layerType).toBe('depthwiseConv');
    expect(depthwise.kernel.features.macs / depthwise.plain.features.macs).toBeCloseTo(32 / 24, 9);
  });

  it('leaves whole blocks, plain Convs and a device without a blocked layout alone', () => {
    for (const { plain, kernel } of [kernelOf(32, 64), kernelOf(18, 32), kernelOf(20, 50, 1, null)]) expect(kernel).toEqual(plain);
  });
});
