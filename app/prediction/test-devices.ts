// A synthetic device profile for the prediction tests (predict.test.ts, fusion.test.ts):
// every layer type fitted as 0.01 ms + 1e-9 ms per unit of each feature, so a prediction's
// arithmetic can be checked by hand.
import type { DeviceProfile, LayerSample, RegressionFit } from '../profiling/types.js';
import { LAYER_TYPE_FEATURES, LAYER_TYPES, type LayerType } from './features.js';

export function syntheticDevice(options: { samples?: LayerSample[]; without?: readonly LayerType[] } = {}): DeviceProfile {
  const samples = options.samples ?? [];
  const fits: RegressionFit[] = LAYER_TYPES.filter((type) => !options.without?.includes(type)).map((layerType) => ({
    layerType,
    form: 'linear',
    features: [...LAYER_TYPE_FEATURES[layerType]],
    coefficients: LAYER_TYPE_FEATURES[layerType].map(() => 1e-9),
    intercept: 0.01,
    r2: 0.99,
    samples: 20
  }));
  return {
    schemaVersion: 1,
    kind: 'device-profile',
    device: { hostname: 'test', os: 'test', arch: 'x64', cpu: 'Test CPU', cpuCores: 4, memoryBytes: 8e9, gpu: null },
    ep: 'cpu',
    date: '2025-01-01T00:00:00.000Z',
    budgetS: 300,
    elapsedS: 300,
    configurations: samples.length,
    complete: true,
    overheadMs: 0.01,
    fits,
    samples
  };
}
