// Shared pieces of the sample model zoo (app/zoo/*.ts): the options every model function
// takes, a GraphBuilder set up from them, NCHW feature-map helpers that carry shapes
// along so every declared shape is computed rather than typed in, and `finishModel`,
// which names the graph output the way torch.onnx.export(output_names=[...]) does.
import { GraphBuilder } from '../onnx/builder.js';
import type { ElementTypeName } from '../onnx/element-type.js';
import type { onnx } from '../onnx/generated/onnx.js';

export interface ZooBuildOptions {
  /** Seed of the weight generator; the same seed gives byte-identical models. Default 1. */
  seed?: number;
  /** 'zeros' skips random generation (fast; for analysis and tests). Default 'random'. */
  weights?: 'random' | 'zeros';
  /** First dimension of every input and output. Default 1. */
  batch?: number;
}

export type ZooModelBuilder = (options?: ZooBuildOptions) => onnx.ModelProto;

export interface ZooGraph {
  builder: GraphBuilder;
  batch: number;
}

/** A GraphBuilder for one zoo model, with the model's description as its doc string. */
export function zooGraph(graphName: string, docString: string, options: ZooBuildOptions = {}): ZooGraph {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  const builder = new GraphBuilder(graphName, { opset: 17, seed: options.seed ?? 1, weights: options.weights ?? 'random', docString });
  return { builder, batch };
}

/**
 * Declares `value` as the graph's one output under the name `outputName` and returns the
 * model. The builder names values after their nodes, so the producing node's output is
 * renamed here, as the exporter's `output_names` does.
 */
export function finishModel(
  builder: GraphBuilder,
  value: string,
  shape: number[],
  outputName = 'output',
  elementType: ElementTypeName = 'float32'
): onnx.ModelProto {
  if (builder.unique(outputName) !== outputName) throw new Error(`output name '${outputName}' is already used in the graph`);
  builder.output(outputName, elementType, shape);
  const model = builder.toProto();
  for (const node of model.graph?.node ?? []) {
    node.input = (node.input ?? []).map((name) => (name === value ? outputName : name));
    node.output = (node.output ?? []).map((name) => (name === value ? outputName : name));
  }
  return model;
}

/** A float NCHW activation and its per-sample shape. */
export interface FeatureMap {
  value: string;
  channels: number;
  height: number;
  width: number;
}

/** Spatial size after a convolution (PyTorch's formula, floor rounding). */
export function convOutputSize(size: number, kernel: number, stride = 1, pad = 0, dilation = 1): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** Spatial size after a pooling window; with ceil mode the last window must start inside the input or left pad (PyTorch's rule). */
export function poolOutputSize(size: number, kernel: number, stride: number, pad = 0, ceilMode = false): number {
  const span = size + 2 * pad - kernel;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  if (ceilMode && (out - 1) * stride >= size + pad) out -= 1;
  return out;
}

export function inputFeatureMap(builder: GraphBuilder, batch: number, channels: number, height: number, width: number, name = 'input'): FeatureMap {
  return { value: builder.input(name, 'float32', [batch, channels, height, width]), channels, height, width };
}

export interface Conv2dSpec {
  outChannels: number;
  kernel: number;
  stride?: number;
  pad?: number;
  group?: number;
  name: string;
}

/** Conv with bias (a plain conv, or conv + BatchNorm folded as the eval-mode exporter writes it). */
export function conv2d(builder: GraphBuilder, x: FeatureMap, spec: Conv2dSpec): FeatureMap {
  const stride = spec.stride ?? 1;
  const pad = spec.pad ?? 0;
  const value = builder.conv(x.value, {
    inChannels: x.channels,
    outChannels: spec.outChannels,
    kernel: spec.kernel,
    stride,
    pad,
    group: spec.group ?? 1,
    name: spec.name
  });
  return {
    value,
    channels: spec.outChannels,
    height: convOutputSize(x.height, spec.kernel, stride, pad),
    width: convOutputSize(x.width, spec.kernel, stride, pad)
  };
}

export interface Pool2dSpec {
  kernel: number;
  stride: number;
  pad?: number;
  ceilMode?: boolean;
  name: string;
}

export function maxPool2d(builder: GraphBuilder, x: FeatureMap, spec: Pool2dSpec): FeatureMap {
  const pad = spec.pad ?? 0;
  const ceilMode = spec.ceilMode ?? false;
  const value = builder.maxPool(x.value, { kernel: spec.kernel, stride: spec.stride, pad, ceilMode, name: spec.name });
  return {
    ...x,
    value,
    height: poolOutputSize(x.height, spec.kernel, spec.stride, pad, ceilMode),
    width: poolOutputSize(x.width, spec.kernel, spec.stride, pad, ceilMode)
  };
}

/** An element-wise op (Relu, Clip, Add, ...) keeps the shape: the same map with a new value. */
export function sameShape(x: FeatureMap, value: string): FeatureMap {
  return { ...x, value };
}

export function relu2d(builder: GraphBuilder, x: FeatureMap, name: string): FeatureMap {
  return sameShape(x, builder.relu(x.value, name));
}

/** Channel concatenation (Inception, Fire); all inputs share height and width. */
export function concatChannels(builder: GraphBuilder, maps: FeatureMap[], name: string): FeatureMap {
  const [first] = maps;
  if (maps.some((m) => m.height !== first.height || m.width !== first.width)) {
    throw new Error(`${name}: branches disagree on spatial size`);
  }
  const value = builder.concat(
    maps.map((m) => m.value),
    1,
    name
  );
  return { ...first, value, channels: maps.reduce((sum, m) => sum + m.channels, 0) };
}

/** Flatten(axis=1) of a feature map: a [batch, C*H*W] matrix. */
export function flatten2d(builder: GraphBuilder, x: FeatureMap, name = '/Flatten'): { value: string; features: number } {
  return { value: builder.flatten(x.value, 1, name), features: x.channels * x.height * x.width };
}

/** AdaptiveAvgPool2d(1) + torch.flatten(x, 1), as exported: GlobalAveragePool then Flatten. */
export function globalPoolAndFlatten(builder: GraphBuilder, x: FeatureMap, poolName: string): { value: string; features: number } {
  const pooled = builder.globalAveragePool(x.value, poolName);
  return { value: builder.flatten(pooled, 1, '/Flatten'), features: x.channels };
}
