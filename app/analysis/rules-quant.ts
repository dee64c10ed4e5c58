// Shape and type inference for quantized ops, the way onnxruntime's quantization tools
// write them: the QDQ format's QuantizeLinear / DequantizeLinear, the operator format's
// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger and DynamicQuantizeLinear (ONNX
// domain), and the com.microsoft kin onnxruntime adds (QLinearAdd, QLinearConcat, QGemm,
// ...). Each rule reuses the float op's rule on the data operands (NodeContext.select) and
// types the output by its zero point, as the specs do. Which inputs are scales and zero
// points, and what layout each may have, is `quantizedOperands` below; quant-check.ts
// refuses nodes that break it.
import type { ElementTypeName } from '../onnx/element-type.js';
import { NodeContext, type InferenceRule, type InferredTensor } from './context.js';
import { conv, gemm, globalPool, matmulShape, pool } from './rules-nn.js';
import { concat } from './rules-tensor.js';
import { broadcastShapes, fail } from './shape-math.js';

/** The domain onnxruntime's contrib ops live in. */
export const MICROSOFT_DOMAIN = 'com.microsoft';

/**
 * How a scale / zero point pair may be laid out: 'scalar' (per-tensor only), or per-axis
 * along one dimension of the data operand (`axis`: a fixed dim, 'attribute' for Q/DQ's
 * `axis`, or 'lastDim' for a matrix's columns).
 */
export type QuantLayout = { kind: 'scalar' } | { kind: 'perAxis'; axis: number | 'attribute' | 'lastDim' | 'transB' };

/** One quantized operand of a node: its data input (null for an output), scale and zero point inputs. */
export interface QuantOperand {
  label: string;
  data: number | null;
  scale: number | null;
  zeroPoint: number | null;
  /** The scale input must be given (false: optional, as QGemm's y_scale). */
  scaleRequired: boolean;
  layout: QuantLayout;
  /** 'data': the zero point has the data operand's type; 'quantized': any 8/16/4-bit integer type (an output's). */
  zeroPointType: 'data' | 'quantized';
}

const scalar: QuantLayout = { kind: 'scalar' };

function operand(label: string, data: number | null, scale: number | null, zeroPoint: number | null, layout: QuantLayout = scalar, scaleRequired = scale !== null): QuantOperand {
  return { label, data, scale, zeroPoint, scaleRequired, layout, zeroPointType: data === null ? 'quantized' : 'data' };
}

/** The input names each quantized op's spec gives (for messages). */
export const quantizedInputNames: Readonly<Record<string, readonly string[]>> = {
  QuantizeLinear: ['x', 'y_scale', 'y_zero_point'],
  DequantizeLinear: ['x', 'x_scale', 'x_zero_point'],
  DynamicQuantizeLinear: ['x'],
  QLinearConv: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'],
  QLinearMatMul: ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'],
  ConvInteger: ['x', 'w', 'x_zero_point', 'w_zero_point'],
  MatMulInteger: ['A', 'B', 'a_zero_point', 'b_zero_point'],
  QLinearAdd: ['A', 'A_scale', 'A_zero_point', 'B', 'B_scale', 'B_zero_point', 'C_scale', 'C_zero_point'],
  QLinearMul: ['A', 'A_scale', 'A_zero_point', 'B', 'B_scale', 'B_zero_point', 'C_scale', 'C_zero_point'],
  QLinearGlobalAveragePool: ['X', 'x_scale', 'x_zero_point', 'y_scale', 'y_zero_point'],
  QLinearAveragePool: ['X', 'x_scale', 'x_zero_point', 'y_scale', 'y_zero_point'],
  QLinearSigmoid: ['X', 'X_scale', 'X_zero_point', 'Y_scale', 'Y_zero_point'],
  QLinearLeakyRelu: ['X', 'X_scale', 'X_zero_point', 'Y_scale', 'Y_zero_point'],
  QGemm: ['A', 'a_scale', 'a_zero_point', 'B', 'b_scale', 'b_zero_point', 'C', 'y_scale', 'y_zero_point'],
  MatMulIntegerToFloat: ['A', 'B', 'a_scale', 'b_scale', 'a_zero_point', 'b_zero_point', 'bias'],
  DynamicQuantizeMatMul: ['A', 'B', 'b_scale', 'b_zero_point', 'bias']
};

/** The quantized operands of a node (QLinearConcat's depend on its input count). */
export function quantizedOperands(ctx: NodeContext): QuantOperand[] {
  const op = ctx.node.opType;
  const unary = (): QuantOperand[] => [operand('X', 0, 1, 2), operand('Y', null, 3, 4)];
  switch (op) {
    case 'QuantizeLinear':
      return [operand('y', 0, 1, 2, { kind: 'perAxis', axis: 'attribute' })].map((o) => ({ ...o, zeroPointType: 'quantized' as const }));
    case 'DequantizeLinear':
      return [operand('x', 0, 1, 2, { kind: 'perAxis', axis: 'attribute' })];
    case 'QLinearConv':
      return [operand('x', 0, 1, 2), operand('w', 3, 4, 5, { kind: 'perAxis', axis: 0 }), operand('y', null, 6, 7)];
    case 'QLinearMatMul':
      return [operand('a', 0, 1, 2), operand('b', 3, 4, 5, { kind: 'perAxis', axis: 'lastDim' }), operand('y', null, 6, 7)];
    case 'ConvInteger':
      return [operand('x', 0, null, 2), operand('w', 1, null, 3, { kind: 'perAxis', axis: 0 })];
    case 'MatMulInteger':
      return [operand('a', 0, null, 2), operand('b', 1, null, 3, { kind: 'perAxis', axis: 'lastDim' })];
    case 'QLinearAdd':
    case 'QLinearMul':
      return [operand('A', 0, 1, 2), operand('B', 3, 4, 5), operand('C', null, 6, 7)];
    case 'QLinearGlobalAveragePool':
    case 'QLinearAveragePool':
    case 'QLinearSigmoid':
    case 'QLinearLeakyRelu':
      return unary();
    case 'QLinearConcat': {
      const operands = [operand('Y', null, 0, 1)];
      for (let i = 2; i < ctx.inputCount; i += 3) operands.push(operand(`inputs[${(i - 2) / 3}]`, i, i + 1, i + 2));
      return operands;
    }
    case 'QGemm':
      return [operand('A', 0, 1, 2), operand('B', 3, 4, 5, { kind: 'perAxis', axis: 'transB' }), operand('y', null, 7, 8, scalar, false)];
    case 'MatMulIntegerToFloat':
      return [operand('A', 0, 2, 4), operand('B', 1, 3, 5, { kind: 'perAxis', axis: 'lastDim' })];
    case 'DynamicQuantizeMatMul':
      return [operand('B', 1, 2, 3, { kind: 'perAxis', axis: 'lastDim' })];
    default:
      return [];
  }
}

/** Integer types a zero point (and so a quantized tensor) may have. */
export const quantizedTypes: ReadonlySet<ElementTypeName> = new Set<ElementTypeName>([
  'uint8', 'int8', 'uint16', 'int16', 'uint4', 'int4', 'float8e4m3fn', 'float8e4m3fnuz', 'float8e5m2', 'float8e5m2fnuz'
]);

/** 8-bit integer types: what a DequantizeLinear must read for its consumer to run as an integer kernel. */
export const eightBitTypes: ReadonlySet<ElementTypeName> = new Set<ElementTypeName>(['uint8', 'int8']);

/** The type of an output quantized by the scale / zero point at `zeroPoint`, or `fallback`. */
function quantizedType(ctx: NodeContext, zeroPoint: number, fallback: number | ElementTypeName): ElementTypeName | null {
  return ctx.type(zeroPoint) ?? (typeof fallback === 'number' ? ctx.type(fallback) : fallback);
}

const quantizeLinear: InferenceRule = (ctx) => [
  { elementType: ctx.type(2) ?? ctx.elementTypeAttribute('output_dtype') ?? 'uint8', shape: ctx.requireShape(0) }
];

const dequantizeLinear: InferenceRule = (ctx) => [
  { elementType: ctx.elementTypeAttribute('output_dtype') ?? ctx.type(1) ?? 'float32', shape: ctx.requireShape(0) }
];

const dynamicQuantizeLinear: InferenceRule = (ctx) => [
  { elementType: 'uint8', shape: ctx.requireShape(0) },
  { elementType: 'float32', shape: [] },
  { elementType: 'uint8', shape: [] }
];

/** The float rule on the selected data operands, with the output typed as given. */
function onOperands(rule: InferenceRule, operands: readonly number[], type: (ctx: NodeContext) => ElementTypeName | null): InferenceRule {
  return (ctx) => {
    const [first] = rule(ctx.select(operands));
    return [{ ...first, elementType: type(ctx) ?? 'undefined' } satisfies InferredTensor];
  };
}

const matmulOf = (a: number, b: number): InferenceRule => (ctx) => [{ elementType: null, shape: matmulShape(ctx.requireShape(a), ctx.requireShape(b)) }];

const qLinearBinary: InferenceRule = (ctx) => [
  { elementType: quantizedType(ctx, 7, 0), shape: broadcastShapes([ctx.requireShape(0), ctx.requireShape(3)]) }
];

const qLinearConcat: InferenceRule = (ctx) => {
  const data: number[] = [];
  for (let i = 2; i < ctx.inputCount; i += 3) data.push(i);
  if (data.length === 0) fail('QLinearConcat of nothing');
  const [first] = concat(ctx.select(data));
  return [{ ...first, values: null, elementType: quantizedType(ctx, 1, data[0]) }];
};

/** channels_last=1 pools an NHWC tensor: the rule sees it as NCHW and the result is turned back. */
function channelsLastAware(rule: InferenceRule): InferenceRule {
  return (ctx) => {
    const type = quantizedType(ctx, 4, 0);
    if (ctx.int('channels_last', 0) === 0) return [{ ...rule(ctx.select([0]))[0], elementType: type }];
    const x = ctx.requireShape(0);
    const nchw = [x[0], x[x.length - 1], ...x.slice(1, -1)];
    const view = ctx.select([0]);
    const [out] = rule(new NodeContext(view.node, view.opset, [{ elementType: ctx.type(0) ?? 'undefined', shape: nchw, values: null }]));
    const shape = out.shape ? [out.shape[0], ...out.shape.slice(2), out.shape[1]] : null;
    return [{ elementType: type, shape }];
  };
}

/** Default-domain quantized ops. */
export const quantRules: Record<string, InferenceRule> = {
  QuantizeLinear: quantizeLinear,
  DequantizeLinear: dequantizeLinear,
  DynamicQuantizeLinear: dynamicQuantizeLinear,
  QLinearConv: onOperands(conv, [0, 3], (ctx) => quantizedType(ctx, 7, 0)),
  QLinearMatMul: onOperands(matmulOf(0, 1), [0, 3], (ctx) => quantizedType(ctx, 7, 0)),
  ConvInteger: onOperands(conv, [0, 1], () => 'int32'),
  MatMulInteger: onOperands(matmulOf(0, 1), [0, 1], () => 'int32')
};

/** onnxruntime's com.microsoft quantized ops. */
export const microsoftQuantRules: Record<string, InferenceRule> = {
  QLinearAdd: qLinearBinary,
  QLinearMul: qLinearBinary,
  QLinearConcat: qLinearConcat,
  QLinearGlobalAveragePool: channelsLastAware(globalPool),
  QLinearAveragePool: channelsLastAware((ctx) => pool(ctx, null)),
  QLinearSigmoid: (ctx) => [{ elementType: quantizedType(ctx, 4, 0), shape: ctx.requireShape(0) }],
  QLinearLeakyRelu: (ctx) => [{ elementType: quantizedType(ctx, 4, 0), shape: ctx.requireShape(0) }],
  QGemm: onOperands(gemm, [0, 3], (ctx) => (ctx.has(7) ? quantizedType(ctx, 8, 0) : (ctx.type(1) ?? 'float32'))),
  MatMulIntegerToFloat: onOperands(matmulOf(0, 1), [0, 1], (ctx) => ctx.type(2) ?? 'float32'),
  DynamicQuantizeMatMul: onOperands(matmulOf(0, 1), [0, 1], (ctx) => ctx.type(0) ?? 'float32')
};
