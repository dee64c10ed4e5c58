// Kernel grouping by fusion rules: the catalogue's patterns found in built graphs (only
// where the rules say the runtime fuses them, only where the members are read inside the
// pattern), Slices and Gathers of one tensor merged into a Split only where they take one
// axis exactly once with bounds known when the graph is optimised, and a predicted fused
// kernel's time split among the layers it replaced.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { syntheticDevice } from './test-devices.js';
import { FUSION_PATTERNS, fusedPatternIds, kernelGroups, PROBE_READER, probeModel, siblingSplits, type FusionRules } from './fusion.js';
import { optimisedAway, shapesAtOptimisation, staticShapesAtOptimisation } from './eliminated.js';
import { splitGraph, type SplitPart } from './test-shape-graphs.js';
import { predictProfile } from './predict.js';
import { nodeWork, workShares } from '../profiling/trace.js';

function rulesFusing(ids: string[]): FusionRules {
  const rule = (id: string, fused: boolean) => ({ id, description: id, ops: [], fused, kernels: [], folded: [] });
  return { kind: 'fusion-rules', runtime: 'test', ep: 'cpu', date: '', levels: { all: FUSION_PATTERNS.map((p) => rule(p.id, ids.includes(p.id))), disabled: [] } };
}

/** x → Conv → BatchNorm → Relu → (LayerNorm written out) ; plus a Conv whose output is also read elsewhere. */
function testModel() {
  const b = new GraphBuilder('fusion-test');
  const x = b.input('x', 'float32', [1, 32, 8, 8]);
  const y = b.relu(b.batchNorm(b.conv(x, { inChannels: 32, outChannels: 32, kernel: 3, pad: 1 }), 32));
  const shared = b.conv(y, { inChannels: 32, outChannels: 32, kernel: 1 });
  const activated = b.relu(shared, '/Relu_shared');
  const sum = b.add(activated, shared);
  b.output(sum, 'float32', [1, 32, 8, 8]);
  return readOnnxModel(b.toBytes());
}

describe('kernelGroups', () => {
  it('groups Conv → BatchNorm → Relu into one kernel where the rules fuse it, and every layer lands in one group', () => {
    const model = testModel();
    const analysis = analyzeModel(model);
    const groups = kernelGroups(analysis, model, fusedPatternIds(rulesFusing(['conv+batchnorm+relu', 'conv+relu']), 'all'));
    const fused = groups.find((g) => g.rule === 'conv+batchnorm+relu');
    expect(fused?.layers.map((i) => analysis.layers[i].opType)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    // The second Conv's output is also read by the Add: its Relu cannot be fused into it.
    expect(groups.filter((g) => g.rule === 'conv+relu')).toEqual([]);
    expect(groups.flatMap((g) => g.layers).sort((a, b) => a - b)).toEqual(analysis.layers.map((l) => l.index));
  });

  it('fuses nothing where the rules do not say so', () => {
    const model = testModel();
    const groups = kernelGroups(analyzeModel(model), model, fusedPatternIds(rulesFusing([]), 'all'));
    expect(groups.every((g) => g.layers.length === 1)).toBe(true);
    expect(fusedPatternIds(rulesFusing(['conv+relu']), 'disabled').size).toBe(0);
  });

  it('finds each non-probe-only pattern in its own probe model', () => {
    const all = fusedPatternIds(rulesFusing(FUSION_PATTERNS.map((p) => p.id)), 'all');
    for (const pattern of FUSION_PATTERNS.filter((p) => !p.probeOnly)) {
      const model = readOnnxModel(probeModel(pattern));
      const analysis = analyzeModel(model);
      const groups = kernelGroups(analysis, model, new Set([pattern.id]));
      expect([pattern.id, groups.some((g) => g.rule === pattern.id && g.layers.length === pattern.nodes.length)]).toEqual([pattern.id, true]);
      expect(kernelGroups(analysis, model, all).some((g) => g.layers.length > 1)).toBe(true);
    }
  });
});

describe('predicting kernels', () => {
  it('splits by MACs, equally when any is unknown or all are zero', () => {
    expect(workShares([3, 1])).toEqual([0.75, 0.25]);
    expect(workShares([3, null])).toEqual([0.5, 0.5]);
    expect(workShares([0, 0, 0])).toEqual([1 / 3, 1 / 3, 1 / 3]);
    // A node's work: its MACs, or the elements it writes where that is more; unknown with either.
    expect(nodeWork(1000, [[2, 3]])).toBe(1000);
    expect(nodeWork(0, [[2, 3], [4]])).toBe(10);
    expect(nodeWork(1, [[1]])).toBe(1);
    expect(nodeWork(null, [[2]])).toBeNull();
    expect(nodeWork(5, [['s', 2]])).toBeNull();
  });

  it('costs a fused conv kernel as its conv alone at all (its BatchNorm folded away, its Relu applied as the kernel stores), and every layer alone at disabled', () => {
    const device = syntheticDevice();
    const model = testModel();
    const analysis = analyzeModel(model);
    const identity = { file: 't.onnx', sha256: 't', nodes: 0 };
    const rules = rulesFusing(['conv+batchnorm+relu']);
    const disabled = predictProfile(analysis, model, device, identity, { optimization: 'disabled', rules });
    const all = predictProfile(analysis, model, device, identity, { optimization: 'all', rules });
    expect(all.graphOptimization).toBe('all');
    const kernel = all.layers.filter((l) => l.kernel === 'conv+batchnorm+relu');
    expect(kernel.map((l) => l.op)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    // The kernel takes the conv's own time, shared by MACs among its three layers: a fused Relu costs no pass.
    expect(disabled.layers.slice(0, 3).map((l) => l.op)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    expect(disabled.layers[2].medianMs).toBeGreaterThan(0);
    expect(kernel.reduce((sum, l) => sum + l.medianMs, 0)).toBeCloseTo(disabled.layers[0].medianMs, 12);
    expect(all.sumOfMediansMs).toBeLessThan(disabled.sumOfMediansMs);
    expect(disabled.layers.every((l) => l.kernel === undefined)).toBe(true);
  });
  it('costs HardSwish written out and fused into a Conv as one pass, its HardSigmoid’s, not a second for the Mul', () => {
    const device = syntheticDevice();
    const identity = { file: 't.onnx', sha256: 't', nodes: 0 };
    const pattern = FUSION_PATTERNS.find((p) => p.id === 'conv+hardsigmoid+mul')!;
    const model = readOnnxModel(probeModel(pattern));
    const analysis = analyzeModel(model);
    const rules = rulesFusing(['conv+hardsigmoid+mul']);
    const disabled = predictProfile(analysis, model, device, identity, { optimization: 'disabled', rules });
    const all = predictProfile(analysis, model, device, identity, { optimization: 'all', rules });
    const kernel = all.layers.filter((l) => l.kernel === 'conv+hardsigmoid+mul');
    expect(kernel.map((l) => l.op)).toEqual(['Conv', 'HardSigmoid', 'Mul']);
    const [conv, hardSigmoid] = disabled.layers.map((l) => l.medianMs);
    expect(kernel.reduce((sum, l) => sum + l.medianMs, 0)).toBeCloseTo(conv + hardSigmoid, 12);
  });

  it('reads the probe model’s pattern outputs by nodes after them, as inside a model', () => {
    for (const pattern of FUSION_PATTERNS) {
      const model = readOnnxModel(probeModel(pattern));
      const first = model.graph.nodes.findIndex((n) => n.name === PROBE_READER);
      const readers = model.graph.nodes.slice(first);
      expect([pattern.id, readers.every((r) => r.name.startsWith(PROBE_READER) && r.opType === 'Slice')]).toEqual([pattern.id, true]);
      expect([pattern.id, readers.length]).toEqual([pattern.id, pattern.siblings ? pattern.nodes.length : 1]);
      expect(model.graph.outputs.map((o) => o.name)).toEqual(readers.flatMap((r) => r.outputs));
    }
  });

  it('costs Slices merged into a Split as one data movement over their bytes, shared equally, where the rules fuse them', () => {
    const device = syntheticDevice();
    const identity = { file: 't.onnx', sha256: 't', nodes: 0 };
    const model = readOnnxModel(splitGraph([1, 64, 96], 2, [{ slice: [0, 32] }, { slice: [32, 64] }, { slice: [64, 96] }]));
    const analysis = analyzeModel(model);
    const split = predictProfile(analysis, model, device, identity, { optimization: 'all', rules: rulesFusing(['slices-to-split']) });
    const apart = predictProfile(analysis, model, device, identity, { optimization: 'all', rules: rulesFusing([]) });
    const slices = (profile: typeof split) => profile.layers.filter((l) => l.op === 'Slice');
    expect(slices(split).map((l) => l.kernel)).toEqual(['slices-to-split', 'slices-to-split', 'slices-to-split']);
    // The synthetic fits: 0.01 ms + 1e-9 ms per unit of each feature (bytes, copiedBytes, copies, …).
    const bytes = 4 * 64 * 96;
    const expected = 0.01 + 1e-9 * (2 * bytes + 1);
    expect(slices(split).reduce((sum, l) => sum + l.medianMs, 0)).toBeCloseTo(expected, 12);
    expect(new Set(slices(split).map((l) => l.medianMs)).size).toBe(1);
    // Three kernels' fixed costs became one.
    expect(slices(apart).reduce((sum, l) => sum + l.medianMs, 0) - expected).toBeCloseTo(2 * (0.01 + 1e-9), 12);
  });

  it('costs a Linear over tokens fused with its bias Add as the MatMul plus the Add’s pass, and a one-row Linear as its MatMul alone', () => {
    const device = syntheticDevice();
    const identity = { file: 't.onnx', sha256: 't', nodes: 0 };
    const rules = rulesFusing(['matmul+add']);
    for (const [rows, passes] of [[16, true], [1, false]] as const) {
      const b = new GraphBuilder('linear');
      const x = b.input('x', 'float32', rows === 1 ? [1, 64] : [1, rows, 64]);
      b.output(b.matmulLinear(x, 64, 32), 'float32', rows === 1 ? [1, 32] : [1, rows, 32]);
      const model = readOnnxModel(b.toBytes());
      const analysis = analyzeModel(model);
      const disabled = predictProfile(analysis, model, device, identity, { optimization: 'disabled', rules });
      const all = predictProfile(analysis, model, device, identity, { optimization: 'all', rules });
      const kernel = all.layers.filter((l) => l.kernel === 'matmul+add');
      expect(kernel.map((l) => l.op), `${rows} rows`).toEqual(['MatMul', 'Add']);
      const [matmul, add] = disabled.layers.map((l) => l.medianMs);
      expect(kernel.reduce((sum, l) => sum + l.medianMs, 0), `${rows} rows`).toBeCloseTo(passes ? matmul + add : matmul, 12);
    }
  });
});

describe('siblingSplits', () => {
  const groupsOf = (shape: (number | string)[], axis: number, parts: SplitPart[], boundsFromShape = false): string[][] => {
    const model = readOnnxModel(splitGraph(shape, axis, parts, boundsFromShape));
    const analysis = analyzeModel(model);
    const constants = optimisedAway(analysis, model, staticShapesAtOptimisation(analysis, model)).constants;
    return siblingSplits(analysis, model, { shape: shapesAtOptimisation(analysis, model), constant: (name) => constants.has(name) }).map((group) => group.map((i) => analysis.layers[i].name));
  };

  it('merges Slices and Gathers that take one axis exactly once', () => {
    expect(groupsOf([1, 8, 12], 2, [{ slice: [0, 4] }, { slice: [4, 12] }])).toEqual([['/Slice0', '/Slice1']]);
    expect(groupsOf([1, 8, 12], -1, [{ slice: [4, 2 ** 62] }, { slice: [0, 4] }])).toEqual([['/Slice0', '/Slice1']]);
    expect(groupsOf([3, 8, 12], 0, [{ gather: 0 }, { gather: -2 }, { slice: [2, 3] }])).toEqual([['/Gather0', '/Gather1', '/Slice2']]);
    // Another symbolic dimension does not matter; the split axis's size does.
    expect(groupsOf(['s', 8, 12], 2, [{ slice: [0, 6] }, { slice: [6, 12] }])).toEqual([['/Slice0', '/Slice1']]);
  });

  it('leaves them apart where they miss part of the axis, overlap, step, or split a symbolic axis', () => {
    expect(groupsOf([1, 8, 12], 2, [{ slice: [0, 4] }, { slice: [5, 12] }])).toEqual([]);
    expect(groupsOf([1, 8, 12], 2, [{ slice: [0, 6] }, { slice: [4, 10] }])).toEqual([]);
    expect(groupsOf([1, 8, 12], 2, [{ slice: [0, 12], step: 2 }, { slice: [1, 12], step: 2 }])).toEqual([]);
    expect(groupsOf([1, 8, 12], 2, [{ slice: [0, 12] }])).toEqual([]);
    expect(groupsOf([4, 8, 12], 0, [{ gather: 0 }, { gather: 0 }, { slice: [1, 3] }])).toEqual([]);
    expect(groupsOf(['s', 8, 12], 0, [{ slice: [0, 1] }, { slice: [1, 2] }])).toEqual([]);
  });

  it('merges Slices whose bounds come from the Shape of a static tensor, not of one with a symbolic dimension', () => {
    expect(groupsOf([1, 8, 12], 2, [], true)).toEqual([['/SliceA', '/SliceB']]);
    expect(groupsOf(['s', 8, 12], 2, [], true)).toEqual([]);
  });
});
