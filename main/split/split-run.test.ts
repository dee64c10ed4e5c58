// Real split runs against a real executor child process on loopback: the head runs here
// with onnxruntime-node, the tail on the executor, and the outputs must equal a full local
// run — on LeNet (cut 0, a middle cut and N), AlexNet (a middle cut and N) and ResNet-18 (at
// a cut that crosses a residual). Also: shaping shows in the timings, --cut auto decides from live
// profiles, and the failures a user can hit (unreachable executor, executor killed
// mid-run, wrong token, cut out of range) are named errors that do not hang. The load
// test makes the executor busy and checks that the automatic cut moves to the device.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { buildPartitionProblem } from '../../app/engine.js';
import { crossingTensors, predecessorClosure } from '../../app/partition/cuts.js';
import { analyzeLoadedModel, analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import { ExecutorClient, ExecutorError } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { NetworkShaper } from '../executor/shaper.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { profileModel, writeProfileFile } from '../profiling/profiler.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { runSplit, SplitRunner, type SplitRunRequest } from './split-run.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';

let executor: ExecutorProcess;
let dir: string;

function connectTo(url: string, token?: string): (shaper?: LinkShaper) => RemoteExecutor {
  return (shaper) => new ExecutorClient({ url, token, shaper, timeoutMs: 60_000 });
}

async function analyzeBytes(bytes: Uint8Array, name: string): Promise<AnalyzedModel> {
  return analyzeLoadedModel({ path: path.join(dir, name), bytes, model: readOnnxModel(bytes) });
}

function request(analyzed: AnalyzedModel, overrides: Partial<SplitRunRequest>): SplitRunRequest {
  return {
    analyzed,
    cut: 0,
    objective: 'latency',
    network: { name: 'unshaped' },
    runs: 2,
    ep: 'cpu',
    connect: connectTo(executor.url),
    ...overrides
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-split-run-'));
  executor = await startExecutorProcess(['--max-concurrency', '1']);
});

afterAll(async () => {
  await executor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('real split runs', () => {
  it.each([0, 4, 9])('LeNet at cut %i equals the full local run', async (cut) => {
    const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
    const report = await runSplit(request(analyzed, { cut }));
    expect(report).toMatchObject({ model: 'lenet.onnx', cut, chosenBy: 'user', nodes: 9 });
    expect(report.outputCheck.ok).toBe(true);
    expect(report.outputCheck.maxAbsDiff).toBeLessThan(1e-4);
    expect(report.runs).toHaveLength(2);
    if (cut === 0) {
      expect(report.median.localMs).toBe(0);
      expect(report.crossing).toEqual(['input']);
      expect(report.median.bytesUp).toBeGreaterThan(1 * 28 * 28 * 4);
      expect(report.median.remoteMs).toBeGreaterThan(0);
    } else if (cut === 9) {
      expect(report.median).toMatchObject({ bytesUp: 0, bytesDown: 0, uploadMs: 0, remoteMs: 0 });
      expect(report.median.localMs).toBeGreaterThan(0);
    } else {
      expect(report.median.localMs).toBeGreaterThan(0);
      expect(report.median.bytesUp).toBeGreaterThan(0);
      expect(report.median.bytesDown).toBeGreaterThan(10 * 4);
    }
  });

  // Cut 0 of a model is LeNet's above; AlexNet's 240 MB tail makes it slow for nothing new.
  it('AlexNet at a middle cut and at N equals the full local run', async () => {
    const analyzed = await analyzeModelFile(ensureZooModel('alexnet', defaultZooDir()));
    const control = connectTo(executor.url)();
    const runner = await SplitRunner.open(analyzed, { ep: 'cpu' });
    try {
      for (const cut of [8, runner.nodeCount]) {
        const prepared = await runner.prepare(cut, control);
        try {
          const measured = await prepared.measure(cut < runner.nodeCount ? control : null, { runs: 1 });
          expect(measured.outputCheck, `cut ${cut}`).toMatchObject({ ok: true, mismatches: [] });
        } finally {
          await prepared.release();
        }
      }
    } finally {
      await runner.release();
    }
  });

  it('emulates a slower device from the head\'s steady time: runs right after the query\'s own, the fastest × the slowdown', async () => {
    const analyzed = await analyzeBytes(buildZooModel('resnet18', { seed: 5 }), 'resnet18-slowdown.onnx');
    const runner = await SplitRunner.open(analyzed, { ep: 'cpu', deviceSlowdown: 6 });
    const headRuns: number[] = [];
    // Every session's run, timed: onnxruntime-node's sessions share this prototype (its typings declare a factory).
    const sessions = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype;
    const run = sessions.run;
    const spy = vi.spyOn(sessions, 'run').mockImplementation(async function (this: ort.InferenceSession, ...args: Parameters<typeof run>) {
      const start = performance.now();
      const result = await run.apply(this, args);
      headRuns.push(performance.now() - start);
      return result;
    });
    try {
      const prepared = await runner.prepare(runner.nodeCount, null);
      try {
        headRuns.length = 0;
        const { timing, outputs } = await prepared.runOnce(null);
        expect(Object.keys(outputs).length).toBeGreaterThan(0);
        // The query's own run, then up to three while they fit in six times the fastest.
        expect(headRuns.length).toBeGreaterThanOrEqual(2);
        expect(headRuns.length).toBeLessThanOrEqual(4);
        const steadyMs = Math.min(...headRuns.slice(1));
        expect(timing.localMs).toBeGreaterThanOrEqual(6 * steadyMs - 1);
        expect(timing.localMs).toBeGreaterThanOrEqual(headRuns.reduce((a, b) => a + b, 0));
      } finally {
        await prepared.release();
      }
    } finally {
      spy.mockRestore();
      await runner.release();
    }
  });

  it('ResNet-18 at a cut that crosses a residual (two tensors) equals the full local run', async () => {
    const analyzed = await analyzeModelFile(ensureZooModel('resnet18', defaultZooDir()));
    const control = connectTo(executor.url)();
    const problem = buildPartitionProblem(analyzed.analysis, { localMs: analyzed.analysis.layers.map(() => 0), remoteMs: analyzed.analysis.layers.map(() => 0) });
    const cut = analyzed.analysis.layers.findIndex((_, k) => k > 0 && crossingTensors(problem, k).uploaded.length >= 2);
    expect(cut).toBeGreaterThan(0);
    const runner = await SplitRunner.open(analyzed, { ep: 'cpu' });
    try {
      const prepared = await runner.prepare(cut, control);
      try {
        expect(prepared.crossing).toHaveLength(2);
        const measured = await prepared.measure(control, { runs: 1 });
        expect(measured.outputCheck.ok).toBe(true);
        expect(measured.median.bytesUp).toBeGreaterThan(prepared.crossingBytes);
      } finally {
        await prepared.release();
      }
    } finally {
      await runner.release();
    }
  });

  it('shapes the transfers: at least bytes / bandwidth + RTT/2 each way', async () => {
    const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
    const network = { name: '3g', uplinkMbps: 0.5, downlinkMbps: 2, rttMs: 60 };
    const report = await runSplit(request(analyzed, { cut: 0, runs: 1, network }));
    expect(report.network).toMatchObject({ uplinkMbps: 0.5, rttMs: 60, shaped: true });
    const run = report.runs[0];
    expect(run.uploadMs).toBeGreaterThanOrEqual((run.bytesUp * 8) / (0.5 * 1000) + 30);
    expect(run.downloadMs).toBeGreaterThanOrEqual(30);
    expect(run.totalMs).toBeGreaterThanOrEqual(run.uploadMs + run.downloadMs);
  });

  it('--cut auto decides from live profiles of both sides and the executor load', async () => {
    const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
    const report = await runSplit(request(analyzed, { cut: 'auto', network: { name: 'lte' }, runs: 1 }));
    expect(report.chosenBy).toBe('auto');
    expect(report.decision?.predicted).toHaveLength(10);
    expect(report.cut).toBe(report.decision?.chosen);
    const best = Math.min(...(report.decision?.predicted ?? []).map((c) => c.totalMs));
    expect(report.decision?.predicted[report.cut as number].totalMs).toBe(best);
    expect(report.decision?.serverLoad).toBeGreaterThanOrEqual(1);
    expect(report.decision?.latencies.remote).toMatch(/executor/);
    expect(report.outputCheck.ok).toBe(true);
  });

  it('runs over the measured live link without shaping', async () => {
    const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
    const report = await runSplit(request(analyzed, { cut: 2, network: { name: 'measured' }, runs: 1 }));
    expect(report.network.name).toBe('measured');
    expect(report.network.shaped).toBe(false);
    expect(report.network.uplinkMbps).toBeGreaterThan(0);
    expect(report.outputCheck.ok).toBe(true);
  });
});

describe('failures a user can hit', () => {
  it('refuses a cut out of range before contacting anyone', async () => {
    const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
    const run = runSplit(request(analyzed, { cut: 10, connect: connectTo('http://127.0.0.1:1') }));
    await expect(run).rejects.toThrow(UsageError);
    await expect(run).rejects.toThrow(/cut 10 is out of range: lenet.onnx has 9 layers \(cuts 0..9\)/);
  });

  it('names an unreachable executor', async () => {
    const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
    const run = runSplit(request(analyzed, { cut: 3, connect: connectTo('http://127.0.0.1:1') }));
    await expect(run).rejects.toThrow(ExecutorError);
    await expect(run).rejects.toThrow(/127\.0\.0\.1:1.*connection refused/);
  });

  it('names a wrong token', async () => {
    const guarded = await startExecutorProcess(['--token', 'right-token', '--max-concurrency', '1']);
    try {
      const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
      const run = runSplit(request(analyzed, { cut: 3, connect: connectTo(guarded.url, 'wrong-token') }));
      await expect(run).rejects.toThrow(ExecutorError);
      await expect(run).rejects.toThrow(/401 wrong bearer token/);
      const ok = await runSplit(request(analyzed, { cut: 3, runs: 1, connect: connectTo(guarded.url, 'right-token') }));
      expect(ok.outputCheck.ok).toBe(true);
    } finally {
      await guarded.stop();
    }
  });

  it('fails with one named error, not a hang, when the executor dies mid-run', async () => {
    const doomed = await startExecutorProcess(['--max-concurrency', '1']);
    try {
      const analyzed = await analyzeBytes(buildZooModel('lenet', { seed: 3 }), 'lenet.onnx');
      const connect = connectTo(doomed.url);
      const runner = await SplitRunner.open(analyzed);
      try {
        const prepared = await runner.prepare(0, connect());
        // 3 KB at 0.05 Mbps: the upload takes about half a second, long enough to die in.
        const slow = connect(new NetworkShaper({ name: 'slow', uplinkMbps: 0.05, downlinkMbps: 1, rttMs: 0 }));
        const run = prepared.runOnce(slow);
        setTimeout(() => doomed.child.kill('SIGKILL'), 150);
        await expect(run).rejects.toThrow(ExecutorError);
        await expect(run).rejects.toThrow(/connection closed|connection refused|socket hang up|ECONNRESET|EPIPE/);
      } finally {
        await runner.release();
      }
    } finally {
      await doomed.stop();
    }
  });
});

/** Six 64-channel 3×3 convolutions on 56×56 and a global pool: ~0.7 GMAC, a few KB out. */
function convStack(): Uint8Array {
  const builder = new GraphBuilder('conv_stack', { seed: 5 });
  let x = builder.input('input', 'float32', [1, 64, 56, 56]);
  for (let i = 0; i < 6; i++) x = builder.relu(builder.conv(x, { inChannels: 64, outChannels: 64, kernel: 3, pad: 1, name: `/conv${i}/Conv` }), `/relu${i}/Relu`);
  builder.output(builder.flatten(builder.globalAveragePool(x)), 'float32', [1, 64]);
  return builder.toBytes();
}

describe('load awareness', () => {
  it('moves --cut auto toward the device when the executor is busy (K rises)', async () => {
    const busy = await startExecutorProcess(['--max-concurrency', '1', '--max-queue', '64', '--timeout-s', '300']);
    const stop = { now: false };
    const hammers: Promise<void>[] = [];
    try {
      const bytes = convStack();
      const analyzed = await analyzeBytes(bytes, 'conv-stack.onnx');
      // Both sides' latencies are this machine's measured per-layer times, the device's
      // made 3× slower (a phone against a server): only K comes from the live executor.
      // Idle (K = 1) the server wins; with K > 5 the device must.
      const measured = await profileModel(analyzed, { ep: 'cpu', runs: 5, warmup: 1 });
      // Every time in the profile scales, the whole run too (it is what the layers are spread to add up to).
      const scaled = (factor: number) => ({
        ...measured,
        layers: measured.layers.map((l) => ({ ...l, medianMs: l.medianMs * factor, p10Ms: l.p10Ms * factor, p90Ms: l.p90Ms * factor })),
        sumOfMediansMs: measured.sumOfMediansMs * factor,
        wholeModelMs: measured.wholeModelMs === null ? null : measured.wholeModelMs * factor,
        ...(measured.runOverheadMs === undefined ? {} : { runOverheadMs: measured.runOverheadMs * factor })
      });
      const deviceFile = path.join(dir, 'slow-device.json');
      const serverFile = path.join(dir, 'server.json');
      writeProfileFile(deviceFile, scaled(3));
      writeProfileFile(serverFile, scaled(1));
      const decide = () => runSplit({ ...request(analyzed, { cut: 'auto', runs: 1, connect: connectTo(busy.url) }), localFile: deviceFile, remoteFile: serverFile });

      const idle = await decide();
      expect(idle.decision?.serverLoad).toBe(1);
      expect(idle.cut).toBeLessThan(idle.nodes);

      const client = connectTo(busy.url)();
      const { name } = await client.uploadModel(bytes, { name: 'hammered' });
      const input = { name: 'input', datatype: 'FP32' as const, shape: [1, 64, 56, 56], data: new Uint8Array(64 * 56 * 56 * 4) };
      // Twelve clients keep the queue long while the decision reads K (with eight, K once read
      // 5 under npm test's load: the clients re-sending late left four queued).
      for (let i = 0; i < 12; i++) {
        hammers.push(
          (async () => {
            while (!stop.now) await client.infer(name, [input]);
          })()
        );
      }
      const loadClient = new ExecutorClient({ url: busy.url });
      while ((await loadClient.load()).queued < 9) await new Promise((resolve) => setTimeout(resolve, 50));

      const loaded = await decide();
      expect(loaded.decision?.serverLoad).toBeGreaterThan(5);
      expect(loaded.cut).toBeGreaterThan(idle.cut as number);
      expect(loaded.outputCheck.ok).toBe(true);
    } finally {
      stop.now = true;
      await Promise.allSettled(hammers);
      await busy.stop();
    }
  }, 240_000);
});

describe('DAG partitions run for real', () => {
  it('runs a predecessor-closed set that is no topological prefix, head → executor → tail, outputs equal', async () => {
    const analyzed = await analyzeBytes(buildZooModel('resnet18', { seed: 4 }), 'resnet18.onnx');
    const problem = buildPartitionProblem(analyzed.analysis, { localMs: analyzed.analysis.layers.map(() => 1), remoteMs: analyzed.analysis.layers.map(() => 1) });
    // The first layer whose ancestors are no topological prefix (a downsample branch, say): it and all it depends on.
    const local = analyzed.analysis.layers.map((l) => predecessorClosure(problem, l.index)).find((set) => [...set].some((i) => i >= set.size)) as Set<number>;
    const isPrefix = [...local].every((i) => i < local.size);
    expect(isPrefix).toBe(false);
    const runner = await SplitRunner.open(analyzed, { seed: 2 });
    try {
      const prepared = await runner.prepare({ dag: [...local] }, connectTo(executor.url)());
      try {
        expect(prepared.cut).toBe('dag');
        expect(prepared.crossing.length).toBeGreaterThan(1);
        const measurement = await prepared.measure(connectTo(executor.url)(), { runs: 1 });
        expect(measurement.outputCheck.ok).toBe(true);
      } finally {
        await prepared.release();
      }
    } finally {
      await runner.release();
    }
  });

  it('run --cut dag decides the min-cut partition from live profiles and reports it', async () => {
    const analyzed = await analyzeBytes(buildZooModel('resnet18', { seed: 4 }), 'resnet18.onnx');
    const report = await runSplit(request(analyzed, { cut: 'dag', network: { name: 'lte' }, runs: 1, deviceSlowdown: 8 }));
    expect(report.cut).toBe('dag');
    expect(report.chosenBy).toBe('auto');
    expect(report.decision?.chosen).toBe('dag');
    expect(report.decision?.dag?.localLayers).toEqual(report.localLayers);
    expect(report.outputCheck.ok).toBe(true);
  });
});
