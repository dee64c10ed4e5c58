// Parts whose weights reference the whole model's file (external-weights.ts): a tail written
// that way is a small fraction of its inline bytes, onnxruntime opened beside the model's
// bytes gives exactly the inline part's outputs, and weights that are small or not the
// model's own bytes stay in the part. Tried on a zoo CNN and on a real PyTorch export.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { encodeModel, int64 } from '../../app/onnx/writer.js';
import type { onnx } from '../../app/onnx/generated/onnx.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeLoadedModel, analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { generateInputs } from '../model/inputs.js';
import { listRealModels } from '../model/real-models.js';
import { MIN_EXTERNAL_WEIGHT_BYTES, offsetInSource, referencableWeights, referencingSource } from './external-weights.js';
import { splitModel } from './surgery.js';

const dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-external-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function outputsOf(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Promise<Float32Array[]> {
  const outputs = await session.run(Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]])));
  await session.release();
  return session.outputNames.map((n) => outputs[n].data as Float32Array);
}

/** The tail at `cut` opened both ways on the full model's outputs of the head: the same numbers. */
async function checkTail(analyzed: AnalyzedModel, cut: number, stem: string): Promise<{ inline: number; referencing: number }> {
  const parts = splitModel(analyzed.model, analyzed.analysis, new Set(Array.from({ length: cut }, (_, i) => i)));
  const inline = encodeModel(parts.tail!);
  const sourceFile = `${stem}.source.onnx`;
  writeFileSync(path.join(dir, sourceFile), analyzed.bytes);
  const referencing = referencingSource(parts.tail!, analyzed.bytes, sourceFile);
  expect(referencing.externalWeights).toBe(referencableWeights(parts.tail!, analyzed.bytes));
  const partPath = path.join(dir, `${stem}-tail-${cut}.onnx`);
  writeFileSync(partPath, referencing.bytes);
  const inputs = generateInputs(analyzed.model, { seed: 3 });
  const head = parts.head ? await ort.InferenceSession.create(encodeModel(parts.head)) : null;
  const feeds = { ...inputs, ...(head ? await head.run(Object.fromEntries(head.inputNames.map((n) => [n, inputs[n]]))) : {}) };
  await head?.release();
  const expected = await outputsOf(await ort.InferenceSession.create(inline), feeds);
  const got = await outputsOf(await ort.InferenceSession.create(partPath), feeds);
  expect(got.map((o) => [...o])).toEqual(expected.map((o) => [...o]));
  return { inline: inline.byteLength, referencing: referencing.bytes.byteLength };
}

describe('parts referencing the model file', () => {
  it('writes a zoo tail as its graph alone, with the outputs of the inline tail', async () => {
    const bytes = buildZooModel('lenet', { seed: 2 });
    const analyzed = await analyzeLoadedModel({ path: path.join(dir, 'lenet.onnx'), bytes, model: readOnnxModel(bytes) });
    const sizes = await checkTail(analyzed, 1, 'lenet');
    expect(sizes.referencing).toBeLessThan(sizes.inline / 50);
  });

  const reals = listRealModels().filter((m) => ['efficientnet_b0', 'speech_gru', 'text_classifier'].includes(m.name));
  it.skipIf(reals.length === 0)('writes real exports’ tails the same way (Identity weight aliases, GRU, int64 token ids)', async () => {
    for (const real of reals) {
      const analyzed = await analyzeModelFile(real.file);
      const sizes = await checkTail(analyzed, Math.floor(analyzed.analysis.layers.length / 2), real.name);
      expect(sizes.referencing, real.name).toBeLessThan(sizes.inline / 4);
    }
  });

  it('keeps small weights and weights that are not views of the model in the part', () => {
    const source = new Uint8Array(8192);
    const large = source.subarray(100, 100 + MIN_EXTERNAL_WEIGHT_BYTES);
    const small = source.subarray(4000, 4016);
    const elsewhere = new Uint8Array(MIN_EXTERNAL_WEIGHT_BYTES);
    expect(offsetInSource(large, source)).toBe(100);
    expect(offsetInSource(elsewhere, source)).toBeNull();
    const proto: onnx.IModelProto = { irVersion: int64(8), opsetImport: [{ domain: '', version: int64(13) }], graph: { name: 'g', initializer: [{ name: 'large', dataType: 1, dims: [int64(256)], rawData: large }, { name: 'small', dataType: 1, dims: [int64(4)], rawData: small }, { name: 'elsewhere', dataType: 1, dims: [int64(256)], rawData: elsewhere }] } };
    const result = referencingSource(proto, source, 'model.source.onnx');
    expect(result).toMatchObject({ externalWeights: 1, externalBytes: MIN_EXTERNAL_WEIGHT_BYTES });
    const written = readOnnxModel(result.bytes);
    expect(written.externalData).toEqual([{ tensor: 'large', location: 'model.source.onnx', offset: 100, length: MIN_EXTERNAL_WEIGHT_BYTES }]);
  });
});
