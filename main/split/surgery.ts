// main/split/ — splitting a model for real: graph surgery (here), split files and exports
// (split-files.ts, export.ts), planning a file (plan-service.ts), real split runs and sweeps
// (split-run.ts, sweep.ts), their prediction (split-prediction.ts) and the chained check (split-check.ts).
//
// Graph surgery: cuts a model into the part that runs on the device (head) and the part
// that runs on the server (tail) for any predecessor-closed set of layers (the analysis's
// layers, app/analysis). Each part keeps the original opset, IR version and model-local
// functions, carries only the initializers its nodes use, and exchanges the crossing
// tensors as head outputs / tail inputs with their element types and shapes. Weights are
// never crossing tensors: a weight-only node (an Identity alias, a Constant, a folded
// chain; app/analysis/weights.ts) goes into every part that reads its output, duplicated
// where both do. A layer with quantization steps (app/analysis/quant-steps.ts) takes its
// steps with it. Weights are shared with the source model's protobuf objects, so they are
// copied once, when the part is encoded.
import { onnx } from '../../app/onnx/generated/onnx.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import type { ModelAnalysis, TensorFacts } from '../../app/analysis/types.js';
import { encodeModel, valueInfoProto } from '../../app/onnx/writer.js';
import { weightNodesReading } from '../../app/analysis/weights.js';
import { layerNodePositions } from '../../app/analysis/quant-steps.js';

export interface CrossingTensor {
  name: string;
  elementType: TensorFacts['elementType'];
  shape: TensorFacts['shape'];
  bytes: number | null;
  /** 'input' when the tensor is a model input shipped as it is (cut 0 and its kin). */
  producedBy: 'head' | 'input';
}

export interface SplitResult {
  /** null when no node runs on the device (the model input is sent as it is). */
  head: onnx.ModelProto | null;
  /** null when every node runs on the device. */
  tail: onnx.ModelProto | null;
  /** Tensors uploaded from device to server: head outputs (or model inputs) and tail inputs. */
  crossing: CrossingTensor[];
  /** Where each model output comes from. */
  outputs: { name: string; from: 'head' | 'tail' }[];
}

export class SurgeryError extends Error {
  override name = 'SurgeryError';
}

/** Every value name a node reads, including outer-scope names read inside its subgraphs. */
function namesReadBy(node: onnx.INodeProto): string[] {
  const names = (node.input ?? []).filter((n) => n !== '');
  for (const attribute of node.attribute ?? []) {
    const graphs = [...(attribute.g ? [attribute.g] : []), ...(attribute.graphs ?? [])];
    for (const graph of graphs) {
      const local = new Set<string>([
        ...(graph.input ?? []).map((v) => v.name ?? ''),
        ...(graph.initializer ?? []).map((t) => t.name ?? ''),
        ...(graph.node ?? []).flatMap((n) => n.output ?? [])
      ]);
      for (const inner of graph.node ?? []) for (const name of namesReadBy(inner)) if (!local.has(name)) names.push(name);
    }
  }
  return names;
}

/** Every value name the nodes of layer `index` read (its steps' too). */
function namesReadByLayer(protoNodes: readonly onnx.INodeProto[], analysis: ModelAnalysis, index: number): string[] {
  return layerNodePositions(analysis.layers[index]).flatMap((position) => namesReadBy(protoNodes[position]));
}

/** Every value the nodes of layer `index` compute (inside the layer or not). */
function namesProducedByLayer(protoNodes: readonly onnx.INodeProto[], analysis: ModelAnalysis, index: number): string[] {
  return layerNodePositions(analysis.layers[index]).flatMap((position) => (protoNodes[position].output ?? []).filter((name) => name !== ''));
}

/** True when no layer in `localLayers` reads a value computed by a layer outside it. */
export function isPredecessorClosed(model: OnnxModel, analysis: ModelAnalysis, localLayers: ReadonlySet<number>): boolean {
  const producerLayer = new Map<string, number>();
  const protoNodes = model.proto.graph?.node ?? [];
  for (const layer of analysis.layers) for (const name of namesProducedByLayer(protoNodes, analysis, layer.index)) producerLayer.set(name, layer.index);
  for (const index of localLayers) {
    for (const name of namesReadByLayer(protoNodes, analysis, index)) {
      const p = producerLayer.get(name);
      if (p !== undefined && !localLayers.has(p)) return false;
    }
  }
  return true;
}

/** Splits `model`; `localLayers` (indices into analysis.layers) must be closed under predecessors. */
export function splitModel(model: OnnxModel, analysis: ModelAnalysis, localLayers: ReadonlySet<number>): SplitResult {
  const graph = model.proto.graph;
  if (!graph) throw new SurgeryError('the model has no graph');
  const layerCount = analysis.layers.length;
  for (const index of localLayers) {
    if (!Number.isInteger(index) || index < 0 || index >= layerCount) {
      throw new SurgeryError(`layer index ${index} is out of range (the model has ${layerCount} layers)`);
    }
  }
  if (!isPredecessorClosed(model, analysis, localLayers)) {
    throw new SurgeryError('the local layer set is not closed under predecessors: a local layer reads a value computed on the server');
  }
  const protoNodes = graph.node ?? [];
  const weights = analysis.weights;
  const partNodes = (layers: number[]): onnx.INodeProto[] => {
    const own = layers.flatMap((i) => layerNodePositions(analysis.layers[i]));
    const reads = own.flatMap((position) => namesReadBy(protoNodes[position]));
    const positions = [...weightNodesReading(weights, reads), ...own].sort((a, b) => a - b);
    return positions.map((position) => protoNodes[position]);
  };
  const localList = [...localLayers].sort((a, b) => a - b);
  const remoteList = analysis.layers.map((l) => l.index).filter((i) => !localLayers.has(i));
  const headNodes = localList.length > 0 ? partNodes(localList) : [];
  const tailNodes = remoteList.length > 0 ? partNodes(remoteList) : [];
  const producedByHead = new Set(localList.flatMap((i) => namesProducedByLayer(protoNodes, analysis, i)));
  const modelInputs = new Set(model.graph.inputs.map((v) => v.name));
  const modelOutputs = model.graph.outputs.map((v) => v.name);

  const tailReads = new Set(remoteList.flatMap((i) => namesReadByLayer(protoNodes, analysis, i)));
  const crossingNames = [...tailReads].filter((name) => producedByHead.has(name) || modelInputs.has(name));
  const headOutputNames = new Set<string>(crossingNames.filter((n) => producedByHead.has(n)));
  const outputs: SplitResult['outputs'] = modelOutputs.map((name) => ({
    name,
    from: producedByHead.has(name) ? 'head' : 'tail'
  }));
  for (const output of outputs) if (output.from === 'head') headOutputNames.add(output.name);

  const factsOf = (name: string): TensorFacts => {
    const facts = analysis.tensors.get(name);
    if (!facts) throw new SurgeryError(`no type is known for tensor "${name}"`);
    if (facts.elementType === 'undefined') throw new SurgeryError(`the element type of tensor "${name}" is unknown`);
    return facts;
  };
  const infoFor = (name: string) => {
    const facts = factsOf(name);
    return valueInfoProto(name, facts.elementType, facts.shape);
  };
  const originalOutputInfo = new Map((graph.output ?? []).map((v) => [v.name ?? '', v]));
  const originalInputInfo = new Map((graph.input ?? []).map((v) => [v.name ?? '', v]));
  const outputInfo = (name: string) => originalOutputInfo.get(name) ?? infoFor(name);

  const initializersFor = (nodes: onnx.INodeProto[]) => {
    const read = new Set(nodes.flatMap(namesReadBy));
    return (graph.initializer ?? []).filter((t) => read.has(t.name ?? ''));
  };
  const valueInfoFor = (nodes: onnx.INodeProto[]) => {
    const produced = new Set(nodes.flatMap((n) => n.output ?? []));
    return (graph.valueInfo ?? []).filter((v) => produced.has(v.name ?? ''));
  };
  const makeModel = (
    suffix: string,
    nodes: onnx.INodeProto[],
    inputs: onnx.IValueInfoProto[],
    outputsInfo: onnx.IValueInfoProto[]
  ): onnx.ModelProto =>
    new onnx.ModelProto({
      irVersion: model.proto.irVersion,
      opsetImport: model.proto.opsetImport,
      producerName: model.proto.producerName,
      producerVersion: model.proto.producerVersion,
      domain: model.proto.domain,
      modelVersion: model.proto.modelVersion,
      docString: `${suffix} of ${graph.name ?? 'model'} (neurosurgeon split)`,
      functions: model.proto.functions,
      metadataProps: model.proto.metadataProps,
      graph: new onnx.GraphProto({
        name: `${graph.name ?? 'model'}_${suffix}`,
        node: nodes,
        initializer: initializersFor(nodes),
        input: inputs,
        output: outputsInfo,
        valueInfo: valueInfoFor(nodes)
      })
    });

  let head: onnx.ModelProto | null = null;
  if (headNodes.length > 0) {
    const headReads = new Set(headNodes.flatMap(namesReadBy));
    const headInputs = model.graph.inputs
      .filter((v) => headReads.has(v.name))
      .map((v) => originalInputInfo.get(v.name) ?? infoFor(v.name));
    const headOutputs = [...headOutputNames].filter((n) => producedByHead.has(n)).map((n) => (originalOutputInfo.has(n) ? outputInfo(n) : infoFor(n)));
    head = makeModel('head', headNodes, headInputs, headOutputs);
  }
  let tail: onnx.ModelProto | null = null;
  if (tailNodes.length > 0) {
    const tailInputs = crossingNames.map((n) => (modelInputs.has(n) ? (originalInputInfo.get(n) ?? infoFor(n)) : infoFor(n)));
    const tailOutputs = outputs.filter((o) => o.from === 'tail').map((o) => outputInfo(o.name));
    tail = makeModel('tail', tailNodes, tailInputs, tailOutputs);
  }
  const crossing: CrossingTensor[] = crossingNames.map((name) => {
    const facts = factsOf(name);
    return {
      name,
      elementType: facts.elementType,
      shape: facts.shape,
      bytes: facts.bytes,
      producedBy: producedByHead.has(name) ? 'head' : 'input'
    };
  });
  return { head, tail, crossing, outputs };
}

export function encodeSplit(split: SplitResult): { head: Uint8Array | null; tail: Uint8Array | null } {
  return { head: split.head ? encodeModel(split.head) : null, tail: split.tail ? encodeModel(split.tail) : null };
}
