// onnxruntime's profiling trace → per-layer timings. main/profiling/profiler.ts runs a session with
// profiling on and hands the trace file's JSON here; this module (pure, no Node) checks
// the events, splits them into runs, maps every kernel back to the node of the ORIGINAL
// model it stands for — directly by name, or through the optimised graph onnxruntime
// saved when it fused or re-laid-out nodes — and summarises each node's per-run time as
// median / p10 / p90.
import { staticElementCount } from '../analysis/shape-math.js';
import type { Dim } from '../onnx/model.js';

/** One kernel execution: a `<node>_kernel_time` event of category 'Node'. */
export interface KernelEvent {
  /** The node's name in the graph onnxruntime ran (the event name without `_kernel_time`). */
  node: string;
  op: string | null;
  provider: string | null;
  /** Start, microseconds since the session was created. */
  ts: number;
  durationUs: number;
  outputBytes: number | null;
  /**
   * 'kernel': the host-side `_kernel_time` event; 'gpu': a GPU timestamp-query event of
   * category 'Api' named `<node>&<op>&<program>` (WebGPU), which is the device's own time
   * where the host event only measures the dispatch.
   */
  source: 'kernel' | 'gpu';
}

export interface ParsedTrace {
  kernels: KernelEvent[];
  /** `model_run` intervals, in time order (one per InferenceSession.run). */
  runs: { ts: number; durationUs: number }[];
}

export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

const KERNEL_SUFFIX = '_kernel_time';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalNumber(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return null;
}

/** Checks and reads a Chrome-trace array as onnxruntime writes it (text or parsed JSON). */
export function parseTrace(input: string | unknown): ParsedTrace {
  let events: unknown = input;
  if (typeof input === 'string') {
    try {
      events = JSON.parse(input);
    } catch (error) {
      throw new TraceFormatError(`profiling trace is not JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (!Array.isArray(events)) throw new TraceFormatError('profiling trace is not an array of events');
  const kernels: KernelEvent[] = [];
  const runs: ParsedTrace['runs'] = [];
  events.forEach((event, position) => {
    if (!isRecord(event)) throw new TraceFormatError(`profiling trace event ${position} is not an object`);
    const { cat, name, ts, dur } = event;
    if (typeof name !== 'string') throw new TraceFormatError(`profiling trace event ${position} has no name`);
    if (cat !== 'Node' && cat !== 'Session' && cat !== 'Api') return;
    const start = optionalNumber(ts);
    const duration = optionalNumber(dur);
    if (start === null || duration === null || duration < 0) {
      throw new TraceFormatError(`profiling trace event ${position} ("${name}") has no valid ts/dur`);
    }
    if (cat === 'Session') {
      if (name === 'model_run') runs.push({ ts: start, durationUs: duration });
      return;
    }
    const args = isRecord(event.args) ? event.args : {};
    if (cat === 'Api') {
      const [node, op, program] = name.split('&');
      if (program !== undefined) kernels.push({ node, op, provider: null, ts: start, durationUs: duration, outputBytes: null, source: 'gpu' });
      return;
    }
    if (!name.endsWith(KERNEL_SUFFIX)) return; // fence events and the like
    kernels.push({
      node: name.slice(0, -KERNEL_SUFFIX.length),
      op: typeof args.op_name === 'string' ? args.op_name : null,
      provider: typeof args.provider === 'string' ? args.provider : null,
      ts: start,
      durationUs: duration,
      outputBytes: optionalNumber(args.output_size),
      source: 'kernel'
    });
  });
  kernels.sort((a, b) => a.ts - b.ts);
  runs.sort((a, b) => a.ts - b.ts);
  return { kernels, runs };
}

/**
 * Kernels grouped by run: by the `model_run` intervals when the trace has them, otherwise
 * a new run starts whenever a node repeats.
 */
export function splitRuns(trace: ParsedTrace): KernelEvent[][] {
  if (trace.runs.length > 0) {
    const grouped: KernelEvent[][] = trace.runs.map(() => []);
    let run = 0;
    for (const kernel of trace.kernels) {
      while (run < trace.runs.length && kernel.ts > trace.runs[run].ts + trace.runs[run].durationUs) run++;
      if (run >= trace.runs.length) break;
      if (kernel.ts >= trace.runs[run].ts) grouped[run].push(kernel);
    }
    return grouped;
  }
  const grouped: KernelEvent[][] = [];
  let seen = new Set<string>();
  for (const kernel of trace.kernels) {
    const key = `${kernel.source}:${kernel.node}`;
    if (grouped.length === 0 || seen.has(key)) {
      grouped.push([]);
      seen = new Set();
    }
    seen.add(key);
    grouped[grouped.length - 1].push(kernel);
  }
  return grouped;
}

/** The p-th percentile (0–100) of ascending values, linearly interpolated; NaN when empty. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted([...values].sort((a, b) => a - b), p);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * The mean of the values without the lowest and highest `fraction` of them (each end
 * loses ⌊n·fraction⌋; the median when that is none). For run times that fall into two
 * groups under load — preempted and not — it is far steadier than the median, which
 * jumps between the groups; on a quiet machine the two agree closely.
 */
export function trimmedMean(values: readonly number[], fraction = 0.1): number {
  const sorted = [...values].sort((a, b) => a - b);
  const cut = Math.floor(sorted.length * Math.min(0.49, Math.max(0, fraction)));
  if (cut === 0) return percentileOfSorted(sorted, 50);
  const kept = sorted.slice(cut, sorted.length - cut);
  return kept.reduce((sum, v) => sum + v, 0) / kept.length;
}

export interface Spread {
  median: number;
  p10: number;
  p90: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentileOfSorted(sorted, 50), p10: percentileOfSorted(sorted, 10), p90: percentileOfSorted(sorted, 90) };
}

/** onnxruntime's trace gives durations in whole microseconds (truncated): its resolution, ms. */
export const TRACE_RESOLUTION_MS = 0.001;

/**
 * The q-quantile (0–1) of values each known only to within ±halfWidth: every value is
 * spread evenly over [v − halfWidth, v + halfWidth] and the quantile is read off the
 * mixture's distribution (the "grouped median" of binned data, for any q). Values on a
 * 1 µs lattice, as trace durations are, then give a quantile between lattice points in
 * proportion to how the runs fall — a kernel that takes 4 µs in 60 % of runs and 5 µs in
 * 40 % has a median of 4.33 µs, not 4 — while values far apart, as ms-scale kernels' are,
 * give the ordinary quantile to within halfWidth. The result stays within the values'
 * own range (all runs at 0 give 0, never a negative time). NaN when empty.
 */
export function smoothedQuantileOfSorted(sorted: readonly number[], q: number, halfWidth: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  if (!(halfWidth > 0)) return percentileOfSorted(sorted, q * 100);
  return Math.min(sorted[n - 1], Math.max(sorted[0], mixtureQuantile(sorted, q, halfWidth)));
}

const QUANTILE_TOLERANCE = 1e-12;

function mixtureQuantile(sorted: readonly number[], q: number, halfWidth: number): number {
  const n = sorted.length;
  const target = Math.min(1, Math.max(0, q));
  const massPerUnit = 1 / (n * 2 * halfWidth);
  let x = sorted[0] - halfWidth;
  let cdf = 0;
  let active = 0;
  let started = 0;
  let ended = 0;
  while (ended < n) {
    const nextStart = started < n ? sorted[started] - halfWidth : Number.POSITIVE_INFINITY;
    const nextEnd = sorted[ended] + halfWidth;
    const next = Math.min(nextStart, nextEnd);
    const cdfAtNext = cdf + active * (next - x) * massPerUnit;
    // Where exactly the target's mass lies below a gap between runs' times, the quantile is
    // the gap's lower end, whatever the rounding of the sums (else it jumps across the gap).
    if (active > 0 && cdfAtNext >= target - QUANTILE_TOLERANCE) return Math.min(next, x + (target - cdf) / (active * massPerUnit));
    x = next;
    cdf = cdfAtNext;
    if (nextStart <= nextEnd) {
      active++;
      started++;
    } else {
      active--;
      ended++;
    }
  }
  return sorted[n - 1] + halfWidth;
}

/** median/p10/p90 of per-run times built from trace durations (smoothedQuantileOfSorted at the trace's resolution). */
export function traceSpread(values: readonly number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => smoothedQuantileOfSorted(sorted, q, TRACE_RESOLUTION_MS / 2);
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

export function traceMedian(values: readonly number[]): number {
  return traceSpread(values).median;
}

// ---------------------------------------------------------------------------------------
// Kernels → original nodes.

/** The little of a graph the mapping needs. */
export interface GraphTopology {
  nodes: readonly { name: string; inputs: readonly string[]; outputs: readonly string[] }[];
  /** Values that exist before any node runs: graph inputs and initializers. */
  sources: readonly string[];
}

export interface KernelShare {
  /** Index of the original node. */
  node: number;
  /** Fraction of the kernel's time that goes to this node; a kernel's shares sum to 1. */
  share: number;
}

/**
 * - measured: the node ran as its own kernel(s);
 * - fused: it shares kernels with other original nodes (time split by their work: profiler.ts gives MACs or elements written);
 * - folded: no kernel computes it any more (constant-folded or eliminated at load).
 */
export type NodeAttributionStatus = 'measured' | 'fused' | 'folded';

export interface KernelAttribution {
  /** Per name of a node in the graph onnxruntime ran: the original nodes its time goes to. */
  shares: Map<string, KernelShare[]>;
  status: NodeAttributionStatus[];
  /** Per original node: the kernel that produces (a layout of) one of its outputs, if any. */
  outputKernel: (string | null)[];
}

const nchwcSuffix = /^(.*)_nchwc$/;
const layoutTokenSuffix = /^(.*)_token_\d+$/;

/** Same names on both sides: each kernel is its node (no optimisation, no layout change). */
export function identityAttribution(original: GraphTopology): KernelAttribution {
  return {
    shares: new Map(original.nodes.map((n, index) => [n.name, [{ node: index, share: 1 }]])),
    status: original.nodes.map(() => 'measured'),
    outputKernel: original.nodes.map((n) => n.name)
  };
}

/**
 * Maps the nodes of the graph onnxruntime ran (`optimized`, saved through the
 * `optimizedModelFilePath` session option) to the original nodes they replaced.
 *
 * Values with the same name on both sides are the same tensor. Besides, onnxruntime's
 * layout passes name a re-laid-out node `<original node>_token_<n>` (NHWC, e.g. WebGPU)
 * or `<original value>_nchwc` (CPU NCHWc); such a node's outputs stand for the original
 * node's outputs. Optimised nodes joined by values with no original counterpart form one
 * region; a region replaces the original nodes between the original values it reads and
 * those it produces, and its time is split among them in proportion to their `work` (the
 * profiler gives each node's MACs, or the elements it writes where that is more; an equal
 * split when any is unknown or all are zero). Original nodes in no region are folded.
 */
export function attributeOptimizedGraph(
  original: GraphTopology,
  optimized: GraphTopology,
  work: readonly (number | null)[]
): KernelAttribution {
  const producer = new Map<string, number>();
  original.nodes.forEach((node, index) => node.outputs.forEach((value) => value !== '' && producer.set(value, index)));
  const originalValues = new Set<string>([...original.sources, ...producer.keys()]);
  const nodeByName = new Map(original.nodes.map((node, index) => [node.name, index]));

  // Optimised value → the original value it stands for.
  const correspondence = new Map<string, string>();
  for (const value of optimized.sources) if (originalValues.has(value)) correspondence.set(value, value);
  for (const node of optimized.nodes) for (const value of node.outputs) if (originalValues.has(value)) correspondence.set(value, value);
  for (const node of optimized.nodes) {
    const claimed = claimedOriginalOutputs(node.name, nodeByName, producer, original);
    node.outputs.forEach((value, i) => {
      if (value !== '' && !correspondence.has(value) && claimed[i] !== undefined) correspondence.set(value, claimed[i]);
    });
  }

  // Regions: optimised nodes joined by values that stand for nothing original.
  const parent = optimized.nodes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i])));
  const internalProducer = new Map<string, number>();
  optimized.nodes.forEach((node, i) => node.outputs.forEach((v) => v !== '' && !correspondence.has(v) && internalProducer.set(v, i)));
  optimized.nodes.forEach((node, i) =>
    node.inputs.forEach((v) => {
      const from = internalProducer.get(v);
      if (from !== undefined) parent[find(i)] = find(from);
    })
  );
  const regions = new Map<number, number[]>();
  optimized.nodes.forEach((_, i) => {
    const root = find(i);
    regions.set(root, [...(regions.get(root) ?? []), i]);
  });

  const boundary = new Set(correspondence.values());
  const shares = new Map<string, KernelShare[]>();
  const covered: number[][] = original.nodes.map(() => []);
  const outputKernel: (string | null)[] = original.nodes.map(() => null);
  for (const members of regions.values()) {
    const produced = members.flatMap((i) => optimized.nodes[i].outputs.map((v) => correspondence.get(v)).filter((v): v is string => v !== undefined));
    const replaced = nodesBetween(produced, boundary, producer, original);
    if (replaced.length === 0) {
      // A pure layout or copy kernel (e.g. a Transpose back to NCHW of an existing value):
      // its time goes to the original consumers of what it reads, else its producers.
      const read = members.flatMap((i) => optimized.nodes[i].inputs.map((v) => correspondence.get(v)).filter((v): v is string => v !== undefined));
      const fallback = read.map((v) => producer.get(v)).filter((n): n is number => n !== undefined);
      replaced.push(...new Set(fallback));
    }
    const weights = splitWeights(replaced, work);
    for (const i of members) {
      const node = optimized.nodes[i];
      shares.set(node.name, replaced.map((n, k) => ({ node: n, share: weights[k] })));
      for (const value of node.outputs) {
        const stands = correspondence.get(value);
        const origin = stands === undefined ? undefined : producer.get(stands);
        if (origin !== undefined && outputKernel[origin] === null) outputKernel[origin] = node.name;
      }
    }
    for (const n of replaced) covered[n].push(replaced.length);
  }
  const status: NodeAttributionStatus[] = covered.map((groups) => {
    if (groups.length === 0) return 'folded';
    return groups.every((size) => size === 1) ? 'measured' : 'fused';
  });
  return { shares, status, outputKernel };
}

/** The original outputs an optimised node stands for by its name (layout passes), if any. */
function claimedOriginalOutputs(
  name: string,
  nodeByName: Map<string, number>,
  producer: Map<string, number>,
  original: GraphTopology
): readonly string[] {
  const direct = nodeByName.get(name);
  if (direct !== undefined) return original.nodes[direct].outputs;
  const token = layoutTokenSuffix.exec(name);
  const viaToken = token ? nodeByName.get(token[1]) : undefined;
  if (viaToken !== undefined) return original.nodes[viaToken].outputs;
  const nchwc = nchwcSuffix.exec(name);
  if (nchwc && producer.has(nchwc[1])) return [nchwc[1]];
  return [];
}

/** Original nodes computing `targets` from values in `boundary` (walking back from the targets). */
function nodesBetween(targets: readonly string[], boundary: Set<string>, producer: Map<string, number>, original: GraphTopology): number[] {
  const found = new Set<number>();
  const pending = targets.map((v) => producer.get(v)).filter((n): n is number => n !== undefined);
  while (pending.length > 0) {
    const index = pending.pop() as number;
    if (found.has(index)) continue;
    found.add(index);
    for (const value of original.nodes[index].inputs) {
      if (value === '' || boundary.has(value)) continue;
      const from = producer.get(value);
      if (from !== undefined && !found.has(from)) pending.push(from);
    }
  }
  return [...found].sort((a, b) => a - b);
}

function splitWeights(nodes: readonly number[], work: readonly (number | null)[]): number[] {
  return workShares(nodes.map((n) => work[n] ?? null));
}

/** Shares of a kernel's time among what it replaced, in proportion to their `work`: equal when any is unknown or all are zero. */
export function workShares(work: readonly (number | null)[]): number[] {
  const total = work.reduce<number>((sum, w) => sum + (w ?? 0), 0);
  if (work.some((w) => w === null) || total <= 0) return work.map(() => 1 / work.length);
  return work.map((w) => (w ?? 0) / total);
}

/**
 * A node's work, by which a fused kernel's time is shared among the nodes it replaced (as
 * profiles measure it and predictions cost it): its MACs, or the elements it writes where
 * that is more — a Split onnxruntime made of Slices goes to the Slices, not to the scalar
 * shape arithmetic it folded beside them (MACs 1 against 0). Null when either is unknown.
 */
export function nodeWork(macs: number | null, outputShapes: readonly (readonly Dim[] | null)[]): number | null {
  let written = 0;
  for (const shape of outputShapes) {
    const count = staticElementCount(shape);
    if (count === null) return null;
    written += count;
  }
  return macs === null ? null : Math.max(macs, written);
}

/**
 * The same attribution in layers (app/analysis: every node but the weight-only ones):
 * each node's share goes to its layer, a weight-only node's to the first layer that reads
 * what it computes (`layerOfNode`, -1 for one nobody reads). A layer takes the status and
 * output kernel of its own node (`nodeOfLayer`).
 */
export function attributionByLayer(
  attribution: KernelAttribution,
  layerOfNode: readonly number[],
  nodeOfLayer: readonly number[]
): KernelAttribution {
  const shares = new Map<string, KernelShare[]>();
  for (const [kernel, list] of attribution.shares) {
    const byLayer = new Map<number, number>();
    for (const { node, share } of list) {
      const layer = layerOfNode[node] ?? -1;
      if (layer >= 0) byLayer.set(layer, (byLayer.get(layer) ?? 0) + share);
    }
    shares.set(kernel, [...byLayer].map(([node, share]) => ({ node, share })));
  }
  return {
    shares,
    status: nodeOfLayer.map((node) => attribution.status[node] ?? 'folded'),
    outputKernel: nodeOfLayer.map((node) => attribution.outputKernel[node] ?? null)
  };
}

// ---------------------------------------------------------------------------------------
// Runs → per-node timings.

export interface NodeRunTimes {
  /** Per run, ms attributed to this original node (the profiler's per-kernel overhead taken off). */
  msPerRun: number[];
  /** Per run, ms before that correction. */
  rawMsPerRun: number[];
  provider: string | null;
  outputBytes: number | null;
  status: NodeAttributionStatus;
  /** False when no kernel attributed to it appeared in any run. */
  observed: boolean;
}

export interface AttributedRuns {
  nodes: NodeRunTimes[];
  /** Per run: the sum of every kernel's time, and the part given to original nodes, ms (both corrected). */
  kernelMsPerRun: number[];
  attributedMsPerRun: number[];
  /** Kernels of the trace that no original node accounts for (e.g. nodes of subgraphs), by name. */
  unattributedKernels: string[];
}

/**
 * A host-side kernel event's own time, ms: its duration less what the profiler itself
 * spent inside the timed interval (`overheadMs`, calibrated by main/profiling/profiler.ts), never
 * below 0. GPU timestamp events carry no host-side bookkeeping and are kept as they are.
 */
export function correctedKernelMs(kernel: KernelEvent, overheadMs: number): number {
  const ms = kernel.durationUs / 1000;
  return kernel.source === 'kernel' ? Math.max(0, ms - overheadMs) : ms;
}

/**
 * Spreads every run's kernel times over the original nodes. Where a node has GPU events
 * in a run, they are its time and its host-side dispatch event is not counted. Every
 * counted host-side event is first corrected by `kernelOverheadMs` (correctedKernelMs).
 */
export function attributeRuns(runs: readonly KernelEvent[][], attribution: KernelAttribution, nodeCount: number, kernelOverheadMs = 0): AttributedRuns {
  const nodes: NodeRunTimes[] = Array.from({ length: nodeCount }, (_, i) => ({
    msPerRun: runs.map(() => 0),
    rawMsPerRun: runs.map(() => 0),
    provider: null,
    outputBytes: null,
    status: attribution.status[i] ?? 'folded',
    observed: false
  }));
  const unattributed = new Set<string>();
  const kernelMsPerRun: number[] = [];
  const attributedMsPerRun: number[] = [];
  runs.forEach((kernels, run) => {
    let total = 0;
    let attributed = 0;
    const timedOnGpu = new Set(kernels.filter((k) => k.source === 'gpu').map((k) => k.node));
    for (const kernel of kernels) {
      const targets = attribution.shares.get(kernel.node);
      if (kernel.source === 'kernel' && timedOnGpu.has(kernel.node)) {
        for (const { node } of targets ?? []) {
          if (nodes[node].provider === null || attribution.outputKernel[node] === kernel.node) nodes[node].provider = kernel.provider;
          if (attribution.outputKernel[node] === kernel.node && kernel.outputBytes !== null) nodes[node].outputBytes = kernel.outputBytes;
        }
        continue;
      }
      const ms = correctedKernelMs(kernel, kernelOverheadMs);
      const rawMs = kernel.durationUs / 1000;
      total += ms;
      if (!targets || targets.length === 0) {
        unattributed.add(kernel.node);
        continue;
      }
      for (const { node, share } of targets) {
        const timing = nodes[node];
        timing.msPerRun[run] += ms * share;
        timing.rawMsPerRun[run] += rawMs * share;
        timing.observed = true;
        if (kernel.provider !== null && (timing.provider === null || attribution.outputKernel[node] === kernel.node)) timing.provider = kernel.provider;
        if (attribution.outputKernel[node] === kernel.node && kernel.outputBytes !== null) timing.outputBytes = kernel.outputBytes;
        attributed += ms * share;
      }
    }
    kernelMsPerRun.push(total);
    attributedMsPerRun.push(attributed);
  });
  return { nodes, kernelMsPerRun, attributedMsPerRun, unattributedKernels: [...unattributed].sort() };
}
