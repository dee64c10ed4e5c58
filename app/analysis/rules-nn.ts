// Shape inference for the compute layers: convolutions, matrix products, pooling and
// normalisation. Each rule maps a NodeContext to its outputs (see context.ts); bad
// attributes or mismatched shapes throw and leave the node's outputs unknown.
import type { Dim } from '../onnx/model.js';
import type { InferenceRule, InferredTensor, NodeContext } from './context.js';
import {
  broadcastShapes,
  fail,
  mergeDims,
  multiplyDim,
  normalizeAxis,
  windowOutput,
  type AutoPad
} from './shape-math.js';

interface SpatialAttributes {
  kernel: number[];
  strides: number[];
  dilations: number[];
  pads: number[];
  autoPad: AutoPad;
}

function spatialAttributes(ctx: NodeContext, spatialRank: number, kernelFallback: number[] | null): SpatialAttributes {
  const kernel = ctx.ints('kernel_shape') ?? kernelFallback;
  if (!kernel || kernel.length !== spatialRank) fail('kernel_shape missing or of the wrong rank');
  const strides = ctx.ints('strides') ?? new Array<number>(spatialRank).fill(1);
  const dilations = ctx.ints('dilations') ?? new Array<number>(spatialRank).fill(1);
  const pads = ctx.ints('pads') ?? new Array<number>(2 * spatialRank).fill(0);
  if (strides.length !== spatialRank || dilations.length !== spatialRank || pads.length !== 2 * spatialRank) {
    fail('strides, dilations or pads of the wrong rank');
  }
  return { kernel, strides, dilations, pads, autoPad: ctx.autoPad() };
}

function windowedSpatial(input: Dim[], a: SpatialAttributes, ceilMode: boolean): Dim[] {
  const spatialRank = a.kernel.length;
  return input.slice(2).map((dim, i) =>
    windowOutput(dim, {
      kernel: a.kernel[i],
      stride: a.strides[i],
      dilation: a.dilations[i],
      padBegin: a.pads[i],
      padEnd: a.pads[i + spatialRank],
      autoPad: a.autoPad,
      ceilMode
    })
  );
}

function requireRank(shape: Dim[], min: number, what: string): void {
  if (shape.length < min) fail(`${what} needs rank ≥ ${min}`);
}

export const conv: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  requireRank(x, 3, 'Conv input');
  const w = ctx.shape(1);
  const group = ctx.int('group', 1);
  if (w) {
    if (w.length !== x.length) fail('Conv weight rank differs from input rank');
    const perGroup = w[1];
    if (typeof perGroup === 'number' && typeof x[1] === 'number' && perGroup * group !== x[1]) {
      fail(`Conv expects ${perGroup * group} input channels, got ${x[1]}`);
    }
  }
  const kernelFromWeight = w ? w.slice(2).map((d) => (typeof d === 'number' ? d : -1)) : null;
  const attributes = spatialAttributes(ctx, x.length - 2, kernelFromWeight?.every((d) => d > 0) ? kernelFromWeight : null);
  return [{ elementType: null, shape: [x[0], w ? w[0] : null, ...windowedSpatial(x, attributes, false)] }];
};

const convTranspose: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  requireRank(x, 3, 'ConvTranspose input');
  const w = ctx.requireShape(1);
  if (w.length !== x.length) fail('ConvTranspose weight rank differs from input rank');
  mergeDims(x[1], w[0]);
  const group = ctx.int('group', 1);
  const spatialRank = x.length - 2;
  const kernelFromWeight = w.slice(2).map((d) => (typeof d === 'number' ? d : -1));
  const a = spatialAttributes(ctx, spatialRank, kernelFromWeight.every((d) => d > 0) ? kernelFromWeight : null);
  const outputPadding = ctx.ints('output_padding') ?? new Array<number>(spatialRank).fill(0);
  const outputShape = ctx.ints('output_shape');
  let spatial: Dim[];
  if (outputShape) {
    if (outputShape.length < spatialRank) fail('output_shape of the wrong rank');
    spatial = outputShape.slice(outputShape.length - spatialRank);
  } else {
    spatial = x.slice(2).map((dim, i) => {
      if (typeof dim !== 'number') return null;
      if (a.autoPad === 'SAME_UPPER' || a.autoPad === 'SAME_LOWER') return dim * a.strides[i];
      const pads = a.autoPad === 'VALID' ? 0 : a.pads[i] + a.pads[i + spatialRank];
      const out = a.strides[i] * (dim - 1) + (outputPadding[i] ?? 0) + (a.kernel[i] - 1) * a.dilations[i] + 1 - pads;
      if (out <= 0) fail('ConvTranspose output is empty');
      return out;
    });
  }
  return [{ elementType: null, shape: [x[0], multiplyDim(w[1], group), ...spatial] }];
};

export const gemm: InferenceRule = (ctx) => {
  const a = ctx.requireShape(0);
  const b = ctx.requireShape(1);
  if (a.length !== 2 || b.length !== 2) fail('Gemm operands must be matrices');
  const [m, ka] = ctx.int('transA', 0) ? [a[1], a[0]] : [a[0], a[1]];
  const [kb, n] = ctx.int('transB', 0) ? [b[1], b[0]] : [b[0], b[1]];
  mergeDims(ka, kb);
  return [{ elementType: null, shape: [m, n] }];
};

/** numpy.matmul: 1-D operands are promoted and their added dim removed again. */
export function matmulShape(a: Dim[], b: Dim[]): Dim[] {
  if (a.length === 0 || b.length === 0) fail('MatMul of a scalar');
  const left = a.length === 1 ? [1, a[0]] : a;
  const right = b.length === 1 ? [b[0], 1] : b;
  mergeDims(left[left.length - 1], right[right.length - 2]);
  const batch = broadcastShapes([left.slice(0, -2), right.slice(0, -2)]);
  const out = [...batch];
  if (a.length > 1) out.push(left[left.length - 2]);
  if (b.length > 1) out.push(right[right.length - 1]);
  return out;
}

const matmul: InferenceRule = (ctx) => [{ elementType: null, shape: matmulShape(ctx.requireShape(0), ctx.requireShape(1)) }];

export function pool(ctx: NodeContext, secondOutput: InferredTensor['elementType']): InferredTensor[] {
  const x = ctx.requireShape(0);
  requireRank(x, 3, `${ctx.node.opType} input`);
  const attributes = spatialAttributes(ctx, x.length - 2, null);
  const shape = [x[0], x[1], ...windowedSpatial(x, attributes, ctx.int('ceil_mode', 0) !== 0)];
  const outputs: InferredTensor[] = [{ elementType: null, shape }];
  if (secondOutput) outputs.push({ elementType: secondOutput, shape });
  return outputs;
}

export const globalPool: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  requireRank(x, 3, `${ctx.node.opType} input`);
  return [{ elementType: null, shape: [x[0], x[1], ...x.slice(2).map(() => 1)] }];
};

const sameShape: InferenceRule = (ctx) => [{ elementType: null, shape: ctx.requireShape(0) }];

const batchNormalization: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const channels = x.length > 1 ? x[1] : (ctx.shape(1)?.[0] ?? null);
  return [{ elementType: null, shape: x }, ...Array.from({ length: 4 }, () => ({ elementType: null, shape: [channels] }))];
};

const layerNormalization: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  const axis = normalizeAxis(ctx.int('axis', -1), x.length);
  const statsType = ctx.elementTypeAttribute('stash_type') ?? 'float32';
  const statsShape = x.map((d, i) => (i < axis ? d : 1));
  return [
    { elementType: null, shape: x },
    { elementType: statsType, shape: statsShape },
    { elementType: statsType, shape: statsShape }
  ];
};

const depthToSpace: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  if (x.length !== 4) fail('DepthToSpace needs rank 4');
  const block = ctx.int('blocksize', 0);
  if (block < 1) fail('blocksize must be positive');
  const channels = typeof x[1] === 'number' ? x[1] / (block * block) : null;
  if (channels !== null && !Number.isInteger(channels)) fail('channels do not divide by blocksize²');
  return [{ elementType: null, shape: [x[0], channels, multiplyDim(x[2], block), multiplyDim(x[3], block)] }];
};

const spaceToDepth: InferenceRule = (ctx) => {
  const x = ctx.requireShape(0);
  if (x.length !== 4) fail('SpaceToDepth needs rank 4');
  const block = ctx.int('blocksize', 0);
  if (block < 1) fail('blocksize must be positive');
  const divide = (d: Dim): Dim => {
    if (typeof d !== 'number') return null;
    if (d % block !== 0) fail('spatial dims do not divide by blocksize');
    return d / block;
  };
  return [{ elementType: null, shape: [x[0], multiplyDim(x[1], block * block), divide(x[2]), divide(x[3])] }];
};

/** Labels of each operand and of the output of an einsum equation without ellipses. */
export function parseEinsum(equation: string, operandCount: number): { operands: string[]; output: string } {
  const cleaned = equation.replace(/\s+/g, '');
  if (cleaned.includes('.')) fail('einsum ellipsis not supported');
  const [left, right] = cleaned.split('->');
  const operands = left.split(',');
  if (operands.length !== operandCount || operands.some((o) => !/^[a-zA-Z]*$/.test(o))) fail('einsum equation does not match inputs');
  let output = right;
  if (output === undefined) {
    const counts = new Map<string, number>();
    for (const label of operands.join('')) counts.set(label, (counts.get(label) ?? 0) + 1);
    output = [...counts].filter(([, n]) => n === 1).map(([label]) => label).sort().join('');
  }
  if (!/^[a-zA-Z]*$/.test(output)) fail('bad einsum output');
  return { operands, output };
}

/** Size of each einsum label, merged over the operands. */
export function einsumLabelSizes(operands: string[], shapes: Dim[][]): Map<string, Dim> {
  const sizes = new Map<string, Dim>();
  operands.forEach((labels, i) => {
    if (labels.length !== shapes[i].length) fail('einsum operand rank differs from its labels');
    [...labels].forEach((label, axis) => {
      const dim = shapes[i][axis];
      const known = sizes.get(label);
      sizes.set(label, known === undefined ? dim : known === 1 ? dim : dim === 1 ? known : mergeDims(known, dim));
    });
  });
  return sizes;
}

const einsum: InferenceRule = (ctx) => {
  const { operands, output } = parseEinsum(ctx.string('equation', ''), ctx.inputCount);
  const shapes = operands.map((_, i) => ctx.requireShape(i));
  const sizes = einsumLabelSizes(operands, shapes);
  return [{ elementType: null, shape: [...output].map((label) => sizes.get(label) ?? fail(`einsum label ${label} not in inputs`)) }];
};

/** Gates per recurrent op: rows of W per hidden unit (ONNX's RNN, GRU and LSTM). */
export const recurrentGates: Readonly<Record<string, number>> = { RNN: 1, GRU: 3, LSTM: 4 };

/** The sizes a recurrent op runs over: X is [seq, batch, input] (layout 0) or [batch, seq, input] (layout 1). */
export function recurrentDims(ctx: NodeContext): { seq: Dim; batch: Dim; input: Dim; hidden: Dim; directions: number; layout: number } {
  const x = ctx.requireShape(0);
  if (x.length !== 3) fail(`${ctx.node.opType} input needs rank 3`);
  const layout = ctx.int('layout', 0);
  const direction = ctx.string('direction', 'forward');
  const directions = direction === 'bidirectional' ? 2 : 1;
  const gates = recurrentGates[ctx.node.opType];
  const w = ctx.shape(1);
  const fromWeights = w && w.length === 3 && typeof w[1] === 'number' ? w[1] / gates : null;
  const hidden = ctx.hasAttribute('hidden_size') ? ctx.int('hidden_size', 0) : fromWeights;
  if (hidden === null || (typeof hidden === 'number' && !(hidden > 0))) fail(`${ctx.node.opType} hidden size unknown`);
  const [seq, batch] = layout === 0 ? [x[0], x[1]] : [x[1], x[0]];
  return { seq, batch, input: x[2], hidden, directions, layout };
}

/** Y: [seq, directions, batch, hidden] (layout 1: [batch, seq, directions, hidden]); Y_h and LSTM's Y_c: [directions, batch, hidden] (layout 1: [batch, directions, hidden]). */
const recurrent: InferenceRule = (ctx) => {
  const { seq, batch, hidden, directions, layout } = recurrentDims(ctx);
  const y = layout === 0 ? [seq, directions, batch, hidden] : [batch, seq, directions, hidden];
  const state = layout === 0 ? [directions, batch, hidden] : [batch, directions, hidden];
  const states = ctx.node.opType === 'LSTM' ? 2 : 1;
  return [{ elementType: null, shape: y }, ...Array.from({ length: states }, () => ({ elementType: null, shape: state }))];
};

export const nnRules: Record<string, InferenceRule> = {
  RNN: recurrent,
  GRU: recurrent,
  LSTM: recurrent,
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matmul,
  MaxPool: (ctx) => pool(ctx, ctx.outputCount > 1 ? 'int64' : null),
  AveragePool: (ctx) => pool(ctx, null),
  LpPool: (ctx) => pool(ctx, null),
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  BatchNormalization: batchNormalization,
  InstanceNormalization: sameShape,
  LayerNormalization: layerNormalization,
  GroupNormalization: sameShape,
  MeanVarianceNormalization: sameShape,
  LpNormalization: sameShape,
  LRN: sameShape,
  DepthToSpace: depthToSpace,
  SpaceToDepth: spaceToDepth,
  Einsum: einsum
};
