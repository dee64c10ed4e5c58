// The drawing module's geometry: which node a point hits and which world rectangle a
// viewport shows (the culling and the click targets depend on both).
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { hitTest, visibleWorld } from './draw.js';
import { layoutModel } from './layout.js';

const bytes = buildZooModel('resnet18', { seed: 1 });
const model = readOnnxModel(bytes);
const layout = layoutModel(modelViewOf(model, analyzeModel(model), { id: 'r', fileName: 'resnet18.onnx', fileBytes: bytes.byteLength }));

describe('hitTest', () => {
  it('finds every node at its centre and just inside its corners', () => {
    for (const node of layout.nodes) {
      expect(hitTest(layout, node.x, node.y)).toBe(node.id);
      expect(hitTest(layout, node.x - node.width / 2 + 1, node.y + node.height / 2 - 1)).toBe(node.id);
    }
  });

  it('finds nothing between boxes or outside the graph', () => {
    const [a, b] = [layout.nodes[0], layout.nodes[1]];
    expect(hitTest(layout, a.x, (a.y + a.height / 2 + b.y - b.height / 2) / 2)).toBeNull();
    expect(hitTest(layout, -10, -10)).toBeNull();
    expect(hitTest(layout, layout.width + 10, layout.height / 2)).toBeNull();
  });
});

describe('visibleWorld', () => {
  it('inverts the view transform, grown by the margin', () => {
    const view = { scale: 2, x: -100, y: 40, width: 800, height: 600, dpr: 2 };
    expect(visibleWorld(view)).toEqual({ minX: 50, minY: -20, maxX: 450, maxY: 280 });
    expect(visibleWorld(view, 20)).toEqual({ minX: 40, minY: -30, maxX: 460, maxY: 290 });
  });
});
