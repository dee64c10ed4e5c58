// The device energy model as a property and as two pinned regressions. Property: over
// seeded random chains and DAGs with random networks, radios, device power and server
// loads, raising the uplink (or the downlink) with all else fixed never raises the energy
// of any topological cut, nor of the DAG optimum. Regressions: an AlexNet-sized upload
// costs less at 1,000 Mbps than at 18.88 Mbps (it once cost about twice as much, the
// RTT being charged at alpha × 1,000 Mbps + beta), and the numbers behind it by hand.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../onnx/builder.js';
import { buildCutTable, planCuts } from './cuts.js';
import { optimalDagPartition } from './dag.js';
import { defaultPlanOptions, NETWORK_PRESET_NAMES } from './presets.js';
import { alexnetLikeChain, randomChain, randomDag } from './test-problems.js';
import type { PartitionProblem, PlanOptions } from './types.js';

/** Log-uniform in [low, high]. */
function logUniform(random: () => number, low: number, high: number): number {
  return low * (high / low) ** random();
}

/** Any network, radio (a preset's or made up), device power and load; zeros now and then. */
function randomOptions(random: () => number): PlanOptions {
  const options = defaultPlanOptions(NETWORK_PRESET_NAMES[Math.floor(random() * NETWORK_PRESET_NAMES.length)]);
  const sometimesZero = (value: number): number => (random() < 0.1 ? 0 : value);
  options.network.uplinkMbps = logUniform(random, 0.1, 2000);
  options.network.downlinkMbps = logUniform(random, 0.1, 2000);
  options.network.rttMs = sometimesZero(random() * 200);
  if (random() < 0.5) {
    options.radio = {
      uplinkAlphaMwPerMbps: sometimesZero(random() * 1000),
      downlinkAlphaMwPerMbps: sometimesZero(random() * 300),
      betaMw: sometimesZero(random() * 3000),
      tailMw: sometimesZero(random() * 1500)
    };
  }
  options.device = { computeMw: sometimesZero(random() * 6000), idleMw: sometimesZero(random() * 1000) };
  options.serverLoad = sometimesZero(random() * 8);
  return options;
}

type Link = 'uplinkMbps' | 'downlinkMbps';

/** The options at ascending bandwidths of one link, from its random value up to ×1000. */
function risingLink(options: PlanOptions, link: Link, random: () => number): PlanOptions[] {
  const steps: PlanOptions[] = [];
  let mbps = options.network[link];
  for (let i = 0; i < 6; i++) {
    steps.push({ ...options, network: { ...options.network, [link]: mbps } });
    mbps *= 1 + random() * 3;
  }
  return steps;
}

/** `later` is no larger than `earlier`, up to float rounding. */
function expectNoRise(later: number, earlier: number, label: string): void {
  expect(later, label).toBeLessThanOrEqual(earlier + 1e-9 * Math.max(1, Math.abs(earlier)));
}

describe('device energy as bandwidth rises', () => {
  const random = seededRandom(2012);
  const problems: { shape: string; problem: PartitionProblem }[] = [];
  for (let trial = 0; trial < 300; trial++) {
    const nodeCount = 1 + Math.floor(random() * 24);
    const shape = trial % 2 === 0 ? 'chain' : 'DAG';
    problems.push({ shape, problem: shape === 'chain' ? randomChain(random, nodeCount) : randomDag(random, nodeCount) });
  }

  for (const link of ['uplinkMbps', 'downlinkMbps'] as const) {
    it(`never rises with the ${link === 'uplinkMbps' ? 'uplink' : 'downlink'}, at any cut or at the DAG optimum`, () => {
      problems.forEach(({ shape, problem }, trial) => {
        const table = buildCutTable(problem);
        const steps = risingLink(randomOptions(random), link, random);
        let previousCuts: number[] | null = null;
        let previousDag = Infinity;
        for (const options of steps) {
          const label = `trial ${trial} (${shape} of ${problem.nodes.length}), ${link} ${options.network[link].toFixed(3)}`;
          const cuts = planCuts(table, options).cuts.map((cost) => cost.energyMJ);
          if (previousCuts) cuts.forEach((energy, cut) => expectNoRise(energy, (previousCuts as number[])[cut], `${label}, cut ${cut}`));
          const dag = optimalDagPartition(problem, options, 'energy').objectiveValue;
          expectNoRise(dag, previousDag, `${label}, DAG optimum`);
          previousCuts = cuts;
          previousDag = dag;
        }
      });
    });
  }
});

/** AlexNet-like, with AlexNet's input: 1 × 3 × 224 × 224 float32 = 602,112 bytes. */
function alexnetSizedChain(): PartitionProblem {
  const problem = alexnetLikeChain();
  problem.tensors[0] = { ...problem.tensors[0], bytes: 602_112 };
  return problem;
}

describe('energy regressions', () => {
  const cloudOnlyEnergy = (uplinkMbps: number, downlinkMbps: number): number => {
    const options = defaultPlanOptions('wifi');
    options.network = { ...options.network, uplinkMbps, downlinkMbps };
    return planCuts(buildCutTable(alexnetSizedChain()), options).cuts[0].energyMJ;
  };

  it('charges an AlexNet-sized cloud-only run less at 1,000 Mbps than at 18.88 Mbps', () => {
    const wifi = cloudOnlyEnergy(18.88, 54);
    expect(cloudOnlyEnergy(1000, 54)).toBeLessThan(wifi);
    expect(cloudOnlyEnergy(1000, 1000)).toBeLessThan(cloudOnlyEnergy(1000, 54));
    // Before the tail power: 1,000 Mbps up charged the 5 ms RTT half at 283 W, ≈ 1.5 J more.
    expect(cloudOnlyEnergy(1000, 54)).toBeLessThan(1400);
  });

  it('is alpha × bits + beta × transfer time + (tail + idle) × (RTT + remote), by hand', () => {
    // Wi-Fi: alpha up 283.17, down 137.01 mW/Mbps, beta 132.86 mW, tail 119.3 mW; SoC idle
    // 300 mW; RTT 10 ms; remote 1 + 0.2 + 2 = 3.2 ms. Kilobits: up 4,816.896, down 32.
    const byHand = (uplinkMbps: number, downlinkMbps: number): number =>
      (283.17 * 4816.896 + (132.86 * 4816.896) / uplinkMbps + 137.01 * 32 + (132.86 * 32) / downlinkMbps + (119.3 + 300) * (10 + 3.2)) / 1000;
    expect(cloudOnlyEnergy(18.88, 54)).toBeCloseTo(byHand(18.88, 54), 9);
    expect(cloudOnlyEnergy(1000, 54)).toBeCloseTo(byHand(1000, 54), 9);
    expect(cloudOnlyEnergy(18.88, 54)).toBeCloseTo(1407.89, 1);
    expect(cloudOnlyEnergy(1000, 54)).toBeCloseTo(1374.64, 1);
  });
});
