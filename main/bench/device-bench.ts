// `npm run bench -- --only device` (issue 17): the figures of upload-once sweeps and of the
// head on a device executor, with real executor child processes on loopback —
//   upload once: AlexNet swept at every cut, VGG-16 at every 4th (time extrapolated to every
//     cut); total time, bytes uploaded, and the time per cut over the time of the timed runs
//     made at that cut (goal ≤ 2), against the old way (every tail uploaded:
//     `uploadOnce: false`), timed on every k-th cut and its bytes counted exactly at every
//     cut from the encoded tails;
//   remote device: a device executor started with `--upstream` (the server) and
//     `--slowdown 8` profiles AlexNet and ResNet-50; per layer type, its time / this
//     machine's profile (goal: 8 within 25 %); then `sweep` with the head on that device,
//     the device→server link shaped (Wi-Fi, LTE, 3G): measured(predicted best) / measured
//     best ≤ 1.10.
import path from 'node:path';
import { median } from '../../app/profiling/trace.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type LatencyProfile } from '../../app/profiling/types.js';
import { networkPreset } from '../../app/partition/presets.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { ExecutorClient } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { profileInChildProcess } from '../profiling/profile-process.js';
import { encodeSplit, splitModel } from '../split/surgery.js';
import { gatherLatencies, profileOn, type LinkChoice } from '../split/split-prediction.js';
import { sweepModel, type SweepResult } from '../split/sweep.js';
import type { BenchFigure } from './figure.js';

const EXECUTOR_ARGS = ['--max-concurrency', '1', '--timeout-s', '600', '--max-body-mb', '2048'];
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Base64 bytes of a Triton upload of `bytes` (what the old way sent per tail). */
const base64Bytes = (bytes: number) => 4 * Math.ceil(bytes / 3);

interface TimedSweep {
  result: SweepResult;
  totalS: number;
  bytesUploaded: number;
  /** Per measured cut: wall time spent on it, and the time of its timed runs. */
  perCut: { cut: number; wallMs: number; timedMs: number }[];
}

/** One sweep, one link (unshaped, so the transfers are the upload's alone), with its per-cut wall times from the progress lines. */
async function timedSweep(url: string, analyzed: AnalyzedModel, every: number, runs: number, uploadOnce: boolean, log: (m: string) => void): Promise<TimedSweep> {
  const clients: ExecutorClient[] = [];
  const connect = (shaper?: LinkShaper) => {
    const client = new ExecutorClient({ url, shaper, timeoutMs: 600_000 });
    clients.push(client);
    return client;
  };
  const marks: { cut: number; at: number }[] = [];
  const start = performance.now();
  const [result] = await sweepModel({
    analyzed,
    links: [{ kind: 'preset', preset: networkPreset('unshaped') }],
    every,
    runs,
    prune: false,
    ep: 'cpu',
    profileRuns: 3,
    profileWarmup: 1,
    uploadOnce,
    connect,
    onProgress: (message) => {
      const match = /^\[\d+\/\d+\] \S+ cut (\d+):/.exec(message);
      if (match) marks.push({ cut: Number(match[1]), at: performance.now() });
      log(`bench: ${message}`);
    }
  });
  const end = performance.now();
  const perCut = marks.map((mark, i) => {
    const cut = result.cuts.find((c) => c.cut === mark.cut);
    return { cut: mark.cut, wallMs: (marks[i + 1]?.at ?? end) - mark.at, timedMs: runs * (cut?.median?.totalMs ?? NaN) };
  });
  return { result, totalS: (end - start) / 1000, bytesUploaded: clients.reduce((sum, c) => sum + c.bytesUploaded, 0), perCut };
}

/** What the old way uploads for a sweep at every cut: the whole model (for the server's profile) and every tail, base64. */
function oldWayBytes(analyzed: AnalyzedModel): number {
  let total = base64Bytes(analyzed.bytes.byteLength);
  const layers = analyzed.analysis.layers.length;
  for (let cut = 0; cut < layers; cut++) {
    const tail = encodeSplit(splitModel(analyzed.model, analyzed.analysis, new Set(Array.from({ length: cut }, (_, i) => i)))).tail;
    total += base64Bytes(tail?.byteLength ?? 0);
  }
  return total;
}

/** The sections' progress lines, when the caller gives no log of its own. */
const logToStderr = (message: string): void => void process.stderr.write(`${message}\n`);

/** Item 3 alone (`--only upload-once`): the sweeps of AlexNet and VGG-16 with the model uploaded once, against every tail uploaded. */
export async function uploadOnceFigures(log: (m: string) => void = logToStderr): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const runs = 5;
  // VGG-16's cuts take about a minute each on this shared 2-core machine (a 550 MB tail built,
  // hashed and opened per cut, then 6 runs of ~1.5 s): swept at every 4th cut after, every
  // 12th before, so the section fits its budget; bytes are counted at every cut either way.
  for (const { id, every, oldEvery } of [
    { id: 'alexnet', every: 1, oldEvery: 4 },
    { id: 'vgg16', every: 4, oldEvery: 12 }
  ]) {
    const analyzed = await analyzeModelFile(ensureZooModel(id, defaultZooDir()));
    const cuts = analyzed.analysis.layers.length + 1;
    // Each way against a fresh executor: nothing kept from before.
    const after = await withExecutor(EXECUTOR_ARGS, (url) => timedSweep(url, analyzed, every, runs, true, log));
    const before = await withExecutor(EXECUTOR_ARGS, (url) => timedSweep(url, analyzed, oldEvery, runs, false, log));
    const oldBytes = oldWayBytes(analyzed);
    const remoteCuts = (t: TimedSweep) => t.perCut.filter((c) => c.cut < cuts - 1);
    const perCutBefore = median(remoteCuts(before).map((c) => c.wallMs));
    const perCutAfter = median(remoteCuts(after).map((c) => c.wallMs));
    const ratios = remoteCuts(after).map((c) => c.wallMs / c.timedMs);
    const worst = Math.max(...ratios);
    const worstCut = remoteCuts(after)[ratios.indexOf(worst)];
    log(`bench: ${id}: each remote cut's wall / timed runs: ${remoteCuts(after).map((c, i) => `${c.cut}: ${ratios[i].toFixed(2)}`).join(', ')}`);
    const typical = median(ratios);
    log(`bench: ${id}: after ${after.totalS.toFixed(0)} s for ${after.perCut.length} cuts, ${mb(after.bytesUploaded)}; before ${before.totalS.toFixed(0)} s for ${before.perCut.length} cuts, ${mb(before.bytesUploaded)}`);
    // Every cut: the profiles, then each cut at its per-cut time (the cuts not swept at the median's).
    const extrapolated = (t: TimedSweep, perCutMs: number) => t.totalS * 1000 - t.perCut.reduce((sum, c) => sum + c.wallMs, 0) + perCutMs * cuts;
    const afterEveryMs = every === 1 ? after.totalS * 1000 : extrapolated(after, perCutAfter);
    const beforeEveryMs = extrapolated(before, perCutBefore);
    figures.push(
      {
        figure: `upload once, ${id} sweep at every cut (${cuts} cuts, ${runs} runs): bytes uploaded after / before`,
        measured: `${mb(after.bytesUploaded)} (measured)`,
        baselineOrGoal: `${mb(oldBytes)} (the model and every tail, base64, counted)`,
        ratio: after.bytesUploaded / oldBytes,
        goal: '≤ 1 model',
        met: after.bytesUploaded <= analyzed.bytes.byteLength
      },
      {
        figure: `upload once, ${id} sweep at every cut: total time after / before (after: ${after.perCut.length} cuts timed${every === 1 ? '' : `, × ${cuts}`}; before: ${before.perCut.length} cuts timed, × ${cuts})`,
        measured: `${(afterEveryMs / 1000).toFixed(0)} s (${(perCutAfter / 1000).toFixed(1)} s per remote cut)`,
        baselineOrGoal: `${(beforeEveryMs / 1000).toFixed(0)} s (${(perCutBefore / 1000).toFixed(1)} s per remote cut)`,
        ratio: afterEveryMs / beforeEveryMs,
        goal: '< 1',
        met: afterEveryMs < beforeEveryMs
      },
      {
        figure: `upload once, ${id}: a cut's wall time / its ${runs} timed runs, worst remote cut (median ${typical.toFixed(2)}; ${(perCutAfter / 1000).toFixed(2)} s per cut)`,
        measured: `cut ${worstCut.cut}: ${(worstCut.wallMs / 1000).toFixed(2)} s for ${(worstCut.timedMs / 1000).toFixed(2)} s of timed runs`,
        baselineOrGoal: 'the timed runs at that cut',
        ratio: worst,
        goal: '≤ 2',
        met: worst <= 2
      }
    );
    if (!after.result.outputsOk || !before.result.outputsOk) {
      figures.push({ figure: `upload once, ${id}: some split outputs differ from the full model`, measured: 'mismatch', baselineOrGoal: 'full local run', ratio: NaN, goal: 'all match', met: false });
    }
  }
  return figures;
}

async function withExecutor<T>(args: string[], work: (url: string) => Promise<T>): Promise<T> {
  const executor = await startExecutorProcess(args);
  try {
    return await work(executor.url);
  } finally {
    await executor.stop();
  }
}

/** Σ per layer type of the layers' medians. */
function byType(profile: LatencyProfile): Map<string, number> {
  const sums = new Map<string, number>();
  for (const layer of profile.layers) sums.set(layer.op, (sums.get(layer.op) ?? 0) + layer.medianMs);
  return sums;
}

/** Item 1 alone (`--only remote-device`): a device executor --slowdown 8 profiled against this machine, and sweeps with the head on it. */
export async function remoteDeviceFigures(log: (m: string) => void = logToStderr): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const slowdown = 8;
  const server = await startExecutorProcess(EXECUTOR_ARGS);
  try {
    const device = await startExecutorProcess([...EXECUTOR_ARGS, '--upstream', server.url, '--slowdown', String(slowdown)]);
    try {
      const deviceClient = new ExecutorClient({ url: device.url, timeoutMs: 600_000, role: 'device executor' });
      const connect = (shaper?: LinkShaper) => new ExecutorClient({ url: server.url, shaper, timeoutMs: 600_000 });
      for (const { id, every } of [
        { id: 'alexnet', every: 1 },
        { id: 'resnet50', every: 6 }
      ]) {
        const file = ensureZooModel(id, defaultZooDir());
        const analyzed = await analyzeModelFile(file);
        const local = await profileInChildProcess(file, { ep: 'cpu', runs: 10, warmup: 3, minMeasureMs: 300, optimization: DEFAULT_GRAPH_OPTIMIZATION });
        const remote = await profileOn(deviceClient, analyzed, { runs: 10, warmup: 3, minMeasureMs: 300 });
        const localTypes = byType(local);
        const remoteTypes = byType(remote);
        for (const [op, localMs] of [...localTypes].sort((a, b) => b[1] - a[1])) {
          if (localMs < 0.05) continue;
          const ratio = (remoteTypes.get(op) ?? NaN) / localMs;
          figures.push({
            figure: `device executor --slowdown ${slowdown}, ${id}, ${op} layers: device profile / this machine's profile`,
            measured: `${(remoteTypes.get(op) ?? NaN).toFixed(2)} ms`,
            baselineOrGoal: `${localMs.toFixed(2)} ms`,
            ratio,
            goal: `${slowdown} ± 25 %`,
            met: Math.abs(ratio / slowdown - 1) <= 0.25
          });
        }
        const links: LinkChoice[] = (['wifi', 'lte', '3g'] as const).map((name) => ({ kind: 'preset', preset: networkPreset(name) }));
        const latencies = await gatherLatencies(analyzed, connect(), { ep: 'cpu', device: deviceClient, profileRuns: 10, profileWarmup: 3, profileMinMeasureMs: 300, onProgress: (m) => log(`bench: ${m}`) });
        const started = performance.now();
        const swept = await sweepModel({ analyzed, links, every, runs: 3, prune: true, ep: 'cpu', latencies, connect, device: deviceClient, onProgress: (m) => log(`bench: ${m}`) });
        log(`bench: ${id} with the head on the device executor: swept in ${((performance.now() - started) / 1000).toFixed(0)} s`);
        for (const result of swept) {
          const measured = result.cuts.filter((c) => c.measuredMs !== null).length;
          figures.push({
            figure: `head on a device executor (${slowdown}× slower), ${id} over ${result.network.name}: measured(predicted cut ${result.predictedBest}) / measured(best cut ${result.measuredBest}) of ${measured} measured, ${result.cuts.length - measured} pruned`,
            measured: `${(result.cuts.find((c) => c.cut === result.predictedBest)?.measuredMs ?? NaN).toFixed(1)} ms`,
            baselineOrGoal: `${(result.cuts.find((c) => c.cut === result.measuredBest)?.measuredMs ?? NaN).toFixed(1)} ms`,
            ratio: result.ratio,
            goal: '≤ 1.10',
            met: result.ratio <= 1.1 && result.outputsOk
          });
        }
      }
    } finally {
      await device.stop();
    }
  } finally {
    await server.stop();
  }
  return figures;
}

/** The device section's figures; starts (and stops) its own executor child processes. */
export async function deviceFigures(options: { log?: (message: string) => void } = {}): Promise<BenchFigure[]> {
  const log = options.log ?? logToStderr;
  const start = performance.now();
  const figures = [...(await remoteDeviceFigures(log)), ...(await uploadOnceFigures(log))];
  log(`bench: device section in ${((performance.now() - start) / 1000).toFixed(0)} s (${path.basename(defaultZooDir())})`);
  return figures;
}
