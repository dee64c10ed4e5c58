// The MAC table and the inference rules cover the same ops, and the conventions hold
// for the ops that decide model totals.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { analyzeModel } from './analyze.js';
import { integerOpCosts, microsoftIntegerOpCosts, opCosts } from './op-costs.js';
import { inferenceRules, microsoftInferenceRules } from './rules.js';

describe('opCosts', () => {
  it('has a MAC convention for every op that shape inference knows, and no others, in each domain', () => {
    const defaultDomain = { ...opCosts, ...integerOpCosts };
    expect([...inferenceRules.keys()].filter((op) => !Object.hasOwn(defaultDomain, op))).toEqual([]);
    expect(Object.keys(defaultDomain).filter((op) => !inferenceRules.has(op))).toEqual([]);
    expect(Object.keys(integerOpCosts).filter((op) => Object.hasOwn(opCosts, op))).toEqual([]);
    expect([...microsoftInferenceRules.keys()].sort()).toEqual(Object.keys(microsoftIntegerOpCosts).sort());
  });

  it('does not mistake Object.prototype names for ops', () => {
    const b = new GraphBuilder('proto-names', { weights: 'zeros' });
    const x = b.input('x', 'float32', [2]);
    b.op('constructor', [x], {}, '/constructor');
    b.op('toString', [x], {}, '/toString');
    const analysis = analyzeModel(readOnnxModel(b.toBytes()));
    for (const layer of analysis.layers) {
      expect(layer.flags).toContain('unknown-op');
      expect(layer.macs).toBeNull();
    }
  });

  it('counts element-wise arithmetic once per element, Softmax thrice, compare/select and data movement zero', () => {
    const b = new GraphBuilder('costs', { weights: 'zeros' });
    const x = b.input('x', 'float32', [2, 3, 4]);
    b.op('Sigmoid', [x], {}, '/sigmoid');
    b.op('Mul', [x, b.input('y', 'float32', [4])], {}, '/mul');
    b.op('Softmax', [x], { axis: -1 }, '/softmax');
    b.op('LogSoftmax', [x], { axis: -1 }, '/logsoftmax');
    b.op('Max', [x, x], {}, '/max');
    b.op('Where', [b.input('c', 'bool', [4]), x, x], {}, '/where');
    b.op('Transpose', [x], {}, '/transpose');
    b.op('ReduceSum', [x, b.constantInt64('axes', [1], [1])], { keepdims: 0 }, '/reducesum');
    b.op('ReduceMax', [x], { axes: [1] }, '/reducemax');
    b.op('Einsum', [x, b.input('z', 'float32', [4, 5])], { equation: 'bij,jk->bik' }, '/einsum');
    const analysis = analyzeModel(readOnnxModel(b.toBytes()));
    const macs = Object.fromEntries(analysis.layers.map((l) => [l.name, l.macs]));
    expect(macs).toEqual({
      '/sigmoid': 24,
      '/mul': 24,
      '/softmax': 72,
      '/logsoftmax': 72,
      '/max': 0,
      '/where': 0,
      '/transpose': 0,
      '/reducesum': 24,
      '/reducemax': 0,
      '/einsum': 2 * 3 * 4 * 5
    });
    expect(analysis.tensors.get('/transpose_output_0')?.shape).toEqual([4, 3, 2]);
    expect(analysis.tensors.get('/reducesum_output_0')?.shape).toEqual([2, 4]);
    expect(analysis.tensors.get('/reducemax_output_0')?.shape).toEqual([2, 1, 4]);
    expect(analysis.tensors.get('/einsum_output_0')?.shape).toEqual([2, 3, 5]);
  });
});
