// How many multiply-accumulates each op costs: the conventions live in the data table
// `opCosts` (Netron/torchvision style), the formulas for each kind of rule below it.
// Only convolutions and matrix products count heavily, so zoo totals match the MACs
// torchvision publishes; element-wise ops count one per output element, pure data
// movement and compare/select ops count zero. Quantized ops count like their float twins
// on their data operands (QLinearConv like Conv on x and w), and integer kernels' MACs are
// integer MACs (`MacCount.integer`), reported apart from float ones.
import type { Dim } from '../onnx/model.js';
import type { NodeContext } from './context.js';
import { einsumLabelSizes, parseEinsum, recurrentDims, recurrentGates } from './rules-nn.js';
import { MICROSOFT_DOMAIN } from './rules-quant.js';
import { isDefaultDomain } from './rules.js';

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
  'GroupNormalization', 'MeanVarianceNormalization', 'LpNormalization', 'QuantizeLinear', 'DequantizeLinear', 'GridSample',
  'DynamicQuantizeLinear'
];

const reduceOps = [
  'GlobalAveragePool', 'GlobalLpPool', 'ReduceMean', 'ReduceSum', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum',
  'ReduceLogSumExp', 'ReduceSumSquare'
];

/**
 * An integer kernel: the float op's convention applied to the data operands `operands`
 * (in the order the float rule reads them), every MAC an integer one.
 */
export interface IntegerCost {
  rule: CostRule;
  operands: readonly number[];
}

const integer = (rule: CostRule, operands: readonly number[]): IntegerCost => ({ rule, operands });

/** Integer kernels of the default domain: QOperator format and dynamic quantization. */
export const integerOpCosts: Readonly<Record<string, IntegerCost>> = {
  QLinearConv: integer({ kind: 'conv' }, [0, 3]),
  ConvInteger: integer({ kind: 'conv' }, [0, 1]),
  QLinearMatMul: integer({ kind: 'matmul' }, [0, 3]),
  MatMulInteger: integer({ kind: 'matmul' }, [0, 1])
};

/** onnxruntime's com.microsoft integer kernels. */
export const microsoftIntegerOpCosts: Readonly<Record<string, IntegerCost>> = {
  QLinearAdd: integer(perOutput(1), [0, 3]),
  QLinearMul: integer(perOutput(1), [0, 3]),
  QLinearConcat: integer(zero, []),
  QLinearGlobalAveragePool: integer(perInput(1), [0]),
  QLinearAveragePool: integer({ kind: 'window' }, [0]),
  QLinearSigmoid: integer(perOutput(1), [0]),
  QLinearLeakyRelu: integer(perOutput(1), [0]),
  QGemm: integer({ kind: 'gemm' }, [0, 3]),
  MatMulIntegerToFloat: integer({ kind: 'matmul' }, [0, 1]),
  DynamicQuantizeMatMul: integer({ kind: 'matmul' }, [0, 1])
};

/**
 * Float ops that onnxruntime runs as integer kernels when every data and weight input
 * comes from a DequantizeLinear of 8-bit integers (the QDQ format): the inputs that must
 * (a bias, input 2 of Conv and Gemm, may stay float).
 */
export const qdqIntegerOperands: Readonly<Record<string, readonly number[]>> = {
  Conv: [0, 1],
  ConvTranspose: [0, 1],
  Gemm: [0, 1],
  MatMul: [0, 1],
  Add: [0, 1],
  Mul: [0, 1],
  AveragePool: [0],
  GlobalAveragePool: [0]
};

/** MAC convention per default-domain float op. An op missing here (and from the integer tables) counts as unknown. */
export const opCosts: Readonly<Record<string, CostRule>> = {
  ...Object.fromEntries(zeroOps.map((op) => [op, zero])),
  ...Object.fromEntries(perElementOps.map((op) => [op, perOutput(1)])),
  ...Object.fromEntries(reduceOps.map((op) => [op, perInput(1)])),
  Softmax: perOutput(3),
  LogSoftmax: perOutput(3),
  Conv: { kind: 'conv' },
  ConvTranspose: { kind: 'convTranspose' },
  Gemm: { kind: 'gemm' },
  MatMul: { kind: 'matmul' },
  AveragePool: { kind: 'window' },
  LpPool: { kind: 'window' },
  LRN: { kind: 'lrn' },
  Einsum: { kind: 'einsum' },
  RNN: { kind: 'recurrent' },
  GRU: { kind: 'recurrent' },
  LSTM: { kind: 'recurrent' }
};

/** A node's MACs; `integer`: all of them run on an integer kernel. */
export type MacCount = { macs: number; integer: boolean; missing: null } | { macs: null; integer: boolean; missing: 'unknown-shape' | 'symbolic-shape' };

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

function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** The convention for a node's op, and the operands it reads (null: the node's own inputs), or null for an unknown op. */
function costOf(ctx: NodeContext): { rule: CostRule; operands: readonly number[] | null; integer: boolean } | null {
  const { domain, opType } = ctx.node;
  const integerCost = isDefaultDomain(domain) ? own(integerOpCosts, opType) : domain === MICROSOFT_DOMAIN ? own(microsoftIntegerOpCosts, opType) : undefined;
  if (integerCost) return { rule: integerCost.rule, operands: integerCost.operands, integer: true };
  const rule = isDefaultDomain(domain) ? own(opCosts, opType) : undefined;
  return rule ? { rule, operands: null, integer: false } : null;
}

/** MACs of a node by its op's convention; null when the op has no entry in the tables above. */
export function countMacs(ctx: NodeContext, outputs: (Dim[] | null)[]): MacCount | null {
  const cost = costOf(ctx);
  if (!cost) return null;
  let count: Count;
  try {
    count = evaluate(cost.rule, cost.operands ? ctx.select(cost.operands) : ctx, outputs);
  } catch {
    count = 'unknown';
  }
  if (typeof count === 'number') return { macs: count, integer: cost.integer, missing: null };
  return { macs: null, integer: cost.integer, missing: count === 'symbolic' ? 'symbolic-shape' : 'unknown-shape' };
}
