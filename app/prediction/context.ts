// Layers run slower inside a network than alone. The sweep times each configuration alone,
// over and over: its code, its small weights and its inputs stay in the core's caches
// between runs. Inside a network every other layer passes through those caches in between,
// so the same kernel finds them cold. Profiled here at 'disabled', one thread, a
// LayerNormalization over 128×128 took 8.5 µs alone, 10.7 µs after a Linear and 11.3 µs in
// a stack of eight blocks; a Transpose of the heads 4.7, 6.2 and 7.4 µs. The zoo
// transformers were predicted 15–22 % short.
//
// So a characterisation ends by profiling a few generated networks
// (`calibrationNetworks`: a stack of transformer blocks and two stacks of inverted-residual
// blocks with squeeze-and-excitation) layer by layer, and comparing each layer type's
// measured time with what the sweep's own fits predict for the same layers: the ratio of
// the sums is that type's context factor (`contextFactors`), which predictions multiply
// each layer of the type by, up to twice the largest size (the type's size feature) the
// networks held: a much larger layer runs long enough for a cold start not to count (a conv factor of
// 1.12 from the networks' convs, applied to VGG-16's, predicted it 14 % long). None of the
// models predictions are checked on is used. A factor is kept only where the networks give
// it enough to go on (MIN_LAYERS layers, MIN_PREDICTED_MS predicted), never below 1
// (caches left cold only slow a kernel down; a ratio below 1 is the fit's error, not the
// context's) and at most MAX_CONTEXT_FACTOR. Data movement has none: a Reshape's cost
// inside a network depends on whether the runtime lets it alias its input (a view) or
// copies it, not on the caches.
//
// At 'all' the factors come from networks of their own, full size (maps of 112×112 and
// 56×56) and profiled at that level (`calibrationNetworks('all')`): there onnxruntime runs
// its convolutions blocked (NCHWc), and those keep their lone speed in the small networks
// but not in a large one. With one characterisation of this machine, the at-'all' factors
// (depthwise conv 1.62, pooling 1.17, element-wise 1.19) moved EfficientNet-B0 from −8 to
// 0 % and MobileNet-V2 from −9 to −1 % at 'all', against the same measured runs.
// Predictions at 'all' take a type's factor from there where it has one.
import { GraphBuilder } from '../onnx/builder.js';
import type { ContextFactor, GraphOptimization } from '../profiling/types.js';
import { LAYER_TYPE_SIZE_FEATURE, type LayerFeatures, type LayerType } from './features.js';

export const MIN_LAYERS = 6;
const MIN_PREDICTED_MS = 0.03;
export const MAX_CONTEXT_FACTOR = 2.5;
/** A factor holds for layers up to this many times the largest of its type the networks held. */
const SIZE_MARGIN = 2;

/** The layer types a context factor may be found for (every modelled float type but data movement and recurrent layers, which the networks do not hold). */
export const CONTEXT_TYPES: readonly LayerType[] = ['conv', 'groupedConv', 'depthwiseConv', 'fc', 'fcBatched', 'matmul', 'pooling', 'activation', 'normalization', 'softmax', 'elementwise'];

/** One layer of a calibration network: its type and size (the type's size feature), as profiled, and as the fits predict it. */
export interface ContextSample {
  layerType: string;
  size: number;
  measuredMs: number;
  predictedMs: number;
}

/** Per layer type, measured over predicted in the calibration networks, where there is enough to go on, and the largest size it was found on. */
export function contextFactors(samples: readonly ContextSample[]): Partial<Record<LayerType, ContextFactor>> {
  const factors: Partial<Record<LayerType, ContextFactor>> = {};
  for (const type of CONTEXT_TYPES) {
    const ofType = samples.filter((s) => s.layerType === type && Number.isFinite(s.measuredMs) && Number.isFinite(s.predictedMs) && Number.isFinite(s.size));
    const predicted = ofType.reduce((sum, s) => sum + s.predictedMs, 0);
    const measured = ofType.reduce((sum, s) => sum + s.measuredMs, 0);
    if (ofType.length < MIN_LAYERS || predicted < MIN_PREDICTED_MS) continue;
    factors[type] = { factor: Math.min(MAX_CONTEXT_FACTOR, Math.max(1, measured / predicted)), sizeFeature: LAYER_TYPE_SIZE_FEATURE[type], upTo: SIZE_MARGIN * Math.max(...ofType.map((s) => s.size)) };
  }
  return factors;
}

/** The factor a layer described so is multiplied by: its type's, when it is no larger than the layers the factor was found on; else 1. */
export function contextFactorOf(factors: Partial<Record<string, ContextFactor>> | undefined, described: LayerFeatures | null): number {
  const entry = described ? factors?.[described.layerType] : undefined;
  if (!entry || !described) return 1;
  const size = described.features[entry.sizeFeature];
  return size !== undefined && size <= entry.upTo ? entry.factor : 1;
}

/** A stack of post-norm transformer blocks (attention written out, GELU feed-forward), each block with weights of its own. */
function transformerStack(features: number, tokens: number, heads: number, blocks: number): Uint8Array {
  const b = new GraphBuilder('context-transformer', { seed: 3 });
  const perHead = features / heads;
  let h = b.input('x', 'float32', [1, tokens, features]);
  const split = (x: string, perm: number[]): string => b.transpose(b.reshape(b.matmulLinear(x, features, features), [1, tokens, heads, perHead]), perm);
  for (let block = 0; block < blocks; block++) {
    const q = split(h, [0, 2, 1, 3]);
    const k = split(h, [0, 2, 3, 1]);
    const v = split(h, [0, 2, 1, 3]);
    const scores = b.softmax(b.op('Div', [b.op('MatMul', [q, k]), b.constantFloat('/scale', [], new Float32Array([Math.sqrt(perHead)]))]));
    const context = b.reshape(b.transpose(b.op('MatMul', [scores, v]), [0, 2, 1, 3]), [1, tokens, features]);
    h = b.layerNorm(b.add(b.matmulLinear(context, features, features), h), features);
    h = b.layerNorm(b.add(b.matmulLinear(b.gelu(b.matmulLinear(h, features, 4 * features)), 4 * features, features), h), features);
  }
  b.output(h, 'float32', null);
  return b.toBytes();
}

/** A stack of inverted-residual blocks (expand, depthwise, squeeze-and-excitation, project, residual Add). */
function invertedResidualStack(channels: number, size: number, blocks: number): Uint8Array {
  const b = new GraphBuilder('context-cnn', { seed: 4 });
  const wide = 4 * channels;
  let h = b.input('x', 'float32', [1, channels, size, size]);
  for (let block = 0; block < blocks; block++) {
    const expanded = b.relu(b.conv(h, { inChannels: channels, outChannels: wide, kernel: 1 }));
    const depthwise = b.relu(b.conv(expanded, { inChannels: wide, outChannels: wide, kernel: 3, pad: 1, group: wide }));
    const squeezed = b.relu(b.conv(b.globalAveragePool(depthwise), { inChannels: wide, outChannels: channels / 2, kernel: 1 }));
    const gate = b.op('Sigmoid', [b.conv(squeezed, { inChannels: channels / 2, outChannels: wide, kernel: 1 })]);
    h = b.add(b.conv(b.mul(depthwise, gate), { inChannels: wide, outChannels: channels, kernel: 1 }), h);
  }
  b.output(h, 'float32', null);
  return b.toBytes();
}

/**
 * The networks a characterisation profiles to find its context factors at `level` (a few ms
 * a run each). At 'all' two of full size join them: onnxruntime's blocked (NCHWc)
 * convolutions keep their lone speed in the small networks (conv ×1.00) but not in a
 * full-size one (a generated 224×224 mobile network: conv ×1.40, depthwise ×1.73), where the
 * plain kernels of 'disabled' keep theirs.
 */
export function calibrationNetworks(level: GraphOptimization = 'disabled'): { name: string; bytes: Uint8Array }[] {
  if (level === 'all') {
    return [
      { name: 'inverted-residual-112', bytes: invertedResidualStack(16, 112, 2) },
      { name: 'inverted-residual-56', bytes: invertedResidualStack(24, 56, 4) }
    ];
  }
  return [
    { name: 'transformer', bytes: transformerStack(192, 128, 4, 6) },
    { name: 'inverted-residual-28', bytes: invertedResidualStack(32, 28, 8) },
    { name: 'inverted-residual-14', bytes: invertedResidualStack(64, 14, 8) }
  ];
}
