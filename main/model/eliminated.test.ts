// app/prediction/eliminated.ts against onnxruntime itself: the graph it saves after its
// basic optimisations (optimizedModelFilePath) lacks exactly the layers the rules eliminate.
// Which of two equal nodes onnxruntime keeps is its own choice, so layers are compared by
// op type, as counts. On the real exports, onnxruntime also fuses (MatMul + Add into a Gemm:
// fusion.ts's rules), so there the rules' counts are at most its own.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { eliminatedLayers } from '../../app/prediction/eliminated.js';
import { flattenGraph, shapeArithmeticGraph } from '../../app/prediction/test-shape-graphs.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { analyzeModelFile } from './analyze-file.js';
import { listRealModels } from './real-models.js';

const folder = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-eliminated-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

/** Per op type, the layers the rules eliminate and those onnxruntime's basic level removed. */
async function removedByOpType(file: string): Promise<{ ours: Record<string, number>; runtime: Record<string, number> }> {
  const analyzed = await analyzeModelFile(file);
  const optimized = path.join(folder, `${path.basename(file, '.onnx')}.basic.onnx`);
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'basic', optimizedModelFilePath: optimized, intraOpNumThreads: 1 });
  await session.release();
  const kept = new Set(readOnnxModel(new Uint8Array(readFileSync(optimized))).graph.nodes.map((node) => node.name));
  const count = (ops: string[]): Record<string, number> => ops.reduce<Record<string, number>>((counts, op) => ({ ...counts, [op]: (counts[op] ?? 0) + 1 }), {});
  const { layers } = analyzed.analysis;
  return {
    ours: count([...eliminatedLayers(analyzed.analysis, analyzed.model)].map((i) => layers[i].opType)),
    runtime: count(layers.filter((layer) => !kept.has(layer.name)).map((layer) => layer.opType))
  };
}

describe('what onnxruntime eliminates at basic and above', () => {
  it('is what the rules say, for shape arithmetic and a flattening view on symbolic and on static shapes', async () => {
    for (const [name, bytes] of [
      ['shape-arithmetic-rows', shapeArithmeticGraph('rows')],
      ['shape-arithmetic-6', shapeArithmeticGraph(6)],
      ['flatten-batch', flattenGraph('batch')],
      ['flatten-2', flattenGraph(2)]
    ] as const) {
      const file = path.join(folder, `${name}.onnx`);
      writeFileSync(file, bytes);
      const { ours, runtime } = await removedByOpType(file);
      expect(ours, name).toEqual(runtime);
      expect(Object.keys(ours).length).toBeGreaterThan(0);
    }
  });

  const real = listRealModels();
  it.skipIf(real.length === 0)('is what the rules say on the real exports, besides the runtime\'s fusions', async () => {
    for (const model of real) {
      const { ours, runtime } = await removedByOpType(model.file);
      for (const [op, count] of Object.entries(ours)) expect([model.name, op, count]).toEqual([model.name, op, Math.min(count, runtime[op] ?? 0)]);
      // Where nothing fuses, every removal is the rules'.
      if (model.name === 'text_classifier' || model.name === 'shufflenet_v2_x0_5') expect([model.name, ours]).toEqual([model.name, runtime]);
    }
  });
});
