// The int8 arithmetic against hand-computed values: uint8 activation parameters, symmetric
// per-channel and per-tensor int8 weights, int32 biases, and weight scales raised so a
// bias fits in int32.
import { describe, expect, it } from 'vitest';
import { biasWeightScaleFloor, quantizeBias, quantizeWeightSymmetric, rangeOf, transposeMatrix, uint8Parameters, widenRange } from './parameters.js';

describe('activation parameters', () => {
  it('maps a range widened to hold 0 onto 0..255', () => {
    expect(uint8Parameters({ min: -1, max: 3 })).toEqual({ scale: Math.fround(4 / 255), zeroPoint: 64 });
    // All positive (after a ReLU): zero point 0, so 0 is exact.
    expect(uint8Parameters({ min: 0.5, max: 2.55 })).toEqual({ scale: Math.fround(0.01), zeroPoint: 0 });
    expect(uint8Parameters({ min: -5.1, max: -1 })).toEqual({ scale: Math.fround(0.02), zeroPoint: 255 });
    expect(uint8Parameters({ min: 0, max: 0 })).toEqual({ scale: 1, zeroPoint: 0 });
  });

  it('keeps the smallest and largest finite value over samples', () => {
    expect(rangeOf([3, -2, Number.NaN, Infinity, 7])).toEqual({ min: -2, max: 7 });
    expect(rangeOf([Number.NaN])).toBeNull();
    expect(widenRange(widenRange(undefined, { min: 0, max: 1 }), { min: -1, max: 0.5 })).toEqual({ min: -1, max: 1 });
  });
});

describe('weights and biases', () => {
  it('quantizes weights symmetrically to [-127, 127], per output channel or per tensor', () => {
    const values = [1.27, -0.63, 0, 0.01, 0.03, -0.04];
    const perChannel = quantizeWeightSymmetric(values, [2, 3], true);
    expect([...perChannel.scales]).toEqual([Math.fround(0.01), Math.fround(0.04 / 127)]);
    expect([...perChannel.values]).toEqual([127, -63, 0, 32, 95, -127]);
    const perTensor = quantizeWeightSymmetric(values, [2, 3], false);
    expect([...perTensor.scales]).toEqual([Math.fround(0.01)]);
    expect([...perTensor.values]).toEqual([127, -63, 0, 1, 3, -4]);
  });

  it('writes biases as int32 at input scale × weight scale', () => {
    const bias = quantizeBias([0.5, -0.25], 0.1, Float32Array.from([0.01, 0.05]));
    expect([...bias.values]).toEqual([500, -50]);
    expect([...bias.scales]).toEqual([Math.fround(0.1 * Math.fround(0.01)), Math.fround(0.1 * Math.fround(0.05))]);
  });

  it('raises a weight scale where the bias would overflow int32 at a tiny input scale', () => {
    const inputScale = 1e-8;
    const floor = biasWeightScaleFloor([0.3, 0.01], inputScale, true);
    const weight = quantizeWeightSymmetric([0.001, 0.001], [2, 1], true, floor);
    expect(weight.scales[0]).toBeGreaterThan(0.001 / 127);
    const bias = quantizeBias([0.3, 0.01], inputScale, weight.scales);
    for (const value of bias.values) expect(Math.abs(value)).toBeLessThan(2 ** 31 - 1);
    expect(bias.values[0] * bias.scales[0]).toBeCloseTo(0.3, 6);
  });

  it('transposes a row-major matrix', () => {
    expect([...transposeMatrix([1, 2, 3, 4, 5, 6], 2, 3)]).toEqual([1, 4, 2, 5, 3, 6]);
  });
});
