// `npm run bench`: the figures the issues ask for, measured in one run and reported as
// ratios (to a baseline measured in the same run, or to the goal). Timed work
// that needs a clean process (load time, peak memory, onnxruntime's session creation)
// runs in child processes of this same script (`--child KIND FILE`).
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnnxModel } from '../app/onnx/reader.js';
import { analyzeModel } from '../app/analysis/analyze.js';
import { buildPartitionProblem, estimateLatencies } from '../app/engine.js';
import { buildCutTable, planCuts } from '../app/partition/cuts.js';
import { optimalDagPartition } from '../app/partition/dag.js';
import { defaultPlanOptions } from '../app/partition/presets.js';
import { encodeModel } from '../app/onnx/writer.js';
import { transformerEncoder, type TransformerConfig } from '../app/zoo/index.js';
import { loadModelFile } from './model-file.js';
import { defaultZooDir, packageRoot } from './paths.js';
import { ensureZooModel } from './zoo-files.js';

interface Figure {
  figure: string;
  measured: string;
  baselineOrGoal: string;
  ratio: number;
  goal: string;
  met: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function timeMedian(run: () => void, { warmup, repeats }: { warmup: number; repeats: number }): number {
  for (let i = 0; i < warmup; i++) run();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

// ---- child processes ---------------------------------------------------------------

async function child(kind: string, file: string): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  let ms: number;
  if (kind === 'analyze') {
    const start = performance.now();
    const loaded = await loadModelFile(file);
    const analysis = analyzeModel(loaded.model);
    ms = performance.now() - start;
    if (analysis.layers.length === 0) throw new Error('no layers');
  } else if (kind === 'ort-create') {
    const ort = await import('onnxruntime-node');
    const start = performance.now();
    const session = await ort.InferenceSession.create(file);
    ms = performance.now() - start;
    await session.release();
  } else {
    throw new Error(`unknown child kind ${kind}`);
  }
  const peakRss = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(JSON.stringify({ ms, rssBefore, peakRss }) + '\n');
}

function runChild(kind: string, file: string): { ms: number; rssBefore: number; peakRss: number } {
  const script = fileURLToPath(import.meta.url);
  const result = spawnSync(process.execPath, ['--expose-gc', script, '--child', kind, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (result.status !== 0) throw new Error(`child ${kind} failed: ${result.stderr.split('\n')[0]}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}');
}

// ---- figures -----------------------------------------------------------------------

function loadFigures(): Figure[] {
  const file = ensureZooModel('vgg16', defaultZooDir());
  const fileBytes = statSync(file).size;
  const ours: { ms: number; rssBefore: number; peakRss: number }[] = [];
  const ort: number[] = [];
  for (let i = 0; i < 3; i++) {
    ours.push(runChild('analyze', file));
    ort.push(runChild('ort-create', file).ms);
  }
  const oursMs = median(ours.map((o) => o.ms));
  const ortMs = median(ort);
  const peak = median(ours.map((o) => o.peakRss));
  const growth = median(ours.map((o) => o.peakRss - o.rssBefore));
  const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
  return [
    {
      figure: 'VGG-16 load + analyse / InferenceSession.create',
      measured: `${oursMs.toFixed(0)} ms`,
      baselineOrGoal: `${ortMs.toFixed(0)} ms (onnxruntime-node)`,
      ratio: oursMs / ortMs,
      goal: '≤ 1.0',
      met: oursMs / ortMs <= 1
    },
    {
      figure: 'VGG-16 peak memory / file size',
      measured: `${mb(growth)} above a ${mb(ours[0].rssBefore)} process (peak RSS ${mb(peak)})`,
      baselineOrGoal: `${mb(fileBytes)} file`,
      ratio: growth / fileBytes,
      goal: '≤ 1.5',
      met: growth / fileBytes <= 1.5
    }
  ];
}

function transformerProblem(config: TransformerConfig) {
  const model = readOnnxModel(encodeModel(transformerEncoder(config, 'bench', { weights: 'zeros' })));
  const analysis = analyzeModel(model);
  return buildPartitionProblem(analysis, estimateLatencies(analysis));
}

function planningFigures(): Figure[] {
  const small = { hidden: 16, heads: 2, seq: 16, ffn: 32, vocab: 64 };
  const tenThousand = transformerProblem({ ...small, layers: 303 });
  const twoThousand = transformerProblem({ ...small, layers: 61 });
  const oneThousand = transformerProblem({ ...small, layers: 31 });
  const options = defaultPlanOptions('wifi');

  const planAllMs = timeMedian(() => planCuts(buildCutTable(tenThousand), options), { warmup: 20, repeats: 100 });
  const dagMs = timeMedian(() => optimalDagPartition(twoThousand, options, 'latency'), { warmup: 5, repeats: 30 });
  const table = buildCutTable(oneThousand);
  let uplink = 1;
  const replanMs = timeMedian(
    () => {
      uplink = uplink >= 100 ? 1 : uplink + 0.5;
      planCuts(table, { ...options, network: { ...options.network, uplinkMbps: uplink } });
    },
    { warmup: 200, repeats: 2000 }
  );
  return [
    { figure: `plan every topological cut, ${tenThousand.nodes.length}-node model`, measured: `${planAllMs.toFixed(3)} ms`, baselineOrGoal: '5 ms goal', ratio: planAllMs / 5, goal: '< 1.0 of goal', met: planAllMs < 5 },
    { figure: `DAG min-cut, ${twoThousand.nodes.length}-node DAG`, measured: `${dagMs.toFixed(2)} ms`, baselineOrGoal: '100 ms goal', ratio: dagMs / 100, goal: '< 1.0 of goal', met: dagMs < 100 },
    { figure: `re-plan after a bandwidth change, ${oneThousand.nodes.length}-node model`, measured: `${replanMs.toFixed(4)} ms`, baselineOrGoal: '1 ms goal', ratio: replanMs / 1, goal: '< 1.0 of goal', met: replanMs < 1 }
  ];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1], args[2]);
  process.stderr.write('bench: planning figures…\n');
  const figures = planningFigures();
  process.stderr.write('bench: VGG-16 load figures (generates resources/models/vgg16.onnx on first run)…\n');
  figures.push(...loadFigures());
  const width = Math.max(...figures.map((f) => f.figure.length));
  for (const f of figures) {
    console.log(`${f.met ? 'ok  ' : 'MISS'} ${f.figure.padEnd(width)}  ratio ${f.ratio.toFixed(3)} (goal ${f.goal})  ${f.measured} vs ${f.baselineOrGoal}`);
  }
  const outDir = path.join(packageRoot(), 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const out = path.join(outDir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), node: process.version, figures }, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), out)}`);
}

await main();
