// Refuses quantized nodes that no runtime can run as written, with one line naming the
// node (QuantizationError), before analysis counts anything: a scale that is missing, or
// not a scalar where the op needs one, or not a float; a zero point of another type than
// its tensor (or no 8/16/4-bit integer at all), or of another shape than its scale; and
// per-axis layouts the studio does not model (a scale of rank > 1, a per-axis scale whose
// length is not the size of its axis, blocked quantization). Which inputs are scales and
// zero points is rules-quant.ts's `quantizedOperands`.
import type { ElementTypeName } from '../onnx/element-type.js';
import { formatShape, type Dim } from '../onnx/model.js';
import type { NodeContext } from './context.js';
import { MICROSOFT_DOMAIN, microsoftQuantRules, quantizedInputNames, quantizedOperands, quantizedTypes, quantRules, type QuantOperand } from './rules-quant.js';
import { isDefaultDomain } from './rules.js';

export class QuantizationError extends Error {
  override name = 'QuantizationError';
}

const floatTypes: ReadonlySet<ElementTypeName> = new Set<ElementTypeName>(['float32', 'float16', 'bfloat16']);

function elementCount(shape: Dim[]): number | null {
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number') return null;
    count *= d;
  }
  return count;
}

/** The size of the axis a per-axis operand is quantized along, or null when it cannot be known. */
function axisSize(ctx: NodeContext, o: QuantOperand): { axis: number; size: Dim } | { problem: string } | null {
  if (o.layout.kind !== 'perAxis' || o.data === null) return null;
  const shape = ctx.shape(o.data);
  if (!shape) return null;
  const rank = shape.length;
  let axis: number;
  switch (o.layout.axis) {
    case 'attribute':
      axis = ctx.int('axis', 1);
      break;
    case 'lastDim':
      axis = rank - 1;
      break;
    case 'transB':
      axis = ctx.int('transB', 0) ? 0 : rank - 1;
      break;
    default:
      axis = o.layout.axis;
  }
  if (axis < -rank || axis >= rank) return { problem: `axis ${axis} is out of range for ${o.label} of rank ${rank}` };
  const normalized = axis < 0 ? axis + rank : axis;
  return { axis: normalized, size: shape[normalized] };
}

function inputName(ctx: NodeContext, index: number): string {
  return quantizedInputNames[ctx.node.opType]?.[index] ?? `input ${index}`;
}

function operandProblem(ctx: NodeContext, o: QuantOperand): string | null {
  const scaleName = o.scale === null ? null : inputName(ctx, o.scale);
  if (o.scale !== null && !ctx.has(o.scale)) return o.scaleRequired ? `has no ${scaleName}` : null;
  const scaleShape = o.scale === null ? null : ctx.shape(o.scale);
  const scaleType = o.scale === null ? null : ctx.type(o.scale);
  if (scaleName && scaleType && !floatTypes.has(scaleType)) return `${scaleName} is ${scaleType}; a scale must be float32, float16 or bfloat16`;

  const zeroName = o.zeroPoint === null ? null : inputName(ctx, o.zeroPoint);
  const zeroGiven = o.zeroPoint !== null && ctx.has(o.zeroPoint);
  const zeroShape = zeroGiven ? ctx.shape(o.zeroPoint as number) : null;
  const zeroType = zeroGiven ? ctx.type(o.zeroPoint as number) : null;
  const dataType = o.data === null ? null : ctx.type(o.data);
  if (zeroName && zeroType) {
    if (o.zeroPointType === 'data' && dataType && zeroType !== dataType) {
      return `${zeroName} is ${zeroType} but ${inputName(ctx, o.data as number)} is ${dataType}; a zero point has its tensor's type`;
    }
    // DequantizeLinear also reads int32 (a QDQ bias), with an int32 zero point of 0.
    const int32Allowed = ctx.node.opType === 'DequantizeLinear' && zeroType === 'int32';
    if (!quantizedTypes.has(zeroType) && !int32Allowed) return `${zeroName} is ${zeroType}; a zero point must be an 8-, 16- or 4-bit integer type`;
  }

  // The layout: the scale's shape decides it (a zero point without a scale, ConvInteger's, by its own).
  const layoutShape = scaleShape ?? zeroShape;
  const layoutName = scaleName ?? zeroName;
  if (!layoutShape || !layoutName) return null;
  const count = elementCount(layoutShape);
  if (scaleShape && zeroShape && (zeroShape.length !== scaleShape.length || elementCount(zeroShape) !== count)) {
    return `${zeroName} has shape ${formatShape(zeroShape)} but ${scaleName} has shape ${formatShape(scaleShape)}`;
  }
  const isScalar = layoutShape.length === 0 || (layoutShape.length === 1 && count === 1);
  if (isScalar) return null;
  if (o.layout.kind === 'scalar') return `${layoutName} must be a scalar (per-tensor), got shape ${formatShape(layoutShape)}`;
  if (layoutShape.length > 1) return `unsupported per-axis layout: ${layoutName} has shape ${formatShape(layoutShape)} (a per-axis scale is 1-D)`;
  const axis = axisSize(ctx, o);
  if (axis && 'problem' in axis) return `unsupported per-axis layout: ${axis.problem}`;
  if (axis && typeof axis.size === 'number' && typeof layoutShape[0] === 'number' && layoutShape[0] !== axis.size) {
    return `unsupported per-axis layout: ${layoutName} has ${layoutShape[0]} values but ${o.label} has ${axis.size} along axis ${axis.axis}`;
  }
  return null;
}

/** The first problem of a quantized node as a phrase, or null when it is well formed (or not quantized). */
export function quantizationProblem(ctx: NodeContext): string | null {
  const { opType: op, domain } = ctx.node;
  const quantized = isDefaultDomain(domain) ? Object.hasOwn(quantRules, op) : domain === MICROSOFT_DOMAIN && Object.hasOwn(microsoftQuantRules, op);
  if (!quantized) return null;
  if ((op === 'QuantizeLinear' || op === 'DequantizeLinear') && ctx.int('block_size', 0) > 0) {
    return `unsupported per-axis layout: blocked quantization (block_size ${ctx.int('block_size', 0)})`;
  }
  if (op === 'DynamicQuantizeLinear' || op === 'DynamicQuantizeMatMul') {
    const type = ctx.type(0);
    if (type && type !== 'float32') return `${inputName(ctx, 0)} is ${type}; ${op} quantizes float32`;
  }
  for (const o of quantizedOperands(ctx)) {
    const problem = operandProblem(ctx, o);
    if (problem) return problem;
  }
  return null;
}

/** Throws QuantizationError naming the node when `quantizationProblem` finds one. */
export function checkQuantizedNode(ctx: NodeContext): void {
  const problem = quantizationProblem(ctx);
  if (problem) throw new QuantizationError(`node "${ctx.node.name}" (${ctx.node.opType}): ${problem}`);
}
