// The roofline estimate of one layer: compute-bound, memory-bound, unknown MACs.
import { describe, expect, it } from 'vitest';
import type { LayerAnalysis } from '../analysis/types.js';
import { estimateLayerMs, hardwarePreset, HARDWARE_PRESET_NAMES } from './estimate.js';
import type { HardwareProfile } from './estimate.js';

const hardware: HardwareProfile = { name: 'test', gmacsPerSec: 10, gbPerSec: 10, perOpOverheadMs: 0.05 };

function layer(macs: number | null, outputBytes: number | null, paramBytes: number): LayerAnalysis {
  return {
    index: 0,
    nodeIndex: 0,
    name: 'layer',
    opType: 'Conv',
    domain: '',
    inputs: ['x', 'w'],
    outputs: [{ name: 'y', elementType: 'float32', shape: null, bytes: outputBytes, source: 'static' }],
    outputBytes,
    params: paramBytes / 4,
    paramBytes,
    macs,
    nodeMacs: macs,
    intMacs: macs === null ? null : 0,
    weightInputs: ['w'],
    foldedNodes: [],
    stepNodes: [],
    flags: []
  };
}

describe('estimateLayerMs', () => {
  it('is compute-bound when MACs dominate', () => {
    // 1e8 MACs at 10 GMAC/s = 10 ms; 3e5 bytes at 10 GB/s = 0.03 ms.
    const estimate = estimateLayerMs(layer(1e8, 100_000, 100_000), { bytes: 100_000, allSizesKnown: true }, hardware);
    expect(estimate.ms).toBeCloseTo(10.05, 12);
    expect(estimate).toMatchObject({ limitedBy: 'compute', macsKnown: true, bytesKnown: true });
  });

  it('is memory-bound when bytes dominate', () => {
    // 4e7 bytes at 10 GB/s = 4 ms; 1e6 MACs = 0.1 ms.
    const estimate = estimateLayerMs(layer(1e6, 1e7, 2e7), { bytes: 1e7, allSizesKnown: true }, hardware);
    expect(estimate.ms).toBeCloseTo(4.05, 12);
    expect(estimate.limitedBy).toBe('memory');
  });

  it('counts bytes only when MACs are unknown, and marks unknown sizes', () => {
    const estimate = estimateLayerMs(layer(null, null, 1e7), { bytes: 1e7, allSizesKnown: false }, hardware);
    expect(estimate.ms).toBeCloseTo(2.05, 12);
    expect(estimate).toMatchObject({ limitedBy: 'memory', macsKnown: false, bytesKnown: false });
  });

  it('rejects a profile without throughput', () => {
    expect(() => estimateLayerMs(layer(1, 1, 1), { bytes: 0, allSizesKnown: true }, { ...hardware, gbPerSec: 0 })).toThrow(/gbPerSec/);
  });

  it('has device and server presets and names them on a miss', () => {
    expect(HARDWARE_PRESET_NAMES).toEqual(['mobile-cpu', 'mobile-gpu', 'server-gpu']);
    expect(hardwarePreset('server-gpu').gmacsPerSec).toBeGreaterThan(hardwarePreset('mobile-cpu').gmacsPerSec);
    expect(() => hardwarePreset('tpu')).toThrow('valid presets: mobile-cpu, mobile-gpu, server-gpu');
  });
});
