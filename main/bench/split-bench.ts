// `npm run bench -- --only split`: the figures of real split runs, against a real
// executor child process on loopback —
//   shaped transfer accuracy: achieved uplink rate / preset (LTE ~1.5 MB, 3G ~300 KB);
//   decision quality: measured(auto-chosen cut) / measured(best cut), the paper's 98.5 %
//     of optimal, for AlexNet, VGG-16 and the transformer under Wi-Fi, LTE and 3G;
//   prediction fidelity: median over measured cuts of |predicted − measured| / measured;
//   overhead of the split machinery: cut N through the runner / plain onnxruntime run.
// Sweeps are pruned (a cut whose shaped transfer alone exceeds the best measured total
// is skipped), so VGG-16 under 3G stays bounded.
import { median } from '../../app/profiling/trace.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { networkPreset, type NetworkPresetName } from '../../app/partition/presets.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { ExecutorClient } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import { NetworkShaper } from '../executor/shaper.js';
import { defaultZooDir } from '../files/paths.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { SplitRunner } from '../split/split-run.js';
import { gatherLatencies, type LinkChoice } from '../split/split-prediction.js';
import { sweepModel } from '../split/sweep.js';
import { ensureZooModel } from '../model/zoo-files.js';
import type { BenchFigure } from './figure.js';

export type SplitFigure = BenchFigure;

/** One model swept over every network, on this machine's CPU or an emulated slower device. */
export interface SplitScenario {
  id: string;
  /** Device slowdown over this machine (1: the real CPU; SplitRunnerOptions.deviceSlowdown). */
  deviceSlowdown: number;
  /** Sweep every k-th cut (0, N and the predicted best always). */
  every: number;
}

export interface SplitBenchOptions {
  scenarios?: SplitScenario[];
  networks?: NetworkPresetName[];
  /** Timed runs per cut and network (default 3). */
  runs?: number;
  log?: (message: string) => void;
}

/**
 * Device and server are the same 2-core CPU here, so without emulation device-only wins
 * almost everywhere; the emulated device (20× slower, a phone against a server) makes the
 * decision a real contest between split points, as in the paper.
 */
const DEFAULT_SCENARIOS: SplitScenario[] = [
  { id: 'alexnet', deviceSlowdown: 1, every: 1 },
  { id: 'vgg16', deviceSlowdown: 1, every: 4 },
  { id: 'transformer', deviceSlowdown: 1, every: 5 },
  { id: 'alexnet', deviceSlowdown: 20, every: 1 },
  { id: 'transformer', deviceSlowdown: 20, every: 5 }
];
const DEFAULT_NETWORKS: NetworkPresetName[] = ['wifi', 'lte', '3g'];

/** A model that reads a float vector and answers one number: uploads big, downloads small. */
function sumModel(elements: number): Uint8Array {
  const builder = new GraphBuilder('upload_probe');
  const x = builder.input('x', 'float32', [elements]);
  builder.output(builder.op('ReduceSum', [x], { keepdims: 0 }, '/ReduceSum'), 'float32', []);
  return builder.toBytes();
}

async function shapingFigures(connect: (shaper?: LinkShaper) => RemoteExecutor, log: (message: string) => void): Promise<SplitFigure[]> {
  const figures: SplitFigure[] = [];
  const control = connect();
  for (const [name, bodyBytes] of [['lte', 1_500_000], ['3g', 300_000]] as const) {
    const { network } = networkPreset(name);
    const elements = bodyBytes / 4;
    const model = (await control.uploadModel(sumModel(elements), { name: `upload-probe-${elements}` })).name;
    const shaped = connect(new NetworkShaper(network));
    const input = { name: 'x', datatype: 'FP32' as const, shape: [elements], data: new Uint8Array(bodyBytes) };
    await shaped.infer(model, [input]);
    const rates: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { timings } = await shaped.infer(model, [input]);
      const pacedMs = timings.uploadMs - network.rttMs / 2;
      rates.push((timings.bytesUp * 8) / (pacedMs * 1000));
    }
    const achieved = median(rates);
    log(`bench: shaped uplink ${name}: ${achieved.toFixed(3)} Mbps achieved, ${network.uplinkMbps} Mbps preset`);
    const ratio = achieved / network.uplinkMbps;
    figures.push({
      figure: `shaped uplink rate, ${name}, ${(bodyBytes / 1e6).toFixed(1)} MB body: achieved / preset`,
      measured: `${achieved.toFixed(3)} Mbps`,
      baselineOrGoal: `${network.uplinkMbps} Mbps preset`,
      ratio,
      goal: '0.95–1.05',
      met: ratio >= 0.95 && ratio <= 1.05
    });
    await control.unloadModel(model).catch(() => undefined);
  }
  return figures;
}

async function overheadFigure(file: string, id: string): Promise<SplitFigure> {
  const analyzed = await analyzeModelFile(file);
  const runner = await SplitRunner.open(analyzed, { ep: 'cpu' });
  try {
    const prepared = await runner.prepare(runner.nodeCount, null);
    try {
      const runs = 15;
      // Interleaved, so drift in the machine's load hits both alike.
      const split: number[] = [];
      const plain: number[] = [];
      await prepared.measure(null, { runs: 1 });
      for (let i = 0; i < runs; i++) {
        split.push((await prepared.runOnce(null)).timing.totalMs);
        plain.push(...(await runner.timeWholeModel(1, 0)));
      }
      const ratio = median(split) / median(plain);
      return {
        figure: `split machinery overhead, ${id}: cut N through the runner / plain onnxruntime run`,
        measured: `${median(split).toFixed(2)} ms`,
        baselineOrGoal: `${median(plain).toFixed(2)} ms`,
        ratio,
        goal: '≤ 1.05',
        met: ratio <= 1.05
      };
    } finally {
      await prepared.release();
    }
  } finally {
    await runner.release();
  }
}

/**
 * Sweeps one model over `networks` against a running executor and reports decision quality
 * (measured(auto cut) / measured(best cut)) per network and the prediction fidelity; the
 * device's latencies are profiled here, or taken from `scenario.localFile` (a measured
 * profile, or a predicted one from `neurosurgeon predict`, as `run --local` takes it).
 */
export async function decisionFigures(
  analyzed: AnalyzedModel,
  scenario: SplitScenario & { localFile?: string; label?: string; goal?: number },
  connect: (shaper?: LinkShaper) => RemoteExecutor,
  options: { networks: NetworkPresetName[]; runs: number; log: (message: string) => void }
): Promise<SplitFigure[]> {
  const { deviceSlowdown, id } = scenario;
  const { networks, runs, log } = options;
  const goal = scenario.goal ?? 1.03;
  const figures: SplitFigure[] = [];
  const links: LinkChoice[] = networks.map((name) => ({ kind: 'preset', preset: networkPreset(name) }));
  const label = scenario.label ?? (deviceSlowdown === 1 ? id : `${id} (device emulated ${deviceSlowdown}× slower)`);
  const modelStart = performance.now();
  const latencies = await gatherLatencies(analyzed, connect(), {
    ep: 'cpu',
    deviceSlowdown,
    localFile: scenario.localFile,
    profileRuns: 10,
    profileWarmup: 3,
    profileMinMeasureMs: 300,
    onProgress: (m) => log(`bench: ${m}`)
  });
  const swept = await sweepModel({
    analyzed,
    links,
    every: scenario.every,
    runs,
    prune: true,
    ep: 'cpu',
    deviceSlowdown,
    latencies,
    connect,
    onProgress: (m) => log(`bench: ${m}`)
  });
  const measuredCuts = swept.reduce((sum, r) => sum + r.cuts.filter((c) => c.measuredMs !== null).length, 0);
  log(`bench: ${label}: ${measuredCuts} cut × network measurements in ${((performance.now() - modelStart) / 1000).toFixed(0)} s`);
  for (const result of swept) {
    const predicted = result.cuts.find((c) => c.cut === result.predictedBest);
    const best = result.cuts.find((c) => c.cut === result.measuredBest);
    const measuredHere = result.cuts.filter((c) => c.measuredMs !== null).length;
    figures.push({
      figure: `decision quality, ${label} over ${result.network.name}: measured(auto cut ${result.predictedBest}) / measured(best cut ${result.measuredBest}) of ${measuredHere} measured, ${result.cuts.length - measuredHere} pruned`,
      measured: `${(predicted?.measuredMs ?? NaN).toFixed(1)} ms`,
      baselineOrGoal: `${(best?.measuredMs ?? NaN).toFixed(1)} ms`,
      ratio: result.ratio,
      goal: `≤ ${goal}`,
      met: result.ratio <= goal
    });
  }
  const errors = swept.flatMap((r) => r.cuts.filter((c) => c.measuredMs !== null).map((c) => Math.abs(c.predictedMs - (c.measuredMs as number)) / (c.measuredMs as number)));
  const fidelity = median(errors);
  figures.push({
    figure: `prediction fidelity, ${label}: median |predicted − measured| / measured over ${errors.length} measured cuts (${networks.join(', ')})`,
    measured: `${(fidelity * 100).toFixed(1)} %`,
    baselineOrGoal: 'measured totals',
    ratio: fidelity,
    goal: '≤ 0.10',
    met: fidelity <= 0.1
  });
  if (!swept.every((r) => r.outputsOk)) {
    figures.push({ figure: `split outputs, ${label}: some runs differ from the full local run`, measured: 'mismatch', baselineOrGoal: 'full local run', ratio: NaN, goal: 'all match', met: false });
  }
  return figures;
}

/** The split-run figures; starts (and stops) its own executor child process. */
export async function splitFigures(options: SplitBenchOptions = {}): Promise<SplitFigure[]> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const scenarios = options.scenarios ?? DEFAULT_SCENARIOS;
  const networks = options.networks ?? DEFAULT_NETWORKS;
  const runs = options.runs ?? 3;
  const start = performance.now();
  const figures: SplitFigure[] = [];
  log('bench: starting an executor on loopback…');
  const executor = await startExecutorProcess(['--max-concurrency', '1', '--timeout-s', '600', '--max-body-mb', '2048']);
  try {
    const connect = (shaper?: LinkShaper): RemoteExecutor => new ExecutorClient({ url: executor.url, shaper, timeoutMs: 600_000 });
    figures.push(...(await shapingFigures(connect, log)));

    for (const scenario of scenarios) {
      const analyzed = await analyzeModelFile(ensureZooModel(scenario.id, defaultZooDir()));
      figures.push(...(await decisionFigures(analyzed, scenario, connect, { networks, runs, log })));
    }
    for (const id of ['alexnet', 'transformer']) figures.push(await overheadFigure(ensureZooModel(id, defaultZooDir()), id));
    const seconds = (performance.now() - start) / 1000;
    figures.push({
      figure: `split section wall time (${scenarios.length} model scenarios × ${networks.join(', ')}, ${runs} runs per cut, pruned)`,
      measured: `${seconds.toFixed(0)} s`,
      baselineOrGoal: '480 s budget',
      ratio: seconds / 480,
      goal: '≤ 1.0',
      met: seconds <= 480
    });
    log(`bench: split section took ${seconds.toFixed(0)} s`);
  } finally {
    await executor.stop();
  }
  return figures;
}
