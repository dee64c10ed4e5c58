// `npm run bench -- --only quant`: the figures of "Quantized models, and the tail as a
// KServe service", for each quantized test model (main/model/quantized-models.ts: QDQ and
// QOperator twins of LeNet, SqueezeNet 1.1, MobileNetV2 and the real ShuffleNetV2 export)
// against its float twin —
//   file size; MACs, integer and float;
//   the best cut (latency) and the bytes it sends on 3G and LTE, both models planned with
//     the same roofline latencies (a mobile-cpu device DEVICE_SLOWDOWN× slower, as the
//     real-exports bench emulates one, so that these small nets have cuts worth making; a
//     server-gpu server), so the difference is what quantization does to the bytes and MACs;
//   the measured whole-run time on this CPU (onnxruntime's default graph optimisation, which
//     fuses a QDQ model's DequantizeLinear → op → QuantizeLinear into integer kernels; one
//     intra-op thread unless --threads says otherwise), median of timed runs;
//   top-1 agreement on 32 held-out sample inputs (recorded when the model was written);
//   head → tail against the unsplit quantized model at every cut (count of cuts, count equal).
import * as ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeModel } from '../../app/analysis/analyze.js';
import type { ModelAnalysis } from '../../app/analysis/types.js';
import { buildPartitionProblem, estimateLatencies } from '../../app/engine.js';
import { buildCutTable, crossingTensors, planCuts } from '../../app/partition/cuts.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { median } from '../../app/profiling/trace.js';
import { defaultZooDir } from '../files/paths.js';
import { generateInputs } from '../model/inputs.js';
import { floatModelBytes, writeQuantizedModels, type QuantizedModelEntry } from '../model/quantized-models.js';
import { threadOptions } from '../profiling/providers.js';
import { checkSplit, runModel } from '../split/split-check.js';
import type { BenchFigure } from './figure.js';

const TIMED_RUNS_MIN = 20;
/** The emulated device is this much slower than the mobile-cpu preset (see the header). */
const DEVICE_SLOWDOWN = 20;
const TIMED_MS_MIN = 1000;

interface Loaded {
  bytes: Uint8Array;
  model: OnnxModel;
  analysis: ModelAnalysis;
}

function load(bytes: Uint8Array): Loaded {
  const model = readOnnxModel(bytes);
  return { bytes, model, analysis: analyzeModel(model) };
}

/** Median wall time of session.run, ms, with onnxruntime's default optimisation (it fuses QDQ into integer kernels). */
async function wholeRunMs(bytes: Uint8Array, model: OnnxModel): Promise<number> {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', logSeverityLevel: 3, ...threadOptions() });
  try {
    const feeds = generateInputs(model, { seed: 9 });
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times: number[] = [];
    const started = performance.now();
    while (times.length < TIMED_RUNS_MIN || performance.now() - started < TIMED_MS_MIN) {
      const start = performance.now();
      const outputs = await session.run(feeds);
      times.push(performance.now() - start);
      for (const tensor of Object.values(outputs)) tensor.dispose();
    }
    return median(times);
  } finally {
    await session.release();
  }
}

/** The latency-best topological cut on a network and the bytes it uploads, with roofline latencies. */
function bestCut(analysis: ModelAnalysis, network: '3g' | 'lte'): { cut: number; layers: number; bytes: number; totalMs: number } {
  const estimate = estimateLatencies(analysis, 'mobile-cpu', 'server-gpu');
  const problem = buildPartitionProblem(analysis, { localMs: estimate.localMs.map((ms) => ms * DEVICE_SLOWDOWN), remoteMs: estimate.remoteMs });
  const plan = planCuts(buildCutTable(problem), defaultPlanOptions(network));
  const cost = plan.cuts[plan.best.latency];
  const uploaded = crossingTensors(problem, cost.cut).uploaded;
  const bytes = uploaded.reduce((sum, name) => sum + (analysis.tensors.get(name)?.bytes ?? 0), 0);
  return { cut: cost.cut, layers: problem.nodes.length, bytes, totalMs: cost.totalMs };
}

function kb(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}

function giga(macs: number): string {
  return macs >= 1e8 ? `${(macs / 1e9).toFixed(3)} G` : `${(macs / 1e6).toFixed(2)} M`;
}

async function everyCut(loaded: Loaded): Promise<{ cuts: number; equal: number; differing: number[] }> {
  const inputs = generateInputs(loaded.model, { seed: 5 });
  const expected = await runModel(loaded.bytes, inputs);
  const differing: number[] = [];
  const cuts = loaded.analysis.layers.length + 1;
  for (let cut = 0; cut < cuts; cut++) {
    const check = await checkSplit(loaded.model, loaded.analysis, new Set(Array.from({ length: cut }, (_, i) => i)), inputs, expected);
    if (check.mismatches.length > 0 || check.maxAbsDiff !== 0) differing.push(cut);
  }
  return { cuts, equal: cuts - differing.length, differing };
}

async function modelFigures(entry: QuantizedModelEntry, dir: string, float: Loaded, floatMs: number, log: (message: string) => void): Promise<BenchFigure[]> {
  const started = performance.now();
  const quantized = load(readFileSync(path.join(dir, entry.file)));
  const label = `${entry.id}${entry.source.kind === 'real' ? ' (real export)' : ''}`;
  const { totals } = quantized.analysis;
  const figures: BenchFigure[] = [
    {
      figure: `${label}: file size / float twin`,
      measured: kb(entry.bytes),
      baselineOrGoal: kb(entry.floatBytes),
      ratio: entry.bytes / entry.floatBytes,
      goal: '≤ 0.3',
      met: entry.bytes / entry.floatBytes <= 0.3
    },
    {
      figure: `${label}: integer MACs / all MACs (float twin: all float)`,
      measured: `${giga(totals.intMacs)} int + ${giga(totals.macs - totals.intMacs)} float`,
      baselineOrGoal: `${giga(float.analysis.totals.macs)} float`,
      ratio: totals.intMacs / totals.macs,
      goal: '≥ 0.9',
      met: totals.intMacs / totals.macs >= 0.9
    }
  ];
  const bestOn = (network: '3g' | 'lte') => ({ quant: bestCut(quantized.analysis, network), float: bestCut(float.analysis, network) });
  const describe = (b: ReturnType<typeof bestCut>) => `cut ${b.cut}/${b.layers} sends ${kb(b.bytes)}, ${b.totalMs.toFixed(1)} ms`;
  for (const network of ['3g', 'lte'] as const) {
    const best = bestOn(network);
    figures.push({
      figure: `${label}: best cut on ${network.toUpperCase()} (roofline, device ${DEVICE_SLOWDOWN}× slower than mobile-cpu): predicted total / float twin's`,
      measured: describe(best.quant),
      baselineOrGoal: `float: ${describe(best.float)}`,
      ratio: best.quant.totalMs / best.float.totalMs,
      goal: 'report (< 1.0: faster)',
      met: true
    });
  }
  const quantMs = await wholeRunMs(quantized.bytes, quantized.model);
  figures.push({
    figure: `${label}: whole run on this CPU / float twin (onnxruntime, graph optimisation all)`,
    measured: `${quantMs.toFixed(2)} ms`,
    baselineOrGoal: `${floatMs.toFixed(2)} ms`,
    ratio: quantMs / floatMs,
    goal: 'report (< 1.0: faster)',
    met: true
  });
  const floor = entry.source.kind === 'real' ? 0.9 : 0.6;
  figures.push({
    figure: `${label}: top-1 agreement with the float twin (${entry.top1.samples} held-out sample inputs${entry.source.kind === 'zoo' ? '; seeded random weights' : ''})`,
    measured: `${entry.top1.agreeing} agree`,
    baselineOrGoal: `${entry.top1.samples} samples`,
    ratio: entry.top1.agreeing / entry.top1.samples,
    goal: `≥ ${floor}`,
    met: entry.top1.agreeing / entry.top1.samples >= floor
  });
  const cuts = await everyCut(quantized);
  figures.push({
    figure: `${label}: head → tail = unsplit quantized model at every cut`,
    measured: `${cuts.equal} of ${cuts.cuts} equal${cuts.differing.length ? `; differ at ${cuts.differing.slice(0, 5).join(', ')}` : ''}`,
    baselineOrGoal: `${cuts.cuts} cuts`,
    ratio: cuts.equal / cuts.cuts,
    goal: '1.0',
    met: cuts.equal === cuts.cuts
  });
  log(`bench: ${label}: ${cuts.cuts} cuts checked, whole run ${quantMs.toFixed(2)} ms, in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return figures;
}

/** The quantization figures; writes the quantized test models into the zoo folder first (kept when up to date). */
export async function quantFigures(log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<BenchFigure[]> {
  const dir = defaultZooDir();
  log(`bench: writing the quantized test models into ${dir} (kept when up to date)…`);
  const entries = await writeQuantizedModels({
    outDir: dir,
    onProgress: (e) => log(`bench: [${e.index + 1}/${e.total}] ${e.id}: ${e.status === 'kept' ? 'up to date' : `written in ${(e.ms / 1000).toFixed(1)} s`}`)
  });
  const figures: BenchFigure[] = [];
  const floats = new Map<string, { loaded: Loaded; ms: number }>();
  for (const entry of entries) {
    let float = floats.get(entry.source.name);
    if (!float) {
      const loaded = load(floatModelBytes(entry.source));
      float = { loaded, ms: await wholeRunMs(loaded.bytes, loaded.model) };
      floats.set(entry.source.name, float);
    }
    figures.push(...(await modelFigures(entry, dir, float.loaded, float.ms, log)));
  }
  return figures;
}
