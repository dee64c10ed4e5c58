// One session.run timed by the wall clock, its outputs released: what the sweep's calibrations
// (characterize.ts) and the memory's streaming probe (streaming-probe.ts) each time a run by.
import type * as ort from 'onnxruntime-node';

/** Milliseconds `session` took to run `feeds`, its output tensors disposed after. */
export async function timedRun(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<number> {
  const start = performance.now();
  const results = await session.run(feeds);
  const ms = performance.now() - start;
  for (const tensor of Object.values(results)) tensor.dispose();
  return ms;
}
