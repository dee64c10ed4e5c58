// The project's own static int8 quantizer: turns a float ONNX model plus the calibrated
// range of every activation (main/model/calibrate.ts runs the samples) into the two
// formats onnxruntime's tools write —
//   'qdq': the float ops kept, each quantized activation written as QuantizeLinear →
//     DequantizeLinear (one DQ per reader, so each is a step of the layer it feeds), weights
//     as int8 initializers behind a DequantizeLinear, biases as int32 behind one;
//   'qoperator': integer ops — QLinearConv, QLinearMatMul, QLinearAdd and QLinearConcat
//     (com.microsoft), MaxPool and the reshaping ops on uint8 as they are, fully connected
//     layers as MatMulInteger (on the uint8 input when there is one, else after a
//     DynamicQuantizeLinear) → Cast → Mul by the scales → Add of the float bias; every
//     other op in float, behind a DequantizeLinear and before a QuantizeLinear where needed.
// Activations are uint8 per tensor, weights symmetric int8 (per output channel for convs,
// per tensor for matrix products), as parameters.ts computes them. A Relu (or a Clip from
// 0) right after a quantized op is folded into that op's output range, as onnxruntime's
// quantizer does. Ops it cannot quantize (no range, weights that are no float initializer)
// stay float, so any model comes out runnable.
import { onnx } from '../onnx/generated/onnx.js';
import { tensorValues } from '../onnx/reader.js';
import type { OnnxGraph, OnnxModel, OnnxNode, OnnxTensor } from '../onnx/model.js';
import { attributeProto, int64, typedTensorProto, type AttributeInput, type TypedTensorData } from '../onnx/writer.js';
import type { ElementTypeName } from '../onnx/element-type.js';
import { checkGraphStructure } from '../analysis/graph-check.js';
import { findWeights, type GraphWeights } from '../analysis/weights.js';
import { MICROSOFT_DOMAIN } from '../analysis/rules-quant.js';
import { biasWeightScaleFloor, quantizeBias, quantizeWeightSymmetric, transposeMatrix, uint8Parameters, type ActivationParameters, type TensorRange } from './parameters.js';

export type QuantizationFormat = 'qdq' | 'qoperator';

export const QUANTIZATION_FORMATS: readonly QuantizationFormat[] = ['qdq', 'qoperator'];

export class QuantizeError extends Error {
  override name = 'QuantizeError';
}

export interface QuantizeOptions {
  format: QuantizationFormat;
  /** Calibrated range of every float activation (model inputs and node outputs) by name. */
  ranges: ReadonlyMap<string, TensorRange>;
}

export interface QuantizedModel {
  proto: onnx.ModelProto;
  /** Nodes of the source model that now run quantized (integer kernels, or float ops between Q/DQ). */
  quantizedNodes: string[];
  /** Relu / Clip nodes folded into the output range of the op before them. */
  foldedActivations: string[];
  /** Node count of the result by op type. */
  ops: Record<string, number>;
}

/** Ops whose uint8 input can be read as it is (the values move, the scale stays). */
const passThroughOps = new Set(['Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'MaxPool']);

/** A quantized activation: the uint8 value and the initializers holding its scale and zero point. */
interface QuantizedValue {
  name: string;
  scale: string;
  zeroPoint: string;
  parameters: ActivationParameters;
}

/** A float weight with its values, found directly or through Identity aliases. */
interface FloatWeight {
  tensor: OnnxTensor;
  values: number[];
}

/** The source model's minimum default-domain opset for per-axis QuantizeLinear / DequantizeLinear. */
const MIN_OPSET = 13;

export function quantizeModel(model: OnnxModel, options: QuantizeOptions): QuantizedModel {
  return new Quantizer(model, options).run();
}

class Quantizer {
  private readonly graph: OnnxGraph;
  private readonly order: number[];
  private readonly weights: GraphWeights;
  private readonly nodes: onnx.NodeProto[] = [];
  private readonly initializers: onnx.TensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly producer = new Map<string, number>();
  private readonly readers = new Map<string, number[]>();
  private readonly graphOutputs: Set<string>;
  /** A folded Relu's output → the output of the op it was folded into. */
  private readonly alias = new Map<string, string>();
  /** The range a folded op's output is quantized with: its Relu's. */
  private readonly rangeOverride = new Map<string, TensorRange>();
  private readonly foldedPositions = new Set<number>();
  private readonly quantizable = new Set<number>();
  private readonly parameterCache = new Map<string, QuantizedValue>();

  constructor(
    private readonly model: OnnxModel,
    private readonly options: QuantizeOptions
  ) {
    this.graph = model.graph;
    this.order = checkGraphStructure(this.graph);
    this.weights = findWeights(this.graph, this.order);
    this.graphOutputs = new Set(this.graph.outputs.map((o) => o.name));
    for (const input of this.graph.inputs) this.used.add(input.name);
    for (const name of this.graph.initializers.keys()) this.used.add(name);
    for (const node of this.graph.nodes) {
      this.used.add(node.name);
      for (const output of node.outputs) {
        this.used.add(output);
        if (output !== '') this.producer.set(output, node.index);
      }
      for (const name of namesRead(node)) this.readers.set(name, [...(this.readers.get(name) ?? []), node.index]);
    }
  }

  run(): QuantizedModel {
    const opset = this.model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0;
    if (opset < MIN_OPSET) throw new QuantizeError(`the model's opset is ${opset}; quantizing needs opset ${MIN_OPSET} or later`);
    this.findFoldableActivations();
    for (const position of this.order) if (this.isQuantizable(this.graph.nodes[position])) this.quantizable.add(position);
    if (this.options.format === 'qdq') this.writeQdq();
    else this.writeQOperator();
    return this.finish();
  }

  // ---- what can be quantized --------------------------------------------------------

  private resolve(name: string): string {
    return this.alias.get(name) ?? name;
  }

  private range(name: string): TensorRange | undefined {
    const resolved = this.resolve(name);
    return this.rangeOverride.get(resolved) ?? this.options.ranges.get(resolved);
  }

  private isActivation(name: string): boolean {
    return name !== '' && !this.weights.values.has(name);
  }

  /** A float32 initializer behind `name` (directly or through Identity aliases), with its values. */
  private floatWeight(name: string): FloatWeight | null {
    let current = name;
    for (let hops = 0; hops < 16; hops++) {
      const tensor = this.graph.initializers.get(current);
      if (tensor) {
        if (tensor.elementType !== 'float32') return null;
        const values = tensorValues(tensor, Number.POSITIVE_INFINITY);
        return values ? { tensor, values } : null;
      }
      const from = this.producer.get(current);
      const node = from === undefined ? undefined : this.graph.nodes[from];
      if (!node || node.opType !== 'Identity' || !this.weights.values.has(current)) return null;
      current = node.inputs[0];
    }
    return null;
  }

  private attributeInt(node: OnnxNode, name: string, fallback: number): number {
    const attribute = node.attributes.get(name);
    return attribute?.kind === 'int' ? attribute.value : fallback;
  }

  private attributeFloat(node: OnnxNode, name: string, fallback: number): number {
    const attribute = node.attributes.get(name);
    return attribute?.kind === 'float' || attribute?.kind === 'int' ? attribute.value : fallback;
  }

  /** Ops whose output is quantized in this format, so a Relu after them can be folded. */
  private producesQuantizedOutput(opType: string): boolean {
    return this.options.format === 'qdq' ? ['Conv', 'Gemm', 'MatMul', 'Add'].includes(opType) : ['Conv', 'MatMul', 'Add'].includes(opType);
  }

  /** A Relu, or a Clip whose lower bound is 0, read alone from a quantizable op's output: folded into its range. */
  private findFoldableActivations(): void {
    for (const node of this.graph.nodes) {
      if (node.domain !== '' || (node.opType !== 'Relu' && node.opType !== 'Clip')) continue;
      if (node.opType === 'Clip' && !this.clipsAtZero(node)) continue;
      const input = node.inputs[0];
      const output = node.outputs[0];
      const from = this.producer.get(input);
      const readers = this.readers.get(input) ?? [];
      const range = this.options.ranges.get(output);
      if (from === undefined || readers.length !== 1 || !range || this.graphOutputs.has(input) || this.graphOutputs.has(output)) continue;
      const producer = this.graph.nodes[from];
      if (producer.domain !== '' || !this.producesQuantizedOutput(producer.opType)) continue;
      // Only when the producer will be quantized: it must not depend on this fold.
      if (!this.isQuantizable(producer, range)) continue;
      this.alias.set(output, input);
      this.rangeOverride.set(input, range);
      this.foldedPositions.add(node.index);
    }
  }

  private clipsAtZero(node: OnnxNode): boolean {
    if (node.inputs.length > 1 && node.inputs[1] !== '') {
      const min = this.graph.initializers.get(node.inputs[1]);
      const values = min ? tensorValues(min, 1) : null;
      return values !== null && values.length === 1 && values[0] === 0;
    }
    return node.attributes.has('min') && this.attributeFloat(node, 'min', -1) === 0;
  }

  private isQuantizable(node: OnnxNode, outputRange?: TensorRange): boolean {
    if (node.domain !== '' || this.weights.nodes.includes(node.index)) return false;
    const output = node.outputs[0];
    const outRange = outputRange ?? this.range(output);
    const outputOk = this.options.format === 'qdq' ? this.graphOutputs.has(output) || outRange !== undefined : outRange !== undefined;
    const x = node.inputs[0];
    switch (node.opType) {
      case 'Conv': {
        const weight = this.floatWeight(node.inputs[1]);
        const bias = node.inputs[2] ? this.floatWeight(node.inputs[2]) : null;
        return this.isActivation(x) && this.range(x) !== undefined && weight !== null && weight.tensor.dims.length >= 3 && (!node.inputs[2] || bias !== null) && outputOk;
      }
      case 'MatMul': {
        const weight = this.floatWeight(node.inputs[1]);
        return this.isActivation(x) && this.range(x) !== undefined && weight !== null && weight.tensor.dims.length === 2 && outputOk;
      }
      case 'Gemm': {
        const weight = this.floatWeight(node.inputs[1]);
        const bias = node.inputs[2] ? this.floatWeight(node.inputs[2]) : null;
        const plain = this.attributeInt(node, 'transA', 0) === 0 && this.attributeFloat(node, 'alpha', 1) === 1 && this.attributeFloat(node, 'beta', 1) === 1;
        const biasOk = !node.inputs[2] || (bias !== null && bias.values.length === (weight?.tensor.dims[this.attributeInt(node, 'transB', 0) ? 0 : 1] ?? -1));
        const inputOk = this.options.format === 'qoperator' || this.range(x) !== undefined;
        return plain && this.isActivation(x) && inputOk && weight !== null && weight.tensor.dims.length === 2 && biasOk && (this.options.format === 'qoperator' || outputOk);
      }
      case 'Add':
        return node.inputs.length === 2 && node.inputs.every((name) => this.isActivation(name) && this.range(name) !== undefined) && outputOk;
      case 'Concat':
        return this.options.format === 'qoperator' && node.inputs.every((name) => this.isActivation(name) && this.range(name) !== undefined) && outputOk;
      default:
        return false;
    }
  }

  // ---- writing ----------------------------------------------------------------------

  private unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  private constant(base: string, type: ElementTypeName, dims: number[], values: TypedTensorData): string {
    const name = this.unique(base);
    this.initializers.push(typedTensorProto(name, type, dims, values));
    return name;
  }

  private emit(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeInput> = {}, base?: string, domain = ''): void {
    this.nodes.push(
      new onnx.NodeProto({
        name: this.unique(base ?? `/${opType}`),
        opType,
        domain,
        input: inputs,
        output: outputs,
        attribute: Object.entries(attributes).map(([key, value]) => attributeProto(key, value))
      })
    );
  }

  /** The source node's proto with new inputs (attributes, name and outputs kept). */
  private copy(node: OnnxNode, inputs: string[]): void {
    const source = this.model.proto.graph?.node?.[node.index];
    if (!source) throw new QuantizeError(`node ${node.name} has no protobuf`);
    this.nodes.push(new onnx.NodeProto({ ...source, input: inputs }));
  }

  /** The scale and zero point initializers of activation `name` (created once). */
  private parameters(name: string): QuantizedValue {
    const resolved = this.resolve(name);
    const cached = this.parameterCache.get(resolved);
    if (cached) return cached;
    const range = this.range(resolved);
    if (!range) throw new QuantizeError(`no calibrated range for ${resolved}`);
    const parameters = uint8Parameters(range);
    const value: QuantizedValue = {
      name: this.unique(`${resolved}_quantized`),
      scale: this.constant(`${resolved}_scale`, 'float32', [], new Float32Array([parameters.scale])),
      zeroPoint: this.constant(`${resolved}_zero_point`, 'uint8', [], new Uint8Array([parameters.zeroPoint])),
      parameters
    };
    this.parameterCache.set(resolved, value);
    return value;
  }

  /**
   * Writes int8 weights (and their scale and zero point) for weight input `name`; with a
   * bias, scales are kept large enough for the bias to fit in int32 at input scale × weight scale.
   */
  private int8Weight(name: string, perChannel: boolean, transpose: boolean, bias?: { name: string; inputScale: number }): { values: string; scale: string; zeroPoint: string; scales: Float32Array } {
    const weight = this.floatWeight(name) as FloatWeight;
    let dims = [...weight.tensor.dims];
    let values: ArrayLike<number> = weight.values;
    if (transpose) {
      values = transposeMatrix(values, dims[0], dims[1]);
      dims = [dims[1], dims[0]];
    }
    const floor = bias ? biasWeightScaleFloor((this.floatWeight(bias.name) as FloatWeight).values, bias.inputScale, perChannel) : undefined;
    const quantized = quantizeWeightSymmetric(values, dims, perChannel, floor);
    const scaleDims = perChannel ? [dims[0]] : [];
    return {
      values: this.constant(`${name}_quantized`, 'int8', dims, quantized.values),
      scale: this.constant(`${name}_scale`, 'float32', scaleDims, quantized.scales),
      zeroPoint: this.constant(`${name}_zero_point`, 'int8', scaleDims, new Int8Array(perChannel ? dims[0] : 1)),
      scales: quantized.scales
    };
  }

  private int32Bias(name: string, inputScale: number, weightScales: Float32Array, perChannel: boolean): { values: string; scale: string; zeroPoint: string } {
    const bias = this.floatWeight(name) as FloatWeight;
    const quantized = quantizeBias(bias.values, inputScale, weightScales);
    const dims = [bias.values.length];
    return {
      values: this.constant(`${name}_quantized`, 'int32', dims, quantized.values),
      scale: perChannel ? this.constant(`${name}_scale`, 'float32', dims, quantized.scales) : this.constant(`${name}_scale`, 'float32', [], quantized.scales.slice(0, 1)),
      zeroPoint: perChannel ? this.constant(`${name}_zero_point`, 'int32', dims, new Int32Array(dims[0])) : this.constant(`${name}_zero_point`, 'int32', [], new Int32Array(1))
    };
  }

  // ---- QDQ ----------------------------------------------------------------------------

  private writeQdq(): void {
    const quantizedTensors = new Set<string>();
    for (const position of this.quantizable) {
      const node = this.graph.nodes[position];
      const activations = node.opType === 'Add' ? node.inputs : [node.inputs[0]];
      for (const name of activations) quantizedTensors.add(this.resolve(name));
      if (!this.graphOutputs.has(node.outputs[0])) quantizedTensors.add(node.outputs[0]);
    }
    const quantize = (name: string): void => {
      const value = this.parameters(name);
      this.emit('QuantizeLinear', [name, value.scale, value.zeroPoint], [value.name], {}, `${name}/QuantizeLinear`);
    };
    const dequantized = (name: string): string => {
      const value = this.parameters(name);
      const output = this.unique(`${name}_dequantized`);
      this.emit('DequantizeLinear', [value.name, value.scale, value.zeroPoint], [output], {}, `${name}/DequantizeLinear`);
      return output;
    };
    for (const input of this.graph.inputs) if (quantizedTensors.has(input.name)) quantize(input.name);
    for (const position of this.order) {
      if (this.foldedPositions.has(position)) continue;
      const node = this.graph.nodes[position];
      const reads = node.inputs.map((name) => this.resolve(name));
      const inputs = reads.map((name) => (quantizedTensors.has(name) && this.isActivation(name) && !hasSubgraph(node) ? dequantized(name) : name));
      if (this.quantizable.has(position)) this.qdqWeights(node, inputs);
      this.copy(node, inputs);
      for (const output of node.outputs) if (quantizedTensors.has(output)) quantize(output);
    }
  }

  /** Replaces a quantized Conv / Gemm / MatMul's weight and bias inputs by DequantizeLinear of int8 / int32 initializers. */
  private qdqWeights(node: OnnxNode, inputs: string[]): void {
    if (node.opType === 'Add') return;
    const perChannel = node.opType === 'Conv';
    const inputScale = this.parameters(node.inputs[0]).parameters.scale;
    const weight = this.int8Weight(node.inputs[1], perChannel, false, node.inputs[2] ? { name: node.inputs[2], inputScale } : undefined);
    const weightOutput = this.unique(`${node.inputs[1]}_dequantized`);
    this.emit('DequantizeLinear', [weight.values, weight.scale, weight.zeroPoint], [weightOutput], perChannel ? { axis: 0 } : {}, `${node.inputs[1]}/DequantizeLinear`);
    inputs[1] = weightOutput;
    if (node.inputs[2]) {
      const bias = this.int32Bias(node.inputs[2], inputScale, weight.scales, perChannel);
      const biasOutput = this.unique(`${node.inputs[2]}_dequantized`);
      this.emit('DequantizeLinear', [bias.values, bias.scale, bias.zeroPoint], [biasOutput], perChannel ? { axis: 0 } : {}, `${node.inputs[2]}/DequantizeLinear`);
      inputs[2] = biasOutput;
    }
  }

  // ---- QOperator ----------------------------------------------------------------------

  private readonly floatValue = new Map<string, string>();
  private readonly quantValue = new Map<string, QuantizedValue>();

  /** The uint8 form of activation `name`, quantizing its float form first if needed. */
  private quantized(name: string): QuantizedValue {
    const resolved = this.resolve(name);
    const known = this.quantValue.get(resolved);
    if (known) return known;
    const value = this.parameters(resolved);
    this.emit('QuantizeLinear', [this.floated(resolved), value.scale, value.zeroPoint], [value.name], {}, `${resolved}/QuantizeLinear`);
    this.quantValue.set(resolved, value);
    return value;
  }

  /** The float form of `name` (a weight, a model input, or an activation dequantized here under its own name). */
  private floated(name: string): string {
    const resolved = this.resolve(name);
    const known = this.floatValue.get(resolved);
    if (known) return known;
    const value = this.quantValue.get(resolved);
    if (!value) return resolved;
    this.emit('DequantizeLinear', [value.name, value.scale, value.zeroPoint], [resolved], {}, `${resolved}/DequantizeLinear`);
    this.floatValue.set(resolved, resolved);
    return resolved;
  }

  /** True when `name` exists only in uint8 so far: an op that can read uint8 reads it so. */
  private onlyQuantized(name: string): boolean {
    const resolved = this.resolve(name);
    return this.quantValue.has(resolved) && !this.floatValue.has(resolved);
  }

  /** A new uint8 output for activation `name`, quantized with its own parameters. */
  private quantizedOutput(name: string): QuantizedValue {
    const value = this.parameters(name);
    this.quantValue.set(this.resolve(name), value);
    return value;
  }

  private writeQOperator(): void {
    for (const input of this.graph.inputs) this.floatValue.set(input.name, input.name);
    for (const position of this.order) {
      if (this.foldedPositions.has(position)) continue;
      const node = this.graph.nodes[position];
      if (this.weights.nodes.includes(position)) {
        this.copy(node, node.inputs);
        continue;
      }
      if (this.quantizable.has(position)) this.qoperatorNode(node);
      else if (passThroughOps.has(node.opType) && node.domain === '' && node.outputs.length === 1 && this.onlyQuantized(node.inputs[0])) this.passThrough(node);
      else this.floatNode(node);
    }
    for (const output of this.graph.outputs) {
      const resolved = this.floated(output.name);
      if (resolved !== output.name) throw new QuantizeError(`model output ${output.name} is no longer produced`);
    }
  }

  private floatNode(node: OnnxNode): void {
    const inputs = node.inputs.map((name) => (name === '' ? name : this.isActivation(name) ? this.floated(name) : name));
    if (hasSubgraph(node)) for (const name of namesRead(node)) if (this.isActivation(name)) this.floated(name);
    this.copy(node, inputs);
    for (const output of node.outputs) if (output !== '') this.floatValue.set(output, output);
  }

  /** MaxPool, Flatten, Reshape, ...: on the uint8 values, which keep their scale and zero point. */
  private passThrough(node: OnnxNode): void {
    const input = this.quantized(node.inputs[0]);
    const output = this.unique(`${node.outputs[0]}_quantized`);
    const source = this.model.proto.graph?.node?.[node.index];
    this.nodes.push(new onnx.NodeProto({ ...source, input: [input.name, ...node.inputs.slice(1)], output: [output] }));
    this.quantValue.set(node.outputs[0], { ...input, name: output });
  }

  private qoperatorNode(node: OnnxNode): void {
    const output = node.outputs[0];
    const sourceAttributes = this.model.proto.graph?.node?.[node.index].attribute ?? [];
    switch (node.opType) {
      case 'Conv': {
        const x = this.quantized(node.inputs[0]);
        const weight = this.int8Weight(node.inputs[1], true, false, node.inputs[2] ? { name: node.inputs[2], inputScale: x.parameters.scale } : undefined);
        const y = this.quantizedOutput(output);
        const inputs = [x.name, x.scale, x.zeroPoint, weight.values, weight.scale, weight.zeroPoint, y.scale, y.zeroPoint];
        if (node.inputs[2]) inputs.push(this.int32Bias(node.inputs[2], x.parameters.scale, weight.scales, true).values);
        this.nodes.push(new onnx.NodeProto({ name: this.unique(`${node.name}_quant`), opType: 'QLinearConv', domain: '', input: inputs, output: [y.name], attribute: sourceAttributes }));
        return;
      }
      case 'MatMul': {
        const x = this.quantized(node.inputs[0]);
        const weight = this.int8Weight(node.inputs[1], false, false);
        const y = this.quantizedOutput(output);
        this.emit('QLinearMatMul', [x.name, x.scale, x.zeroPoint, weight.values, weight.scale, weight.zeroPoint, y.scale, y.zeroPoint], [y.name], {}, `${node.name}_quant`);
        return;
      }
      case 'Gemm':
        return this.integerFullyConnected(node);
      case 'Add': {
        const a = this.quantized(node.inputs[0]);
        const b = this.quantized(node.inputs[1]);
        const y = this.quantizedOutput(output);
        this.emit('QLinearAdd', [a.name, a.scale, a.zeroPoint, b.name, b.scale, b.zeroPoint, y.scale, y.zeroPoint], [y.name], {}, `${node.name}_quant`, MICROSOFT_DOMAIN);
        return;
      }
      case 'Concat': {
        const inputs = node.inputs.map((name) => this.quantized(name));
        const y = this.quantizedOutput(output);
        this.nodes.push(
          new onnx.NodeProto({
            name: this.unique(`${node.name}_quant`),
            opType: 'QLinearConcat',
            domain: MICROSOFT_DOMAIN,
            input: [y.scale, y.zeroPoint, ...inputs.flatMap((x) => [x.name, x.scale, x.zeroPoint])],
            output: [y.name],
            attribute: sourceAttributes.filter((a) => a.name === 'axis')
          })
        );
        return;
      }
    }
  }

  /**
   * Gemm as an integer matrix product: MatMulInteger of the uint8 input (static, when the
   * input already is uint8; else quantized on the fly by DynamicQuantizeLinear) and the
   * int8 weight, Cast to float, times input scale × weight scale, plus the float bias.
   */
  private integerFullyConnected(node: OnnxNode): void {
    const transposed = this.attributeInt(node, 'transB', 0) !== 0;
    const weight = this.int8Weight(node.inputs[1], false, transposed);
    const base = node.name;
    const product = this.unique(`${base}/MatMulInteger_output`);
    const asFloat = this.unique(`${base}/Cast_output`);
    const scaled = this.unique(`${base}/Mul_output`);
    let scaleOutput: string;
    if (this.onlyQuantized(node.inputs[0])) {
      const x = this.quantized(node.inputs[0]);
      this.emit('MatMulInteger', [x.name, weight.values, x.zeroPoint, weight.zeroPoint], [product], {}, `${base}/MatMulInteger`);
      this.emit('Cast', [product], [asFloat], { to: 1 }, `${base}/Cast`);
      const combined = this.constant(`${base}/combined_scale`, 'float32', [], new Float32Array([Math.fround(x.parameters.scale * weight.scales[0])]));
      this.emit('Mul', [asFloat, combined], [scaled], {}, `${base}/Mul`);
      scaleOutput = scaled;
    } else {
      const dynamic = [this.unique(`${base}/DynamicQuantizeLinear_output`), this.unique(`${base}/DynamicQuantizeLinear_scale`), this.unique(`${base}/DynamicQuantizeLinear_zero_point`)];
      this.emit('DynamicQuantizeLinear', [this.floated(node.inputs[0])], dynamic, {}, `${base}/DynamicQuantizeLinear`);
      this.emit('MatMulInteger', [dynamic[0], weight.values, dynamic[2], weight.zeroPoint], [product], {}, `${base}/MatMulInteger`);
      this.emit('Cast', [product], [asFloat], { to: 1 }, `${base}/Cast`);
      const byInput = this.unique(`${base}/Mul_input_scale_output`);
      this.emit('Mul', [asFloat, dynamic[1]], [byInput], {}, `${base}/Mul_input_scale`);
      this.emit('Mul', [byInput, weight.scale], [scaled], {}, `${base}/Mul`);
      scaleOutput = scaled;
    }
    const output = node.outputs[0];
    if (node.inputs[2]) this.emit('Add', [scaleOutput, node.inputs[2]], [output], {}, `${base}/Add`);
    else this.emit('Identity', [scaleOutput], [output], {}, `${base}/Identity`);
    this.floatValue.set(output, output);
  }

  // ---- the model ----------------------------------------------------------------------

  private finish(): QuantizedModel {
    const source = this.model.proto;
    const graph = source.graph as onnx.IGraphProto;
    // Float weights now read by nobody (their int8 copies replace them) are dropped, with
    // the weight-only nodes (aliases) that led to them.
    let nodes = this.nodes;
    const added = new Set(this.initializers.map((t) => t.name ?? ''));
    for (;;) {
      const read = new Set(nodes.flatMap((n) => protoNamesRead(n)));
      for (const output of graph.output ?? []) read.add(output.name ?? '');
      const kept = nodes.filter((n) => (n.output ?? []).some((o) => read.has(o)) || !this.isWeightNodeProto(n, added));
      if (kept.length === nodes.length) break;
      nodes = kept;
    }
    const read = new Set(nodes.flatMap((n) => protoNamesRead(n)));
    const initializers = [...(graph.initializer ?? []), ...this.initializers].filter((t) => read.has(t.name ?? ''));
    const domains = new Set(nodes.map((n) => n.domain ?? '').filter((d) => d !== '' && d !== 'ai.onnx'));
    const opsetImport = (source.opsetImport ?? []).filter((o) => o.domain !== MICROSOFT_DOMAIN);
    if (domains.has(MICROSOFT_DOMAIN)) opsetImport.push(new onnx.OperatorSetIdProto({ domain: MICROSOFT_DOMAIN, version: int64(1) }));
    const proto = new onnx.ModelProto({
      ...source,
      opsetImport,
      producerName: 'neurosurgeon-studio',
      docString: `${this.options.format === 'qdq' ? 'QDQ' : 'QOperator'} int8 quantization of ${graph.name ?? 'model'} (neurosurgeon quantize)`,
      graph: new onnx.GraphProto({ ...graph, node: nodes, initializer: initializers, valueInfo: [] })
    });
    const ops: Record<string, number> = {};
    for (const n of nodes) ops[n.opType ?? ''] = (ops[n.opType ?? ''] ?? 0) + 1;
    return {
      proto,
      quantizedNodes: [...this.quantizable].sort((a, b) => a - b).map((p) => this.graph.nodes[p].name),
      foldedActivations: [...this.foldedPositions].sort((a, b) => a - b).map((p) => this.graph.nodes[p].name),
      ops
    };
  }

  /** A node of the result that reads weights only (a copied weight-only node, a weight's DequantizeLinear). */
  private isWeightNodeProto(node: onnx.INodeProto, added: ReadonlySet<string>): boolean {
    const inputs = (node.input ?? []).filter((name) => name !== '');
    const isWeight = (name: string): boolean => this.weights.values.has(name) || added.has(name);
    return node.opType === 'Constant' || (inputs.length > 0 && inputs.every(isWeight));
  }
}

function hasSubgraph(node: OnnxNode): boolean {
  for (const attribute of node.attributes.values()) if (attribute.kind === 'graph' || attribute.kind === 'graphs') return true;
  return false;
}

/** Every name a node reads, subgraphs' outer-scope reads included. */
function namesRead(node: OnnxNode): string[] {
  const names = node.inputs.filter((name) => name !== '');
  for (const attribute of node.attributes.values()) {
    const graphs = attribute.kind === 'graph' ? [attribute.value] : attribute.kind === 'graphs' ? attribute.value : [];
    for (const graph of graphs) for (const inner of graph.nodes) names.push(...namesRead(inner));
  }
  return names;
}

function protoNamesRead(node: onnx.INodeProto): string[] {
  const names = (node.input ?? []).filter((name) => name !== '');
  for (const attribute of node.attribute ?? []) {
    for (const graph of [...(attribute.g ? [attribute.g] : []), ...(attribute.graphs ?? [])]) for (const inner of graph.node ?? []) names.push(...protoNamesRead(inner));
  }
  return names;
}
