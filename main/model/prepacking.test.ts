// withPrepackingFor: the session options a graph is opened with, and onnxruntime taking them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { PREPACKING_ENV, prepackingVerdictOf, withPrepackingFor, withPrepackingForFile } from './prepacking.js';

/** A classifier head whose first weight (96 MiB) runs faster unpacked for one row (app/analysis/prepacking.ts). */
function classifier(batch: number): Uint8Array {
  const built = classifiers.get(batch);
  if (built) return built;
  const b = new GraphBuilder('classifier', { weights: 'random', opset: 17 });
  const x = b.input('x', 'float32', [batch, 4096]);
  b.output(b.linear(b.relu(b.linear(x, 4096, 6144, '/fc1')), 6144, 1000, '/fc2'), 'float32', [batch, 1000]);
  classifiers.set(batch, b.toBytes());
  return classifier(batch);
}
const classifiers = new Map<number, Uint8Array>();

const cpu: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], extra: { session: { intra_op: { allow_spinning: '0' } } } };

describe('withPrepackingFor', () => {
  afterEach(() => {
    delete process.env[PREPACKING_ENV];
  });

  it('turns prepacking off for a batch-1 classifier and keeps the other session options', () => {
    expect(withPrepackingFor(cpu, classifier(1))).toEqual({
      executionProviders: ['cpu'],
      extra: { session: { intra_op: { allow_spinning: '0' }, disable_prepacking: '1' } }
    });
  });

  it('leaves the options alone where prepacking pays, on another provider, and when told to', () => {
    expect(withPrepackingFor(cpu, classifier(4))).toBe(cpu);
    const webgpu = { ...cpu, executionProviders: ['webgpu'] };
    expect(withPrepackingFor(webgpu, classifier(1))).toBe(webgpu);
    process.env[PREPACKING_ENV] = 'always';
    expect(withPrepackingFor(cpu, classifier(1))).toBe(cpu);
    process.env[PREPACKING_ENV] = 'sometimes';
    expect(() => withPrepackingFor(cpu, classifier(1))).toThrow("NEUROSURGEON_PREPACKING must be 'auto' or 'always', got 'sometimes'");
  });

  it('keeps prepacking for bytes that are no model, and for a file that cannot be read', async () => {
    expect(prepackingVerdictOf(new Uint8Array([1, 2, 3])).pays).toBe(true);
    expect(await withPrepackingForFile(cpu, path.join(os.tmpdir(), 'no-such-model.onnx'))).toBe(cpu);
  });

  it('reads a model file, and onnxruntime runs a session opened with prepacking off to the same outputs', async () => {
    const folder = mkdtempSync(path.join(os.tmpdir(), 'ns-prepacking-'));
    try {
      const bytes = classifier(1);
      const file = path.join(folder, 'model.onnx');
      writeFileSync(file, bytes);
      const options = await withPrepackingForFile(cpu, file);
      expect(options.extra).toMatchObject({ session: { disable_prepacking: '1' } });
      const feeds = { x: new ort.Tensor('float32', Float32Array.from({ length: 4096 }, (_, i) => Math.sin(i)), [1, 4096]) };
      const unpacked = await ort.InferenceSession.create(file, options);
      const packed = await ort.InferenceSession.create(file, cpu);
      const [a, b] = [await unpacked.run(feeds), await packed.run(feeds)];
      const outputName = unpacked.outputNames[0];
      const [x, y] = [a[outputName].data as Float32Array, b[outputName].data as Float32Array];
      expect(x.length).toBe(1000);
      for (let i = 0; i < x.length; i++) expect(x[i]).toBeCloseTo(y[i], 4);
      await Promise.all([unpacked.release(), packed.release()]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
