// From a hand-made model analysis to a partition problem and a latency estimate, without
// depending on how analyzeModel computes its facts.
import { describe, expect, it } from 'vitest';
import type { LayerAnalysis, ModelAnalysis, TensorFacts } from './analysis/types.js';
import { buildPartitionProblem, estimateLatencies, PartitionProblemError } from './engine.js';
import { buildCutTable, crossingTensors, planCuts } from './partition/cuts.js';
import { optimalDagPartition } from './partition/dag.js';
import { defaultPlanOptions } from './partition/presets.js';

function facts(name: string, bytes: number | null): TensorFacts {
  return { name, elementType: 'float32', shape: bytes === null ? null : [bytes / 4], bytes, source: bytes === null ? 'unknown' : 'static' };
}

function layer(index: number, opType: string, inputs: string[], outputs: TensorFacts[], macs: number | null, paramBytes = 0): LayerAnalysis {
  const known = outputs.every((output) => output.bytes !== null);
  return {
    index,
    nodeIndex: index,
    name: `${opType.toLowerCase()}${index}`,
    opType,
    domain: '',
    inputs,
    outputs,
    outputBytes: known ? outputs.reduce((sum, output) => sum + (output.bytes ?? 0), 0) : null,
    params: paramBytes / 4,
    paramBytes,
    macs,
    nodeMacs: macs,
    intMacs: macs === null ? null : 0,
    weightInputs: inputs.filter((name) => /^[wb]\d$/.test(name)),
    foldedNodes: [],
    stepNodes: [],
    flags: macs === null ? ['unknown-op'] : []
  };
}

// image → conv0 (weights w0, b0) → c0 → relu1 → r0 ─┬→ add2 (r0 + r0) → a0 (graph output) ─┐
//                                                    └──────────────────────→ custom3 ←────────┘
// custom3 → u0 (size unknown) → gemm4 (weights w1) → y (graph output)
function sampleAnalysis(): ModelAnalysis {
  const image = facts('image', 192);
  const layers = [
    layer(0, 'Conv', ['image', 'w0', 'b0'], [facts('c0', 128)], 10_000, 400),
    layer(1, 'Relu', ['c0'], [facts('r0', 128)], 32),
    layer(2, 'Add', ['r0', 'r0'], [facts('a0', 128)], 32),
    layer(3, 'Custom', ['r0', 'a0', ''], [facts('u0', null)], null),
    layer(4, 'Gemm', ['u0', 'w1'], [facts('y', 40)], 3_000, 12_000)
  ];
  const tensors = new Map<string, TensorFacts>([image, ...layers.flatMap((l) => l.outputs)].map((t) => [t.name, t]));
  return {
    layers,
    weightNodes: [],
    weights: { values: new Set(['w0', 'b0', 'w1']), nodes: [], sources: new Map(), feeders: new Map(), producer: new Map() },
    symbolicDims: [],
    tensors,
    inputs: [image],
    outputs: [facts('a0', 128), facts('y', 40)],
    totals: { params: 3_100, paramBytes: 12_400, macs: 13_064, intMacs: 0, unknownMacLayers: 1, weightBytesPerRun: 12_400 },
    unresolved: ['u0']
  };
}

const latencies = { localMs: [5, 1, 1, 8, 3], remoteMs: [0.5, 0.1, 0.1, 0.8, 0.3] };

describe('buildPartitionProblem', () => {
  it('turns inputs and node outputs into tensors with producers and consumers', () => {
    const problem = buildPartitionProblem(sampleAnalysis(), latencies);
    expect(problem.nodes).toEqual([
      { name: 'conv0', localMs: 5, remoteMs: 0.5 },
      { name: 'relu1', localMs: 1, remoteMs: 0.1 },
      { name: 'add2', localMs: 1, remoteMs: 0.1 },
      { name: 'custom3', localMs: 8, remoteMs: 0.8 },
      { name: 'gemm4', localMs: 3, remoteMs: 0.3 }
    ]);
    expect(problem.tensors).toEqual([
      { name: 'image', bytes: 192, producer: -1, consumers: [0], isGraphOutput: false },
      { name: 'c0', bytes: 128, producer: 0, consumers: [1], isGraphOutput: false },
      { name: 'r0', bytes: 128, producer: 1, consumers: [2, 3], isGraphOutput: false },
      { name: 'a0', bytes: 128, producer: 2, consumers: [3], isGraphOutput: true },
      { name: 'u0', bytes: 0, producer: 3, consumers: [4], isGraphOutput: false },
      { name: 'y', bytes: 40, producer: 4, consumers: [], isGraphOutput: true }
    ]);
    expect(problem.unknownSizeTensors).toEqual(['u0']);
  });

  it('feeds both optimisers', () => {
    const problem = buildPartitionProblem(sampleAnalysis(), latencies);
    const options = defaultPlanOptions('lte');
    const plan = planCuts(buildCutTable(problem), options);
    expect(plan.cuts).toHaveLength(6);
    expect(plan.cuts[0].uploadBytes).toBe(192);
    expect(plan.cuts[0].downloadBytes).toBe(168);
    expect(crossingTensors(problem, 3)).toEqual({ uploaded: ['r0', 'a0'], downloaded: ['y'] });
    const dag = optimalDagPartition(problem, options, 'latency');
    expect(dag.objectiveValue).toBeLessThanOrEqual(plan.cuts[plan.best.latency].totalMs);
  });

  it('rejects a profile of the wrong length and layers out of order', () => {
    expect(() => buildPartitionProblem(sampleAnalysis(), { localMs: [1], remoteMs: [1] })).toThrow(PartitionProblemError);
    const analysis = sampleAnalysis();
    analysis.layers = [analysis.layers[1], analysis.layers[0], ...analysis.layers.slice(2)];
    expect(() => buildPartitionProblem(analysis, latencies)).toThrow(/topological order/);
  });
});

describe('estimateLatencies', () => {
  it('estimates every layer on the device and the server by roofline', () => {
    const estimate = estimateLatencies(sampleAnalysis(), 'mobile-cpu', 'server-gpu');
    // conv0: 1e4 MACs at 10 GMAC/s = 1e-3 ms beats (128 + 192 + 400) B at 10 GB/s; + 0.05 ms.
    expect(estimate.localMs[0]).toBeCloseTo(0.051, 12);
    // On the server: 1e4 / 5e9 s = 2e-6 ms beats 720 B / 500 GB/s; + 0.01 ms.
    expect(estimate.remoteMs[0]).toBeCloseTo(0.010002, 12);
    // add2 reads r0 once although it lists it twice: (128 + 128) B.
    expect(estimate.localMs[2]).toBeCloseTo(Math.max(32 / 1e7, 256 / 1e7) + 0.05, 12);
    // custom3: MACs unknown, reads r0 and a0, writes an unknown size: bytes only.
    expect(estimate.localMs[3]).toBeCloseTo(256 / 1e7 + 0.05, 12);
    expect(estimate.macsUnknownLayers).toEqual(['custom3']);
    expect(estimate.bytesUnknownLayers).toEqual(['custom3', 'gemm4']);
    expect(estimate.localMs).toHaveLength(5);
    expect(() => buildPartitionProblem(sampleAnalysis(), estimate)).not.toThrow();
  });

  it('names the valid presets on a miss', () => {
    expect(() => estimateLatencies(sampleAnalysis(), 'phone')).toThrow(/mobile-cpu, mobile-gpu, server-gpu/);
  });
});
