// What the studio's split panel shows for one set of what-if conditions: the cost of every
// topological cut, the best cut per objective, the cloud-only and device-only baselines,
// the best cut's speed-up and energy saving against cloud-only, and for DAG models the
// min-cut partition (dag.ts) beside them. The network-independent CutTable is built once
// per problem (kept in a WeakMap), so a slider movement costs one O(N) re-plan (plus one
// max-flow for DAG models).
import { buildCutTable, planCuts, type CutTable } from './cuts.js';
import { optimalDagPartition } from './dag.js';
import type { CutCost, Objective, PartitionProblem, PlanOptions } from './types.js';

export interface SplitAnalysis {
  /** costs[k] is the cost of topological cut k, k = 0..N. */
  costs: CutCost[];
  /** Best cut for latency and for energy (ties to the smaller cut). */
  bestLatency: number;
  bestEnergy: number;
  cloudOnly: CutCost;
  deviceOnly: CutCost;
  /** Cloud-only total latency ÷ the latency-best cut's (≥ 1). */
  speedupVsCloud: number;
  /** 1 − energy-best cut's energy ÷ cloud-only energy (a fraction, 0 when cloud-only is best). */
  energySavingVsCloud: number;
  /** For DAG models only: the min-cut partition for `objective`. */
  dag?: { localNodes: number[]; cost: CutCost };
}

const cutTables = new WeakMap<PartitionProblem, CutTable>();
const dagFlags = new WeakMap<PartitionProblem, boolean>();

/** The problem's CutTable, built on first use and reused while the problem object lives. */
export function cutTableOf(problem: PartitionProblem): CutTable {
  let table = cutTables.get(problem);
  if (!table) {
    table = buildCutTable(problem);
    cutTables.set(problem, table);
  }
  return table;
}

/**
 * True unless the problem is a chain: every node reads only the previous node's output
 * (or the model input, for the first), so that topological cuts are all the partitions.
 */
export function isDagProblem(problem: PartitionProblem): boolean {
  let flag = dagFlags.get(problem);
  if (flag === undefined) {
    flag = problem.tensors.some(
      (tensor) => tensor.consumers.length > 1 || tensor.consumers.some((consumer) => consumer !== tensor.producer + 1)
    );
    dagFlags.set(problem, flag);
  }
  return flag;
}

function ratio(numerator: number, denominator: number): number {
  return denominator > 0 ? numerator / denominator : 1;
}

export function analyzeSplits(problem: PartitionProblem, options: PlanOptions, objective: Objective): SplitAnalysis {
  const table = cutTableOf(problem);
  const plan = planCuts(table, options);
  const costs = plan.cuts;
  const cloudOnly = costs[0];
  const deviceOnly = costs[costs.length - 1];
  const analysis: SplitAnalysis = {
    costs,
    bestLatency: plan.best.latency,
    bestEnergy: plan.best.energy,
    cloudOnly,
    deviceOnly,
    speedupVsCloud: ratio(cloudOnly.totalMs, costs[plan.best.latency].totalMs),
    energySavingVsCloud: cloudOnly.energyMJ > 0 ? 1 - costs[plan.best.energy].energyMJ / cloudOnly.energyMJ : 0
  };
  if (isDagProblem(problem)) {
    const dag = optimalDagPartition(problem, options, objective);
    analysis.dag = { localNodes: dag.localNodes, cost: dag.cost };
  }
  return analysis;
}
