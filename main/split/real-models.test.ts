// Graph surgery and planning on real PyTorch exports (../shared/real-models: Identity
// weight aliases, Constant chains, shape subgraphs, GRU, attention, symbolic dims): no
// weight is ever a crossing tensor, weight-only nodes are no cut points, and head then
// tail gives the full model's outputs at spread cuts and at the DAG min-cut.
import { describe, expect, it } from 'vitest';
import { buildPartitionProblem, estimateLatencies } from '../../app/engine.js';
import { crossingTensors, predecessorClosure } from '../../app/partition/cuts.js';
import { optimalDagPartition } from '../../app/partition/dag.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import { analyzeModelFile } from '../model/analyze-file.js';
import { generateInputs } from '../model/inputs.js';
import { listRealModels, realModelsDir } from '../model/real-models.js';
import { checkSplit, runModel } from './split-check.js';

const models = listRealModels();
if (models.length === 0) console.warn(`real-models tests skipped: no .onnx files in ${realModelsDir()}`);

describe.skipIf(models.length === 0)('real PyTorch exports', () => {
  for (const model of models) {
    it(`${model.name}: weights never cross, and head → tail equals the model at spread cuts and the DAG cut`, async () => {
      const analyzed = await analyzeModelFile(model.file, { dimValues: { batch: 1, sequence: 16 } });
      const { analysis } = analyzed;
      expect(analysis.layers.length + analysis.weightNodes.length).toBe(analyzed.model.graph.nodes.length);
      const problem = buildPartitionProblem(analysis, estimateLatencies(analysis));
      for (let cut = 0; cut <= problem.nodes.length; cut++) {
        const { uploaded, downloaded } = crossingTensors(problem, cut);
        for (const name of [...uploaded, ...downloaded]) expect(analysis.weights.values.has(name), `cut ${cut} sends weight ${name}`).toBe(false);
      }

      const inputs = generateInputs(analyzed.model, { seed: 3, dimValues: { batch: 1, sequence: 16 } });
      const expected = await runModel(analyzed.bytes, inputs);
      const layers = problem.nodes.length;
      const cuts = [...new Set([0, 1, Math.floor(layers / 4), Math.floor(layers / 2), Math.floor((3 * layers) / 4), layers - 1, layers])];
      for (const cut of cuts) {
        const check = await checkSplit(analyzed.model, analysis, new Set(Array.from({ length: cut }, (_, i) => i)), inputs, expected);
        expect(check.mismatches, `${model.name} cut ${cut}: max |diff| ${check.maxAbsDiff}`).toEqual([]);
      }
      const dag = optimalDagPartition(problem, defaultPlanOptions('3g'), 'latency');
      const dagCheck = await checkSplit(analyzed.model, analysis, new Set(dag.localNodes), inputs, expected);
      expect(dagCheck.mismatches, `${model.name} DAG cut`).toEqual([]);
      // A partition that is no topological prefix: a middle layer and everything it depends on.
      const ancestors = predecessorClosure(problem, Math.floor(layers / 2));
      const ancestorCheck = await checkSplit(analyzed.model, analysis, ancestors, inputs, expected);
      expect(ancestorCheck.mismatches, `${model.name} ancestors of layer ${Math.floor(layers / 2)}`).toEqual([]);
    }, 120_000);
  }
});
