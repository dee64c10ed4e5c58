// Whether onnxruntime's weight prepacking pays for a graph. When the CPU provider opens a
// session it repacks each constant weight of a GEMM-like kernel (MatMul, Gemm, the recurrent
// ops, attention, the integer GEMMs) into its GEMM's panel layout: a copy of every such
// weight, made on the session's thread — about 300 ms for AlexNet's 233 MB of Gemm weights
// on this 2-core machine. It pays back only when a weight meets more than one row per run:
// a MatMul or Gemm that multiplies one row (the classifier of a batch-1 vision model) takes
// MLAS's single-row path, which reads the weight as the file holds it, and measured no
// slower without the packed copy (AlexNet, VGG-16 and DeepFace 3–4 % faster, docs/profiling.md).
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
 * A single-row GEMM runs as fast on its weight as stored only when the weight streams from
 * memory either way. Below this, the packed kernel wins: SENNA's 300-wide Gemms ran 6–12 %
 * slower unpacked, while AlexNet's, VGG-16's and ResNet-50's classifiers (8–151 MB) ran no slower.
 */
const MIN_UNPACKED_WEIGHT_BYTES = 1 << 20;

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
  }
  return { pays: false, reason: 'every weight meets one row per run' };
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
