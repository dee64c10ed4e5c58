// Per-layer analysis against published numbers: torchvision documents MACs (its
// "GFLOPS", which count multiply-accumulates) for these architectures at 224×224; our
// count for each zoo model, exported the way PyTorch exports it, must be within 2%.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { buildZooModel, zooModels } from './index.js';

describe('MACs match torchvision within 2%', () => {
  const referenced = zooModels.filter((entry) => entry.reference);
  it('covers the seven documented architectures', () => {
    expect(referenced.map((e) => e.id).sort()).toEqual(['alexnet', 'googlenet', 'mobilenet-v2', 'resnet18', 'resnet50', 'squeezenet1.1', 'vgg16']);
  });
  for (const entry of referenced) {
    it(`${entry.id}: ${(entry.reference!.macs / 1e9).toFixed(2)} G`, () => {
      const analysis = analyzeModel(readOnnxModel(buildZooModel(entry.id, { weights: 'zeros' })));
      expect(analysis.totals.unknownMacLayers).toBe(0);
      const ratio = analysis.totals.macs / entry.reference!.macs;
      expect(ratio).toBeGreaterThan(0.98);
      expect(ratio).toBeLessThan(1.02);
    }, 60_000);
  }
});
