// The layout client without a worker (no Worker here, or one that failed): layouts are made
// on the page by the same code, the first view picks its depth, and layouts are kept by
// model and expanded groups.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { moduleTree } from '../../app/studio/module-tree.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { graphSpec } from './graph-spec.js';
import { LayoutClient } from './layout-client.js';
import { expansionLevels } from './layout-choice.js';

const bytes = buildZooModel('resnet18', { seed: 1 });
const model = readOnnxModel(bytes);
const view = modelViewOf(model, analyzeModel(model), { id: 'r18', fileName: 'resnet18.onnx', fileBytes: bytes.byteLength });
const tree = moduleTree(view.nodes.map((n) => n.name));
const spec = graphSpec(view, tree);

describe('LayoutClient without a worker', () => {
  it('lays out on the page, and answers the same request again from its cache', async () => {
    const client = new LayoutClient(null);
    expect(client.inWorker).toBe(false);
    client.setSpec(spec);
    const first = await client.layout('r18', [2, 0]);
    expect(first.where).toBe('page');
    expect(first.layout.expanded).toEqual([0, 2]);
    expect(client.cached('r18', [0, 2])).toBe(first);
    expect(await client.layout('r18', [0, 2])).toBe(first);
  });

  it('chooses the first view within the size given, and refuses a model it has no spec for', async () => {
    const client = new LayoutClient(null);
    client.setSpec(spec);
    const roomy = await client.initial('r18', expansionLevels(tree), 1e6, 1e6);
    expect(roomy.layout.expanded.length).toBe(tree.groups.length);
    const tight = await client.initial('r18', expansionLevels(tree), 300, 300);
    expect(tight.layout.expanded).toEqual([]);
    await expect(client.layout('unknown', [])).rejects.toThrow('no spec for model unknown');
  });
});
