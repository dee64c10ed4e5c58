// `npm run bench -- --only predict` (issue 19): predictions that hold on modern
// architectures. One characterisation of this CPU (the default budget, or `--device
// FILE`), then for every model of ../shared/real-models/ and of the zoo: whole runs at
// both optimisation levels (two plain sessions timed in alternating blocks, wall time and
// this process's CPU time) against the prediction for that level (kernels at 'all', from
// resources/fusion-rules.json; layers at 'disabled'): the share within ±10 %, the median
// and worst error per level, and at 'all' the fusion-free layer-by-layer prediction of
// before beside it; the characterisation's cross-validated median error per layer type;
// the median per-layer error per type of the real exports' layers at 'disabled'; and the
// decision quality of split runs with `--local` from a `predict`ed profile on
// EfficientNet-B0 and MobileNetV3 with the device emulated 20× slower
// (main/bench/split-bench.ts's decisionFigures, against a real executor child process).
//
// `--measured-cache DIR` keeps the measured runs between runs (for working on the
// predictor; the figures of a report are made without it).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAYER_TYPE_FEATURES, layerFeatures, type LayerType } from '../../app/prediction/features.js';
import { fitDeviceModels, fitLayerType, layerTypeErrors, predictWithFit, selectFit } from '../../app/prediction/regression.js';
import { effectiveError, effectiveMedianError } from '../../app/prediction/local-correction.js';
import { HOT_WEIGHT_SAVING_CAP, MIN_STREAMING_PROBES, predictProfile, STREAMED_FC_MIN_BYTES, streamedFcRates, weightStreamingBytesPerMs, wholeModelEstimateMs } from '../../app/prediction/predict.js';
import { median } from '../../app/profiling/trace.js';
import type { DeviceProfile, GraphOptimization, LatencyProfile, RegressionFit } from '../../app/profiling/types.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { listRealModels } from '../model/real-models.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { defaultZooDir } from '../files/paths.js';
import { benchDeviceProfile } from './bench-device.js';
import { followFastestCpus } from '../profiling/cpu-affinity.js';
import { readFusionRules } from '../profiling/fusion-probe.js';
import { profileModel } from '../profiling/profiler.js';
import type { BenchFigure } from './figure.js';
import { decisionFigures } from './split-bench.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import { ExecutorClient } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { writeProfileFile } from '../profiling/profiler.js';
import * as ort from 'onnxruntime-node';
import { generateInputs } from '../model/inputs.js';
import { modelIdentity } from '../model/model-file.js';
import { runSessionOptions, sessionOptionsFor } from '../profiling/providers.js';
import { withPrepackingFor } from '../model/prepacking.js';
import { retimeHotWeights, retimeSamples, type RetimedSample } from '../profiling/characterize.js';
import { typicalRunMs } from '../profiling/profiler.js';

const ZOO_MODELS = ['alexnet', 'vgg16', 'deepface', 'lenet', 'kaldi-asr', 'senna-pos', 'senna-ner', 'senna-chk', 'resnet18', 'resnet50', 'mobilenet-v2', 'squeezenet1.1', 'googlenet', 'transformer', 'transformer-large'];
const LEVELS: readonly GraphOptimization[] = ['all', 'disabled'];
const PROFILE_MIN_MEASURE_MS = 300;
const WARMUP_RUNS = 3;
/**
 * Warm-up per level, at least: a µs-scale model's first few hundred runs take up to twice
 * its later ones (the JavaScript side of session.run not yet compiled, caches not yet
 * filled), and three runs of SENNA's 20 µs are not a warm-up.
 */
const WARMUP_MS = 200;
const MIN_RUNS = 10;
const MIN_TIMED_MS = 400;
/** Rounds over all the models the whole runs are spread across (MIN_TIMED_MS per level in each). */
const WHOLE_ROUNDS = 4;
const WITHIN = 0.1;
const DECISION_MODELS = ['efficientnet_b0', 'mobilenet_v3_small'];
const DEVICE_SLOWDOWN = 20;

export interface PredictBenchOptions {
  budgetS: number;
  deviceFile: string | null;
  measuredCache: string | null;
}

function benchMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms.toPrecision(3);
}

/** The 1-minute load average: this project's machine is shared, and these are timings. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
  } catch {
    return '?';
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

/** A model's two sessions (the executor's options, one per level), warmed up, and its runs so far. */
interface WholeSessions {
  sessions: ort.InferenceSession[];
  feeds: Record<string, ort.Tensor>;
  /** Runs timed back to back per block, about 20 ms of them. */
  block: number;
  times: number[][];
  cpuTimes: number[][];
  /** Per level, each round's typical run. */
  roundTypicals: number[][];
}

async function openWhole(analyzed: AnalyzedModel): Promise<WholeSessions> {
  const choice = await sessionOptionsFor('cpu');
  const feeds = generateInputs(analyzed.model, { seed: 1 });
  const sessions = await Promise.all(LEVELS.map((level) => ort.InferenceSession.create(analyzed.path, withPrepackingFor(runSessionOptions(choice, level), analyzed.model))));
  const open: WholeSessions = { sessions, feeds, block: 1, times: LEVELS.map(() => []), cpuTimes: LEVELS.map(() => []), roundTypicals: LEVELS.map(() => []) };
  let typical = 0;
  for (let k = 0; k < sessions.length; k++) {
    const start = performance.now();
    for (let i = 0; i < WARMUP_RUNS || performance.now() - start < WARMUP_MS; i++) {
      const ms = await timeWholeRun(open, k, false);
      if (i < WARMUP_RUNS) typical = Math.max(typical, ms);
    }
  }
  open.block = Math.max(1, Math.min(20, Math.round(20 / Math.max(typical, 0.05))));
  return open;
}

async function timeWholeRun(open: WholeSessions, k: number, record: boolean): Promise<number> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await open.sessions[k].run(open.feeds);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  if (record) {
    open.times[k].push(ms);
    open.cpuTimes[k].push((used.user + used.system) / 1000);
  }
  return ms;
}

/**
 * One round of a model, after an untimed run of each level: the levels in alternating blocks
 * until each has MIN_TIMED_MS more of runs (at least a round's share of MIN_RUNS), however
 * many runs that takes: a round of a µs-scale model capped at a number of runs lasted 2–3 ms,
 * short enough for one spell of another process's load to cover it whole.
 */
async function wholeRound(open: WholeSessions): Promise<void> {
  // One untimed run per level first: the models timed before this one left the caches cold, which a model run back to back does
  // not meet (VGG-16's first run of a round took 188 ms where the next three took 164–174).
  for (let k = 0; k < open.sessions.length; k++) await timeWholeRun(open, k, false);
  const from = open.times.map((t) => t.length);
  const timedMs = LEVELS.map(() => 0);
  const short = (k: number): boolean => open.times[k].length - from[k] < Math.ceil(MIN_RUNS / WHOLE_ROUNDS) || timedMs[k] < MIN_TIMED_MS;
  for (let block = 0; LEVELS.some((_, k) => short(k)); block++) {
    for (const k of block % 2 === 0 ? [0, 1] : [1, 0]) for (let i = 0; i < open.block; i++) timedMs[k] += await timeWholeRun(open, k, true);
  }
}

/**
 * Typical whole runs per level, ms of wall time (the figure), and of this process's CPU
 * time (user + system, onnxruntime's one intra-op thread included): on a machine other
 * processes load, preemption stretches the wall time of a run and not its CPU time.
 */
type WholeRuns = Record<GraphOptimization, number> & {
  cpu: Record<GraphOptimization, number>;
  /** Each round's typical run per level (absent from runs cached before they were kept). */
  rounds?: Record<GraphOptimization, number[]>;
};

/**
 * Whole runs of every model at both levels, in WHOLE_ROUNDS rounds over all the models:
 * each model's sessions open at once and warmed up, then each round times every model in
 * turn, its levels in alternating blocks (MIN_TIMED_MS of runs each), so a burst of load
 * from another process lands on a share of every model's runs, not on all of one model's,
 * and both levels alike. Each level's typical run (mean of the middle half, as profiles
 * take it) over all rounds, and each round's own (the quietest round's is a figure too).
 * Runs kept in `cache` (--measured-cache) are read, not measured.
 */
async function measuredWholeRuns(models: readonly { id: string; analyzed: AnalyzedModel }[], cache: string | null): Promise<Map<string, WholeRuns>> {
  const runs = new Map<string, WholeRuns>();
  // whole4: rounds of MIN_TIMED_MS whatever their count of runs, each after an untimed run (whole2's stopped at 100 runs, whole3's had no untimed run).
  const cachedFile = (id: string): string | null => (cache ? path.join(cache, `${id}.whole4.json`) : null);
  const toMeasure: { id: string; open: WholeSessions }[] = [];
  try {
    for (const { id, analyzed } of models) {
      const file = cachedFile(id);
      if (file && existsSync(file)) runs.set(id, JSON.parse(readFileSync(file, 'utf8')) as WholeRuns);
      else toMeasure.push({ id, open: await openWhole(analyzed) });
    }
    for (let round = 0; round < WHOLE_ROUNDS && toMeasure.length > 0; round++) {
      process.stderr.write(`bench: whole runs at all and disabled, interleaved, round ${round + 1} of ${WHOLE_ROUNDS} over ${toMeasure.length} models…\n`);
      for (const { open } of toMeasure) {
        const from = open.times.map((t) => t.length);
        // A look before every model's round (about 20 ms on two CPUs), not at most every 2 s: a µs-scale model's round lasts under a second.
        followFastestCpus({ force: true });
        await wholeRound(open);
        open.roundTypicals.forEach((typicals, k) => typicals.push(typicalRunMs(open.times[k].slice(from[k]))));
      }
    }
    for (const { id, open } of toMeasure) {
      const whole: WholeRuns = { all: typicalRunMs(open.times[0]), disabled: typicalRunMs(open.times[1]), cpu: { all: typicalRunMs(open.cpuTimes[0]), disabled: typicalRunMs(open.cpuTimes[1]) }, rounds: { all: open.roundTypicals[0], disabled: open.roundTypicals[1] } };
      runs.set(id, whole);
      const file = cachedFile(id);
      if (file) writeFileSync(file, JSON.stringify(whole));
    }
  } finally {
    for (const { open } of toMeasure) for (const session of open.sessions) await session.release();
  }
  return runs;
}

/** A per-layer profile at 'disabled' (each layer its own kernel), for the per-type layer errors. */
async function layerProfile(id: string, analyzed: AnalyzedModel, cache: string | null): Promise<LatencyProfile> {
  const cached = cache ? path.join(cache, `${id}.disabled-layers.json`) : null;
  if (cached && existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as LatencyProfile;
  const profile = await profileModel(analyzed, { ep: 'cpu', runs: 20, warmup: 3, minMeasureMs: PROFILE_MIN_MEASURE_MS, optimization: 'disabled' });
  if (cached) writeFileSync(cached, JSON.stringify(profile));
  return profile;
}

interface ModelResult {
  id: string;
  real: boolean;
  level: GraphOptimization;
  measuredMs: number;
  /** The same runs' CPU time. */
  cpuMs: number;
  /** The quietest round's typical run (null for runs cached before rounds were kept). */
  quietestMs: number | null;
  predictedMs: number;
  /** The fusion-free prediction (every layer its own kernel). */
  layerwiseMs: number;
  error: number;
}

/** now / characterised of each retimed layer. */
const retimedRatios = (retimed: readonly RetimedSample[]): number[] => retimed.map((r) => r.nowMs / r.characterisedMs);

/**
 * Layers timed again before and after the measured runs against their characterised times:
 * the median ratio over both sides, and how each side reads. Null when none were timed again.
 */
function retimedDrift(before: readonly RetimedSample[], after: readonly RetimedSample[]): { factor: number; sides: string } | null {
  const all = [...retimedRatios(before), ...retimedRatios(after)];
  if (all.length === 0) return null;
  const side = (retimed: readonly RetimedSample[]) => (retimed.length ? `×${median(retimedRatios(retimed)).toFixed(3)}` : 'none');
  return { factor: median(all), sides: `before the runs ${side(before)}, after ${side(after)}` };
}

/**
 * The machine's speed while the models were measured against while it was characterised:
 * sweep layers timed again before and after the measured runs (retimeSamples), the median of
 * now / characterised over both. Null when none were timed again.
 */
function driftFigure(before: readonly RetimedSample[], after: readonly RetimedSample[]): { factor: number; figure: BenchFigure } | null {
  const drift = retimedDrift(before, after);
  if (!drift) return null;
  const perLayer = (retimed: readonly RetimedSample[]) => retimedRatios(retimed).map((r) => r.toFixed(2)).join(' ');
  return {
    factor: drift.factor,
    figure: {
      figure: `machine speed drift: ${before.length} sweep layers (${[...new Set(before.map((r) => r.layerType))].join(', ')}) timed again before and after the measured runs / as characterised`,
      measured: `×${drift.factor.toFixed(3)} (${drift.sides}; per layer ${perLayer(before)} | ${perLayer(after)})`,
      baselineOrGoal: 'the characterisation',
      ratio: drift.factor,
      goal: 'within ±5 % (a machine whose speed holds)',
      met: Math.abs(drift.factor - 1) <= 0.05
    }
  };
}

/**
 * The cold-weight probes' FC layers timed alone again (weights kept in the core's cache) /
 * as characterised: models whose weights fit that cache (LeNet, the SENNA taggers) slow down
 * with it when other tenants of the cores' caches evict them, which the sweep's layers (timed
 * as copies, weights cold) do not show. Reported, not applied to the predictions.
 */
function hotWeightDriftFigure(before: readonly RetimedSample[], after: readonly RetimedSample[]): BenchFigure | null {
  const drift = retimedDrift(before, after);
  if (!drift) return null;
  return {
    figure: `hot-weight drift: ${before.length} FC layers of 0.25–2.3 MiB timed alone again (weights kept in the core's cache, as small models keep theirs) / as characterised`,
    measured: `×${drift.factor.toFixed(3)} (${drift.sides})`,
    baselineOrGoal: 'the characterisation',
    ratio: drift.factor,
    goal: 'within ±5 % (a core cache whose share holds)',
    met: Math.abs(drift.factor - 1) <= 0.05
  };
}

function shareFigures(results: ModelResult[], level: GraphOptimization, drift: number | null = null): BenchFigure[] {
  const ofLevel = results.filter((r) => r.level === level);
  if (ofLevel.length === 0) return [];
  const errors = ofLevel.map((r) => Math.abs(r.error));
  const within = errors.filter((e) => e <= WITHIN).length / errors.length;
  const worst = ofLevel.reduce((a, b) => (Math.abs(b.error) > Math.abs(a.error) ? b : a));
  const detail = ofLevel.map((r) => `${r.id} ${r.error >= 0 ? '+' : ''}${(r.error * 100).toFixed(0)}%`).join(', ');
  const figures: BenchFigure[] = [
    {
      figure: `prediction at ${level}: share of ${ofLevel.length} models (${ofLevel.filter((r) => r.real).length} real exports + zoo) within ±10 % of the measured whole run`,
      measured: `${pct(within)} (load ${loadAverage()}; median error ${pct(median(errors))}, worst ${worst.id} ${(worst.error * 100).toFixed(1)} %; ${detail})`,
      baselineOrGoal: '95 % goal',
      ratio: within,
      goal: '≥ 0.95',
      met: within >= 0.95
    }
  ];
  const cpuErrors = ofLevel.map((r) => Math.abs(r.predictedMs - r.cpuMs) / r.cpuMs);
  const cpuWithin = cpuErrors.filter((e) => e <= WITHIN).length / cpuErrors.length;
  figures.push({
    figure: `prediction at ${level}: the same against the runs' CPU time (preemption by other processes left out)`,
    measured: `${pct(cpuWithin)} within ±10 % (median error ${pct(median(cpuErrors))}; wall / CPU time of the runs: median ${median(ofLevel.map((r) => r.measuredMs / r.cpuMs)).toFixed(2)}; ${ofLevel.map((r) => `${r.id} ${r.predictedMs >= r.cpuMs ? '+' : ''}${(((r.predictedMs - r.cpuMs) / r.cpuMs) * 100).toFixed(0)}%`).join(', ')})`,
    baselineOrGoal: '95 % goal',
    ratio: cpuWithin,
    goal: '≥ 0.95',
    met: cpuWithin >= 0.95
  });
  const quiet = ofLevel.filter((r): r is ModelResult & { quietestMs: number } => r.quietestMs !== null);
  if (quiet.length === ofLevel.length) {
    // The characterisation keeps the lowest of its passes (a burst of load only slows a run
    // down); a burst that covers some rounds of a model's runs is left out the same way here.
    const quietErrors = quiet.map((r) => (r.predictedMs - r.quietestMs) / r.quietestMs);
    const quietWithin = quietErrors.filter((e) => Math.abs(e) <= WITHIN).length / quietErrors.length;
    figures.push({
      figure: `prediction at ${level}: the same against each model's quietest round (the lowest of its ${WHOLE_ROUNDS} rounds' typical runs)`,
      measured: `${pct(quietWithin)} within ±10 % (median error ${pct(median(quietErrors.map(Math.abs)))}; quietest / all rounds: median ${median(quiet.map((r) => r.quietestMs / r.measuredMs)).toFixed(2)}; ${quiet.map((r, i) => `${r.id} ${quietErrors[i] >= 0 ? '+' : ''}${(quietErrors[i] * 100).toFixed(0)}%`).join(', ')})`,
      baselineOrGoal: '95 % goal',
      ratio: quietWithin,
      goal: '≥ 0.95',
      met: quietWithin >= 0.95
    });
  }
  if (drift !== null) {
    // The predictor's own error: each prediction scaled by how much slower (or faster) the machine ran while the models were measured.
    const scaled = ofLevel.map((r) => (r.predictedMs * drift - r.measuredMs) / r.measuredMs);
    const scaledWithin = scaled.filter((e) => Math.abs(e) <= WITHIN).length / scaled.length;
    figures.push({
      figure: `prediction at ${level}: the same with each prediction × the machine's drift (${drift.toFixed(3)})`,
      measured: `${pct(scaledWithin)} within ±10 % (median error ${pct(median(scaled.map(Math.abs)))}; ${ofLevel.map((r, i) => `${r.id} ${scaled[i] >= 0 ? '+' : ''}${(scaled[i] * 100).toFixed(0)}%`).join(', ')})`,
      baselineOrGoal: '95 % goal',
      ratio: scaledWithin,
      goal: '≥ 0.95',
      met: scaledWithin >= 0.95
    });
  }
  if (level === 'all') {
    const layerwise = ofLevel.map((r) => Math.abs(r.layerwiseMs - r.measuredMs) / r.measuredMs);
    const layerwiseWithin = layerwise.filter((e) => e <= WITHIN).length / layerwise.length;
    figures.push({
      figure: `prediction at all: median whole-model error, kernels (fusion rules) / layers alone (before)`,
      measured: `${pct(median(errors))} with kernels (${pct(within)} within ±10 %)`,
      baselineOrGoal: `${pct(median(layerwise))} layer by layer (${pct(layerwiseWithin)} within ±10 %)`,
      ratio: median(errors) / median(layerwise),
      goal: '< 1.0',
      met: median(errors) < median(layerwise)
    });
  }
  return figures;
}

/** The features of the types issue 19 changed, as they were before it (git 1a14737). */
const FEATURES_BEFORE: Readonly<Partial<Record<LayerType, readonly string[]>>> = {
  depthwiseConv: ['inputSize', 'filterStrideSquaredTimesFilters', 'macs'],
  matmul: ['macs'],
  elementwise: ['neurons'],
  dataMovement: ['bytes', 'copiedBytes', 'transposedBytes', 'copies']
};
const CONV_FEATURES_BEFORE = ['inputSize', 'filterStrideSquaredTimesFilters', 'macs', 'im2colElements'];

/**
 * Per type whose features changed: the cross-validated median error with the features of
 * before and of now, on the same samples of this characterisation (so the machine's load
 * is the same for both); grouped convs, a type of their own now, were conv layers before:
 * their error before is that of the conv fit (old features, the conv samples) on them.
 */
export function featureFigures(device: DeviceProfile): BenchFigure[] {
  const figures: BenchFigure[] = [];
  const samples = device.samples.filter((s) => (s.level ?? 'disabled') === 'disabled');
  const now = new Map(layerTypeErrors(samples, fitDeviceModels(samples)).filter((e) => e.level === undefined).map((e) => [e.layerType, e]));
  const before = new Map(layerTypeErrors(samples, fitDeviceModels(samples, { ...LAYER_TYPE_FEATURES, ...FEATURES_BEFORE }), { ...LAYER_TYPE_FEATURES, ...FEATURES_BEFORE }).filter((e) => e.level === undefined).map((e) => [e.layerType, e.medianError]));
  // Grouped convs as conv layers: features of before, from each configuration's key (c, hw, k, s, f, g).
  const grouped = samples.flatMap((s) => {
    const match = s.layerType === 'groupedConv' ? /c=(\d+) hw=(\d+) k=(\d+) s=(\d+) f=(\d+) g=(\d+)/.exec(s.config) : null;
    if (!match) return [];
    const [, , , k, stride, f] = match.map(Number);
    return [{ ...s, features: { ...s.features, filterStrideSquaredTimesFilters: ((k * k) / (stride * stride)) * f } }];
  });
  const convFits = fitLayerType('conv', CONV_FEATURES_BEFORE, samples.filter((s) => s.layerType === 'conv'), 'macs');
  if (grouped.length > 0 && convFits.length > 0) {
    before.set('groupedConv', median(grouped.map((s) => Math.abs(predictWithFit(selectFit(convFits, s.features) as RegressionFit, s.features) - s.ms) / Math.max(s.ms, 0.002))));
  }
  for (const [type, was] of before) {
    const is = now.get(type);
    if (!is || !(type in FEATURES_BEFORE || type === 'groupedConv')) continue;
    figures.push({
      figure: `characterisation: cross-validated median error of ${type}, features of now / of before (same ${is.samples} samples)`,
      measured: pct(is.medianError),
      baselineOrGoal: `${pct(was)} before${type === 'groupedConv' ? ' (as conv layers, by the conv fit)' : ''}`,
      ratio: is.medianError / was,
      goal: '≤ 1.0',
      met: is.medianError <= was
    });
  }
  return figures;
}

/**
 * What fusion and the NCHWc kernels are worth, predicted against measured: per model,
 * (predicted all / predicted disabled) / (measured all / measured disabled). The two
 * levels' runs were interleaved, so the machine's load cancels from the measured ratio.
 */
function levelRatioFigure(results: ModelResult[]): BenchFigure {
  const ratios = [...new Set(results.map((r) => r.id))].flatMap((id) => {
    const all = results.find((r) => r.id === id && r.level === 'all');
    const disabled = results.find((r) => r.id === id && r.level === 'disabled');
    return all && disabled ? [{ id, ratio: all.predictedMs / disabled.predictedMs / (all.measuredMs / disabled.measuredMs) }] : [];
  });
  const errors = ratios.map((r) => Math.abs(r.ratio - 1));
  const within = errors.filter((e) => e <= WITHIN).length / Math.max(1, errors.length);
  return {
    figure: 'fusion at all: (predicted all / disabled) / (measured all / disabled), models within ±10 %',
    measured: `${pct(within)} (median |ratio − 1| ${pct(median(errors))}; ${ratios.map((r) => `${r.id} ${r.ratio.toFixed(2)}`).join(', ')})`,
    baselineOrGoal: 'measured levels interleaved',
    ratio: within,
    goal: '≥ 0.95',
    met: within >= 0.95
  };
}

/** Per layer type: the median |predicted − measured| / measured over the real exports' layers at 'disabled' (each layer its own kernel). */
function perTypeLayerErrors(pairs: { analyzed: AnalyzedModel; measured: LatencyProfile; predicted: LatencyProfile }[]): Map<string, number[]> {
  const byType = new Map<string, number[]>();
  for (const { analyzed, measured, predicted } of pairs) {
    for (const layer of analyzed.analysis.layers) {
      const type = layerFeatures(layer, analyzed.analysis, analyzed.model.graph)?.layerType ?? 'roofline';
      const ms = measured.layers[layer.index]?.medianMs ?? 0;
      if (ms < 0.005) continue;
      byType.set(type, [...(byType.get(type) ?? []), Math.abs(predicted.layers[layer.index].medianMs - ms) / ms]);
    }
  }
  return byType;
}

export async function predictFigures(options: PredictBenchOptions): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  const rules = await readFusionRules();
  if (!rules) process.stderr.write('bench: resources/fusion-rules.json is missing (neurosurgeon fusion-rules writes it); predictions at all fuse nothing\n');
  if (options.measuredCache) mkdirSync(options.measuredCache, { recursive: true });

  const { device, characterizeSeconds: seconds } = await benchDeviceProfile(options);
  if (seconds !== null) {
    figures.push({
      figure: `characterisation time / budget (${device.configurations} configurations, samples per type: ${(device.typeErrors ?? []).map((t) => `${t.layerType}${t.level ? ` @${t.level}` : ''} ${t.samples} (${t.adaptiveSamples} adaptive)`).join(', ')})`,
      measured: `${seconds.toFixed(0)} s`,
      baselineOrGoal: `${options.budgetS} s budget`,
      ratio: seconds / options.budgetS,
      goal: '≤ 1.1 (bounded)',
      met: seconds <= options.budgetS * 1.1
    });
  }
  // The calibrations that move small models' predictions between runs, kept with the figures.
  figures.push({
    figure: `characterisation: cold-weight cost and the core's cache (a model whose weights fit the cache has it taken off, all of it up to half the cache and less as they fill it, at most ${HOT_WEIGHT_SAVING_CAP * 100} % of a layer)`,
    measured: device.coldWeightMsPerByte === undefined ? 'not calibrated' : `${(device.coldWeightMsPerByte * 2 ** 20).toFixed(4)} ms per MiB`,
    baselineOrGoal: device.coreCacheBytes ? `${(device.coreCacheBytes / 2 ** 20).toFixed(1)} MiB core cache` : 'core cache unknown',
    ratio: device.coldWeightMsPerByte ?? NaN,
    goal: 'report',
    met: true
  });
  // Calibrations of a cost per kernel, in µs.
  const perKernel = (figure: string, ms: number | undefined, use: string): BenchFigure => ({
    figure: `characterisation: ${figure}`,
    measured: ms === undefined ? 'not calibrated' : `${(ms * 1000).toFixed(3)} µs per kernel`,
    baselineOrGoal: use,
    ratio: ms ?? NaN,
    goal: 'report',
    met: true
  });
  figures.push(
    perKernel('one kernel of shape arithmetic (Shape, Gather, Concat, … on a few integers) inside a network, the probe network against the same network without it', device.shapeArithmeticMsPerKernel, "given to each such layer in place of its type's fit"),
    perKernel('what a kernel timed alone pays that it does not inside a network (probe ops alone, as the sweep times them, against their cost in a chain run whole)', device.loneKernelExcessMs, 'kept on the first layer of each op in a run, taken off the others, shared among the copies the sweep timed')
  );
  const streamedRates = streamedFcRates(device).map((bytesPerMs) => bytesPerMs / 1e6);
  const probeRates = (device.streamingProbes ?? []).map((probe) => probe.bytesPerMs / 1e6);
  const streamingRate = weightStreamingBytesPerMs(device);
  const probed = probeRates.length >= MIN_STREAMING_PROBES;
  const listed = (rates: number[]): string => rates.map((rate) => rate.toFixed(1)).join(', ');
  figures.push({
    figure: `characterisation: the memory's streaming rate for one-row FC weights beyond any cache (${probed ? `the median of ${probeRates.length} probes of a 144 MiB layer spread over the sweep` : `the median of ${streamedRates.length} layers of over ${STREAMED_FC_MIN_BYTES / 2 ** 20} MiB`}; streamed FC layers are floored at it)`,
    measured:
      streamingRate === null
        ? 'none timed'
        : `${(streamingRate / 1e6).toFixed(1)} GB/s (${probed ? `probes ${Math.min(...probeRates).toFixed(1)}–${Math.max(...probeRates).toFixed(1)} GB/s; ` : ''}the sweep's FC layers, each its quieter pass: ${listed(streamedRates)} GB/s)`,
    baselineOrGoal: 'report',
    ratio: probed ? Math.max(...probeRates) / Math.min(...probeRates) : streamedRates.length ? Math.max(...streamedRates) / Math.min(...streamedRates) : 1,
    goal: `report (ratio: fastest / slowest ${probed ? 'probe' : 'layer'})`,
    met: true
  });
  for (const [factors, where] of [
    [device.contextFactors, "the generated networks (at 'disabled')"],
    [device.contextFactorsAtAll, "the full-size generated networks at 'all' (taken there in place of the first)"]
  ] as const) {
    const context = Object.entries(factors ?? {});
    figures.push({
      figure: `characterisation: context factors (how much slower each type runs inside ${where} than alone; predictions multiply its layers up to the size found by it)`,
      measured: context.length ? context.map(([type, entry]) => `${type} ×${(entry?.factor ?? 1).toFixed(2)}`).join(', ') : 'none',
      baselineOrGoal: 'at least 1 each',
      ratio: Math.max(1, ...context.map(([, entry]) => entry?.factor ?? 1)),
      goal: 'report',
      met: true
    });
  }
  figures.push(...featureFigures(device));
  for (const t of device.typeErrors ?? []) {
    figures.push({
      figure: `characterisation: cross-validated median error of ${t.layerType}${t.level ? ` kernels at ${t.level}` : ''} (${t.samples} samples, ${t.adaptiveSamples} adaptive), as predictions make it`,
      measured: t.corrected ? `${pct(t.corrected.medianError)} locally corrected (fit alone ${pct(t.medianError)})` : pct(t.medianError),
      baselineOrGoal: `mean ${pct(effectiveError(t).meanError)}`,
      ratio: effectiveMedianError(t),
      goal: '≤ 0.25',
      met: effectiveMedianError(t) <= 0.25
    });
  }

  const models = [
    ...listRealModels().map((m) => ({ id: m.name, file: m.file, real: true })),
    ...ZOO_MODELS.map((id) => ({ id, file: ensureZooModel(id, defaultZooDir()), real: false }))
  ];
  const results: ModelResult[] = [];
  const layerPairs: { analyzed: AnalyzedModel; measured: LatencyProfile; predicted: LatencyProfile }[] = [];
  const analyzedModels = [];
  for (const model of models) analyzedModels.push({ ...model, analyzed: await analyzeModelFile(model.file) });
  // Runs kept from an earlier bench (--measured-cache) were not measured now: no drift is measured against them.
  const retimedBefore = options.measuredCache ? [] : await retimeSamples(device);
  const hotBefore = options.measuredCache ? [] : await retimeHotWeights(device);
  const wholeRuns = await measuredWholeRuns(analyzedModels, options.measuredCache);
  const retimedAfter = options.measuredCache ? [] : await retimeSamples(device);
  const hotAfter = options.measuredCache ? [] : await retimeHotWeights(device);
  for (const { analyzed, ...model } of analyzedModels) {
    const whole = wholeRuns.get(model.id) as WholeRuns;
    const identity = modelIdentity(analyzed);
    const layerwise = predictProfile(analyzed.analysis, analyzed.model, device, identity, { optimization: 'disabled', rules });
    for (const level of LEVELS) {
      const predicted = level === 'disabled' ? layerwise : predictProfile(analyzed.analysis, analyzed.model, device, identity, { optimization: level, rules });
      const predictedMs = wholeModelEstimateMs(predicted);
      results.push({ id: model.id, real: model.real, level, measuredMs: whole[level], cpuMs: whole.cpu[level], quietestMs: whole.rounds?.[level].length ? Math.min(...whole.rounds[level]) : null, predictedMs, layerwiseMs: wholeModelEstimateMs(layerwise), error: (predictedMs - whole[level]) / whole[level] });
    }
    if (model.real) {
      process.stderr.write(`bench: ${model.id}: per-layer profile at disabled…\n`);
      layerPairs.push({ analyzed, measured: await layerProfile(model.id, analyzed, options.measuredCache), predicted: layerwise });
    }
  }
  const drift = driftFigure(retimedBefore, retimedAfter);
  if (drift) figures.push(drift.figure);
  const hotDrift = hotWeightDriftFigure(hotBefore, hotAfter);
  if (hotDrift) figures.push(hotDrift);
  for (const level of LEVELS) figures.push(...shareFigures(results, level, drift?.factor ?? null));
  figures.push(levelRatioFigure(results));
  try {
    figures.push(...(await predictedDecisionFigures(device, rules)));
  } catch (error) {
    figures.push({ figure: 'decision quality with --local from predict', measured: `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, baselineOrGoal: '—', ratio: NaN, goal: '≤ 1.05', met: false });
  }
  for (const [type, errors] of [...perTypeLayerErrors(layerPairs)].sort()) {
    const m = median(errors);
    figures.push({
      figure: `prediction at disabled: median per-layer error of the real exports' ${type} layers (${errors.length} layers)`,
      measured: pct(m),
      baselineOrGoal: 'measured per layer',
      ratio: m,
      goal: '≤ 0.25',
      met: m <= 0.25
    });
  }
  return figures;
}

/**
 * Decision quality from a prediction: `neurosurgeon predict` on EfficientNet-B0 and
 * MobileNetV3 (at 'all', what the executor and split runs use) written to a file and given
 * to the sweep as `--local`, with the device emulated DEVICE_SLOWDOWN× slower; the server
 * side is the executor's own profile. Goal: measured(auto cut) / measured(best cut) ≤ 1.05.
 */
async function predictedDecisionFigures(device: DeviceProfile, rules: Awaited<ReturnType<typeof readFusionRules>>): Promise<BenchFigure[]> {
  const models = listRealModels().filter((m) => DECISION_MODELS.includes(m.name));
  if (models.length === 0) return [];
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  const folder = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-bench-predict-'));
  const executor = await startExecutorProcess(['--max-concurrency', '1', '--timeout-s', '600', '--max-body-mb', '2048']);
  const figures: BenchFigure[] = [];
  try {
    const connect = (shaper?: LinkShaper): RemoteExecutor => new ExecutorClient({ url: executor.url, shaper, timeoutMs: 600_000 });
    for (const model of models) {
      const analyzed = await analyzeModelFile(model.file);
      const localFile = path.join(folder, `${model.name}.predicted.json`);
      writeProfileFile(localFile, predictProfile(analyzed.analysis, analyzed.model, device, modelIdentity(analyzed), { optimization: 'all', rules }));
      const every = Math.max(1, Math.round(analyzed.analysis.layers.length / 10));
      figures.push(
        ...(await decisionFigures(analyzed, { id: model.name, deviceSlowdown: DEVICE_SLOWDOWN, every, localFile, goal: 1.05, label: `${model.name} with --local from predict (device emulated ${DEVICE_SLOWDOWN}× slower)` }, connect, { networks: ['wifi', 'lte', '3g'], runs: 3, log }))
      );
    }
  } finally {
    await executor.stop();
    rmSync(folder, { recursive: true, force: true });
  }
  return figures;
}

export { benchMs };
