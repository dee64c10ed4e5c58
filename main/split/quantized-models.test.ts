// The project's quantized test models for real (main/model/quantized-models.ts): QDQ and
// QOperator twins of LeNet, SqueezeNet 1.1, MobileNetV2 and the real ShuffleNetV2 export,
// written by the project's own quantizer from per-tensor calibration. onnxruntime-node loads
// and runs each; its top-1 agreement with the float model is recorded; analysis counts its
// int8 weights at a byte each and its convs' MACs as integer ones; and head → tail equals the
// unsplit quantized model at every cut (every third above 40 layers: cut-sample.ts; the
// quant bench and `npm run check:surgery` check every one), the 8-bit tensors crossing where
// a cut falls between a Q and its DQ.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { buildPartitionProblem, estimateLatencies } from '../../app/engine.js';
import { crossingTensors } from '../../app/partition/cuts.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { generateInputs } from '../model/inputs.js';
import { badQuantizationGraph, qdqTestGraph, qoperatorTestGraph } from '../../app/analysis/test-quantized-graphs.js';
import * as ort from 'onnxruntime-node';
import { availableSources, floatModelBytes, QUANTIZED_SOURCES, writeQuantizedModels, type QuantizedModelEntry } from '../model/quantized-models.js';
import { checkSplit, runModel } from './split-check.js';
import { cutsToCheck } from './cut-sample.js';

const outDir = mkdtempSync(path.join(tmpdir(), 'ns-quantized-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

let entries: QuantizedModelEntry[] = [];
beforeAll(async () => {
  entries = await writeQuantizedModels({ outDir });
}, 600_000);

const sources = availableSources();
if (sources.length < QUANTIZED_SOURCES.length) console.warn('quantized real-export twin skipped: its float model is not in ../shared/real-models');

describe('the quantized test models', () => {
  it('are QDQ and QOperator twins of three zoo networks and one real export, with top-1 agreement recorded', () => {
    expect(entries.map((e) => e.id).sort()).toEqual(sources.flatMap((s) => [`${s.name}-qdq`, `${s.name}-qoperator`]).sort());
    expect(sources.filter((s) => s.kind === 'zoo')).toHaveLength(3);
    const manifest = JSON.parse(readFileSync(path.join(outDir, 'quantized.json'), 'utf8')) as { models: QuantizedModelEntry[] };
    expect(manifest.models.map((m) => m.id).sort()).toEqual(entries.map((e) => e.id).sort());
    for (const entry of entries) {
      expect(entry.top1.samples).toBe(32);
      // Trained weights keep their top-1 through int8; the zoo's seeded random weights give
      // near-equal logits on random inputs, which quantization noise may reorder.
      const floor = entry.source.kind === 'real' ? 0.9 : 0.6;
      expect([entry.id, entry.top1.agreeing / entry.top1.samples >= floor]).toEqual([entry.id, true]);
      expect([entry.id, entry.bytes / entry.floatBytes < 0.35]).toEqual([entry.id, true]);
    }
  });

  it('are analysed with int8 weights at one byte each, most MACs integer, and 8-bit tensors crossing', () => {
    for (const entry of entries) {
      const bytes = readFileSync(path.join(outDir, entry.file));
      const analysis = analyzeModel(readOnnxModel(bytes));
      const floatAnalysis = analyzeModel(readOnnxModel(floatModelBytes(entry.source)));
      expect([entry.id, analysis.totals.params / floatAnalysis.totals.params > 0.99]).toEqual([entry.id, true]);
      expect([entry.id, analysis.totals.paramBytes < 0.35 * floatAnalysis.totals.paramBytes]).toEqual([entry.id, true]);
      expect([entry.id, analysis.totals.intMacs > 0.95 * floatAnalysis.totals.macs]).toEqual([entry.id, true]);
      const problem = buildPartitionProblem(analysis, estimateLatencies(analysis));
      const cutSendingEightBits = problem.nodes.findIndex((_, cut) => cut > 0 && crossingTensors(problem, cut).uploaded.some((name) => analysis.tensors.get(name)?.elementType === 'uint8'));
      expect([entry.id, cutSendingEightBits > 0]).toEqual([entry.id, true]);
    }
  });
});

describe('head → tail at the cuts of every quantized test model (cut-sample.ts)', () => {
  for (const source of sources) {
    for (const format of ['qdq', 'qoperator'] as const) {
      const id = `${source.name}-${format}`;
      it(`${id}: equals the unsplit quantized model`, async () => {
        const bytes = readFileSync(path.join(outDir, `${id}.onnx`));
        const model = readOnnxModel(bytes);
        const analysis = analyzeModel(model);
        const inputs = generateInputs(model, { seed: 5 });
        const expected = await runModel(bytes, inputs);
        const differing: string[] = [];
        for (const cut of cutsToCheck(analysis.layers.length)) {
          const check = await checkSplit(model, analysis, new Set(Array.from({ length: cut }, (_, i) => i)), inputs, expected);
          if (check.mismatches.length > 0 || check.maxAbsDiff !== 0) differing.push(`cut ${cut}: max |diff| ${check.maxAbsDiff}`);
        }
        expect(differing).toEqual([]);
      }, 300_000);
    }
  }
});

describe('the hand-built quantized graphs the analysis tests use', () => {
  for (const [label, bytes] of [['operator format', qoperatorTestGraph()], ['QDQ', qdqTestGraph()]] as const) {
    it(`${label}: onnxruntime-node runs it with the shapes and types analysis gives, and every cut equals it`, async () => {
      const model = readOnnxModel(bytes);
      const analysis = analyzeModel(model);
      const inputs = generateInputs(model, { seed: 2 });
      const outputs = await runModel(bytes, inputs);
      for (const output of analysis.outputs) {
        expect([output.name, outputs[output.name].dims, outputs[output.name].type]).toEqual([output.name, output.shape, output.elementType]);
      }
      for (const cut of cutsToCheck(analysis.layers.length)) {
        const check = await checkSplit(model, analysis, new Set(Array.from({ length: cut }, (_, i) => i)), inputs, outputs);
        expect([cut, check.mismatches]).toEqual([cut, []]);
      }
    });
  }

  it('onnxruntime refuses the malformed ones too: what analysis refuses no runtime would run', async () => {
    for (const kind of ['missing-scale', 'non-scalar-scale', 'zero-point-type', 'per-axis-length'] as const) {
      const run = async () => {
        const session = await ort.InferenceSession.create(badQuantizationGraph(kind), { logSeverityLevel: 4 });
        await session.run({ x: new ort.Tensor('uint8', new Uint8Array(192), [1, 3, 8, 8]) });
      };
      await expect(run(), kind).rejects.toThrow();
    }
  });
});

