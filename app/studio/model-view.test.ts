// modelViewOf on zoo models: JSON-safe, edges follow the graph, attributes readable.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { buildZooModel } from '../zoo/index.js';
import { modelViewOf } from './model-view.js';
import { qdqTestGraph } from '../analysis/test-quantized-graphs.js';

function viewOf(id: string) {
  const model = readOnnxModel(buildZooModel(id, { seed: 1 }));
  const analysis = analyzeModel(model);
  return modelViewOf(model, analysis, { id: 'x', fileName: `${id}.onnx`, fileBytes: model.byteLength });
}

describe('modelViewOf', () => {
  it('round-trips through JSON and links every node to its producers', () => {
    const view = viewOf('resnet18');
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
    const adds = view.nodes.filter((n) => n.opType === 'Add');
    expect(adds.length).toBeGreaterThan(0);
    for (const add of adds) expect(add.predecessors.length).toBe(2);
    for (const node of view.nodes) for (const p of node.predecessors) expect(p).toBeLessThan(node.index);
  });

  it('shows weights as initializers and attributes as text', () => {
    const view = viewOf('alexnet');
    const conv = view.nodes.find((n) => n.opType === 'Conv');
    expect(conv?.inputs.some((t) => t.isInitializer && t.bytes !== null && t.bytes > 0)).toBe(true);
    expect(conv?.attributes.find((a) => a.name === 'kernel_shape')?.value).toBe('[11, 11]');
    expect(view.nodes[0].predecessors).toEqual([]);
  });

  it('carries integer MACs apart from float ones for a quantized model', () => {
    const model = readOnnxModel(qdqTestGraph());
    const analysis = analyzeModel(model);
    const view = JSON.parse(JSON.stringify(modelViewOf(model, analysis, { id: 'q', fileName: 'q.onnx', fileBytes: model.byteLength }))) as ReturnType<typeof modelViewOf>;
    const conv = view.nodes.find((node) => node.name === '/conv/Conv');
    expect(conv?.intMacs).toBe(6912);
    expect(view.nodes.find((node) => node.name === '/pool/MaxPool')?.intMacs).toBe(0);
    expect(view.totals.intMacs).toBe(analysis.totals.intMacs);
    expect(view.totals.intMacs).toBeGreaterThan(0);
  });
});
