// Kernel grouping by fusion rules: the catalogue's patterns found in built graphs (only
// where the rules say the runtime fuses them, only where the members are read inside the
// pattern), and a predicted fused kernel's time split among the layers it replaced.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { syntheticDevice } from './test-devices.js';
import { FUSION_PATTERNS, fusedPatternIds, kernelGroups, PROBE_READER, probeModel, type FusionRules } from './fusion.js';
import { kernelShares, predictProfile } from './predict.js';

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
    const groups = kernelGroups(analysis, model.graph, fusedPatternIds(rulesFusing(['conv+batchnorm+relu', 'conv+relu']), 'all'));
    const fused = groups.find((g) => g.rule === 'conv+batchnorm+relu');
    expect(fused?.layers.map((i) => analysis.layers[i].opType)).toEqual(['Conv', 'BatchNormalization', 'Relu']);
    // The second Conv's output is also read by the Add: its Relu cannot be fused into it.
    expect(groups.filter((g) => g.rule === 'conv+relu')).toEqual([]);
    expect(groups.flatMap((g) => g.layers).sort((a, b) => a - b)).toEqual(analysis.layers.map((l) => l.index));
  });

  it('fuses nothing where the rules do not say so', () => {
    const model = testModel();
    const groups = kernelGroups(analyzeModel(model), model.graph, fusedPatternIds(rulesFusing([]), 'all'));
    expect(groups.every((g) => g.layers.length === 1)).toBe(true);
    expect(fusedPatternIds(rulesFusing(['conv+relu']), 'disabled').size).toBe(0);
  });

  it('finds each non-probe-only pattern in its own probe model', () => {
    const all = fusedPatternIds(rulesFusing(FUSION_PATTERNS.map((p) => p.id)), 'all');
    for (const pattern of FUSION_PATTERNS.filter((p) => !p.probeOnly)) {
      const model = readOnnxModel(probeModel(pattern));
      const analysis = analyzeModel(model);
      const groups = kernelGroups(analysis, model.graph, new Set([pattern.id]));
      expect([pattern.id, groups.some((g) => g.rule === pattern.id && g.layers.length === pattern.nodes.length)]).toEqual([pattern.id, true]);
      expect(kernelGroups(analysis, model.graph, all).some((g) => g.layers.length > 1)).toBe(true);
    }
  });
});

describe('predicting kernels', () => {
  it('splits by MACs, equally when any is unknown or all are zero', () => {
    expect(kernelShares([3, 1])).toEqual([0.75, 0.25]);
    expect(kernelShares([3, null])).toEqual([0.5, 0.5]);
    expect(kernelShares([0, 0, 0])).toEqual([1 / 3, 1 / 3, 1 / 3]);
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

  it('reads the probe model’s pattern output by a node after it, as inside a model', () => {
    for (const pattern of FUSION_PATTERNS) {
      const model = readOnnxModel(probeModel(pattern));
      const reader = model.graph.nodes[model.graph.nodes.length - 1];
      expect([pattern.id, reader.name, reader.opType]).toEqual([pattern.id, PROBE_READER, 'Slice']);
      expect(model.graph.outputs.map((o) => o.name)).toEqual(reader.outputs);
    }
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
