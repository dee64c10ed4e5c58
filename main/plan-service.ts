// Planning a model file: its analysis plus a latency profile (estimated for now;
// measured or predicted profiles plug in here later) → the cost of every topological cut,
// the best cut for latency and for energy, and optionally the optimal DAG partition.
// The CLI's `plan` and `split --cut auto|dag` and the studio share this.
import { buildPartitionProblem, estimateLatencies, type BuiltPartitionProblem, type LatencyProfile } from '../app/engine.js';
import { buildCutTable, crossingTensors, planCuts } from '../app/partition/cuts.js';
import { optimalDagPartition } from '../app/partition/dag.js';
import { DEFAULT_DEVICE_POWER, customNetwork, networkPreset, type NetworkPreset } from '../app/partition/presets.js';
import type { CutCost, NetworkConditions, Objective, PlanOptions, RadioPowerModel } from '../app/partition/types.js';
import type { AnalyzedModel } from './analyze-file.js';
import { UsageError } from './cli-errors.js';

export interface PlanRequest {
  network: NetworkPreset;
  serverLoad: number;
  objective: Objective;
  devicePreset: string;
  serverPreset: string;
  dag: boolean;
}

export interface PlanReport {
  objective: Objective;
  network: NetworkConditions;
  radio: RadioPowerModel;
  serverLoad: number;
  latencySource: string;
  cuts: (CutCost & { crossing: string[]; downloaded: string[] })[];
  best: Record<Objective, number>;
  /** The cut chosen for the requested objective. */
  chosen: number;
  dag?: { localNodes: string[]; localNodeIndices: number[] } & CutCost;
  /** Tensors whose size is unknown (counted as 0 bytes). */
  unknownSizeTensors: string[];
}

/** A preset network with any of its numbers overridden. */
export function resolveNetwork(name: string, overrides: { uplinkMbps?: number; downlinkMbps?: number; rttMs?: number }): NetworkPreset {
  let preset: NetworkPreset;
  try {
    preset = networkPreset(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const changed = overrides.uplinkMbps !== undefined || overrides.downlinkMbps !== undefined || overrides.rttMs !== undefined;
  if (!changed) return preset;
  const network = customNetwork({
    name: `${preset.network.name} (custom)`,
    uplinkMbps: overrides.uplinkMbps ?? preset.network.uplinkMbps,
    downlinkMbps: overrides.downlinkMbps ?? preset.network.downlinkMbps,
    rttMs: overrides.rttMs ?? preset.network.rttMs
  });
  return { network, radio: preset.radio };
}

export function planOptions(request: PlanRequest): PlanOptions {
  return { network: request.network.network, radio: request.network.radio, device: { ...DEFAULT_DEVICE_POWER }, serverLoad: request.serverLoad };
}

export function estimatedProblem(analyzed: AnalyzedModel, request: Pick<PlanRequest, 'devicePreset' | 'serverPreset'>): BuiltPartitionProblem {
  let latencies: LatencyProfile;
  try {
    latencies = estimateLatencies(analyzed.analysis, request.devicePreset, request.serverPreset);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return buildPartitionProblem(analyzed.analysis, latencies);
}

export function planModel(analyzed: AnalyzedModel, request: PlanRequest): PlanReport {
  const problem = estimatedProblem(analyzed, request);
  const options = planOptions(request);
  const plan = planCuts(buildCutTable(problem), options);
  const report: PlanReport = {
    objective: request.objective,
    network: options.network,
    radio: options.radio,
    serverLoad: request.serverLoad,
    latencySource: `estimated (${request.devicePreset} device, ${request.serverPreset} server roofline)`,
    cuts: plan.cuts.map((cost) => {
      const crossing = crossingTensors(problem, cost.cut);
      return { ...cost, crossing: crossing.uploaded, downloaded: crossing.downloaded };
    }),
    best: plan.best,
    chosen: plan.best[request.objective],
    unknownSizeTensors: problem.unknownSizeTensors
  };
  if (request.dag) {
    const dag = optimalDagPartition(problem, options, request.objective);
    report.dag = {
      ...dag.cost,
      localNodeIndices: dag.localNodes,
      localNodes: dag.localNodes.map((i) => problem.nodes[i].name)
    };
  }
  return report;
}
