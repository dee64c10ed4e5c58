// Split runs and sweeps in a wire encoding (issue 16) against a real executor child process on
// loopback, on the zoo's LeNet: int8 at a middle cut really sends INT8 (a quarter of fp32's
// bytes) through the encoded head and tail and keeps the top-1 answer; uint8+deflate at cut 0
// encodes the input here and sends it compressed; auto takes plan's choice and shows what it
// left out; JPEG at cut 0 travels as images the executor decodes; an encoding that cannot apply is refused
// in one line naming the tensor before any executor is contacted; a sweep runs every swept cut
// in the encoding beside fp32 with predicted vs measured. On the real text classifier
// (../shared/real-models, read only) int8 of its int64 token ids is refused, and auto skips
// every lossy encoding at cut 0 with the reason.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { networkPreset } from '../../app/partition/presets.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeLoadedModel, analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { realModelsDir } from '../model/real-models.js';
import { UsageError } from '../errors/user-errors.js';
import { ExecutorClient } from '../executor/client.js';
import { fromRawTensor } from '../executor/ort-tensors.js';
import { encodeBytesElements } from '../executor/protocol.js';
import type { LinkShaper } from '../executor/link.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { measureEncodedCuts } from './encoded-plan.js';
import { runSplit, type SplitRunRequest } from './split-run.js';
import { sweepModel } from './sweep.js';

let executor: ExecutorProcess;
let dir: string;
let lenet: AnalyzedModel;

const connect = (shaper?: LinkShaper): RemoteExecutor => new ExecutorClient({ url: executor.url, shaper, timeoutMs: 60_000 });
const unreachable = (): RemoteExecutor => new ExecutorClient({ url: 'http://127.0.0.1:1', timeoutMs: 2000 });

function request(overrides: Partial<SplitRunRequest>): SplitRunRequest {
  return { analyzed: lenet, cut: 3, objective: 'latency', network: { name: 'wifi' }, runs: 1, ep: 'cpu', samples: 4, connect, ...overrides };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-encoded-run-'));
  const bytes = buildZooModel('lenet', { seed: 5 });
  lenet = await analyzeLoadedModel({ path: path.join(dir, 'lenet.onnx'), bytes, model: readOnnxModel(bytes) });
  executor = await startExecutorProcess(['--max-concurrency', '1']);
});

afterAll(async () => {
  await executor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('run --encoding', () => {
  it('int8 at a middle cut sends INT8 through the encoded head and tail and keeps the answer', async () => {
    const plain = await runSplit(request({}));
    const report = await runSplit(request({ encoding: 'int8' }));
    const e = report.encoded;
    expect(e).toMatchObject({ encoding: 'int8', requested: 'int8', chosenBy: 'user', samples: 4, belowBound: false });
    expect(report.cut).toBe(3);
    expect(e?.wire).toEqual([expect.objectContaining({ name: report.crossing[0], wireName: `${report.crossing[0]}__int8`, datatype: 'INT8' })]);
    expect(e?.agreement).toBeGreaterThanOrEqual(0.99);
    expect(e?.predicted.uploadBytes).toBeCloseTo((e?.fp32UploadBytes ?? 0) / 4, 0);
    // The request body: the int8 tensor plus the JSON header, far below fp32's.
    expect(report.median.bytesUp).toBeLessThan(plain.median.bytesUp / 3);
    expect(report.median.bytesUp).toBeGreaterThan(e?.predicted.uploadBytes ?? Infinity);
    expect(e?.predicted.totalMs).toBeGreaterThan(0);
    expect(report.outputCheck).toMatchObject({ ok: true, mode: 'top1' });
    expect(report.outputCheck.maxAbsDiff).toBeGreaterThan(0);
  }, 120_000);

  it('uint8+deflate at cut 0 encodes the input here; fp32+deflate sends the same values compressed', async () => {
    const report = await runSplit(request({ cut: 0, encoding: 'uint8+deflate' }));
    expect(report.encoded?.wire[0]).toMatchObject({ name: 'input', wireName: 'input__uint8', datatype: 'UINT8' });
    expect(report.encoded?.wire[0].scale).toBeGreaterThan(0);
    expect(report.median.bytesUp).toBeLessThan((28 * 28 * 4) / 3);
    expect(report.outputCheck.ok).toBe(true);
    const plain = await runSplit(request({ cut: 0 }));
    const deflated = await runSplit(request({ cut: 0, encoding: 'fp32+deflate' }));
    expect(deflated.median.bytesUp).toBeLessThan(plain.median.bytesUp);
    // Lossless: the outputs are checked for equal values, as a plain run's.
    expect(deflated.outputCheck).toMatchObject({ ok: true, mismatches: [] });
    expect(deflated.outputCheck.mode).toBeUndefined();
  }, 120_000);

  it('jpeg at cut 0 sends the input as JPEG images in a BYTES tensor, which the executor decodes for the tail', async () => {
    const report = await runSplit(request({ cut: 0, encoding: 'jpeg95' }));
    expect(report.encoded?.wire[0]).toMatchObject({ name: 'input', wireName: 'input__uint8', datatype: 'BYTES' });
    const plain = await runSplit(request({ cut: 0 }));
    expect(report.median.bytesUp).toBeLessThan(plain.median.bytesUp / 2);
    expect(report.outputCheck).toMatchObject({ mode: 'top1' });
    expect(report.outputCheck.maxAbsDiff).toBeGreaterThan(0);
    expect(report.median.remoteMs).toBeGreaterThan(0);
  }, 120_000);

  it('the executor decodes JPEG sent for a uint8 image input, refuses a corrupt one with 400 naming the input, and stays up', async () => {
    const builder = new GraphBuilder('pixels');
    const pixels = builder.input('pixels', 'uint8', [1, 1, 8, 8]);
    builder.output(builder.op('Cast', [pixels], { to: 1 }), 'float32', [1, 1, 8, 8]);
    const client = new ExecutorClient({ url: executor.url, timeoutMs: 60_000 });
    try {
      const { name } = await client.uploadModel(builder.toBytes());
      const gray = await sharp(Buffer.alloc(64, 200), { raw: { width: 8, height: 8, channels: 1 } }).jpeg({ quality: 95 }).toBuffer();
      const send = (image: Uint8Array) => client.infer(name, [{ name: 'pixels', datatype: 'BYTES', shape: [1], data: encodeBytesElements([image]) }]);
      const values = fromRawTensor((await send(gray)).outputs[0]).data as Float32Array;
      expect(Math.min(...values)).toBeGreaterThanOrEqual(195);
      expect(Math.max(...values)).toBeLessThanOrEqual(205);
      await expect(send(new Uint8Array(64).fill(3))).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/400 input 'pixels': image 0 of 1 does not decode/) });
      expect((await send(gray)).outputs).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('auto takes plan --encoding auto\'s choice and shows what it left out', async () => {
    const report = await runSplit(request({ cut: 'auto', encoding: 'auto', network: { name: '3g' } }));
    const e = report.encoded;
    expect(e?.chosenBy).toBe('auto');
    expect(e?.considered.length).toBeGreaterThan(4);
    const best = [...(e?.considered ?? [])].sort((a, b) => a.totalMs - b.totalMs || a.cut - b.cut)[0];
    expect(report.cut).toBe(best.cut);
    expect(e?.encoding).toBe(best.encoding);
    // JPEG is among what was weighed (the executor decodes it), not left out for want of a decoder.
    expect([...(e?.considered ?? []), ...(e?.excluded ?? [])].some((x) => x.cut === 0 && x.encoding === 'jpeg')).toBe(true);
    expect(e?.excluded.filter((x) => /decode/.test(x.reason))).toEqual([]);
    expect(report.outputCheck.ok).toBe(true);
  }, 120_000);

  it('refuses an encoding that cannot apply, naming the tensor, before contacting the executor', async () => {
    await expect(runSplit(request({ cut: 3, encoding: 'uint8', connect: unreachable }))).rejects.toThrow(
      new UsageError('cut 3: uint8 does not apply to tensor "/conv2/Conv_output_0": it is not a model input (pixels are an input\'s form; use int8 for an activation)')
    );
    await expect(runSplit(request({ cut: 3, encoding: 'jpeg', connect: unreachable }))).rejects.toThrow(/^cut 3: jpeg does not apply to tensor "\/conv2\/Conv_output_0"/);
    await expect(runSplit(request({ cut: 'dag', encoding: 'int8', connect: unreachable }))).rejects.toThrow(/--encoding chooses among topological cuts/);
    await expect(runSplit(request({ encoding: 'int4', connect: unreachable }))).rejects.toThrow(/unknown encoding "int4"/);
  });
});

describe('sweep --encoding', () => {
  it('runs every swept cut in int8 beside fp32, with predicted and measured totals', async () => {
    const [result] = await sweepModel({
      analyzed: lenet,
      links: [{ kind: 'preset', preset: networkPreset('lte') }],
      every: 3,
      runs: 1,
      prune: false,
      ep: 'cpu',
      profileRuns: 3,
      profileWarmup: 1,
      connect,
      encoding: 'int8',
      samples: 4
    });
    const e = result.encoded;
    expect(e).toMatchObject({ requested: 'int8', samples: 4, outputsOk: true });
    expect(e?.cuts.map((c) => c.cut)).toEqual(result.cuts.map((c) => c.cut));
    for (const c of e?.cuts ?? []) {
      expect(c.measuredMs, `cut ${c.cut}`).toBeGreaterThan(0);
      expect(c.predictedMs, `cut ${c.cut}`).toBeGreaterThan(0);
      const fp32 = result.cuts.find((x) => x.cut === c.cut);
      if (c.cut < 9) {
        expect(c.encoding).toBe('int8');
        expect(c.median?.bytesUp).toBeLessThan(fp32?.median?.bytesUp ?? 0);
      } else expect(c.encoding).toBe('fp32');
    }
    expect(e?.ratio).toBeGreaterThanOrEqual(1);
    expect(Number.isFinite(e?.vsFp32)).toBe(true);
    expect(e?.cuts.some((c) => c.cut === e.predictedBest)).toBe(true);
  }, 180_000);
});

const textClassifier = path.join(realModelsDir(), 'text_classifier.onnx');

describe.skipIf(!existsSync(textClassifier))('an int64 crossing (the real text classifier)', () => {
  it('refuses int8 of the token ids in one line, and auto skips every lossy encoding at cut 0 with the reason', async () => {
    const dims = { batch: 1, sequence: 16 };
    const analyzed = await analyzeModelFile(textClassifier, { dimValues: dims });
    await expect(runSplit(request({ analyzed, cut: 0, encoding: 'int8', connect: unreachable, dimValues: dims }))).rejects.toThrow(
      new UsageError('cut 0: int8 does not apply to tensor "input": it is int64, sent as it is (only float32 tensors are re-encoded)')
    );
    const { evaluations } = await measureEncodedCuts(analyzed, [0], analyzed.analysis.layers.length, { encoding: 'auto', samples: 2, dimValues: dims });
    const byEncoding = new Map(evaluations[0].measurements.map((m) => [m.encoding, m]));
    expect(byEncoding.get('fp32')?.skipped).toBeUndefined();
    expect(byEncoding.get('fp32+deflate')?.agreement).toBe(1);
    for (const name of ['fp16', 'int8', 'int8+deflate', 'uint8']) expect(byEncoding.get(name)?.skipped, name).toMatch(new RegExp(`^${name.replace('+', '\\+')} does not apply to tensor "input": it is int64`));
    expect(byEncoding.get('jpeg')?.skipped).toMatch(/^jpeg does not apply to tensor "input"/);
  }, 120_000);
});
