// ExecutorClient against real executor processes on loopback: uploads that happen once,
// inference that equals onnxruntime run here, link measurement (plain and through the
// network shaper), the executor's load factor K rising under real concurrent requests
// and falling back when idle, and failures — unknown models, tokens, timeouts, an
// executor killed mid-request — as one-line ExecutorErrors, never a crash or a hang.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { startExecutorProcess, type ExecutorProcess } from './executor-process.js';
import { fromRawTensor, toRawTensor } from './ort-tensors.js';
import { ExecutorClient, ExecutorError } from './client.js';
import type { RawTensor } from './link.js';
import { NetworkShaper } from './shaper.js';

function slowModel(steps: number): Uint8Array {
  const b = new GraphBuilder('slow');
  let x = b.input('x', 'float32', [256, 1024]);
  const w = b.weight('w', [1024, 1024], 1024);
  for (let i = 0; i < steps; i++) x = b.op('MatMul', [x, w], {}, `mm${i}`);
  b.output(x, 'float32', [256, 1024]);
  return b.toBytes();
}

const slowInput: RawTensor = { name: 'x', datatype: 'FP32', shape: [256, 1024], data: new Uint8Array(new Float32Array(256 * 1024).fill(0.001).buffer) };

async function expectExecutorError(promise: Promise<unknown>, pattern: RegExp): Promise<ExecutorError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e
  );
  expect(error).toBeInstanceOf(ExecutorError);
  const message = (error as ExecutorError).message;
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
  return error as ExecutorError;
}

let executor: ExecutorProcess;
let client: ExecutorClient;

beforeAll(async () => {
  executor = await startExecutorProcess([]);
  client = new ExecutorClient({ url: executor.url });
});

afterAll(async () => {
  client?.close();
  await executor?.stop();
});

describe('metadata and health', () => {
  it('reads health, server metadata, model metadata and readiness', async () => {
    expect(await client.live()).toBe(true);
    expect(await client.ready()).toBe(true);
    expect((await client.serverMetadata()).extensions).toContain('binary_tensor_data');
    expect(await client.modelReady('nope')).toBe(false);
    const error = await expectExecutorError(client.modelMetadata('nope'), /^executor http:\/\/127\.0\.0\.1:\d+: 404 unknown model 'nope'$/);
    expect(error.status).toBe(404);
  });
});

describe('uploads', () => {
  it('uploads a model once: the same bytes again are found by their hash and not sent', async () => {
    const bytes = buildZooModel('lenet', { seed: 3 });
    const hash = createHash('sha256').update(bytes).digest('hex');
    const first = await client.uploadModel(bytes);
    expect(first).toEqual({ name: `tail-${hash.slice(0, 16)}`, sha256: hash, uploaded: true });
    expect(await client.modelReady(first.name)).toBe(true);
    expect(await client.uploadModel(bytes)).toEqual({ ...first, uploaded: false });
    const other = new ExecutorClient({ url: executor.url });
    try {
      expect((await other.uploadModel(bytes)).uploaded).toBe(false);
      const sessions = (await other.load()).sessionsCreated;
      // A new name with the same bytes is uploaded, but the executor reuses the sessions.
      expect(await other.uploadModel(bytes, { name: 'lenet-named' })).toMatchObject({ name: 'lenet-named', uploaded: true });
      expect((await other.load()).sessionsCreated).toBe(sessions);
      expect((await other.uploadModel(bytes, { name: 'lenet-named' })).uploaded).toBe(false);
    } finally {
      other.close();
    }
  });

  it('re-uploads when the name holds other bytes, and unloads', async () => {
    const a = buildZooModel('lenet', { seed: 4 });
    const b = buildZooModel('lenet', { seed: 5 });
    expect((await client.uploadModel(a, { name: 'swap' })).uploaded).toBe(true);
    expect((await client.uploadModel(b, { name: 'swap' })).uploaded).toBe(true);
    expect((await client.repositoryIndex()).find((e) => e.name === 'swap')?.sha256).toBe(createHash('sha256').update(b).digest('hex'));
    await client.unloadModel('swap');
    expect(await client.modelReady('swap')).toBe(false);
    await expectExecutorError(client.unloadModel('swap'), /404 unknown model 'swap'/);
  });

  it('refuses a model onnxruntime cannot load, in one line', async () => {
    await expectExecutorError(client.uploadModel(new TextEncoder().encode('not a model'), { name: 'junk' }), /400 onnxruntime cannot load model 'junk' version 1/);
  });
});

describe('inference', () => {
  it('returns what onnxruntime returns here, with the time of each leg', async () => {
    const bytes = buildZooModel('lenet', { seed: 6 });
    const { name } = await client.uploadModel(bytes);
    const input = new ort.Tensor('float32', Float32Array.from({ length: 28 * 28 }, (_, i) => Math.sin(i)), [1, 1, 28, 28]);
    const session = await ort.InferenceSession.create(bytes);
    const local = await session.run({ [session.inputNames[0]]: input });
    await session.release();
    const outcome = await client.infer(name, [toRawTensor(session.inputNames[0], input)], { id: 'x1' });
    expect(outcome.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual(Object.entries(local).map(([n, t]) => [n, 'FP32', [...t.dims]]));
    const remote = fromRawTensor(outcome.outputs[0]).data as Float32Array;
    const expected = local[outcome.outputs[0].name].data as Float32Array;
    for (let i = 0; i < expected.length; i++) expect(remote[i]).toBeCloseTo(expected[i], 5);
    const t = outcome.timings;
    expect(t.bytesUp).toBeGreaterThan(28 * 28 * 4);
    expect(t.bytesDown).toBeGreaterThan(expected.byteLength);
    expect(t.remoteMs).toBeGreaterThan(0);
    for (const leg of [t.encodeMs, t.uploadMs, t.downloadMs]) expect(leg).toBeGreaterThanOrEqual(0);
    expect(t.totalMs).toBeGreaterThanOrEqual((t.remoteMs ?? 0) + t.uploadMs);
  });

  it('returns only the outputs asked for, and names bad inputs', async () => {
    const b = new GraphBuilder('two');
    const x = b.input('x', 'int64', [2]);
    b.output(b.op('Neg', [x], {}, 'neg'), 'int64', [2]);
    b.output(b.op('Abs', [x], {}, 'abs'), 'int64', [2]);
    const { name } = await client.uploadModel(b.toBytes());
    const x64: RawTensor = { name: 'x', datatype: 'INT64', shape: [2], data: new Uint8Array(new BigInt64Array([-3n, 4n]).buffer) };
    const outcome = await client.infer(name, [x64], { outputs: ['abs_output_0'] });
    expect(outcome.outputs.map((o) => [o.name, [...new BigInt64Array(o.data.slice().buffer)], o.data instanceof Buffer])).toEqual([['abs_output_0', [3n, 4n], false]]);
    await expectExecutorError(client.infer(name, [{ ...x64, shape: [3] }]), /cannot send to executor .*tensor 'x': 16 bytes for shape \[3\]/);
    await expectExecutorError(client.infer(name, [{ ...x64, datatype: 'FP64' }]), /400 input 'x': datatype FP64, the model expects INT64/);
  });

  it('profiles a model on the executor', async () => {
    const { name, sha256 } = await client.uploadModel(buildZooModel('lenet', { seed: 6 }));
    const profile = await client.profile(name, { runs: 2, warmup: 1 });
    expect(profile.model.sha256).toBe(sha256);
    expect(profile.layers.length).toBeGreaterThan(5);
  });
});

describe('link measurement', () => {
  it('measures a loopback link: small RTT, fast both ways', async () => {
    const link = await client.measureLink({ rounds: 2 });
    expect(link.rttMs).toBeGreaterThan(0);
    expect(link.rttMs).toBeLessThan(100);
    expect(link.uplinkMbps).toBeGreaterThan(50);
    expect(link.downlinkMbps).toBeGreaterThan(50);
    expect(link.probeBytes).toBeGreaterThanOrEqual(64 << 10);
  });

  it('measures about the shaped link when transfers go through the shaper', async () => {
    const shaped = new ExecutorClient({
      url: executor.url,
      shaper: new NetworkShaper({ name: 'test', uplinkMbps: 20, downlinkMbps: 40, rttMs: 30 })
    });
    try {
      const link = await shaped.measureLink({ rounds: 2 });
      expect(link.rttMs).toBeGreaterThan(25);
      expect(link.rttMs).toBeLessThan(80);
      expect(link.uplinkMbps).toBeGreaterThan(20 * 0.6);
      expect(link.uplinkMbps).toBeLessThan(20 * 1.4);
      expect(link.downlinkMbps).toBeGreaterThan(40 * 0.6);
      expect(link.downlinkMbps).toBeLessThan(40 * 1.4);
    } finally {
      shaped.close();
    }
  });
});

describe('server load factor K', () => {
  it('rises while real concurrent requests queue, and is back to 1 when the executor is idle', async () => {
    const busy = await startExecutorProcess(['--max-concurrency', '1', '--max-queue', '64']);
    const clients = Array.from({ length: 8 }, () => new ExecutorClient({ url: busy.url }));
    try {
      const { name } = await clients[0].uploadModel(slowModel(24));
      await clients[0].infer(name, [slowInput]);
      expect((await clients[0].load()).loadFactor).toBe(1);
      const requests = clients.map((c) => c.infer(name, [slowInput]));
      let settled = false;
      const all = Promise.all(requests).finally(() => (settled = true));
      const samples: number[] = [];
      while (!settled) {
        const load = await clients[0].load();
        samples.push(load.loadFactor);
        expect(load.inFlight).toBeLessThanOrEqual(1);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const outcomes = await all;
      expect(outcomes).toHaveLength(8);
      expect(Math.max(...samples)).toBeGreaterThanOrEqual(2);
      const idle = await clients[0].load();
      expect(idle).toMatchObject({ inFlight: 0, queued: 0, loadFactor: 1, rejected: 0 });
      expect(idle.completed).toBe(9);
      expect(idle.queueMs.p90).toBeGreaterThan(0);
    } finally {
      for (const c of clients) c.close();
      await busy.stop();
    }
  });
});

describe('failures', () => {
  it('needs the token when the executor has one', async () => {
    const guarded = await startExecutorProcess(['--token', 'tok']);
    try {
      const without = new ExecutorClient({ url: guarded.url });
      const withToken = new ExecutorClient({ url: guarded.url, token: 'tok' });
      expect(await without.live()).toBe(true);
      await expectExecutorError(without.load(), /401 this executor needs an Authorization: Bearer token/);
      expect((await withToken.load()).loadFactor).toBe(1);
      without.close();
      withToken.close();
    } finally {
      await guarded.stop();
    }
  });

  it('gives up after timeoutMs without a byte moving', async () => {
    const { name } = await client.uploadModel(slowModel(96));
    const impatient = new ExecutorClient({ url: executor.url, timeoutMs: 50 });
    try {
      await expectExecutorError(impatient.infer(name, [slowInput]), /no data moved for 0 s \(timeout\)|timeout/);
    } finally {
      impatient.close();
    }
  });

  it('turns an executor killed mid-request into an ExecutorError, then "connection refused"', async () => {
    const doomed = await startExecutorProcess([]);
    const victim = new ExecutorClient({ url: doomed.url });
    try {
      const { name } = await victim.uploadModel(slowModel(160));
      const pending = victim.infer(name, [slowInput]);
      setTimeout(() => doomed.child.kill('SIGKILL'), 100);
      await expectExecutorError(pending, new RegExp(`^executor ${doomed.url.replace(/\./g, '\\.')}: the connection closed before a response came`));
      // Let the kernel's closing of the dead process's sockets reach the client's idle pool.
      if (doomed.child.exitCode === null && doomed.child.signalCode === null) await once(doomed.child, 'exit');
      await expectExecutorError(victim.load(), /connection refused/);
      expect(await victim.live()).toBe(false);
    } finally {
      victim.close();
      await doomed.stop();
    }
  });

  it('refuses a URL that is not one', () => {
    expect(() => new ExecutorClient({ url: 'not a url' })).toThrow(ExecutorError);
  });
});
