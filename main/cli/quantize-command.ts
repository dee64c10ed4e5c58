// `neurosurgeon quantize`: the CLI face of main/model/quantize-file.ts — calibrates a float
// model on seeded sample inputs, writes its int8 twin in the QDQ or the QOperator format with
// the project's own quantizer, and reports the top-1 agreement with the float model on
// held-out samples (onnxruntime-node runs both).
import path from 'node:path';
import type { Command } from 'commander';
import { QUANTIZATION_FORMATS, type QuantizationFormat } from '../../app/quantization/quantize.js';
import { UsageError } from '../errors/user-errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { inlineExternalData, loadModelFile } from '../model/model-file.js';
import { encodeModel } from '../../app/onnx/writer.js';
import { quantizeModelBytes } from '../model/quantize-file.js';
import { formatBytes } from './format.js';
import { nonNegativeInteger, parseDims, positiveInteger, print } from './options.js';

interface QuantizeCliOptions {
  format: string;
  out: string;
  calibrationSamples: number;
  evaluationSamples: number;
  dim?: string[];
  json?: boolean;
}

function formatOption(value: string): QuantizationFormat {
  if (!(QUANTIZATION_FORMATS as readonly string[]).includes(value)) throw new UsageError(`--format must be ${QUANTIZATION_FORMATS.join(' or ')}, got "${value}"`);
  return value as QuantizationFormat;
}

export function registerQuantizeCommand(program: Command): void {
  program
    .command('quantize')
    .argument('<model>', 'float ONNX file')
    .description('write an int8 twin of a model (QDQ or QOperator format), calibrated on sample inputs, with its top-1 agreement')
    .requiredOption('--format <qdq|qoperator>', 'QuantizeLinear/DequantizeLinear around float ops, or integer operators (QLinearConv, MatMulInteger, ...)')
    .requiredOption('--out <file>', 'the quantized model to write')
    .option('--calibration-samples <n>', 'sample inputs the activation ranges are calibrated on', positiveInteger('--calibration-samples'), 8)
    .option('--evaluation-samples <n>', 'held-out sample inputs top-1 agreement is measured on (0: none)', nonNegativeInteger('--evaluation-samples'), 32)
    .option('--dim <name=size...>', 'values of symbolic input dimensions (default 1)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, options: QuantizeCliOptions) => {
      const format = formatOption(options.format);
      const loaded = await loadModelFile(model);
      const hasExternalData = loaded.model.externalData.length > 0;
      inlineExternalData(loaded);
      const floatBytes = hasExternalData ? encodeModel(loaded.model.proto) : loaded.bytes;
      const result = await quantizeModelBytes(floatBytes, {
        format,
        calibrationSamples: options.calibrationSamples,
        evaluationSamples: options.evaluationSamples,
        dimValues: parseDims(options.dim)
      });
      writeFileAtomic(options.out, result.bytes);
      const report = {
        file: path.resolve(options.out),
        format,
        bytes: result.bytes.byteLength,
        floatBytes: floatBytes.byteLength,
        quantizedNodes: result.quantized.quantizedNodes.length,
        foldedActivations: result.quantized.foldedActivations.length,
        ops: result.quantized.ops,
        top1: result.top1
      };
      if (options.json) return print(JSON.stringify(report, null, 2));
      print(`wrote ${report.file} (${formatBytes(report.bytes)}, float ${formatBytes(report.floatBytes)})`);
      print(`${report.quantizedNodes} nodes quantized, ${report.foldedActivations} activations folded into the op before them`);
      if (result.top1) print(`top-1 agreement with the float model: ${result.top1.agreeing} of ${result.top1.samples} sample inputs`);
    });
}
