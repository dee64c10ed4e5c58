// Kernel detection on the installed onnxruntime: a pattern the CPU provider fuses (Conv →
// Relu) is found fused at 'all' and not at 'disabled'; one it leaves apart (HardSigmoid →
// Mul) is not; and the committed rules (resources/fusion-rules.json) were found on the
// runtime installed here and agree with a fresh probe of those patterns. The blocked (NCHWc)
// layout probe finds this CPU's block, and the rule prediction applies (runsBlocked) says
// of each Conv geometry what the runtime's optimised graph shows; the layout reorders
// prediction places (nchwcReorders) are the ones the runtime adds to every real export and
// to the zoo's CNNs. A MatMul and the Add reading it become a Gemm exactly where
// matmulAddFuses says. The Slices and Gathers onnxruntime merges into Splits are the ones
// siblingSplits finds, in built graphs of every case and in the real exports and the zoo.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { optimisedAway, shapesAtOptimisation, staticShapesAtOptimisation } from '../../app/prediction/eliminated.js';
import { splitGraph, type SplitPart } from '../../app/prediction/test-shape-graphs.js';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { runsBlocked } from '../../app/prediction/features.js';
import { nchwcReorders } from '../../app/prediction/nchwc-layout.js';
import { analyzeModelFile } from '../model/analyze-file.js';
import { listRealModels } from '../model/real-models.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { defaultZooDir } from '../files/paths.js';
import { FUSION_PATTERNS, matmulAddFuses, siblingSplits } from '../../app/prediction/fusion.js';
import { convRunsBlocked, probeConvModel, probeNchwcLayout, probePattern, readFusionRules, runtimeReorders, runtimeSplits, runtimeVersion } from './fusion-probe.js';

const pattern = (id: string) => {
  const found = FUSION_PATTERNS.find((p) => p.id === id);
  if (!found) throw new Error(`no pattern ${id}`);
  return found;
};

describe('fusion probe', () => {
  it('finds Conv → Relu fused into one kernel at all, apart at disabled', async () => {
    const all = await probePattern(pattern('conv+relu'), 'all');
    expect(all.fused).toBe(true);
    expect(all.kernels.filter((k) => k === 'Relu')).toEqual([]);
    const disabled = await probePattern(pattern('conv+relu'), 'disabled');
    expect(disabled).toMatchObject({ fused: false, kernels: ['Conv', 'Relu'] });
  });

  it('finds a decomposed LayerNorm run as one kernel, HardSigmoid → Mul left apart after a non-conv op', async () => {
    expect(await probePattern(pattern('layernorm'), 'all')).toMatchObject({ fused: true, kernels: ['LayerNormalization'] });
    expect((await probePattern(pattern('hardsigmoid+mul'), 'all')).fused).toBe(false);
  });

  it("finds HardSwish written out after a Conv fused into it, its output read by a node after it as in MobileNetV3", async () => {
    // With the Mul's output a graph output, onnxruntime 1.30 leaves HardSigmoid and Mul apart; inside a model it does not.
    const rule = await probePattern(pattern('conv+hardsigmoid+mul'), 'all');
    expect(rule.fused).toBe(true);
    expect(rule.kernels.filter((kernel) => kernel === 'HardSigmoid' || kernel === 'Mul')).toEqual([]);
  });

  it('has committed rules for the installed runtime that a fresh probe agrees with', async () => {
    const rules = await readFusionRules();
    expect(rules?.runtime).toBe(runtimeVersion());
    for (const id of ['conv+batchnorm+relu', 'matmul+add', 'gelu']) {
      const committed = rules?.levels.all?.find((r) => r.id === id);
      expect([id, committed?.fused]).toEqual([id, (await probePattern(pattern(id), 'all')).fused]);
    }
  });
});

describe('blocked (NCHWc) layout', () => {
  it("finds this CPU's block and says of every Conv geometry what the runtime does with it", async () => {
    const layout = await probeNchwcLayout();
    if (process.arch === 'x64') expect([8, 16]).toContain(layout?.blockSize);
    // Ungrouped (input channels below a block, aligned, unaligned), depthwise (aligned or
    // not), grouped (channels per group a block's multiple or not).
    const geometries: Array<[number, number, number]> = [
      [3, 32, 1], [16, 48, 1], [20, 32, 1], [18, 32, 1], [17, 33, 1], [36, 32, 1],
      [24, 24, 24], [7, 7, 7], [10, 10, 10], [64, 64, 64],
      [32, 32, 2], [48, 48, 2], [48, 48, 6], [96, 96, 3], [96, 96, 4], [128, 128, 8]
    ];
    for (const [inChannels, outChannels, group] of geometries) {
      const bytes = probeConvModel(inChannels, outChannels, group);
      const model = readOnnxModel(bytes);
      const analysis = analyzeModel(model);
      const conv = analysis.layers.find((layer) => layer.opType === 'Conv')!;
      expect([inChannels, outChannels, group, runsBlocked(conv, analysis, model.graph, layout)]).toEqual([inChannels, outChannels, group, await convRunsBlocked(bytes)]);
    }
  });

  it('places the reorders the runtime adds to every real export and the zoo CNNs', async () => {
    const layout = await probeNchwcLayout();
    const files = [...listRealModels().map((m) => m.file), ...['lenet', 'mobilenet-v2', 'googlenet'].map((id) => ensureZooModel(id, defaultZooDir()))];
    for (const file of files) {
      const analyzed = await analyzeModelFile(file);
      const predicted = nchwcReorders(analyzed.analysis, analyzed.model.graph, layout);
      const runtime = await runtimeReorders(file);
      const tensors = (kind: string) => predicted.filter((r) => r.kind === kind).map((r) => r.tensor).sort();
      expect([path.basename(file), tensors('ReorderInput'), tensors('ReorderOutput')]).toEqual([path.basename(file), runtime.input.sort(), runtime.output.sort()]);
    }
  }, 120_000);
});

describe('MatMul + Add into a Gemm', () => {
  // Each case: A's shape, and what the Add adds to the MatMul's output.
  const cases: { shape: (string | number)[]; adds: 'bias' | 'activation' }[] = [
    { shape: [4, 8], adds: 'bias' },
    { shape: ['s', 8], adds: 'bias' },
    { shape: [4, 8], adds: 'activation' },
    { shape: [4, 2, 8], adds: 'bias' },
    { shape: [1, 1, 8], adds: 'bias' },
    { shape: ['s', 2, 8], adds: 'bias' },
    { shape: [4, 's', 8], adds: 'bias' },
    { shape: [4, 2, 8], adds: 'activation' }
  ];
  it('fuses where matmulAddFuses says, as the graph onnxruntime saves at all shows', async () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-matmul-add-'));
    try {
      let fused = 0;
      for (const { shape, adds } of cases) {
        const b = new GraphBuilder('matmul_add', { seed: 1 });
        const x = b.input('x', 'float32', shape);
        const product = b.op('MatMul', [x, b.weight('/w', [8, 8], 8)], {}, '/MatMul');
        const other = adds === 'bias' ? b.weight('/b', [8], 8) : b.op('Relu', [x], {}, '/Relu');
        b.output(b.op('Add', [product, other], {}, '/Add'), 'float32', null);
        const file = path.join(folder, 'model.onnx');
        const optimized = path.join(folder, 'optimized.onnx');
        writeFileSync(file, b.toBytes());
        await (await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized, logSeverityLevel: 3 })).release();
        const runtimeFused = !readOnnxModel(new Uint8Array(readFileSync(optimized))).graph.nodes.some((node) => node.opType === 'MatMul');
        const analyzed = await analyzeModelFile(file);
        const { analysis, model } = analyzed;
        const layer = (op: string) => analysis.layers.find((l) => l.opType === op)!;
        expect([shape, adds, matmulAddFuses(analysis, layer('MatMul'), layer('Add'), staticShapesAtOptimisation(analysis, model))]).toEqual([shape, adds, runtimeFused]);
        if (runtimeFused) fused++;
      }
      expect(fused).toBe(5);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('Slices and Gathers into a Split', () => {
  /** The groups siblingSplits finds in a model, by node name, as prediction finds them at 'all'. */
  const predictedSplits = (analysis: ReturnType<typeof analyzeModel>, model: ReturnType<typeof readOnnxModel>): string[][] => {
    const constants = optimisedAway(analysis, model, staticShapesAtOptimisation(analysis, model)).constants;
    return siblingSplits(analysis, model, { shape: shapesAtOptimisation(analysis, model), constant: (name) => constants.has(name) }).map((group) => group.map((i) => analysis.layers[i].name));
  };
  const cases: { shape: (number | string)[]; axis: number; parts: SplitPart[]; fromShape?: boolean }[] = [
    { shape: [1, 8, 12], axis: 2, parts: [{ slice: [0, 4] }, { slice: [4, 12] }] },
    { shape: [1, 8, 12], axis: -1, parts: [{ slice: [4, 2 ** 62] }, { slice: [0, 4] }] },
    { shape: [3, 8, 12], axis: 0, parts: [{ gather: 0 }, { gather: -2 }, { slice: [2, 3] }] },
    { shape: ['s', 8, 12], axis: 2, parts: [{ slice: [0, 6] }, { slice: [6, 12] }] },
    { shape: [1, 8, 12], axis: 2, parts: [{ slice: [0, 4] }, { slice: [5, 12] }] },
    { shape: [1, 8, 12], axis: 2, parts: [{ slice: [0, 6] }, { slice: [4, 10] }] },
    { shape: [1, 8, 12], axis: 2, parts: [{ slice: [0, 12], step: 2 }, { slice: [1, 12], step: 2 }] },
    { shape: [4, 8, 12], axis: 0, parts: [{ gather: 0 }, { gather: 0 }, { slice: [1, 3] }] },
    { shape: ['s', 8, 12], axis: 0, parts: [{ slice: [0, 1] }, { slice: [1, 2] }] },
    { shape: [1, 8, 12], axis: 2, parts: [], fromShape: true },
    { shape: ['s', 8, 12], axis: 2, parts: [], fromShape: true }
  ];

  it('merges exactly where siblingSplits says, as the graph onnxruntime saves at all shows', async () => {
    let merged = 0;
    for (const { shape, axis, parts, fromShape } of cases) {
      const bytes = splitGraph(shape, axis, parts, fromShape);
      const model = readOnnxModel(bytes);
      const runtime = await runtimeSplits(bytes);
      expect([shape, axis, parts, fromShape, predictedSplits(analyzeModel(model), model)]).toEqual([shape, axis, parts, fromShape, runtime]);
      if (runtime.length > 0) merged++;
    }
    expect(merged).toBe(5);
  });

  it('finds the Splits onnxruntime makes in every real export and the zoo', async () => {
    const files = [...listRealModels().map((m) => m.file), ...['transformer', 'googlenet', 'senna-pos'].map((id) => ensureZooModel(id, defaultZooDir()))];
    let splits = 0;
    for (const file of files) {
      const { analysis, model } = await analyzeModelFile(file);
      const runtime = await runtimeSplits(file);
      expect([path.basename(file), predictedSplits(analysis, model)]).toEqual([path.basename(file), runtime]);
      splits += runtime.length;
    }
    // ShuffleNet-V2's 13 channel splits and ViT-S's 4 packed q, k, v where ../shared is beside the project.
    if (listRealModels().length > 0) expect(splits).toBe(17);
  }, 120_000);
});
