// The layers onnxruntime's basic transformers remove (eliminated.ts), on small graphs
// written as PyTorch's exporter writes shape arithmetic; main/model/eliminated.test.ts
// checks the same rules against what onnxruntime itself removes.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { eliminatedLayers } from './eliminated.js';
import { flattenGraph, shapeArithmeticGraph as shapeArithmetic } from './test-shape-graphs.js';

function eliminatedNames(bytes: Uint8Array): string[] {
  const model = readOnnxModel(bytes);
  const analysis = analyzeModel(model, { defaultSymbolicDims: true });
  return [...eliminatedLayers(analysis, model)].map((i) => analysis.layers[i].name).sort();
}

describe('layers onnxruntime eliminates above disabled', () => {
  it('merges repeated Shapes and Unsqueezes (equal constants shared), drops a Cast to the same type and a Mul by one, and gives a Reshape its own dimension', () => {
    // The Concat of x's target is its first dimension and -1: the Reshape reads [0, -1] instead.
    expect(eliminatedNames(shapeArithmetic('rows'))).toEqual(['/CastSame', '/Concat', '/GatherB', '/MulOne', '/ShapeB', '/UnsqueezeB']);
  });

  it("turns x.view(x.size(0), -1) into a Reshape to [0, -1]: the arithmetic only it read goes", () => {
    expect(eliminatedNames(flattenGraph('batch'))).toEqual(['/Concat', '/Gather', '/Shape', '/Unsqueeze']);
    expect(eliminatedNames(flattenGraph(2))).toEqual(['/Concat', '/Gather', '/Shape', '/Unsqueeze']);
  });

  it('folds the arithmetic on the Shape of a static tensor, and nothing the symbolic one feeds', () => {
    const folded = eliminatedNames(shapeArithmetic(6));
    expect(folded).toEqual(['/CastSame', '/Concat', '/ConcatTwice', '/GatherA', '/GatherB', '/MulOne', '/MulTwo', '/ShapeA', '/ShapeB', '/UnsqueezeA', '/UnsqueezeB']);
    expect(eliminatedNames(shapeArithmetic('rows'))).not.toContain('/ConcatTwice');
  });

  it('keeps a Mul by ones that broadcasts, a layer whose output the model returns, and different attributes apart', () => {
    const b = new GraphBuilder('kept');
    const x = b.input('x', 'float32', [1, 4]);
    const widened = b.op('Mul', [x, b.constantFloat('/ones', [3, 4], new Float32Array(12).fill(1))], {}, '/MulBroadcast');
    const first = b.op('Softmax', [widened], { axis: 0 }, '/SoftmaxAxis0');
    const second = b.op('Softmax', [widened], { axis: 1 }, '/SoftmaxAxis1');
    b.output(b.op('Identity', [first], {}, '/IdentityOut'), 'float32', [3, 4]);
    b.output(second, 'float32', [3, 4]);
    expect(eliminatedNames(b.toBytes())).toEqual([]);
  });

  it('drops an Identity and a Dropout between layers', () => {
    const b = new GraphBuilder('pass_through');
    const x = b.input('x', 'float32', [1, 4]);
    const relu = b.op('Relu', [b.op('Dropout', [b.op('Identity', [x], {}, '/Identity')], {}, '/Dropout')], {}, '/Relu');
    b.output(relu, 'float32', [1, 4]);
    expect(eliminatedNames(b.toBytes())).toEqual(['/Dropout', '/Identity']);
  });
});
