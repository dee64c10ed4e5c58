// What one kernel of shape arithmetic costs inside a network on this device
// (DeviceProfile.shapeArithmeticMsPerKernel; app/prediction/shape-arithmetic.ts says why the
// sweep's fits cannot tell): the probe network with SHAPE_PROBE_BLOCKS blocks and the same
// network with none, run in turns, the difference of their medians per kernel. Whole runs,
// not a profile: onnxruntime's profiler costs more per kernel than these kernels do.
import * as ort from 'onnxruntime-node';
import { shapeArithmeticProbe, shapeProbeKernels, SHAPE_PROBE_WIDTH } from '../../app/prediction/shape-arithmetic.js';
import { median } from '../../app/profiling/trace.js';
import type { GraphOptimization } from '../../app/profiling/types.js';

const SHAPE_PROBE_BLOCKS = 40;
const WARMUP_RUNS = 300;
const ROUNDS = 9;
/** Runs of each network per round, in turns of TURN_RUNS. */
const RUNS_PER_ROUND = 120;
const TURN_RUNS = 20;

/**
 * Milliseconds per kernel of shape arithmetic, with `sessionOptions` at `level`; null when the
 * difference is not positive (a burst of load on one side).
 */
export async function calibrateShapeArithmetic(sessionOptions: ort.InferenceSession.SessionOptions, level: GraphOptimization, signal?: AbortSignal): Promise<number | null> {
  const options: ort.InferenceSession.SessionOptions = { ...sessionOptions, graphOptimizationLevel: level };
  const sessions = [await ort.InferenceSession.create(shapeArithmeticProbe(0), options), await ort.InferenceSession.create(shapeArithmeticProbe(SHAPE_PROBE_BLOCKS), options)];
  try {
    const feeds = { x: new ort.Tensor('float32', new Float32Array(SHAPE_PROBE_WIDTH), [1, SHAPE_PROBE_WIDTH]) };
    const run = async (session: ort.InferenceSession): Promise<number> => {
      const start = performance.now();
      const results = await session.run(feeds);
      const ms = performance.now() - start;
      for (const tensor of Object.values(results)) tensor.dispose();
      return ms;
    };
    for (let i = 0; i < WARMUP_RUNS; i++) for (const session of sessions) await run(session);
    // Per round, the difference of the two medians; the median round: a burst of load that
    // covers one round moves neither.
    const differences: number[] = [];
    for (let round = 0; round < ROUNDS && !signal?.aborted; round++) {
      const times: number[][] = [[], []];
      for (let turn = 0; turn < RUNS_PER_ROUND / TURN_RUNS; turn++) {
        for (const k of turn % 2 === 0 ? [0, 1] : [1, 0]) for (let i = 0; i < TURN_RUNS; i++) times[k].push(await run(sessions[k]));
      }
      differences.push(median(times[1]) - median(times[0]));
    }
    if (differences.length === 0) return null;
    const perKernel = median(differences) / shapeProbeKernels(SHAPE_PROBE_BLOCKS);
    return perKernel > 0 ? perKernel : null;
  } finally {
    for (const session of sessions) await session.release();
  }
}
