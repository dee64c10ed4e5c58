// The partition the graph draws, decided in one place for the graph and the split panel:
// which layers run on the device, which tensors cross to the server (with their bytes) and
// come back, and how the choice is labelled. The user picks the partition on the graph
// (store.graphPartition): the best cut for the current objective (the star), one of the
// cuts pinned in the split panel, or the DAG min-cut partition (app/partition/dag.ts); a
// pinned cut that is unpinned, or a DAG choice on a chain, falls back to the best cut.
// Numbers come from split-data.ts, i.e. app/partition, on the same problem and what-if as
// the split panel's chart (analyzeWhatIf is computed once for both).
import { useMemo } from 'react';
import type { CutCost, Objective, PartitionProblem } from '../../app/partition/types.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { currentProfiles, useStudio, type GraphPartitionChoice } from '../store.js';
import { analyzeWhatIf, cutLabel, splitProblemFor, type SplitAnalysis, type SplitProblem } from './split-data.js';

export interface CrossingTensor {
  tensor: string;
  bytes: number;
  /** Producing layer, -1 for a model input. */
  producer: number;
  /** For an upload, the layers on the server that read it; for a download, none. */
  consumers: number[];
}

export interface ShownPartition {
  /** The choice actually shown (after falling back). */
  choice: GraphPartitionChoice;
  /** "Best for latency", "Pinned cut", "DAG min cut". */
  title: string;
  /** "cut 37 (after /layer2/layer2.3/relu_2/Relu)", "412 of 1,026 layers on the device". */
  detail: string;
  /** What the graph prints on the cut: "cut 37", "DAG cut". */
  shortLabel: string;
  /** The topological cut (layers 0..cut-1 on the device), null for the DAG partition. */
  cut: number | null;
  /** Per layer: 1 on the device, 0 on the server. */
  isLocal: Uint8Array;
  localCount: number;
  uploads: CrossingTensor[];
  downloads: CrossingTensor[];
  uploadBytes: number;
  downloadBytes: number;
  cost: CutCost;
}

/** The tensors that go up (produced on the device or a model input, read on the server) and down (a model output produced on the server). */
export function crossingsOf(problem: PartitionProblem, isLocal: Uint8Array): { uploads: CrossingTensor[]; downloads: CrossingTensor[] } {
  const uploads: CrossingTensor[] = [];
  const downloads: CrossingTensor[] = [];
  for (const tensor of problem.tensors) {
    const producedLocally = tensor.producer < 0 || isLocal[tensor.producer] !== 0;
    const remoteReaders = tensor.consumers.filter((consumer) => isLocal[consumer] === 0);
    if (producedLocally && remoteReaders.length > 0) uploads.push({ tensor: tensor.name, bytes: tensor.bytes, producer: tensor.producer, consumers: remoteReaders });
    if (tensor.isGraphOutput && !producedLocally) downloads.push({ tensor: tensor.name, bytes: tensor.bytes, producer: tensor.producer, consumers: [] });
  }
  return { uploads, downloads };
}

/** Resolves a choice against what exists: a pinned cut must still be pinned, a DAG partition must exist. */
export function resolveChoice(choice: GraphPartitionChoice, pins: readonly number[], hasDag: boolean): GraphPartitionChoice {
  if (choice.kind === 'pinned' && !pins.includes(choice.cut)) return { kind: 'best' };
  if (choice.kind === 'dag' && !hasDag) return { kind: 'best' };
  return choice;
}

/** The partition to draw for a choice; null for { kind: 'none' }. */
export function shownPartitionOf(
  model: ModelView,
  split: SplitProblem,
  analysis: SplitAnalysis,
  objective: Objective,
  requested: GraphPartitionChoice,
  pins: readonly number[]
): ShownPartition | null {
  const choice = resolveChoice(requested, pins, analysis.dag !== undefined);
  if (choice.kind === 'none') return null;
  const layerCount = model.nodes.length;
  const isLocal = new Uint8Array(layerCount);
  let cut: number | null = null;
  let cost: CutCost;
  if (choice.kind === 'dag' && analysis.dag) {
    for (const node of analysis.dag.localNodes) isLocal[node] = 1;
    cost = analysis.dag.cost;
  } else {
    cut = choice.kind === 'pinned' ? choice.cut : objective === 'latency' ? analysis.bestLatency : analysis.bestEnergy;
    isLocal.fill(1, 0, cut);
    cost = analysis.costs[cut];
  }
  const localCount = isLocal.reduce((sum, local) => sum + local, 0);
  const { uploads, downloads } = crossingsOf(split.problem, isLocal);
  const sum = (list: CrossingTensor[]) => list.reduce((total, t) => total + t.bytes, 0);
  const title = choice.kind === 'dag' ? 'DAG min cut' : choice.kind === 'pinned' ? 'Pinned cut' : `Best for ${objective}`;
  const detail = cut === null ? `${localCount.toLocaleString('en-US')} of ${layerCount.toLocaleString('en-US')} layers on the device` : cutLabel(model, cut);
  return {
    choice,
    title,
    detail,
    shortLabel: cut === null ? 'DAG cut' : `cut ${cut}`,
    cut,
    isLocal,
    localCount,
    uploads,
    downloads,
    uploadBytes: sum(uploads),
    downloadBytes: sum(downloads),
    cost
  };
}

export interface GraphSplit {
  split: SplitProblem;
  analysis: SplitAnalysis;
  /** Null when the user chose to show no partition. */
  partition: ShownPartition | null;
  pins: readonly number[];
  objective: Objective;
}

const noPins: number[] = [];

/** The open model's split problem, analysis and shown partition, from the store (null without a model). */
export function useGraphSplit(model: ModelView | null): GraphSplit | null {
  const profiles = useStudio(currentProfiles);
  const whatIf = useStudio((state) => state.splitWhatIf);
  const pinState = useStudio((state) => state.splitPins);
  const choice = useStudio((state) => state.graphPartition);
  const pins = model && pinState?.modelId === model.id ? pinState.cuts : noPins;
  const split = useMemo(() => (model ? splitProblemFor(model, profiles.local, profiles.remote) : null), [model, profiles.local, profiles.remote]);
  const analysis = useMemo(() => (split ? analyzeWhatIf(split, whatIf) : null), [split, whatIf]);
  return useMemo(() => {
    if (!model || !split || !analysis) return null;
    return { split, analysis, partition: shownPartitionOf(model, split, analysis, whatIf.objective, choice, pins), pins, objective: whatIf.objective };
  }, [model, split, analysis, whatIf.objective, choice, pins]);
}
