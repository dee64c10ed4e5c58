// The end of a characterisation: the generated networks of app/prediction/context.ts
// profiled layer by layer at 'disabled' (as the sweep times), in CONTEXT_PASSES passes
// whose lowest median each layer keeps, each layer beside what the
// sweep's fits predict for it, and the per-type context factors that come of them
// (DeviceProfile.contextFactors). Layers the fits cannot predict (the roofline's) are left out.
// With `level: 'all'`, the full-size networks of that level profiled and predicted at 'all'
// (kernels fused by the runtime's rules, blocked layout): DeviceProfile.contextFactorsAtAll.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { calibrationNetworks, contextFactors, type ContextSample } from '../../app/prediction/context.js';
import { LAYER_TYPE_SIZE_FEATURE, layerFeatures, type LayerType } from '../../app/prediction/features.js';
import { predictProfile } from '../../app/prediction/predict.js';
import type { FusionRules } from '../../app/prediction/fusion.js';
import type { ContextFactor, DeviceProfile, ExecutionProviderName, GraphOptimization } from '../../app/profiling/types.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { modelIdentity } from '../model/model-file.js';
import { profileModel } from './profiler.js';

const RUNS = 10;
const WARMUP = 2;
const MIN_MEASURE_MS = 200;
/**
 * Passes over the networks; each layer keeps its lowest median of them. Load only slows a
 * layer down, and one pass lasts about 4 s here, which a burst of another process's work can
 * cover whole: with two busy loops beside one pass, the conv factor came out 1.16, pooling
 * 1.23 and depthwise 1.25, where passes without them gave 1.00, 1.00 and 1.03 (and a
 * characterisation whose one pass met such a burst kept conv 1.27, pooling 1.33 and
 * depthwise 1.53, which passes with its fits later gave as 1.00–1.08, 1.00 and 1.07–1.09).
 */
export const CONTEXT_PASSES = 3;

/** Per-type context factors of `device` (its fits as they are now), from the calibration networks of `level` (default 'disabled') profiled on `ep`. */
export async function calibrateContext(
  device: DeviceProfile,
  options: { ep: ExecutionProviderName; profilerOverheadMsPerKernel: number; level?: GraphOptimization; rules?: FusionRules | null; signal?: AbortSignal }
): Promise<Partial<Record<LayerType, ContextFactor>>> {
  const level = options.level ?? 'disabled';
  const folder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-context-'));
  const samples: ContextSample[] = [];
  try {
    const networks: { analyzed: AnalyzedModel; lowestMs: number[] }[] = [];
    for (const network of calibrationNetworks(level)) {
      const file = path.join(folder, `${network.name}.onnx`);
      writeFileSync(file, network.bytes);
      networks.push({ analyzed: await analyzeModelFile(file, { runtimeShapes: 'never' }), lowestMs: [] });
    }
    // Pass by pass over all the networks, so that a burst of load meets one pass of each at most.
    for (let pass = 0; pass < CONTEXT_PASSES && !options.signal?.aborted; pass++) {
      for (const network of networks) {
        const measured = await profileModel(network.analyzed, {
          ep: options.ep,
          runs: RUNS,
          warmup: WARMUP,
          minMeasureMs: MIN_MEASURE_MS,
          optimization: level,
          profilerOverheadMsPerKernel: options.profilerOverheadMsPerKernel,
          signal: options.signal
        });
        measured.layers.forEach((layer, i) => {
          network.lowestMs[i] = Math.min(network.lowestMs[i] ?? Infinity, layer.medianMs);
        });
      }
    }
    for (const { analyzed, lowestMs } of networks) {
      // The fits alone: a factor found before (a resumed sweep's) is not part of what is measured against.
      const predicted = predictProfile(analyzed.analysis, analyzed.model, { ...device, contextFactors: undefined, contextFactorsAtAll: undefined }, modelIdentity(analyzed), {
        optimization: level,
        rules: options.rules
      });
      for (const layer of analyzed.analysis.layers) {
        const timing = predicted.layers[layer.index];
        const described = layerFeatures(layer, analyzed.analysis, analyzed.model.graph);
        if (!described || timing.method === 'roofline') continue;
        const size = described.features[LAYER_TYPE_SIZE_FEATURE[described.layerType]] ?? NaN;
        samples.push({ layerType: described.layerType, size, measuredMs: lowestMs[layer.index] ?? NaN, predictedMs: timing.medianMs });
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  return contextFactors(samples);
}
