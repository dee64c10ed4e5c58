// The split panel's numbers: analyzeSplits against planCuts and the DAG optimiser on the
// same problem, the baselines and ratios by hand, and the min-cut only for DAG models.
import { describe, expect, it } from 'vitest';
import { buildCutTable, planCuts } from './cuts.js';
import { optimalDagPartition } from './dag.js';
import { defaultPlanOptions } from './presets.js';
import { analyzeSplits, cutTableOf, isDagProblem } from './split-analysis.js';
import type { PartitionProblem } from './types.js';
import { alexnetLikeChain } from './test-problems.js';

const chain = alexnetLikeChain();

// The same with a residual: pool also reads the image, so it is a DAG.
const dag: PartitionProblem = {
  nodes: chain.nodes,
  tensors: [
    { name: 'image', bytes: 600_000, producer: -1, consumers: [0, 1], isGraphOutput: false },
    ...chain.tensors.slice(1)
  ]
};

describe('analyzeSplits', () => {
  it('matches planCuts and reports the baselines, speed-up and energy saving', () => {
    const options = defaultPlanOptions('3g');
    const plan = planCuts(buildCutTable(chain), options);
    const analysis = analyzeSplits(chain, options, 'latency');
    expect(analysis.costs).toEqual(plan.cuts);
    expect(analysis.bestLatency).toBe(plan.best.latency);
    expect(analysis.bestEnergy).toBe(plan.best.energy);
    expect(analysis.bestLatency).toBe(2);
    expect(analysis.cloudOnly.cut).toBe(0);
    expect(analysis.deviceOnly.cut).toBe(3);
    expect(analysis.speedupVsCloud).toBeCloseTo(plan.cuts[0].totalMs / plan.cuts[2].totalMs, 12);
    expect(analysis.speedupVsCloud).toBeGreaterThan(1);
    expect(analysis.energySavingVsCloud).toBeCloseTo(1 - plan.cuts[plan.best.energy].energyMJ / plan.cuts[0].energyMJ, 12);
    expect(analysis.dag).toBeUndefined();
  });

  it('reports a speed-up of 1 and no saving when cloud-only is best', () => {
    const analysis = analyzeSplits(chain, defaultPlanOptions('unshaped'), 'latency');
    expect(analysis.bestLatency).toBe(0);
    expect(analysis.speedupVsCloud).toBe(1);
  });

  it('adds the min-cut partition for a DAG, for the chosen objective', () => {
    expect(isDagProblem(dag)).toBe(true);
    expect(isDagProblem(chain)).toBe(false);
    const options = defaultPlanOptions('lte');
    for (const objective of ['latency', 'energy'] as const) {
      const analysis = analyzeSplits(dag, options, objective);
      const expected = optimalDagPartition(dag, options, objective);
      expect(analysis.dag).toEqual({ localNodes: expected.localNodes, cost: expected.cost });
    }
  });

  it('builds the cut table once per problem', () => {
    const first = cutTableOf(chain);
    analyzeSplits(chain, defaultPlanOptions('wifi'), 'energy');
    expect(cutTableOf(chain)).toBe(first);
  });
});
