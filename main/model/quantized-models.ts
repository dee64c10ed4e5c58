// The project's quantized test models: a QDQ and a QOperator twin of three zoo networks
// (LeNet: Gemm layers, dynamically quantized in the operator format; SqueezeNet 1.1: Fire
// modules' Concat; MobileNetV2: depthwise convs, ReLU6 and residual Adds) and of one real
// PyTorch export (ShuffleNetV2 x0.5: channel shuffles, shape subgraphs), each written by the
// project's own quantizer from per-tensor calibration on sample inputs, with its top-1
// agreement against the float model recorded in a manifest (quantized.json) beside them.
// `neurosurgeon zoo --quantized` writes them; the tests and `npm run bench -- --only quant`
// read them.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { QUANTIZATION_FORMATS, type QuantizationFormat } from '../../app/quantization/quantize.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { toolVersion } from '../files/paths.js';
import { sha256 } from './model-file.js';
import { quantizeModelBytes, type Top1Agreement } from './quantize-file.js';
import { realModelsDir } from './real-models.js';

/** Bump when the quantizer or the calibration changes, so stale files are written again. */
export const QUANTIZED_GENERATOR_VERSION = 1;

/** Calibration and evaluation sample counts of the test models. */
export const TEST_MODEL_CALIBRATION_SAMPLES = 8;
export const TEST_MODEL_EVALUATION_SAMPLES = 32;

export interface QuantizedSource {
  /** The float model: a zoo id or a real export's file name without .onnx. */
  name: string;
  kind: 'zoo' | 'real';
}

export const QUANTIZED_SOURCES: readonly QuantizedSource[] = [
  { name: 'lenet', kind: 'zoo' },
  { name: 'squeezenet1.1', kind: 'zoo' },
  { name: 'mobilenet-v2', kind: 'zoo' },
  { name: 'shufflenet_v2_x0_5', kind: 'real' }
];

export interface QuantizedModelEntry {
  id: string;
  file: string;
  source: QuantizedSource;
  format: QuantizationFormat;
  bytes: number;
  sha256: string;
  floatBytes: number;
  /** Top-1 class agreement with the float model on held-out sample inputs. */
  top1: Top1Agreement;
  generator: number;
}

export class QuantizedModelError extends Error {
  override name = 'QuantizedModelError';
}

export function quantizedModelId(source: QuantizedSource, format: QuantizationFormat): string {
  return `${source.name}-${format}`;
}

/** The float model's bytes: the zoo model built in code (seed 1), or the real export as it is. */
export function floatModelBytes(source: QuantizedSource): Uint8Array {
  if (source.kind === 'zoo') return buildZooModel(source.name, { seed: 1 });
  const file = path.join(realModelsDir(), `${source.name}.onnx`);
  if (!existsSync(file)) throw new QuantizedModelError(`real export ${source.name}.onnx is not in ${realModelsDir()}`);
  return readFileSync(file);
}

/** Sources available here: every zoo one, and the real exports present. */
export function availableSources(): QuantizedSource[] {
  return QUANTIZED_SOURCES.filter((source) => source.kind === 'zoo' || existsSync(path.join(realModelsDir(), `${source.name}.onnx`)));
}

function readManifest(file: string): QuantizedModelEntry[] {
  if (!existsSync(file)) return [];
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { models?: QuantizedModelEntry[] }).models ?? [];
  } catch {
    return [];
  }
}

export interface QuantizedWriteOptions {
  outDir: string;
  force?: boolean;
  onProgress?: (event: { id: string; index: number; total: number; status: 'written' | 'kept'; entry: QuantizedModelEntry; ms: number }) => void;
}

/** Writes (or keeps, when up to date) every available quantized test model; returns their manifest entries. */
export async function writeQuantizedModels(options: QuantizedWriteOptions): Promise<QuantizedModelEntry[]> {
  const manifestPath = path.join(options.outDir, 'quantized.json');
  const manifest = new Map(readManifest(manifestPath).map((entry) => [entry.id, entry]));
  const jobs = availableSources().flatMap((source) => QUANTIZATION_FORMATS.map((format) => ({ source, format })));
  const written: QuantizedModelEntry[] = [];
  for (const [index, { source, format }] of jobs.entries()) {
    const id = quantizedModelId(source, format);
    const file = path.join(options.outDir, `${id}.onnx`);
    const previous = manifest.get(id);
    const started = performance.now();
    if (!options.force && previous && previous.generator === QUANTIZED_GENERATOR_VERSION && existsSync(file) && sha256(readFileSync(file)) === previous.sha256) {
      options.onProgress?.({ id, index, total: jobs.length, status: 'kept', entry: previous, ms: 0 });
      written.push(previous);
      continue;
    }
    const floatBytes = floatModelBytes(source);
    const result = await quantizeModelBytes(floatBytes, { format, calibrationSamples: TEST_MODEL_CALIBRATION_SAMPLES, evaluationSamples: TEST_MODEL_EVALUATION_SAMPLES });
    writeFileAtomic(file, result.bytes);
    const entry: QuantizedModelEntry = {
      id,
      file: path.basename(file),
      source,
      format,
      bytes: result.bytes.byteLength,
      sha256: sha256(result.bytes),
      floatBytes: floatBytes.byteLength,
      top1: result.top1 ?? { agreeing: 0, samples: 0 },
      generator: QUANTIZED_GENERATOR_VERSION
    };
    manifest.set(id, entry);
    writeFileAtomic(manifestPath, JSON.stringify({ tool: toolVersion(), models: [...manifest.values()] }, null, 2) + '\n');
    options.onProgress?.({ id, index, total: jobs.length, status: 'written', entry, ms: performance.now() - started });
    written.push(entry);
  }
  return written;
}
