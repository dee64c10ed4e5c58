// Per-layer analysis of an ONNX graph: checks its structure (graph-check.ts), walks the
// nodes in topological order, settles every value's type and shape (runtime shapes >
// declared dims > static inference, see rules.ts), refuses malformed quantized nodes
// (quant-check.ts), then counts each layer's parameters, output bytes and MACs, float and
// integer (op-costs.ts). Nodes that compute weights only (weights.ts) are analysed for
// their shapes but are no layers: they fold into the layers that read them. A QDQ model's
// activation QuantizeLinear / DequantizeLinear nodes are steps of the layers they quantize
// or feed (quant-steps.ts): a layer is then its own node plus its steps.
// Weights are never read: only small integer/float tensors' values are looked at.
import { byteSizeOf, elementBits, type ElementTypeName } from '../onnx/element-type.js';
import { defaultOpset, type Dim, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor } from '../onnx/model.js';
import { tensorValues } from '../onnx/reader.js';
import { constantValueLimit, NodeContext, type InferredTensor, type ValueFacts } from './context.js';
import { countMacs, qdqIntegerOperands } from './op-costs.js';
import { isDefaultDomain, ruleFor } from './rules.js';
import { checkGraphStructure } from './graph-check.js';
import { staticElementCount } from './shape-math.js';
import { checkQuantizedNode } from './quant-check.js';
import { findQuantizationSteps } from './quant-steps.js';
import { eightBitTypes } from './rules-quant.js';
import { isStatic } from './shape-math.js';
import type { AnalyzeOptions, LayerAnalysis, LayerFlag, ModelAnalysis, ShapeSource, SymbolicDim, TensorFacts, WeightNode } from './types.js';
import { findWeights, uniqueSources, weightNodesReading, type GraphWeights, type WeightSource } from './weights.js';

interface ValueState extends ValueFacts {
  source: ShapeSource;
}

const unknownValue: ValueState = { elementType: 'undefined', shape: null, values: null, source: 'unknown' };

export function analyzeModel(model: OnnxModel, options: AnalyzeOptions = {}): ModelAnalysis {
  return new Analysis(model, options).run();
}

/** The value a symbolic input dimension takes when the caller gives none (onnxruntime's perf tools do the same). */
export const DEFAULT_SYMBOLIC_DIM = 1;

/**
 * The symbolic dimensions of a model's inputs, each with the value analysis and real runs
 * use: the one given, else DEFAULT_SYMBOLIC_DIM (reported as a default, so users see it).
 */
export function resolveInputDims(graph: OnnxGraph, given: Record<string, number> = {}): SymbolicDim[] {
  const names = new Set<string>();
  for (const input of graph.inputs) for (const d of input.type?.shape ?? []) if (typeof d === 'string') names.add(d);
  return [...names].map((name) =>
    Object.hasOwn(given, name) ? { name, value: given[name], source: 'given' as const } : { name, value: DEFAULT_SYMBOLIC_DIM, source: 'default' as const }
  );
}

class Analysis {
  private readonly graph: OnnxGraph;
  private readonly opset: number;
  private readonly states = new Map<string, ValueState>();
  private readonly declared = new Map<string, { elementType: ElementTypeName; shape: Dim[] | null }>();
  private readonly symbolicDims: SymbolicDim[];
  private readonly dimValues: Record<string, number>;
  private weights: GraphWeights | null = null;
  /** Outputs of DequantizeLinear nodes that read 8-bit integers: a QDQ node reading only these runs as an integer kernel. */
  private readonly dequantizedEightBit = new Set<string>();

  constructor(
    model: OnnxModel,
    private readonly options: AnalyzeOptions
  ) {
    this.graph = model.graph;
    this.opset = defaultOpset(model);
    this.symbolicDims = options.defaultSymbolicDims
      ? resolveInputDims(this.graph, options.dimValues)
      : resolveInputDims(this.graph, options.dimValues).filter((d) => d.source === 'given');
    this.dimValues = { ...options.dimValues, ...Object.fromEntries(this.symbolicDims.map((d) => [d.name, d.value])) };
    for (const info of [...this.graph.valueInfo.values(), ...this.graph.outputs]) {
      if (info.type) this.declared.set(info.name, { elementType: info.type.elementType, shape: this.resolveSymbols(info.type.shape) });
    }
  }

  run(): ModelAnalysis {
    const order = checkGraphStructure(this.graph);
    const weights = findWeights(this.graph, order);
    this.weights = weights;
    const tensors = new Map<string, TensorFacts>();
    for (const tensor of this.graph.initializers.values()) {
      this.states.set(tensor.name, initializerState(tensor));
      tensors.set(tensor.name, this.facts(tensor.name));
    }
    const inputs = this.graph.inputs.map((input) => {
      const declared = input.type ? { elementType: input.type.elementType, shape: this.resolveSymbols(input.type.shape) } : null;
      this.states.set(input.name, this.withRuntime(input.name, declared ? { ...declared, values: null, source: 'declared' } : unknownValue));
      const facts = this.facts(input.name);
      tensors.set(input.name, facts);
      return facts;
    });

    const weightNodeSet = new Set(weights.nodes);
    const analysed = new Map<number, LayerAnalysis>();
    const weightNodes: WeightNode[] = [];
    for (const position of order) {
      const node = this.graph.nodes[position];
      const result = this.analyzeNode(node);
      for (const output of result.outputs) tensors.set(output.name, output);
      analysed.set(position, result);
      if (weightNodeSet.has(position)) {
        weightNodes.push({ nodeIndex: position, name: node.name, opType: node.opType, outputs: result.outputs, consumers: [] });
      }
    }
    const owners = findQuantizationSteps(this.graph, weights);
    const stepsOf = new Map<number, number[]>();
    for (const [step, owner] of owners) stepsOf.set(owner, [...(stepsOf.get(owner) ?? []), step]);
    const readers = readersOf(this.graph);
    const layers: LayerAnalysis[] = [];
    for (const position of order) {
      if (weightNodeSet.has(position) || owners.has(position)) continue;
      const own = analysed.get(position) as LayerAnalysis;
      const steps = (stepsOf.get(position) ?? []).sort((a, b) => a - b).map((step) => analysed.get(step) as LayerAnalysis);
      layers.push({ ...(steps.length > 0 ? this.withSteps(own, steps, readers) : own), index: layers.length });
    }
    const weightNodeAt = new Map(weightNodes.map((w) => [w.nodeIndex, w]));
    for (const layer of layers) for (const position of layer.foldedNodes) weightNodeAt.get(position)?.consumers.push(layer.index);
    weightNodes.sort((a, b) => a.nodeIndex - b.nodeIndex);

    const outputs = this.graph.outputs.map((output) => {
      if (!this.states.has(output.name)) this.states.set(output.name, this.declaredState(output.name) ?? unknownValue);
      const facts = this.facts(output.name);
      if (!tensors.has(output.name)) tensors.set(output.name, facts);
      return facts;
    });

    return {
      layers,
      weightNodes,
      weights,
      symbolicDims: this.symbolicDims,
      tensors,
      inputs,
      outputs,
      totals: this.totals(layers),
      unresolved: unresolvedOutputs(layers)
    };
  }

  private analyzeNode(node: OnnxNode): LayerAnalysis {
    const flags = new Set<LayerFlag>();
    const inputStates = node.inputs.map((name) => {
      if (name === '') return null;
      const state = this.states.get(name);
      if (!state) flags.add('unknown-shape');
      return state ?? unknownValue;
    });
    const rule = ruleFor(node.domain, node.opType);
    if (!rule) flags.add('unknown-op');
    const context = new NodeContext(node, this.opset, inputStates);
    checkQuantizedNode(context);
    let inferred: InferredTensor[] = [];
    if (rule) {
      try {
        inferred = rule(context);
      } catch {
        inferred = [];
      }
    }

    const outputs: TensorFacts[] = [];
    const outputShapes: (Dim[] | null)[] = [];
    node.outputs.forEach((name, i) => {
      const state = this.settle(name, inferred[i], context);
      outputShapes.push(state.shape);
      if (name === '') return;
      this.states.set(name, state);
      outputs.push(this.facts(name));
    });

    for (const output of outputs) {
      if (!output.shape || output.shape.includes(null)) flags.add('unknown-shape');
      if (output.shape?.some((d) => typeof d === 'string')) flags.add('symbolic-shape');
    }
    const count = rule ? countMacs(context, outputShapes) : null;
    if (rule && !count) flags.add('unknown-op');
    if (count?.missing) flags.add(count.missing);

    const integer = count !== null && (count.integer || this.runsOnIntegers(node));
    if (isDefaultDomain(node.domain) && node.opType === 'DequantizeLinear' && eightBitTypes.has(context.type(0) ?? 'undefined')) {
      for (const output of node.outputs) if (output !== '') this.dequantizedEightBit.add(output);
    }

    const { params, paramBytes } = sumSources(this.sourcesRead(node.inputs));
    const weights = this.weights as GraphWeights;
    const weightInputs = [...new Set(node.inputs.filter((name) => weights.values.has(name)))];
    return {
      index: node.index,
      nodeIndex: node.index,
      name: node.name,
      opType: node.opType,
      domain: node.domain,
      inputs: node.inputs,
      outputs,
      outputBytes: outputs.some((o) => o.bytes === null) ? null : outputs.reduce((sum, o) => sum + (o.bytes ?? 0), 0),
      params,
      paramBytes,
      stepNodes: [],
      macs: count ? count.macs : null,
      nodeMacs: count ? count.macs : null,
      intMacs: count && count.macs !== null ? (integer ? count.macs : 0) : null,
      weightInputs,
      foldedNodes: weightNodesReading(weights, weightInputs),
      flags: [...flags]
    };
  }

  /** A QDQ node whose data and weight inputs all come from DequantizeLinear of 8-bit integers. */
  private runsOnIntegers(node: OnnxNode): boolean {
    if (!isDefaultDomain(node.domain) || !Object.hasOwn(qdqIntegerOperands, node.opType)) return false;
    return qdqIntegerOperands[node.opType].every((i) => i < node.inputs.length && this.dequantizedEightBit.has(node.inputs[i]));
  }

  /**
   * A layer made of its own node and its quantization steps: it reads what its members
   * read from outside it, gives what they give outside it (a QDQ conv's 8-bit Q output, not
   * the float tensor between Conv and Q), and counts all its members' weights and MACs.
   */
  private withSteps(own: LayerAnalysis, steps: readonly LayerAnalysis[], readers: ReadonlyMap<string, ReadonlySet<number>>): LayerAnalysis {
    const members = [own, ...steps];
    const positions = new Set(members.map((m) => m.nodeIndex));
    const producedInside = new Map<string, LayerAnalysis>();
    for (const member of members) for (const name of this.graph.nodes[member.nodeIndex].outputs) if (name !== '') producedInside.set(name, member);
    const inputs: string[] = [];
    for (const name of own.inputs) {
      const step = producedInside.get(name);
      inputs.push(...(step ? step.inputs : [name]));
    }
    for (const step of steps) for (const name of step.inputs) if (!producedInside.has(name) && !inputs.includes(name)) inputs.push(name);
    const graphOutputs = new Set(this.graph.outputs.map((o) => o.name));
    const leaves = (facts: TensorFacts): boolean => {
      const read = readers.get(facts.name);
      return graphOutputs.has(facts.name) || !read || read.size === 0 || [...read].some((reader) => !positions.has(reader));
    };
    const outputs = members.flatMap((member) => member.outputs.filter(leaves));
    const weights = this.weights as GraphWeights;
    const weightInputs = [...new Set(members.flatMap((member) => member.weightInputs))];
    const { params, paramBytes } = sumSources(this.sourcesRead(weightInputs));
    const sum = (pick: (member: LayerAnalysis) => number | null): number | null =>
      members.some((member) => pick(member) === null) ? null : members.reduce((total, member) => total + (pick(member) ?? 0), 0);
    return {
      ...own,
      inputs,
      outputs,
      outputBytes: outputs.some((o) => o.bytes === null) ? null : outputs.reduce((total, o) => total + (o.bytes ?? 0), 0),
      params,
      paramBytes,
      weightInputs,
      foldedNodes: weightNodesReading(weights, weightInputs),
      stepNodes: steps.map((step) => step.nodeIndex),
      macs: sum((member) => member.macs),
      intMacs: sum((member) => member.intMacs),
      flags: [...new Set(members.flatMap((member) => member.flags))]
    };
  }

  /** Final state of a node output: inference refined by declarations, overridden by runtime shapes. */
  private settle(name: string, inferred: InferredTensor | undefined, context: NodeContext): ValueState {
    const inferredShape = inferred ? validShape(inferred.shape) : null;
    const inferredType = inferred ? (inferred.elementType ?? context.type(0) ?? 'undefined') : 'undefined';
    const declared = this.declared.get(name);
    let state: ValueState;
    if (!declared) {
      state = { elementType: inferredType, shape: inferredShape, values: null, source: inferredShape ? 'static' : 'unknown' };
    } else {
      const elementType = declared.elementType !== 'undefined' ? declared.elementType : inferredType;
      const merged = mergeDeclared(declared.shape, inferredShape);
      state = { elementType, ...merged, values: null };
    }
    if (inferred?.values && isStatic(state.shape)) {
      const count = staticElementCount(state.shape);
      if (count !== null && count <= constantValueLimit && inferred.values.length === count) state.values = inferred.values;
    }
    return this.withRuntime(name, state);
  }

  private withRuntime(name: string, state: ValueState): ValueState {
    const observed = this.options.runtimeShapes?.get(name);
    if (!observed) return state;
    const shape = [...observed.shape];
    const keepValues = state.values !== null && state.values.length === staticElementCount(shape);
    return { elementType: observed.elementType, shape, values: keepValues ? state.values : null, source: 'runtime' };
  }

  private declaredState(name: string): ValueState | null {
    const declared = this.declared.get(name);
    return declared ? { ...declared, values: null, source: declared.shape ? 'declared' : 'unknown' } : null;
  }

  private resolveSymbols(shape: Dim[] | null): Dim[] | null {
    const dimValues = this.dimValues;
    if (!shape) return shape;
    return shape.map((d) => (typeof d === 'string' && Object.hasOwn(dimValues, d) ? dimValues[d] : d));
  }

  private facts(name: string): TensorFacts {
    const state = this.states.get(name) ?? unknownValue;
    const count = staticElementCount(state.shape);
    const bits = elementBits(state.elementType);
    return {
      name,
      elementType: state.elementType,
      shape: state.shape,
      bytes: count !== null && bits > 0 ? byteSizeOf(state.elementType, count) : null,
      source: state.source
    };
  }

  /** The stored weights (initializers, Constant tensors) that reading `inputs` reads, each once. */
  private sourcesRead(inputs: readonly string[]): WeightSource[] {
    const sources = (this.weights as GraphWeights).sources;
    return uniqueSources(inputs.flatMap((name) => sources.get(name) ?? []));
  }

  /** Parameters count each stored weight once, however many layers read it (the model's size). */
  private totals(layers: LayerAnalysis[]): ModelAnalysis['totals'] {
    let macs = 0;
    let intMacs = 0;
    let unknownMacLayers = 0;
    for (const layer of layers) {
      if (layer.macs === null) unknownMacLayers++;
      else {
        macs += layer.macs;
        intMacs += layer.intMacs ?? 0;
      }
    }
    const { params, paramBytes } = sumSources(this.sourcesRead(layers.flatMap((layer) => layer.weightInputs)));
    const values = (this.weights as GraphWeights).values;
    const gathersTable = (layer: LayerAnalysis): boolean => layer.opType === 'Gather' && values.has(layer.inputs[0]);
    const read = sumSources(this.sourcesRead(layers.flatMap((layer) => (gathersTable(layer) ? layer.weightInputs.filter((name) => name !== layer.inputs[0]) : layer.weightInputs))));
    const rows = layers.reduce((sum, layer) => sum + (gathersTable(layer) ? (layer.outputBytes ?? layer.paramBytes) : 0), 0);
    return { params, paramBytes, macs, intMacs, unknownMacLayers, weightBytesPerRun: read.paramBytes + rows };
  }
}

/** Every value name → the nodes (graph positions) reading it, subgraph reads of outer names included. */
export function readersOf(graph: OnnxGraph): Map<string, Set<number>> {
  const readers = new Map<string, Set<number>>();
  const visit = (nodes: readonly OnnxNode[], position: number): void => {
    for (const node of nodes) {
      for (const name of node.inputs) {
        if (name === '') continue;
        let set = readers.get(name);
        if (!set) readers.set(name, (set = new Set()));
        set.add(position);
      }
      for (const attribute of node.attributes.values()) {
        if (attribute.kind === 'graph') visit(attribute.value.nodes, position);
        if (attribute.kind === 'graphs') for (const inner of attribute.value) visit(inner.nodes, position);
      }
    }
  };
  for (const node of graph.nodes) visit([node], node.index);
  return readers;
}

function sumSources(sources: readonly WeightSource[]): { params: number; paramBytes: number } {
  let params = 0;
  let paramBytes = 0;
  for (const source of sources) {
    params += source.elements;
    paramBytes += source.bytes;
  }
  return { params, paramBytes };
}

function initializerState(tensor: OnnxTensor): ValueState {
  let values: Dim[] | null | undefined;
  return {
    elementType: tensor.elementType,
    shape: [...tensor.dims],
    source: 'declared',
    // Read on first use, and only for small tensors: big weights are never touched.
    get values(): Dim[] | null {
      if (values === undefined) {
        values = tensor.elementCount <= constantValueLimit && tensor.elementType !== 'string' ? tensorValues(tensor, constantValueLimit) : null;
      }
      return values;
    }
  };
}

/** A shape from a rule, or null when it holds anything but non-negative integers, symbols and nulls. */
function validShape(shape: Dim[] | null): Dim[] | null {
  if (!Array.isArray(shape)) return null;
  const valid = shape.every((d) => d === null || typeof d === 'string' || (Number.isSafeInteger(d) && d >= 0));
  return valid ? shape : null;
}

/** Declared dims win; inferred ones fill dims the file leaves unknown or symbolic. */
function mergeDeclared(declared: Dim[] | null, inferred: Dim[] | null): { shape: Dim[] | null; source: ShapeSource } {
  if (!declared) return inferred ? { shape: inferred, source: 'static' } : { shape: null, source: 'unknown' };
  if (!inferred || inferred.length !== declared.length) return { shape: declared, source: 'declared' };
  const shape = declared.map((d, i) => {
    if (typeof d === 'number') return d;
    const dim = inferred[i];
    if (typeof dim === 'number') return dim;
    return d ?? dim;
  });
  return { shape, source: shape.some((d, i) => d !== declared[i]) ? 'static' : 'declared' };
}

function unresolvedOutputs(layers: LayerAnalysis[]): string[] {
  return layers.flatMap((layer) => layer.outputs.filter((o) => !isStatic(o.shape)).map((o) => o.name));
}
