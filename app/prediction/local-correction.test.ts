// The local correction on synthetic sweeps whose truth is known: a family of samples that
// runs slower than the type's line is corrected towards its pace while layers far from it
// keep their fit; residuals that are only noise leave the type uncorrected; a type with
// too few samples, or with samples of another level, is left alone; the device profile's
// per-type error reports the corrected error where predictions correct, and predictProfile
// applies it.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../onnx/builder.js';
import type { LayerSample } from '../profiling/types.js';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { analyzeModel } from '../analysis/analyze.js';
import { effectiveMedianError, localCorrection, withCorrectedErrors } from './local-correction.js';
import { fitDeviceModels, layerTypeErrors, predictWithFit, selectFit, usableFitSamples } from './regression.js';
import { predictProfile } from './predict.js';
import { syntheticDevice } from './test-devices.js';

/** Softmax samples (one feature, neurons): 1 µs + 1 ns a neuron, `slowdown`× between 40 k and 80 k neurons, and ± `noise` relative. */
function softmaxSweep(count: number, seed: number, slowdown: number, noise: number): LayerSample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const neurons = Math.round(Math.exp(Math.log(1e3) + (i / (count - 1)) * (Math.log(1e6) - Math.log(1e3))));
    const family = neurons >= 40_000 && neurons <= 80_000 ? slowdown : 1;
    const ms = (0.001 + neurons * 1e-6) * family * (1 + noise * (random() * 2 - 1));
    return { layerType: 'softmax', features: { neurons }, ms, config: `softmax n=${neurons}` };
  });
}

function corrected(samples: LayerSample[]) {
  const fits = fitDeviceModels(samples);
  const fitsOf = (type: string) => fits.filter((fit) => fit.layerType === type && (fit.level ?? 'disabled') === 'disabled');
  const fitted = (neurons: number): number => predictWithFit(selectFit(fitsOf('softmax'), { neurons })!, { neurons });
  return { correction: localCorrection(samples, 'disabled', fitsOf), fitted };
}

describe('localCorrection', () => {
  it("moves a family of slower layers towards its measured pace and leaves far ones at the fit", () => {
    const samples = softmaxSweep(120, 7, 1.4, 0.02);
    const { correction, fitted } = corrected(samples);
    expect(correction.corrects('softmax')).toBe(true);
    const inside = 60_000;
    const truth = (0.001 + inside * 1e-6) * 1.4;
    const plainError = Math.abs(fitted(inside) - truth) / truth;
    const correctedError = Math.abs(fitted(inside) * correction.factor('softmax', { neurons: inside }) - truth) / truth;
    expect(correctedError).toBeLessThan(plainError / 2);
    // Far from the family (a decade below it), the factor stays near 1.
    expect(Math.abs(correction.factor('softmax', { neurons: 2_000 }) - 1)).toBeLessThan(0.1);
  });

  it('leaves a type uncorrected when its residuals are only noise', () => {
    const samples = softmaxSweep(120, 11, 1, 0.15);
    const { correction } = corrected(samples);
    expect(correction.corrects('softmax')).toBe(false);
    expect(correction.factor('softmax', { neurons: 60_000 })).toBe(1);
  });

  it('needs enough samples of the type at the level', () => {
    const few = softmaxSweep(12, 3, 1.4, 0);
    expect(corrected(few).correction.corrects('softmax')).toBe(false);
    const atAll = softmaxSweep(120, 7, 1.4, 0.02).map((sample) => ({ ...sample, level: 'all' as const }));
    const fits = fitDeviceModels(atAll);
    const correction = localCorrection(atAll, 'disabled', (type) => fits.filter((fit) => fit.layerType === type && (fit.level ?? 'disabled') === 'disabled'));
    expect(correction.corrects('softmax')).toBe(false);
    expect(correction.factor('conv', { inputSize: 1 })).toBe(1);
  });

  it('reads the samples the fit was made from: fc without weights beyond the last-level cache', () => {
    const fc = (inputNeurons: number, outputNeurons: number): LayerSample => ({
      layerType: 'fc',
      features: { inputNeurons, outputNeurons, inputTimesOutputNeurons: inputNeurons * outputNeurons, macs: inputNeurons * outputNeurons },
      ms: 1,
      config: `fc ${inputNeurons}x${outputNeurons}`
    });
    const kept = usableFitSamples('fc', [fc(512, 512), fc(9216, 4096)], 'disabled');
    expect(kept.map((s) => s.config)).toEqual(['fc 512x512']);
  });

  it("reports the corrected cross-validated error where predictions correct, and predictProfile applies the factor", () => {
    const family = softmaxSweep(120, 7, 1.4, 0.02);
    const fits = fitDeviceModels(family);
    const [error] = withCorrectedErrors(family, fits, layerTypeErrors(family, fits));
    expect(error.layerType).toBe('softmax');
    expect(error.corrected).toBeDefined();
    expect(error.corrected!.medianError).toBeLessThan(error.medianError);
    expect(effectiveMedianError(error)).toBe(error.corrected!.medianError);
    const noisy = softmaxSweep(120, 11, 1, 0.15);
    const noisyFits = fitDeviceModels(noisy);
    const [plain] = withCorrectedErrors(noisy, noisyFits, layerTypeErrors(noisy, noisyFits));
    expect(plain.corrected).toBeUndefined();
    expect(effectiveMedianError(plain)).toBe(plain.medianError);

    const builder = new GraphBuilder('softmaxes');
    for (const [name, neurons] of [['inside', 60_000], ['below', 2_000]] as const) {
      builder.output(builder.softmax(builder.input(name, 'float32', [1, neurons]), -1, `/${name}/Softmax`), 'float32', [1, neurons]);
    }
    const model = readOnnxModel(builder.toBytes());
    const analysis = analyzeModel(model);
    const device = { ...syntheticDevice({ samples: family }), fits, typeErrors: [error] };
    const identity = { file: 'softmaxes.onnx', sha256: 'sha', nodes: 2 };
    const corrected = predictProfile(analysis, model, device, identity, { optimization: 'disabled' });
    const uncorrected = predictProfile(analysis, model, { ...device, samples: [] }, identity, { optimization: 'disabled' });
    const correction = localCorrection(family, 'disabled', (type) => fits.filter((fit) => fit.layerType === type));
    const ms = (profile: typeof corrected, name: string) => profile.layers.find((layer) => layer.name === `/${name}/Softmax`)!.medianMs;
    expect(ms(corrected, 'inside') / ms(uncorrected, 'inside')).toBeCloseTo(correction.factor('softmax', { neurons: 60_000 }), 9);
    expect(ms(corrected, 'inside') / ms(uncorrected, 'inside')).toBeGreaterThan(1.2);
    const truthInside = (0.001 + 60_000 * 1e-6) * 1.4;
    expect(Math.abs(ms(corrected, 'inside') - truthInside)).toBeLessThan(Math.abs(ms(uncorrected, 'inside') - truthInside));
    expect(corrected.predictionErrors?.find((e) => e.layerType === 'softmax')?.medianError).toBe(error.corrected!.medianError);
  });
});
