// What an op's inference rule sees of its node (input facts, small constant values,
// typed attributes) and what it gives back. analyze.ts builds one NodeContext per node;
// the rules in rules-*.ts only read it, so they stay small pure functions.
import { elementTypeName, type ElementTypeName } from '../onnx/element-type.js';
import type { Dim, OnnxNode, OnnxTensor } from '../onnx/model.js';
import { fail, type AutoPad } from './shape-math.js';

/** What inference knows of a value: type, shape and, for small tensors, the values. */
export interface ValueFacts {
  elementType: ElementTypeName;
  shape: Dim[] | null;
  /**
   * Row-major values of a small tensor (≤ constantValueLimit elements) when known.
   * Integers may be symbolic (a dim name such as 'batch' read by Shape) or null.
   */
  values: Dim[] | null;
}

export const constantValueLimit = 4096;

/** A rule's result for one output; elementType null means "same as input 0". */
export interface InferredTensor {
  elementType: ElementTypeName | null;
  shape: Dim[] | null;
  values?: Dim[] | null;
}

export type InferenceRule = (ctx: NodeContext) => InferredTensor[];

export class NodeContext {
  constructor(
    readonly node: OnnxNode,
    readonly opset: number,
    private readonly inputFacts: (ValueFacts | null)[]
  ) {}

  /**
   * The same node seen through some of its inputs, in the given order: a quantized op's
   * data operands (QLinearConv's x and w are inputs 0 and 3) as the float op's rule and MAC
   * convention read them (inputs 0 and 1).
   */
  select(indices: readonly number[]): NodeContext {
    const node: OnnxNode = { ...this.node, inputs: indices.map((i) => this.node.inputs[i] ?? '') };
    return new NodeContext(node, this.opset, indices.map((i) => this.inputFacts[i] ?? null));
  }

  get inputCount(): number {
    return this.node.inputs.length;
  }

  get outputCount(): number {
    return this.node.outputs.length;
  }

  /** Whether input i is given (ONNX marks an omitted optional input with ''). */
  has(i: number): boolean {
    return i < this.node.inputs.length && this.node.inputs[i] !== '';
  }

  facts(i: number): ValueFacts | null {
    return this.has(i) ? (this.inputFacts[i] ?? null) : null;
  }

  shape(i: number): Dim[] | null {
    return this.facts(i)?.shape ?? null;
  }

  /** The shape of input i; throws (unknown outputs) when it is not known. */
  requireShape(i: number): Dim[] {
    const shape = this.shape(i);
    if (!shape) fail(`shape of input ${i} unknown`);
    return shape;
  }

  type(i: number): ElementTypeName | null {
    const type = this.facts(i)?.elementType;
    return type && type !== 'undefined' ? type : null;
  }

  values(i: number): Dim[] | null {
    return this.facts(i)?.values ?? null;
  }

  /** Known numeric values of input i (symbolic or unknown entries give null). */
  numbers(i: number): number[] | null {
    const values = this.values(i);
    return values && values.every((v) => typeof v === 'number') ? (values as number[]) : null;
  }

  /** Optional input given as an empty tensor counts as omitted (PyTorch's Resize roi/scales). */
  hasNonEmpty(i: number): boolean {
    if (!this.has(i)) return false;
    const shape = this.shape(i);
    return !(shape && shape.some((d) => d === 0));
  }

  hasAttribute(name: string): boolean {
    return this.node.attributes.has(name);
  }

  int(name: string, fallback: number): number {
    const attribute = this.node.attributes.get(name);
    if (!attribute) return fallback;
    if (attribute.kind !== 'int') fail(`attribute ${name} is not an int`);
    return attribute.value;
  }

  ints(name: string): number[] | null {
    const attribute = this.node.attributes.get(name);
    if (!attribute) return null;
    if (attribute.kind !== 'ints') fail(`attribute ${name} is not a list of ints`);
    return attribute.value;
  }

  float(name: string, fallback: number): number {
    const attribute = this.node.attributes.get(name);
    if (!attribute) return fallback;
    if (attribute.kind === 'float' || attribute.kind === 'int') return attribute.value;
    fail(`attribute ${name} is not a float`);
  }

  floats(name: string): number[] | null {
    const attribute = this.node.attributes.get(name);
    if (!attribute) return null;
    if (attribute.kind === 'floats' || attribute.kind === 'ints') return attribute.value;
    fail(`attribute ${name} is not a list of floats`);
  }

  string(name: string, fallback: string): string {
    const attribute = this.node.attributes.get(name);
    if (!attribute) return fallback;
    if (attribute.kind !== 'string') fail(`attribute ${name} is not a string`);
    return attribute.value;
  }

  tensor(name: string): OnnxTensor | null {
    const attribute = this.node.attributes.get(name);
    if (!attribute) return null;
    if (attribute.kind !== 'tensor') fail(`attribute ${name} is not a tensor`);
    return attribute.value;
  }

  elementTypeAttribute(name: string): ElementTypeName | null {
    if (!this.hasAttribute(name)) return null;
    const type = elementTypeName(this.int(name, 0));
    if (type === 'undefined') fail(`attribute ${name} names no element type`);
    return type;
  }

  autoPad(): AutoPad {
    const value = this.string('auto_pad', 'NOTSET');
    if (value === 'NOTSET' || value === 'SAME_UPPER' || value === 'SAME_LOWER' || value === 'VALID') return value;
    fail(`auto_pad ${value}`);
  }

  /** Axes from input `index` (newer opsets) or the `axes` attribute (older ones); undefined when neither is given. */
  axes(index: number): number[] | null | undefined {
    if (this.has(index)) return this.numbers(index);
    return this.ints('axes') ?? undefined;
  }
}
