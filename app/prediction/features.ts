// The layer types of Neurosurgeon's prediction models (Kang et al., ASPLOS 2017, §4.3)
// and the features each is predicted from. One classifier serves both sides, so they
// can never disagree: main/profiling/characterize.ts computes a sweep sample's features with it,
// and predict.ts computes a new model's layer features with it before applying the
// fitted regressions (regression.ts). Layers it cannot classify or measure get null and
// fall back to the roofline estimate.
import type { LayerAnalysis, ModelAnalysis } from '../analysis/types.js';
import type { AttributeValue, Dim, OnnxGraph, OnnxNode } from '../onnx/model.js';

export type LayerType =
  | 'conv'
  | 'depthwiseConv'
  | 'fc'
  | 'fcBatched'
  | 'matmul'
  | 'pooling'
  | 'activation'
  | 'normalization'
  | 'softmax'
  | 'elementwise'
  | 'dataMovement';

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
 * and variance on every run where a batch norm applies stored ones: ≈3× the time here),
 * activation's `transcendentalNeurons` (neurons of an activation that evaluates exp, tanh
 * or erf: ≈4× a ReLU's time), data movement's `copiedBytes` (0 for ops that only relabel
 * a buffer: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout), `copies` (1 for an
 * op that copies at all: starting a copy costs ≈1 µs where relabelling a buffer of any
 * size costs ≈0.2 µs, which bytes alone cannot tell apart) and `transposedBytes` (a
 * Transpose's strided copy).
 */
export const LAYER_TYPE_FEATURES: Readonly<Record<LayerType, readonly string[]>> = {
  conv: ['inputSize', 'filterStrideSquaredTimesFilters', 'macs', 'im2colElements'],
  depthwiseConv: ['inputSize', 'filterStrideSquaredTimesFilters', 'macs'],
  fc: ['inputNeurons', 'outputNeurons', 'inputTimesOutputNeurons', 'macs'],
  fcBatched: ['inputTimesOutputNeurons', 'macs'],
  matmul: ['macs'],
  pooling: ['inputSize', 'outputSize', 'outputSizeTimesWindow'],
  activation: ['neurons', 'transcendentalNeurons'],
  normalization: ['neurons', 'lrnWindowNeurons', 'statisticsNeurons'],
  softmax: ['neurons'],
  elementwise: ['neurons'],
  dataMovement: ['bytes', 'copiedBytes', 'transposedBytes', 'copies']
};

/** Activations that evaluate exp, tanh or erf per neuron. */
const transcendentalActivations = new Set(['Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Erf', 'Softplus', 'Mish']);
/** Normalisations that compute their statistics on every run. */
const statisticsNormalizations = new Set(['LayerNormalization', 'InstanceNormalization', 'GroupNormalization', 'MeanVarianceNormalization', 'LpNormalization']);
/** Data movement that only relabels its input's buffer (no copy, when the runtime can share it). */
const viewOps = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']);

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
  depthwiseConv: 'macs',
  fc: 'inputTimesOutputNeurons',
  fcBatched: 'macs',
  matmul: 'macs',
  pooling: 'inputSize',
  activation: 'neurons',
  normalization: 'neurons',
  softmax: 'neurons',
  elementwise: 'neurons',
  dataMovement: 'bytes'
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
    'SpaceToDepth'
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

/** Static sizes only: a shape with a symbolic or unknown dimension has no element count. */
function elementCount(shape: Dim[] | null | undefined): number | null {
  if (!shape) return null;
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || dim < 0) return null;
    count *= dim;
  }
  return count;
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

/** Reads a layer's shapes from the analysis (every value, initializers included). */
class LayerShapes {
  constructor(
    private readonly layer: LayerAnalysis,
    private readonly analysis: ModelAnalysis
  ) {}

  input(position: number): Dim[] | null {
    const name = this.layer.inputs[position];
    return name ? (this.analysis.tensors.get(name)?.shape ?? null) : null;
  }

  inputElements(position: number): number | null {
    return elementCount(this.input(position));
  }

  outputElements(): number | null {
    return elementCount(this.layer.outputs[0]?.shape);
  }
}

/**
 * The layer type and features of one analysed layer, or null when the layer is of no
 * modelled type or its shapes are not all static (the caller then uses the roofline).
 */
export function layerFeatures(layer: LayerAnalysis, analysis: ModelAnalysis, graph: OnnxGraph): LayerFeatures | null {
  if (layer.domain !== '' && layer.domain !== 'ai.onnx') return null;
  const node = graph.nodes[layer.nodeIndex];
  if (!node || node.opType !== layer.opType) return null;
  const shapes = new LayerShapes(layer, analysis);
  switch (layer.opType) {
    case 'Conv':
      return convFeatures(layer, node, shapes);
    case 'Gemm':
      return gemmFeatures(layer, node, shapes);
    case 'MatMul':
      return matMulFeatures(layer, shapes, graph);
  }
  const type = simpleTypeByOp.get(layer.opType);
  if (!type) return null;
  if (type === 'pooling') return poolingFeatures(node, shapes);
  if (type === 'dataMovement') {
    const bytes = layer.outputBytes;
    if (bytes === null) return null;
    return {
      layerType: type,
      features: {
        bytes,
        copiedBytes: viewOps.has(layer.opType) ? 0 : bytes,
        transposedBytes: layer.opType === 'Transpose' ? bytes : 0,
        copies: viewOps.has(layer.opType) ? 0 : 1
      }
    };
  }
  const neurons = shapes.outputElements();
  if (neurons === null) return null;
  if (type === 'normalization') {
    const lrnSize = layer.opType === 'LRN' ? intAttribute(node, 'size', 1) : 0;
    return { layerType: type, features: { neurons, lrnWindowNeurons: neurons * lrnSize, statisticsNeurons: statisticsNormalizations.has(layer.opType) ? neurons : 0 } };
  }
  if (type === 'activation') return { layerType: type, features: { neurons, transcendentalNeurons: transcendentalActivations.has(layer.opType) ? neurons : 0 } };
  return { layerType: type, features: { neurons } };
}

function convFeatures(layer: LayerAnalysis, node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  const input = shapes.input(0);
  const weight = shapes.input(1);
  const inputSize = elementCount(input);
  const weightDims = weight && elementCount(weight) !== null ? (weight as number[]) : null;
  if (inputSize === null || !input || !weightDims || weightDims.length < 3 || layer.macs === null) return null;
  const spatialRank = weightDims.length - 2;
  const kernel = intsAttribute(node, 'kernel_shape') ?? weightDims.slice(2);
  const strides = intsAttribute(node, 'strides') ?? new Array<number>(spatialRank).fill(1);
  const group = intAttribute(node, 'group', 1);
  const outChannels = weightDims[0];
  const inChannels = input[1];
  const depthwise = group > 1 && group === inChannels && group === outChannels;
  return {
    layerType: depthwise ? 'depthwiseConv' : 'conv',
    features: {
      inputSize,
      filterStrideSquaredTimesFilters: (product(kernel) / product(strides)) * outChannels,
      macs: layer.macs,
      ...(depthwise ? {} : { im2colElements: product(kernel) === 1 && product(strides) === 1 ? 0 : (layer.macs * group) / outChannels })
    }
  };
}

function fcFeatures(inputNeurons: number, outputNeurons: number, macs: number): LayerFeatures {
  const rows = macs / (inputNeurons * outputNeurons);
  return { layerType: rows > 1 ? 'fcBatched' : 'fc', features: { inputNeurons, outputNeurons, inputTimesOutputNeurons: inputNeurons * outputNeurons, macs } };
}

function gemmFeatures(layer: LayerAnalysis, node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  const a = shapes.input(0);
  const output = layer.outputs[0]?.shape;
  if (!a || a.length !== 2 || !output || output.length !== 2 || layer.macs === null) return null;
  const inputNeurons = a[intAttribute(node, 'transA', 0) ? 0 : 1];
  const outputNeurons = output[1];
  if (typeof inputNeurons !== 'number' || typeof outputNeurons !== 'number') return null;
  return fcFeatures(inputNeurons, outputNeurons, layer.macs);
}

/** MatMul by a 2-D weight (a Linear layer on a rank > 2 input) is fc; activation × activation is matmul. */
function matMulFeatures(layer: LayerAnalysis, shapes: LayerShapes, graph: OnnxGraph): LayerFeatures | null {
  if (layer.macs === null) return null;
  const weight = graph.initializers.get(layer.inputs[1]);
  if (weight && weight.dims.length === 2) return fcFeatures(weight.dims[0], weight.dims[1], layer.macs);
  if (shapes.inputElements(0) === null || shapes.inputElements(1) === null) return null;
  return { layerType: 'matmul', features: { macs: layer.macs } };
}

function poolingFeatures(node: OnnxNode, shapes: LayerShapes): LayerFeatures | null {
  const input = shapes.input(0);
  const inputSize = elementCount(input);
  const outputSize = shapes.outputElements();
  if (!input || inputSize === null || outputSize === null) return null;
  const window = node.opType.startsWith('Global') ? product((input as number[]).slice(2)) : product(intsAttribute(node, 'kernel_shape') ?? [1]);
  return { layerType: 'pooling', features: { inputSize, outputSize, outputSizeTimesWindow: outputSize * window } };
}
