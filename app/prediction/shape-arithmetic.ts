// Shape arithmetic: the kernels PyTorch's exporter writes to compute shapes at run time
// (Shape → Gather → Unsqueeze → Concat → Reshape, with Mul, Div and Cast on the way), each on
// a few integers. The sweep has no such layers: its smallest copies and element-wise layers
// move hundreds of floats, and their fits charge a Gather or Concat of three int64 values
// 0.65 µs where one costs 0.26 µs inside a network here. So a characterisation times these
// kernels as they run in a network — a generated chain of SHAPE_PROBE_OPS blocks against the
// same network without them (calibrateShapeArithmetic, main/profiling/characterize.ts) — and
// predict.ts gives each layer that `isShapeArithmetic` the device's `shapeArithmeticMsPerKernel`.
import type { LayerAnalysis, ModelAnalysis } from '../analysis/types.js';
import type { ElementTypeName } from '../onnx/element-type.js';
import { GraphBuilder } from '../onnx/builder.js';
import { staticElementCount } from '../analysis/shape-math.js';

/** Ops that compute shape arithmetic when they work on a few integers. */
const SHAPE_ARITHMETIC_OPS = new Set([
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'Concat',
  'Slice',
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Mod',
  'Neg',
  'Max',
  'Min',
  'Cast',
  'Reshape',
  'Equal',
  'Less',
  'Greater',
  'Where',
  'Not',
  'And',
  'Or',
  'Range',
  'ReduceProd',
  'ConstantOfShape',
  'Expand'
]);
/** Ops that read only their input's shape: shape arithmetic whatever they read. */
const SHAPE_READING_OPS = new Set(['Shape', 'Size']);
/** At most this many elements in each of a layer's tensors for it to count as shape arithmetic. */
const SHAPE_ARITHMETIC_MAX_ELEMENTS = 16;
const INTEGER_TYPES = new Set<ElementTypeName>(['int64', 'int32', 'int16', 'int8', 'uint64', 'uint32', 'uint16', 'uint8', 'bool']);

/** True when `layer` is a kernel of shape arithmetic: a Shape or Size, or an op of SHAPE_ARITHMETIC_OPS making a few integers. */
export function isShapeArithmetic(layer: LayerAnalysis, analysis: ModelAnalysis): boolean {
  if (layer.domain !== '' || layer.stepNodes.length > 0) return false;
  if (SHAPE_READING_OPS.has(layer.opType)) return true;
  if (!SHAPE_ARITHMETIC_OPS.has(layer.opType)) return false;
  const inputs = layer.inputs.filter((name) => name !== '').map((name) => analysis.tensors.get(name));
  const tensors = [...inputs, ...layer.outputs];
  if (tensors.some((t) => !t || !t.shape)) return false;
  const small = tensors.every((t) => {
    const count = staticElementCount(t?.shape ?? null);
    return count !== null && count <= SHAPE_ARITHMETIC_MAX_ELEMENTS;
  });
  const integer = (t: (typeof tensors)[number]): boolean => t !== undefined && INTEGER_TYPES.has(t.elementType);
  // Integers out (a Cast may turn them into a float scale): a Reshape of a few floats moves data, not shapes.
  return small && (layer.outputs.every(integer) || (layer.opType === 'Cast' && inputs.every(integer)));
}

/** Kernels in one block of the probe network. */
export const SHAPE_PROBE_OPS = ['Gather', 'Mul', 'Div', 'Add', 'Sub', 'Unsqueeze', 'Concat', 'Slice', 'Max'] as const;
/** Width of the probe's float input, whose first dimension is symbolic (so no shape can be folded). */
export const SHAPE_PROBE_WIDTH = 16;

/**
 * The probe network: `blocks` blocks of shape arithmetic on the Shape of its input, each
 * reading the one before, and a Reshape of the input to the shape they end with. Each block
 * holds its own constants, so no two blocks compute the same thing.
 */
export function shapeArithmeticProbe(blocks: number): Uint8Array {
  const b = new GraphBuilder('shape_arithmetic_probe');
  const x = b.input('x', 'float32', ['rows', SHAPE_PROBE_WIDTH]);
  let shape = b.op('Shape', [x]);
  for (let i = 0; i < blocks; i++) {
    const rows = b.op('Gather', [shape, b.constantInt64(`/block${i}/index`, [], [0])], { axis: 0 });
    const scaled = b.op('Mul', [rows, b.constantInt64(`/block${i}/factor`, [], [i + 2])]);
    const back = b.op('Div', [scaled, b.constantInt64(`/block${i}/divisor`, [], [i + 2])]);
    const same = b.op('Add', [back, b.constantInt64(`/block${i}/offset`, [], [i + 1])]);
    const row = b.op('Unsqueeze', [b.op('Sub', [same, b.constantInt64(`/block${i}/offset_back`, [], [i + 1])]), b.constantInt64(`/block${i}/axes`, [1], [0])]);
    const joined = b.op('Concat', [row, b.constantInt64(`/block${i}/width`, [1], [SHAPE_PROBE_WIDTH]), b.constantInt64(`/block${i}/pad`, [1], [i])], { axis: 0 });
    const sliced = b.op('Slice', [joined, b.constantInt64(`/block${i}/starts`, [1], [0]), b.constantInt64(`/block${i}/ends`, [1], [2])]);
    shape = b.op('Max', [sliced, b.constantInt64(`/block${i}/floor`, [2], [1, 1])]);
  }
  b.output(b.op('Reshape', [x, shape]), 'float32', ['rows', SHAPE_PROBE_WIDTH]);
  return b.toBytes();
}

/** Kernels of shape arithmetic in a probe of `blocks` blocks beyond those of the probe without any. */
export function shapeProbeKernels(blocks: number): number {
  return blocks * SHAPE_PROBE_OPS.length;
}
