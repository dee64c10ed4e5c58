// The lone-kernel excess: the probe networks the characterisation times, and how a
// prediction takes the excess off a layer (shared among the sweep's copies, capped).
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../analysis/analyze.js';
import { readOnnxModel } from '../onnx/reader.js';
import { firstOfOpTracker, inNetworkMs, LONE_KERNEL_CHAIN, LONE_KERNEL_MAX_SHARE, LONE_KERNEL_PROBE_OPS, LONE_KERNEL_PROBE_SHAPE, LONE_KERNEL_WRAPPER, loneKernelProbe } from './lone-kernel.js';

describe('loneKernelProbe', () => {
  it('chains the probe op over the probe shape and ends in the sweep wrapper, for every probe op', () => {
    for (const op of LONE_KERNEL_PROBE_OPS) {
      for (const count of [1, LONE_KERNEL_CHAIN]) {
        const model = readOnnxModel(loneKernelProbe(op, count));
        const analysis = analyzeModel(model);
        const probed = analysis.layers.filter((layer) => !layer.name.startsWith(LONE_KERNEL_WRAPPER));
        expect(probed.map((layer) => layer.opType)).toEqual(Array.from({ length: count }, () => op));
        expect(analysis.layers.at(-1)?.name).toBe(`${LONE_KERNEL_WRAPPER}Shape`);
        const elements = LONE_KERNEL_PROBE_SHAPE.reduce<number>((product, d) => product * d, 1);
        for (const layer of probed) expect(layer.outputBytes).toBe(4 * elements);
      }
    }
  });
});

describe('inNetworkMs', () => {
  it('takes the excess off a layer timed alone, and a share of it off one timed as copies', () => {
    expect(inNetworkMs(0.004, 0.001)).toBeCloseTo(0.003, 12);
    expect(inNetworkMs(0.004, 0.001, 8)).toBeCloseTo(0.004 - 0.001 / 8, 12);
    expect(inNetworkMs(2, 0.001)).toBeCloseTo(1.999, 12);
  });

  it('keeps the whole excess on the first layer of its op in a run, whose sample held a share of it', () => {
    expect(inNetworkMs(0.004, 0.001, 1, true)).toBeCloseTo(0.004, 12);
    expect(inNetworkMs(0.004, 0.001, 8, true)).toBeCloseTo(0.004 - 0.001 / 8 + 0.001, 12);
  });

  it('tells the first kernel of each op in a run', () => {
    const first = firstOfOpTracker();
    expect(['Add', 'Mul', 'Add', 'Softmax', 'Mul'].map(first)).toEqual([true, true, false, true, false]);
    expect(firstOfOpTracker()('Add')).toBe(true);
  });

  it(`never takes off more than ${LONE_KERNEL_MAX_SHARE * 100} % of a layer`, () => {
    expect(inNetworkMs(0.001, 0.005)).toBeCloseTo((1 - LONE_KERNEL_MAX_SHARE) * 0.001, 12);
  });

  it('leaves the time as it is without an excess (older profiles) or with none measured', () => {
    expect(inNetworkMs(0.004, undefined)).toBe(0.004);
    expect(inNetworkMs(0.004, 0)).toBe(0.004);
    expect(inNetworkMs(0, 0.001)).toBe(0);
  });
});
