// What onnxruntime's profiler costs, from a calibration run (main/profiler.ts measures,
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
