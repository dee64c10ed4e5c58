// Pure data for the split panel (the paper's Figure 6): the open model and its profiles
// become a PartitionProblem, folded once into a CutTable (memoised per model + profiles),
// and every what-if (network, server load, objective) re-plans on that table with
// app/partition's planner — O(N) per slider movement. Layers without a measured time use
// the roofline estimate of app/partition/estimate.ts (mobile CPU on the device, server GPU
// on the server), the same numbers `neurosurgeon plan` uses without profiles.
import { crossingTensors, crossingTensorsOf, localMask, type CrossingTensors } from '../../app/partition/cuts.js';
import { analyzeSplits, cutTableOf, type SplitAnalysis } from '../../app/partition/split-analysis.js';
import { bestEncodingPerCut, type EncodableTensor, type EncodedCutMeasurement } from '../../app/partition/wire-encoding.js';
import { estimateLayerMs, hardwarePreset } from '../../app/partition/estimate.js';
import { DEFAULT_DEVICE_POWER, isNetworkPresetName, networkPreset, type NetworkPresetName } from '../../app/partition/presets.js';
import type { CutCost, Objective, PartitionProblem, PartitionTensor, PlanOptions } from '../../app/partition/types.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import type { LayerAnalysis } from '../../app/analysis/types.js';
import type { StudioResult } from '../../app/studio/contract.js';
import type { ModelView, NodeView, TensorView } from '../../app/studio/model-view.js';
import { timingsFor } from '../charts/chart-data.js';

/** Where each side's per-layer latencies came from. */
export type LatencySource = 'measured' | 'estimated' | 'mixed';

export interface SplitProblem {
  problem: PartitionProblem;
  localSource: LatencySource;
  remoteSource: LatencySource;
}

/** The what-if inputs the user controls (source facts, kept in the store). */
export interface WhatIf {
  /** The preset the numbers came from; 'custom' once a slider moved them, 'measured' from the live link. */
  preset: NetworkPresetName | 'custom' | 'measured';
  /** Whose radio power model the energy uses: the last preset chosen (custom and measured links keep it). */
  radioPreset: NetworkPresetName;
  uplinkMbps: number;
  downlinkMbps: number;
  rttMs: number;
  serverLoad: number;
  objective: Objective;
}

/** The presets the panel offers, with their button labels. */
export const SPLIT_PRESETS: ReadonlyArray<{ name: NetworkPresetName; label: string }> = [
  { name: 'wifi', label: 'Wi-Fi' },
  { name: 'lte', label: 'LTE' },
  { name: '3g', label: '3G' },
  { name: '5g', label: '5G' }
];

export function whatIfForPreset(name: NetworkPresetName, keep: Pick<WhatIf, 'serverLoad' | 'objective'>): WhatIf {
  const { network } = networkPreset(name);
  return { preset: name, radioPreset: name, uplinkMbps: network.uplinkMbps, downlinkMbps: network.downlinkMbps, rttMs: network.rttMs, serverLoad: keep.serverLoad, objective: keep.objective };
}

export const DEFAULT_WHAT_IF: WhatIf = whatIfForPreset('wifi', { serverLoad: 1, objective: 'latency' });

/** Plan options for the what-if, with the radio power model of its last preset and the default device power. */
export function planOptionsFor(whatIf: WhatIf): PlanOptions {
  const { radio } = networkPreset(whatIf.radioPreset);
  return {
    network: { name: whatIf.preset, uplinkMbps: whatIf.uplinkMbps, downlinkMbps: whatIf.downlinkMbps, rttMs: whatIf.rttMs },
    radio,
    device: { ...DEFAULT_DEVICE_POWER },
    serverLoad: whatIf.serverLoad
  };
}

/** The analysis facts estimateLayerMs reads, from a node of the model view. */
function layerOf(node: NodeView): LayerAnalysis {
  return {
    index: node.index,
    nodeIndex: node.index,
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    inputs: node.inputs.map((input) => input.name),
    outputs: node.outputs.map((output) => ({ name: output.name, elementType: output.elementType ?? 'float32', shape: output.shape, bytes: output.bytes, source: output.source === 'initializer' ? 'declared' : output.source })),
    outputBytes: node.outputBytes,
    params: node.params,
    paramBytes: node.paramBytes,
    macs: node.macs,
    nodeMacs: node.macs,
    intMacs: null,
    weightInputs: node.inputs.filter((input) => input.isWeight).map((input) => input.name),
    foldedNodes: [],
    stepNodes: [],
    flags: node.flags
  };
}

/** Roofline estimates of every node on a preset, as app/engine.ts estimateLatencies computes them. */
export function estimatedMs(model: ModelView, hardware: 'mobile-cpu' | 'server-gpu'): number[] {
  const profile = hardwarePreset(hardware);
  return model.nodes.map((node) => {
    const inputs = { bytes: 0, allSizesKnown: true };
    const seen = new Set<string>();
    for (const input of node.inputs) {
      if (input.isWeight || seen.has(input.name)) continue;
      seen.add(input.name);
      if (input.bytes === null) inputs.allSizesKnown = false;
      else inputs.bytes += input.bytes;
    }
    return estimateLayerMs(layerOf(node), inputs, profile).ms;
  });
}

function sideLatencies(model: ModelView, profile: LatencyProfile | null, hardware: 'mobile-cpu' | 'server-gpu'): { ms: number[]; source: LatencySource } {
  const estimates = estimatedMs(model, hardware);
  if (!profile) return { ms: estimates, source: 'estimated' };
  const timings = timingsFor(model, profile);
  let missing = 0;
  const ms = timings.map((timing, index) => {
    if (timing) return timing.medianMs;
    missing++;
    return estimates[index];
  });
  return { ms, source: missing === 0 ? 'measured' : missing === ms.length ? 'estimated' : 'mixed' };
}

/**
 * The partition problem of a model view, with the tensors app/engine.ts
 * buildPartitionProblem would make: model inputs and layer outputs (weights are not
 * traffic, and the view has no weight-only nodes), unknown sizes counted as 0 bytes.
 */
export function problemOfModel(model: ModelView, localMs: readonly number[], remoteMs: readonly number[]): PartitionProblem {
  const graphOutputs = new Set(model.outputs.map((output) => output.name));
  const tensors: PartitionTensor[] = [];
  const byName = new Map<string, PartitionTensor>();
  const add = (name: string, bytes: number | null, producer: number) => {
    if (name === '' || byName.has(name)) return;
    const tensor: PartitionTensor = { name, bytes: bytes ?? 0, producer, consumers: [], isGraphOutput: graphOutputs.has(name) };
    byName.set(name, tensor);
    tensors.push(tensor);
  };
  for (const input of model.inputs) if (!input.isInitializer) add(input.name, input.bytes, -1);
  for (const node of model.nodes) for (const output of node.outputs) add(output.name, output.bytes, node.index);
  for (const node of model.nodes) {
    for (const input of node.inputs) {
      const tensor = byName.get(input.name);
      if (tensor && tensor.consumers[tensor.consumers.length - 1] !== node.index) tensor.consumers.push(node.index);
    }
  }
  return {
    nodes: model.nodes.map((node) => ({ name: node.name, localMs: localMs[node.index], remoteMs: remoteMs[node.index] })),
    tensors
  };
}

let cachedKey: { model: ModelView; local: LatencyProfile | null; remote: LatencyProfile | null } | null = null;
let cachedProblem: SplitProblem | null = null;

/** The model's split problem, built once per model and profiles (the last one is kept). */
export function splitProblemFor(model: ModelView, local: LatencyProfile | null, remote: LatencyProfile | null): SplitProblem {
  if (cachedProblem && cachedKey && cachedKey.model === model && cachedKey.local === local && cachedKey.remote === remote) return cachedProblem;
  const device = sideLatencies(model, local, 'mobile-cpu');
  const server = sideLatencies(model, remote, 'server-gpu');
  const problem = problemOfModel(model, device.ms, server.ms);
  cachedProblem = { problem, localSource: device.source, remoteSource: server.source };
  cachedKey = { model, local, remote };
  return cachedProblem;
}

/** "cut 7 (after pool2)"; cut 0 is before the first node, cut N after the last. */
export function cutLabel(model: ModelView, cut: number): string {
  if (cut === 0) return 'cut 0 (cloud-only)';
  if (cut === model.nodes.length) return `cut ${cut} (device-only)`;
  return `cut ${cut} (after ${model.nodes[cut - 1]?.name ?? `node ${cut - 1}`})`;
}

/** The accessible name of a star. */
export function starLabel(model: ModelView, objective: Objective, cut: number): string {
  return `best split for ${objective}: ${cutLabel(model, cut)}`;
}

/** A topological cut (layers 0..cut-1 on the device) or the DAG min-cut partition. */
export type PinnedCut = number | 'dag';

export interface CutDetails {
  cut: PinnedCut;
  cost: CutCost;
  uploaded: Array<{ name: string; bytes: number; shape: string }>;
  downloaded: Array<{ name: string; bytes: number; shape: string }>;
  localNodes: number;
  remoteNodes: number;
}

/** The crossing tensors of a partition with their sizes and shapes, as the model view has them. */
function describeCrossing(model: ModelView, crossing: CrossingTensors): Pick<CutDetails, 'uploaded' | 'downloaded'> {
  const tensorsByName = new Map<string, { bytes: number | null; shape: string }>();
  const remember = (name: string, bytes: number | null, shape: ReadonlyArray<number | string | null> | null) =>
    tensorsByName.set(name, { bytes, shape: shape ? `[${shape.map((dim) => dim ?? '?').join('×')}]` : '?' });
  for (const input of model.inputs) remember(input.name, input.bytes, input.shape);
  for (const node of model.nodes) for (const output of node.outputs) remember(output.name, output.bytes, output.shape);
  const describe = (name: string) => ({ name, bytes: tensorsByName.get(name)?.bytes ?? 0, shape: tensorsByName.get(name)?.shape ?? '?' });
  return { uploaded: crossing.uploaded.map(describe), downloaded: crossing.downloaded.map(describe) };
}

/** What a pinned cut ships and runs where, for the comparison; null for the DAG cut of a chain model. */
export function cutDetails(model: ModelView, split: SplitProblem, analysis: SplitAnalysis, cut: PinnedCut): CutDetails | null {
  if (cut === 'dag') {
    if (!analysis.dag) return null;
    const { localNodes, cost } = analysis.dag;
    return {
      cut,
      cost,
      ...describeCrossing(model, crossingTensorsOf(split.problem, localMask(split.problem, localNodes))),
      localNodes: localNodes.length,
      remoteNodes: model.nodes.length - localNodes.length
    };
  }
  if (cut > model.nodes.length) return null;
  const crossing = cut === model.nodes.length ? { uploaded: [], downloaded: [] } : crossingTensors(split.problem, cut);
  return { cut, cost: analysis.costs[cut], ...describeCrossing(model, crossing), localNodes: cut, remoteNodes: model.nodes.length - cut };
}

export type { SplitAnalysis };

let lastAnalysis: { split: SplitProblem; whatIf: WhatIf; analysis: SplitAnalysis } | null = null;

/**
 * Every cut's cost, the stars and the baselines for a what-if (app/partition/split-analysis.ts;
 * its CutTable is cached per problem). The last answer is kept: the split panel and the graph
 * ask for the same problem and what-if on every slider movement, and it is computed once.
 */
export function analyzeWhatIf(split: SplitProblem, whatIf: WhatIf): SplitAnalysis {
  if (lastAnalysis && lastAnalysis.split === split && lastAnalysis.whatIf === whatIf) return lastAnalysis.analysis;
  const analysis = analyzeSplits(split.problem, planOptionsFor(whatIf), whatIf.objective);
  lastAnalysis = { split, whatIf, analysis };
  return analysis;
}

/** The tensors crossing topological cut `cut` as the wire encodings' rules see them (app/partition/wire-encoding.ts), from the model's tensor views. */
export function crossingEncodables(model: ModelView, problem: PartitionProblem, cut: number): EncodableTensor[] {
  const views = new Map<string, TensorView>();
  for (const input of model.inputs) views.set(input.name, input);
  for (const node of model.nodes) for (const output of node.outputs) views.set(output.name, output);
  const inputs = new Set(model.inputs.map((input) => input.name));
  return crossingTensors(problem, cut).uploaded.map((name) => {
    const shape = views.get(name)?.shape ?? null;
    return {
      name,
      elementType: views.get(name)?.elementType ?? 'undefined',
      dims: shape && shape.every((dim) => typeof dim === 'number') ? (shape as number[]) : null,
      isModelInput: inputs.has(name)
    };
  });
}

/** The best measured wire encoding of each measured cut under the what-if (app/partition/wire-encoding.ts). */
export function encodedCuts(split: SplitProblem, whatIf: WhatIf, measurements: readonly EncodedCutMeasurement[]): Map<number, BestEncoding> {
  return bestEncodingPerCut(cutTableOf(split.problem), measurements, planOptionsFor(whatIf), whatIf.objective);
}

export type BestEncoding = ReturnType<typeof bestEncodingPerCut> extends Map<number, infer V> ? V : never;

export function bestCut(analysis: SplitAnalysis, objective: Objective): number {
  return objective === 'latency' ? analysis.bestLatency : analysis.bestEnergy;
}

/** The what-if a partition config describes: its named preset when the numbers are that preset's, else a custom link. */
export function whatIfOfImported(view: StudioResult<'partition.import'>, current: WhatIf): WhatIf {
  const { network } = view;
  const preset = isNetworkPresetName(network.name) ? networkPreset(network.name).network : null;
  const samePreset =
    preset !== null && preset.uplinkMbps === network.uplinkMbps && preset.downlinkMbps === network.downlinkMbps && preset.rttMs === network.rttMs;
  const radioPreset = isNetworkPresetName(network.name) && network.name !== 'unshaped' ? network.name : current.radioPreset;
  return {
    preset: samePreset && isNetworkPresetName(network.name) && network.name !== 'unshaped' ? network.name : 'custom',
    radioPreset,
    uplinkMbps: network.uplinkMbps,
    downlinkMbps: network.downlinkMbps,
    rttMs: network.rttMs,
    serverLoad: view.serverLoad,
    objective: view.objective
  };
}

