// `neurosurgeon plan --encoding` and `export --encoding` as a user runs them (the bundled CLI
// in a child process, on the zoo's LeNet): the JSON names the chosen (cut, encoding) and what
// was measured, the chosen encoding meets the bound, a bad encoding or bound is a one-line
// error, and an int8 export's partition.json and config.pbtxt name the wire datatype while
// its head then tail still give the model's answer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { partitionSchemaProblem } from '../split/export.js';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildZooModel } from '../../app/zoo/index.js';
import { packageRoot } from '../files/paths.js';

const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');
let dir: string;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'plan-encoding-'));
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 1 }));
});

describe('plan --encoding', () => {
  it('chooses (cut, encoding) under the bound and reports the measurements', () => {
    const result = cli('plan', 'lenet.onnx', '--network', '3g', '--encoding', 'auto', '--samples', '4', '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      encoded: { chosen: { cut: number; encoding: string; totalMs: number }; decisionTable: { fromMbps: number; toMbps: number; cut: number; encoding: string }[]; measurements: { cut: number; encoding: string; agreement: number | null; skipped?: string }[]; samples: number };
      cuts: { totalMs: number }[];
      best: { latency: number };
    };
    expect(report.encoded.samples).toBe(4);
    const rows = report.encoded.decisionTable;
    expect(rows[0].fromMbps).toBe(0.1);
    expect(rows.at(-1)?.toMbps).toBe(1000);
    for (const row of rows) expect(typeof row.encoding).toBe('string');
    const chosen = report.encoded.measurements.find((m) => m.cut === report.encoded.chosen.cut && m.encoding === report.encoded.chosen.encoding);
    expect(chosen?.agreement ?? 1).toBeGreaterThanOrEqual(0.99);
    // LeNet's input is [1, 1, 28, 28]: every input encoding is tried at cut 0.
    expect(report.encoded.measurements.filter((m) => m.cut === 0).map((m) => m.encoding)).toContain('jpeg');
  }, 120_000);

  it('refuses an unknown encoding and a bound over 100 % in one line', () => {
    for (const [args, pattern] of [
      [['--encoding', 'int4'], /unknown encoding "int4"/],
      [['--encoding', 'int8', '--min-agreement', '150'], /percentage 0..100/]
    ] as const) {
      const result = cli('plan', 'lenet.onnx', ...args);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(pattern);
    }
  });
});

describe('export --encoding', () => {
  it('writes an int8 wire into the graphs, partition.json and config.pbtxt', async () => {
    const result = cli('export', 'lenet.onnx', '--cut', '3', '--network', '3g', '--encoding', 'int8', '--out', 'int8-out');
    expect(result.code, result.stderr).toBe(0);
    const config = JSON.parse(readFileSync(path.join(dir, 'int8-out', 'partition.json'), 'utf8')) as { crossing: { name: string; direction: string; wire?: { name: string; datatype: string; scale?: number } }[] };
    expect(partitionSchemaProblem(config)).toBeNull();
    const up = config.crossing.filter((c) => c.direction === 'up');
    expect(up.length).toBeGreaterThan(0);
    for (const c of up) expect(c.wire).toMatchObject({ datatype: 'INT8', name: `${c.name}__int8` });
    expect(up[0].wire?.scale).toBeGreaterThan(0);
    const pbtxt = readFileSync(path.join(dir, 'int8-out', 'repository', 'lenet-tail', 'config.pbtxt'), 'utf8');
    expect(pbtxt).toMatch(/TYPE_INT8/);
    expect(pbtxt).toContain(`${up[0].name}__int8`);
    const options = { graphOptimizationLevel: 'disabled' as const, logSeverityLevel: 3 as const };
    const full = await ort.InferenceSession.create(path.join(dir, 'lenet.onnx'), options);
    const head = await ort.InferenceSession.create(path.join(dir, 'int8-out', 'head.onnx'), options);
    const tail = await ort.InferenceSession.create(path.join(dir, 'int8-out', 'tail.onnx'), options);
    const input = new ort.Tensor('float32', Float32Array.from({ length: 28 * 28 }, (_, i) => Math.sin(i / 20)), [1, 1, 28, 28]);
    const feeds = { [full.inputNames[0]]: input };
    const expected = (await full.run(feeds))[full.outputNames[0]].data as Float32Array;
    const wire = await head.run(feeds);
    expect(wire[head.outputNames[0]].type).toBe('int8');
    const out = (await tail.run(wire))[tail.outputNames[0]].data as Float32Array;
    const top = (v: Float32Array) => v.indexOf(Math.max(...v));
    expect(top(out)).toBe(top(expected));
  }, 120_000);

  it('refuses an unknown encoding in one line', () => {
    const result = cli('export', 'lenet.onnx', '--cut', '3', '--encoding', 'int3', '--out', 'bad-out');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown encoding "int3"/);
  });
});
