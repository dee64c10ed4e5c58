// The partition on the graph: sides of layers and of collapsed groups (both sides when the
// cut goes through one), the edges that carry uploads and downloads, one byte label per
// crossing tensor (on a hidden crossing's group box when the edge is not drawn), and the
// cut's name on the first label — on ResNet-18 expanded and collapsed, for a topological
// cut and for the DAG min cut, checked against app/partition's own crossing tensors.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { crossingTensorsOf } from '../../app/partition/cuts.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { moduleTree } from '../../app/studio/module-tree.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { DEFAULT_WHAT_IF, analyzeWhatIf, splitProblemFor, whatIfForPreset } from '../split/split-data.js';
import { shownPartitionOf } from '../split/shown-partition.js';
import { graphSpec } from './graph-spec.js';
import { layoutGraph } from './layout.js';
import { matchMask, partitionPaint, representatives, SIDE_BOTH, SIDE_DEVICE, SIDE_SERVER } from './paint.js';

const bytes = buildZooModel('resnet18', { seed: 1 });
const model = readOnnxModel(bytes);
const view = modelViewOf(model, analyzeModel(model), { id: 'r18', fileName: 'resnet18.onnx', fileBytes: bytes.byteLength });
const tree = moduleTree(view.nodes.map((n) => n.name));
const spec = graphSpec(view, tree);
const split = splitProblemFor(view, null, null);
const analysis = analyzeWhatIf(split, DEFAULT_WHAT_IF);
const allGroups = tree.groups.map((g) => g.id);
const layer2 = tree.groups.find((g) => g.label === 'layer2');
if (!layer2) throw new Error('resnet18 has no layer2 group');
// A cut in the middle of layer2's first block: inside layer2 and inside layer2.0.
const cut = layer2.first + 3;
const pinned = shownPartitionOf(view, split, analysis, 'latency', { kind: 'pinned', cut }, [cut]);
if (!pinned) throw new Error('no partition');

describe('partitionPaint, fully expanded', () => {
  const layout = layoutGraph(spec, allGroups);
  const reps = representatives(layout);
  const paint = partitionPaint(spec, layout, reps, pinned);

  it('puts layers before the cut on the device, the rest on the server, inputs and outputs on the device', () => {
    for (let i = 0; i < view.nodes.length; i++) expect(paint.side[i]).toBe(i < cut ? SIDE_DEVICE : SIDE_SERVER);
    expect(paint.side[view.nodes.length]).toBe(SIDE_DEVICE);
    expect(paint.side[spec.groupBase + layer2.id]).toBe(SIDE_BOTH);
    expect(paint.localFraction[spec.groupBase + layer2.id]).toBeCloseTo((cut - layer2.first) / (layer2.last - layer2.first + 1));
  });

  it('marks exactly the drawn edges from the device to the server, one label per crossing tensor with its bytes', () => {
    const expected = crossingTensorsOf(split.problem, pinned.isLocal);
    const marked = layout.edges.filter((_, i) => paint.edgeMarks[i] === 1);
    const tensors = new Set(marked.flatMap((e) => e.specEdges.map((s) => spec.edges[s].tensor)).filter((t) => expected.uploaded.includes(t)));
    expect([...tensors].sort()).toEqual([...expected.uploaded].sort());
    for (const edge of marked) expect(edge.from < cut || edge.from >= view.nodes.length).toBe(true);
    const uploadPills = paint.pills.filter((p) => p.kind === 'up');
    expect(uploadPills.reduce((sum, p) => sum + p.bytes, 0)).toBe(pinned.uploadBytes);
    expect(pinned.uploadBytes).toBe(analysis.costs[cut].uploadBytes);
    // The output is produced on the server: it comes back down.
    expect(paint.pills.filter((p) => p.kind === 'down').reduce((sum, p) => sum + p.bytes, 0)).toBe(pinned.downloadBytes);
    expect(paint.pills[0].text.startsWith(`cut ${cut} · ↑`)).toBe(true);
  });
});

describe('partitionPaint, collapsed', () => {
  const layout = layoutGraph(spec, []);
  const reps = representatives(layout);
  const paint = partitionPaint(spec, layout, reps, pinned);

  it('shows the cut on the collapsed group it goes through, with the bytes that cross inside it', () => {
    const box = spec.groupBase + layer2.id;
    expect(layout.nodes[box].visible).toBe(true);
    expect(reps[cut]).toBe(box);
    expect(paint.side[box]).toBe(SIDE_BOTH);
    const inside = paint.pills.find((p) => p.item === box);
    expect(inside?.kind).toBe('inside');
    expect(inside?.text).toMatch(/↑ .* inside$/);
    // layer1's output goes up to layer2.0's downsample on the server: the edge into the box is marked;
    // what layer2.0's own layers send each other crosses inside the box. Together: every byte uploaded, once.
    const marked = layout.edges.filter((_, i) => paint.edgeMarks[i] === 1);
    expect(marked.map((e) => layout.nodes[e.to].label)).toEqual(['layer2']);
    const labelled = paint.pills.filter((p) => p.kind !== 'down').reduce((sum, p) => sum + p.bytes, 0);
    expect(labelled).toBe(pinned.uploadBytes);
    expect(inside?.bytes).toBeGreaterThan(0);
    expect(inside?.bytes).toBeLessThan(pinned.uploadBytes);
    // The cut's name goes on the topmost label.
    expect(paint.pills[0].text.startsWith(`cut ${cut} · `)).toBe(true);
    // layer1 is all on the device, layer3 all on the server.
    const side = (label: string) => paint.side[spec.groupBase + (tree.groups.find((g) => g.label === label)?.id ?? -1)];
    expect(side('layer1')).toBe(SIDE_DEVICE);
    expect(side('layer3')).toBe(SIDE_SERVER);
  });

  it('marks the boxes holding search matches', () => {
    const mask = matchMask(layout, reps, [cut, 0]);
    expect(mask[spec.groupBase + layer2.id]).toBe(1);
    expect(mask[0]).toBe(1);
    expect(mask.reduce((a, b) => a + b, 0)).toBe(2);
  });
});

describe('the DAG min cut on the graph', () => {
  it('paints the min-cut partition: its local layers on the device, its crossings marked', () => {
    const slow = analyzeWhatIf(split, whatIfForPreset('3g', { serverLoad: 1, objective: 'latency' }));
    const dag = shownPartitionOf(view, split, slow, 'latency', { kind: 'dag' }, []);
    expect(dag?.cut).toBeNull();
    expect(dag?.localCount).toBe(slow.dag?.localNodes.length);
    if (!dag) return;
    const layout = layoutGraph(spec, allGroups);
    const paint = partitionPaint(spec, layout, representatives(layout), dag);
    for (let i = 0; i < view.nodes.length; i++) expect(paint.side[i]).toBe(dag.isLocal[i] ? SIDE_DEVICE : SIDE_SERVER);
    expect(dag.uploadBytes).toBe(slow.dag?.cost.uploadBytes);
  });
});
