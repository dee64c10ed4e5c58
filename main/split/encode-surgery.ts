// Surgery carries the wire encoding (issue 16): after surgery.ts has cut a model into head
// and tail, each crossing tensor sent in a lossy encoding gets its codec's graph halves so
// the exported parts deploy unchanged — int8/uint8: a QuantizeLinear at the end of the head
// and a DequantizeLinear at the start of the tail, with the calibrated scale and zero
// point as initializers of both; fp16: a Cast on each side. A model input sent as uint8
// pixels (or a JPEG, decoded to those pixels by the server before inference) changes only
// the tail: its DequantizeLinear is the input's normalisation, now on the server.
// Lossless compression is transport, not graph (the executor's Content-Encoding).
import { onnx } from '../../app/onnx/generated/onnx.js';
import { ElementType } from '../../app/onnx/element-type.js';
import { attributeProto, typedTensorProto, valueInfoProto } from '../../app/onnx/writer.js';
import { type AffineParameters, type EncodableTensor, type WireEncoding, type WireDatatype, affineParameters, whyNotApplicable, wireDatatype, wireEncodingName } from '../../app/partition/wire-encoding.js';
import type { TensorRange } from '../../app/quantization/parameters.js';
import { SurgeryError, type CrossingTensor, type SplitResult } from './surgery.js';

/** How one crossing tensor travels, as the exported partition records it. */
export interface WireTensor {
  /** The tensor's name in the unsplit model. */
  name: string;
  /** The name the tail's input (and the head's output) has on the wire; `name` when unchanged. */
  wireName: string;
  encoding: string;
  datatype: WireDatatype;
  /** int8 / uint8 / JPEG: real = (q − zeroPoint) × scale. */
  scale?: number;
  zeroPoint?: number;
}

export interface EncodedSplit extends SplitResult {
  wire: WireTensor[];
}

function minimumOpset(proto: onnx.IModelProto): number {
  const standard = (proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  return Number(standard?.version ?? 0);
}

/**
 * Rewrites `split`'s head and tail so each crossing tensor travels in `encodingOf(name)`.
 * `affineOf` gives the calibrated parameters of an int8 / uint8 / JPEG tensor. Refuses, in
 * one line naming the tensor, an encoding that cannot apply (an integer tensor, JPEG of a
 * non-image). `dimsOf` gives concrete dims for the JPEG check.
 */
export function encodeSplitWire(
  split: SplitResult,
  encodingOf: (tensor: CrossingTensor) => WireEncoding,
  affineOf: (tensor: CrossingTensor, type: 'int8' | 'uint8') => AffineParameters,
  dimsOf: (tensor: CrossingTensor) => number[] | null = (t) => (t.shape && t.shape.every((d) => typeof d === 'number') ? (t.shape as number[]) : null)
): EncodedSplit {
  const wire: WireTensor[] = [];
  const headNodes: onnx.INodeProto[] = [];
  const headInits: onnx.ITensorProto[] = [];
  const headOutputs = new Map<string, onnx.IValueInfoProto>();
  const tailNodes: onnx.INodeProto[] = [];
  const tailInits: onnx.ITensorProto[] = [];
  const tailInputs = new Map<string, onnx.IValueInfoProto>();
  for (const tensor of split.crossing) {
    const encoding = encodingOf(tensor);
    const name = wireEncodingName(encoding);
    const reason = whyNotApplicable(encoding, { name: tensor.name, elementType: tensor.elementType, dims: dimsOf(tensor), isModelInput: tensor.producedBy === 'input' });
    if (reason) throw new SurgeryError(reason);
    const datatype = wireDatatype(encoding, tensor.elementType);
    if (encoding.base === 'fp32') {
      wire.push({ name: tensor.name, wireName: tensor.name, encoding: name, datatype });
      continue;
    }
    const affine = encoding.base !== 'fp16';
    const needed = affine ? 10 : 6;
    for (const part of [split.head, split.tail]) {
      if (part && minimumOpset(part) < needed) throw new SurgeryError(`${name} of tensor "${tensor.name}" needs opset ${needed} or later; the model has opset ${minimumOpset(part)}`);
    }
    const qType = encoding.base === 'int8' ? 'int8' : 'uint8';
    const wireName = `${tensor.name}__${affine ? qType : 'fp16'}`;
    const entry: WireTensor = { name: tensor.name, wireName, encoding: name, datatype };
    const wireInfo = valueInfoProto(wireName, affine ? qType : 'float16', tensor.shape);
    if (affine) {
      const p = affineOf(tensor, qType);
      entry.scale = p.scale;
      entry.zeroPoint = p.zeroPoint;
      const scaleName = `${wireName}_scale`;
      const zeroName = `${wireName}_zero_point`;
      const inits = () => [
        typedTensorProto(scaleName, 'float32', [], Float32Array.of(p.scale)),
        typedTensorProto(zeroName, qType, [], qType === 'int8' ? Int8Array.of(p.zeroPoint) : Uint8Array.of(p.zeroPoint))
      ];
      if (tensor.producedBy === 'head') {
        headNodes.push(new onnx.NodeProto({ name: `${wireName}_quantize`, opType: 'QuantizeLinear', input: [tensor.name, scaleName, zeroName], output: [wireName] }));
        headInits.push(...inits());
        headOutputs.set(tensor.name, wireInfo);
      }
      tailNodes.push(new onnx.NodeProto({ name: `${wireName}_dequantize`, opType: 'DequantizeLinear', input: [wireName, scaleName, zeroName], output: [tensor.name] }));
      tailInits.push(...inits());
    } else {
      if (tensor.producedBy === 'head') {
        headNodes.push(new onnx.NodeProto({ name: `${wireName}_cast`, opType: 'Cast', input: [tensor.name], output: [wireName], attribute: [attributeProto('to', ElementType.float16)] }));
        headOutputs.set(tensor.name, wireInfo);
      }
      tailNodes.push(new onnx.NodeProto({ name: `${wireName}_cast`, opType: 'Cast', input: [wireName], output: [tensor.name], attribute: [attributeProto('to', ElementType.float32)] }));
    }
    tailInputs.set(tensor.name, wireInfo);
    wire.push(entry);
  }
  const rewrite = (part: onnx.ModelProto | null, nodes: onnx.INodeProto[], inits: onnx.ITensorProto[], side: 'head' | 'tail'): onnx.ModelProto | null => {
    if (!part || nodes.length === 0) return part;
    const graph = part.graph as onnx.IGraphProto;
    const modelOutputs = new Set(split.outputs.filter((o) => o.from === 'head').map((o) => o.name));
    const outputs =
      side === 'head'
        ? (graph.output ?? []).flatMap((o) => {
            const replacement = headOutputs.get(o.name ?? '');
            if (!replacement) return [o];
            return modelOutputs.has(o.name ?? '') ? [o, replacement] : [replacement];
          })
        : graph.output;
    const inputs = side === 'tail' ? (graph.input ?? []).map((i) => tailInputs.get(i.name ?? '') ?? i) : graph.input;
    const graphNodes = side === 'head' ? [...(graph.node ?? []), ...nodes] : [...nodes, ...(graph.node ?? [])];
    return new onnx.ModelProto({
      ...part,
      graph: new onnx.GraphProto({ ...graph, node: graphNodes, initializer: [...(graph.initializer ?? []), ...inits], input: inputs, output: outputs })
    });
  };
  return {
    ...split,
    head: rewrite(split.head, headNodes, headInits, 'head'),
    tail: rewrite(split.tail, tailNodes, tailInits, 'tail'),
    wire
  };
}

/** The crossing tensors as the wire encodings' applicability rules see them (dims where the shape is concrete). */
export function encodableCrossing(crossing: readonly CrossingTensor[]): EncodableTensor[] {
  return crossing.map((c) => ({
    name: c.name,
    elementType: c.elementType,
    dims: c.shape && c.shape.every((d) => typeof d === 'number') ? (c.shape as number[]) : null,
    isModelInput: c.producedBy === 'input'
  }));
}

/**
 * One encoding for every crossing tensor, as `export --encoding` and `run --encoding` send
 * them: each float tensor in `encoding`, integer and bool tensors as they are (with the same
 * deflate); int8 / uint8 parameters from each tensor's calibrated range in `ranges`.
 */
export function encodeSplitUniform(split: SplitResult, encoding: WireEncoding, ranges: Readonly<Record<string, TensorRange>>): EncodedSplit {
  return encodeSplitWire(
    split,
    (t) => (t.elementType === 'float32' ? encoding : { base: 'fp32', deflate: encoding.deflate }),
    (t, type) => {
      const range = ranges[t.name];
      if (!range) throw new SurgeryError(`tensor "${t.name}" has no calibrated range for ${wireEncodingName(encoding)}`);
      return affineParameters(range, type);
    }
  );
}
