// The drawing module's geometry: which box a point hits (collapsed groups included), which
// frame's label strip, which world rectangle a viewport shows, and the minimap's transform
// (the culling, the click targets and the minimap's clicks depend on them).
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { boundsOf, frameHeaderAt, hitTest, minimapTransform, visibleWorld } from './draw.js';
import { graphSpec } from './graph-spec.js';
import { layoutGraph } from './layout.js';

const bytes = buildZooModel('resnet18', { seed: 1 });
const model = readOnnxModel(bytes);
const spec = graphSpec(modelViewOf(model, analyzeModel(model), { id: 'r', fileName: 'resnet18.onnx', fileBytes: bytes.byteLength }));
const groups = spec.items.filter((item) => item.kind === 'group').map((item) => item.index);
const expanded = layoutGraph(spec, groups);
const collapsed = layoutGraph(spec, []);

describe('hitTest', () => {
  it('finds every drawn box at its centre and just inside its corners, never a hidden one', () => {
    for (const layout of [expanded, collapsed]) {
      for (const id of layout.visible) {
        const node = layout.nodes[id];
        expect(hitTest(layout, node.x, node.y)).toBe(node.id);
        expect(hitTest(layout, node.x - node.width / 2 + 1, node.y + node.height / 2 - 1)).toBe(node.id);
      }
    }
    const hidden = collapsed.nodes.find((n) => n.kind === 'node' && !n.visible);
    expect(hidden).toBeDefined();
    const hit = hitTest(collapsed, hidden?.x ?? 0, hidden?.y ?? 0);
    expect(hit === null || collapsed.nodes[hit].visible).toBe(true);
  });

  it('finds nothing between boxes or outside the graph', () => {
    const [a, b] = [expanded.nodes[0], expanded.nodes[1]];
    expect(hitTest(expanded, a.x, (a.y + a.height / 2 + b.y - b.height / 2) / 2)).toBeNull();
    expect(hitTest(expanded, -10, -10)).toBeNull();
    expect(hitTest(expanded, expanded.width + 10, expanded.height / 2)).toBeNull();
  });
});

describe('frameHeaderAt and boundsOf', () => {
  it('finds the innermost frame whose label strip is under a point', () => {
    for (const frame of expanded.frames) {
      const found = frameHeaderAt(expanded, frame.x + 4, frame.y + 4);
      expect(found?.depth).toBeGreaterThanOrEqual(frame.depth);
    }
    const inner = [...expanded.frames].sort((a, b) => b.depth - a.depth)[0];
    expect(frameHeaderAt(expanded, inner.x + 4, inner.y + 4)?.id).toBe(inner.id);
    expect(frameHeaderAt(expanded, -5, -5)).toBeNull();
  });

  it('bounds a set of boxes', () => {
    const [a, b] = [collapsed.nodes[collapsed.visible[0]], collapsed.nodes[collapsed.visible[1]]];
    const bounds = boundsOf(collapsed, [a.id, b.id]);
    expect(bounds?.minY).toBe(Math.min(a.y - a.height / 2, b.y - b.height / 2));
    expect(bounds?.maxY).toBe(Math.max(a.y + a.height / 2, b.y + b.height / 2));
    expect(boundsOf(collapsed, [])).toBeNull();
  });
});

describe('visibleWorld and the minimap', () => {
  it('inverts the view transform, grown by the margin', () => {
    const view = { scale: 2, x: -100, y: 40, width: 800, height: 600, dpr: 2 };
    expect(visibleWorld(view)).toEqual({ minX: 50, minY: -20, maxX: 450, maxY: 280 });
    expect(visibleWorld(view, 20)).toEqual({ minX: 40, minY: -30, maxX: 460, maxY: 290 });
  });

  it('fits the whole layout in the minimap, centred', () => {
    const t = minimapTransform(expanded, 120, 110);
    expect(expanded.width * t.scale).toBeLessThanOrEqual(120 + 1e-9);
    expect(expanded.height * t.scale).toBeLessThanOrEqual(110 + 1e-9);
    expect(t.x).toBeCloseTo((120 - expanded.width * t.scale) / 2);
    expect(t.y).toBeCloseTo((110 - expanded.height * t.scale) / 2);
  });
});
