// Trace parsing (formats accepted, one-line errors with line numbers) and replay: each
// point's cut is the planner's best at that point's bandwidth; the shipped sample parses.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BandwidthTraceError, parseBandwidthTrace, replayTrace } from './bandwidth-trace.js';
import { buildCutTable, planCuts } from './cuts.js';
import { defaultPlanOptions } from './presets.js';
import { alexnetLikeChain } from './test-problems.js';

const problem = alexnetLikeChain();

describe('parseBandwidthTrace', () => {
  it('reads a header, comments, blank lines and an optional downlink', () => {
    const trace = parseBandwidthTrace('# comment\ntime_s,uplink_mbps,downlink_mbps\n0,5,20\n\n1.5,0.8\r\n3,12,\n');
    expect(trace.points).toEqual([
      { tSeconds: 0, uplinkMbps: 5, downlinkMbps: 20 },
      { tSeconds: 1.5, uplinkMbps: 0.8 },
      { tSeconds: 3, uplinkMbps: 12 }
    ]);
  });

  it.each([
    ['0,5\n1,abc\n', /line 2: uplink "abc" is not a number/],
    ['0,5\n0,6\n', /line 2: time 0 does not increase/],
    ['t,u\n0,5\n1,0\n', /line 3: uplink 0 Mbps must be > 0/],
    ['0,5,1,2\n', /line 1: expected time_s,uplink_mbps/],
    ['0,5,-2\n', /line 1: downlink -2 Mbps must be > 0/],
    ['time,uplink\n', /no data lines/],
    ['0,5\nx,6\n', /line 2: time "x" is not a number/]
  ])('refuses %j', (csv, message) => {
    expect(() => parseBandwidthTrace(csv)).toThrow(BandwidthTraceError);
    expect(() => parseBandwidthTrace(csv)).toThrow(message);
  });

  it('parses the shipped LTE sample', () => {
    const csv = readFileSync(new URL('../../resources/traces/lte-sample.csv', import.meta.url), 'utf8');
    const trace = parseBandwidthTrace(csv);
    expect(trace.points.length).toBeGreaterThan(30);
    expect(Math.min(...trace.points.map((p) => p.uplinkMbps))).toBeLessThan(1.1);
    expect(Math.max(...trace.points.map((p) => p.uplinkMbps))).toBeGreaterThan(8);
  });
});

describe('replayTrace', () => {
  it('re-chooses the cut at every point, as the planner does', () => {
    const table = buildCutTable(problem);
    const options = defaultPlanOptions('lte');
    const trace = parseBandwidthTrace('0,0.2\n1,5\n2,50,100\n3,1000,1000\n');
    const replay = replayTrace(table, options, trace, 'latency');
    expect(replay.map((point) => point.tSeconds)).toEqual([0, 1, 2, 3]);
    const cuts = replay.map((point) => point.cut);
    expect(cuts[0]).toBe(3);
    expect(cuts[3]).toBe(0);
    const third = planCuts(table, { ...options, network: { ...options.network, uplinkMbps: 50, downlinkMbps: 100 } });
    expect(replay[2]).toEqual({ tSeconds: 2, cut: third.best.latency, totalMs: third.cuts[third.best.latency].totalMs, cloudOnlyMs: third.cuts[0].totalMs });
    for (const point of replay) expect(point.totalMs).toBeLessThanOrEqual(point.cloudOnlyMs);
  });

  it('replays the shipped sample with a cut that moves', () => {
    const csv = readFileSync(new URL('../../resources/traces/lte-sample.csv', import.meta.url), 'utf8');
    // A device-only run of 162 ms: better than shipping the pooled tensor below ≈ 1.7 Mbps.
    const fasterFc = { ...problem, nodes: problem.nodes.map((node) => (node.name === 'fc' ? { ...node, localMs: 150 } : node)) };
    const replay = replayTrace(buildCutTable(fasterFc), defaultPlanOptions('lte'), parseBandwidthTrace(csv), 'latency');
    expect(new Set(replay.map((point) => point.cut)).size).toBeGreaterThan(1);
  });
});
