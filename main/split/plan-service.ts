// Planning a model file: its analysis plus per-layer latencies for each side (measured,
// predicted or estimated; latency-sources.ts) → the cost of every topological cut, the
// best cut for latency and for energy, energy per layer, and optionally the optimal DAG
// partition. The CLI's `plan` and `split --cut auto|dag` and the studio share this.
import { buildPartitionProblem, type BuiltPartitionProblem } from '../../app/engine.js';
import { buildCutTable, crossingTensors, planCuts } from '../../app/partition/cuts.js';
import { optimalDagPartition } from '../../app/partition/dag.js';
import { devicePowerFor, nodeEnergyMJ, type DevicePowerProfile } from '../../app/partition/power.js';
import { customNetwork, isNetworkPresetName, networkPreset, type NetworkPreset } from '../../app/partition/presets.js';
import type { CutCost, NetworkConditions, Objective, PlanOptions, RadioPowerModel } from '../../app/partition/types.js';
import type { ExecutionProviderName } from '../../app/profiling/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import type { SideLatencies } from '../profiling/latency-sources.js';

export interface PlanRequest {
  network: NetworkPreset;
  serverLoad: number;
  objective: Objective;
  latencies: { local: SideLatencies; remote: SideLatencies };
  power: DevicePowerProfile;
  /** Provider the device part runs on: picks the compute power from the power profile. */
  localEp: ExecutionProviderName;
  dag: boolean;
}

export interface PlanReport {
  objective: Objective;
  network: NetworkConditions;
  radio: RadioPowerModel;
  serverLoad: number;
  latencies: { local: string; remote: string };
  power: { profile: string; computeMw: number; idleMw: number };
  layers: { index: number; name: string; localMs: number; remoteMs: number; localEnergyMJ: number }[];
  cuts: (CutCost & { crossing: string[]; downloaded: string[] })[];
  best: Record<Objective, number>;
  /** The cut chosen for the requested objective. */
  chosen: number;
  dag?: { localNodes: string[]; localNodeIndices: number[] } & CutCost;
  /** Tensors whose size is unknown (counted as 0 bytes). */
  unknownSizeTensors: string[];
}

/**
 * A preset network with any of its numbers overridden; the radio model comes from the
 * power profile where it has one for that network.
 */
export function resolveNetwork(
  name: string,
  overrides: { uplinkMbps?: number; downlinkMbps?: number; rttMs?: number },
  power?: DevicePowerProfile
): NetworkPreset {
  let preset: NetworkPreset;
  try {
    preset = networkPreset(name);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (power && isNetworkPresetName(name)) preset.radio = { ...power.radio[name] };
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
  let device;
  try {
    device = devicePowerFor(request.power, request.localEp);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { network: request.network.network, radio: request.network.radio, device, serverLoad: request.serverLoad };
}

export function partitionProblem(analyzed: AnalyzedModel, request: Pick<PlanRequest, 'latencies'>): BuiltPartitionProblem {
  return buildPartitionProblem(analyzed.analysis, { localMs: request.latencies.local.ms, remoteMs: request.latencies.remote.ms });
}

export function planModel(analyzed: AnalyzedModel, request: PlanRequest): PlanReport {
  const problem = partitionProblem(analyzed, request);
  const options = planOptions(request);
  const plan = planCuts(buildCutTable(problem), options);
  const energy = nodeEnergyMJ(request.latencies.local.ms, options.device);
  const report: PlanReport = {
    objective: request.objective,
    network: options.network,
    radio: options.radio,
    serverLoad: request.serverLoad,
    latencies: { local: request.latencies.local.source, remote: request.latencies.remote.source },
    power: { profile: request.power.name, computeMw: options.device.computeMw, idleMw: options.device.idleMw },
    layers: problem.nodes.map((node, index) => ({ index, name: node.name, localMs: node.localMs, remoteMs: node.remoteMs, localEnergyMJ: energy[index] })),
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
