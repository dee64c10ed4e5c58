// Builds ONNX models in code, the way PyTorch's exporter writes them (opset 17, Conv
// weights OIHW, Linear as Gemm with transB=1, BatchNorm folded into Conv): the sample
// zoo and the tests make every model they use with it. Weights are deterministic,
// seeded He-uniform values so activations stay finite through deep nets. Quantized
// graphs take integer constants (`constantTensor`) and contrib ops (a node's `domain`:
// every domain a node uses is imported, version 1 for com.microsoft).
import { onnx } from './generated/onnx.js';
import type { ElementTypeName } from './element-type.js';
import type { Dim } from './model.js';
import {
  attributeProto,
  encodeModel,
  float32TensorProto,
  int64,
  int64TensorProto,
  typedTensorProto,
  valueInfoProto,
  type AttributeInput,
  type TypedTensorData
} from './writer.js';

/** mulberry32: small, fast, seedable; good enough for weights. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BuilderOptions {
  opset?: number;
  seed?: number;
  /** 'zeros' skips random generation (for analysis-only tests of large models). */
  weights?: 'random' | 'zeros';
  producerName?: string;
  docString?: string;
}

export interface ConvOptions {
  inChannels: number;
  outChannels: number;
  kernel: number | [number, number];
  stride?: number | [number, number];
  pad?: number | [number, number];
  dilation?: number | [number, number];
  group?: number;
  bias?: boolean;
  name?: string;
}

export interface PoolOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  pad?: number | [number, number];
  ceilMode?: boolean;
  name?: string;
}

const pair = (v: number | [number, number] | undefined, fallback: number): [number, number] =>
  v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;

export class GraphBuilder {
  private readonly nodes: onnx.NodeProto[] = [];
  private readonly initializers: onnx.TensorProto[] = [];
  private readonly inputs: onnx.ValueInfoProto[] = [];
  private readonly outputs: onnx.ValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly random: () => number;
  private readonly opset: number;
  private readonly options: BuilderOptions;

  constructor(
    readonly graphName: string,
    options: BuilderOptions = {}
  ) {
    this.options = options;
    this.opset = options.opset ?? 17;
    this.random = seededRandom(options.seed ?? 1);
  }

  /** A fresh value or node name based on `base` (PyTorch-style "/layer/Op" names work). */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  input(name: string, elementType: ElementTypeName, shape: Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push(valueInfoProto(name, elementType, shape));
    return name;
  }

  output(value: string, elementType: ElementTypeName, shape: Dim[] | null): void {
    this.outputs.push(valueInfoProto(value, elementType, shape));
  }

  /** Any op. Returns its output names (`outputCount` of them). */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeInput> = {}, options: { name?: string; outputCount?: number; domain?: string } = {}): string[] {
    const nodeName = this.unique(options.name ?? `/${opType}`);
    const outputCount = options.outputCount ?? 1;
    const outputs = Array.from({ length: outputCount }, (_, i) => this.unique(`${nodeName}_output_${i}`));
    this.nodes.push(
      new onnx.NodeProto({
        name: nodeName,
        opType,
        domain: options.domain ?? '',
        input: inputs,
        output: outputs,
        attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value))
      })
    );
    return outputs;
  }

  op(opType: string, inputs: string[], attributes: Record<string, AttributeInput> = {}, name?: string): string {
    return this.node(opType, inputs, attributes, { name })[0];
  }

  /** A float32 weight filled He-uniform for fan-in `fanIn` (or zeros). */
  weight(base: string, dims: number[], fanIn: number): string {
    const count = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    if (this.options.weights !== 'zeros') {
      const bound = Math.sqrt(6 / Math.max(1, fanIn));
      for (let i = 0; i < count; i++) values[i] = (this.random() * 2 - 1) * bound;
    }
    return this.constantFloat(base, dims, values);
  }

  constantFloat(base: string, dims: number[], values: Float32Array): string {
    const name = this.unique(base);
    this.initializers.push(float32TensorProto(name, dims, values));
    return name;
  }

  /** An initializer of any numeric type (int8 weights, uint8 zero points, int32 biases). */
  constantTensor(base: string, elementType: ElementTypeName, dims: number[], values: TypedTensorData): string {
    const name = this.unique(base);
    this.initializers.push(typedTensorProto(name, elementType, dims, values));
    return name;
  }

  constantInt64(base: string, dims: number[], values: number[]): string {
    const name = this.unique(base);
    this.initializers.push(int64TensorProto(name, dims, values));
    return name;
  }

  conv(x: string, o: ConvOptions): string {
    const [kh, kw] = pair(o.kernel, 1);
    const [sh, sw] = pair(o.stride, 1);
    const [ph, pw] = pair(o.pad, 0);
    const [dh, dw] = pair(o.dilation, 1);
    const group = o.group ?? 1;
    const name = o.name ?? '/Conv';
    const fanIn = (o.inChannels / group) * kh * kw;
    const inputs = [x, this.weight(`${name}.weight`, [o.outChannels, o.inChannels / group, kh, kw], fanIn)];
    if (o.bias !== false) inputs.push(this.constantFloat(`${name}.bias`, [o.outChannels], new Float32Array(o.outChannels)));
    return this.op(
      'Conv',
      inputs,
      { dilations: [dh, dw], group, kernel_shape: [kh, kw], pads: [ph, pw, ph, pw], strides: [sh, sw] },
      name
    );
  }

  /** torch.nn.Linear: Gemm(x, W[out,in], b) with transB=1. */
  linear(x: string, inFeatures: number, outFeatures: number, name = '/Gemm', bias = true): string {
    const inputs = [x, this.weight(`${name}.weight`, [outFeatures, inFeatures], inFeatures)];
    if (bias) inputs.push(this.constantFloat(`${name}.bias`, [outFeatures], new Float32Array(outFeatures)));
    return this.op('Gemm', inputs, { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, name);
  }

  /** Linear on a rank>2 tensor, as PyTorch exports it: MatMul with W^T then Add of the bias. */
  matmulLinear(x: string, inFeatures: number, outFeatures: number, name = '/Linear'): string {
    const w = this.weight(`${name}.weight_t`, [inFeatures, outFeatures], inFeatures);
    const y = this.op('MatMul', [x, w], {}, `${name}/MatMul`);
    const b = this.constantFloat(`${name}.bias`, [outFeatures], new Float32Array(outFeatures));
    return this.op('Add', [y, b], {}, `${name}/Add`);
  }

  relu(x: string, name = '/Relu'): string {
    return this.op('Relu', [x], {}, name);
  }

  relu6(x: string, name = '/Clip'): string {
    const min = this.constantFloat(`${name}.min`, [], new Float32Array([0]));
    const max = this.constantFloat(`${name}.max`, [], new Float32Array([6]));
    return this.op('Clip', [x, min, max], {}, name);
  }

  maxPool(x: string, o: PoolOptions): string {
    return this.pool('MaxPool', x, o);
  }

  averagePool(x: string, o: PoolOptions): string {
    return this.pool('AveragePool', x, o);
  }

  private pool(opType: string, x: string, o: PoolOptions): string {
    const [kh, kw] = pair(o.kernel, 1);
    const [sh, sw] = pair(o.stride ?? o.kernel, 1);
    const [ph, pw] = pair(o.pad, 0);
    return this.op(
      opType,
      [x],
      { ceil_mode: o.ceilMode ? 1 : 0, kernel_shape: [kh, kw], pads: [ph, pw, ph, pw], strides: [sh, sw] },
      o.name ?? `/${opType}`
    );
  }

  globalAveragePool(x: string, name = '/GlobalAveragePool'): string {
    return this.op('GlobalAveragePool', [x], {}, name);
  }

  lrn(x: string, size: number, name = '/LRN'): string {
    return this.op('LRN', [x], { alpha: { float: 1e-4 }, beta: { float: 0.75 }, bias: { float: 1 }, size }, name);
  }

  batchNorm(x: string, channels: number, name = '/BatchNormalization'): string {
    const ones = new Float32Array(channels).fill(1);
    const scale = this.constantFloat(`${name}.weight`, [channels], ones);
    const bias = this.constantFloat(`${name}.bias`, [channels], new Float32Array(channels));
    const mean = this.constantFloat(`${name}.running_mean`, [channels], new Float32Array(channels));
    const variance = this.constantFloat(`${name}.running_var`, [channels], ones.slice());
    return this.op('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: 1e-5 } }, name);
  }

  layerNorm(x: string, features: number, name = '/LayerNormalization'): string {
    const scale = this.constantFloat(`${name}.weight`, [features], new Float32Array(features).fill(1));
    const bias = this.constantFloat(`${name}.bias`, [features], new Float32Array(features));
    return this.op('LayerNormalization', [x, scale, bias], { axis: -1, epsilon: { float: 1e-5 } }, name);
  }

  add(a: string, b: string, name = '/Add'): string {
    return this.op('Add', [a, b], {}, name);
  }

  mul(a: string, b: string, name = '/Mul'): string {
    return this.op('Mul', [a, b], {}, name);
  }

  concat(values: string[], axis: number, name = '/Concat'): string {
    return this.op('Concat', values, { axis }, name);
  }

  flatten(x: string, axis = 1, name = '/Flatten'): string {
    return this.op('Flatten', [x], { axis }, name);
  }

  reshape(x: string, shape: number[], name = '/Reshape'): string {
    const target = this.constantInt64(`${name}.shape`, [shape.length], shape);
    return this.op('Reshape', [x, target], {}, name);
  }

  transpose(x: string, perm: number[], name = '/Transpose'): string {
    return this.op('Transpose', [x], { perm }, name);
  }

  softmax(x: string, axis = -1, name = '/Softmax'): string {
    return this.op('Softmax', [x], { axis }, name);
  }

  /** GELU as PyTorch (opset < 20) exports it: x * 0.5 * (1 + erf(x / sqrt 2)). */
  gelu(x: string, name = '/Gelu'): string {
    const scalar = (label: string, v: number) => this.constantFloat(`${name}.${label}`, [], new Float32Array([v]));
    const scaled = this.op('Div', [x, scalar('sqrt2', Math.SQRT2)], {}, `${name}/Div`);
    const erf = this.op('Erf', [scaled], {}, `${name}/Erf`);
    const plusOne = this.op('Add', [erf, scalar('one', 1)], {}, `${name}/Add`);
    const times = this.op('Mul', [x, plusOne], {}, `${name}/Mul`);
    return this.op('Mul', [times, scalar('half', 0.5)], {}, `${name}/Mul_1`);
  }

  toProto(): onnx.ModelProto {
    const domains = [...new Set(this.nodes.map((node) => node.domain ?? '').filter((domain) => domain !== ''))].sort();
    return new onnx.ModelProto({
      irVersion: int64(8),
      opsetImport: [
        new onnx.OperatorSetIdProto({ domain: '', version: int64(this.opset) }),
        ...domains.map((domain) => new onnx.OperatorSetIdProto({ domain, version: int64(1) }))
      ],
      producerName: this.options.producerName ?? 'neurosurgeon-studio',
      producerVersion: '0.1.0',
      docString: this.options.docString ?? '',
      graph: new onnx.GraphProto({
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs
      })
    });
  }

  toBytes(): Uint8Array {
    return encodeModel(this.toProto());
  }
}
