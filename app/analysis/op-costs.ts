// How many multiply-accumulates each op costs: the conventions live in the data table
// `opCosts` (Netron/torchvision style), the formulas for each kind of rule below it.
// Only convolutions and matrix products count heavily, so zoo totals match the MACs
// torchvision publishes; element-wise ops count one per output element, pure data
// movement and compare/select ops count zero.
import type { Dim } from '../onnx/model.js';
import type { NodeContext } from './context.js';
import { einsumLabelSizes, parseEinsum, recurrentDims, recurrentGates } from './rules-nn.js';

export type CostRule =
  /** Data movement (Reshape, Concat, Resize...) and compare/select (Relu, MaxPool, Where...). */
  | { kind: 'zero' }
  /** `factor` per element of output 0 (element-wise arithmetic, normalisation, Softmax). */
  | { kind: 'perOutputElement'; factor: number }
  /** `factor` per element of input 0 (GlobalAveragePool, ReduceMean/ReduceSum). */
  | { kind: 'perInputElement'; factor: number }
  /** N × Cout × prod(outSpatial) × (Cin/group) × prod(kernel) = out elements × prod(W.shape[1:]). */
  | { kind: 'conv' }
  /** N × Cin × prod(inSpatial) × (Cout/group) × prod(kernel) = in elements × prod(W.shape[1:]). */
  | { kind: 'convTranspose' }
  /** M × N × K. */
  | { kind: 'gemm' }
  /** prod(batch dims of output) × M × N × K = out elements × K. */
  | { kind: 'matmul' }
  /** Out elements × prod(kernel_shape) (AveragePool, LpPool). */
  | { kind: 'window' }
  /** Out elements × size (LRN). */
  | { kind: 'lrn' }
  /** Product of every label's size (the loop nest einsum runs). */
  | { kind: 'einsum' }
  /**
   * Recurrent ops (RNN, GRU, LSTM): per time step, batch row and direction, every gate's
   * input and recurrent products, gates × hidden × (input + hidden); times the steps.
   */
  | { kind: 'recurrent' };

const zero: CostRule = { kind: 'zero' };
const perOutput = (factor: number): CostRule => ({ kind: 'perOutputElement', factor });
const perInput = (factor: number): CostRule => ({ kind: 'perInputElement', factor });

const zeroOps = [
  // compare / select
  'Relu', 'Clip', 'MaxPool', 'GlobalMaxPool', 'Max', 'Min', 'Abs', 'Neg', 'Sign', 'Where', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf', 'ArgMax', 'ArgMin', 'TopK', 'ReduceMax',
  'ReduceMin', 'Hardmax', 'Trilu', 'NonZero', 'NonMaxSuppression', 'BitwiseNot', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor',
  // data movement
  'Reshape', 'Flatten', 'Transpose', 'Concat', 'Split', 'Slice', 'Gather', 'GatherElements', 'GatherND', 'Squeeze',
  'Unsqueeze', 'Identity', 'Dropout', 'Cast', 'CastLike', 'Shape', 'Size', 'Constant', 'ConstantOfShape', 'Expand', 'Tile',
  'Pad', 'Range', 'Resize', 'Upsample', 'DepthToSpace', 'SpaceToDepth', 'OneHot', 'ScatterND', 'ScatterElements',
  'Scatter', 'EyeLike'
];

const perElementOps = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Sum', 'Mean', 'PRelu', 'BitShift', 'Sqrt', 'Exp', 'Log', 'Erf', 'Sigmoid',
  'Tanh', 'Gelu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'HardSwish', 'Softplus', 'Softsign', 'Reciprocal',
  'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Mish', 'ThresholdedRelu',
  'Shrink', 'Floor', 'Ceil', 'Round', 'CumSum', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization',
  'GroupNormalization', 'MeanVarianceNormalization', 'LpNormalization', 'QuantizeLinear', 'DequantizeLinear', 'GridSample'
];

const reduceOps = [
  'GlobalAveragePool', 'GlobalLpPool', 'ReduceMean', 'ReduceSum', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
  'ReduceLogSumExp', 'ReduceSumSquare'
];

/** MAC convention per default-domain op. An op missing here counts as unknown. */
export const opCosts: Readonly<Record<string, CostRule>> = {
  ...Object.fromEntries(zeroOps.map((op) => [op, zero])),
  ...Object.fromEntries(perElementOps.map((op) => [op, perOutput(1)])),
  ...Object.fromEntries(reduceOps.map((op) => [op, perInput(1)])),
  Softmax: perOutput(3),
  LogSoftmax: perOutput(3),
  Conv: { kind: 'conv' },
  ConvInteger: { kind: 'conv' },
  ConvTranspose: { kind: 'convTranspose' },
  Gemm: { kind: 'gemm' },
  MatMul: { kind: 'matmul' },
  MatMulInteger: { kind: 'matmul' },
  AveragePool: { kind: 'window' },
  LpPool: { kind: 'window' },
  LRN: { kind: 'lrn' },
  Einsum: { kind: 'einsum' },
  RNN: { kind: 'recurrent' },
  GRU: { kind: 'recurrent' },
  LSTM: { kind: 'recurrent' }
};

export type MacCount = { macs: number; missing: null } | { macs: null; missing: 'unknown-shape' | 'symbolic-shape' };

/** A count being built: a number, or why it cannot be one. */
type Count = number | 'symbolic' | 'unknown';

function multiply(...factors: Count[]): Count {
  if (factors.includes('unknown')) return 'unknown';
  if (factors.includes('symbolic')) return 'symbolic';
  return (factors as number[]).reduce((a, b) => a * b, 1);
}

function dimFactor(dim: Dim | undefined): Count {
  if (typeof dim === 'number') return dim;
  return typeof dim === 'string' ? 'symbolic' : 'unknown';
}

function elements(shape: Dim[] | null | undefined): Count {
  return shape ? multiply(...shape.map(dimFactor)) : 'unknown';
}

function evaluate(rule: CostRule, ctx: NodeContext, outputs: (Dim[] | null)[]): Count {
  const out = outputs[0];
  switch (rule.kind) {
    case 'zero':
      return 0;
    case 'perOutputElement':
      return multiply(elements(out), rule.factor);
    case 'perInputElement':
      return multiply(elements(ctx.shape(0)), rule.factor);
    case 'conv':
      return multiply(elements(out), elements(ctx.shape(1)?.slice(1)));
    case 'convTranspose':
      return multiply(elements(ctx.shape(0)), elements(ctx.shape(1)?.slice(1)));
    case 'gemm': {
      const a = ctx.shape(0);
      return multiply(elements(out), a ? dimFactor(a[ctx.int('transA', 0) ? 0 : 1]) : 'unknown');
    }
    case 'matmul': {
      const a = ctx.shape(0);
      return multiply(elements(out), a ? dimFactor(a[a.length - 1]) : 'unknown');
    }
    case 'window':
      return multiply(elements(out), ...(ctx.ints('kernel_shape') ?? ['unknown' as const]));
    case 'lrn':
      return multiply(elements(out), ctx.int('size', 1));
    case 'recurrent': {
      const { seq, batch, input, hidden, directions } = recurrentDims(ctx);
      // input + hidden when both are known; otherwise whichever of 'symbolic' / 'unknown' applies.
      const width: Count = typeof input === 'number' && typeof hidden === 'number' ? input + hidden : multiply(dimFactor(input), dimFactor(hidden));
      return multiply(dimFactor(seq), dimFactor(batch), directions, recurrentGates[ctx.node.opType], dimFactor(hidden), width);
    }
    case 'einsum': {
      const { operands } = parseEinsum(ctx.string('equation', ''), ctx.inputCount);
      const shapes = operands.map((_, i) => ctx.shape(i));
      if (shapes.some((s) => s === null)) return 'unknown';
      return multiply(...[...einsumLabelSizes(operands, shapes as Dim[][]).values()].map(dimFactor));
    }
  }
}

/** MACs of a node by its op's convention; null when the op has no entry in `opCosts`. */
export function countMacs(ctx: NodeContext, outputs: (Dim[] | null)[]): MacCount | null {
  const rule = ctx.node.domain === '' && Object.hasOwn(opCosts, ctx.node.opType) ? opCosts[ctx.node.opType] : undefined;
  if (!rule) return null;
  let count: Count;
  try {
    count = evaluate(rule, ctx, outputs);
  } catch {
    count = 'unknown';
  }
  if (typeof count === 'number') return { macs: count, missing: null };
  return { macs: null, missing: count === 'symbolic' ? 'symbolic-shape' : 'unknown-shape' };
}
