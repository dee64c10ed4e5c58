// The regression fits on synthetic data whose coefficients are known: exact recovery
// without noise, the right form chosen with noise, and the guards (too few samples,
// collinear and constant features, negative predictions).
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../onnx/builder.js';
import type { LayerSample } from '../profiling/types.js';
import { crossValidatedError, fitBestRegression, fitDeviceModels, fitLayerType, fitRegression, leastSquares, predictWithFit, predictWithFits, rSquared, selectFit, type FitSample } from './regression.js';
import type { RegressionFit } from '../profiling/types.js';

function samplesOf(count: number, seed: number, latency: (x: number, y: number) => number, noise = 0): FitSample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const inputSize = Math.round(1e3 + random() * 1e6);
    const filters = Math.round(16 + random() * 4000);
    return { features: { inputSize, filters }, ms: latency(inputSize, filters) + noise * (random() * 2 - 1) };
  });
}

describe('fitRegression', () => {
  it('recovers known linear coefficients from noise-free data', () => {
    const samples = samplesOf(30, 1, (x, y) => 0.25 + 2e-6 * x + 3e-4 * y);
    const fit = fitRegression('conv', ['inputSize', 'filters'], samples, 'linear');
    expect(fit).not.toBeNull();
    expect(fit!.intercept).toBeCloseTo(0.25, 6);
    expect(Math.abs(fit!.coefficients[0] - 2e-6)).toBeLessThan(1e-6 * 2e-6 + 1e-12);
    expect(Math.abs(fit!.coefficients[1] - 3e-4)).toBeLessThan(1e-6 * 3e-4 + 1e-12);
    expect(fit!.r2).toBeCloseTo(1, 9);
    expect(fit!.samples).toBe(30);
  });

  it('recovers known logarithmic coefficients from noise-free data', () => {
    const samples = samplesOf(30, 2, (x, y) => 0.5 + 1.5 * Math.log1p(x) + 0.75 * Math.log1p(y));
    const fit = fitRegression('pooling', ['inputSize', 'filters'], samples, 'log');
    expect(Math.abs(fit!.intercept - 0.5)).toBeLessThan(1e-6);
    expect(Math.abs(fit!.coefficients[0] - 1.5)).toBeLessThan(1e-6);
    expect(Math.abs(fit!.coefficients[1] - 0.75)).toBeLessThan(1e-6);
    expect(fit!.r2).toBeCloseTo(1, 9);
  });

  it('gives no fit with fewer samples than features + 2', () => {
    const samples = samplesOf(3, 3, (x, y) => x + y);
    expect(fitRegression('conv', ['inputSize', 'filters'], samples, 'linear')).toBeNull();
    expect(fitBestRegression('conv', ['inputSize', 'filters'], samples)).toBeNull();
    expect(fitRegression('conv', ['inputSize', 'filters'], samplesOf(4, 3, (x, y) => x + y), 'linear')).not.toBeNull();
  });

  it('leaves out samples that lack a feature', () => {
    const samples: FitSample[] = [...samplesOf(10, 4, (x) => 1e-6 * x), { features: { inputSize: 5 }, ms: 100 }];
    expect(fitRegression('conv', ['inputSize', 'filters'], samples, 'linear')!.samples).toBe(10);
  });

  it('drops a collinear feature (coefficient 0) and still fits exactly', () => {
    const samples = samplesOf(20, 5, (x) => 0.1 + 4e-6 * x).map((s): FitSample => ({ ...s, features: { ...s.features, twice: 2 * s.features.inputSize } }));
    const fit = fitRegression('conv', ['inputSize', 'twice'], samples, 'linear')!;
    expect(fit.coefficients[1]).toBe(0);
    expect(fit.coefficients[0]).toBeCloseTo(4e-6, 12);
    expect(fit.intercept).toBeCloseTo(0.1, 9);
    expect(fit.r2).toBeCloseTo(1, 9);
    const solution = leastSquares(samples.map((s) => [s.features.inputSize, s.features.twice]), samples.map((s) => s.ms));
    expect(solution!.dropped).toEqual([1]);
  });

  it('drops a constant feature (it is the intercept)', () => {
    const samples = samplesOf(12, 6, (x) => 2 + 1e-6 * x).map((s): FitSample => ({ ...s, features: { ...s.features, filters: 64 } }));
    const fit = fitRegression('conv', ['inputSize', 'filters'], samples, 'linear')!;
    expect(fit.coefficients[1]).toBe(0);
    expect(fit.intercept).toBeCloseTo(2, 9);
  });
});

describe('fitBestRegression', () => {
  it('chooses linear for linear data and log for logarithmic data, with noise', () => {
    const linear = fitBestRegression('fc', ['inputSize', 'filters'], samplesOf(60, 7, (x, y) => 0.2 + 3e-6 * x + 1e-3 * y, 0.05))!;
    expect(linear.form).toBe('linear');
    expect(linear.r2).toBeLessThan(1);
    expect(linear.r2).toBeGreaterThan(0.99);
    const log = fitBestRegression('fc', ['inputSize', 'filters'], samplesOf(60, 8, (x, y) => 0.2 + 0.8 * Math.log1p(x) + 0.3 * Math.log1p(y), 0.05))!;
    expect(log.form).toBe('log');
    expect(log.r2).toBeLessThan(1);
    expect(log.r2).toBeGreaterThan(0.95);
  });

  it('prefers linear on a tie', () => {
    // A constant latency: both forms fit it exactly (R² = 1).
    const fit = fitBestRegression('softmax', ['inputSize'], samplesOf(8, 9, () => 0.5))!;
    expect(fit.form).toBe('linear');
    expect(fit.r2).toBe(1);
  });
});

describe('predictWithFit and rSquared', () => {
  it('never predicts below zero', () => {
    const fit = { layerType: 'activation', form: 'linear' as const, features: ['neurons'], coefficients: [1e-6], intercept: -0.5, r2: 0.9, samples: 10 };
    expect(predictWithFit(fit, { neurons: 1000 })).toBe(0);
    expect(predictWithFit(fit, { neurons: 1e6 })).toBeCloseTo(0.5, 12);
  });

  it('is 1 for perfect predictions and 0 for predicting the mean', () => {
    expect(rSquared([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(rSquared([1, 2, 3], [2, 2, 2])).toBe(0);
  });
});

describe('fitDeviceModels', () => {
  it('fits each layer type with enough samples on its own features', () => {
    const samples: LayerSample[] = [
      ...Array.from({ length: 8 }, (_, i) => ({ layerType: 'activation', features: { neurons: 1000 * (i + 1), transcendentalNeurons: i % 2 ? 1000 * (i + 1) : 0 }, ms: 0.01 + 1e-6 * 1000 * (i + 1), config: `a${i}` })),
      ...Array.from({ length: 2 }, (_, i) => ({ layerType: 'softmax', features: { neurons: 10 * (i + 1) }, ms: 0.01, config: `s${i}` }))
    ];
    const fits = fitDeviceModels(samples);
    expect(fits.map((f) => f.layerType)).toEqual(['activation']);
    expect(fits[0].features).toEqual(['neurons', 'transcendentalNeurons']);
    expect(fits[0].coefficients[0]).toBeCloseTo(1e-6, 12);
    expect(fits[0].coefficients[1]).toBeCloseTo(0, 12);
  });
});

describe('size classes', () => {
  /** Conv-like samples over MACs from 1e5 to 4e9 (log-uniform), noise ±3 %, from `latency`. */
  function sized(count: number, seed: number, latency: (macs: number) => number): FitSample[] {
    const random = seededRandom(seed);
    return Array.from({ length: count }, () => {
      const macs = Math.round(10 ** (5 + random() * 4.6));
      return { features: { macs }, ms: latency(macs) * (1 + 0.03 * (random() * 2 - 1)) };
    });
  }
  // Small layers: 5 µs fixed + 40 GMAC/s; from 1e8 MACs on, 0.1 ms fixed + 100 GMAC/s.
  const twoRegimes = (macs: number) => (macs < 1e8 ? 0.005 + macs / 40e6 : 0.1 + macs / 100e6);

  it('splits a type whose cost changes regime with size, near where it changes, and predicts both sides', () => {
    const samples = sized(300, 11, twoRegimes);
    const fits = fitLayerType('conv', ['macs'], samples, 'macs');
    expect(fits).toHaveLength(2);
    expect(fits[0]).toMatchObject({ sizeFeature: 'macs', sizeTo: fits[1].sizeFrom });
    expect(fits[0].sizeFrom).toBeUndefined();
    expect(fits[1].sizeTo).toBeUndefined();
    // The split lands within a factor of three of 1e8 (candidate splits are percentiles).
    expect(fits[1].sizeFrom!).toBeGreaterThan(3e7);
    expect(fits[1].sizeFrom!).toBeLessThan(3e8);
    for (const macs of [2e5, 3e6, 2e9, 4e9]) {
      const fit = selectFit(fits, { macs })!;
      expect(Math.abs(predictWithFit(fit, { macs }) - twoRegimes(macs)) / twoRegimes(macs)).toBeLessThan(0.1);
    }
    // One fit for everything cannot do as well on the large layers.
    const single = fitBestRegression('conv', ['macs'], samples)!;
    expect(Math.abs(predictWithFit(single, { macs: 4e9 }) - twoRegimes(4e9)) / twoRegimes(4e9)).toBeGreaterThan(0.1);
    const split = crossValidatedError('conv', ['macs'], samples, 'macs', [fits[1].sizeFrom!]);
    const unsplit = crossValidatedError('conv', ['macs'], samples, 'macs', []);
    expect(split.total).toBeLessThan(0.9 * unsplit.total);
    expect(split.meanRelative).toBeLessThan(unsplit.meanRelative);
  });

  it('keeps one fit for a type with one regime', () => {
    const fits = fitLayerType('conv', ['macs'], sized(300, 12, (macs) => 0.005 + macs / 60e6), 'macs');
    expect(fits).toHaveLength(1);
    expect(fits[0].sizeFeature).toBeUndefined();
    expect(fits[0].coefficients[0]).toBeCloseTo(1 / 60e6, 9);
  });

  it('does not split when a class would have too few samples', () => {
    expect(fitLayerType('conv', ['macs'], sized(20, 13, twoRegimes), 'macs')).toHaveLength(1);
  });

  it('selects the fit whose class holds the size', () => {
    const fit = (sizeFrom: number | undefined, sizeTo: number | undefined, intercept: number) => ({
      layerType: 'conv', form: 'linear' as const, features: ['macs'], coefficients: [0], intercept, r2: 1, samples: 20, sizeFeature: 'macs', sizeFrom, sizeTo
    });
    const fits = [fit(undefined, 1000, 1), fit(1000, undefined, 2)];
    expect(selectFit(fits, { macs: 999 })!.intercept).toBe(1);
    expect(selectFit(fits, { macs: 1000 })!.intercept).toBe(2);
    expect(selectFit(fits, { macs: 1e12 })!.intercept).toBe(2);
    expect(selectFit([], { macs: 1 })).toBeUndefined();
  });
});

describe('predictWithFits', () => {
  const classFit = (intercept: number, slope: number, bounds: { sizeFrom?: number; sizeTo?: number }): RegressionFit => ({
    layerType: 'fc',
    form: 'linear',
    features: ['macs'],
    coefficients: [slope],
    intercept,
    r2: 1,
    samples: 20,
    sizeFeature: 'macs',
    ...bounds
  });
  // Below 1e5 MACs 1 µs + 0.05 ns a MAC; above, 10 µs + 0.1 ns a MAC: 6 against 20 µs where they meet.
  const fits = [classFit(0.001, 5e-8, { sizeTo: 1e5 }), classFit(0.01, 1e-7, { sizeFrom: 1e5 })];
  const at = (macs: number): number => predictWithFits(fits, { macs }) as number;

  it("is each class's own fit beyond a factor of 2 of the bound", () => {
    expect(at(4e4)).toBeCloseTo(0.001 + 4e4 * 5e-8, 12);
    expect(at(2e5)).toBeCloseTo(0.01 + 2e5 * 1e-7, 12);
    expect(at(5e4)).toBeCloseTo(0.001 + 5e4 * 5e-8, 12);
  });

  it('blends the two classes near the bound, linearly in ln(size), so a prediction does not jump there', () => {
    expect(at(1e5)).toBeCloseTo((0.006 + 0.02) / 2, 12);
    const below = at(1e5 * (1 - 1e-9));
    const above = at(1e5 * (1 + 1e-9));
    expect(Math.abs(above - below)).toBeLessThan(1e-9);
    const position = Math.log(1.5) / Math.log(2);
    const weight = (position + 1) / 2;
    expect(at(1.5e5)).toBeCloseTo((1 - weight) * (0.001 + 1.5e5 * 5e-8) + weight * (0.01 + 1.5e5 * 1e-7), 12);
    for (let macs = 4e4; macs < 3e5; macs *= 1.01) expect(at(macs * 1.01)).toBeGreaterThan(at(macs));
  });

  it('is the fit itself for one class, and null without fits', () => {
    expect(predictWithFits([fits[0]], { macs: 1e5 })).toBeCloseTo(0.006, 12);
    expect(predictWithFits([], { macs: 1e5 })).toBeNull();
  });
});

describe('one-row FC fits', () => {
  const fc = (inputs: number, outputs: number, ms: number): LayerSample => ({
    layerType: 'fc',
    features: { inputNeurons: inputs, outputNeurons: outputs, inputTimesOutputNeurons: inputs * outputs, macs: inputs * outputs },
    ms,
    config: `fc ${inputs}x${outputs}`
  });

  it('leaves out weights beyond the cache and keeps small layers accurate', () => {
    // In cache: 1 µs + 50 GB/s of float32 weights; beyond it, a far slower stream that must not bend the fit.
    const inCache = [64, 256, 512, 1024, 2048].flatMap((i) => [10, 100, 256, 1000, 2048].map((o) => fc(i, o, 0.001 + (4 * i * o) / 50e6)));
    const beyond = [fc(9216, 4096, 30), fc(9216, 2048, 15), fc(4096, 4096, 12)];
    const [fit] = fitDeviceModels([...inCache, ...beyond]).filter((f) => f.layerType === 'fc');
    expect(fit.samples).toBe(inCache.length);
    for (const [i, o] of [[275, 300], [300, 45], [500, 10], [800, 500]]) {
      const expected = 0.001 + (4 * i * o) / 50e6;
      const predicted = predictWithFit(fit, { inputNeurons: i, outputNeurons: o, inputTimesOutputNeurons: i * o, macs: i * o });
      expect(Math.abs(predicted - expected) / expected).toBeLessThan(0.05);
    }
  });
});
