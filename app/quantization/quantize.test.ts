// The quantizer's output structure on a small float net with every pattern it handles
// (Conv → Relu, a residual Add, Concat, MaxPool, Flatten, Gemm, Softmax), with ranges given
// by hand: what the QDQ and QOperator formats must contain, that the weights are int8 and
// the biases int32, that analysis then counts the convs' and the FC's MACs as integer ones,
// and what stays float. Real runs of quantized models: main/split/quantized-models.test.ts.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { GraphBuilder } from '../onnx/builder.js';
import type { OnnxModel } from '../onnx/model.js';
import { readOnnxModel } from '../onnx/reader.js';
import { encodeModel } from '../onnx/writer.js';
import type { TensorRange } from './parameters.js';
import { quantizeModel, QuantizeError, type QuantizationFormat } from './quantize.js';

function floatNet(opset = 17): OnnxModel {
  const b = new GraphBuilder('small', { opset, seed: 3 });
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  const c1 = b.relu(b.conv(x, { inChannels: 3, outChannels: 4, kernel: 3, pad: 1, name: '/conv1' }), '/relu1');
  const c2 = b.conv(c1, { inChannels: 4, outChannels: 4, kernel: 1, name: '/conv2' });
  const sum = b.add(c1, c2, '/add');
  const joined = b.concat([sum, c1], 1, '/concat');
  const pooled = b.maxPool(joined, { kernel: 2, stride: 2, name: '/pool' });
  const flat = b.flatten(pooled, 1, '/flatten');
  const logits = b.linear(flat, 8 * 16, 5, '/fc');
  b.output(b.softmax(logits, 1, '/softmax'), 'float32', [1, 5]);
  return readOnnxModel(b.toBytes());
}

/** [-1, 1] for every float activation, [0, 1] for ReLU outputs. */
function handRanges(model: OnnxModel): Map<string, TensorRange> {
  const ranges = new Map<string, TensorRange>([['x', { min: -1, max: 1 }]]);
  for (const node of model.graph.nodes) for (const output of node.outputs) ranges.set(output, node.opType === 'Relu' ? { min: 0, max: 1 } : { min: -1, max: 1 });
  return ranges;
}

function quantized(format: QuantizationFormat) {
  const model = floatNet();
  const result = quantizeModel(model, { format, ranges: handRanges(model) });
  return { result, model: readOnnxModel(encodeModel(result.proto)) };
}

describe('quantizeModel, QDQ format', () => {
  const { result, model } = quantized('qdq');
  const producer = new Map(model.graph.nodes.flatMap((node) => node.outputs.map((o) => [o, node] as const)));

  it('keeps the float ops, folds the ReLU, and feeds each quantized op through DequantizeLinear', () => {
    expect(result.quantizedNodes).toEqual(['/conv1', '/conv2', '/add', '/fc']);
    expect(result.foldedActivations).toEqual(['/relu1']);
    expect(result.ops).toMatchObject({ Conv: 2, Add: 1, Concat: 1, MaxPool: 1, Flatten: 1, Gemm: 1, Softmax: 1 });
    expect(result.ops.Relu).toBeUndefined();
    for (const node of model.graph.nodes.filter((n) => ['Conv', 'Gemm', 'Add'].includes(n.opType))) {
      const inputs = node.inputs.filter((name) => name !== '');
      for (const name of inputs) expect([node.name, name, producer.get(name)?.opType]).toEqual([node.name, name, 'DequantizeLinear']);
    }
  });

  it('stores weights as int8 and biases as int32, per output channel for convs', () => {
    const conv = model.graph.nodes.find((n) => n.opType === 'Conv')!;
    const weightDq = producer.get(conv.inputs[1])!;
    const biasDq = producer.get(conv.inputs[2])!;
    expect(model.graph.initializers.get(weightDq.inputs[0])).toMatchObject({ elementType: 'int8', dims: [4, 3, 3, 3] });
    expect(model.graph.initializers.get(weightDq.inputs[1])).toMatchObject({ elementType: 'float32', dims: [4] });
    expect(model.graph.initializers.get(biasDq.inputs[0])).toMatchObject({ elementType: 'int32', dims: [4] });
    expect([...model.graph.initializers.values()].filter((t) => t.elementType === 'float32' && t.elementCount > 8)).toEqual([]);
  });

  it('gives each reader of a quantized activation its own DequantizeLinear', () => {
    const readers = new Map<string, number>();
    for (const node of model.graph.nodes) for (const name of node.inputs) readers.set(name, (readers.get(name) ?? 0) + 1);
    for (const node of model.graph.nodes.filter((n) => n.opType === 'DequantizeLinear')) expect(readers.get(node.outputs[0])).toBe(1);
  });

  it('is analysed with the convs, the Add and the FC as integer MACs', () => {
    const analysis = analyzeModel(model);
    const integer = analysis.layers.filter((l) => (l.intMacs ?? 0) > 0).map((l) => l.opType);
    expect(integer).toEqual(['Conv', 'Conv', 'Add', 'Gemm']);
    expect(analysis.totals.intMacs).toBe(4 * 64 * 27 + 4 * 64 * 4 + 256 + 128 * 5);
  });
});

describe('quantizeModel, QOperator format', () => {
  const { result, model } = quantized('qoperator');

  it('writes integer ops, uint8 MaxPool and Flatten, and the FC as MatMulInteger on the uint8 input', () => {
    expect(result.ops).toMatchObject({ QuantizeLinear: 1, QLinearConv: 2, QLinearAdd: 1, QLinearConcat: 1, MaxPool: 1, Flatten: 1, MatMulInteger: 1, Cast: 1, Softmax: 1 });
    expect(result.ops.DynamicQuantizeLinear).toBeUndefined();
    expect(result.ops.Relu).toBeUndefined();
    expect(model.opsetImports).toContainEqual({ domain: 'com.microsoft', version: 1 });
    const analysis = analyzeModel(model);
    const pool = analysis.layers.find((l) => l.opType === 'MaxPool')!;
    expect(pool.outputs[0].elementType).toBe('uint8');
    expect(analysis.outputs[0]).toMatchObject({ name: '/softmax_output_0', elementType: 'float32', shape: [1, 5] });
  });

  it('quantizes an FC whose input is float on the fly (DynamicQuantizeLinear)', () => {
    const b = new GraphBuilder('fc', { opset: 17 });
    const x = b.input('x', 'float32', [1, 16]);
    b.output(b.linear(b.op('Sigmoid', [x], {}, '/sigmoid'), 16, 4, '/fc'), 'float32', [1, 4]);
    const source = readOnnxModel(b.toBytes());
    const dynamic = quantizeModel(source, { format: 'qoperator', ranges: handRanges(source) });
    expect(dynamic.ops).toMatchObject({ Sigmoid: 1, DynamicQuantizeLinear: 1, MatMulInteger: 1, Cast: 1, Mul: 2, Add: 1 });
  });
});

describe('quantizeModel on what it cannot quantize', () => {
  it('leaves an op float when its weight is no initializer or a range is missing', () => {
    const b = new GraphBuilder('float-weight', { opset: 17 });
    const x = b.input('x', 'float32', [1, 2, 4, 4]);
    const w = b.input('w', 'float32', [2, 2, 1, 1]);
    b.output(b.op('Conv', [x, w], { kernel_shape: [1, 1] }, '/conv'), 'float32', [1, 2, 4, 4]);
    const model = readOnnxModel(b.toBytes());
    for (const format of ['qdq', 'qoperator'] as const) {
      const result = quantizeModel(model, { format, ranges: handRanges(model) });
      expect(result.quantizedNodes).toEqual([]);
      expect(result.ops).toEqual({ Conv: 1 });
    }
  });

  it('refuses a model older than opset 13 in one line', () => {
    const model = floatNet(12);
    expect(() => quantizeModel(model, { format: 'qdq', ranges: handRanges(model) })).toThrow(QuantizeError);
    expect(() => quantizeModel(model, { format: 'qdq', ranges: handRanges(model) })).toThrow("the model's opset is 12; quantizing needs opset 13 or later");
  });
});
