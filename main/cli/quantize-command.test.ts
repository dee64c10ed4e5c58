// `neurosurgeon quantize` and `analyze` on quantized models as a user runs them (the bundled
// command in a child process): the quantized file and its report, integer MACs and QDQ
// steps in analyze's JSON and table, and malformed quantization refused with one line
// naming the node (exit 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badQuantizationGraph, type BadQuantization } from '../../app/analysis/test-quantized-graphs.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { packageRoot } from '../files/paths.js';
import type { AnalysisReport } from './reports.js';

const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');
const dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-quantize-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 1 }));
});

describe('neurosurgeon quantize', () => {
  it('writes a QDQ twin and reports its size and top-1 agreement; analyze then reports integer MACs and steps', () => {
    const result = cli('quantize', 'lenet.onnx', '--format', 'qdq', '--out', 'lenet-qdq.onnx', '--evaluation-samples', '16', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { format: string; bytes: number; floatBytes: number; quantizedNodes: number; foldedActivations: number; top1: { agreeing: number; samples: number } };
    expect(report).toMatchObject({ format: 'qdq', quantizedNodes: 4, foldedActivations: 1 });
    expect(report.bytes).toBeLessThan(0.3 * report.floatBytes);
    expect(report.top1.samples).toBe(16);
    expect(report.top1.agreeing).toBeGreaterThanOrEqual(12);

    const analyzed = cli('analyze', 'lenet-qdq.onnx', '--json');
    expect(analyzed.code).toBe(0);
    const analysis = JSON.parse(analyzed.stdout) as AnalysisReport;
    expect(analysis.model.intMacs).toBe(20 * 24 * 24 * 25 + 50 * 8 * 8 * 500 + 800 * 500 + 500 * 10);
    expect(analysis.model.floatMacs).toBe(analysis.model.macs - analysis.model.intMacs);
    const conv = analysis.layers.find((l) => l.name === '/conv1/Conv')!;
    expect(conv.intMacs).toBe(20 * 24 * 24 * 25);
    expect(conv.steps).toHaveLength(2);
    expect(conv.outputs[0]).toMatchObject({ dtype: 'uint8', bytes: 20 * 24 * 24 });

    const table = cli('analyze', 'lenet-qdq.onnx');
    expect(table.stdout).toMatch(/int MACs/);
    expect(table.stdout).toMatch(/13 QuantizeLinear\/DequantizeLinear steps inside layers/);
    expect(table.stdout).toMatch(/MACs \(2\.29 M integer, [\d.]+ K float\)/);
  }, 120_000);

  it('writes a QOperator twin', () => {
    const result = cli('quantize', 'lenet.onnx', '--format', 'qoperator', '--out', 'lenet-qop.onnx', '--evaluation-samples', '0');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^wrote .*lenet-qop\.onnx/);
    expect(result.stdout).not.toMatch(/top-1/);
    const analysis = JSON.parse(cli('analyze', 'lenet-qop.onnx', '--json').stdout) as AnalysisReport;
    expect(analysis.layers.map((l) => l.op)).toContain('QLinearConv');
    expect(analysis.layers.map((l) => l.op)).toContain('MatMulInteger');
  }, 120_000);

  it('refuses an unknown format in one line', () => {
    const result = cli('quantize', 'lenet.onnx', '--format', 'int4', '--out', 'x.onnx');
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('neurosurgeon: --format must be qdq or qoperator, got "int4"');
  });
});

describe('malformed quantization on the command line', () => {
  const kinds: BadQuantization[] = ['missing-scale', 'non-scalar-scale', 'zero-point-type', 'per-axis-length', 'blocked', 'scale-rank'];
  for (const kind of kinds) {
    it(`analyze and plan refuse ${kind} with one line naming the node, exit 2`, () => {
      writeFileSync(path.join(dir, `${kind}.onnx`), badQuantizationGraph(kind));
      for (const command of ['analyze', 'plan']) {
        const result = cli(command, `${kind}.onnx`);
        expect(result.code).toBe(2);
        const lines = result.stderr.trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(new RegExp(`^neurosurgeon: node "/bad/${kind}" \\((QLinearConv|QuantizeLinear)\\): `));
      }
    });
  }
});
