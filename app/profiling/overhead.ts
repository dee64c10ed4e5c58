// What onnxruntime's profiler costs, from a calibration run (main/profiling/profiler.ts measures,
// this pure module does the arithmetic). With profiling on, every kernel's timed interval
// also holds the profiler's own bookkeeping (sizes and type/shape strings of its inputs
// and outputs, thread-pool statistics): a few µs per kernel, which is most of the time of
// a tiny layer. The calibration times a chain of trivially cheap kernels twice: plainly,
// at two chain lengths, which gives what one such node really adds to a run (the slope),
// and with profiling on, which gives what the trace says each of them took. The
// difference is the profiler's cost per kernel event; trace.ts takes it off every
// host-side kernel event (correctedKernelMs). Trace durations are whole microseconds
// (truncated), so the per-event figure is a mean over many events: subtracting it
// leaves the corrected times unbiased on average.
import { median } from './trace.js';

export interface OverheadCalibrationRuns {
  /** Trivial nodes in the short and the long chain (long > short). */
  shortChainNodes: number;
  longChainNodes: number;
  /** Wall time of each plain (unprofiled) run of the short and of the long chain, ms. */
  plainShortMs: readonly number[];
  plainLongMs: readonly number[];
  /** Per profiled run of the long chain: every kernel event's duration as the trace gives it, µs. */
  profiledKernelUs: readonly (readonly number[])[];
}

export interface ProfilerOverhead {
  /** Taken off every host-side kernel event, ms (≥ 0). */
  kernelMs: number;
  /** What one trivial node adds to a plain run, ms: the part of its kernel event that is real. */
  trivialNodeMs: number;
  /** A plain run of the short chain less its nodes, ms (≥ 0): session.run's own cost. */
  runMs: number;
}

export class CalibrationError extends Error {
  override name = 'CalibrationError';
}

export function profilerOverheadFrom(runs: OverheadCalibrationRuns): ProfilerOverhead {
  const extraNodes = runs.longChainNodes - runs.shortChainNodes;
  const perRunMeansUs = runs.profiledKernelUs.filter((events) => events.length > 0).map((events) => events.reduce((a, b) => a + b, 0) / events.length);
  if (!(extraNodes > 0) || runs.plainShortMs.length === 0 || runs.plainLongMs.length === 0 || perRunMeansUs.length === 0) {
    throw new CalibrationError('profiler calibration has no runs to compare');
  }
  const shortMs = median(runs.plainShortMs);
  const trivialNodeMs = Math.max(0, (median(runs.plainLongMs) - shortMs) / extraNodes);
  return {
    kernelMs: Math.max(0, median(perRunMeansUs) / 1000 - trivialNodeMs),
    trivialNodeMs,
    runMs: Math.max(0, shortMs - runs.shortChainNodes * trivialNodeMs)
  };
}

/**
 * Per-node latencies that add up to a whole run: the per-run cost outside every layer
 * (`runOverheadMs`) charged to `runOverheadNode` — node 0 for a head, the last node for a
 * tail, so every part that runs pays it once — and what is still left between the layers
 * and the measured whole run (`wholeModelMs`: the executor's own dispatch between kernels,
 * ≈4 % of the transformer's 1,000 µs-scale kernels) spread evenly over the nodes, never
 * taking one below 0. Without a measured whole run only the per-run cost is added.
 */
export function latenciesForWholeRuns(ms: readonly number[], costs: { runOverheadMs?: number; runOverheadNode: number; wholeModelMs?: number | null }): number[] {
  const out = [...ms];
  if (out.length === 0) return out;
  const overhead = costs.runOverheadMs ?? 0;
  if (overhead > 0) out[costs.runOverheadNode] += overhead;
  const whole = costs.wholeModelMs;
  if (typeof whole === 'number' && Number.isFinite(whole) && whole > 0) {
    const perNode = (whole - out.reduce((sum, v) => sum + v, 0)) / out.length;
    for (let i = 0; i < out.length; i++) out[i] = Math.max(0, out[i] + perNode);
  }
  return out;
}
