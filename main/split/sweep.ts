// `neurosurgeon sweep`: measures real split runs at many cuts (0, K, 2K, …, N and the
// predicted best) beside the prediction `run --cut auto` makes, to judge the decision —
// ratio = measured(predicted best) / measured(measured best), 1 when the prediction
// picked the fastest cut. Several links can be swept in one pass (the bench does), so each
// cut is cut, uploaded and opened once. With pruning, cuts are measured in order of
// predicted total and a cut is skipped for a link when its shaped transfer time alone —
// a hard lower bound — already exceeds the best total measured there. With `dag`, the DAG
// min-cut partition of each link is measured too, beside the best topological cut.
import path from 'node:path';
import { median } from '../../app/profiling/trace.js';
import type { NetworkConditions } from '../../app/partition/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import type { LinkShaper } from '../executor/link.js';
import { describeError, UsageError } from '../errors/user-errors.js';
import type { DagPartition } from '../../app/partition/dag.js';
import { checkDeviceRequest, gatherLatencies, predictCuts, predictDagPartition, type CutPrediction, type GatheredLatencies, type LatencyGathering, type LinkChoice } from './split-prediction.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { deviceLinkNetwork, runnerOptionsOf, shaperForLink, SplitRunner, type SplitRunTiming } from './split-run.js';

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

interface LinkState {
  link: LinkChoice;
  prediction: CutPrediction;
  dag: DagPartition | null;
  dagMeasured: { median: SplitRunTiming; ok: boolean; maxAbsDiff: number } | null;
  data: RemoteExecutor;
  measured: Map<number, { median: SplitRunTiming; ok: boolean; maxAbsDiff: number }>;
  bestMs: number;
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
    bestMs: Infinity
  }));
  const cuts = sweptCuts(nodeCount, request.every ?? 1, states.map((s) => s.prediction.chosen));
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
      if (needed.length === 0) {
        progress(`[${index + 1}/${order.length}] ${file} cut ${cut}: skipped (transfer alone exceeds the best measured total)`);
        continue;
      }
      progress(`[${index + 1}/${order.length}] ${file} cut ${cut}: ${needed.map((s) => s.link.preset.network.name).join(', ')}`);
      const prepared = await runner.prepare(cut, cut < nodeCount ? control : null);
      try {
        for (const state of needed) {
          const measurement = await prepared.measure(cut < nodeCount ? state.data : null, { runs: request.runs, network: deviceLinkNetwork(state.link), onRun: stopIfAborted });
          state.measured.set(cut, { median: measurement.median, ok: measurement.outputCheck.ok, maxAbsDiff: measurement.outputCheck.maxAbsDiff });
          state.bestMs = Math.min(state.bestMs, measurement.median.totalMs);
        }
      } finally {
        await prepared.release();
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
        outputsOk: [...state.measured.values()].every((m) => m.ok) && (state.dagMeasured?.ok ?? true),
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
          : {})
      };
    });
  }
}
