// The layer types of Neurosurgeon's prediction models (Kang et al., ASPLOS 2017, §4.3)
// and the features each is predicted from. One classifier serves both sides, so they
// can never disagree: main/profiling/characterize.ts computes a sweep sample's features with it,
// and predict.ts computes a new model's layer features with it before applying the
// fitted regressions (regression.ts). Layers it cannot classify or measure get null and
// fall back to the roofline estimate. Integer kernels (QLinearConv, QLinearMatMul,
// ConvInteger, MatMulInteger, QLinearAdd, ...) and the quantize / dequantize ops are types
// of their own: an integer conv runs at another rate than a float one. A QDQ layer's
// quantization steps (app/analysis/quant-steps.ts) are costed one by one (`stepFeatures`).
import type { NchwcLayout } from '../profiling/types.js';
import type { LayerAnalysis, ModelAnalysis } from '../analysis/types.js';
import type { AttributeValue, Dim, OnnxGraph, OnnxNode } from '../onnx/model.js';
import { MICROSOFT_DOMAIN } from '../analysis/rules-quant.js';
import { staticElementCount } from '../analysis/shape-math.js';
import { recurrentGates } from '../analysis/rules-nn.js';

export type LayerType =
  | 'conv'
  | 'groupedConv'
  | 'depthwiseConv'
  | 'fc'
  | 'fcBatched'
  | 'matmul'
  | 'pooling'
  | 'activation'
  | 'normalization'
  | 'softmax'
  | 'elementwise'
  | 'dataMovement'
  | 'recurrent'
  | 'qconv'
  | 'qdepthwiseConv'
  | 'qfc'
  | 'quantize'
  | 'qelementwise';

/**
 * The features of each layer type's regression, in the order the fits use them. The
 * paper's features come first; the extras separate layers the paper's features alone
 * confuse: conv's `macs` (a 1×1 and a 3×3 conv over 256 channels) and `im2colElements`
 * (the unfolded input onnxruntime's conv writes and its GEMM reads, c·k²·out_h·out_w; 0
 * for a 1×1 stride-1 conv, which reads its input as it is: a conv with few filters uses
 * each unfolded value for few MACs, so DeepFace's 16-filter 9×9 conv ran 30 % under the
 * rate of the many-filter convs that dominate the sweep), fc's weight count
 * `inputTimesOutputNeurons` (what a one-row FC is bound by: reading its weights) and
 * `macs`; an FC applied to many rows at once (a transformer's Linear layers) is its own
 * type, `fcBatched`, bound by MACs where a one-row FC is bound by its weights; pooling's
 * `outputSizeTimesWindow` (a 2×2 or a 3×3 window), normalisation's `lrnWindowNeurons`
 * (neurons × LRN size; 0 for batch/layer/instance norms, which cost ~10× less per neuron)
 * and `statisticsNeurons` (neurons of a layer/instance/group norm, which computes a mean
 * and variance on every run where a batch norm applies stored ones: ≈3× the time here)
 * and `residualNeurons` (neurons of a LayerNorm that adds a residual first: onnxruntime
 * runs Add → LayerNormalization as one SkipLayerNormalization kernel at 'all', which on
 * onnxruntime 1.30's CPU provider takes ≈9× a LayerNormalization's time; 0 for a lone norm),
 * activation's `transcendentalNeurons` (neurons of an activation that evaluates exp, tanh
 * or erf: ≈4× a ReLU's time), data movement's `copiedBytes` (0 for ops that only relabel
 * a buffer: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout), `copies` (1 for an
 * op that copies at all: starting a copy costs ≈1 µs where relabelling a buffer of any
 * size costs ≈0.2 µs, which bytes alone cannot tell apart) and `transposedBytes` (a
 * Transpose's strided copy). The integer types take their float twins' features:
 * `qconv` and `qdepthwiseConv` (QLinearConv, ConvInteger) conv's, `qfc` (QLinearMatMul,
 * MatMulInteger, QGemm and kin by a 2-D weight) fc's, `qelementwise` (QLinearAdd,
 * QLinearMul, QLinearSigmoid, QLinearLeakyRelu) elementwise's; `quantize` (QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear) counts `neurons` and `dynamicNeurons` (those of a
 * DynamicQuantizeLinear, which reads its input twice: once for its range, once to quantize).
 *
 * A conv's GEMM multiplies its filters by out_h·out_w columns, which onnxruntime's MLAS
 * kernels compute GEMM_COLUMN_STRIP at a time, a partial strip costing a whole one: conv
 * counts `gemmMacs`, its MACs with the columns rounded up to whole strips (a 1×1 conv over a
 * 7×7 map, 49 columns, takes as long as over 8×8: 242 and 244 µs for 192→1152 channels
 * here, so EfficientNet-B0's and MobileNetV3's 7×7 stages ran 20–37 % over their MACs' fit).
 *
 * Today's layers (issue 19): a grouped conv that is not depthwise (RegNet's, ResNeXt's) is
 * `groupedConv`: onnxruntime runs one im2col and one GEMM per group, so besides MACs and the
 * unfolded input it pays per group (`groups`) and per output value (`outputSize`); a
 * depthwise conv's cost follows its output values too (`outputSize`: out_h·out_w·c, with
 * dilation and stride already in them) and its window (`macs`); attention's batched MatMul
 * pays per matrix product (`batches`: heads × batch) and per output value (`outputSize`);
 * an element-wise op that broadcasts one input (squeeze-and-excitation's channel scale
 * [1,C,H,W] × [1,C,1,1], a bias) is counted apart (`broadcastNeurons`), and so are its
 * powers, exponentials and logarithms (`transcendentalNeurons`); data movement
 * counts `paddedBytes` (Pad, Resize: written from a computed index, not copied in runs).
 */
export const LAYER_TYPE_FEATURES: Readonly<Record<LayerType, readonly string[]>> = {
  conv: ['inputSize', 'filterStrideSquaredTimesFilters', 'gemmMacs', 'im2colElements', 'outputSize'],
  groupedConv: ['inputSize', 'macs', 'im2colElements', 'groups', 'outputSize'],
  depthwiseConv: ['inputSize', 'filterStrideSquaredTimesFilters', 'macs', 'outputSize'],
  fc: ['inputNeurons', 'outputNeurons', 'inputTimesOutputNeurons', 'macs'],
  fcBatched: ['inputTimesOutputNeurons', 'macs'],
  matmul: ['macs', 'batches', 'outputSize'],
  pooling: ['inputSize', 'outputSize', 'outputSizeTimesWindow'],
  activation: ['neurons', 'transcendentalNeurons'],
  normalization: ['neurons', 'lrnWindowNeurons', 'statisticsNeurons', 'residualNeurons'],
  softmax: ['neurons'],
  elementwise: ['neurons', 'broadcastNeurons', 'transcendentalNeurons'],
  dataMovement: ['bytes', 'copiedBytes', 'transposedBytes', 'copies', 'paddedBytes'],
  recurrent: ['inputMacs', 'recurrentMacs', 'steps', 'gateNeurons', 'gruSteps', 'lstmSteps'],
  qconv: ['inputSize', 'filterStrideSquaredTimesFilters', 'macs', 'im2colElements'],
  qdepthwiseConv: ['inputSize', 'filterStrideSquaredTimesFilters', 'macs'],
  qfc: ['inputNeurons', 'outputNeurons', 'inputTimesOutputNeurons', 'macs'],
  quantize: ['neurons', 'dynamicNeurons'],
  qelementwise: ['neurons']
};

/** Output columns MLAS's SGEMM kernels compute at a time (x86 AVX2 and AVX-512 alike: 16 floats); measured here as above. */
export const GEMM_COLUMN_STRIP = 16;

/** Activations that evaluate exp, tanh or erf per neuron. */
const transcendentalActivations = new Set(['Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Erf', 'Softplus', 'Mish']);
/**
 * Element-wise ops that compute more per value than an Add or a Mul: a power, exponential
 * or logarithm (Pow with an exponent of 2, as LayerNorms written out square, Exp, Log):
 * about 0.25 ns more a value here over 197×576 values, 2.5× an Add. ViT-S's 24 Pows ran
 * 14–17 µs where an Add's fit said 8. (A division or square root costs about 0.09 ns more
 * where the op is not bound by memory, a Div by a scalar, but not in a Div of two tensors
 * of one shape: a feature of its own fitted negative, so it has none.)
 */
const transcendentalElementwise = new Set(['Pow', 'Exp', 'Log']);
/** Normalisations that compute their statistics on every run. */
const statisticsNormalizations = new Set(['LayerNormalization', 'InstanceNormalization', 'GroupNormalization', 'MeanVarianceNormalization', 'LpNormalization']);
/** Data movement that only relabels its input's buffer (no copy, when the runtime can share it). */
const viewOps = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);
/** Data movement that writes each output from a computed index (padding, resampling). */
const paddedOps = new Set(['Pad', 'Resize', 'Upsample']);

export const LAYER_TYPES = Object.keys(LAYER_TYPE_FEATURES) as LayerType[];

/**
 * The feature that measures each type's size. A type's cost can change regime with size
 * (a 3×3 conv over a 224×224 map runs its multiply-adds at a higher rate than a small
 * one, whose fixed costs weigh more): regression.ts may split a type's samples at one
 * size into two classes, each with its own fit, when cross-validation on the sweep says
 * the split predicts better.
 */
export const LAYER_TYPE_SIZE_FEATURE: Readonly<Record<LayerType, string>> = {
  conv: 'macs',
  groupedConv: 'macs',
  depthwiseConv: 'macs',
  fc: 'inputTimesOutputNeurons',
  fcBatched: 'macs',
  matmul: 'macs',
  pooling: 'inputSize',
  activation: 'neurons',
  normalization: 'neurons',
  softmax: 'neurons',
  elementwise: 'neurons',
  dataMovement: 'bytes',
  recurrent: 'recurrentMacs',
  qconv: 'macs',
  qdepthwiseConv: 'macs',
  qfc: 'inputTimesOutputNeurons',
  quantize: 'neurons',
  qelementwise: 'neurons'
};

/**
 * Weights larger than a last-level cache: in a whole model, each layer's weights were
 * evicted by the other layers' since the previous inference, so a weight-bound layer
 * streams them from memory; the sweep, which runs one layer over and over, measures them
 * warm in cache unless they are this large. An editable assumption (typical LLC size).
 * One-row FC samples with more float32 weights than this are left out of the fc fit
 * (regression.ts) and give the streaming rate instead (predict.ts).
 */
export const LAST_LEVEL_CACHE_BYTES = 32 * 2 ** 20;

/** Float32 weight bytes of a one-row FC layer or sample, from its features. */
export function fcWeightBytes(features: Record<string, number>): number {
  return 4 * (features.inputTimesOutputNeurons ?? 0);
}

const opsByType: Readonly<Partial<Record<LayerType, readonly string[]>>> = {
  pooling: ['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool'],
  activation: [
    'Relu', 'Clip', 'Sigmoid', 'Tanh', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Erf', 'HardSigmoid',
    'HardSwish', 'Softplus', 'Softsign', 'Mish', 'ThresholdedRelu'
  ],
  normalization: [
    'BatchNormalization', 'LayerNormalization', 'InstanceNormalization', 'GroupNormalization', 'LRN',
    'MeanVarianceNormalization', 'LpNormalization'
  ],
  softmax: ['Softmax', 'LogSoftmax'],
  elementwise: [
    'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Sqrt', 'Exp', 'Log', 'Reciprocal', 'Neg', 'Abs', 'Max', 'Min', 'Sum', 'Mean',
    'Floor', 'Ceil', 'Round', 'Sin', 'Cos'
  ],
  dataMovement: [
    'Reshape', 'Flatten', 'Transpose', 'Concat', 'Gather', 'GatherElements', 'GatherND', 'Slice', 'Split', 'Squeeze',
    'Unsqueeze', 'Identity', 'Shape', 'Size', 'Cast', 'CastLike', 'Dropout', 'Expand', 'Tile', 'Pad', 'DepthToSpace',
    'SpaceToDepth', 'Resize', 'Upsample'
  ]
};

const simpleTypeByOp = new Map<string, LayerType>(
  Object.entries(opsByType).flatMap(([type, ops]) => (ops ?? []).map((op) => [op, type as LayerType] as const))
);

export interface LayerFeatures {
  layerType: LayerType;
  /** Values of LAYER_TYPE_FEATURES[layerType], by name. */
  features: Record<string, number>;
}

function intsAttribute(node: OnnxNode, name: string): number[] | null {
  const attribute: AttributeValue | undefined = node.attributes.get(name);
  return attribute?.kind === 'ints' ? attribute.value : null;
}

function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const attribute = node.attributes.get(name);
  return attribute?.kind === 'int' ? attribute.value : fallback;
}

const product = (values: number[]): number => values.reduce((a, b) => a * b, 1);

/** Reads a layer's shapes from the analysis (every value, initializers included); inputs are its own node's. */
class LayerShapes {
  constructor(
    private readonly layer: LayerAnalysis,
    private readonly analysis: ModelAnalysis,
    private readonly node: OnnxNode
  ) {}

  input(position: number): Dim[] | null {
    const name = this.node.inputs[position];
    return name ? (this.analysis.tensors.get(name)?.shape ?? null) : null;
  }

  /** Whether input `position` is a weight (an initializer, or computed from weights alone: a DequantizeLinear of one). */
  isWeight(position: number): boolean {
    const name = this.node.inputs[position];
    return Boolean(name) && this.analysis.weights.values.has(name);
  }

  inputElements(position: number): number | null {
    return staticElementCount(this.input(position));
  }

  outputElements(): number | null {
    return staticElementCount(this.layer.outputs[0]?.shape);
  }
}

/**
 * Whether onnxruntime's CPU provider runs a float Conv layer in its blocked NCHWc layout at
 * 'all' (DeviceProfile.nchwcLayout; null there: no blocked layout, every Conv runs plain).
 * The rule, found by testing onnxruntime 1.30 (fusion-probe.test.ts checks it against the
 * runtime): an ungrouped Conv when its input channels are fewer than a block or a multiple
 * of the alignment; a depthwise Conv when its channels are a multiple of the alignment;
 * another grouped Conv when its input and output channels per group are multiples of the
 * block. A Conv that stays in the plain layout runs the kernel the sweep times at
 * 'disabled'. Null for a layer that is no float Conv, or of unknown channels.
 */
export function runsBlocked(layer: LayerAnalysis, analysis: ModelAnalysis, graph: OnnxGraph, layout: NchwcLayout | null): boolean | null {
  const node = graph.nodes[layer.nodeIndex];
  if (!node || layer.opType !== 'Conv' || node.opType !== 'Conv' || (layer.domain !== '' && layer.domain !== 'ai.onnx')) return null;
  const shapes = new LayerShapes(layer, analysis, node);
  const inChannels = shapes.input(0)?.[1];
  const weight = shapes.input(1);
  const outChannels = weight?.[0];
  if (typeof inChannels !== 'number' || typeof outChannels !== 'number' || weight?.length !== 4) return null;
  if (!layout) return false;
  const group = intAttribute(node, 'group', 1);
  const { blockSize, channelAlignment } = layout;
  if (group === 1) return inChannels < blockSize || inChannels % channelAlignment === 0;
  if (group === inChannels && group === outChannels) return inChannels % channelAlignment === 0;
  return (inChannels / group) % blockSize === 0 && (outChannels / group) % blockSize === 0;
}

/** Channels rounded up to whole blocks of `blockSize`, as onnxruntime's blocked (NCHWc) kernels and reorders hold them. */
export function paddedChannels(channels: number, blockSize: number): number {
  return Math.ceil(channels / blockSize) * blockSize;
}

/** Features of a Conv that scale with its input channels, with its output channels, and with both (its MACs). */
const IN_CHANNEL_FEATURES = ['inputSize', 'im2colElements'];
const OUT_CHANNEL_FEATURES = ['outputSize', 'filterStrideSquaredTimesFilters'];
const MAC_FEATURES = ['macs', 'gemmMacs'];

/**
 * A layer's features as the kernel it runs at 'all' computes them: a Conv onnxruntime runs
 * blocked (runsBlocked) works on whole blocks of channels, so its output channels are
 * padded to a multiple of the block, and so are its input channels when it reads a blocked
 * input (a block or more of them; fewer are read plain) — LeNet's Conv 20→50 computes
 * 32→64 channels, 2.05× its MACs (39 µs at 'all', as at 'disabled', where its MACs
 * predicted 16). A depthwise Conv pads its channels once; the grouped Convs onnxruntime
 * blocks have whole blocks per group already. Any other layer: layerFeatures.
 */
export function kernelFeatures(layer: LayerAnalysis, analysis: ModelAnalysis, graph: OnnxGraph, layout: NchwcLayout | null): LayerFeatures | null {
  const described = layerFeatures(layer, analysis, graph);
  if (!described || !layout || runsBlocked(layer, analysis, graph, layout) !== true) return described;
  const node = graph.nodes[layer.nodeIndex];
  const shapes = new LayerShapes(layer, analysis, node);
  const inChannels = shapes.input(0)?.[1] as number;
  const outChannels = (shapes.input(1) as number[])[0];
  const group = intAttribute(node, 'group', 1);
  const padded = (channels: number): number => paddedChannels(channels, layout.blockSize);
  const depthwise = group > 1 && group === inChannels && group === outChannels;
  if (group > 1 && !depthwise) return described;
  const inScale = depthwise || inChannels >= layout.blockSize ? padded(inChannels) / inChannels : 1;
  const outScale = padded(outChannels) / outChannels;
  const macScale = depthwise ? outScale : inScale * outScale;
  if (inScale === 1 && outScale === 1) return described;
  const features = Object.fromEntries(
    Object.entries(described.features).map(([name, value]) => [
      name,
      value * (MAC_FEATURES.includes(name) ? macScale : IN_CHANNEL_FEATURES.includes(name) ? inScale : OUT_CHANNEL_FEATURES.includes(name) ? outScale : 1)
    ])
  );
  return { layerType: described.layerType, features };
}

/** Whether `opType` only relabels its input's buffer (a view) where the runtime lets it alias its input. */
export function isViewOp(opType: string): boolean {
  return viewOps.has(opType);
}

/**
 * The data-movement features of an `opType` node writing `bytes`: a view (Reshape, Identity,
 * …) relabels its input's buffer and copies nothing, unless `aliased` says the runtime makes
 * it copy; any other op copies every byte.
 */
export function dataMovementFeatures(opType: string, bytes: number, aliased = viewOps.has(opType)): LayerFeatures {
  const view = viewOps.has(opType) && aliased;
  return {
    layerType: 'dataMovement',
    features: { bytes, copiedBytes: view ? 0 : bytes, transposedBytes: opType === 'Transpose' ? bytes : 0, copies: view ? 0 : 1, paddedBytes: paddedOps.has(opType) ? bytes : 0 }
  };
}

/**
 * The layer type and features of one analysed layer, or null when the layer is of no
 * modelled type or its shapes are not all static (the caller then uses the roofline).
 */
export function layerFeatures(layer: LayerAnalysis, analysis: ModelAnalysis, graph: OnnxGraph): LayerFeatures | null {
  const node = graph.nodes[layer.nodeIndex];
  if (!node || node.opType !== layer.opType) return null;
  const shapes = new LayerShapes(layer, analysis, node);
  if (layer.domain === MICROSOFT_DOMAIN) return microsoftFeatures(layer, node, shapes);
  if (layer.domain !== '' && layer.domain !== 'ai.onnx') return null;
  const macs = layer.nodeMacs;
  switch (layer.opType) {
    case 'Conv':
      return convFeatures(macs, node, shapes, 0, 1, false);
    case 'Gemm':
      return gemmFeatures(layer, macs, node, shapes);
    case 'MatMul':
      return matMulFeatures(macs, shapes);
    case 'RNN':
    case 'GRU':
    case 'LSTM':
      return recurrentFeatures(node, shapes);
    case 'QLinearConv':
      return convFeatures(macs, node, shapes, 0, 3, true);
    case 'ConvInteger':
      return convFeatures(macs, node, shapes, 0, 1, true);
    case 'QLinearMatMul':
      return integerFcFeatures(macs, shapes, 3, false);
    case 'MatMulInteger':
      return integerFcFeatures(macs, shapes, 1, false);
    case 'QuantizeLinear':
    case 'DequantizeLinear':
    case 'DynamicQuantizeLinear':
      return quantizeFeatures(node, analysis);
  }
  const type = simpleTypeByOp.get(layer.opType);
  if (!type) return null;
  if (type === 'pooling') return poolingFeatures(node, shapes);
  if (type === 'dataMovement') return layer.outputBytes === null ? null : dataMovementFeatures(layer.opType, layer.outputBytes);
  const neurons = shapes.outputElements();
  if (neurons === null) return null;
  if (type === 'normalization') {
    const lrnSize = layer.opType === 'LRN' ? intAttribute(node, 'size', 1) : 0;
    return { layerType: type, features: { neurons, lrnWindowNeurons: neurons * lrnSize, statisticsNeurons: statisticsNormalizations.has(layer.opType) ? neurons : 0, residualNeurons: 0 } };
  }
  if (type === 'activation') return { layerType: type, features: { neurons, transcendentalNeurons: transcendentalActivations.has(layer.opType) ? neurons : 0 } };
  if (type === 'elementwise') {
    const broadcast = node.inputs.slice(0, 2).some((_, i) => {
      const count = shapes.inputElements(i);
      return count !== null && count < neurons;
    });
    return {
      layerType: type,
      features: {
        neurons,
        broadcastNeurons: broadcast ? neurons : 0,
        transcendentalNeurons: transcendentalElementwise.has(layer.opType) ? neurons : 0
      }
    };
  }
  return { layerType: type, features: { neurons } };
}

/** The features of one quantization step of a layer (a QDQ layer's Q or DQ node at graph position `position`). */
export function stepFeatures(position: number, analysis: ModelAnalysis, graph: OnnxGraph): LayerFeatures | null {
  const node = graph.nodes[position];
  return node ? quantizeFeatures(node, analysis) : null;
}

function quantizeFeatures(node: OnnxNode, analysis: ModelAnalysis): LayerFeatures | null {
  const neurons = staticElementCount(analysis.tensors.get(node.inputs[0])?.shape);
  if (neurons === null) return null;
  return { layerType: 'quantize', features: { neurons, dynamicNeurons: node.opType === 'DynamicQuantizeLinear' ? neurons : 0 } };
}

function microsoftFeatures(layer: LayerAnalysis, node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  switch (layer.opType) {
    case 'QLinearAdd':
    case 'QLinearMul':
    case 'QLinearSigmoid':
    case 'QLinearLeakyRelu': {
      const neurons = shapes.outputElements();
      return neurons === null ? null : { layerType: 'qelementwise', features: { neurons } };
    }
    case 'QGemm':
      return integerFcFeatures(layer.nodeMacs, shapes, 3, intAttribute(node, 'transB', 0) !== 0);
    case 'MatMulIntegerToFloat':
    case 'DynamicQuantizeMatMul':
      return integerFcFeatures(layer.nodeMacs, shapes, 1, false);
    default:
      return null;
  }
}

/** An integer matrix product by a 2-D weight at input `weightInput` ([K, N], or [N, K] when transposed) is qfc. */
function integerFcFeatures(macs: number | null, shapes: LayerShapes, weightInput: number, transposed: boolean): LayerFeatures | null {
  const weight = shapes.input(weightInput);
  if (macs === null || !shapes.isWeight(weightInput) || !weight || weight.length !== 2) return null;
  const [k, n] = transposed ? [weight[1], weight[0]] : weight;
  if (typeof k !== 'number' || typeof n !== 'number') return null;
  return { layerType: 'qfc', features: { inputNeurons: k, outputNeurons: n, inputTimesOutputNeurons: k * n, macs } };
}

function convFeatures(macs: number | null, node: OnnxNode, shapes: LayerShapes, dataInput: number, weightInput: number, integer: boolean): LayerFeatures | null {
  const input = shapes.input(dataInput);
  const weight = shapes.input(weightInput);
  const inputSize = staticElementCount(input);
  const weightDims = weight && staticElementCount(weight) !== null ? (weight as number[]) : null;
  if (inputSize === null || !input || !weightDims || weightDims.length < 3 || macs === null) return null;
  const spatialRank = weightDims.length - 2;
  const kernel = intsAttribute(node, 'kernel_shape') ?? weightDims.slice(2);
  const strides = intsAttribute(node, 'strides') ?? new Array<number>(spatialRank).fill(1);
  const group = intAttribute(node, 'group', 1);
  const outChannels = weightDims[0];
  const inChannels = input[1];
  const depthwise = group > 1 && group === inChannels && group === outChannels;
  const grouped = group > 1 && !depthwise && !integer;
  const type: LayerType = integer ? (depthwise ? 'qdepthwiseConv' : 'qconv') : depthwise ? 'depthwiseConv' : grouped ? 'groupedConv' : 'conv';
  const outputSize = shapes.outputElements();
  const im2colElements = product(kernel) === 1 && product(strides) === 1 ? 0 : (macs * group) / outChannels;
  // The GEMM's columns: output positions per image (N·C·H·W over N·C).
  const columns = outputSize !== null && outputSize > 0 ? outputSize / (outChannels * Math.max(1, typeof input[0] === 'number' ? input[0] : 1)) : 0;
  const gemmMacs = columns > 0 ? (macs * Math.ceil(columns / GEMM_COLUMN_STRIP) * GEMM_COLUMN_STRIP) / columns : macs;
  if (grouped) {
    if (outputSize === null) return null;
    return { layerType: type, features: { inputSize, macs, im2colElements, groups: group, outputSize } };
  }
  if (!integer && outputSize === null) return null;
  return {
    layerType: type,
    features: {
      inputSize,
      filterStrideSquaredTimesFilters: (product(kernel) / product(strides)) * outChannels,
      macs,
      ...(depthwise ? (integer ? {} : { outputSize: outputSize ?? 0 }) : integer ? { im2colElements } : { gemmMacs, im2colElements, outputSize: outputSize ?? 0 })
    }
  };
}

function fcFeatures(inputNeurons: number, outputNeurons: number, macs: number): LayerFeatures {
  const rows = macs / (inputNeurons * outputNeurons);
  return { layerType: rows > 1 ? 'fcBatched' : 'fc', features: { inputNeurons, outputNeurons, inputTimesOutputNeurons: inputNeurons * outputNeurons, macs } };
}

/**
 * A recurrent layer (RNN, GRU, LSTM): onnxruntime multiplies every step's input by W in one
 * GEMM (`inputMacs`), then runs the steps one after another, each a product with R
 * (`recurrentMacs`), the gates' element-wise work (`gateNeurons`) and a fixed cost per step
 * and direction (`steps`), which differs by op (`gruSteps`, `lstmSteps`: one fit of the
 * three ops' steps together predicted a speech GRU 10–20 % long, though its twin in the
 * sweep ran 6.4 µs a step as the model does; with the ops' steps apart the recurrent type's
 * cross-validated error went from 14.9 % to 12.9 % on the same samples).
 */
function recurrentFeatures(node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  const x = shapes.input(0);
  const w = shapes.input(1);
  if (!x || x.length !== 3 || !w || w.length !== 3 || ![...x, ...w].every((d) => typeof d === 'number')) return null;
  const [xa, xb, input] = x as number[];
  const [directions, rows] = w as number[];
  const gates = recurrentGates[node.opType];
  const hidden = intAttribute(node, 'hidden_size', rows / gates);
  const [seq, batch] = intAttribute(node, 'layout', 0) === 0 ? [xa, xb] : [xb, xa];
  const steps = seq * directions;
  return {
    layerType: 'recurrent',
    features: {
      inputMacs: steps * batch * gates * hidden * input,
      recurrentMacs: steps * batch * gates * hidden * hidden,
      steps,
      gateNeurons: steps * batch * gates * hidden,
      gruSteps: node.opType === 'GRU' ? steps : 0,
      lstmSteps: node.opType === 'LSTM' ? steps : 0
    }
  };
}

function gemmFeatures(layer: LayerAnalysis, macs: number | null, node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  const a = shapes.input(0);
  const output = layer.outputs[0]?.shape;
  if (!a || a.length !== 2 || !output || output.length !== 2 || macs === null) return null;
  const inputNeurons = a[intAttribute(node, 'transA', 0) ? 0 : 1];
  const outputNeurons = output[1];
  if (typeof inputNeurons !== 'number' || typeof outputNeurons !== 'number') return null;
  return fcFeatures(inputNeurons, outputNeurons, macs);
}

/** MatMul by a 2-D weight (a Linear layer on a rank > 2 input; a QDQ model's comes through a DequantizeLinear) is fc; activation × activation is matmul. */
function matMulFeatures(macs: number | null, shapes: LayerShapes): LayerFeatures | null {
  if (macs === null) return null;
  const weight = shapes.input(1);
  if (shapes.isWeight(1) && weight && weight.length === 2 && typeof weight[0] === 'number' && typeof weight[1] === 'number') return fcFeatures(weight[0], weight[1], macs);
  const a = shapes.input(0);
  const b = shapes.input(1);
  const outputSize = shapes.outputElements();
  if (!a || !b || shapes.inputElements(0) === null || shapes.inputElements(1) === null || outputSize === null || a.length < 2) return null;
  // Products of [m, k] × [k, n] matrices: an output of batches · m · n values.
  const m = a[a.length - 2] as number;
  const n = b[b.length - 1] as number;
  const batches = Math.max(1, Math.round(outputSize / Math.max(1, m * n)));
  return { layerType: 'matmul', features: { macs, batches, outputSize } };
}

function poolingFeatures(node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  const input = shapes.input(0);
  const inputSize = staticElementCount(input);
  const outputSize = shapes.outputElements();
  if (!input || inputSize === null || outputSize === null) return null;
  const window = node.opType.startsWith('Global') ? product((input as number[]).slice(2)) : product(intsAttribute(node, 'kernel_shape') ?? [1]);
  return { layerType: 'pooling', features: { inputSize, outputSize, outputSizeTimesWindow: outputSize * window } };
}
