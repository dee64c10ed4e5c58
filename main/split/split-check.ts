// Checks a split for real: runs the full model, then head and tail one after the other
// with onnxruntime-node, feeding the head's crossing tensors to the tail, and compares
// every model output. Used by the tests and by `npm run check:surgery` (every cut of
// every zoo model).
import * as ort from 'onnxruntime-node';
import type { OnnxModel } from '../../app/onnx/model.js';
import type { ModelAnalysis } from '../../app/analysis/types.js';
import { splitModel, encodeSplit } from './surgery.js';

const sessionOptions: ort.InferenceSession.SessionOptions = { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 };

export type Feeds = Record<string, ort.Tensor>;

export async function runModel(bytes: Uint8Array, feeds: Feeds): Promise<Feeds> {
  const session = await ort.InferenceSession.create(bytes, sessionOptions);
  try {
    const wanted = Object.fromEntries(session.inputNames.map((name) => [name, feeds[name]]));
    return await session.run(wanted);
  } finally {
    await session.release();
  }
}

export interface SplitCheck {
  localNodes: number;
  maxAbsDiff: number;
  maxRelDiff: number;
  /** Outputs that differ beyond tolerance or are missing. */
  mismatches: string[];
}

function compare(expected: ort.Tensor, actual: ort.Tensor | undefined): { abs: number; rel: number; ok: boolean } {
  if (!actual || actual.dims.join() !== expected.dims.join() || actual.type !== expected.type) return { abs: Infinity, rel: Infinity, ok: false };
  const a = expected.data as ArrayLike<number | bigint>;
  const b = actual.data as ArrayLike<number | bigint>;
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) !== Number.isNaN(y)) return { abs: Infinity, rel: Infinity, ok: false };
    abs = Math.max(abs, Math.abs(x - y));
    scale = Math.max(scale, Math.abs(x));
  }
  const rel = abs / Math.max(scale, 1e-12);
  return { abs, rel, ok: abs <= 1e-4 * Math.max(1, scale) };
}

/** Head then tail for the layers in `localNodes` (analysis.layers indices), against `expected` (the full model's outputs). */
export async function checkSplit(model: OnnxModel, analysis: ModelAnalysis, localNodes: ReadonlySet<number>, inputs: Feeds, expected: Feeds): Promise<SplitCheck> {
  const parts = splitModel(model, analysis, localNodes);
  const encoded = encodeSplit(parts);
  const values: Feeds = { ...inputs };
  if (encoded.head) Object.assign(values, await runModel(encoded.head, values));
  if (encoded.tail) Object.assign(values, await runModel(encoded.tail, values));
  const result: SplitCheck = { localNodes: localNodes.size, maxAbsDiff: 0, maxRelDiff: 0, mismatches: [] };
  for (const [name, tensor] of Object.entries(expected)) {
    const diff = compare(tensor, values[name]);
    result.maxAbsDiff = Math.max(result.maxAbsDiff, diff.abs);
    result.maxRelDiff = Math.max(result.maxRelDiff, diff.rel);
    if (!diff.ok) result.mismatches.push(name);
  }
  return result;
}
