// Trace parsing and kernel → node attribution (trace.ts), on traces from real
// onnxruntime runs of zoo models, and on small hand-made graphs for the edge cases.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import type { OnnxModel } from '../onnx/model.js';
import { buildZooModel } from '../zoo/index.js';
import {
  attributeOptimizedGraph,
  attributeRuns,
  identityAttribution,
  parseTrace,
  percentile,
  smoothedQuantileOfSorted,
  spread,
  splitRuns,
  traceMedian,
  traceSpread,
  TraceFormatError,
  trimmedMean,
  type GraphTopology
} from './trace.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'trace-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function topology(model: OnnxModel): GraphTopology {
  return {
    nodes: model.graph.nodes.map((n) => ({ name: n.name, inputs: n.inputs, outputs: n.outputs })),
    sources: [...model.graph.inputs.map((i) => i.name), ...model.graph.initializers.keys()]
  };
}

/** Runs `bytes` `runs` times with profiling on; returns the trace text (and the optimised model when asked). */
async function realTrace(bytes: Uint8Array, runs: number, level: 'disabled' | 'all'): Promise<{ text: string; optimized: Uint8Array | null }> {
  const dir = mkdtempSync(path.join(folder, 'run-'));
  const optimizedPath = path.join(dir, 'optimized.onnx');
  const model = readOnnxModel(bytes);
  const session = await ort.InferenceSession.create(bytes, {
    enableProfiling: true,
    profileFilePrefix: path.join(dir, 'trace'),
    graphOptimizationLevel: level,
    logSeverityLevel: 3,
    executionProviders: ['cpu'],
    ...(level === 'all' ? { optimizedModelFilePath: optimizedPath } : {})
  });
  const input = model.graph.inputs[0];
  const dims = (input.type?.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
  const feeds = { [input.name]: new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(0.5), dims) };
  for (let i = 0; i < runs; i++) await session.run(feeds);
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir).find((f) => f.startsWith('trace') && f.endsWith('.json'));
  if (!file) throw new Error('no trace written');
  return { text: readFileSync(path.join(dir, file), 'utf8'), optimized: level === 'all' ? readFileSync(optimizedPath) : null };
}

describe('percentiles', () => {
  it('interpolates linearly between ranks', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 10)).toBeCloseTo(1.4);
    expect(percentile([7], 90)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
    expect(spread([5, 1, 3])).toEqual({ median: 3, p10: 1.4, p90: 4.6 });
  });
});

describe('parseTrace', () => {
  it('refuses malformed traces with one clear line', () => {
    expect(() => parseTrace('{not json')).toThrow(TraceFormatError);
    expect(() => parseTrace('{not json')).toThrow(/profiling trace is not JSON/);
    expect(() => parseTrace({ events: [] })).toThrow('profiling trace is not an array of events');
    expect(() => parseTrace([42])).toThrow('profiling trace event 0 is not an object');
    expect(() => parseTrace([{ cat: 'Node', name: 'a_kernel_time', ts: 1 }])).toThrow('profiling trace event 0 ("a_kernel_time") has no valid ts/dur');
  });

  it('splits runs by node repetition when the trace has no run events', () => {
    const event = (name: string, ts: number) => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur: 2, args: { provider: 'CPUExecutionProvider' } });
    const trace = parseTrace([event('a', 0), event('b', 3), event('a', 10), event('b', 13)]);
    expect(splitRuns(trace).map((run) => run.map((k) => k.node))).toEqual([['a', 'b'], ['a', 'b']]);
  });
});

describe('a real trace of LeNet (no optimisation)', async () => {
  const bytes = buildZooModel('lenet', { seed: 3 });
  const model = readOnnxModel(bytes);
  const { text } = await realTrace(bytes, 6, 'disabled');

  it('gives every node a time in every run, with p10 ≤ median ≤ p90', () => {
    const runs = splitRuns(parseTrace(text));
    expect(runs).toHaveLength(6);
    const result = attributeRuns(runs, identityAttribution(topology(model)), model.graph.nodes.length);
    expect(result.unattributedKernels).toEqual([]);
    let sum = 0;
    for (const node of result.nodes) {
      expect(node.observed).toBe(true);
      expect(node.provider).toBe('CPUExecutionProvider');
      const s = spread(node.msPerRun);
      expect(s.p10).toBeLessThanOrEqual(s.median);
      expect(s.median).toBeLessThanOrEqual(s.p90);
      sum += s.median;
    }
    expect(sum).toBeGreaterThan(0);
    expect(result.nodes[0].outputBytes).toBe(20 * 24 * 24 * 4);
  });
});

describe('a real trace of ResNet-18 with every optimisation (fused and NCHWc kernels)', async () => {
  const bytes = buildZooModel('resnet18', { seed: 3 });
  const model = readOnnxModel(bytes);
  const macs = analyzeModel(model).layers.map((l) => l.macs);
  const { text, optimized } = await realTrace(bytes, 3, 'all');

  it('accounts for every original node and keeps the kernels’ total time', () => {
    const optimizedModel = readOnnxModel(optimized as Uint8Array);
    expect(optimizedModel.graph.nodes.length).toBeLessThan(model.graph.nodes.length);
    const attribution = attributeOptimizedGraph(topology(model), topology(optimizedModel), macs);
    const result = attributeRuns(splitRuns(parseTrace(text)), attribution, model.graph.nodes.length);
    expect(result.unattributedKernels).toEqual([]);
    result.nodes.forEach((node, i) => {
      if (node.status === 'folded') return;
      expect(node.observed, model.graph.nodes[i].name).toBe(true);
      expect(Math.min(...node.msPerRun)).toBeGreaterThanOrEqual(0);
    });
    const convs = result.nodes.filter((_, i) => model.graph.nodes[i].opType === 'Conv');
    expect(convs.every((n) => Math.min(...n.msPerRun) > 0)).toBe(true);
    result.kernelMsPerRun.forEach((total, run) => expect(result.attributedMsPerRun[run]).toBeCloseTo(total, 6));
    const perRunSum = result.kernelMsPerRun.map((_, run) => result.nodes.reduce((s, n) => s + n.msPerRun[run], 0));
    perRunSum.forEach((sum, run) => expect(sum).toBeCloseTo(result.kernelMsPerRun[run], 6));
  });
});

describe('attributeOptimizedGraph on small graphs', () => {
  const original: GraphTopology = {
    nodes: [
      { name: 'conv', inputs: ['x', 'w'], outputs: ['c'] },
      { name: 'relu', inputs: ['c'], outputs: ['r'] },
      { name: 'shape', inputs: ['r'], outputs: ['s'] },
      { name: 'reshape', inputs: ['r', 's'], outputs: ['y'] }
    ],
    sources: ['x', 'w']
  };

  it('splits a fused kernel by MACs, and reports constant-folded nodes', () => {
    const optimized: GraphTopology = {
      nodes: [
        { name: 'conv_relu', inputs: ['x', 'w'], outputs: ['r'] },
        { name: 'reshape', inputs: ['r', 's'], outputs: ['y'] }
      ],
      sources: ['x', 'w', 's']
    };
    const attribution = attributeOptimizedGraph(original, optimized, [300, 100, 0, 0]);
    expect(attribution.shares.get('conv_relu')).toEqual([{ node: 0, share: 0.75 }, { node: 1, share: 0.25 }]);
    expect(attribution.shares.get('reshape')).toEqual([{ node: 3, share: 1 }]);
    expect(attribution.status).toEqual(['fused', 'fused', 'folded', 'measured']);
  });

  it('splits equally when MACs are unknown, and follows layout-renamed nodes', () => {
    const optimized: GraphTopology = {
      nodes: [
        { name: 'Transpose', inputs: ['x'], outputs: ['x_nhwc'] },
        { name: 'conv_token_1', inputs: ['x_nhwc', 'w'], outputs: ['conv_nhwc'] },
        { name: 'relu_token_2', inputs: ['conv_nhwc'], outputs: ['relu_nhwc'] },
        { name: 'Transpose_token_3', inputs: ['relu_nhwc'], outputs: ['r'] },
        { name: 'shape', inputs: ['r'], outputs: ['s'] },
        { name: 'reshape', inputs: ['r', 's'], outputs: ['y'] }
      ],
      sources: ['x', 'w']
    };
    const attribution = attributeOptimizedGraph(original, optimized, [null, 100, 0, 0]);
    expect(attribution.shares.get('Transpose')).toEqual([{ node: 0, share: 1 }]);
    expect(attribution.shares.get('Transpose_token_3')).toEqual([{ node: 1, share: 1 }]);
    expect(attribution.status).toEqual(['measured', 'measured', 'measured', 'measured']);
  });
});

describe('quantiles of durations known to a resolution', () => {
  it('reads a median between lattice points in proportion to the runs (the grouped median)', () => {
    // 60 % of runs at 4 µs and 40 % at 5 µs: the 4 µs bin [3.5, 4.5) holds the median at 5/6 of its width.
    expect(smoothedQuantileOfSorted([4, 4, 4, 5, 5], 0.5, 0.5)).toBeCloseTo(3.5 + 0.5 / 0.6, 10);
    // The plain median cannot tell 51 % from 99 % of runs at the lower value.
    expect(smoothedQuantileOfSorted([4, 4, 4, 4, 5], 0.5, 0.5)).toBeCloseTo(3.5 + 0.5 / 0.8, 10);
  });

  it('is the ordinary quantile for values far apart compared with the resolution', () => {
    expect(smoothedQuantileOfSorted([1, 10, 20], 0.5, 0.5)).toBeCloseTo(10, 10);
    expect(smoothedQuantileOfSorted([1, 10, 20], 0.2, 0.5)).toBeCloseTo(1.1, 10);
    expect(smoothedQuantileOfSorted([1, 10, 20], 1, 0.5)).toBe(20);
    expect(smoothedQuantileOfSorted([3, 7], 0.5, 0)).toBe(5);
    expect(smoothedQuantileOfSorted([], 0.5, 0.5)).toBeNaN();
    // Never outside the values' range: a node that took 0 in every run is 0 at every quantile.
    expect(smoothedQuantileOfSorted([0, 0, 0], 0.1, 0.5)).toBe(0);
    expect(smoothedQuantileOfSorted([4, 4, 4, 5, 5], 0.1, 0.5)).toBe(4);
  });

  it('takes the lower end of a gap that holds exactly the median, whatever the rounding, so a shift of every run shifts it alike', () => {
    // Six runs of one kernel in ms (two not seen, as on a loaded machine): half the mass lies below the gap from 5.5 to 6.5 µs.
    const raw = [0, 0, 0.005, 0.007, 0.007, 0.007];
    expect(traceMedian(raw)).toBeCloseTo(0.0055, 12);
    // The profiler's per-kernel cost of 2 µs taken off every run moves the median by exactly that.
    expect(traceMedian(raw) - traceMedian(raw.map((ms) => Math.max(0, ms - 0.002)))).toBeCloseTo(0.002, 12);
  });

  it('recovers a sub-microsecond duration from truncated microsecond samples', () => {
    // A kernel of 2.3 µs ± jitter, truncated to whole µs as the trace does, 0.5 µs added back (the truncation's mean).
    let state = 7;
    const uniform = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const truncated = Array.from({ length: 2000 }, () => Math.floor(2.3 + (uniform() - 0.5) * 1.2) + 0.5).map((us) => us / 1000);
    expect(spread(truncated).median * 1000).toBeCloseTo(2.5, 6);
    expect(traceSpread(truncated).median * 1000).toBeGreaterThan(2.2);
    expect(traceSpread(truncated).median * 1000).toBeLessThan(2.4);
  });
});

describe('trimmedMean', () => {
  it('drops ⌊n·fraction⌋ values at each end, and is the median of too few values to drop any', () => {
    expect(trimmedMean([1, 2, 3, 4, 5, 6, 7, 8, 9, 100])).toBeCloseTo((2 + 3 + 4 + 5 + 6 + 7 + 8 + 9) / 8, 12);
    expect(trimmedMean([5, 1, 100])).toBe(5);
    expect(trimmedMean([4, 2], 0.1)).toBe(3);
    expect(trimmedMean([1, 2, 3, 4], 0.25)).toBe(2.5);
    expect(trimmedMean([])).toBeNaN();
  });

  it('stays between the two groups of a bimodal set of runs where the median jumps from one to the other', () => {
    const fast = Array.from({ length: 49 }, () => 2);
    const slow = Array.from({ length: 51 }, () => 12);
    const mostlySlow = trimmedMean([...fast, ...slow], 0.25);
    const mostlyFast = trimmedMean([...fast, 2, 2, ...slow.slice(2)], 0.25);
    expect(percentile([...fast, ...slow], 50)).toBe(12);
    expect(percentile([...fast, 2, 2, ...slow.slice(2)], 50)).toBe(2);
    expect(mostlySlow / mostlyFast).toBeLessThan(1.1);
  });
});
