// `npm run bench -- --only executor`: the executor's own figures, measured against a real
// executor child process on loopback through ExecutorClient — (1) how fast a 100 MB
// binary tensor uploads, unshaped; (2) throughput and tail latency of the transformer's
// tail (zoo 'transformer' cut in the middle) with 1, 4 and 16 clients sending requests
// back to back, counting errors and responses that never came.
import { analyzeModel } from '../../app/analysis/analyze.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { median } from '../../app/profiling/trace.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { ExecutorClient } from '../executor/client.js';
import type { RawTensor } from '../executor/link.js';
import { percentiles } from '../executor/load-stats.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import { generateInputs } from '../model/inputs.js';
import { toRawTensor } from '../executor/ort-tensors.js';
import { runModel } from '../split/split-check.js';
import { encodeSplit, splitModel } from '../split/surgery.js';
import type { BenchFigure } from './figure.js';

export type ExecutorFigure = BenchFigure;

const UPLOAD_ELEMENTS = 25_000_000;
const UPLOAD_GOAL_MBPS = 500;
const LOAD_SECONDS = 6;
const CLIENT_COUNTS = [1, 4, 16];

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** x: FP32 [25 000 000] (100 MB) → ReduceSum → a scalar: nearly all of a run is the upload. */
function reduceModel(): Uint8Array {
  const b = new GraphBuilder('reduce');
  const x = b.input('x', 'float32', [UPLOAD_ELEMENTS]);
  b.output(b.op('ReduceSum', [x], { keepdims: 0 }, 'sum'), 'float32', []);
  return b.toBytes();
}

async function uploadFigure(): Promise<ExecutorFigure> {
  const executor = await startExecutorProcess(['--max-body-mb', '256']);
  const client = new ExecutorClient({ url: executor.url });
  try {
    const { name } = await client.uploadModel(reduceModel());
    const x: RawTensor = { name: 'x', datatype: 'FP32', shape: [UPLOAD_ELEMENTS], data: new Uint8Array(new Float32Array(UPLOAD_ELEMENTS).fill(1).buffer) };
    // Warm-up: the executor reuses body buffers once they exist, as a serving executor would.
    for (let i = 0; i < 3; i++) await client.infer(name, [x]);
    const rates: number[] = [];
    for (let i = 0; i < 9; i++) {
      const { timings } = await client.infer(name, [x]);
      rates.push(x.data.byteLength / 1e6 / (timings.uploadMs / 1000));
    }
    const rate = median(rates);
    return {
      figure: 'executor: unshaped loopback upload of a 100 MB binary tensor (median of 9)',
      measured: `${rate.toFixed(0)} MB/s`,
      baselineOrGoal: `${UPLOAD_GOAL_MBPS} MB/s goal`,
      ratio: rate / UPLOAD_GOAL_MBPS,
      goal: '≥ 1.0',
      met: rate >= UPLOAD_GOAL_MBPS
    };
  } finally {
    client.close();
    await executor.stop();
  }
}

/** The transformer cut at its middle node, and the tensors that cross at that cut (from a real head run). */
async function transformerTail(): Promise<{ tail: Uint8Array; inputs: RawTensor[] }> {
  const bytes = buildZooModel('transformer', { seed: 1 });
  const model = readOnnxModel(bytes);
  const analysis = analyzeModel(model);
  const cut = Math.floor(model.graph.nodes.length / 2);
  const parts = encodeSplit(splitModel(model, analysis, new Set(Array.from({ length: cut }, (_, i) => i))));
  if (!parts.head || !parts.tail) throw new Error('the middle cut of the transformer left a part empty');
  const modelInputs = generateInputs(model, { seed: 1 });
  const values = { ...modelInputs, ...(await runModel(parts.head, modelInputs)) };
  const tailInputs = readOnnxModel(parts.tail).graph.inputs.map((i) => i.name);
  return { tail: parts.tail, inputs: tailInputs.map((name) => toRawTensor(name, values[name])) };
}

interface LoadResult {
  clients: number;
  requestsPerSecond: number;
  p99Ms: number;
  p50Ms: number;
  errors: number;
  lost: number;
  firstError: string | null;
}

/** `clients` loops sending requests back to back for LOAD_SECONDS; a response not back 60 s after the end is lost. */
async function loadRun(url: string, model: string, inputs: RawTensor[], clients: number): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | null = null;
  let sent = 0;
  let answered = 0;
  const connections = Array.from({ length: clients }, () => new ExecutorClient({ url, timeoutMs: 120_000 }));
  const start = performance.now();
  const stopAt = start + LOAD_SECONDS * 1000;
  const loops = connections.map(async (client) => {
    while (performance.now() < stopAt) {
      sent++;
      const begun = performance.now();
      try {
        await client.infer(model, inputs);
        latencies.push(performance.now() - begun);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
      answered++;
    }
  });
  await Promise.race([Promise.all(loops), new Promise<void>((resolve) => setTimeout(resolve, (LOAD_SECONDS + 60) * 1000).unref())]);
  const elapsed = (performance.now() - start) / 1000;
  for (const client of connections) client.close();
  const spread = percentiles(latencies);
  return {
    clients,
    requestsPerSecond: latencies.length / elapsed,
    p99Ms: spread.p99 ?? NaN,
    p50Ms: spread.p50 ?? NaN,
    errors,
    lost: sent - answered,
    firstError
  };
}

async function loadFigures(): Promise<ExecutorFigure[]> {
  const { tail, inputs } = await transformerTail();
  const executor = await startExecutorProcess(['--max-queue', '64']);
  const client = new ExecutorClient({ url: executor.url });
  try {
    const { name } = await client.uploadModel(tail);
    for (let i = 0; i < 5; i++) await client.infer(name, inputs);
    const results: LoadResult[] = [];
    for (const clients of CLIENT_COUNTS) {
      log(`executor under load: ${clients} client${clients > 1 ? 's' : ''} for ${LOAD_SECONDS} s…`);
      results.push(await loadRun(executor.url, name, inputs, clients));
    }
    const single = results[0].requestsPerSecond;
    const load = await client.load();
    return results.map((r) => ({
      figure: `executor under load, transformer tail (middle cut), ${r.clients} concurrent client${r.clients > 1 ? 's' : ''}`,
      measured: `${r.requestsPerSecond.toFixed(1)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, ${r.errors} errors, ${r.lost} lost${r.firstError ? ` (${r.firstError})` : ''}`,
      baselineOrGoal: `${single.toFixed(1)} req/s with 1 client; ${load.maxConcurrency} slots, queue ${load.maxQueue}`,
      ratio: r.requestsPerSecond / single,
      goal: '0 errors, 0 lost',
      met: r.errors === 0 && r.lost === 0
    }));
  } finally {
    client.close();
    await executor.stop();
  }
}

/** The executor's figures (see the file comment). */
export async function executorFigures(): Promise<ExecutorFigure[]> {
  log('executor: 100 MB binary upload…');
  const upload = await uploadFigure();
  log('executor: transformer tail under load…');
  return [upload, ...(await loadFigures())];
}
