// `neurosurgeon plan --encoding` as a user runs it (the bundled CLI in a child process, on
// the zoo's LeNet): the JSON names the chosen (cut, encoding) and what was measured, the
// chosen encoding meets the bound, and a bad encoding or bound is a one-line error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
      encoded: { chosen: { cut: number; encoding: string; totalMs: number }; measurements: { cut: number; encoding: string; agreement: number | null; skipped?: string }[]; samples: number };
      cuts: { totalMs: number }[];
      best: { latency: number };
    };
    expect(report.encoded.samples).toBe(4);
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
