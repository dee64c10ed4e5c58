// The profiler-overhead arithmetic (overhead.ts) on synthetic calibration runs whose
// answer is known, and the per-kernel correction it feeds (trace.ts correctedKernelMs,
// attributeRuns) on a synthetic trace.
import { describe, expect, it } from 'vitest';
import { CalibrationError, latenciesForWholeRuns, profilerOverheadFrom } from './overhead.js';
import { attributeRuns, correctedKernelMs, identityAttribution, parseTrace, splitRuns, type KernelEvent } from './trace.js';

/** Plain runs of n trivial nodes: `runMs` + n × `nodeMs`, with a few slow outliers. */
function plainRuns(nodes: number, runMs: number, nodeMs: number, count = 31): number[] {
  return Array.from({ length: count }, (_, i) => runMs + nodes * nodeMs + (i % 10 === 0 ? 5 : 0));
}

describe('profilerOverheadFrom', () => {
  it('recovers the per-kernel cost and the per-run cost from runs made with known ones', () => {
    // Each trivial kernel really adds 0.25 µs; the profiler adds 3 µs to each of its events;
    // session.run costs 12 µs. Trace durations are truncated to whole µs, so the kernel
    // events read 3 (three times in four) and 4 (once in four): 3.25 µs on average.
    const profiledKernelUs = Array.from({ length: 31 }, () => Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 4 : 3)));
    const overhead = profilerOverheadFrom({
      shortChainNodes: 1,
      longChainNodes: 201,
      plainShortMs: plainRuns(1, 0.012, 0.00025),
      plainLongMs: plainRuns(201, 0.012, 0.00025),
      profiledKernelUs
    });
    expect(overhead.trivialNodeMs).toBeCloseTo(0.00025, 9);
    expect(overhead.kernelMs).toBeCloseTo(0.003, 9);
    expect(overhead.runMs).toBeCloseTo(0.012, 9);
  });

  it('never goes below zero, and refuses a calibration without runs', () => {
    const overhead = profilerOverheadFrom({ shortChainNodes: 1, longChainNodes: 11, plainShortMs: [0.01], plainLongMs: [0.05], profiledKernelUs: [[1, 1]] });
    expect(overhead.kernelMs).toBe(0);
    expect(() => profilerOverheadFrom({ shortChainNodes: 1, longChainNodes: 11, plainShortMs: [], plainLongMs: [0.05], profiledKernelUs: [[1]] })).toThrow(CalibrationError);
    expect(() => profilerOverheadFrom({ shortChainNodes: 5, longChainNodes: 5, plainShortMs: [1], plainLongMs: [1], profiledKernelUs: [[1]] })).toThrow(/no runs to compare/);
  });
});

describe('the per-kernel correction', () => {
  const kernel = (durationUs: number, source: KernelEvent['source'] = 'kernel'): KernelEvent => ({
    node: 'n',
    op: 'Relu',
    provider: 'CPUExecutionProvider',
    ts: 0,
    durationUs,
    outputBytes: null,
    source
  });

  it('takes the overhead off host-side kernel events only, never below zero', () => {
    expect(correctedKernelMs(kernel(10), 0.003)).toBeCloseTo(0.007, 12);
    expect(correctedKernelMs(kernel(2), 0.003)).toBe(0);
    expect(correctedKernelMs(kernel(10, 'gpu'), 0.003)).toBeCloseTo(0.01, 12);
  });

  it('corrects every node of a synthetic trace and keeps the raw times beside', () => {
    const event = (name: string, ts: number, dur: number) => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, args: { provider: 'CPUExecutionProvider', op_name: 'Op' } });
    const run = (ts: number) => ({ cat: 'Session', name: 'model_run', ts, dur: 100 });
    const trace = parseTrace([run(0), event('a', 1, 4), event('b', 10, 53), run(200), event('a', 201, 5), event('b', 210, 51)]);
    const topology = {
      nodes: [
        { name: 'a', inputs: ['x'], outputs: ['y'] },
        { name: 'b', inputs: ['y'], outputs: ['z'] }
      ],
      sources: ['x']
    };
    const result = attributeRuns(splitRuns(trace), identityAttribution(topology), 2, 0.003);
    expect(result.nodes[0].msPerRun.map((ms) => Number(ms.toFixed(9)))).toEqual([0.001, 0.002]);
    expect(result.nodes[1].msPerRun.map((ms) => Number(ms.toFixed(9)))).toEqual([0.05, 0.048]);
    expect(result.nodes[0].rawMsPerRun).toEqual([0.004, 0.005]);
    expect(result.kernelMsPerRun.map((ms) => Number(ms.toFixed(9)))).toEqual([0.051, 0.05]);
    const uncorrected = attributeRuns(splitRuns(trace), identityAttribution(topology), 2);
    expect(uncorrected.nodes[1].msPerRun).toEqual([0.053, 0.051]);
  });
});

describe('latenciesForWholeRuns', () => {
  it('charges the per-run cost to one node and spreads the rest of a measured whole run evenly', () => {
    const ms = latenciesForWholeRuns([1, 2, 3, 4], { runOverheadMs: 0.5, runOverheadNode: 3, wholeModelMs: 12.5 });
    expect(ms.reduce((a, b) => a + b, 0)).toBeCloseTo(12.5, 12);
    expect(ms).toEqual([1.5, 2.5, 3.5, 5]);
  });

  it('adds only the per-run cost without a measured whole run, and takes no node below 0', () => {
    expect(latenciesForWholeRuns([1, 2], { runOverheadMs: 0.25, runOverheadNode: 0, wholeModelMs: null })).toEqual([1.25, 2]);
    const shorter = latenciesForWholeRuns([0, 4], { runOverheadNode: 0, wholeModelMs: 3 });
    expect(shorter).toEqual([0, 3.5]);
    expect(latenciesForWholeRuns([], { runOverheadMs: 1, runOverheadNode: 0, wholeModelMs: 2 })).toEqual([]);
  });
});
