// Session options with onnxruntime's weight prepacking off where it cannot pay for the graph
// a session opens (app/analysis/prepacking.ts says why and when). Every measured or served
// session of a model asks here — the executor's models and tails, the device's heads, the
// profiler — so a layer is timed the way it is served (the characterisation's lone layers
// keep onnxruntime's default: docs/profiling.md, Weight prepacking, says why). The
// graph is read as written: a symbolic dimension leaves its rows unknown, and an executor
// may serve any size, so prepacking stays on for it.
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { weightPrepackingPays, type PrepackingVerdict } from '../../app/analysis/prepacking.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { firstLine, UsageError } from '../errors/user-errors.js';

/** A graph to open: its bytes, or the model already read. */
export type GraphToOpen = Uint8Array | OnnxModel;

/** Whether prepacking pays for the graph in `model`; a graph that cannot be read or analysed keeps it. */
export function prepackingVerdictOf(model: GraphToOpen): PrepackingVerdict {
  try {
    const graph = model instanceof Uint8Array ? readOnnxModel(model) : model;
    return weightPrepackingPays(graph, analyzeModel(graph), process.arch);
  } catch (error) {
    return { pays: true, reason: `the graph was not analysed (${firstLine(error)})` };
  }
}

/** Only the CPU provider's kernels are meant: sessions of another provider keep onnxruntime's default. */
function runsOnCpu(options: ort.InferenceSession.SessionOptions): boolean {
  const providers = options.executionProviders ?? ['cpu'];
  return providers.every((provider) => (typeof provider === 'string' ? provider : provider.name) === 'cpu');
}

/**
 * `NEUROSURGEON_PREPACKING=always` keeps onnxruntime's default for every session (to compare,
 * or where this rule misjudges a CPU); unset or `auto`, the rule decides. Child processes
 * (the executor, the profiler) inherit it.
 */
export const PREPACKING_ENV = 'NEUROSURGEON_PREPACKING';

/** Whether the rule decides (`auto`); throws, naming the variable, on a value it does not know (the CLI checks it before any command). */
export function ruleDecides(): boolean {
  const setting = process.env[PREPACKING_ENV] ?? 'auto';
  if (setting === 'auto') return true;
  if (setting === 'always') return false;
  throw new UsageError(`${PREPACKING_ENV} must be 'auto' or 'always', got '${setting}'`);
}

/** `options` for a session of `model`, with `session.disable_prepacking` set where prepacking cannot pay. */
export function withPrepackingFor(options: ort.InferenceSession.SessionOptions, model: GraphToOpen): ort.InferenceSession.SessionOptions {
  if (!runsOnCpu(options) || !ruleDecides() || prepackingVerdictOf(model).pays) return options;
  const extra = options.extra ?? {};
  const session = typeof extra.session === 'object' && extra.session !== null ? (extra.session as Record<string, unknown>) : {};
  return { ...options, extra: { ...extra, session: { ...session, disable_prepacking: '1' } } };
}

/** withPrepackingFor for a model file, read without holding up the event loop (an executor keeps serving meanwhile). */
export async function withPrepackingForFile(options: ort.InferenceSession.SessionOptions, modelPath: string): Promise<ort.InferenceSession.SessionOptions> {
  if (!runsOnCpu(options) || !ruleDecides()) return options;
  let file: Buffer;
  try {
    file = await readFile(modelPath);
  } catch {
    return options;
  }
  return withPrepackingFor(options, new Uint8Array(file.buffer, file.byteOffset, file.byteLength));
}
