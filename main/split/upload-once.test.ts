// Upload a model once, against a real executor child process on loopback: the whole model
// goes up once per executor and every tail is built there by the same surgery, byte for
// byte (its hash checked), with outputs equal to the full model; a second runner sends
// nothing; a build whose hash (of its bytes or its description) differs is refused (409); a
// kept model's body must match the hash its URL names; the files the parts' weights reference
// are written before any cut (when the model is kept, when a runner opens); the whole model,
// built as a part, is opened from a file referencing the kept model's and profiled as that
// model. Real PyTorch exports
// (../shared/real-models) are built identically on the executor at spread cuts, byte for byte.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeLoadedModel, analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { sha256 } from '../model/model-file.js';
import { listRealModels } from '../model/real-models.js';
import { ExecutorClient, ExecutorError } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { SplitRunner } from './split-run.js';
import { encodeSplit, splitModel } from './surgery.js';
import { describePart } from './part-builder.js';
import { referencingSource } from './external-weights.js';
import * as ort from 'onnxruntime-node';
import { generateInputs } from '../model/inputs.js';
import { fromRawTensor, toRawTensor } from '../executor/ort-tensors.js';
import { sweepModel } from './sweep.js';
import { networkPreset } from '../../app/partition/presets.js';

let executor: ExecutorProcess;
let dir: string;
let lenet: AnalyzedModel;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-upload-once-'));
  const bytes = buildZooModel('lenet', { seed: 4 });
  lenet = await analyzeLoadedModel({ path: path.join(dir, 'lenet.onnx'), bytes, model: readOnnxModel(bytes) });
  executor = await startExecutorProcess(['--max-concurrency', '1']);
});

afterAll(async () => {
  await executor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('upload a model once', () => {
  it('sends the model once and builds every tail on the executor, outputs equal to the full model', async () => {
    const client = new ExecutorClient({ url: executor.url });
    const runner = await SplitRunner.open(lenet);
    try {
      const layers = lenet.analysis.layers.length;
      for (let cut = 0; cut < layers; cut++) {
        const prepared = await runner.prepare(cut, client);
        try {
          const measured = await prepared.measure(client, { runs: 1 });
          expect(measured.outputCheck.ok, `cut ${cut}`).toBe(true);
        } finally {
          await prepared.release();
        }
      }
      expect(runner.tailsPlaced).toEqual({ built: layers, uploaded: 0 });
      expect(client.bytesUploaded).toBe(lenet.bytes.byteLength);
    } finally {
      await runner.release();
    }
    // A second runner (a second `run`) finds the model kept: nothing is sent.
    const again = new ExecutorClient({ url: executor.url });
    const second = await SplitRunner.open(lenet);
    try {
      const prepared = await second.prepare(3, again);
      await prepared.release();
      expect(second.tailsPlaced.built).toBe(1);
      expect(again.bytesUploaded).toBe(0);
    } finally {
      await second.release();
    }
  });

  it('a sweep at every cut uploads the model once; with upload-once off it uploads every tail', async () => {
    const links = [{ kind: 'preset' as const, preset: networkPreset('wifi') }];
    const fresh = await startExecutorProcess(['--max-concurrency', '1']);
    try {
      const clients: ExecutorClient[] = [];
      const connect = (shaper?: LinkShaper) => {
        const client = new ExecutorClient({ url: fresh.url, shaper });
        clients.push(client);
        return client;
      };
      const sent = () => clients.reduce((sum, c) => sum + c.bytesUploaded, 0);
      const [once] = await sweepModel({ analyzed: lenet, links, runs: 1, prune: false, ep: 'cpu', profileRuns: 2, profileWarmup: 1, connect });
      expect(once.outputsOk).toBe(true);
      expect(sent()).toBe(lenet.bytes.byteLength);
      clients.length = 0;
      const [each] = await sweepModel({ analyzed: lenet, links, runs: 1, prune: false, ep: 'cpu', profileRuns: 2, profileWarmup: 1, connect, uploadOnce: false });
      expect(each.outputsOk).toBe(true);
      expect(sent()).toBeGreaterThan(2 * lenet.bytes.byteLength);
    } finally {
      await fresh.stop();
    }
  });

  it('refuses a build whose bytes differ from the hash the client expects (409), and a body that is not the named hash', async () => {
    const client = new ExecutorClient({ url: executor.url });
    const source = await client.ensureSource(lenet.bytes);
    expect(source?.sha256).toBe(sha256(lenet.bytes));
    const error = await client.buildModel('wrong-tail', { source: sha256(lenet.bytes), part: 'tail', localLayers: [0, 1], sha256: '0'.repeat(64) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExecutorError);
    expect((error as ExecutorError).status).toBe(409);
    expect((error as Error).message).toMatch(/has SHA-256 [0-9a-f]{16}…, not the 0000000000000000… the client expects/);
    const described = await client.buildModel('wrong-tail', { source: sha256(lenet.bytes), part: 'tail', localLayers: [0, 1], description: '1'.repeat(64) }).catch((e: unknown) => e);
    expect((described as ExecutorError).status).toBe(409);
    expect((described as Error).message).toMatch(/has description SHA-256 [0-9a-f]{16}…, not the 1111111111111111… the client expects/);
    const notClosed = await client.buildModel('open-tail', { source: sha256(lenet.bytes), part: 'tail', localLayers: [1], sha256: '0'.repeat(64) }).catch((e: unknown) => e);
    expect((notClosed as ExecutorError).status).toBe(400);
    expect((notClosed as Error).message).toMatch(/not closed under predecessors/);
    const unknown = await client.buildModel('nothing', { source: 'f'.repeat(64), part: 'tail', localLayers: [], sha256: 'f'.repeat(64) }).catch((e: unknown) => e);
    expect((unknown as ExecutorError).status).toBe(404);
    const put = await fetch(`${executor.url}/v2/studio/sources/${'a'.repeat(64)}`, { method: 'PUT', body: new Uint8Array([1, 2, 3]) });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { error: string }).error).toMatch(/SHA-256 is .* not the aaaaaaaaaaaaaaaa… the URL names/);
  });

  it('builds the whole model as a part that references the kept model\'s file, its outputs those of the model itself', async () => {
    const bytes = buildZooModel('lenet', { seed: 7 });
    const hash = sha256(bytes);
    const client = new ExecutorClient({ url: executor.url });
    await client.ensureSource(bytes);
    const wrong = await client.buildModel('whole-wrong', { source: hash, part: 'model', localLayers: [], sha256: '0'.repeat(64) }).catch((e: unknown) => e);
    expect((wrong as ExecutorError).status).toBe(409);
    await client.buildModel('whole', { source: hash, part: 'model', localLayers: [], sha256: hash });
    const referencing = referencingSource(readOnnxModel(bytes).proto, bytes, `${hash}.source.onnx`).bytes;
    expect(referencing.byteLength).toBeLessThan(bytes.byteLength / 50);
    const folders = readdirSync(tmpdir()).filter((entry) => entry.startsWith(`ns-executor-parts-${executor.child.pid}-`));
    expect(folders.some((folder) => existsSync(path.join(tmpdir(), folder, `part-${sha256(referencing)}.onnx`)))).toBe(true);
    const feeds = generateInputs(readOnnxModel(bytes), { seed: 3 });
    const local = await ort.InferenceSession.create(bytes);
    try {
      const expected = await local.run(feeds);
      const answer = await client.infer('whole', Object.entries(feeds).map(([name, tensor]) => toRawTensor(name, tensor)));
      for (const raw of answer.outputs) {
        const got = fromRawTensor(raw).data as Float32Array;
        const want = expected[raw.name].data as Float32Array;
        expect(got.length).toBe(want.length);
        // Each side picks its own weight layout (prepacked or not), which may round differently.
        for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i])));
      }
      expect(answer.outputs.length).toBe(Object.keys(expected).length);
      // Its profile is the model's, as a profile of the uploaded bytes would be (the studio checks that).
      const profile = await client.profile('whole', { runs: 2, warmup: 1 });
      expect(profile.model.sha256).toBe(hash);
      expect(profile.layers.length).toBe(lenet.analysis.layers.length);
    } finally {
      await local.release();
      await client.unloadModel('whole');
    }
  });

  it('writes the file its parts reference when a model is kept, and the heads\' copy when a runner opens: no cut pays for them', async () => {
    const filesIn = (prefix: string) =>
      readdirSync(tmpdir())
        .filter((entry) => entry.startsWith(prefix))
        .flatMap((entry) => readdirSync(path.join(tmpdir(), entry)));
    const bytes = buildZooModel('lenet', { seed: 99 });
    const client = new ExecutorClient({ url: executor.url });
    expect(filesIn('ns-executor-parts-')).not.toContain(`${sha256(bytes)}.source.onnx`);
    await client.ensureSource(bytes);
    expect(filesIn('ns-executor-parts-')).toContain(`${sha256(bytes)}.source.onnx`);
    const runner = await SplitRunner.open(lenet);
    try {
      expect(filesIn(`ns-split-parts-${process.pid}-`)).toContain('model.source.onnx');
    } finally {
      await runner.release();
    }
  });

  const real = listRealModels();
  it.skipIf(real.length === 0)('builds the same tail bytes as the client for real PyTorch exports', async () => {
    const client = new ExecutorClient({ url: executor.url });
    for (const model of real) {
      const analyzed = await analyzeModelFile(model.file, { dimValues: { batch: 1, sequence: 16 } });
      const source = await client.ensureSource(analyzed.bytes);
      if (!source) throw new Error('the executor keeps no models');
      const layers = analyzed.analysis.layers.length;
      for (const cut of [1, Math.floor(layers / 2), layers - 1]) {
        const localLayers = Array.from({ length: cut }, (_, i) => i);
        const parts = splitModel(analyzed.model, analyzed.analysis, new Set(localLayers));
        const tail = encodeSplit(parts).tail as Uint8Array;
        const description = sha256(Buffer.from(describePart(parts.tail as NonNullable<typeof parts.tail>), 'utf8'));
        const built = await client.buildModel(`real-${cut}`, { source: source.sha256, part: 'tail', localLayers, dimValues: { batch: 1, sequence: 16 }, sha256: sha256(tail), description });
        expect(built.sha256, `${model.name} cut ${cut}`).toBe(sha256(tail));
        await client.unloadModel(built.name);
      }
    }
  }, 300_000);
});
