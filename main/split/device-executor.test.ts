// The head on a device executor (issue 17), with two real executor child processes on
// loopback: a server, and a device started with `--upstream` (the server) and `--slowdown`.
// The head runs on the device and its output goes from the device to the server directly
// (the server's inference count grows while this process never calls it to infer), outputs
// equal the full model, a sweep works through it, profiles come from the device (scaled by
// its slowdown) and characterises its machine there; and the bad inputs: a device that cannot be reached, one that refuses the
// upstream (none configured, or another one), and one that dies mid-sweep — each named in
// one line, with the cuts measured before kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { networkPreset } from '../../app/partition/presets.js';
import { analyzeLoadedModel, type AnalyzedModel } from '../model/analyze-file.js';
import { ExecutorClient } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { runSplit } from './split-run.js';
import { profileOn } from './split-prediction.js';
import { NOT_REACHED, sweepModel, SweepInterruptedError } from './sweep.js';

let server: ExecutorProcess;
let device: ExecutorProcess;
let dir: string;
let lenet: AnalyzedModel;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-device-'));
  const bytes = buildZooModel('lenet', { seed: 4 });
  lenet = await analyzeLoadedModel({ path: path.join(dir, 'lenet.onnx'), bytes, model: readOnnxModel(bytes) });
  server = await startExecutorProcess(['--max-concurrency', '1']);
  device = await startExecutorProcess(['--max-concurrency', '1', '--upstream', server.url, '--slowdown', '4']);
});

afterAll(async () => {
  await device?.stop();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Clients of the server that count the inferences this process sends it. */
function countingConnect(url: string) {
  const counter = { infers: 0 };
  const connect = (shaper?: LinkShaper) => {
    const client = new ExecutorClient({ url, shaper });
    const infer = client.infer.bind(client);
    client.infer = (...args) => {
      counter.infers++;
      return infer(...args);
    };
    return client;
  };
  return { connect, counter };
}

const completed = async (url: string) => ((await new ExecutorClient({ url }).load()) as unknown as { completed: number }).completed;

describe('the head on a device executor', () => {
  it('runs the head on the device, which sends its output to the server itself; outputs equal the full model', async () => {
    const { connect, counter } = countingConnect(server.url);
    const before = await completed(server.url);
    const deviceClient = new ExecutorClient({ url: device.url, role: 'device executor' });
    const report = await runSplit({ analyzed: lenet, cut: 4, objective: 'latency', network: { name: 'lte' }, runs: 2, ep: 'cpu', connect, device: deviceClient });
    expect(report.outputCheck.ok).toBe(true);
    expect(report.deviceExecutor).toBe(deviceClient.url);
    expect(counter.infers).toBe(0);
    expect((await completed(server.url)) - before).toBe(3);
    // LTE's 50 ms round trip is paid on the device's link, and the crossing tensor went up it.
    expect(report.median.uploadMs + report.median.downloadMs).toBeGreaterThanOrEqual(49);
    expect(report.median.bytesUp).toBeGreaterThan(0);
    expect(report.median.localMs).toBeGreaterThan(0);
    expect(report.median.totalMs).toBeGreaterThanOrEqual(report.median.localMs + report.median.uploadMs);
  });

  it('profiles on the device (times scaled by its --slowdown) and sweeps with the head there', async () => {
    const deviceClient = new ExecutorClient({ url: device.url, role: 'device executor' });
    const profile = await profileOn(deviceClient, lenet, { runs: 3, warmup: 1 });
    expect(profile.layers).toHaveLength(lenet.analysis.layers.length);
    expect(profile.device.hostname).toMatch(/emulated 4× slower/);
    const { connect } = countingConnect(server.url);
    const [result] = await sweepModel({
      analyzed: lenet,
      links: [{ kind: 'preset', preset: networkPreset('wifi') }],
      runs: 1,
      prune: false,
      ep: 'cpu',
      profileRuns: 3,
      profileWarmup: 1,
      connect,
      device: deviceClient
    });
    expect(result.outputsOk).toBe(true);
    expect(result.deviceExecutor).toBe(deviceClient.url);
    expect(result.latencies.local).toMatch(/measured by the device executor/);
    expect(result.cuts.every((c) => c.measuredMs !== null)).toBe(true);
  });

  it('characterises the device executor\'s machine there (characterize --device-executor), its times scaled by --slowdown', async () => {
    const deviceClient = new ExecutorClient({ url: device.url, role: 'device executor' });
    const profile = await deviceClient.characterize({ budgetS: 4 });
    expect(profile.kind).toBe('device-profile');
    expect(profile.device.hostname).toMatch(/emulated 4× slower/);
    // A 4 s budget goes mostly to calibration: the sweep itself is bench material, not a test's.
    expect(profile.budgetS).toBe(4);
    expect(profile.overheadMs).toBeGreaterThan(0);
  }, 120_000);

  it('names a device executor that cannot be reached, or that refuses the upstream', async () => {
    const { connect } = countingConnect(server.url);
    const gone = await startExecutorProcess([]);
    const goneUrl = gone.url;
    await gone.stop();
    const unreachable = new ExecutorClient({ url: goneUrl, role: 'device executor' });
    await expect(runSplit({ analyzed: lenet, cut: 4, objective: 'latency', network: { name: 'wifi' }, runs: 1, ep: 'cpu', connect, device: unreachable })).rejects.toThrow(
      `device executor ${goneUrl}: connection refused (is the executor running?)`
    );
    // A device started without --upstream forwards nowhere; one started for another server refuses this one.
    const plain = await startExecutorProcess([]);
    const other = await startExecutorProcess(['--upstream', 'http://127.0.0.1:9']);
    try {
      const run = (url: string) =>
        runSplit({ analyzed: lenet, cut: 4, objective: 'latency', network: { name: 'wifi' }, runs: 1, ep: 'cpu', connect, device: new ExecutorClient({ url, role: 'device executor' }) });
      await expect(run(plain.url)).rejects.toThrow(`device executor ${plain.url}: 403 this executor was started without --upstream: it forwards to no server`);
      await expect(run(other.url)).rejects.toThrow(`device executor ${other.url}: 403 this device executor forwards only to its --upstream http://127.0.0.1:9, not to ${server.url}`);
    } finally {
      await plain.stop();
      await other.stop();
    }
  });

  it('keeps what was measured when the device executor dies mid-sweep, and names it', async () => {
    const doomed = await startExecutorProcess(['--max-concurrency', '1', '--upstream', server.url]);
    const { connect } = countingConnect(server.url);
    const deviceClient = new ExecutorClient({ url: doomed.url, role: 'device executor', timeoutMs: 10_000 });
    const error = await sweepModel({
      analyzed: lenet,
      links: [{ kind: 'preset', preset: networkPreset('unshaped') }],
      runs: 1,
      prune: false,
      ep: 'cpu',
      profileRuns: 2,
      profileWarmup: 1,
      connect,
      device: deviceClient,
      onProgress: (message) => {
        if (message.startsWith('[4/')) doomed.child.kill('SIGKILL');
      }
    }).catch((e: unknown) => e);
    await doomed.stop();
    expect(error).toBeInstanceOf(SweepInterruptedError);
    const interrupted = error as SweepInterruptedError;
    expect(interrupted.message).toMatch(new RegExp(`^the sweep stopped after 3 of 10 cuts: device executor ${doomed.url.replace(/[.]/g, '\\.')}: `));
    expect(interrupted.message.split('\n')).toHaveLength(1);
    const [partial] = interrupted.partial;
    expect(partial.cuts.slice(0, 3).every((c) => c.measuredMs !== null)).toBe(true);
    expect(partial.cuts.slice(3).every((c) => c.skipped === NOT_REACHED)).toBe(true);
  });
});
