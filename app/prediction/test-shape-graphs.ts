// Graphs for tests of what onnxruntime eliminates and merges (eliminated.test.ts and
// fusion.test.ts here; main/model/eliminated.test.ts and main/profiling/fusion-probe.test.ts
// against onnxruntime itself): one block of the shape arithmetic PyTorch's exporter writes,
// with every case the rules tell apart, and the Slices and Gathers of one tensor that
// become a Split or not.
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

/** One reader of the tensor a split graph splits: a Slice [start, end) with its step, or a Gather of one index. */
export type SplitPart = { slice: [number, number]; step?: number } | { gather: number };

/**
 * x[shape] → Relu → y, and each part read from y along `axis` (each part a graph output).
 * With `boundsFromShape`, a two-Slice split's bounds are computed as PyTorch writes them,
 * from y's Shape (half of the axis, Div then Mul), instead of given as constants.
 */
export function splitGraph(shape: (number | string)[], axis: number, parts: SplitPart[], boundsFromShape = false): Uint8Array {
  const b = new GraphBuilder('split');
  const y = b.relu(b.input('x', 'float32', shape), '/Relu');
  const axes = b.constantInt64('/axes', [1], [axis]);
  if (boundsFromShape) {
    const size = b.op('Gather', [b.op('Shape', [y], {}, '/Shape'), b.constantInt64('/at', [1], [axis])], { axis: 0 }, '/GatherSize');
    const half = b.op('Div', [size, b.constantInt64('/two', [1], [2])], {}, '/Half');
    const whole = b.op('Mul', [half, b.constantInt64('/twice', [1], [2])], {}, '/Whole');
    b.output(b.op('Slice', [y, b.constantInt64('/zero', [1], [0]), half, axes], {}, '/SliceA'), 'float32', null);
    b.output(b.op('Slice', [y, half, whole, axes], {}, '/SliceB'), 'float32', null);
    return b.toBytes();
  }
  parts.forEach((part, k) => {
    const out =
      'gather' in part
        ? b.op('Gather', [y, b.constantInt64(`/index${k}`, [], [part.gather])], { axis }, `/Gather${k}`)
        : b.op(
            'Slice',
            [y, b.constantInt64(`/start${k}`, [1], [part.slice[0]]), b.constantInt64(`/end${k}`, [1], [part.slice[1]]), axes, ...(part.step !== undefined ? [b.constantInt64(`/step${k}`, [1], [part.step])] : [])],
            {},
            `/Slice${k}`
          );
    b.output(out, 'float32', null);
  });
  return b.toBytes();
}
