// Graph surgery against reality: for the cuts of the zoo models (cut-sample.ts), head then tail run by
// onnxruntime-node must give the full model's outputs; DAG (min-cut) partitions too;
// and bad partitions are refused with a clear message.
import { describe, expect, it } from 'vitest';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { buildZooModel, zooModels } from '../../app/zoo/index.js';
import { generateInputs } from '../model/inputs.js';
import { checkSplit, runModel } from './split-check.js';
import { splitModel, SurgeryError } from './surgery.js';
import { cutsToCheck } from './cut-sample.js';

// Every zoo model that is not large is checked here at the cuts cut-sample.ts gives (every
// cut up to 40 nodes, every third above); the large ones (100 MB or more) at a spread of
// four, to keep `npm test` quick. `npm run check:surgery` (NS_EVERY_CUT=1) checks every cut
// of every zoo model, VGG-16 included.
const EVERY_CUT = process.env.NS_EVERY_CUT === '1';
const SAMPLED_CUTS_OF_LARGE_MODELS = 4;
const checkedInTests = (id: string) => EVERY_CUT || !['transformer-large', 'vgg16', 'deepface'].includes(id);

function cutsOf(nodeCount: number, large: boolean): number[] {
  if (!large || EVERY_CUT) return cutsToCheck(nodeCount);
  const step = nodeCount / (SAMPLED_CUTS_OF_LARGE_MODELS - 1);
  return [...new Set(Array.from({ length: SAMPLED_CUTS_OF_LARGE_MODELS }, (_, i) => Math.round(i * step)))];
}

describe('head + tail equal the full model', () => {
  for (const entry of zooModels.filter((m) => checkedInTests(m.id))) {
    it(`${entry.id}: ${entry.large && !EVERY_CUT ? 'sampled cuts' : 'every cut (every third above 40 nodes)'}`, async () => {
      const bytes = buildZooModel(entry.id, { seed: 3 });
      const model = readOnnxModel(bytes);
      const analysis = analyzeModel(model);
      const inputs = generateInputs(model, { seed: 5 });
      const expected = await runModel(bytes, inputs);
      const failures: string[] = [];
      for (const cut of cutsOf(model.graph.nodes.length, entry.large)) {
        const local = new Set(Array.from({ length: cut }, (_, i) => i));
        const check = await checkSplit(model, analysis, local, inputs, expected);
        if (check.mismatches.length > 0) failures.push(`cut ${cut}: ${check.mismatches.join(', ')} (max abs diff ${check.maxAbsDiff})`);
      }
      expect(failures).toEqual([]);
    }, 1_200_000);
  }
});

describe('DAG partitions and invalid partitions', () => {
  it('splits a residual model along a non-prefix, predecessor-closed set', async () => {
    const bytes = buildZooModel('resnet18', { seed: 3, weights: 'random' });
    const model = readOnnxModel(bytes);
    const analysis = analyzeModel(model);
    const inputs = generateInputs(model, { seed: 5 });
    const expected = await runModel(bytes, inputs);
    // The stem plus the first block's main branch, but not the residual Add: two tensors cross.
    const addIndex = model.graph.nodes.findIndex((n) => n.opType === 'Add');
    const local = new Set(Array.from({ length: addIndex }, (_, i) => i));
    const parts = splitModel(model, analysis, local);
    expect(parts.crossing.length).toBeGreaterThanOrEqual(2);
    const check = await checkSplit(model, analysis, local, inputs, expected);
    expect(check.mismatches).toEqual([]);
  });

  it('refuses a set that is not closed under predecessors and out-of-range nodes', () => {
    const model = readOnnxModel(buildZooModel('lenet', { weights: 'zeros' }));
    const analysis = analyzeModel(model);
    expect(() => splitModel(model, analysis, new Set([1]))).toThrow(SurgeryError);
    expect(() => splitModel(model, analysis, new Set([1]))).toThrow(/not closed under predecessors/);
    expect(() => splitModel(model, analysis, new Set([0, 99]))).toThrow(/out of range/);
  });

  it('keeps opset, IR version and only the initializers each part uses', () => {
    const model = readOnnxModel(buildZooModel('lenet', { weights: 'zeros' }));
    const analysis = analyzeModel(model);
    const parts = splitModel(model, analysis, new Set([0, 1]));
    const headInits = (parts.head?.graph?.initializer ?? []).map((t) => t.name);
    const tailInits = (parts.tail?.graph?.initializer ?? []).map((t) => t.name);
    expect(headInits.some((n) => tailInits.includes(n))).toBe(false);
    expect(headInits.length + tailInits.length).toBe(model.graph.initializers.size);
    expect(parts.head?.opsetImport).toEqual(model.proto.opsetImport);
    expect(parts.tail?.irVersion).toEqual(model.proto.irVersion);
    expect(parts.crossing).toHaveLength(1);
    expect(parts.crossing[0].shape).toEqual([1, 20, 12, 12]);
  });
});
