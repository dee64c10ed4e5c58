// The decision table against brute force: at hundreds of uplink bandwidths, the cut the
// table names must cost what the best cut found by planCuts costs (for latency and energy,
// with and without RTT and server load), and its breakpoints must be where the best cut
// really changes.
import { describe, expect, it } from 'vitest';
import { buildCutTable, planCuts, type CutTable } from './cuts.js';
import { cutForBandwidth, decisionTable } from './decision-table.js';
import { optionsAtPoint } from './bandwidth-trace.js';
import { objectiveValue } from './cost.js';
import { defaultPlanOptions } from './presets.js';
import type { Objective, PartitionProblem, PlanOptions } from './types.js';

function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** A CNN-like chain: activations mostly shrink, compute grows towards the end, with noise. */
function randomChain(nodeCount: number, seed: number): PartitionProblem {
  const random = seededRandom(seed);
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    name: `n${i}`,
    localMs: 0.5 + random() * 20 * (1 + i / nodeCount),
    remoteMs: 0.05 + random() * 1
  }));
  let bytes = 600_000;
  const tensors = [{ name: 'input', bytes, producer: -1, consumers: [0], isGraphOutput: false }];
  for (let i = 0; i < nodeCount; i++) {
    bytes = Math.max(40, bytes * (0.4 + random() * 1.1));
    const last = i === nodeCount - 1;
    tensors.push({ name: `t${i}`, bytes: last ? 4000 : bytes, producer: i, consumers: last ? [] : [i + 1], isGraphOutput: last });
  }
  return { nodes, tensors };
}

/** A random DAG with skip connections: topological cuts then cross several tensors. */
function randomDag(nodeCount: number, seed: number): PartitionProblem {
  const random = seededRandom(seed);
  const problem = randomChain(nodeCount, seed);
  for (let i = 0; i < nodeCount - 3; i++) {
    if (random() < 0.3) {
      const skipTo = i + 2 + Math.floor(random() * 3);
      const tensor = problem.tensors[i + 1];
      if (skipTo < nodeCount) tensor.consumers = [...new Set([...tensor.consumers, skipTo])].sort((a, b) => a - b);
    }
  }
  return problem;
}

function bestValue(table: CutTable, options: PlanOptions, objective: Objective): { cut: number; value: number; costs: number[] } {
  const plan = planCuts(table, options);
  const costs = plan.cuts.map((cost) => objectiveValue(cost, objective));
  return { cut: plan.best[objective], value: costs[plan.best[objective]], costs };
}

function sampleBandwidths(minMbps: number, maxMbps: number, count: number, seed: number): number[] {
  const random = seededRandom(seed);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(minMbps * (maxMbps / minMbps) ** (i / (count - 1)));
  for (let i = 0; i < count; i++) samples.push(minMbps * (maxMbps / minMbps) ** random());
  return samples;
}

const scenarios: { label: string; options: PlanOptions }[] = [
  { label: 'LTE preset', options: defaultPlanOptions('lte') },
  { label: '3G preset, loaded server (K = 4)', options: { ...defaultPlanOptions('3g'), serverLoad: 4 } },
  { label: 'Wi-Fi preset, no RTT', options: { ...defaultPlanOptions('wifi'), network: { ...defaultPlanOptions('wifi').network, rttMs: 0 } } },
  { label: '5G preset, long RTT (charged at the radio tail)', options: { ...defaultPlanOptions('5g'), network: { ...defaultPlanOptions('5g').network, rttMs: 120 } } }
];

describe('decision table vs brute-force planning', () => {
  for (const [problemLabel, problem] of [
    ['chain of 40', randomChain(40, 1)],
    ['chain of 300', randomChain(300, 2)],
    ['DAG of 120', randomDag(120, 3)]
  ] as const) {
    const table = buildCutTable(problem);
    for (const { label, options } of scenarios) {
      for (const objective of ['latency', 'energy'] as const) {
        it(`${problemLabel}, ${label}, ${objective}: the table's cut is optimal at 400 bandwidths`, () => {
          const range = { minMbps: 0.2, maxMbps: 500 };
          const decision = decisionTable(table, options, range, objective);
          expect(decision.rows[0].fromMbps).toBe(range.minMbps);
          expect(decision.rows[decision.rows.length - 1].toMbps).toBe(range.maxMbps);
          for (let i = 1; i < decision.rows.length; i++) {
            expect(decision.rows[i].fromMbps).toBe(decision.rows[i - 1].toMbps);
            expect(decision.rows[i].cut).not.toBe(decision.rows[i - 1].cut);
          }
          for (const uplinkMbps of sampleBandwidths(range.minMbps, range.maxMbps, 200, 7)) {
            const best = bestValue(table, optionsAtPoint(options, { tSeconds: 0, uplinkMbps }), objective);
            const chosen = best.costs[cutForBandwidth(decision, uplinkMbps)];
            expect(chosen, `at ${uplinkMbps} Mbps`).toBeLessThanOrEqual(best.value * (1 + 1e-9) + 1e-12);
          }
        });
      }
    }
  }

  it('puts each breakpoint where the brute-force best cut changes', () => {
    const table = buildCutTable(randomChain(60, 11));
    const options = defaultPlanOptions('lte');
    const decision = decisionTable(table, options, { minMbps: 0.1, maxMbps: 1000 }, 'latency');
    expect(decision.rows.length).toBeGreaterThan(2);
    for (let i = 1; i < decision.rows.length; i++) {
      const breakpoint = decision.rows[i].fromMbps;
      const below = bestValue(table, optionsAtPoint(options, { tSeconds: 0, uplinkMbps: breakpoint * (1 - 1e-6) }), 'latency');
      const above = bestValue(table, optionsAtPoint(options, { tSeconds: 0, uplinkMbps: breakpoint * (1 + 1e-6) }), 'latency');
      expect(below.cut).toBe(decision.rows[i - 1].cut);
      expect(above.cut).toBe(decision.rows[i].cut);
    }
  });

  it('chooses cloud-only on fast links and device-only on slow ones for a model with a huge activation', () => {
    const problem: PartitionProblem = {
      nodes: [
        { name: 'a', localMs: 5, remoteMs: 0.5 },
        { name: 'b', localMs: 50, remoteMs: 1 }
      ],
      tensors: [
        { name: 'in', bytes: 100_000, producer: -1, consumers: [0], isGraphOutput: false },
        { name: 'x', bytes: 10_000_000, producer: 0, consumers: [1], isGraphOutput: false },
        { name: 'out', bytes: 4, producer: 1, consumers: [], isGraphOutput: true }
      ]
    };
    const decision = decisionTable(buildCutTable(problem), defaultPlanOptions('wifi'), { minMbps: 0.1, maxMbps: 1000 });
    expect(decision.rows[0].cut).toBe(2);
    expect(decision.rows[decision.rows.length - 1].cut).toBe(0);
    // Cloud-only wins once 100 kB upload + RTT + remote beats 55 ms local: exactly solvable.
    const options = defaultPlanOptions('wifi');
    const ratio = options.network.downlinkMbps / options.network.uplinkMbps;
    const fixed = options.network.rttMs + 1.5;
    const bits = ((100_000 + 4 / ratio) * 8) / 1000;
    expect(decision.rows[decision.rows.length - 1].fromMbps).toBeCloseTo(bits / (55 - fixed), 9);
  });

  it('refuses an empty or inverted range', () => {
    const table = buildCutTable(randomChain(5, 1));
    expect(() => decisionTable(table, defaultPlanOptions('lte'), { minMbps: 10, maxMbps: 1 })).toThrow(/minMbps < maxMbps/);
    expect(() => decisionTable(table, defaultPlanOptions('lte'), { minMbps: 0, maxMbps: 1 })).toThrow(RangeError);
  });
});
