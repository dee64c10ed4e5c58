// The fleet against a real executor on loopback (main/fleet/fleet-run.ts): a few clients
// for a few seconds, small models; overload is reported as 503s, never a hang; bad input
// is refused in one line before anything starts.
import { describe, expect, it } from 'vitest';
import { defaultFleetRequest } from '../../app/fleet/request.js';
import type { FleetRequest } from '../../app/fleet/types.js';
import { defaultZooDir } from '../files/paths.js';
import { FleetCancelledError, runFleet } from './fleet-run.js';

function request(overrides: Partial<FleetRequest>): FleetRequest {
  return { ...defaultFleetRequest(), clients: 4, models: ['lenet', 'senna-pos'], policies: ['cloud-only', 'neurosurgeon'], rates: [8], durationS: 2, ...overrides };
}

describe('fleet', () => {
  it('runs clients against a real executor and reports throughput, latency, server and generator CPU', async () => {
    const progress: string[] = [];
    const report = await runFleet({ request: request({ networkMix: { wifi: 0.5, lte: 0.5 } }), zooDir: defaultZooDir(), onProgress: (p) => progress.push(p.message) });
    expect(report.executorKind).toBe('started');
    expect(report.policies.map((p) => p.policy)).toEqual(['cloud-only', 'neurosurgeon']);
    expect(report.clientGroups.reduce((s, g) => s + g.count, 0)).toBe(4);
    for (const result of report.policies) {
      const [point] = result.points;
      expect(point.offered).toBeGreaterThan(0);
      expect(point.rejected + point.failed + point.unfinished).toBe(0);
      expect(point.completed).toBe(point.offered);
      expect(point.endToEndMs?.p95).toBeGreaterThan(0);
      expect(point.generatorCpuMsPerQuery).toBeGreaterThan(0);
    }
    const cloud = report.policies[0].points[0];
    // Cloud-only sends every query: the server's part and its CPU are measured.
    expect(cloud.serverMs?.count).toBe(cloud.completed);
    expect(cloud.localOnlyShare).toBe(0);
    expect(cloud.serverCpuSecondsPerQuery).toBeGreaterThan(0);
    // Shaped links: an LTE upload of even a small input takes at least its half round trip (25 ms) each way;
    // half the clients are on LTE, so the slowest queries are theirs (the median may be Wi-Fi's).
    expect(report.clientGroups.filter((g) => g.network === 'lte').reduce((s, g) => s + g.count, 0)).toBe(2);
    expect(cloud.endToEndMs?.p95).toBeGreaterThan(20);
    expect(progress.some((m) => m.includes('cloud-only at 8 queries/s'))).toBe(true);
  }, 120_000);

  it('reports an overloaded executor as 503s and queue waits, not a hang; refinement halves the rate below the miss', async () => {
    const start = performance.now();
    const report = await runFleet({
      request: request({ clients: 20, models: ['kaldi-asr'], networkMix: { unshaped: 1 }, policies: ['cloud-only'], rates: [400], durationS: 2, refineSteps: 1 }),
      zooDir: defaultZooDir(),
      maxConcurrency: 1,
      maxQueue: 1
    });
    // Missed at the only rate swept: one refinement point halfway between 0 and it.
    expect(report.policies[0].points.map((p) => p.arrivalRate)).toEqual([200, 400]);
    const point = report.policies[0].points[1];
    expect(point.rejected).toBeGreaterThan(0);
    expect(report.notes.some((n) => /rejected \(503\)/.test(n))).toBe(true);
    expect(report.policies[0].throughputAtObjective).toBe(0);
    expect(performance.now() - start).toBeLessThan(90_000);
  }, 120_000);

  it('refuses bad input in one line before starting anything', async () => {
    await expect(runFleet({ request: request({ clients: 0 }), zooDir: defaultZooDir() })).rejects.toThrow(/^--clients must be a whole number/);
    await expect(runFleet({ request: request({ models: ['no-such-model'] }), zooDir: defaultZooDir() })).rejects.toThrow(/unknown model "no-such-model"/);
    await expect(runFleet({ request: request({}), zooDir: defaultZooDir(), executorUrl: 'http://127.0.0.1:9' })).rejects.toThrow(/does not answer/);
  }, 60_000);

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const run = runFleet({ request: request({ durationS: 30 }), zooDir: defaultZooDir(), signal: controller.signal, onProgress: (p) => p.message.includes('queries/s') && controller.abort() });
    await expect(run).rejects.toBeInstanceOf(FleetCancelledError);
  }, 120_000);
});
