// `npm run bench -- --only real`: the figures of "Real exports" (weights are not traffic)
// on every model of ../shared/real-models and of the zoo —
//   structure: layers (cut points) against nodes, and weight tensors crossing at any cut
//     (goal 0);
//   surgery: head then tail equals the full model at every cut of models under 30 MB,
//     at 8 spread cuts of the others (onnxruntime-node runs both parts);
//   decision quality on real exports: a sweep of EfficientNet-B0 and MobileNetV3 over LTE
//     with the device emulated 20× slower, measured(predicted best) / measured best.
import { buildPartitionProblem, estimateLatencies } from '../../app/engine.js';
import { crossingTensors } from '../../app/partition/cuts.js';
import { networkPreset } from '../../app/partition/presets.js';
import { zooModels } from '../../app/zoo/index.js';
import { ExecutorClient } from '../executor/client.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import type { LinkShaper } from '../executor/link.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { defaultZooDir } from '../files/paths.js';
import { analyzeModelFile, resolvedDims, type AnalyzedModel } from '../model/analyze-file.js';
import { generateInputs } from '../model/inputs.js';
import { listRealModels } from '../model/real-models.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { checkSplit, runModel } from '../split/split-check.js';
import { inlineExternalData } from '../model/model-file.js';
import { encodeModel } from '../../app/onnx/writer.js';
import { sweepModel } from '../split/sweep.js';
import type { BenchFigure } from './figure.js';

const EVERY_CUT_BELOW_BYTES = 30e6;
const SPREAD_CUTS = 8;

interface ModelFile {
  label: string;
  file: string;
  bytes: number;
}

/** Cuts 0..N for a small model; 8 spread cuts (0 and N among them) for a large one. */
function cutsToCheck(layers: number, bytes: number): number[] {
  if (bytes < EVERY_CUT_BELOW_BYTES) return Array.from({ length: layers + 1 }, (_, i) => i);
  return [...new Set(Array.from({ length: SPREAD_CUTS }, (_, i) => Math.round((i * layers) / (SPREAD_CUTS - 1))))];
}

async function structureFigures(model: ModelFile, log: (message: string) => void): Promise<BenchFigure[]> {
  const started = performance.now();
  const analyzed: AnalyzedModel = await analyzeModelFile(model.file);
  const { analysis } = analyzed;
  const problem = buildPartitionProblem(analysis, estimateLatencies(analysis));
  const layers = problem.nodes.length;
  let weightCrossings = 0;
  let example = '';
  for (let cut = 0; cut <= layers; cut++) {
    const { uploaded, downloaded } = crossingTensors(problem, cut);
    for (const name of [...uploaded, ...downloaded]) {
      if (!analysis.weights.values.has(name)) continue;
      weightCrossings++;
      example ||= `cut ${cut} sends ${name}`;
    }
  }
  // inlineExternalData empties externalData: decide before it whether the file's bytes are the whole model.
  const hadExternalData = analyzed.model.externalData.length > 0;
  inlineExternalData(analyzed);
  const bytes = hadExternalData ? encodeModel(analyzed.model.proto) : analyzed.bytes;
  const inputs = generateInputs(analyzed.model, { seed: 5, dimValues: resolvedDims(analyzed) });
  const expected = await runModel(bytes, inputs);
  const cuts = cutsToCheck(layers, model.bytes);
  let equal = 0;
  const differing: number[] = [];
  for (const cut of cuts) {
    const check = await checkSplit(analyzed.model, analysis, new Set(Array.from({ length: cut }, (_, i) => i)), inputs, expected);
    if (check.mismatches.length === 0) equal++;
    else differing.push(cut);
  }
  log(`bench: ${model.label}: ${layers} layers of ${analyzed.model.graph.nodes.length} nodes, ${equal}/${cuts.length} cuts equal, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const nodes = analyzed.model.graph.nodes.length;
  return [
    {
      figure: `${model.label}: layers (cut points) / nodes; weight tensors crossing at any of ${layers + 1} cuts`,
      measured: `${layers} layers, ${nodes - layers} weight-only nodes folded; ${weightCrossings} weight crossings${example ? ` (${example})` : ''}`,
      baselineOrGoal: `${nodes} nodes`,
      ratio: weightCrossings,
      goal: '0 weight crossings',
      met: weightCrossings === 0
    },
    {
      figure: `${model.label}: head → tail = full model at ${cuts.length === layers + 1 ? 'every cut' : `${cuts.length} spread cuts`} (${(model.bytes / 1e6).toFixed(1)} MB)`,
      measured: `${equal} of ${cuts.length} equal${differing.length ? `; differ at ${differing.slice(0, 5).join(', ')}` : ''}`,
      baselineOrGoal: 'full model',
      ratio: equal / cuts.length,
      goal: '1.0',
      met: equal === cuts.length
    }
  ];
}

async function decisionFigures(log: (message: string) => void): Promise<BenchFigure[]> {
  const targets = listRealModels().filter((m) => m.name === 'efficientnet_b0' || m.name === 'mobilenet_v3_small');
  if (targets.length === 0) return [];
  const figures: BenchFigure[] = [];
  log('bench: starting an executor on loopback for the real-export sweeps…');
  const executor = await startExecutorProcess(['--max-concurrency', '1', '--timeout-s', '600']);
  try {
    const connect = (shaper?: LinkShaper): RemoteExecutor => new ExecutorClient({ url: executor.url, shaper, timeoutMs: 600_000 });
    for (const target of targets) {
      const started = performance.now();
      const analyzed = await analyzeModelFile(target.file);
      const [result] = await sweepModel({
        analyzed,
        links: [{ kind: 'preset', preset: networkPreset('lte') }],
        every: 1,
        runs: 3,
        prune: true,
        dag: true,
        ep: 'cpu',
        deviceSlowdown: 20,
        profileRuns: 10,
        profileWarmup: 3,
        profileMinMeasureMs: 300,
        connect,
        onProgress: (m) => log(`bench: ${m}`)
      });
      const measured = result.cuts.filter((c) => c.measuredMs !== null).length;
      const predicted = result.cuts.find((c) => c.cut === result.predictedBest);
      const best = result.cuts.find((c) => c.cut === result.measuredBest);
      log(`bench: ${target.name} sweep: ${measured} cuts measured in ${((performance.now() - started) / 1000).toFixed(0)} s`);
      figures.push({
        figure: `decision quality, ${target.name} (real export) over LTE, device 20× slower: measured(predicted best cut ${result.predictedBest}) / measured(best cut ${result.measuredBest}), ${measured} of ${result.cuts.length} cuts measured (rest pruned)`,
        measured: `${(predicted?.measuredMs ?? NaN).toFixed(1)} ms`,
        baselineOrGoal: `${(best?.measuredMs ?? NaN).toFixed(1)} ms`,
        ratio: result.ratio,
        goal: '≤ 1.05',
        met: result.ratio <= 1.05 && result.outputsOk
      });
      if (result.dag) {
        figures.push({
          figure: `DAG min-cut run for real, ${target.name} over LTE, device 20× slower (${result.dag.localLayers.length} layers on the device): measured / predicted`,
          measured: `${result.dag.measuredMs.toFixed(1)} ms measured, ${result.dag.vsBestCut.toFixed(3)}× the best cut`,
          baselineOrGoal: `${result.dag.predictedMs.toFixed(1)} ms predicted`,
          ratio: result.dag.measuredMs / result.dag.predictedMs,
          goal: 'report; outputs equal',
          met: result.dag.outputOk
        });
      }
    }
  } finally {
    await executor.stop();
  }
  return figures;
}

/** The "Real exports" figures; starts (and stops) its own executor child process for the sweeps. */
export async function realExportFigures(log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<BenchFigure[]> {
  const models: ModelFile[] = [
    ...listRealModels().map((m) => ({ label: `${m.name} (real export)`, file: m.file, bytes: m.bytes })),
    ...zooModels.map((entry) => {
      const file = ensureZooModel(entry.id, defaultZooDir());
      return { label: `${entry.id} (zoo)`, file, bytes: entry.approxBytes };
    })
  ];
  if (listRealModels().length === 0) log('bench: no real exports found (../shared/real-models): only the zoo is measured');
  const figures: BenchFigure[] = [];
  for (const model of models) figures.push(...(await structureFigures(model, log)));
  figures.push(...(await decisionFigures(log)));
  return figures;
}
