// The graph layout on real zoo models, fully expanded and with groups collapsed:
// top-to-bottom order, no overlapping boxes, frames around exactly their members, branches
// side by side, edges from box to box (through the groups' ports) with shape labels,
// chunked dagre runs that stack like one layout, dagre results reused, determinism, and
// the first view's choice of depth.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf, type ModelView } from '../../app/studio/model-view.js';
import { moduleTree } from '../../app/studio/module-tree.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { graphSpec, opFamily, searchNodes, shortNodeName, type GraphSpec } from './graph-spec.js';
import { chooseInitialLayout, expansionLevels } from './layout-choice.js';
import { layoutGraph, FRAME_PAD, type GraphLayout, type LaidOutNode } from './layout.js';

function viewOfBytes(bytes: Uint8Array, fileName: string): ModelView {
  const model = readOnnxModel(bytes);
  return modelViewOf(model, analyzeModel(model), { id: fileName, fileName, fileBytes: bytes.byteLength });
}

const views = new Map<string, ModelView>();
function zooView(id: string): ModelView {
  let view = views.get(id);
  if (!view) {
    view = viewOfBytes(buildZooModel(id, { seed: 1 }), `${id}.onnx`);
    views.set(id, view);
  }
  return view;
}

function specOf(view: ModelView): GraphSpec {
  return graphSpec(view);
}

const allGroups = (spec: GraphSpec) => spec.items.filter((item) => item.kind === 'group').map((item) => item.index);
const expandedLayout = (view: ModelView) => {
  const spec = specOf(view);
  return layoutGraph(spec, allGroups(spec));
};

function overlaps(a: LaidOutNode, b: LaidOutNode): boolean {
  return Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2;
}

function onBorder(box: LaidOutNode, x: number, y: number): boolean {
  const distance = Math.max(Math.abs(x - box.x) / (box.width / 2), Math.abs(y - box.y) / (box.height / 2));
  return Math.abs(distance - 1) < 0.02;
}

function expectWellFormed(spec: GraphSpec, layout: GraphLayout): void {
  expect(layout.nodes.length).toBe(spec.items.length);
  const boxes = layout.visible.map((id) => layout.nodes[id]);
  for (const node of boxes) {
    expect(Number.isFinite(node.x) && Number.isFinite(node.y)).toBe(true);
    expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
    expect(node.y - node.height / 2).toBeGreaterThanOrEqual(0);
    expect(node.x + node.width / 2).toBeLessThanOrEqual(layout.width + 0.01);
    expect(node.y + node.height / 2).toBeLessThanOrEqual(layout.height + 0.01);
  }
  // Each box stands for its item or a collapsed group; every producer → consumer relation between different boxes is an edge going downwards, border to border.
  const visible = new Set(layout.visible);
  for (const edge of layout.edges) {
    expect(visible.has(edge.from) && visible.has(edge.to)).toBe(true);
    const from = layout.nodes[edge.from];
    const to = layout.nodes[edge.to];
    expect(to.y).toBeGreaterThan(from.y);
    expect(edge.points.length).toBeGreaterThanOrEqual(4);
    const [x0, y0] = edge.points;
    const [x1, y1] = edge.points.slice(-2);
    expect(onBorder(from, x0, y0), `edge ${edge.from} → ${edge.to} leaves from the border`).toBe(true);
    expect(onBorder(to, x1, y1), `edge ${edge.from} → ${edge.to} arrives at the border`).toBe(true);
    for (const e of edge.specEdges) expect(spec.edges[e]).toBeDefined();
  }
  const covered = layout.edges.reduce((sum, e) => sum + e.specEdges.length, 0);
  const inside = spec.edges.filter((e) => hiddenTogether(layout, e.from, e.to)).length;
  expect(covered + inside).toBe(spec.edges.length);
  // No two boxes overlap (sweep over boxes sorted by top edge).
  const sorted = [...boxes].sort((a, b) => a.y - a.height / 2 - (b.y - b.height / 2));
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j].y - sorted[j].height / 2 < sorted[i].y + sorted[i].height / 2; j++) {
      expect(overlaps(sorted[i], sorted[j]), `${sorted[i].label}#${sorted[i].id} overlaps ${sorted[j].label}#${sorted[j].id}`).toBe(false);
    }
  }
  // Every frame holds exactly its members, below its label strip.
  for (const frame of layout.frames) {
    for (const node of layout.nodes) {
      if (node.parent !== frame.id || (!node.visible && !layout.frames.some((f) => f.id === node.id))) continue;
      expect(node.x - node.width / 2).toBeGreaterThanOrEqual(frame.x - 0.01);
      expect(node.x + node.width / 2).toBeLessThanOrEqual(frame.x + frame.width + 0.01);
      expect(node.y - node.height / 2).toBeGreaterThanOrEqual(frame.y + FRAME_PAD.top - 0.01);
      expect(node.y + node.height / 2).toBeLessThanOrEqual(frame.y + frame.height + 0.01);
    }
    for (const node of boxes) {
      if (isInside(layout, node.id, frame.id)) continue;
      const outside = node.x + node.width / 2 <= frame.x || node.x - node.width / 2 >= frame.x + frame.width || node.y + node.height / 2 <= frame.y || node.y - node.height / 2 >= frame.y + frame.height;
      expect(outside, `${node.label}#${node.id} is inside frame ${frame.label} without belonging to it`).toBe(true);
    }
  }
}

function isInside(layout: GraphLayout, id: number, group: number): boolean {
  for (let p = layout.nodes[id].parent; p >= 0; p = layout.nodes[p].parent) if (p === group) return true;
  return false;
}

/** Both ends are inside the same collapsed group (or are the same box): the edge is not drawn. */
function hiddenTogether(layout: GraphLayout, a: number, b: number): boolean {
  const expanded = new Set(layout.expanded);
  const rep = (id: number) => {
    let r = id;
    for (let p = layout.nodes[id].parent; p >= 0; p = layout.nodes[p].parent) if (!expanded.has(layout.nodes[p].index)) r = p;
    return r;
  };
  return rep(a) === rep(b);
}

describe('layoutGraph, fully expanded', () => {
  it('lays a chain out top to bottom, input first, output last, edges labelled with shapes', () => {
    const view = zooView('alexnet');
    const spec = specOf(view);
    const layout = layoutGraph(spec, allGroups(spec));
    expectWellFormed(spec, layout);
    expect(layout.visible.length).toBe(view.nodes.length + view.inputs.length + view.outputs.length);
    const input = layout.nodes.find((n) => n.kind === 'input');
    const output = layout.nodes.find((n) => n.kind === 'output');
    expect(input?.label).toBe('input');
    expect(input?.sublabel).toBe('1×3×224×224');
    expect(Math.min(...layout.visible.map((id) => layout.nodes[id].y))).toBe(input?.y);
    expect(Math.max(...layout.visible.map((id) => layout.nodes[id].y))).toBe(output?.y);
    // In a chain every node sits lower than the one before it.
    for (let i = 1; i < view.nodes.length; i++) expect(layout.nodes[i].y).toBeGreaterThan(layout.nodes[i - 1].y);
    const convToRelu = layout.edges.find((e) => e.from === 0 && e.to === 1);
    expect(convToRelu?.label).toBe('1×64×55×55');
    expect(layout.edges.find((e) => e.from === input?.id)?.label).toBe('1×3×224×224');
    expect(layout.nodes[0]).toMatchObject({ label: 'Conv', family: 'conv', sublabel: 'features.0' });
    // AlexNet's features and classifier are frames.
    expect(layout.frames.map((f) => f.label)).toEqual(expect.arrayContaining(['features', 'classifier']));
  });

  it('puts Inception branches side by side and merges them at the Concat', () => {
    const view = zooView('googlenet');
    const spec = specOf(view);
    const layout = layoutGraph(spec, allGroups(spec));
    expectWellFormed(spec, layout);
    const concat = view.nodes.find((n) => n.opType === 'Concat' && n.name.includes('inception3a'));
    expect(concat?.predecessors.length).toBe(4);
    const branchEnds = (concat?.predecessors ?? []).map((p) => layout.nodes[p]);
    expect(new Set(branchEnds.map((n) => Math.round(n.x))).size).toBe(4);
    const concatNode = layout.nodes[concat?.index ?? -1];
    for (const end of branchEnds) expect(end.y).toBeLessThan(concatNode.y);
  });

  it('routes ResNet residuals beside the main path, into the block through its port', () => {
    const view = zooView('resnet18');
    const spec = specOf(view);
    const layout = layoutGraph(spec, allGroups(spec));
    expectWellFormed(spec, layout);
    const add = view.nodes.find((n) => n.opType === 'Add');
    const [skipFrom, mainFrom] = add?.predecessors ?? [];
    const skip = layout.edges.find((e) => e.from === skipFrom && e.to === add?.index);
    // The skip edge bends around the block instead of cutting through its boxes.
    const blockNodes = view.nodes.filter((n) => n.index > skipFrom && n.index <= mainFrom).map((n) => layout.nodes[n.index]);
    for (let i = 0; i + 3 < (skip?.points.length ?? 0); i += 2) {
      const [x, y] = [skip?.points[i] ?? 0, skip?.points[i + 1] ?? 0];
      for (const box of blockNodes) expect(Math.abs(x - box.x) < box.width / 2 && Math.abs(y - box.y) < box.height / 2).toBe(false);
    }
  });

  it('lays out the 1,026-node transformer with its 405 groups, reusing dagre per block shape, deterministically', () => {
    const view = zooView('transformer-large');
    const spec = specOf(view);
    expect(view.nodes.length).toBe(1026);
    const layout = layoutGraph(spec, allGroups(spec));
    expectWellFormed(spec, layout);
    expect(layout.frames.length).toBe(allGroups(spec).length);
    // Attention: query, key and value projections of one layer side by side.
    const projection = (which: string) => layout.nodes[view.nodes.find((n) => n.name === `/encoder/layer.3/attention/self/${which}/MatMul`)?.index ?? -1];
    const [q, k, v] = ['query', 'key', 'value'].map(projection);
    expect(new Set([q.x, k.x, v.x]).size).toBe(3);
    expect(Math.abs(q.y - k.y)).toBeLessThan(1);
    // The 31 layers are alike: dagre ran far fewer times than there are levels, and not at all the second time.
    expect(layout.dagreRuns).toBeLessThan(40);
    const again = layoutGraph(spec, allGroups(spec));
    expect(again.dagreRuns).toBe(0);
    expect(JSON.stringify({ ...again, dagreRuns: 0 }) === JSON.stringify({ ...layout, dagreRuns: 0 }), 'the same layout again').toBe(true);
  });

  it('lays a graph whose skip edge spans everything out in one piece', () => {
    const b = new GraphBuilder('skip', { seed: 3 });
    let x = b.input('input', 'float32', [1, 8]);
    const start = b.relu(x, '/first/Relu');
    x = start;
    for (let i = 0; i < 60; i++) x = b.relu(x, `/chain.${i}/Relu`);
    const sum = b.op('Add', [start, x], {}, '/skip/Add');
    b.output(sum, 'float32', [1, 8]);
    const view = viewOfBytes(b.toBytes(), 'skip.onnx');
    const spec = specOf(view);
    const layout = layoutGraph(spec, []);
    expectWellFormed(spec, layout);
    expect(layout.chunks).toBe(1);
  });

  it('indexes edges by box for navigation', () => {
    const view = zooView('resnet18');
    const layout = expandedLayout(view);
    const add = view.nodes.find((n) => n.opType === 'Add');
    expect(layout.incoming[add?.index ?? -1].map((e) => layout.edges[e].from).sort((a, b) => a - b)).toEqual(add?.predecessors);
    for (const [i, out] of layout.outgoing.entries()) for (const e of out) expect(layout.edges[e].from).toBe(i);
  });
});

describe('layoutGraph with groups collapsed', () => {
  it('draws a collapsed group as one box, its edges merged, nothing inside it drawn', () => {
    const view = zooView('resnet50');
    const spec = specOf(view);
    const layout = layoutGraph(spec, []);
    expectWellFormed(spec, layout);
    const tree = moduleTree(view.nodes.map((n) => n.name));
    const stages = layout.visible.map((id) => layout.nodes[id]).filter((n) => n.kind === 'group');
    expect(stages.map((n) => n.label)).toEqual(['layer1', 'layer2', 'layer3', 'layer4']);
    expect(layout.frames).toEqual([]);
    // Every layer of layer2 is hidden, and the edges in and out of the stage end at its box.
    const layer2 = tree.groups.find((g) => g.label === 'layer2');
    for (let i = layer2?.first ?? 0; i <= (layer2?.last ?? -1); i++) expect(layout.nodes[i].visible).toBe(false);
    const box = stages[1];
    expect(layout.incoming[box.id].length).toBe(1);
    expect(layout.outgoing[box.id].length).toBe(1);
    expect(layout.edges[layout.incoming[box.id][0]].specEdges.length).toBe(2); // layer1's output feeds conv1 and the downsample of layer2.0
    // A chain of 12 boxes: far shorter than the expanded graph.
    expect(layout.visible.length).toBe(12);
    expect(layout.height * 4).toBeLessThan(layoutGraph(spec, allGroups(spec)).height);
  });

  it('expands one group into a frame, keeping the others collapsed', () => {
    const view = zooView('resnet50');
    const spec = specOf(view);
    const tree = moduleTree(view.nodes.map((n) => n.name));
    const layer3 = tree.groups.find((g) => g.label === 'layer3');
    const layout = layoutGraph(spec, [layer3?.id ?? -1]);
    expectWellFormed(spec, layout);
    expect(layout.frames.map((f) => f.label)).toEqual(['layer3']);
    const blocks = layout.visible.map((id) => layout.nodes[id]).filter((n) => n.parent === spec.groupBase + (layer3?.id ?? 0));
    expect(blocks.map((n) => n.label)).toEqual(['layer3.0', 'layer3.1', 'layer3.2', 'layer3.3', 'layer3.4', 'layer3.5']);
  });

  it('opens a model at the deepest level whose layout still fits', () => {
    const view = zooView('resnet50');
    const spec = specOf(view);
    const levels = expansionLevels(moduleTree(view.nodes.map((n) => n.name)));
    expect(levels[0]).toEqual([]);
    expect(levels[levels.length - 1].length).toBe(allGroups(spec).length);
    expect(chooseInitialLayout(spec, levels, 400, 900).expanded).toEqual([]);
    expect(chooseInitialLayout(spec, levels, 1e6, 1e6).expanded.length).toBe(allGroups(spec).length);
    const small = chooseInitialLayout(spec, levels, 10, 10);
    expect(small.expanded).toEqual([]);
  });
});

describe('naming and search helpers', () => {
  it('classifies ops into colour families', () => {
    expect(opFamily('Conv')).toBe('conv');
    expect(opFamily('MatMul')).toBe('fc');
    expect(opFamily('MaxPool')).toBe('pool');
    expect(opFamily('Softmax')).toBe('activation');
    expect(opFamily('LayerNormalization')).toBe('norm');
    expect(opFamily('Add')).toBe('elementwise');
    expect(opFamily('Reshape')).toBe('shape');
    expect(opFamily('MyCustomOp')).toBe('other');
  });

  it('shortens exporter names to their telling part', () => {
    expect(shortNodeName('/encoder/layer.0/attention/self/query/MatMul', 'MatMul')).toBe('self/query');
    expect(shortNodeName('/features/features.0/Conv', 'Conv')).toBe('features.0');
    expect(shortNodeName('/encoder/layer.0/attention/self/Reshape_1', 'Reshape')).toBe('self/Reshape_1');
    expect(shortNodeName('Conv_0', 'Conv')).toBe('Conv_0');
    expect(shortNodeName('', 'Relu')).toBe('');
  });

  it('finds nodes by name or op, case-insensitively', () => {
    const view = zooView('alexnet');
    expect(searchNodes(view, 'gemm')).toEqual(view.nodes.filter((n) => n.opType === 'Gemm').map((n) => n.index));
    expect(searchNodes(view, 'FEATURES.3')).toEqual([3]);
    expect(searchNodes(view, '  ')).toEqual([]);
    expect(searchNodes(view, 'no such node')).toEqual([]);
  });
});
