// The memory's streaming rate, probed again and again over a characterisation: one one-row FC
// layer of 144 MiB (no cache holds it; zero weights, which onnxruntime's packed copy writes
// out like any others) kept open for the whole sweep and run a few times every
// STREAMING_PROBE_EVERY_S. Each sweep sample is the lower of its passes, the machine's quietest
// moment, and the four streamed FC samples of the grid came out 26–36 GB/s in one sweep while
// Kaldi, its time all streamed weights, ran at 21–25 GB/s over the bench's rounds. The median
// of the probes is the rate the memory typically gives, which one-row FC layers beyond the
// cache are floored at (app/prediction/predict.ts weightStreamingBytesPerMs).
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { median } from '../../app/profiling/trace.js';
import { timedRun } from './timed-run.js';

/** Seconds of sweep between two probes (a 300-s characterisation took 26, about 1 s in all). */
export const STREAMING_PROBE_EVERY_S = 10;

/** The probe's layer: AlexNet's fc6, the grid's largest streamed FC. */
const IN_FEATURES = 9216;
const OUT_FEATURES = 4096;
const WEIGHT_BYTES = 4 * IN_FEATURES * OUT_FEATURES;

/** Runs timed per probe, after one untimed run: their median is the probe's time. */
const TIMED_RUNS = 5;

/** The probe's layer, opened at its first probe as the sweep opens its layers (onnxruntime's default prepacking, `sessionOptions`). */
export class StreamingRateProbe {
  private session: Promise<ort.InferenceSession> | null = null;
  private readonly feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: IN_FEATURES }, (_, i) => Math.sin(i)), [1, IN_FEATURES]) };

  constructor(private readonly sessionOptions: ort.InferenceSession.SessionOptions) {}

  private open(): Promise<ort.InferenceSession> {
    if (!this.session) {
      const builder = new GraphBuilder('streaming-probe', { weights: 'zeros' });
      const x = builder.input('x', 'float32', [1, IN_FEATURES]);
      builder.output(builder.linear(x, IN_FEATURES, OUT_FEATURES, '/probe'), 'float32', null);
      this.session = ort.InferenceSession.create(builder.toBytes(), { ...this.sessionOptions, graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
    }
    return this.session;
  }

  /** One probe: the weight's bytes over the median of TIMED_RUNS runs, bytes per ms. */
  async bytesPerMs(): Promise<number> {
    const session = await this.open();
    await timedRun(session, this.feeds);
    const times: number[] = [];
    for (let run = 0; run < TIMED_RUNS; run++) times.push(await timedRun(session, this.feeds));
    return WEIGHT_BYTES / median(times);
  }

  /** Releases the layer's session, if a probe opened it. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    if (session) await (await session).release();
  }
}
