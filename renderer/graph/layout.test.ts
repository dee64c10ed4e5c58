// The graph layout on real zoo models: top-to-bottom order, no overlapping boxes, branches
// side by side, edges from box to box with shape labels, the chunked dagre runs stacking
// exactly as one layout would, and determinism.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf, type ModelView } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { layoutModel, opFamily, searchNodes, shortNodeName, type GraphLayout, type LaidOutNode } from './layout.js';

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

function overlaps(a: LaidOutNode, b: LaidOutNode): boolean {
  return Math.abs(a.x - b.x) < (a.width + b.width) / 2 && Math.abs(a.y - b.y) < (a.height + b.height) / 2;
}

function onBorder(box: LaidOutNode, x: number, y: number): boolean {
  const distance = Math.max(Math.abs(x - box.x) / (box.width / 2), Math.abs(y - box.y) / (box.height / 2));
  return Math.abs(distance - 1) < 0.02;
}

function expectWellFormed(view: ModelView, layout: GraphLayout): void {
  expect(layout.nodes.length).toBe(view.nodes.length + view.inputs.length + view.outputs.length);
  layout.nodes.forEach((node, id) => {
    expect(node.id).toBe(id);
    expect(Number.isFinite(node.x) && Number.isFinite(node.y)).toBe(true);
    expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
    expect(node.y - node.height / 2).toBeGreaterThanOrEqual(0);
    expect(node.x + node.width / 2).toBeLessThanOrEqual(layout.width);
    expect(node.y + node.height / 2).toBeLessThanOrEqual(layout.height);
  });
  // Every producer → consumer relation is an edge going downwards, from box border to box border.
  for (const node of view.nodes) {
    for (const p of node.predecessors) {
      const edge = layout.edges.find((e) => e.from === p && e.to === node.index);
      expect(edge, `edge ${p} → ${node.index}`).toBeDefined();
    }
  }
  for (const edge of layout.edges) {
    const from = layout.nodes[edge.from];
    const to = layout.nodes[edge.to];
    expect(to.y).toBeGreaterThan(from.y);
    expect(edge.points.length).toBeGreaterThanOrEqual(4);
    const [x0, y0] = edge.points;
    const [x1, y1] = edge.points.slice(-2);
    expect(onBorder(from, x0, y0), `edge ${edge.from} → ${edge.to} leaves from the border`).toBe(true);
    expect(onBorder(to, x1, y1), `edge ${edge.from} → ${edge.to} arrives at the border`).toBe(true);
    expect(y0).toBeGreaterThan(from.y);
    expect(y1).toBeLessThan(to.y);
    expect(edge.labelY).toBeGreaterThan(from.y);
    expect(edge.labelY).toBeLessThan(to.y);
  }
  // No two boxes overlap (sweep over boxes sorted by top edge).
  const sorted = [...layout.nodes].sort((a, b) => a.y - a.height / 2 - (b.y - b.height / 2));
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length && sorted[j].y - sorted[j].height / 2 < sorted[i].y + sorted[i].height / 2; j++) {
      expect(overlaps(sorted[i], sorted[j]), `${sorted[i].label}#${sorted[i].id} overlaps ${sorted[j].label}#${sorted[j].id}`).toBe(false);
    }
  }
}

describe('layoutModel', () => {
  it('lays a chain out top to bottom, input first, output last, edges labelled with shapes', () => {
    const view = zooView('alexnet');
    const layout = layoutModel(view);
    expectWellFormed(view, layout);
    const input = layout.nodes.find((n) => n.kind === 'input');
    const output = layout.nodes.find((n) => n.kind === 'output');
    expect(input?.label).toBe('input');
    expect(input?.sublabel).toBe('1×3×224×224');
    expect(Math.min(...layout.nodes.map((n) => n.y))).toBe(input?.y);
    expect(Math.max(...layout.nodes.map((n) => n.y))).toBe(output?.y);
    // In a chain every node sits lower than the one before it.
    for (let i = 1; i < view.nodes.length; i++) expect(layout.nodes[i].y).toBeGreaterThan(layout.nodes[i - 1].y);
    const convToRelu = layout.edges.find((e) => e.from === 0 && e.to === 1);
    expect(convToRelu?.label).toBe('1×64×55×55');
    expect(layout.edges.find((e) => e.from === input?.id)?.label).toBe('1×3×224×224');
    expect(layout.nodes[0]).toMatchObject({ label: 'Conv', family: 'conv', sublabel: 'features.0' });
  });

  it('puts Inception branches side by side and merges them at the Concat', () => {
    const view = zooView('googlenet');
    const layout = layoutModel(view);
    expectWellFormed(view, layout);
    const concat = view.nodes.find((n) => n.opType === 'Concat' && n.name.includes('inception3a'));
    expect(concat?.predecessors.length).toBe(4);
    const branchEnds = (concat?.predecessors ?? []).map((p) => layout.nodes[p]);
    expect(new Set(branchEnds.map((n) => Math.round(n.x))).size).toBe(4);
    const concatNode = layout.nodes[concat?.index ?? -1];
    for (const end of branchEnds) expect(end.y).toBeLessThan(concatNode.y);
  });

  it('routes ResNet residuals beside the main path', () => {
    const view = zooView('resnet18');
    const layout = layoutModel(view);
    expectWellFormed(view, layout);
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

  it('lays out the 1,026-node transformer in chunks that stack like one layout, deterministically', () => {
    const view = zooView('transformer-large');
    expect(view.nodes.length).toBe(1026);
    const layout = layoutModel(view);
    expect(layout.chunks).toBeGreaterThan(10);
    expectWellFormed(view, layout);
    // Attention: query, key and value projections of one layer side by side.
    const projection = (which: string) => layout.nodes[view.nodes.find((n) => n.name === `/encoder/layer.3/attention/self/${which}/MatMul`)?.index ?? -1];
    const [q, k, v] = ['query', 'key', 'value'].map(projection);
    expect(new Set([q.x, k.x, v.x]).size).toBe(3);
    expect(Math.abs(q.y - k.y)).toBeLessThan(1);
    expect(JSON.stringify(layoutModel(view))).toBe(JSON.stringify(layout));
    // Stacked chunks stay upright: 31 layers are no wider than the 4-layer encoder laid out in one go.
    expect(layout.width).toBeLessThan(layoutModel(zooView('transformer')).width * 1.15);
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
    const layout = layoutModel(view);
    expectWellFormed(view, layout);
    expect(layout.chunks).toBe(1);
  });

  it('indexes edges by node for navigation', () => {
    const view = zooView('resnet18');
    const layout = layoutModel(view);
    const add = view.nodes.find((n) => n.opType === 'Add');
    expect(layout.incoming[add?.index ?? -1].map((e) => layout.edges[e].from).sort((a, b) => a - b)).toEqual(add?.predecessors);
    for (const [i, out] of layout.outgoing.entries()) for (const e of out) expect(layout.edges[e].from).toBe(i);
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
