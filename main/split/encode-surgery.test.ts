// Tests that surgery carries the wire encoding: the encoded head's output is exactly what the
// JavaScript codec sends, the encoded tail takes it and gives the unsplit model's outputs
// within the encoding's tolerance (AlexNet from the zoo, and real PyTorch exports), the
// integer crossings of the transformer go as they are, and encodings that cannot apply are
// refused naming the tensor. Also the measurement of a (cut, encoding) on samples.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../app/onnx/writer.js';
import { float32ToFloat16, parseWireEncoding, quantizeAffine } from '../../app/partition/wire-encoding.js';
import { analyzeModelFile } from '../model/analyze-file.js';
import { realModelsDir } from '../model/real-models.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { defaultZooDir } from '../files/paths.js';
import { encodeSplitWire } from './encode-surgery.js';
import { affineFor, encodingSamples, evaluateCut, unsplitOutputs } from './encoded-split.js';
import { runModel } from './split-check.js';
import { splitModel } from './surgery.js';

const dims = { batch: 1, sequence: 16 };
const alexnet = () => ensureZooModel('alexnet', defaultZooDir());

async function encodedRun(file: string, cut: number, encoding: string) {
  const analyzed = await analyzeModelFile(file, { dimValues: dims });
  const { model, analysis } = analyzed;
  const [sample] = encodingSamples(model, 1, 11, dims);
  const calibration = encodingSamples(model, 4, 100, dims);
  const evaluation = await evaluateCut(model, analysis, cut, [encoding], [sample], calibration);
  const split = splitModel(model, analysis, new Set(Array.from({ length: cut }, (_, i) => i)));
  const encoded = encodeSplitWire(split, () => parseWireEncoding(encoding), (t, type) => affineFor(evaluation.ranges, t.name, type));
  const expected = await runModel(analyzed.bytes, sample);
  const values: Record<string, ort.Tensor> = { ...sample };
  if (encoded.head) Object.assign(values, await runModel(encodeModel(encoded.head), values));
  return { analyzed, split, encoded, evaluation, expected, values, sample };
}

describe('surgery carries the encoding', () => {
  it('AlexNet int8: QuantizeLinear in the head equals the JS codec, DequantizeLinear in the tail gives the model', async () => {
    const { encoded, expected, values, evaluation, split } = await encodedRun(alexnet(), 6, 'int8');
    const [crossing] = split.crossing;
    const wire = encoded.wire[0];
    expect(wire).toMatchObject({ name: crossing.name, datatype: 'INT8', wireName: `${crossing.name}__int8` });
    expect(encoded.tail?.graph?.node?.[0].opType).toBe('DequantizeLinear');
    expect(encoded.head?.graph?.node?.at(-1)?.opType).toBe('QuantizeLinear');
    // The head's int8 output is bit for bit what the codec sends.
    const sent = values[wire.wireName];
    expect(sent.type).toBe('int8');
    const plainHead = await runModel(encodeModel(split.head!), values);
    const js = quantizeAffine(plainHead[crossing.name].data as Float32Array, affineFor(evaluation.ranges, crossing.name, 'int8'));
    expect(Buffer.from((sent.data as Int8Array).buffer).equals(Buffer.from(js.buffer))).toBe(true);
    const out = await runModel(encodeModel(encoded.tail!), values);
    const name = Object.keys(expected)[0];
    const a = expected[name].data as Float32Array;
    const b = out[name].data as Float32Array;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    expect(worst).toBeLessThan(0.05 * scale);
  }, 60_000);

  it('fp16 casts on both sides, and uint8 input moves the normalisation into the tail', async () => {
    const fp16 = await encodedRun(alexnet(), 3, 'fp16');
    expect(fp16.encoded.wire[0].datatype).toBe('FP16');
    expect(fp16.values[fp16.encoded.wire[0].wireName].type).toBe('float16');
    const uint8 = await encodedRun(alexnet(), 0, 'uint8');
    expect(uint8.encoded.head).toBeNull();
    expect(uint8.encoded.wire[0]).toMatchObject({ datatype: 'UINT8' });
    expect(uint8.encoded.tail?.graph?.input?.[0].type?.tensorType?.elemType).toBe(2);
  }, 60_000);

  it('refuses an encoding that cannot apply, naming the tensor', async () => {
    const { split } = await encodedRun(alexnet(), 0, 'fp32');
    const noRange = () => {
      throw new Error('unused');
    };
    expect(() => encodeSplitWire({ ...split, crossing: split.crossing.map((c) => ({ ...c, elementType: 'int64' as const })) }, () => parseWireEncoding('int8'), noRange)).toThrow(/does not apply to tensor ".*": it is int64/);
    const inner = await encodedRun(alexnet(), 4, 'fp32');
    expect(() => encodeSplitWire(inner.split, () => parseWireEncoding('uint8'), noRange)).toThrow(/not a model input/);
  }, 60_000);

  it('measures bytes, time and agreement of each encoding at a cut', async () => {
    const analyzed = await analyzeModelFile(alexnet());
    const samples = encodingSamples(analyzed.model, 4, 1);
    const expected = await unsplitOutputs(analyzed.bytes, samples);
    const evaluation = await evaluateCut(analyzed.model, analyzed.analysis, 0, ['fp32', 'int8', 'jpeg', 'uint8+deflate'], samples, encodingSamples(analyzed.model, 4, 100), expected);
    const [fp32, int8, jpeg, pixels] = evaluation.measurements;
    expect(fp32.uploadBytes).toBe(3 * 224 * 224 * 4);
    expect(int8.uploadBytes).toBe(3 * 224 * 224);
    expect(jpeg.uploadBytes).toBeLessThan(int8.uploadBytes / 4);
    expect(pixels.uploadBytes).toBeLessThan(int8.uploadBytes);
    expect(fp32.agreement).toBe(1);
    for (const m of [int8, jpeg, pixels]) {
      expect(m.agreement).not.toBeNull();
      expect(m.encodeMs).toBeGreaterThan(0);
      expect(m.maxAbsError).toBeGreaterThan(0);
    }
  }, 60_000);
});

const realDir = realModelsDir();
const real = (name: string) => path.join(realDir, name);
describe.skipIf(!fs.existsSync(real('efficientnet_b0.onnx')))('real exports carry the encoding', () => {
  it('EfficientNet-B0 int8 at a middle cut stays within tolerance', async () => {
    const analyzed = await analyzeModelFile(real('efficientnet_b0.onnx'), { dimValues: dims });
    const cut = Math.floor(analyzed.analysis.layers.length / 2);
    const { encoded, expected, values } = await encodedRun(real('efficientnet_b0.onnx'), cut, 'int8');
    expect(encoded.wire.every((w) => w.datatype === 'INT8')).toBe(true);
    const out = await runModel(encodeModel(encoded.tail!), values);
    const name = Object.keys(expected)[0];
    const a = expected[name].data as Float32Array;
    const b = out[name].data as Float32Array;
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    expect(worst).toBeLessThan(0.2 * scale);
  }, 120_000);

  it('the transformer and the GRU send integer crossings as they are, fp16 on the floats', async () => {
    for (const file of ['text_classifier.onnx', 'speech_gru.onnx']) {
      const analyzed = await analyzeModelFile(real(file), { dimValues: dims });
      const layers = analyzed.analysis.layers.length;
      for (const cut of [0, Math.floor(layers / 2)]) {
        const split = splitModel(analyzed.model, analyzed.analysis, new Set(Array.from({ length: cut }, (_, i) => i)));
        const encoded = encodeSplitWire(split, (t) => parseWireEncoding(t.elementType === 'float32' ? 'fp16' : 'fp32+deflate'), () => {
          throw new Error('no affine needed');
        });
        for (const w of encoded.wire) expect(w.datatype, `${file} cut ${cut} ${w.name}`).toBe(split.crossing.find((c) => c.name === w.name)?.elementType === 'float32' ? 'FP16' : 'AS_IS');
        const [sample] = encodingSamples(analyzed.model, 1, 5, dims);
        const expected = await runModel(analyzed.bytes, sample);
        const values: Record<string, ort.Tensor> = { ...sample };
        if (encoded.head) Object.assign(values, await runModel(encodeModel(encoded.head), values));
        // A model input sent as fp16 is cast by the app on the device (no head graph runs before it).
        for (const w of encoded.wire) {
          if (w.datatype === 'FP16' && !(w.wireName in values)) values[w.wireName] = new ort.Tensor('float16', float32ToFloat16(values[w.name].data as Float32Array), values[w.name].dims);
        }
        const out = await runModel(encodeModel(encoded.tail!), values);
        for (const [name, tensor] of Object.entries(expected)) {
          const a = tensor.data as Float32Array;
          const b = out[name].data as Float32Array;
          for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i]), `${file} cut ${cut} ${name}`).toBeLessThan(0.05 * Math.max(1, Math.abs(a[i])));
        }
      }
    }
  }, 120_000);
});
