// A first per-layer latency estimate, for models that have no measured or predicted
// profile yet: a roofline over the layer analysis (app/analysis/types.ts),
//   ms = max(macs / (gmacsPerSec × 1e6), bytesMoved / (gbPerSec × 1e6)) + perOpOverheadMs,
// with bytesMoved = output bytes + input activation bytes + parameter bytes.
// Layers whose MACs are unknown are estimated from their bytes alone and marked.
// app/engine.ts applies it to a whole model to feed the partition optimisers.
import type { LayerAnalysis } from '../analysis/types.js';
import { UnknownPresetError } from './presets.js';

export interface HardwareProfile {
  name: string;
  /** Sustained multiply-accumulates, 1e9 per second. */
  gmacsPerSec: number;
  /** Sustained memory bandwidth, 1e9 bytes per second. */
  gbPerSec: number;
  /** Fixed cost of launching one op, ms. */
  perOpOverheadMs: number;
}

export type HardwarePresetName = 'mobile-cpu' | 'mobile-gpu' | 'server-gpu';

/**
 * Rough, editable defaults — orders of magnitude, not measurements: a phone CPU
 * (a few big cores with NEON), a phone/Jetson-class GPU, and a datacenter GPU at the
 * throughput real layers reach, well below its datasheet peak.
 */
export const HARDWARE_PRESETS: Readonly<Record<HardwarePresetName, HardwareProfile>> = {
  'mobile-cpu': { name: 'mobile-cpu', gmacsPerSec: 10, gbPerSec: 10, perOpOverheadMs: 0.05 },
  'mobile-gpu': { name: 'mobile-gpu', gmacsPerSec: 100, gbPerSec: 20, perOpOverheadMs: 0.03 },
  'server-gpu': { name: 'server-gpu', gmacsPerSec: 5000, gbPerSec: 500, perOpOverheadMs: 0.01 }
};

export const HARDWARE_PRESET_NAMES = Object.keys(HARDWARE_PRESETS) as HardwarePresetName[];

/** The hardware preset called `name` (a copy); throws listing the valid names. */
export function hardwarePreset(name: string): HardwareProfile {
  if (!Object.hasOwn(HARDWARE_PRESETS, name)) {
    throw new UnknownPresetError(`unknown hardware preset "${name}"; valid presets: ${HARDWARE_PRESET_NAMES.join(', ')}`);
  }
  return { ...HARDWARE_PRESETS[name as HardwarePresetName] };
}

/** Throws a RangeError when a profile's throughputs are not positive or its overhead is negative. */
export function validateHardware(hardware: HardwareProfile): void {
  const { gmacsPerSec, gbPerSec, perOpOverheadMs } = hardware;
  if (!(gmacsPerSec > 0 && gbPerSec > 0 && Number.isFinite(gmacsPerSec) && Number.isFinite(gbPerSec))) {
    throw new RangeError(`hardware ${hardware.name}: gmacsPerSec and gbPerSec must be finite and > 0`);
  }
  if (!(Number.isFinite(perOpOverheadMs) && perOpOverheadMs >= 0)) {
    throw new RangeError(`hardware ${hardware.name}: perOpOverheadMs must be finite and >= 0`);
  }
}

export interface LayerEstimate {
  ms: number;
  /** Which roof set the time ('memory' too when MACs are unknown). */
  limitedBy: 'compute' | 'memory';
  /** False when the layer's MACs are unknown: the estimate counts bytes only. */
  macsKnown: boolean;
  /** False when some output or input activation size is unknown (counted as 0). */
  bytesKnown: boolean;
}

/** What a layer reads besides its weights; the caller knows it from the model, the layer alone does not. */
export interface InputActivations {
  /** Summed size of the non-initializer tensors the layer reads (unknown ones count 0). */
  bytes: number;
  allSizesKnown: boolean;
}

/** The roofline estimate of one layer. */
export function estimateLayerMs(layer: LayerAnalysis, inputs: InputActivations, hardware: HardwareProfile): LayerEstimate {
  validateHardware(hardware);
  const outputBytes = layer.outputBytes ?? layer.outputs.reduce((sum, output) => sum + (output.bytes ?? 0), 0);
  const bytesMoved = outputBytes + inputs.bytes + layer.paramBytes;
  const memoryMs = bytesMoved / (hardware.gbPerSec * 1e6);
  const computeMs = layer.macs === null ? 0 : layer.macs / (hardware.gmacsPerSec * 1e6);
  return {
    ms: Math.max(computeMs, memoryMs) + hardware.perOpOverheadMs,
    limitedBy: computeMs > memoryMs ? 'compute' : 'memory',
    macsKnown: layer.macs !== null,
    bytesKnown: layer.outputBytes !== null && inputs.allSizesKnown
  };
}
