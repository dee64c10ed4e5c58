// The overlays' colour scales: log when values span more than 20×, linear otherwise;
// positions and quantised colours at the ends; no colour for no value; legend ticks in
// range; readable text on the ramp's ends; and per-item values on a zoo model (a group's
// value is its layers' sum, its output bytes the tensors leaving it).
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { moduleTree } from '../../app/studio/module-tree.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { graphSpec } from './graph-spec.js';
import { colourScale, formatOverlayValue, groupOutputBytes, overlayValues, RAMP, rampColour, textColourOn } from './overlay.js';

describe('colourScale', () => {
  it('is logarithmic over a wide range: a tenth of the way in log space is a tenth of the ramp', () => {
    const scale = colourScale([1, 10, 100, 1000, 10000, null, 0, -5, Number.NaN]);
    expect(scale?.kind).toBe('log');
    expect(scale?.min).toBe(1);
    expect(scale?.max).toBe(10000);
    expect(scale?.position(1)).toBe(0);
    expect(scale?.position(100)).toBeCloseTo(0.5);
    expect(scale?.position(10000)).toBe(1);
    expect(scale?.position(0)).toBeNull();
    expect(scale?.position(null)).toBeNull();
    expect(scale?.colour(1)).toBe(RAMP[0]);
    expect(scale?.colour(10000)).toBe(RAMP[RAMP.length - 1]);
    expect(scale?.colour(null)).toBeNull();
    // Ticks: the ends and round powers of ten between them, in order.
    const ticks = scale?.ticks ?? [];
    expect(ticks[0]).toEqual({ value: 1, position: 0 });
    expect(ticks[ticks.length - 1]).toEqual({ value: 10000, position: 1 });
    expect(ticks.map((t) => t.value)).toContain(100);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i].position).toBeGreaterThan(ticks[i - 1].position);
  });

  it('is linear over a narrow range and has no colour without positive values', () => {
    const scale = colourScale([2, 3, 4]);
    expect(scale?.kind).toBe('linear');
    expect(scale?.position(3)).toBeCloseTo(0.5);
    expect(scale?.ticks.map((t) => t.value)).toEqual([2, 3, 4]);
    expect(colourScale([0, null, -1])).toBeNull();
    expect(colourScale([5, 5])?.position(5)).toBe(1);
  });

  it('interpolates the ramp and picks readable text on it', () => {
    expect(rampColour(0)).toBe(RAMP[0]);
    expect(rampColour(1)).toBe(RAMP[RAMP.length - 1]);
    expect(rampColour(2)).toBe(RAMP[RAMP.length - 1]);
    expect(textColourOn(RAMP[0])).toBe('#ffffff');
    expect(textColourOn(RAMP[RAMP.length - 1])).toBe('#1d2127');
  });

  it('formats values by metric', () => {
    expect(formatOverlayValue('localMs', 3.14159)).toBe('3.14 ms');
    expect(formatOverlayValue('outputBytes', 2048)).toBe('2 KiB');
    expect(formatOverlayValue('macs', 2_500_000)).toBe('2.5 M MACs');
  });
});

describe('overlayValues', () => {
  const bytes = buildZooModel('resnet18', { seed: 1 });
  const model = readOnnxModel(bytes);
  const view = modelViewOf(model, analyzeModel(model), { id: 'r18', fileName: 'resnet18.onnx', fileBytes: bytes.byteLength });
  const tree = moduleTree(view.nodes.map((n) => n.name));
  const spec = graphSpec(view, tree);
  const layers = { localMs: view.nodes.map((_, i) => i + 1), remoteMs: view.nodes.map(() => 0.5) };

  it('gives layers their own value and groups the sum over their layers', () => {
    const macs = overlayValues('macs', view, tree, layers, spec.items.length, spec.groupBase);
    const local = overlayValues('localMs', view, tree, layers, spec.items.length, spec.groupBase);
    for (const group of tree.groups) {
      let sumMacs = 0;
      let sumMs = 0;
      for (let i = group.first; i <= group.last; i++) {
        sumMacs += view.nodes[i].macs ?? 0;
        sumMs += i + 1;
      }
      expect(macs[spec.groupBase + group.id]).toBe(sumMacs);
      expect(local[spec.groupBase + group.id]).toBe(sumMs);
    }
    expect(macs[0]).toBe(view.nodes[0].macs);
    expect(Number.isNaN(macs[view.nodes.length])).toBe(true); // the graph input has none
    expect(Number.isNaN(overlayValues('op', view, tree, layers, spec.items.length, spec.groupBase)[0])).toBe(true);
  });

  it("counts a group's output bytes as the tensors that leave it: one block output for a ResNet block", () => {
    const out = groupOutputBytes(view, tree);
    const block = tree.groups.find((g) => g.label === 'layer1.0');
    expect(block).toBeDefined();
    if (!block) return;
    expect(out[block.id]).toBe(view.nodes[block.last].outputBytes);
    const all = overlayValues('outputBytes', view, tree, null, spec.items.length, spec.groupBase);
    expect(all[spec.groupBase + block.id]).toBe(out[block.id]);
  });
});
