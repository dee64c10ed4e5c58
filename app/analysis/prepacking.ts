// Whether onnxruntime's weight prepacking pays for a graph. When the CPU provider opens a
// session it repacks each constant weight of a GEMM-like kernel (MatMul, Gemm, the recurrent
// ops, attention, the integer GEMMs) into its GEMM's panel layout: a copy of every such
// weight, made on the session's thread — about 300 ms for AlexNet's 233 MB of Gemm weights
// on this 2-core machine. It pays back when a weight meets more than one row per run, and
// for one row too unless the weight is large: MLAS's single-row path reads the weight as
// the file holds it, faster than the packed kernel only from about 96 MiB (a 392 MiB weight
// 22 % faster, 144 MiB 7 %) and slower below (1–56 MiB 11–59 % slower; Kaldi's 16 MiB
// layers). So a batch-1 classifier whose weights are mostly huge (AlexNet, VGG-16, DeepFace)
// runs faster without the copy, and one of small or middling weights (Kaldi, MobileNetV3)
// with it.
// The session openers in main/ ask this per graph they open (a model, a head, a tail) and
// turn prepacking off where it cannot pay, so a sweep's cut costs its runs, not its copies.
import type { AttributeValue, Dim, OnnxModel } from '../onnx/model.js';
import { isStatic } from './shape-math.js';
import type { ModelAnalysis } from './types.js';

/** Ops whose CPU kernels prepack their constant weights whatever the rows (fp32 and integer GEMMs of recurrent, attention and quantized kernels). */
const ALWAYS_PREPACKING_OPS = new Set([
  'GRU',
  'LSTM',
  'RNN',
  'Attention',
  'MultiHeadAttention',
  'QAttention',
  'DynamicQuantizeLSTM',
  'ConvTranspose',
  'QLinearConv',
  'QLinearMatMul',
  'MatMulInteger',
  'ConvInteger',
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'MatMulNBits',
  'MatMulBnb4',
  'QGemm',
  'FusedMatMul',
  'FusedGemm',
  'FusedConv'
]);

/**
 * A weight this small stays in cache, and the packed kernel wins there too: SENNA's 300-wide
 * Gemms ran 6–12 % slower unpacked.
 */
const MIN_UNPACKED_WEIGHT_BYTES = 1 << 20;

/**
 * From about this size a single-row weight runs faster unpacked (onnxruntime 1.30, x64, one
 * thread; one-row Gemm chains streaming from memory, packed and unpacked in turns, the median
 * of 10–12 rounds): 392 MiB ×0.78, 144 MiB ×0.93, 96 MiB ×0.98, 64 MiB ×0.98 and ×1.13 on two
 * runs, 32–56 MiB ×1.11–1.25, 1–16 MiB ×1.20–1.59. The packed kernel streams faster when the
 * memory is quick; the single-row path holds up better on a huge weight.
 */
export const LARGE_UNPACKED_WEIGHT_BYTES = 96 * 2 ** 20;

/**
 * How many times the bytes of its smaller single-row weights a graph's large ones must be for
 * their gain unpacked to outweigh what the smaller ones lose; the session then also opens
 * without the copy (AlexNet 1.8 s against 2.9, VGG-16 4.6 s against 7.1). Measured whole,
 * unpacked against packed: AlexNet (144 MiB against 80) ×0.97, DeepFace (110 against 63)
 * ×0.97, VGG-16 (392 against 80) ×0.99; Kaldi (none against 111) ×1.08, MobileNetV3-S ×1.07.
 */
export const LARGE_TO_SMALLER_BYTES = 1;

export interface PrepackingVerdict {
  pays: boolean;
  /** The layer that decided it, or why nothing did. */
  reason: string;
}

/**
 * Whether a session of `model` gains from prepacking its weights. `cpuArchitecture` is
 * Node's `process.arch`: on arm64 onnxruntime's fp32 Conv prepacks too (its KleidiAI path),
 * so a Conv with a weight keeps prepacking there. Unknown rows count as many.
 */
export function weightPrepackingPays(model: OnnxModel, analysis: ModelAnalysis, cpuArchitecture: string): PrepackingVerdict {
  let largeBytes = 0;
  let smallerBytes = 0;
  let largestSmaller: { where: string; bytes: number } | null = null;
  for (const layer of analysis.layers) {
    if (layer.weightInputs.length === 0) continue;
    const where = `${layer.opType} '${layer.name}'`;
    if ((layer.intMacs ?? 0) > 0) return { pays: true, reason: `${where} multiplies integers` };
    if (ALWAYS_PREPACKING_OPS.has(layer.opType)) return { pays: true, reason: `${where} prepacks its weights` };
    if (layer.opType === 'Conv' && cpuArchitecture === 'arm64') return { pays: true, reason: `${where} prepacks its weights on arm64` };
    if (layer.opType !== 'MatMul' && layer.opType !== 'Gemm') continue;
    const node = model.graph.nodes[layer.nodeIndex];
    const [a, b] = node.inputs;
    if (!layer.weightInputs.includes(b)) continue;
    const rows = rowsOf(analysis.tensors.get(a)?.shape ?? null, layer.opType === 'Gemm' && transposesA(node.attributes.get('transA')));
    if (rows === null) return { pays: true, reason: `${where} multiplies rows of unknown count` };
    if (rows > 1) return { pays: true, reason: `${where} multiplies ${rows} rows by its weight` };
    const weightBytes = analysis.tensors.get(b)?.bytes ?? null;
    if (weightBytes === null) return { pays: true, reason: `${where} multiplies one row by a weight of unknown size` };
    if (weightBytes < MIN_UNPACKED_WEIGHT_BYTES) return { pays: true, reason: `${where} multiplies one row by a weight small enough to stay in cache` };
    if (weightBytes >= LARGE_UNPACKED_WEIGHT_BYTES) largeBytes += weightBytes;
    else {
      smallerBytes += weightBytes;
      if (!largestSmaller || weightBytes > largestSmaller.bytes) largestSmaller = { where, bytes: weightBytes };
    }
  }
  if (largestSmaller && largeBytes < LARGE_TO_SMALLER_BYTES * smallerBytes) {
    return { pays: true, reason: `${largestSmaller.where} multiplies one row by a weight of ${mib(largestSmaller.bytes)} MiB, which runs faster packed` };
  }
  if (largeBytes === 0) return { pays: false, reason: 'no GEMM weight to prepack' };
  return {
    pays: false,
    reason: largestSmaller
      ? `its single-row weights of ${mib(LARGE_UNPACKED_WEIGHT_BYTES, 0)} MiB or more (${mib(largeBytes)} MiB) gain more unpacked than its smaller ones (${mib(smallerBytes)} MiB) lose`
      : 'every weight meets one row per run and is large enough to run faster unpacked'
  };
}

function mib(bytes: number, digits = 1): string {
  return (bytes / 2 ** 20).toFixed(digits);
}

function transposesA(attribute: AttributeValue | undefined): boolean {
  return attribute?.kind === 'int' && attribute.value !== 0;
}

/** Rows of a GEMM's left operand: all dims but the last (Gemm: the first, or the second when transposed). */
function rowsOf(shape: Dim[] | null, transposed: boolean): number | null {
  if (!isStatic(shape) || shape.length === 0) return null;
  if (transposed) return shape.length === 2 ? shape[1] : null;
  return shape.slice(0, -1).reduce((product, dim) => product * dim, 1);
}
