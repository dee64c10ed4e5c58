// Where onnxruntime's NCHWc layout pass puts its reorder kernels at 'all' on a CPU with a
// blocked layout (DeviceProfile.nchwcLayout). A Conv it converts (runsBlocked) writes its
// output in blocks of channels; pools, element-wise activations, Add/Sum/Mul of equal
// shapes and channel Concats of whole blocks keep working on the blocked tensor; any other
// consumer, a broadcasting Mul (squeeze-and-excitation's) among them, gets a ReorderOutput
// back to NCHW first, and a converted Conv reading an NCHW tensor of a block or more of
// channels gets a ReorderInput. The rules were read off the graphs onnxruntime 1.30 saves
// (nchwc-layout.test.ts checks them against the runtime where it runs). predict.ts costs
// each reorder with the device profile's reorder fit and adds it to the layer whose kernel
// region onnxruntime's trace attributes it to: the converted Conv reading it (input), or
// the blocked layer whose output it turns back (output).
import type { ModelAnalysis } from '../analysis/types.js';
import { isStatic, staticElementCount } from '../analysis/shape-math.js';
import type { Dim, OnnxGraph } from '../onnx/model.js';
import type { LayerSample, NchwcLayout, ReorderFit } from '../profiling/types.js';
import { paddedChannels, runsBlocked } from './features.js';

export interface LayoutReorder {
  /** The layer the reorder's time is attributed to. */
  layer: number;
  kind: 'ReorderInput' | 'ReorderOutput';
  tensor: string;
  /** Bytes the reorder writes: the blocked (channel-padded) size for an input, the plain size for an output. */
  bytes: number;
}

/** Ops that keep a blocked input blocked: they work on it as it is (or onnxruntime converts them). */
const KEEPS_BLOCKED_UNARY = new Set(['Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Tanh', 'BatchNormalization']);
/** Pools onnxruntime converts when their channels fill whole blocks. */
const BLOCKED_POOLS = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool']);
const KEEPS_BLOCKED_SAME_SHAPE = new Set(['Add', 'Sum', 'Mul']);

const sameShape = (a: readonly number[] | null, b: readonly number[] | null): boolean => a !== null && b !== null && a.length === b.length && a.every((d, i) => d === b[i]);

/** Where onnxruntime's NCHWc pass puts its reorders, and which layers it runs on blocked tensors. */
export interface BlockedLayout {
  reorders: LayoutReorder[];
  /** Indices of the layers that run blocked (converted Convs, and the pools, activations, sums and Concats kept on their blocked outputs). */
  blockedLayers: Set<number>;
}

/**
 * The reorders onnxruntime adds around its blocked layers of `analysis`, in layer order,
 * for the layout `layout` (none without one). Tensors of unknown shape are taken as plain.
 */
export function nchwcReorders(analysis: ModelAnalysis, graph: OnnxGraph, layout: NchwcLayout | null): LayoutReorder[] {
  return blockedLayout(analysis, graph, layout).reorders;
}

/** nchwcReorders, with the layers that run blocked (a pool on a plain tensor runs the plain kernel the sweep times at 'disabled'). */
export function blockedLayout(analysis: ModelAnalysis, graph: OnnxGraph, layout: NchwcLayout | null): BlockedLayout {
  if (!layout) return { reorders: [], blockedLayers: new Set() };
  const block = layout.blockSize;
  const staticOf = (shape: Dim[] | null | undefined): number[] | null => (shape && isStatic(shape) ? shape : null);
  const shapeOf = (tensor: string): number[] | null => staticOf(analysis.tensors.get(tensor)?.shape);
  const blocked = new Map<string, number>(); // tensor → the layer that wrote it blocked
  const reordered = new Set<string>(); // plain tensors with a ReorderOutput already
  const reorderedIn = new Set<string>(); // plain tensors with a ReorderInput already (every converted Conv reading one shares it)
  const reorders: LayoutReorder[] = [];
  const toPlain = (tensor: string): void => {
    const producer = blocked.get(tensor);
    const shape = shapeOf(tensor);
    if (producer === undefined || reordered.has(tensor) || !shape) return;
    reordered.add(tensor);
    reorders.push({ layer: producer, kind: 'ReorderOutput', tensor, bytes: 4 * (staticElementCount(shape) ?? 0) });
  };
  for (const layer of analysis.layers) {
    const weights = new Set(layer.weightInputs);
    const data = layer.inputs.filter((name) => name !== '' && !weights.has(name));
    const output = layer.outputs[0];
    const outShape = staticOf(output?.shape);
    let keeps = false;
    const conv = runsBlocked(layer, analysis, graph, layout);
    if (conv === true) {
      const input = data[0];
      const inShape = input === undefined ? null : shapeOf(input);
      if (input !== undefined && inShape && inShape.length === 4) {
        // Fewer channels than a block: the converted Conv reads the plain layout.
        if (inShape[1] < block) toPlain(input);
        else if (!blocked.has(input) && !reorderedIn.has(input)) {
          reorderedIn.add(input);
          reorders.push({ layer: layer.index, kind: 'ReorderInput', tensor: input, bytes: 4 * inShape[0] * paddedChannels(inShape[1], block) * inShape[2] * inShape[3] });
        }
      }
      keeps = true;
    } else if (BLOCKED_POOLS.has(layer.opType) && layer.domain === '') {
      keeps = data.length >= 1 && blocked.has(data[0]) && (shapeOf(data[0])?.[1] ?? 1) % block === 0;
    } else if (KEEPS_BLOCKED_UNARY.has(layer.opType) && layer.domain === '') {
      keeps = data.length >= 1 && blocked.has(data[0]);
    } else if (KEEPS_BLOCKED_SAME_SHAPE.has(layer.opType) && layer.domain === '') {
      keeps = data.length >= 2 && data.every((name) => blocked.has(name) && sameShape(shapeOf(name), outShape)) && layer.weightInputs.length === 0;
    } else if (layer.opType === 'Concat' && layer.domain === '') {
      const axis = graph.nodes[layer.nodeIndex]?.attributes.get('axis');
      const value = axis?.kind === 'int' ? axis.value : null;
      keeps = (value === 1 || value === -3) && data.length === layer.inputs.length && data.every((name) => blocked.has(name) && (shapeOf(name)?.[1] ?? 1) % block === 0);
    }
    if (keeps && outShape && outShape.length === 4 && output) {
      blocked.set(output.name, layer.index);
    } else {
      for (const name of data) toPlain(name);
    }
  }
  for (const output of graph.outputs) toPlain(output.name);
  return { reorders, blockedLayers: new Set(blocked.values()) };
}

/**
 * The reorder cost fitted to the sweep's reorders at 'all' (LayerSample.reorders): least
 * squares of ms on bytes written, slope and intercept kept non-negative. Null with fewer
 * than four reorders or fewer than two sizes.
 */
export function fitReorders(samples: readonly LayerSample[]): ReorderFit | null {
  const points = samples.flatMap((sample) => sample.reorders ?? []).filter((r) => Number.isFinite(r.bytes) && Number.isFinite(r.ms) && r.bytes > 0);
  if (points.length < 4 || new Set(points.map((p) => p.bytes)).size < 2) return null;
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.bytes, 0) / n;
  const meanY = points.reduce((s, p) => s + p.ms, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.bytes - meanX) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.bytes - meanX) * (p.ms - meanY), 0);
  let msPerByte = Math.max(0, sxy / sxx);
  let interceptMs = meanY - msPerByte * meanX;
  if (interceptMs < 0) {
    interceptMs = 0;
    msPerByte = points.reduce((s, p) => s + p.bytes * p.ms, 0) / points.reduce((s, p) => s + p.bytes * p.bytes, 0);
  }
  return { interceptMs, msPerByte, samples: n };
}

/** A reorder writing `bytes` on the device `fit` describes, ms. */
export function reorderMs(fit: ReorderFit, bytes: number): number {
  return fit.interceptMs + fit.msPerByte * bytes;
}
