// Groups from the module hierarchy in layer names: the tree (tidied: single-layer groups
// are their layer, single-child chains merge), contiguity (a module called twice is two
// groups), the sums over groups, and the default expansion on real zoo models.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { buildZooModel } from '../zoo/index.js';
import { groupChain, groupLocalCounts, groupSums, groupsToReveal, moduleTree, modulePath, type ModuleTree } from './module-tree.js';

function labels(tree: ModuleTree): string[] {
  return tree.groups.map((g) => `${'  '.repeat(g.depth)}${g.label} [${g.first}..${g.last}]`);
}

describe('moduleTree', () => {
  it('reads the module path before the op name', () => {
    expect(modulePath('/layer1/layer1.0/conv1/Conv')).toEqual(['layer1', 'layer1.0', 'conv1']);
    expect(modulePath('Conv_0')).toEqual([]);
    expect(modulePath('model/dense/MatMul')).toEqual(['model', 'dense']);
  });

  it('groups a ResNet block by block, a one-layer module being its layer', () => {
    const names = [
      '/conv1/Conv',
      '/relu/Relu',
      '/layer1/layer1.0/conv1/Conv',
      '/layer1/layer1.0/relu/Relu',
      '/layer1/layer1.0/conv2/Conv',
      '/layer1/layer1.0/downsample/downsample.0/Conv',
      '/layer1/layer1.0/Add',
      '/layer1/layer1.1/conv1/Conv',
      '/layer1/layer1.1/Add',
      '/fc/Gemm'
    ];
    const tree = moduleTree(names);
    expect(labels(tree)).toEqual(['layer1 [2..8]', '  layer1.0 [2..6]', '  layer1.1 [7..8]']);
    expect(tree.root).toEqual([{ kind: 'layer', index: 0 }, { kind: 'layer', index: 1 }, { kind: 'group', id: 0 }, { kind: 'layer', index: 9 }]);
    // conv1, relu and the single-Conv downsample are layers of layer1.0 itself.
    expect(tree.groups[1].children).toEqual([0, 1, 2, 3, 4].map((i) => ({ kind: 'layer', index: 2 + i })));
    expect(Array.from(tree.groupOf)).toEqual([-1, -1, 1, 1, 1, 1, 1, 2, 2, -1]);
    expect(groupChain(tree, 2)).toEqual([0, 2]);
  });

  it('merges a chain of single-group modules and shortens the label', () => {
    const tree = moduleTree([
      '/features/features.1/block/block.0/Conv',
      '/features/features.1/block/block.0/Relu',
      '/features/features.1/block/block.1/Conv',
      '/features/features.1/block/block.1/Relu',
      '/classifier/Gemm'
    ]);
    expect(labels(tree)).toEqual(['features.1/block [0..3]', '  block.0 [0..1]', '  block.1 [2..3]']);
    expect(tree.groups[0].path).toBe('features/features.1/block');
    const efficient = moduleTree(['/features/features.1/features.1.0/block/a/Conv', '/features/features.1/features.1.0/block/b/Conv']);
    expect(efficient.groups[0].label).toBe('features.1.0/block');
  });

  it('keeps groups contiguous: a module that comes back later is a second group', () => {
    const tree = moduleTree(['/act/Relu', '/act/Relu_1', '/conv/Conv', '/act/Relu_2', '/act/Relu_3']);
    expect(labels(tree)).toEqual(['act [0..1]', 'act [3..4]']);
    for (const group of tree.groups) for (let i = group.first; i <= group.last; i++) expect(groupChain(tree, tree.groupOf[i])).toContain(group.id);
  });

  it('has no groups for flat names', () => {
    const tree = moduleTree(['Conv_0', 'Relu_1', 'Gemm_2']);
    expect(tree.groups).toEqual([]);
    expect(tree.root.length).toBe(3);
  });
});

describe('sums and counts over groups', () => {
  const tree = moduleTree(['/a/x/Conv', '/a/x/Relu', '/a/y/Conv', '/a/y/Relu', '/b/Gemm', '/b/Relu']);
  it('adds per-layer values over each group range, nulls as 0', () => {
    expect(labels(tree)).toEqual(['a [0..3]', '  x [0..1]', '  y [2..3]', 'b [4..5]']);
    expect(Array.from(groupSums(tree, [1, 2, 3, null, 10, 20]))).toEqual([6, 3, 3, 30]);
  });
  it('counts the layers of each group on the device', () => {
    expect(Array.from(groupLocalCounts(tree, Uint8Array.from([1, 1, 1, 0, 0, 0])))).toEqual([3, 2, 1, 0]);
  });
  it('lists the groups to expand to reveal a layer', () => {
    expect(groupsToReveal(tree, 3, new Set([0]))).toEqual([2]);
    expect(groupsToReveal(tree, 3, new Set())).toEqual([0, 2]);
  });
});

describe('on zoo models', () => {
  const treeOf = (id: string) => {
    const model = readOnnxModel(buildZooModel(id, { seed: 1 }));
    const analysis = analyzeModel(model);
    return { tree: moduleTree(analysis.layers.map((l) => l.name)), layers: analysis.layers };
  };

  it('ResNet-50: four stages of 3, 4, 6 and 3 blocks, summing to most of its MACs', () => {
    const { tree, layers } = treeOf('resnet50');
    const top = tree.root.filter((c) => c.kind === 'group').map((c) => (c.kind === 'group' ? tree.groups[c.id] : null));
    expect(top.map((g) => g?.label)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    expect(top.map((g) => g?.children.length)).toEqual([3, 4, 6, 3]);
    // Every layer lies in the range of each group of its chain.
    layers.forEach((_, i) => {
      for (const g of tree.groupOf[i] >= 0 ? groupChain(tree, tree.groupOf[i]) : []) {
        expect(i).toBeGreaterThanOrEqual(tree.groups[g].first);
        expect(i).toBeLessThanOrEqual(tree.groups[g].last);
      }
    });
    const macs = groupSums(tree, layers.map((l) => l.macs));
    const total = layers.reduce((sum, l) => sum + (l.macs ?? 0), 0);
    const inStages = top.reduce((sum, g) => sum + (g ? macs[g.id] : 0), 0);
    expect(inStages).toBeGreaterThan(0.9 * total);
    expect(inStages).toBeLessThanOrEqual(total);
  });

  it('the 1,026-node transformer: embeddings and an encoder of 31 layers of 33', () => {
    const { tree, layers } = treeOf('transformer-large');
    expect(layers.length).toBe(1026);
    expect(tree.root.map((c) => (c.kind === 'group' ? tree.groups[c.id].label : c.index))).toEqual(['embeddings', 'encoder']);
    const encoder = tree.groups.find((g) => g.label === 'encoder');
    expect(encoder?.children.length).toBe(31);
    for (const child of encoder?.children ?? []) expect(child.kind === 'group' && tree.groups[child.id].last - tree.groups[child.id].first + 1).toBe(33);
  });
});
