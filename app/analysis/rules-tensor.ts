// Shape inference for data-movement and shape ops (Reshape, Slice, Gather, Concat,
// Resize, reductions...). Where the result is a small integer tensor the rules also
// compute its values, so shape subgraphs (Shape → Gather → Unsqueeze → Concat →
// Reshape) resolve statically, even with a symbolic batch dim.
import type { Dim } from '../onnx/model.js';
import { tensorValues } from '../onnx/reader.js';
import { constantValueLimit, type InferenceRule, type InferredTensor, type NodeContext } from './context.js';
import { broadcastValues } from './rules-elementwise.js';
import {
  addDims,
  broadcastShapes,
  dimOfProduct,
  dimProduct,
  divideProducts,
  fail,
  isStatic,
  mergeDims,
  multiplyDim,
  normalizeAxes,
  normalizeAxis,
  productOf,
  sliceLength
} from './shape-math.js';

const unknownDims = (rank: number): Dim[] => new Array<Dim>(rank).fill(null);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Rank of a 1-D shape tensor given as input i, or null. */
function lengthOfVector(ctx: NodeContext, i: number): number | null {
  const shape = ctx.shape(i);
  return shape && shape.length === 1 && typeof shape[0] === 'number' ? shape[0] : null;
}

const constant: InferenceRule = (ctx) => {
  const tensor = ctx.tensor('value');
  if (tensor) return [{ elementType: tensor.elementType, shape: [...tensor.dims], values: tensorValues(tensor, constantValueLimit) }];
  if (ctx.hasAttribute('value_float')) return [{ elementType: 'float32', shape: [], values: [ctx.float('value_float', 0)] }];
  const floats = ctx.floats('value_floats');
  if (floats) return [{ elementType: 'float32', shape: [floats.length], values: floats }];
  if (ctx.hasAttribute('value_int')) return [{ elementType: 'int64', shape: [], values: [ctx.int('value_int', 0)] }];
  const ints = ctx.ints('value_ints');
  if (ints) return [{ elementType: 'int64', shape: [ints.length], values: ints }];
  if (ctx.hasAttribute('value_string')) return [{ elementType: 'string', shape: [] }];
  const strings = ctx.node.attributes.get('value_strings');
  if (strings?.kind === 'strings') return [{ elementType: 'string', shape: [strings.value.length] }];
  fail('Constant without a value');
};

function clampIndex(index: number, size: number): number {
  return Math.min(Math.max(index < 0 ? index + size : index, 0), size);
}

const shapeOp: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const start = clampIndex(ctx.int('start', 0), x.length);
  const end = clampIndex(ctx.int('end', x.length), x.length);
  const dims = x.slice(start, Math.max(start, end));
  return [{ elementType: 'int64', shape: [dims.length], values: dims }];
};

const size: InferenceRule = (ctx) => [{ elementType: 'int64', shape: [], values: [dimProduct(ctx.requireShape(0))] }];

const gather: InferenceRule = (ctx) => {
  const data = ctx.requireShape(0);
  const indices = ctx.requireShape(1);
  const axis = normalizeAxis(ctx.int('axis', 0), data.length);
  const shape = [...data.slice(0, axis), ...indices, ...data.slice(axis + 1)];
  const dataValues = ctx.values(0);
  const indexValues = ctx.numbers(1);
  let values: Dim[] | null = null;
  if (data.length === 1 && dataValues && indexValues) {
    values = indexValues.map((i) => {
      const at = i < 0 ? i + dataValues.length : i;
      if (at < 0 || at >= dataValues.length) fail(`Gather index ${i} out of range`);
      return dataValues[at];
    });
  }
  return [{ elementType: null, shape, values }];
};

const gatherND: InferenceRule = (ctx) => {
  const data = ctx.requireShape(0);
  const indices = ctx.requireShape(1);
  const batchDims = ctx.int('batch_dims', 0);
  const last = indices[indices.length - 1];
  if (typeof last !== 'number') fail('GatherND index depth unknown');
  if (batchDims + last > data.length) fail('GatherND indices too deep');
  return [{ elementType: null, shape: [...indices.slice(0, -1), ...data.slice(batchDims + last)] }];
};

/** Axes of Squeeze/Unsqueeze/Reduce: null when given but unknown, undefined when not given (or empty). */
function givenAxes(ctx: NodeContext): number[] | null | undefined {
  const axes = ctx.axes(1);
  return axes && axes.length === 0 ? undefined : axes;
}

const unsqueeze: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const axes = givenAxes(ctx);
  if (!axes) fail('Unsqueeze axes unknown');
  const rank = x.length + axes.length;
  const inserted = new Set(normalizeAxes(axes, rank));
  let next = 0;
  const shape = range(rank).map((axis) => (inserted.has(axis) ? 1 : x[next++]));
  return [{ elementType: null, shape, values: ctx.values(0) }];
};

const squeeze: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const axes = givenAxes(ctx);
  if (axes === null) fail('Squeeze axes unknown');
  let removed: Set<number>;
  if (axes === undefined) {
    if (!isStatic(x)) fail('Squeeze without axes on a shape with unknown dims');
    removed = new Set(range(x.length).filter((axis) => x[axis] === 1));
  } else {
    removed = new Set(normalizeAxes(axes, x.length));
    for (const axis of removed) if (typeof x[axis] === 'number' && x[axis] !== 1) fail(`cannot squeeze dim ${x[axis]}`);
  }
  return [{ elementType: null, shape: x.filter((_, axis) => !removed.has(axis)), values: ctx.values(0) }];
};

export const concat: InferenceRule = (ctx) => {
  const inputs = ctx.node.inputs.map((_, i) => i).filter((i) => ctx.has(i));
  if (inputs.length === 0) fail('Concat of nothing');
  const shapes = inputs.map((i) => ctx.requireShape(i));
  const rank = shapes[0].length;
  if (shapes.some((s) => s.length !== rank)) fail('Concat inputs differ in rank');
  const axis = normalizeAxis(ctx.int('axis', 0), rank);
  const shape = range(rank).map((d) =>
    d === axis ? shapes.map((s) => s[d]).reduce(addDims) : shapes.map((s) => s[d]).reduce(mergeDims)
  );
  let values: Dim[] | null = null;
  if (rank === 1) {
    const parts = inputs.map((i) => ctx.values(i));
    if (parts.every((p) => p !== null)) values = parts.flat() as Dim[];
  }
  return [{ elementType: ctx.type(inputs[0]), shape, values }];
};

interface SliceSpec {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

function sliceSpec(ctx: NodeContext, rank: number): SliceSpec | null | 'axes-unknown' {
  if (ctx.hasAttribute('starts')) {
    const starts = ctx.ints('starts') ?? [];
    return { starts, ends: ctx.ints('ends') ?? fail('Slice without ends'), axes: ctx.ints('axes') ?? range(starts.length), steps: starts.map(() => 1) };
  }
  const axes = ctx.has(3) ? ctx.numbers(3) : null;
  if (ctx.has(3) && !axes) return 'axes-unknown';
  const starts = ctx.numbers(1);
  const ends = ctx.numbers(2);
  const steps = ctx.has(4) ? ctx.numbers(4) : null;
  if (!starts || !ends || (ctx.has(4) && !steps)) return null;
  return { starts, ends, axes: axes ?? range(Math.min(starts.length, rank)), steps: steps ?? starts.map(() => 1) };
}

const slice: InferenceRule = (ctx) => {
  const data = ctx.requireShape(0);
  const spec = sliceSpec(ctx, data.length);
  if (spec === 'axes-unknown') return [{ elementType: null, shape: unknownDims(data.length) }];
  if (spec === null) {
    const givenAxes = ctx.has(3) ? ctx.numbers(3) : null;
    if (!givenAxes) return [{ elementType: null, shape: unknownDims(data.length) }];
    const sliced = new Set(normalizeAxes(givenAxes, data.length));
    return [{ elementType: null, shape: data.map((d, axis) => (sliced.has(axis) ? null : d)) }];
  }
  const { starts, ends, steps } = spec;
  const axes = normalizeAxes(spec.axes, data.length);
  if (starts.length !== axes.length || ends.length !== axes.length || steps.length !== axes.length) fail('Slice inputs differ in length');
  const shape = [...data];
  let valueStart = 0;
  let valueStep = 1;
  axes.forEach((axis, i) => {
    const dim = data[axis];
    if (typeof dim === 'number') {
      const { start, length } = sliceLength(dim, starts[i], ends[i], steps[i]);
      shape[axis] = length;
      valueStart = start;
      valueStep = steps[i];
    } else {
      shape[axis] = starts[i] === 0 && steps[i] === 1 && ends[i] >= 2 ** 31 - 1 ? dim : null;
    }
  });
  const dataValues = ctx.values(0);
  let values: Dim[] | null = null;
  if (data.length === 1 && dataValues && typeof shape[0] === 'number') {
    values = range(shape[0]).map((i) => dataValues[valueStart + i * valueStep]);
  }
  return [{ elementType: null, shape, values }];
};

/** Reshape's target (with 0 and -1 resolved) applied to `input`. */
export function reshapeShape(input: Dim[], target: Dim[], allowZero: boolean): Dim[] {
  let inferred = -1;
  const shape = target.map((t, i): Dim => {
    if (t === 0 && !allowZero) {
      if (i >= input.length) fail('Reshape copies a dim the input does not have');
      return input[i];
    }
    if (t === -1) {
      if (inferred >= 0) fail('Reshape with two -1 dims');
      inferred = i;
      return null;
    }
    if (typeof t === 'number' && t < -1) fail(`Reshape to dim ${t}`);
    return t;
  });
  const inputProduct = productOf(input);
  if (inferred >= 0) {
    shape[inferred] = divideProducts(inputProduct, productOf(shape.filter((_, i) => i !== inferred)));
  } else if (isStatic(input) && isStatic(shape) && dimOfProduct(inputProduct) !== dimProduct(shape)) {
    fail('Reshape changes the element count');
  }
  return shape;
}

const reshape: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const target = ctx.values(1);
  if (!target) {
    const rank = lengthOfVector(ctx, 1);
    if (rank === null) fail('Reshape target unknown');
    return [{ elementType: null, shape: unknownDims(rank) }];
  }
  return [{ elementType: null, shape: reshapeShape(x, target, ctx.int('allowzero', 0) !== 0), values: ctx.values(0) }];
};

const flatten: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const axis = ctx.int('axis', 1);
  const split = axis < 0 ? axis + x.length : axis;
  if (split < 0 || split > x.length) fail(`Flatten axis ${axis} out of range`);
  return [{ elementType: null, shape: [dimProduct(x.slice(0, split)), dimProduct(x.slice(split))], values: ctx.values(0) }];
};

const transpose: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const perm = ctx.ints('perm') ?? range(x.length).reverse();
  if (perm.length !== x.length || normalizeAxes(perm, x.length).some((p, i) => p !== perm[i])) fail('bad Transpose perm');
  return [{ elementType: null, shape: perm.map((p) => x[p]) }];
};

function splitSizes(ctx: NodeContext, dim: Dim, count: number): number[] | null {
  if (ctx.has(1)) return ctx.numbers(1);
  const sizes = ctx.ints('split');
  if (sizes) return sizes;
  const parts = ctx.int('num_outputs', count);
  if (typeof dim !== 'number') return null;
  const chunk = Math.ceil(dim / parts);
  if (ctx.opset < 18 && dim % parts !== 0) fail(`Split of ${dim} into ${parts} equal parts`);
  return range(parts).map((i) => (i < parts - 1 ? chunk : dim - chunk * (parts - 1)));
}

const split: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const axis = normalizeAxis(ctx.int('axis', 0), x.length);
  const count = ctx.outputCount;
  const sizes = splitSizes(ctx, x[axis], count);
  if (sizes && sizes.length !== count) fail(`Split into ${sizes.length} parts for ${count} outputs`);
  if (sizes && typeof x[axis] === 'number' && sizes.reduce((a, b) => a + b, 0) !== x[axis]) fail('Split sizes do not add up');
  const dataValues = x.length === 1 ? ctx.values(0) : null;
  let offset = 0;
  return range(count).map((i): InferredTensor => {
    const shape = [...x];
    shape[axis] = sizes ? sizes[i] : null;
    const values = dataValues && sizes ? dataValues.slice(offset, offset + sizes[i]) : null;
    offset += sizes ? sizes[i] : 0;
    return { elementType: null, shape, values };
  });
};

const expand: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  let target = ctx.values(1);
  if (!target) {
    const rank = lengthOfVector(ctx, 1);
    if (rank === null) fail('Expand target unknown');
    target = unknownDims(rank);
  }
  const shape = broadcastShapes([x, target]);
  return [{ elementType: null, shape, values: broadcastValues(ctx, [0], shape, ([v]) => v) }];
};

const tile: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const repeats = ctx.numbers(1);
  if (!repeats) return [{ elementType: null, shape: unknownDims(x.length) }];
  if (repeats.length !== x.length) fail('Tile repeats differ from the rank');
  return [{ elementType: null, shape: x.map((d, i) => multiplyDim(d, repeats[i])) }];
};

const pad: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const pads = ctx.ints('pads') ?? ctx.numbers(1);
  const axes = ctx.has(3) ? ctx.numbers(3) : range(x.length);
  if (!pads || !axes) return [{ elementType: null, shape: unknownDims(x.length) }];
  const normalized = normalizeAxes(axes, x.length);
  if (pads.length !== 2 * normalized.length) fail('Pad pads of the wrong length');
  const shape = [...x];
  normalized.forEach((axis, i) => {
    shape[axis] = addDims(x[axis], pads[i] + pads[i + normalized.length]);
    if (typeof shape[axis] === 'number' && (shape[axis] as number) < 0) fail('Pad makes a negative dim');
  });
  return [{ elementType: null, shape }];
};

function resizeInputs(ctx: NodeContext): { scales: number[] | null; sizes: number[] | null; known: boolean } {
  if (ctx.node.opType === 'Upsample' || ctx.inputCount === 2) {
    const scales = ctx.floats('scales') ?? ctx.numbers(1);
    return { scales, sizes: null, known: scales !== null };
  }
  if (ctx.hasNonEmpty(3)) {
    const sizes = ctx.numbers(3);
    return { scales: null, sizes, known: sizes !== null && sizes.length > 0 };
  }
  if (ctx.hasNonEmpty(2)) {
    const scales = ctx.numbers(2);
    if (scales && scales.length === 0) fail('Resize without scales or sizes');
    return { scales, sizes: null, known: scales !== null };
  }
  fail('Resize without scales or sizes');
}

const resize: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const { scales, sizes, known } = resizeInputs(ctx);
  if (!known) return [{ elementType: null, shape: unknownDims(x.length) }];
  const axes = normalizeAxes(ctx.ints('axes') ?? range(x.length), x.length);
  const shape = [...x];
  if (sizes) {
    if (sizes.length !== axes.length) fail('Resize sizes of the wrong length');
    const policy = ctx.string('keep_aspect_ratio_policy', 'stretch');
    if (policy === 'stretch') {
      axes.forEach((axis, i) => (shape[axis] = sizes[i]));
    } else {
      const inputs = axes.map((axis) => x[axis]);
      if (!isStatic(inputs)) {
        axes.forEach((axis) => (shape[axis] = null));
        return [{ elementType: null, shape }];
      }
      const ratios = axes.map((_, i) => sizes[i] / inputs[i]);
      const scale = policy === 'not_larger' ? Math.min(...ratios) : Math.max(...ratios);
      axes.forEach((axis, i) => (shape[axis] = Math.round(scale * inputs[i])));
    }
  } else if (scales) {
    if (scales.length !== axes.length) fail('Resize scales of the wrong length');
    axes.forEach((axis, i) => {
      const dim = x[axis];
      shape[axis] = typeof dim === 'number' ? Math.floor(dim * scales[i]) : scales[i] === 1 ? dim : null;
    });
  }
  return [{ elementType: null, shape }];
};

const constantOfShape: InferenceRule = (ctx) => {
  const value = ctx.tensor('value');
  const elementType = value?.elementType ?? 'float32';
  const target = ctx.values(0);
  if (!target) {
    const rank = lengthOfVector(ctx, 0);
    if (rank === null) fail('ConstantOfShape target unknown');
    return [{ elementType, shape: unknownDims(rank) }];
  }
  if (target.some((d) => typeof d === 'number' && d < 0)) fail('ConstantOfShape with a negative dim');
  const fill = value ? (tensorValues(value, 1)?.[0] ?? null) : 0;
  const count = dimProduct(target);
  const values = typeof count === 'number' && count <= constantValueLimit ? new Array<Dim>(count).fill(fill) : null;
  return [{ elementType, shape: [...target], values }];
};

const rangeOp: InferenceRule = (ctx) => {
  const [start, limit, delta] = [0, 1, 2].map((i) => ctx.numbers(i)?.[0]);
  if (start === undefined || limit === undefined || delta === undefined) return [{ elementType: ctx.type(0), shape: [null] }];
  if (delta === 0) fail('Range with delta 0');
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  const values = count <= constantValueLimit ? range(count).map((i) => start + i * delta) : null;
  return [{ elementType: ctx.type(0), shape: [count], values }];
};

const topK: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const axis = normalizeAxis(ctx.int('axis', -1), x.length);
  const k = ctx.has(1) ? (ctx.numbers(1)?.[0] ?? null) : ctx.int('k', -1);
  if (typeof k === 'number' && (k < 0 || (typeof x[axis] === 'number' && k > (x[axis] as number)))) fail(`TopK k=${k} out of range`);
  const shape = x.map((d, i) => (i === axis ? k : d));
  return [
    { elementType: null, shape },
    { elementType: 'int64', shape }
  ];
};

function reducedShape(x: Dim[], axes: number[], keepDims: boolean): Dim[] {
  const reduced = new Set(normalizeAxes(axes, x.length));
  return keepDims ? x.map((d, i) => (reduced.has(i) ? 1 : d)) : x.filter((_, i) => !reduced.has(i));
}

const reduce: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const keepDims = ctx.int('keepdims', 1) !== 0;
  const axes = givenAxes(ctx);
  if (axes === null) return [{ elementType: null, shape: keepDims ? unknownDims(x.length) : null }];
  if (axes === undefined && ctx.int('noop_with_empty_axes', 0) !== 0) return [{ elementType: null, shape: x }];
  return [{ elementType: null, shape: reducedShape(x, axes ?? range(x.length), keepDims) }];
};

const argReduce: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  return [{ elementType: 'int64', shape: reducedShape(x, [ctx.int('axis', 0)], ctx.int('keepdims', 1) !== 0) }];
};

const sameAsData: InferenceRule = (ctx) => [{ elementType: null, shape: ctx.requireShape(0) }];

const oneHot: InferenceRule = (ctx) => {
  const indices = ctx.requireShape(0);
  const depth = ctx.numbers(1)?.[0] ?? null;
  const axis = normalizeAxis(ctx.int('axis', -1), indices.length + 1);
  const shape = [...indices.slice(0, axis), depth, ...indices.slice(axis)];
  return [{ elementType: ctx.type(2), shape }];
};

const gridSample: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const grid = ctx.requireShape(1);
  if (grid.length !== x.length) fail('GridSample grid rank differs from input rank');
  return [{ elementType: null, shape: [mergeDims(x[0], grid[0]), x[1], ...grid.slice(1, -1)] }];
};

export const tensorRules: Record<string, InferenceRule> = {
  Constant: constant,
  Shape: shapeOp,
  Size: size,
  Gather: gather,
  GatherElements: (ctx) => [{ elementType: null, shape: ctx.requireShape(1) }],
  GatherND: gatherND,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Slice: slice,
  Reshape: reshape,
  Flatten: flatten,
  Transpose: transpose,
  Split: split,
  Expand: expand,
  Tile: tile,
  Pad: pad,
  Resize: resize,
  Upsample: resize,
  ConstantOfShape: constantOfShape,
  Range: rangeOp,
  TopK: topK,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceProd: reduce,
  ReduceL1: reduce,
  ReduceL2: reduce,
  ReduceLogSum: reduce,
  ReduceLogSumExp: reduce,
  ReduceSumSquare: reduce,
  ArgMax: argReduce,
  ArgMin: argReduce,
  NonZero: (ctx) => [{ elementType: 'int64', shape: [ctx.requireShape(0).length, null] }],
  NonMaxSuppression: () => [{ elementType: 'int64', shape: [null, 3] }],
  OneHot: oneHot,
  ScatterND: sameAsData,
  ScatterElements: sameAsData,
  Scatter: sameAsData,
  EyeLike: (ctx) => [{ elementType: ctx.elementTypeAttribute('dtype'), shape: ctx.requireShape(0) }],
  GridSample: gridSample
};
