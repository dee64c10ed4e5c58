// Shape inference for element-wise ops: unary ops keep their input's shape, binary and
// variadic ops broadcast (numpy rules). Arithmetic, comparisons, Where and Cast also
// compute the values of small constant tensors, which the shape subgraphs PyTorch
// exports (Shape → Gather → Mul → Concat → Reshape) need.
import type { ElementTypeName } from '../onnx/element-type.js';
import type { Dim } from '../onnx/model.js';
import { constantValueLimit, type InferenceRule, type NodeContext } from './context.js';
import { broadcastShapes, fail, isStatic } from './shape-math.js';

const integerTypes = new Set<ElementTypeName>(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'int4', 'uint4']);

export function isIntegerType(type: ElementTypeName | null): boolean {
  return type !== null && integerTypes.has(type);
}

type Combine = (values: Dim[]) => Dim;

/** Element-wise values of broadcast inputs, or null when any input's values or shape are not known. */
export function broadcastValues(ctx: NodeContext, inputs: number[], outShape: Dim[], combine: Combine): Dim[] | null {
  if (!isStatic(outShape)) return null;
  const count = outShape.reduce((a, b) => a * b, 1);
  if (count > constantValueLimit) return null;
  const operands: { values: Dim[]; strides: number[] }[] = [];
  for (const i of inputs) {
    const shape = ctx.shape(i);
    const values = ctx.values(i);
    if (!isStatic(shape) || !values) return null;
    const offset = outShape.length - shape.length;
    const strides = new Array<number>(outShape.length).fill(0);
    let stride = 1;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      strides[axis + offset] = shape[axis] === 1 ? 0 : stride;
      stride *= shape[axis];
    }
    operands.push({ values, strides });
  }
  const out: Dim[] = new Array<Dim>(count);
  const index = new Array<number>(outShape.length).fill(0);
  for (let flat = 0; flat < count; flat++) {
    out[flat] = combine(operands.map((o) => o.values[index.reduce((sum, v, axis) => sum + v * o.strides[axis], 0)]));
    for (let axis = outShape.length - 1; axis >= 0; axis--) {
      if (++index[axis] < outShape[axis]) break;
      index[axis] = 0;
    }
  }
  return out;
}

type Arithmetic = (a: number, b: number, integer: boolean) => number;

const arithmetic: Record<string, Arithmetic> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b, integer) => (integer ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => a ** b,
  Mod: (a, b) => a % b,
  Max: (a, b) => Math.max(a, b),
  Min: (a, b) => Math.min(a, b)
};

/** A symbolic dim survives only the identities (x+0, x-0, x*1, x/1, max(x,1)-style not assumed). */
function symbolicArithmetic(op: string, a: Dim, b: Dim): Dim {
  if (typeof a === 'string' && ((b === 0 && (op === 'Add' || op === 'Sub')) || (b === 1 && (op === 'Mul' || op === 'Div')))) return a;
  if (typeof b === 'string' && ((a === 0 && op === 'Add') || (a === 1 && op === 'Mul'))) return b;
  return null;
}

function binaryValue(op: string, integer: boolean): Combine {
  const compute = arithmetic[op];
  return ([a, b]) => {
    if (typeof a === 'number' && typeof b === 'number') {
      if (integer && op === 'Div' && b === 0) return null;
      const result = compute(a, b, integer);
      return Number.isFinite(result) || !integer ? result : null;
    }
    return symbolicArithmetic(op, a, b);
  };
}

const comparisons: Record<string, (a: number, b: number) => boolean> = {
  Equal: (a, b) => a === b,
  Less: (a, b) => a < b,
  Greater: (a, b) => a > b,
  LessOrEqual: (a, b) => a <= b,
  GreaterOrEqual: (a, b) => a >= b,
  And: (a, b) => a !== 0 && b !== 0,
  Or: (a, b) => a !== 0 || b !== 0,
  Xor: (a, b) => (a !== 0) !== (b !== 0)
};

function broadcastInputs(ctx: NodeContext): { inputs: number[]; shape: Dim[] } {
  const inputs = ctx.node.inputs.map((_, i) => i).filter((i) => ctx.has(i));
  if (inputs.length === 0) fail('no inputs');
  return { inputs, shape: broadcastShapes(inputs.map((i) => ctx.requireShape(i))) };
}

const arithmeticRule: InferenceRule = (ctx) => {
  const { inputs, shape } = broadcastInputs(ctx);
  const type = ctx.type(0) ?? ctx.type(1);
  const op = ctx.node.opType;
  const values = inputs.length === 2 && Object.hasOwn(arithmetic, op) ? broadcastValues(ctx, inputs, shape, binaryValue(op, isIntegerType(type))) : null;
  return [{ elementType: type, shape, values }];
};

const comparisonRule: InferenceRule = (ctx) => {
  const { inputs, shape } = broadcastInputs(ctx);
  const compare = comparisons[ctx.node.opType];
  const values =
    inputs.length === 2
      ? broadcastValues(ctx, inputs, shape, ([a, b]) => {
          if (typeof a === 'number' && typeof b === 'number') return compare(a, b) ? 1 : 0;
          if (ctx.node.opType === 'Equal' && typeof a === 'string' && a === b) return 1;
          return null;
        })
      : null;
  return [{ elementType: 'bool', shape, values }];
};

const where: InferenceRule = (ctx) => {
  const shape = broadcastShapes([0, 1, 2].map((i) => ctx.requireShape(i)));
  const values = broadcastValues(ctx, [0, 1, 2], shape, ([condition, x, y]) => (typeof condition === 'number' ? (condition !== 0 ? x : y) : null));
  return [{ elementType: ctx.type(1) ?? ctx.type(2), shape, values }];
};

type Unary = (x: number) => number;

const unaryValues: Record<string, Unary> = {
  Identity: (x) => x,
  Neg: (x) => -x,
  Abs: (x) => Math.abs(x),
  Floor: (x) => Math.floor(x),
  Ceil: (x) => Math.ceil(x),
  Round: (x) => {
    const rounded = Math.round(x);
    return Math.abs(x % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
  },
  Sqrt: (x) => Math.sqrt(x),
  Reciprocal: (x) => 1 / x,
  Relu: (x) => Math.max(0, x),
  Sign: (x) => Math.sign(x),
  Not: (x) => (x === 0 ? 1 : 0)
};

function unary(elementType: (ctx: NodeContext) => ElementTypeName | null): InferenceRule {
  return (ctx) => {
    const compute: Unary | undefined = Object.hasOwn(unaryValues, ctx.node.opType) ? unaryValues[ctx.node.opType] : undefined;
    const input = ctx.values(0);
    const values = compute && input ? input.map((v) => (typeof v === 'number' ? compute(v) : ctx.node.opType === 'Identity' ? v : null)) : null;
    return [{ elementType: elementType(ctx), shape: ctx.requireShape(0), values }];
  };
}

const keepType = unary(() => null);
const toBool = unary(() => 'bool');

function castValue(target: ElementTypeName): (v: Dim) => Dim {
  if (target === 'bool') return (v) => (typeof v === 'number' ? (v !== 0 ? 1 : 0) : null);
  if (isIntegerType(target)) return (v) => (typeof v === 'number' ? Math.trunc(v) : v);
  if (target === 'string') return () => null;
  return (v) => (typeof v === 'number' ? v : null);
}

const cast: InferenceRule = (ctx) => {
  const target = ctx.elementTypeAttribute('to') ?? fail('Cast without "to"');
  const values = ctx.values(0)?.map(castValue(target)) ?? null;
  return [{ elementType: target, shape: ctx.requireShape(0), values }];
};

const castLike: InferenceRule = (ctx) => {
  const target = ctx.type(1);
  const values = target ? (ctx.values(0)?.map(castValue(target)) ?? null) : null;
  return [{ elementType: target ?? 'undefined', shape: ctx.requireShape(0), values }];
};

const dropout: InferenceRule = (ctx) => {
  const shape = ctx.requireShape(0);
  return [
    { elementType: null, shape, values: ctx.values(0) },
    { elementType: 'bool', shape }
  ];
};

const unaryOps = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
  'Gelu', 'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Clip', 'Identity', 'Sin', 'Cos', 'Tan', 'Asin',
  'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Floor', 'Ceil', 'Round', 'Sign', 'Mish',
  'ThresholdedRelu', 'Shrink', 'Softmax', 'LogSoftmax', 'Hardmax', 'CumSum', 'Trilu', 'BitwiseNot'
];
const arithmeticOps = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor'];

export const elementwiseRules: Record<string, InferenceRule> = {
  ...Object.fromEntries(unaryOps.map((op) => [op, keepType])),
  ...Object.fromEntries(arithmeticOps.map((op) => [op, arithmeticRule])),
  ...Object.fromEntries(Object.keys(comparisons).map((op) => [op, comparisonRule])),
  Not: toBool,
  IsNaN: toBool,
  IsInf: toBool,
  Where: where,
  Cast: cast,
  CastLike: castLike,
  Dropout: dropout
};
