// `neurosurgeon sweep`: measures real split runs at many cuts (0, K, 2K, …, N and the
// predicted best) beside the prediction `run --cut auto` makes, to judge the decision —
// ratio = measured(predicted best) / measured(measured best), 1 when the prediction
// picked the fastest cut. Several links can be swept in one pass (the bench does), so each
// cut is cut, uploaded and opened once. With pruning, cuts are measured in order of
// predicted total and a cut is skipped for a link when its shaped transfer time alone —
// a hard lower bound — already exceeds the best total measured there. With `dag`, the DAG
// min-cut partition of each link is measured too, beside the best topological cut. With a
// wire encoding (issue 16, `sweep --encoding NAME|auto`), each swept cut is also run with its
// crossing tensors in that encoding (auto: the best one at that cut within the agreement
// bound, per link), measured on sample inputs first (encoded-plan.ts) for its predicted cost
// and agreement, and the encoded runs get the same judgement: predicted best, measured best,
// their ratio.
import path from 'node:path';
import { median } from '../../app/profiling/trace.js';
import type { NetworkConditions } from '../../app/partition/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import type { LinkShaper } from '../executor/link.js';
import { describeError, UsageError } from '../errors/user-errors.js';
import type { DagPartition } from '../../app/partition/dag.js';
import { checkDeviceRequest, gatherLatencies, predictCuts, predictDagPartition, type CutPrediction, type GatheredLatencies, type LatencyGathering, type LinkChoice } from './split-prediction.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { checkRunEncoding, deviceLinkNetwork, runnerOptionsOf, shaperForLink, SplitRunner, type SplitRunTiming } from './split-run.js';
import { chooseEncodedCut, costOfEncodedCut, parseWireEncoding, WireEncodingError, type EncodedCutCost } from '../../app/partition/wire-encoding.js';
import { measureEncodedCuts, minAgreementOf } from './encoded-plan.js';
import type { CutEvaluation } from './encoded-split.js';

export const SKIPPED_BY_BOUND = 'lower bound exceeds best';
/** A cut the sweep did not reach: it stopped at a failure (SweepInterruptedError). */
export const NOT_REACHED = 'not reached: the sweep stopped';

/**
 * A sweep that failed part-way (a frozen or lost executor): the failure's line, with what
 * was measured before it (`partial`, one result per link) for the caller to show.
 */
export class SweepInterruptedError extends Error {
  override name = 'SweepInterruptedError';
  constructor(
    readonly reason: string,
    readonly measuredCuts: number,
    readonly totalCuts: number,
    readonly partial: SweepResult[]
  ) {
    super(`the sweep stopped after ${measuredCuts} of ${totalCuts} cuts: ${reason}`);
  }
}

export interface SweepCut {
  cut: number;
  predictedMs: number;
  /** Median measured total, or null when the cut was skipped. */
  measuredMs: number | null;
  /** Shaped transfer time of this cut (bytes / bandwidth + RTT), the pruning bound. */
  lowerBoundMs: number;
  skipped?: typeof SKIPPED_BY_BOUND | typeof NOT_REACHED;
  median?: SplitRunTiming;
  outputOk?: boolean;
  maxAbsDiff?: number;
}

/** The DAG min-cut partition measured beside the topological cuts (`sweep --cut dag`). */
export interface SweepDag {
  /** The layers it runs on the device. */
  localLayers: number[];
  predictedMs: number;
  measuredMs: number;
  median: SplitRunTiming;
  outputOk: boolean;
  maxAbsDiff: number;
  /** measured(DAG partition) / measured(measured best topological cut). */
  vsBestCut: number;
}

/** One swept cut run in the wire encoding (`sweep --encoding`). */
export interface SweepEncodedCut {
  cut: number;
  /** The encoding run here (auto: the best within the bound for this link); null when none could be. */
  encoding: string | null;
  /** The cost model's total with the encoding's measured bytes and codec times; null when none applies. */
  predictedMs: number | null;
  /** Median measured total, or null when not run (see `skipped`). */
  measuredMs: number | null;
  /** Top-1 agreement with the unsplit model on the sample inputs. */
  agreement: number | null;
  /** Bytes per inference the encoding sends, measured on the samples (the run's request bodies: median.bytesUp). */
  uploadBytes: number | null;
  median?: SplitRunTiming;
  outputOk?: boolean;
  maxAbsDiff?: number;
  /** Why it was not run: the encoding cannot apply here (naming the tensor), none is within the bound, pruned, not reached. */
  skipped?: string;
}

/** The sweep in a wire encoding, judged as the fp32 sweep is. */
export interface SweepEncoded {
  /** 'auto' or the encoding named. */
  requested: string;
  minAgreement: number;
  samples: number;
  cuts: SweepEncodedCut[];
  /** -1 when no cut could run in the encoding. */
  predictedBest: number;
  measuredBest: number;
  /** measured(predictedBest) / measured(measuredBest). */
  ratio: number;
  /** Median over the encoded runs of |predicted − measured| / measured. */
  predictionError: number;
  /** measured(encoded measured best) / measured(fp32 measured best): under 1 when the encoding made the best split faster. */
  vsFp32: number;
  /** True when every encoded run gave the full model's top-1 answer (exact outputs for a lossless one). */
  outputsOk: boolean;
}

export interface SweepResult {
  model: string;
  network: NetworkConditions & { shaped: boolean };
  serverLoad: number;
  deviceSlowdown: number;
  /** The device executor the heads ran on (--device-executor); absent: this machine. */
  deviceExecutor?: string;
  latencies: { local: string; remote: string };
  cuts: SweepCut[];
  predictedBest: number;
  measuredBest: number;
  /** measured(predictedBest) / measured(measuredBest). */
  ratio: number;
  /** Median over measured cuts of |predicted − measured| / measured. */
  predictionError: number;
  /** True when every measured run's outputs matched the full local run. */
  outputsOk: boolean;
  /** With `dag`: the min-cut partition, measured. */
  dag?: SweepDag;
  /** With `encoding`: every swept cut run in the encoding too. */
  encoded?: SweepEncoded;
}

/** A sweep stopped by its caller's signal (LatencyGathering.signal). */
export class SweepCancelledError extends Error {
  override name = 'SweepCancelledError';
}

export interface SweepRequest extends LatencyGathering {
  analyzed: AnalyzedModel;
  links: LinkChoice[];
  /** Step between swept cuts (default 1: every cut). */
  every?: number;
  runs: number;
  prune: boolean;
  /** Also measure the DAG min-cut partition for each link (`sweep --cut dag`). */
  dag?: boolean;
  /** Latencies already gathered for this model (skips both profiles). */
  latencies?: GatheredLatencies;
  /** Send the whole model to the executor once and let it build each tail (default true; SplitRunnerOptions). */
  uploadOnce?: boolean;
  connect: (shaper?: LinkShaper) => RemoteExecutor;
  /** Also run every swept cut in this wire encoding, or 'auto': the best one per cut within `minAgreement`. */
  encoding?: string;
  /** Top-1 agreement (0..1) 'auto' needs (default 0.99). */
  minAgreement?: number;
  /** Sample inputs the encodings are measured on (default 32). */
  samples?: number;
}

/** The cuts a sweep measures: 0, every, 2·every, …, N, plus the extra ones given. */
export function sweptCuts(nodeCount: number, every: number, extra: readonly number[] = []): number[] {
  if (!Number.isInteger(every) || every < 1) throw new UsageError(`--every must be a whole number ≥ 1, got ${every}`);
  const cuts = new Set<number>([0, nodeCount, ...extra]);
  for (let cut = every; cut < nodeCount; cut += every) cuts.add(cut);
  return [...cuts].sort((a, b) => a - b);
}

function argMin(values: Map<number, number>): number {
  let best = -1;
  let bestValue = Infinity;
  for (const [key, value] of [...values].sort((a, b) => a[0] - b[0])) {
    if (value < bestValue) {
      best = key;
      bestValue = value;
    }
  }
  return best;
}

interface RunMeasured {
  median: SplitRunTiming;
  ok: boolean;
  maxAbsDiff: number;
}

/** The encoding a link runs at a cut, with its predicted cost; or why none runs there. */
type EncodedPick = { encoding: string; cost: EncodedCutCost; agreement: number | null; uploadBytes: number } | { skipped: string };

interface LinkState {
  link: LinkChoice;
  prediction: CutPrediction;
  dag: DagPartition | null;
  dagMeasured: RunMeasured | null;
  data: RemoteExecutor;
  measured: Map<number, RunMeasured>;
  bestMs: number;
  /** With an encoding: the pick at each swept cut, what was measured, the best so far and the predicted best. */
  encodedPicks: Map<number, EncodedPick>;
  encodedMeasured: Map<number, RunMeasured>;
  encodedBestMs: number;
  encodedPredictedBest: number;
}

/**
 * The encoding a link runs at `cut`: the one named (unless it cannot apply there), or for
 * 'auto' the best one within the bound (chooseEncodedCut over that cut's measurements).
 */
function pickEncoding(evaluation: CutEvaluation, state: Pick<LinkState, 'prediction'>, requested: string, minAgreement: number): EncodedPick {
  const { table, options } = state.prediction;
  const measurements = evaluation.measurements;
  if (requested !== 'auto' || evaluation.cut === table.nodeCount) {
    const m = measurements[0];
    if (m.skipped) return { skipped: m.skipped };
    return { encoding: m.encoding, cost: costOfEncodedCut(table, m, options), agreement: m.agreement, uploadBytes: m.uploadBytes };
  }
  try {
    const { best } = chooseEncodedCut(table, measurements, options, 'latency', minAgreement);
    const m = measurements.find((x) => x.encoding === best.encoding);
    return { encoding: best.encoding, cost: best, agreement: best.agreement, uploadBytes: m?.uploadBytes ?? best.uploadBytes };
  } catch (error) {
    if (!(error instanceof WireEncodingError)) throw error;
    const reasons = measurements.filter((m) => m.skipped).map((m) => m.skipped as string);
    return { skipped: `no encoding within ${(minAgreement * 100).toFixed(1)} % top-1 agreement${reasons.length > 0 ? ` (${reasons[0]})` : ''}` };
  }
}

/** Sweeps one model over one or more links; one result per link, in the order given. */
export async function sweepModel(request: SweepRequest): Promise<SweepResult[]> {
  const { analyzed } = request;
  const file = path.basename(analyzed.path);
  const nodeCount = analyzed.analysis.layers.length;
  const progress = request.onProgress ?? (() => undefined);
  // A cancelled sweep stops after the run in flight, not after the whole cut.
  const stopIfAborted = (): void => {
    if (request.signal?.aborted) throw new SweepCancelledError('the sweep was cancelled');
  };
  for (const link of request.links) checkDeviceRequest(request, link.kind === 'measured' ? 'measured' : link.preset.network.name);
  const encodingAsked = request.encoding;
  // The DAG partition, when asked, runs in fp32 beside the encoded cuts.
  if (encodingAsked !== undefined) checkRunEncoding(encodingAsked, { device: Boolean(request.device) });
  const minAgreement = minAgreementOf({ minAgreement: request.minAgreement });
  const control = request.connect();
  const latencies =
    request.latencies ??
    (await gatherLatencies(analyzed, control, {
      ep: request.ep,
      allowCpuFallback: request.allowCpuFallback,
      localFile: request.localFile,
      remoteFile: request.remoteFile,
      deviceSlowdown: request.deviceSlowdown,
      profileRuns: request.profileRuns,
      profileWarmup: request.profileWarmup,
      seed: request.seed,
      dimValues: request.dimValues,
      device: request.device,
      onProgress: progress,
      ...(request.signal ? { signal: request.signal } : {})
    }));
  const { loadFactor } = await control.load();
  const states: LinkState[] = request.links.map((link) => ({
    link,
    prediction: predictCuts(analyzed, latencies, link.preset, loadFactor, 'latency', request.ep),
    dag: request.dag ? predictDagPartition(analyzed, latencies, link.preset, loadFactor, 'latency', request.ep) : null,
    dagMeasured: null,
    data: request.connect(shaperForLink(link)),
    measured: new Map(),
    bestMs: Infinity,
    encodedPicks: new Map(),
    encodedMeasured: new Map(),
    encodedBestMs: Infinity,
    encodedPredictedBest: -1
  }));
  const cuts = sweptCuts(nodeCount, request.every ?? 1, states.map((s) => s.prediction.chosen));
  // The encodings are measured on the samples at every swept cut first: their predicted costs order and bound the encoded runs.
  const evaluations = new Map<number, CutEvaluation>();
  let encodedSamples = 0;
  if (encodingAsked !== undefined) {
    progress(`${file}: measuring ${encodingAsked === 'auto' ? 'the encodings' : encodingAsked} at ${cuts.length} cuts on sample inputs`);
    const measured = await measureEncodedCuts(analyzed, cuts, nodeCount, { encoding: encodingAsked, samples: request.samples, dimValues: request.dimValues, log: progress });
    encodedSamples = measured.samples;
    for (const evaluation of measured.evaluations) evaluations.set(evaluation.cut, evaluation);
    for (const state of states) {
      let best = Infinity;
      for (const cut of cuts) {
        const pick = pickEncoding(evaluations.get(cut) as CutEvaluation, state, encodingAsked, minAgreement);
        state.encodedPicks.set(cut, pick);
        if ('cost' in pick && pick.cost.totalMs < best) {
          best = pick.cost.totalMs;
          state.encodedPredictedBest = cut;
        }
      }
    }
  }
  const encodedBoundMs = (pick: EncodedPick) => ('cost' in pick ? pick.cost.uploadMs + pick.cost.downloadMs : Infinity);
  const predictedMs = (state: LinkState, cut: number) => state.prediction.plan.cuts[cut].totalMs;
  const boundMs = (state: LinkState, cut: number) => {
    const cost = state.prediction.plan.cuts[cut];
    return cost.uploadMs + cost.downloadMs;
  };
  // A measured (unshaped) link has no hard transfer bound: it is never pruned.
  const prunable = (state: LinkState) => request.prune && state.link.kind === 'preset';
  const order = request.prune ? [...cuts].sort((a, b) => Math.min(...states.map((s) => predictedMs(s, a))) - Math.min(...states.map((s) => predictedMs(s, b))) || a - b) : cuts;

  const runner = await SplitRunner.open(analyzed, runnerOptionsOf(request));
  let reached = 0;
  try {
    for (const [index, cut] of order.entries()) {
      reached = index;
      const needed = states.filter((s) => !prunable(s) || cut === s.prediction.chosen || boundMs(s, cut) <= s.bestMs);
      // Device only sends nothing: its encoded run is its fp32 run.
      const encodedNeeded = states.filter((s) => {
        const pick = s.encodedPicks.get(cut);
        return cut < nodeCount && pick !== undefined && 'cost' in pick && (!prunable(s) || cut === s.encodedPredictedBest || encodedBoundMs(pick) <= s.encodedBestMs);
      });
      if (needed.length === 0 && encodedNeeded.length === 0) {
        progress(`[${index + 1}/${order.length}] ${file} cut ${cut}: skipped (transfer alone exceeds the best measured total)`);
        continue;
      }
      const encodedNote = encodedNeeded.length > 0 ? `; encoded: ${encodedNeeded.map((s) => `${s.link.preset.network.name} ${(s.encodedPicks.get(cut) as { encoding: string }).encoding}`).join(', ')}` : '';
      progress(`[${index + 1}/${order.length}] ${file} cut ${cut}: ${needed.map((s) => s.link.preset.network.name).join(', ')}${encodedNote}`);
      if (needed.length > 0) {
        const prepared = await runner.prepare(cut, cut < nodeCount ? control : null);
        try {
          if (cut === nodeCount) {
            // Device only sends nothing, so every link runs the same work: one measurement of
            // all their runs serves each, a median over more runs (an emulated device multiplies
            // a burst of load on this machine by its slowdown).
            const measurement = await prepared.measure(null, { runs: request.runs * needed.length, onRun: stopIfAborted });
            for (const state of needed) {
              state.measured.set(cut, { median: measurement.median, ok: measurement.outputCheck.ok, maxAbsDiff: measurement.outputCheck.maxAbsDiff });
              state.bestMs = Math.min(state.bestMs, measurement.median.totalMs);
              state.encodedBestMs = Math.min(state.encodedBestMs, measurement.median.totalMs);
            }
          } else {
            for (const state of needed) {
              const measurement = await prepared.measure(state.data, { runs: request.runs, network: deviceLinkNetwork(state.link), onRun: stopIfAborted });
              state.measured.set(cut, { median: measurement.median, ok: measurement.outputCheck.ok, maxAbsDiff: measurement.outputCheck.maxAbsDiff });
              state.bestMs = Math.min(state.bestMs, measurement.median.totalMs);
            }
          }
        } finally {
          await prepared.release();
        }
      }
      // Each encoding picked here is cut, uploaded and opened once, for every link that runs it.
      const byEncoding = new Map<string, LinkState[]>();
      for (const state of encodedNeeded) {
        const { encoding } = state.encodedPicks.get(cut) as { encoding: string };
        // Plain fp32 is the run just measured: it is not run twice.
        const plainRun = encoding === 'fp32' ? state.measured.get(cut) : undefined;
        if (plainRun) {
          state.encodedMeasured.set(cut, plainRun);
          state.encodedBestMs = Math.min(state.encodedBestMs, plainRun.median.totalMs);
        } else byEncoding.set(encoding, [...(byEncoding.get(encoding) ?? []), state]);
      }
      for (const [encoding, group] of byEncoding) {
        const ranges = evaluations.get(cut)?.ranges ?? {};
        const prepared = await runner.prepare(cut, control, { encoding: parseWireEncoding(encoding), ranges });
        try {
          for (const state of group) {
            const measurement = await prepared.measure(state.data, { runs: request.runs, network: deviceLinkNetwork(state.link), onRun: stopIfAborted });
            state.encodedMeasured.set(cut, { median: measurement.median, ok: measurement.outputCheck.ok, maxAbsDiff: measurement.outputCheck.maxAbsDiff });
            state.encodedBestMs = Math.min(state.encodedBestMs, measurement.median.totalMs);
          }
        } finally {
          await prepared.release();
        }
      }
    }
    for (const state of states) {
      if (!state.dag) continue;
      const remote = state.dag.localNodes.length < nodeCount;
      progress(`${file} the DAG partition (${state.dag.localNodes.length} of ${nodeCount} layers on the device): ${state.link.preset.network.name}`);
      const prepared = await runner.prepare({ dag: state.dag.localNodes }, remote ? control : null);
      try {
        const measurement = await prepared.measure(remote ? state.data : null, { runs: request.runs, network: deviceLinkNetwork(state.link), onRun: stopIfAborted });
        state.dagMeasured = { median: measurement.median, ok: measurement.outputCheck.ok, maxAbsDiff: measurement.outputCheck.maxAbsDiff };
      } finally {
        await prepared.release();
      }
    }
  } catch (error) {
    // What was measured before the failure is kept: the caller prints it with the failure.
    if (reached > 0 && !(error instanceof SweepCancelledError)) throw new SweepInterruptedError(describeError(error), reached, order.length, summarize(true));
    throw error;
  } finally {
    await runner.release();
  }
  return summarize(false);

  function summarize(interrupted: boolean): SweepResult[] {
    return states.map((state) => {
      const totals = new Map([...state.measured].map(([cut, m]) => [cut, m.median.totalMs]));
      const measuredBest = argMin(totals);
      const predictedBest = state.prediction.chosen;
      const errors = [...totals].map(([cut, measured]) => Math.abs(predictedMs(state, cut) - measured) / measured);
      const network = state.link.preset.network;
      return {
        model: file,
        network: { ...network, shaped: state.link.kind === 'preset' && network.name !== 'unshaped' },
        serverLoad: loadFactor,
        deviceSlowdown: request.deviceSlowdown ?? 1,
        ...(request.device ? { deviceExecutor: request.device.url } : {}),
        latencies: state.prediction.latencies,
        cuts: cuts.map((cut): SweepCut => {
          const measured = state.measured.get(cut);
          const base = { cut, predictedMs: predictedMs(state, cut), lowerBoundMs: boundMs(state, cut) };
          if (!measured) return { ...base, measuredMs: null, skipped: interrupted && order.indexOf(cut) >= reached ? NOT_REACHED : SKIPPED_BY_BOUND };
          return { ...base, measuredMs: measured.median.totalMs, median: measured.median, outputOk: measured.ok, maxAbsDiff: measured.maxAbsDiff };
        }),
        predictedBest,
        measuredBest,
        ratio: (totals.get(predictedBest) ?? NaN) / (totals.get(measuredBest) ?? NaN),
        predictionError: errors.length > 0 ? median(errors) : NaN,
        outputsOk: [...state.measured.values(), ...state.encodedMeasured.values()].every((m) => m.ok) && (state.dagMeasured?.ok ?? true),
        ...(state.dag && state.dagMeasured
          ? {
              dag: {
                localLayers: state.dag.localNodes,
                predictedMs: state.dag.cost.totalMs,
                measuredMs: state.dagMeasured.median.totalMs,
                median: state.dagMeasured.median,
                outputOk: state.dagMeasured.ok,
                maxAbsDiff: state.dagMeasured.maxAbsDiff,
                vsBestCut: state.dagMeasured.median.totalMs / (totals.get(measuredBest) ?? NaN)
              }
            }
          : {}),
        ...(encodingAsked !== undefined ? { encoded: summarizeEncoded(state, interrupted, totals, measuredBest) } : {})
      };
    });
  }

  function summarizeEncoded(state: LinkState, interrupted: boolean, fp32Totals: Map<number, number>, fp32Best: number): SweepEncoded {
    // Device only's encoded run is its fp32 run (nothing is sent).
    const measuredAt = (cut: number) => (cut === nodeCount ? state.measured.get(cut) : state.encodedMeasured.get(cut));
    const rows = cuts.map((cut): SweepEncodedCut => {
      const pick = state.encodedPicks.get(cut) as EncodedPick;
      if (!('cost' in pick)) return { cut, encoding: null, predictedMs: null, measuredMs: null, agreement: null, uploadBytes: null, skipped: pick.skipped };
      const base = { cut, encoding: pick.encoding, predictedMs: pick.cost.totalMs, agreement: pick.agreement, uploadBytes: pick.uploadBytes };
      const measured = measuredAt(cut);
      if (!measured) return { ...base, measuredMs: null, skipped: interrupted && order.indexOf(cut) >= reached ? NOT_REACHED : SKIPPED_BY_BOUND };
      return { ...base, measuredMs: measured.median.totalMs, median: measured.median, outputOk: measured.ok, maxAbsDiff: measured.maxAbsDiff };
    });
    const totals = new Map(rows.filter((r) => r.measuredMs !== null).map((r) => [r.cut, r.measuredMs as number]));
    const measuredBest = argMin(totals);
    const errors = rows.filter((r) => r.measuredMs !== null && r.predictedMs !== null).map((r) => Math.abs((r.predictedMs as number) - (r.measuredMs as number)) / (r.measuredMs as number));
    return {
      requested: encodingAsked as string,
      minAgreement,
      samples: encodedSamples,
      cuts: rows,
      predictedBest: state.encodedPredictedBest,
      measuredBest,
      ratio: (totals.get(state.encodedPredictedBest) ?? NaN) / (totals.get(measuredBest) ?? NaN),
      predictionError: errors.length > 0 ? median(errors) : NaN,
      vsFp32: (totals.get(measuredBest) ?? NaN) / (fp32Totals.get(fp32Best) ?? NaN),
      outputsOk: rows.every((r) => r.outputOk !== false)
    };
  }
}
