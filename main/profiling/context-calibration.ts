// The context calibration of a characterisation: the generated networks of
// app/prediction/context.ts profiled layer by layer at 'disabled' (as the sweep times), in
// CONTEXT_PASSES passes whose lowest median each layer keeps (characterize spreads them
// over its sweep), each layer beside what the sweep's final fits predict for it, and the
// per-type context factors that come of them (DeviceProfile.contextFactors). Layers the
// fits cannot predict (the roofline's) are left out. Opened at 'all', the full-size networks
// of that level profiled and predicted at 'all' (kernels fused by the runtime's rules,
// blocked layout): DeviceProfile.contextFactorsAtAll. Opened with a profile's kept times
// (DeviceProfile.contextTimes), their factors found again against other fits (refit.ts).
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
 * cover whole (and passes in a row, too: characterize spreads them over its sweep): with two busy loops beside one pass, the conv factor came out 1.16, pooling
 * 1.23 and depthwise 1.25, where passes without them gave 1.00, 1.00 and 1.03 (and a
 * characterisation whose one pass met such a burst kept conv 1.27, pooling 1.33 and
 * depthwise 1.53, which passes with its fits later gave as 1.00–1.08, 1.00 and 1.07–1.09).
 */
export const CONTEXT_PASSES = 3;

/** One calibration network, opened, and what its passes found. */
interface CalibrationNetwork {
  analyzed: AnalyzedModel;
  /** Per layer, the lowest median over the passes so far. */
  lowestMs: number[];
}

/**
 * The calibration networks of one level, written and opened once, profiled pass by pass
 * whenever the caller chooses (characterize spreads the passes over its sweep, so that one
 * burst of another process's load cannot cover them all), then turned into factors
 * against the fits as they are at the end.
 */
export class ContextCalibration {
  passes = 0;

  private constructor(
    readonly level: GraphOptimization,
    /** Where its networks are written while it is open. */
    readonly folder: string,
    private readonly networks: CalibrationNetwork[]
  ) {}

  /** Opened with `times` (a profile's contextTimes of the level), it holds those passes' results, ready for factors against other fits. */
  static async open(level: GraphOptimization = 'disabled', times?: readonly (readonly (number | null)[])[]): Promise<ContextCalibration> {
    const built = calibrationNetworks(level);
    if (times && times.length !== built.length) throw new Error(`context times kept for ${times.length} networks, but ${level} calibrates ${built.length}`);
    const folder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-context-'));
    try {
      const networks: CalibrationNetwork[] = [];
      for (const network of built) {
        const file = path.join(folder, `${network.name}.onnx`);
        writeFileSync(file, network.bytes);
        const analyzed = await analyzeModelFile(file, { runtimeShapes: 'never' });
        const kept = times?.[networks.length];
        if (times && kept?.length !== analyzed.analysis.layers.length) throw new Error(`the context times kept for ${network.name} do not match its ${analyzed.analysis.layers.length} layers`);
        networks.push({ analyzed, lowestMs: kept ? kept.map((ms) => ms ?? NaN) : [] });
      }
      const calibration = new ContextCalibration(level, folder, networks);
      if (times) calibration.passes = 1;
      return calibration;
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      throw error;
    }
  }

  /** One pass over every network; each layer keeps its lowest median so far. */
  async pass(options: { ep: ExecutionProviderName; profilerOverheadMsPerKernel: number; signal?: AbortSignal }): Promise<void> {
    for (const network of this.networks) {
      const measured = await profileModel(network.analyzed, {
        ep: options.ep,
        runs: RUNS,
        warmup: WARMUP,
        minMeasureMs: MIN_MEASURE_MS,
        optimization: this.level,
        profilerOverheadMsPerKernel: options.profilerOverheadMsPerKernel,
        signal: options.signal
      });
      network.lowestMs = keepLowest(network.lowestMs, measured.layers.map((layer) => layer.medianMs));
    }
    this.passes++;
  }

  /** The per-type factors of the passes so far against `device`'s fits (the fits alone: a factor found before is not part of what is measured against). */
  factors(device: DeviceProfile, rules?: FusionRules | null): Partial<Record<LayerType, ContextFactor>> {
    const samples: ContextSample[] = [];
    for (const { analyzed, lowestMs } of this.networks) {
      const predicted = predictProfile(analyzed.analysis, analyzed.model, { ...device, contextFactors: undefined, contextFactorsAtAll: undefined }, modelIdentity(analyzed), {
        optimization: this.level,
        rules
      });
      for (const layer of analyzed.analysis.layers) {
        const timing = predicted.layers[layer.index];
        const described = layerFeatures(layer, analyzed.analysis, analyzed.model.graph);
        if (!described || timing.method === 'roofline') continue;
        const size = described.features[LAYER_TYPE_SIZE_FEATURE[described.layerType]] ?? NaN;
        samples.push({ layerType: described.layerType, size, measuredMs: lowestMs[layer.index] ?? NaN, predictedMs: timing.medianMs });
      }
    }
    return contextFactors(samples);
  }

  /** Each network's layers' lowest medians so far (DeviceProfile.contextTimes). */
  times(): (number | null)[][] {
    return this.networks.map((network) => network.lowestMs.map((ms) => (Number.isFinite(ms) ? ms : null)));
  }

  close(): void {
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** Each layer's lower time of two passes (a layer one pass lacks keeps the other's). */
export function keepLowest(kept: readonly number[], pass: readonly number[]): number[] {
  const length = Math.max(kept.length, pass.length);
  return Array.from({ length }, (_, i) => Math.min(kept[i] ?? Infinity, pass[i] ?? Infinity));
}
