// A graph for tests of what onnxruntime eliminates (eliminated.test.ts here, and
// main/model/eliminated.test.ts against onnxruntime itself): one block of the shape
// arithmetic PyTorch's exporter writes, with every case the rules tell apart.
import { GraphBuilder } from '../onnx/builder.js';

/**
 * x[rows, 8] and y[rows, 2] (`rows` symbolic when a string): two Shapes of x, a Gather from
 * each, two Unsqueezes along axes written as two constants of one value, a Cast to the type
 * it has and a Mul by one (x is reshaped to [that, -1]), and a Mul by two (y to [that, -1]).
 */
export function shapeArithmeticGraph(rows: number | string): Uint8Array {
  const b = new GraphBuilder('shape_arithmetic');
  const x = b.input('x', 'float32', [rows, 8]);
  const y = b.input('y', 'float32', [rows, 2]);
  const shapeA = b.op('Shape', [x], {}, '/ShapeA');
  const shapeB = b.op('Shape', [x], {}, '/ShapeB');
  const rowsA = b.op('Gather', [shapeA, b.constantInt64('/i0', [], [0])], { axis: 0 }, '/GatherA');
  const rowsB = b.op('Gather', [shapeB, b.constantInt64('/i1', [], [0])], { axis: 0 }, '/GatherB');
  // Two Unsqueezes of the same value along axes written as two constants of one value.
  const unsqueezedA = b.op('Unsqueeze', [rowsA, b.constantInt64('/axesA', [1], [0])], {}, '/UnsqueezeA');
  const unsqueezedB = b.op('Unsqueeze', [rowsB, b.constantInt64('/axesB', [1], [0])], {}, '/UnsqueezeB');
  const same = b.op('Cast', [unsqueezedA], { to: 7 }, '/CastSame');
  const once = b.op('Mul', [same, b.constantInt64('/one', [1], [1])], {}, '/MulOne');
  const twice = b.op('Mul', [unsqueezedB, b.constantInt64('/two', [1], [2])], {}, '/MulTwo');
  const target = b.op('Concat', [once, b.constantInt64('/minus1', [1], [-1])], { axis: 0 }, '/Concat');
  const doubled = b.op('Concat', [twice, b.constantInt64('/minus1b', [1], [-1])], { axis: 0 }, '/ConcatTwice');
  b.output(b.op('Reshape', [x, target], {}, '/Reshape'), 'float32', null);
  b.output(b.op('Reshape', [y, doubled], {}, '/ReshapeY'), 'float32', null);
  return b.toBytes();
}

/** x[batch, 4, 2, 2] flattened as PyTorch exports `x.view(x.size(0), -1)`: Shape → Gather → Unsqueeze → Concat with -1 → Reshape. */
export function flattenGraph(batch: number | string): Uint8Array {
  const b = new GraphBuilder('flatten_view');
  const x = b.input('x', 'float32', [batch, 4, 2, 2]);
  const rows = b.op('Gather', [b.op('Shape', [x], {}, '/Shape'), b.constantInt64('/zero', [], [0])], { axis: 0 }, '/Gather');
  const target = b.op('Concat', [b.op('Unsqueeze', [rows, b.constantInt64('/axes', [1], [0])], {}, '/Unsqueeze'), b.constantInt64('/rest', [1], [-1])], { axis: 0 }, '/Concat');
  b.output(b.op('Relu', [b.op('Reshape', [x, target], {}, '/Reshape')], {}, '/Relu'), 'float32', null);
  return b.toBytes();
}
