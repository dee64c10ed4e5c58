// The min-cut DAG partition against brute force over every predecessor-closed set of
// small random DAGs (random fan-in/out, costs, sizes, networks, loads and objectives),
// plus hand-checked cases where a DAG partition beats every topological cut.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../onnx/builder.js';
import { objectiveValue } from './cost.js';
import { buildCutTable, evaluatePartition, isPredecessorClosed, planCuts } from './cuts.js';
import { optimalDagPartition } from './dag.js';
import { defaultPlanOptions, NETWORK_PRESET_NAMES } from './presets.js';
import { randomDag } from './test-problems.js';
import type { Objective, PartitionProblem, PartitionTensor, PlanOptions } from './types.js';

function randomOptions(random: () => number): PlanOptions {
  const options = defaultPlanOptions(NETWORK_PRESET_NAMES[Math.floor(random() * NETWORK_PRESET_NAMES.length)]);
  if (random() < 0.5) {
    options.network.uplinkMbps = 0.5 + random() * 100;
    options.network.downlinkMbps = 0.5 + random() * 300;
    options.network.rttMs = random() < 0.2 ? 0 : random() * 100;
  }
  options.serverLoad = random() < 0.1 ? 0 : random() * 8;
  options.device.idleMw = random() * 1000;
  options.radio.tailMw = random() < 0.2 ? 0 : random() * 1500;
  return options;
}

/** The best objective value over every predecessor-closed subset, by enumeration. */
function bruteForceOptimum(problem: PartitionProblem, options: PlanOptions, objective: Objective): number {
  const nodeCount = problem.nodes.length;
  let best = Infinity;
  const mask = new Uint8Array(nodeCount);
  for (let bits = 0; bits < 1 << nodeCount; bits++) {
    for (let i = 0; i < nodeCount; i++) mask[i] = (bits >> i) & 1;
    if (!isPredecessorClosed(problem, mask)) continue;
    best = Math.min(best, objectiveValue(evaluatePartition(problem, mask, options), objective));
  }
  return best;
}

describe('optimalDagPartition', () => {
  it('equals brute force over all predecessor-closed sets on random small DAGs', () => {
    const random = seededRandom(2019);
    for (let trial = 0; trial < 400; trial++) {
      const problem = randomDag(random, 1 + Math.floor(random() * 12));
      const options = randomOptions(random);
      const objective: Objective = random() < 0.5 ? 'latency' : 'energy';
      const label = `trial ${trial}: ${problem.nodes.length} nodes, ${options.network.name}, K=${options.serverLoad.toFixed(2)}, ${objective}`;

      const partition = optimalDagPartition(problem, options, objective);
      const optimum = bruteForceOptimum(problem, options, objective);
      expect(isPredecessorClosed(problem, partition.localNodes), label).toBe(true);
      expect(partition.localNodes, label).toEqual([...partition.localNodes].sort((a, b) => a - b));
      expect(Math.abs(partition.objectiveValue - optimum), label).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(optimum)));
      expect(partition.cost.cut).toBe(partition.localNodes.length);
      expect(partition.objectiveValue).toBe(objectiveValue(partition.cost, objective));

      const topological = planCuts(buildCutTable(problem), options);
      const bestTopological = objectiveValue(topological.cuts[topological.best[objective]], objective);
      expect(bestTopological, label).toBeGreaterThanOrEqual(partition.objectiveValue * (1 - 1e-9));
    }
  });

  it('equals the best topological cut on a chain', () => {
    const nodes = Array.from({ length: 8 }, (_, i) => ({ name: `l${i}`, localMs: 3 + 4 * i, remoteMs: 0.5 + i }));
    const tensors: PartitionTensor[] = [
      { name: 'x', bytes: 300_000, producer: -1, consumers: [0], isGraphOutput: false },
      ...nodes.map((_, i) => ({ name: `o${i}`, bytes: 80_000 >> i, producer: i, consumers: i < 7 ? [i + 1] : [], isGraphOutput: i === 7 }))
    ];
    const problem = { nodes, tensors };
    for (const name of NETWORK_PRESET_NAMES) {
      for (const objective of ['latency', 'energy'] as const) {
        const options = defaultPlanOptions(name);
        const plan = planCuts(buildCutTable(problem), options);
        const dag = optimalDagPartition(problem, options, objective);
        expect(dag.localNodes.length, `${name} ${objective}`).toBe(plan.best[objective]);
        expect(dag.objectiveValue).toBeCloseTo(objectiveValue(plan.cuts[plan.best[objective]], objective), 9);
      }
    }
  });

  it('beats every topological cut when a cheap branch belongs on the device', () => {
    // x → n0 (server work) → big → n2;  x → n1 (tiny, shrinks x) → small → n2
    // In topological order n1 comes after n0, so no prefix runs n1 alone on the device.
    const problem: PartitionProblem = {
      nodes: [
        { name: 'n0', localMs: 100, remoteMs: 1 },
        { name: 'n1', localMs: 1, remoteMs: 1 },
        { name: 'n2', localMs: 100, remoteMs: 1 }
      ],
      tensors: [
        { name: 'x', bytes: 10_000, producer: -1, consumers: [0], isGraphOutput: false },
        { name: 'x2', bytes: 1_000_000, producer: -1, consumers: [1], isGraphOutput: false },
        { name: 'big', bytes: 100_000, producer: 0, consumers: [2], isGraphOutput: false },
        { name: 'small', bytes: 100, producer: 1, consumers: [2], isGraphOutput: false },
        { name: 'y', bytes: 10, producer: 2, consumers: [], isGraphOutput: true }
      ]
    };
    const options = defaultPlanOptions('lte');
    const dag = optimalDagPartition(problem, options, 'latency');
    expect(dag.localNodes).toEqual([1]);
    const plan = planCuts(buildCutTable(problem), options);
    expect(plan.cuts[plan.best.latency].totalMs).toBeGreaterThan(dag.objectiveValue);
  });

  it('keeps everything on the device when the RTT alone outweighs the split', () => {
    const problem: PartitionProblem = {
      nodes: [{ name: 'only', localMs: 5, remoteMs: 0 }],
      tensors: [
        { name: 'x', bytes: 0, producer: -1, consumers: [0], isGraphOutput: false },
        { name: 'y', bytes: 0, producer: 0, consumers: [], isGraphOutput: true }
      ]
    };
    const options = defaultPlanOptions('3g');
    expect(optimalDagPartition(problem, options, 'latency').localNodes).toEqual([0]);
    options.network.rttMs = 4;
    expect(optimalDagPartition(problem, options, 'latency').localNodes).toEqual([]);
  });

  it('handles an empty problem', () => {
    const partition = optimalDagPartition({ nodes: [], tensors: [] }, defaultPlanOptions('wifi'), 'energy');
    expect(partition.localNodes).toEqual([]);
    expect(partition.objectiveValue).toBe(0);
  });

  it('partitions a 2,000-node layered DAG', () => {
    const random = seededRandom(7);
    const width = 3;
    const layers = 667;
    const nodes = Array.from({ length: width * layers - 1 }, (_, i) => ({
      name: `n${i}`,
      localMs: random() * 5,
      remoteMs: random() * 0.5
    }));
    const tensors: PartitionTensor[] = [{ name: 'x', bytes: 150_000, producer: -1, consumers: [0, 1, 2], isGraphOutput: false }];
    nodes.forEach((_, i) => {
      const nextLayer = (Math.floor(i / width) + 1) * width;
      const consumers = [nextLayer, nextLayer + 1, nextLayer + 2].filter((c) => c < nodes.length && random() < 0.7);
      if (consumers.length === 0 && nextLayer < nodes.length) consumers.push(nextLayer);
      tensors.push({ name: `t${i}`, bytes: Math.floor(random() * 100_000), producer: i, consumers, isGraphOutput: i === nodes.length - 1 });
    });
    const problem = { nodes, tensors };
    for (const objective of ['latency', 'energy'] as const) {
      const partition = optimalDagPartition(problem, defaultPlanOptions('wifi'), objective);
      expect(isPredecessorClosed(problem, partition.localNodes)).toBe(true);
      const plan = planCuts(buildCutTable(problem), defaultPlanOptions('wifi'));
      expect(objectiveValue(plan.cuts[plan.best[objective]], objective)).toBeGreaterThanOrEqual(partition.objectiveValue * (1 - 1e-9));
    }
  });
});
