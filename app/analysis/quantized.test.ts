// Quantized graphs analysed against hand-computed numbers: every QOperator op's shape,
// element type, bytes (uint8 one byte an element), parameters (int8 one byte each) and
// MACs, integer ones apart; the QDQ format's Q/DQ steps folded into the layers they
// quantize or feed, with the 8-bit tensor crossing between layers; malformed quantization
// parameters refused with one line naming the node.
import { describe, expect, it } from 'vitest';
import { readOnnxModel } from '../onnx/reader.js';
import { GraphBuilder } from '../onnx/builder.js';
import { quantParameters } from '../onnx/quant-builder.js';
import { buildPartitionProblem, estimateLatencies } from '../engine.js';
import { crossingTensors } from '../partition/cuts.js';
import { analyzeModel } from './analyze.js';
import { QuantizationError } from './quant-check.js';
import { badQuantizationGraph, qdqTestGraph, qoperatorTestGraph, type BadQuantization } from './test-quantized-graphs.js';
import type { LayerAnalysis, ModelAnalysis } from './types.js';

function layer(analysis: ModelAnalysis, name: string): LayerAnalysis {
  const found = analysis.layers.find((l) => l.name === name);
  if (!found) throw new Error(`no layer ${name}; layers: ${analysis.layers.map((l) => l.name).join(', ')}`);
  return found;
}

describe('the operator format', () => {
  const analysis = analyzeModel(readOnnxModel(qoperatorTestGraph()));

  it('gives every integer op its shape, its real element type and its bytes', () => {
    const expectations: [string, string, number[]][] = [
      ['/input/QuantizeLinear', 'uint8', [1, 3, 8, 8]],
      ['/conv/QLinearConv', 'uint8', [1, 4, 8, 8]],
      ['/add/QLinearAdd', 'uint8', [1, 4, 8, 8]],
      ['/flatten/Flatten', 'uint8', [1, 256]],
      ['/fc/QLinearMatMul', 'uint8', [1, 10]],
      ['/output/DequantizeLinear', 'float32', [1, 10]],
      ['/conv_integer/ConvInteger', 'int32', [1, 2, 8, 8]],
      ['/matmul_integer/MatMulInteger', 'int32', [1, 3]]
    ];
    for (const [name, type, shape] of expectations) {
      const output = layer(analysis, name).outputs[0];
      expect([name, output.elementType, output.shape]).toEqual([name, type, shape]);
      expect(output.source).not.toBe('unknown');
      expect(output.bytes).toBe(shape.reduce((a, b) => a * b, 1) * (type === 'uint8' ? 1 : 4));
    }
    const dynamic = layer(analysis, '/dynamic/DynamicQuantizeLinear').outputs;
    expect(dynamic.map((o) => [o.elementType, o.shape])).toEqual([
      ['uint8', [1, 3, 8, 8]],
      ['float32', []],
      ['uint8', []]
    ]);
    expect(analysis.layers.every((l) => l.flags.length === 0)).toBe(true);
  });

  it('counts int8 weights one byte each, and scales and zero points as the parameters they are', () => {
    const conv = layer(analysis, '/conv/QLinearConv');
    // int8 weight 108, per-channel scales 4 (float32) and zero points 4 (int8), bias 4 (int32),
    // x and y scale/zero point 1 + 1 each.
    expect(conv.params).toBe(108 + 4 + 4 + 4 + 4);
    expect(conv.paramBytes).toBe(108 + 16 + 4 + 16 + (4 + 1) * 2);
    const fc = layer(analysis, '/fc/QLinearMatMul');
    expect(fc.params).toBe(2560 + 6);
    expect(fc.paramBytes).toBe(2560 + (4 + 1) * 3);
  });

  it('reports integer MACs apart from float ones', () => {
    const macs = (name: string) => [layer(analysis, name).macs, layer(analysis, name).intMacs];
    expect(macs('/conv/QLinearConv')).toEqual([4 * 64 * 27, 4 * 64 * 27]);
    expect(macs('/add/QLinearAdd')).toEqual([256, 256]);
    expect(macs('/fc/QLinearMatMul')).toEqual([2560, 2560]);
    expect(macs('/conv_integer/ConvInteger')).toEqual([2 * 64 * 3, 2 * 64 * 3]);
    expect(macs('/matmul_integer/MatMulInteger')).toEqual([768, 768]);
    expect(macs('/input/QuantizeLinear')).toEqual([192, 0]);
    expect(macs('/output/DequantizeLinear')).toEqual([10, 0]);
    expect(macs('/dynamic/DynamicQuantizeLinear')).toEqual([192, 0]);
    expect(macs('/flatten/Flatten')).toEqual([0, 0]);
    const integer = 6912 + 256 + 2560 + 384 + 768;
    expect(analysis.totals.intMacs).toBe(integer);
    expect(analysis.totals.macs).toBe(integer + 192 + 10 + 192);
  });
});

describe('the QDQ format', () => {
  const model = readOnnxModel(qdqTestGraph());
  const analysis = analyzeModel(model);

  it('makes each activation Q → DQ pair steps of the layers it quantizes and feeds', () => {
    expect(analysis.layers.map((l) => [l.name, l.stepNodes.map((p) => model.graph.nodes[p].name)])).toEqual([
      ['/input/QuantizeLinear', []],
      ['/conv/Conv', ['/conv/input/DequantizeLinear', '/conv/output/QuantizeLinear']],
      ['/pool/MaxPool', ['/pool/input/DequantizeLinear', '/pool/output/QuantizeLinear']],
      ['/output/DequantizeLinear', []]
    ]);
    // The weight's and bias's DequantizeLinear are weights (weights.ts), folded into the conv.
    const conv = layer(analysis, '/conv/Conv');
    expect(conv.foldedNodes.map((p) => model.graph.nodes[p].name)).toEqual(['/conv/weight/DequantizeLinear', '/conv/bias/DequantizeLinear']);
    expect(analysis.weightNodes.map((w) => w.name)).toEqual(['/conv/weight/DequantizeLinear', '/conv/bias/DequantizeLinear']);
  });

  it('gives a layer the 8-bit tensor its Q writes, not the float one inside it, and reads the 8-bit one before it', () => {
    const conv = layer(analysis, '/conv/Conv');
    expect(conv.outputs.map((o) => [o.elementType, o.shape, o.bytes])).toEqual([['uint8', [1, 4, 8, 8], 256]]);
    expect(conv.outputBytes).toBe(256);
    expect(conv.inputs[0]).toBe(layer(analysis, '/input/QuantizeLinear').outputs[0].name);
    // Weight and bias with their per-channel scales and zero points, and the scale and zero
    // point of its input DQ step and of its output Q step.
    expect(conv.params).toBe(108 + 4 * 5 + 2 + 2);
  });

  it('counts a Conv between DequantizeLinear of 8-bit values as integer MACs, the Q/DQ steps as float ones', () => {
    const conv = layer(analysis, '/conv/Conv');
    expect(conv.nodeMacs).toBe(6912);
    expect(conv.intMacs).toBe(6912);
    expect(conv.macs).toBe(6912 + 192 + 256);
    expect(layer(analysis, '/pool/MaxPool').intMacs).toBe(0);
  });

  it('cuts between Q and DQ, so the uint8 tensor crosses: a quarter of the float bytes', () => {
    const problem = buildPartitionProblem(analysis, estimateLatencies(analysis));
    expect(problem.nodes).toHaveLength(4);
    const bytesAt = (cut: number) => crossingTensors(problem, cut).uploaded.map((name) => [analysis.tensors.get(name)?.elementType, analysis.tensors.get(name)?.bytes]);
    expect(bytesAt(0)).toEqual([['float32', 768]]);
    expect(bytesAt(1)).toEqual([['uint8', 192]]);
    expect(bytesAt(2)).toEqual([['uint8', 256]]);
    expect(bytesAt(3)).toEqual([['uint8', 64]]);
  });

  it('keeps a DequantizeLinear read by two layers a layer of its own', () => {
    const b = new GraphBuilder('shared-dq', { opset: 17 });
    const x = b.input('x', 'float32', [1, 8]);
    const [s, z] = quantParameters(b, 'x', 0.1, 128);
    const dq = b.op('DequantizeLinear', [b.op('QuantizeLinear', [x, s, z], {}, '/q'), s, z], {}, '/dq');
    b.output(b.op('Add', [b.relu(dq, '/relu'), b.op('Sigmoid', [dq], {}, '/sigmoid')], {}, '/add'), 'float32', [1, 8]);
    const shared = analyzeModel(readOnnxModel(b.toBytes()));
    expect(shared.layers.map((l) => [l.name, l.stepNodes.length])).toEqual([
      ['/q', 0],
      ['/dq', 0],
      ['/relu', 0],
      ['/sigmoid', 0],
      ['/add', 0]
    ]);
  });
});

describe('malformed quantization', () => {
  const cases: [BadQuantization, RegExp][] = [
    ['missing-scale', /^node "\/bad\/missing-scale" \(QLinearConv\): has no x_scale$/],
    ['non-scalar-scale', /^node "\/bad\/non-scalar-scale" \(QLinearConv\): x_scale must be a scalar \(per-tensor\), got shape \[3\]$/],
    ['zero-point-type', /^node "\/bad\/zero-point-type" \(QLinearConv\): x_zero_point is int8 but x is uint8; a zero point has its tensor's type$/],
    ['per-axis-length', /^node "\/bad\/per-axis-length" \(QLinearConv\): unsupported per-axis layout: w_scale has 3 values but w has 4 along axis 0$/],
    ['blocked', /^node "\/bad\/blocked" \(QuantizeLinear\): unsupported per-axis layout: blocked quantization \(block_size 4\)$/],
    ['scale-rank', /^node "\/bad\/scale-rank" \(QuantizeLinear\): unsupported per-axis layout: y_scale has shape \[2,2\] \(a per-axis scale is 1-D\)$/]
  ];
  for (const [kind, message] of cases) {
    it(`refuses ${kind} with one line naming the node`, () => {
      const model = readOnnxModel(badQuantizationGraph(kind));
      expect(() => analyzeModel(model)).toThrow(QuantizationError);
      expect(() => analyzeModel(model)).toThrow(message);
    });
  }
});
