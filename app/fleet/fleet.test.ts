// Tests of the fleet's pure parts (app/fleet/): arrivals, mixes, the policies' cuts and the statistics at an objective.
import { describe, expect, it } from 'vitest';
import { assignArrivals, poissonArrivals } from './arrivals.js';
import { assignModels, assignNetworks, FleetInputError, parseNetworkMix } from './mix.js';
import { buildLoadLadder, chooseCut, cutsOf } from './policy.js';
import { checkFleetRequest, defaultFleetRequest, parseRates } from './request.js';
import { gainOver, latencyPercentiles, loadAwareAtKnee, objectiveBracket, summarizePolicy } from './stats.js';
import type { FleetObjective, FleetPoint, FleetPolicy } from './types.js';
import { buildCutTable } from '../partition/cuts.js';
import { defaultPlanOptions } from '../partition/presets.js';
import type { PartitionProblem } from '../partition/types.js';

describe('arrivals', () => {
  it('are Poisson at the rate asked, the same for the same seed', () => {
    const times = poissonArrivals(50, 200_000, 7);
    expect(times.length / 200).toBeGreaterThan(47);
    expect(times.length / 200).toBeLessThan(53);
    expect(poissonArrivals(50, 1000, 7)).toEqual(poissonArrivals(50, 1000, 7));
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length;
    // Exponential gaps: standard deviation equals the mean.
    expect(Math.sqrt(variance) / mean).toBeGreaterThan(0.9);
    expect(Math.sqrt(variance) / mean).toBeLessThan(1.1);
    expect(() => poissonArrivals(0, 1000, 1)).toThrow(RangeError);
  });

  it('spread over every client, each once per round', () => {
    const owners = assignArrivals(10_000, 200, 3);
    expect(new Set(owners).size).toBe(200);
    expect(Math.max(...owners)).toBe(199);
    expect(new Set(owners.slice(200, 400)).size).toBe(200);
  });
});

describe('network mixes', () => {
  it('parse names and weights, normalised', () => {
    expect(parseNetworkMix('3g')).toEqual({ '3g': 1 });
    expect(parseNetworkMix('wifi:2,lte:1,3g:1')).toEqual({ wifi: 0.5, lte: 0.25, '3g': 0.25 });
  });

  it('refuse unknown networks and bad weights in one line', () => {
    expect(() => parseNetworkMix('wimax')).toThrow(FleetInputError);
    expect(() => parseNetworkMix('wifi:-1')).toThrow(/weight of wifi/);
    expect(() => parseNetworkMix('')).toThrow(/empty/);
  });

  it('give clients networks in exact proportion and models round-robin within each network', () => {
    const networks = assignNetworks({ wifi: 0.5, lte: 0.3, '3g': 0.2 }, 200);
    const count = (n: string) => networks.filter((x) => x === n).length;
    expect([count('wifi'), count('lte'), count('3g')]).toEqual([100, 60, 40]);
    const models = assignModels(networks, ['a', 'b', 'c', 'd']);
    const lteModels = models.filter((_, i) => networks[i] === 'lte');
    expect(lteModels.filter((m) => m === 'a').length).toBe(15);
    expect(assignNetworks({ wifi: 1 / 3, lte: 1 / 3, '3g': 1 / 3 }, 10).length).toBe(10);
  });
});

// A chain of three layers: a big input, a cheap first layer that shrinks it, a costly second layer.
const problem: PartitionProblem = {
  nodes: [
    { name: 'shrink', localMs: 2, remoteMs: 0.1 },
    { name: 'heavy', localMs: 400, remoteMs: 20 },
    { name: 'out', localMs: 1, remoteMs: 0.05 }
  ],
  tensors: [
    { name: 'input', bytes: 600_000, producer: -1, consumers: [0], isGraphOutput: false },
    { name: 'small', bytes: 4_000, producer: 0, consumers: [1], isGraphOutput: false },
    { name: 'features', bytes: 4_000, producer: 1, consumers: [2], isGraphOutput: false },
    { name: 'logits', bytes: 40, producer: 2, consumers: [], isGraphOutput: true }
  ]
};

describe('policies', () => {
  it('cloud-only sends everything, Neurosurgeon its best cut at K = 1, load-aware moves work to the device as K grows', () => {
    const table = buildCutTable(problem);
    const ladder = buildLoadLadder(table, defaultPlanOptions('3g'), [1, 2, 4, 8, 32]);
    expect(chooseCut('cloud-only', ladder, 10)).toBe(0);
    // Over 3G the input costs seconds: cut after the shrinking layer.
    expect(chooseCut('neurosurgeon', ladder, 1)).toBe(1);
    expect(chooseCut('neurosurgeon', ladder, 32)).toBe(1);
    // At K = 32 the server's 20 ms become 640 ms, more than the device's 400 ms.
    expect(chooseCut('load-aware', ladder, 1)).toBe(1);
    expect(chooseCut('load-aware', ladder, 40)).toBe(3);
    expect(cutsOf('load-aware', ladder)).toEqual([1, 3]);
    expect(cutsOf('cloud-only', ladder)).toEqual([0]);
  });
});

const objective: FleetObjective = { p95Ms: 100, scope: 'server', maxErrorShare: 0.01 };

function point(policy: FleetPolicy, arrivalRate: number, throughputQps: number, p95: number, rejected = 0): FleetPoint {
  const p = { mean: p95 / 2, p50: p95 / 2, p95, p99: p95 * 1.2, count: 100 };
  return {
    policy, arrivalRate, windowS: 10, offered: 100, completed: 100 - rejected, rejected, failed: 0, unfinished: 0, throughputQps,
    localOnlyShare: 0, meanCutShare: 0, endToEndMs: p, serverMs: p, queueWaitMs: 0, meanLoadFactor: 1,
    serverCpuSecondsPerQuery: 0.01, generatorCpuMsPerQuery: 0.5, generatorCpuShare: 0.1, dispatchLagP95Ms: 1
  };
}

describe('statistics', () => {
  it('percentiles by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(latencyPercentiles(values)).toEqual({ mean: 50.5, p50: 50, p95: 95, p99: 99, count: 100 });
    expect(latencyPercentiles([])).toBeNull();
  });

  it('throughput at the objective interpolates the crossing; rejections end it without interpolation', () => {
    const cloud = summarizePolicy('cloud-only', [point('cloud-only', 20, 20, 150), point('cloud-only', 10, 10, 50)], objective);
    expect(cloud.throughputAtObjective).toBeCloseTo(15);
    expect(cloud.kneeRate).toBeCloseTo(15);
    const ns = summarizePolicy('neurosurgeon', [point('neurosurgeon', 10, 10, 40), point('neurosurgeon', 20, 20, 60), point('neurosurgeon', 30, 25, 90, 10)], objective);
    expect(ns.throughputAtObjective).toBe(20);
    expect(ns.kneeRate).toBe(30);
    const all = summarizePolicy('load-aware', [point('load-aware', 10, 10, 40), point('load-aware', 30, 30, 80)], objective);
    expect(all.kneeRate).toBeNull();
    expect(gainOver([cloud, ns], 'neurosurgeon')).toBeCloseTo(20 / 15);
    expect(loadAwareAtKnee([cloud, ns, all], objective)).toEqual({ arrivalRate: 30, throughputRatio: 30 / 25, p95Ratio: 80 / 90 });
  });

  it('brackets the crossing of the objective for refinement: last met rate below the first miss', () => {
    expect(objectiveBracket([point('cloud-only', 30, 25, 150), point('cloud-only', 10, 10, 50), point('cloud-only', 20, 20, 60)], objective)).toEqual({ metRate: 20, missedRate: 30 });
    // A refined point between them narrows it; one that misses moves the upper end down.
    expect(objectiveBracket([point('cloud-only', 20, 20, 60), point('cloud-only', 25, 22, 120), point('cloud-only', 30, 25, 150)], objective)).toEqual({ metRate: 20, missedRate: 25 });
    // Missed from the first rate: the bracket starts at 0; met everywhere: nothing to refine.
    expect(objectiveBracket([point('cloud-only', 10, 8, 500)], objective)).toEqual({ metRate: 0, missedRate: 10 });
    expect(objectiveBracket([point('cloud-only', 10, 10, 40), point('cloud-only', 20, 20, 60)], objective)).toBeNull();
  });
});

describe('requests', () => {
  it('the defaults pass; a bad field is named', () => {
    expect(() => checkFleetRequest(defaultFleetRequest())).not.toThrow();
    expect(() => checkFleetRequest({ ...defaultFleetRequest(), clients: 0 })).toThrow(/--clients/);
    expect(() => checkFleetRequest({ ...defaultFleetRequest(), refineSteps: 7 })).toThrow(/--refine must be a whole number from 0 to 6, got 7/);
    expect(() => checkFleetRequest({ ...defaultFleetRequest(), refineSteps: 1.5 })).toThrow(/--refine/);
    expect(() => checkFleetRequest({ ...defaultFleetRequest(), rates: [5, -1] })).toThrow(/arrival rates/);
    expect(parseRates('20, 10,10')).toEqual([10, 20]);
    expect(() => parseRates('ten')).toThrow(/--rates/);
  });
});
