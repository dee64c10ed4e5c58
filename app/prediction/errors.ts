// How far a prediction may be off, shown where predictions are used (`neurosurgeon
// predict`, the studio's per-layer chart): per layer type of the model, its layers'
// predicted time and the device profile's cross-validated error for that type (the fits
// refitted without a fifth of the sweep's samples, judged on them: regression.ts
// layerTypeErrors; with the local correction where predictions make it, local-correction.ts),
// at the level predicted where the sweep timed kernels at it. Layers
// predicted by the roofline have no such figure.
import type { ModelAnalysis } from '../analysis/types.js';
import type { OnnxGraph } from '../onnx/model.js';
import type { DeviceProfile, GraphOptimization, LatencyProfile, LayerTypeError, TypePredictionError } from '../profiling/types.js';
import { layerFeatures } from './features.js';
import { effectiveError } from './local-correction.js';

/** The device profile's error for a type at a level: the level's own where it has one, else the profile's. */
export function typeError(device: Pick<DeviceProfile, 'typeErrors'>, layerType: string, level: GraphOptimization): LayerTypeError | null {
  const errors = device.typeErrors ?? [];
  return errors.find((e) => e.layerType === layerType && (e.level ?? 'disabled') === level) ?? errors.find((e) => e.layerType === layerType && e.level === undefined) ?? null;
}

/** Per layer type of `profile` (a prediction of the model `analysis` describes), largest predicted time first. */
export function predictionErrors(profile: Pick<LatencyProfile, 'layers' | 'graphOptimization'>, analysis: ModelAnalysis, graph: OnnxGraph, device: Pick<DeviceProfile, 'typeErrors'>): TypePredictionError[] {
  const byType = new Map<string, { layers: number; ms: number }>();
  for (const layer of analysis.layers) {
    const timing = profile.layers[layer.index];
    if (!timing) continue;
    const type = timing.method === 'roofline' ? 'roofline' : (layerFeatures(layer, analysis, graph)?.layerType ?? 'roofline');
    const entry = byType.get(type) ?? { layers: 0, ms: 0 };
    entry.layers++;
    entry.ms += timing.medianMs;
    byType.set(type, entry);
  }
  const total = [...byType.values()].reduce((sum, e) => sum + e.ms, 0);
  const level = profile.graphOptimization ?? 'disabled';
  return [...byType]
    .map(([layerType, e]) => {
      const error = layerType === 'roofline' ? null : typeError(device, layerType, level);
      return {
        layerType,
        layers: e.layers,
        predictedMs: e.ms,
        share: total > 0 ? e.ms / total : 0,
        medianError: error ? effectiveError(error).medianError : null,
        meanError: error ? effectiveError(error).meanError : null,
        samples: error?.samples ?? null
      };
    })
    .sort((a, b) => b.predictedMs - a.predictedMs);
}
