// Runs the sample zoo (app/zoo) in onnxruntime-node: each model loads, runs once on
// deterministic inputs and gives an output of exactly the shape it declares, all
// finite (softmax rows summing to 1). The structure checks are app/zoo/zoo.test.ts.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../app/onnx/builder.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { buildZooModel, zooModels, type ZooEntry } from '../../app/zoo/index.js';

// Every model runs, large ones included: each builds (random weights) and runs in about
// 1–3 s, VGG-16 in about 7.5 s (6 s of it generating 553 MB of weights) on a 2-core
// runner, under the ~10 s a model may take here. List an id here to skip it.
const skipped = new Set<string>([]);

function inputTensor(spec: ZooEntry['inputs'][number], batch: number, random: () => number): ort.Tensor {
  const shape = [batch, ...spec.shape.slice(1)];
  const count = shape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'int64') {
    const limit = spec.indexLimit ?? 1;
    return new ort.Tensor('int64', BigInt64Array.from({ length: count }, () => BigInt(Math.floor(random() * limit))), shape);
  }
  return new ort.Tensor('float32', Float32Array.from({ length: count }, () => random() * 2 - 1), shape);
}

async function runOnce(entry: ZooEntry, batch: number): Promise<{ output: ort.Tensor; declared: (number | string | null)[] | null | undefined; lastOp: string }> {
  const bytes = buildZooModel(entry.id, { seed: 11, batch });
  const model = readOnnxModel(bytes);
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all' });
  try {
    const random = seededRandom(2017);
    const feeds: Record<string, ort.Tensor> = {};
    for (const spec of entry.inputs) feeds[spec.name] = inputTensor(spec, batch, random);
    expect(session.outputNames).toEqual(entry.outputs.map((o) => o.name));
    const results = await session.run(feeds);
    return { output: results[entry.outputs[0].name], declared: model.graph.outputs[0].type?.shape, lastOp: model.graph.nodes.at(-1)?.opType ?? '' };
  } finally {
    await session.release();
  }
}

function expectSane(output: ort.Tensor, lastOp: string): void {
  const values = output.data as Float32Array;
  expect(values.every(Number.isFinite)).toBe(true);
  // Not degenerate: seeded He-uniform weights give outputs that differ from each other.
  expect(Math.max(...values) - Math.min(...values)).toBeGreaterThan(0);
  if (lastOp === 'Softmax') {
    const classes = output.dims[output.dims.length - 1];
    for (let row = 0; row < values.length / classes; row++) {
      const sum = values.subarray(row * classes, (row + 1) * classes).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(1, 4);
    }
  }
}

describe.each(zooModels.filter((m) => !skipped.has(m.id)).map((m) => [m.id, m] as const))('zoo model %s in onnxruntime', (_id, entry) => {
  it('runs and gives its declared output shape, all finite', async () => {
    const { output, declared, lastOp } = await runOnce(entry, 1);
    expect(output.type).toBe('float32');
    expect(output.dims).toEqual(declared);
    expect(output.dims).toEqual(entry.outputs[0].shape);
    expectSane(output, lastOp);
  });
});

describe('zoo models at batch 2 in onnxruntime', () => {
  // The models whose Reshape targets carry the batch size.
  it.each(['senna-pos', 'transformer'])('%s', async (id) => {
    const entry = zooModels.find((m) => m.id === id)!;
    const { output, declared, lastOp } = await runOnce(entry, 2);
    expect(output.dims).toEqual(declared);
    expect(output.dims).toEqual([2, ...entry.outputs[0].shape.slice(1)]);
    expectSane(output, lastOp);
  });
});
