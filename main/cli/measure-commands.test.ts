// The measuring commands as a user runs them: profile → plan --local with the measured
// profile, characterize (short budget) → predict and plan with the device profile, and
// the one-line refusals (a profile of another model, an unavailable provider, an input
// file of the wrong shape).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticDevice } from '../../app/prediction/test-devices.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { packageRoot } from '../files/paths.js';

const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');
let dir: string;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-measure-'));
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 1 }));
  writeFileSync(path.join(dir, 'resnet18.onnx'), buildZooModel('resnet18', { seed: 1 }));
});

describe('profile → plan', () => {
  it('prints the documented profile JSON and plans with it', () => {
    const result = cli('profile', 'resnet18.onnx', '--runs', '4', '--warmup', '1', '--out', 'resnet18.profile.json', '--json');
    expect(result.code).toBe(0);
    const profile = JSON.parse(result.stdout);
    expect(profile).toMatchObject({ ep: 'cpu', kind: 'latency-profile', predicted: false, graphOptimization: 'all' });
    expect(profile.runs).toBeGreaterThanOrEqual(4); // more where another program made them unsteady
    expect(profile.threads).toBeGreaterThanOrEqual(1);
    expect(profile.wholeModelSpread.p90Ms).toBeGreaterThanOrEqual(profile.wholeModelSpread.p10Ms);
    expect(profile.device.cpu).toEqual(expect.any(String));
    expect(profile.wholeModelMs).toBeGreaterThan(0);
    expect(profile.layers).toHaveLength(49);
    expect(Object.keys(profile.layers[0])).toEqual(expect.arrayContaining(['index', 'name', 'op', 'provider', 'medianMs', 'p10Ms', 'p90Ms', 'outputBytes']));
    expect(profile.layers[0]).toMatchObject({ index: 0, name: '/conv1/Conv', op: 'Conv', provider: 'CPUExecutionProvider' });
    expect(JSON.parse(readFileSync(path.join(dir, 'resnet18.profile.json'), 'utf8')).layers).toHaveLength(49);

    const plan = cli('plan', 'resnet18.onnx', '--local', 'resnet18.profile.json', '--json');
    expect(plan.code).toBe(0);
    const report = JSON.parse(plan.stdout);
    expect(report.latencies.local).toBe('measured on cpu (resnet18.profile.json)');
    expect(report.layers[0].localMs).toBe(profile.layers[0].medianMs);
    expect(report.layers[0].localEnergyMJ).toBeCloseTo((2000 * profile.layers[0].medianMs) / 1000, 9);
    const deviceOnly = report.cuts[49];
    expect(deviceOnly.localMs).toBeCloseTo(profile.sumOfMediansMs, 9);
  });

  it('says what it ran with, and warns in one stderr line only about unstable runs', () => {
    const result = cli('profile', 'lenet.onnx', '--runs', '3', '--warmup', '1', '--optimization', 'disabled');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/cpu on .*, optimisation disabled · \d+ threads?: whole model [\d.]+ ms \(typical of \d+ runs, p90\/p10 [\d.]+\)/);
    const warnings = result.stderr.split('\n').filter((line) => line.startsWith('neurosurgeon:'));
    for (const line of warnings) expect(line).toMatch(/^neurosurgeon: warning: unstable runs: whole runs took [\d.]+–[\d.]+ ms \(p10–p90, [\d.]+× apart, bound 1\.5×\)/);
  });

  it('refuses a profile of another model, an unavailable provider and a wrong input file', () => {
    cli('profile', 'lenet.onnx', '--runs', '2', '--out', 'lenet.profile.json');
    const wrong = cli('plan', 'resnet18.onnx', '--local', 'lenet.profile.json');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/lenet\.profile\.json was made for model lenet\.onnx/);

    const cuda = cli('profile', 'lenet.onnx', '--ep', 'cuda');
    expect(cuda.code).toBe(2);
    expect(cuda.stderr).toMatch(/^neurosurgeon: execution provider "cuda" is not available here/);

    // A .npy of the wrong shape: float32 [1, 1, 8, 8] where LeNet wants [1, 1, 28, 28].
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 8, 8), }";
    const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const prefix = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0]), Buffer.from(new Uint16Array([padded.length]).buffer)]);
    writeFileSync(path.join(dir, 'small.npy'), Buffer.concat([prefix, Buffer.from(padded, 'latin1'), Buffer.alloc(64 * 4)]));
    const input = cli('profile', 'lenet.onnx', '--input', 'input=small.npy');
    expect(input.code).toBe(2);
    expect(input.stderr).toMatch(/input "input": expected float32 \[1,1,28,28\]/);
  });
});

describe('characterize → predict → plan', () => {
  it('characterizes this CPU in a short budget, and predicts and plans a model it never ran from a device profile', () => {
    // A short sweep: the one-off probes and the first configurations (characterize.test.ts fits real ones).
    const sweep = cli('characterize', '--budget-s', '6', '--out', 'device-swept.json');
    expect(sweep.code).toBe(0);
    expect(sweep.stdout).toMatch(/configurations in \d+ s/);
    expect(sweep.stdout).toMatch(/shape arithmetic \(Shape, Gather, Concat, … on a few integers\): \d+\.\d{3} µs a kernel inside a network/);
    const swept = JSON.parse(readFileSync(path.join(dir, 'device-swept.json'), 'utf8'));
    expect(swept.kind).toBe('device-profile');
    expect(swept.configurations).toBe(swept.samples.length);
    expect(swept.device.cpu).toEqual(expect.any(String));

    // Every type fitted, as a longer sweep leaves it.
    writeFileSync(path.join(dir, 'device.json'), JSON.stringify(syntheticDevice()));
    const predicted = cli('predict', 'resnet18.onnx', '--device', 'device.json', '--json');
    expect(predicted.code).toBe(0);
    const profile = JSON.parse(predicted.stdout);
    expect(profile.predicted).toBe(true);
    expect(profile.layers).toHaveLength(49);
    expect(profile.layers.every((l: { predicted: boolean; medianMs: number }) => l.predicted && l.medianMs >= 0)).toBe(true);

    // The summary: the whole run is the layers plus the per-run cost; the kernels onnxruntime fuses are counted.
    const summary = cli('predict', 'resnet18.onnx', '--device', 'device.json');
    expect(summary.code).toBe(0);
    const whole = summary.stdout.match(/predicted whole model ([\d.]+) ms on cpu \(layers ([\d.]+) ms \+ per run ([\d.]+) ms;/);
    expect(whole).not.toBeNull();
    expect(Number(whole![1])).toBeCloseTo(Number(whole![2]) + Number(whole![3]), 2);
    expect(summary.stdout).toMatch(/; \d+ layers run in fused kernels/);

    // A device profile characterised with other threads than this process runs is named so.
    writeFileSync(path.join(dir, 'device-2-threads.json'), JSON.stringify({ ...syntheticDevice(), threads: 2 }));
    const mismatched = cli('--threads', '1', 'predict', 'resnet18.onnx', '--device', 'device-2-threads.json');
    expect(mismatched.code).toBe(0);
    expect(mismatched.stderr).toContain(
      "warning: device-2-threads.json is predicted for 2 onnxruntime threads, but this device's sessions here run 1 onnxruntime thread (--threads): its latencies will not match these runs"
    );
    expect(cli('--threads', '2', 'predict', 'resnet18.onnx', '--device', 'device-2-threads.json').stderr).not.toContain('warning');

    const plan = cli('plan', 'resnet18.onnx', '--local', 'device.json', '--remote', 'device.json', '--load', '3', '--json');
    expect(plan.code).toBe(0);
    const report = JSON.parse(plan.stdout);
    expect(report.latencies.local).toMatch(/^predicted for cpu/);
    expect(report.layers[0].remoteMs).toBeCloseTo(report.layers[0].localMs, 12);
  }, 120_000);

  it('refits the swept profile without timing anything, its context factors found again from the times it kept, and refuses a broken one in one line', () => {
    const swept = JSON.parse(readFileSync(path.join(dir, 'device-swept.json'), 'utf8'));
    expect(Object.keys(swept.contextTimes ?? {}).length).toBeGreaterThan(0);
    const refit = cli('refit', 'device-swept.json', '--out', 'device-refit.json');
    expect(refit.code).toBe(0);
    expect(refit.stdout).toMatch(/layer type +samples +cv median before +cv median now/);
    expect(refit.stdout).toContain(`; context factors found again at ${Object.keys(swept.contextTimes).join(' and ')}`);
    expect(refit.stdout).toMatch(/\d+ fits from \d+ samples; .*wrote device-refit\.json/);
    const written = JSON.parse(readFileSync(path.join(dir, 'device-refit.json'), 'utf8'));
    // Nothing about the samples changed, so neither do the fits or the factors.
    expect(written.samples).toEqual(swept.samples);
    expect(written.fits).toEqual(swept.fits);
    expect(written.contextFactors).toEqual(swept.contextFactors);
    expect(written.contextFactorsAtAll).toEqual(swept.contextFactorsAtAll);

    writeFileSync(path.join(dir, 'device-broken.json'), JSON.stringify({ ...swept, contextTimes: { disabled: [[0.1, -1]] } }));
    const broken = cli('refit', 'device-broken.json', '--out', 'device-refit2.json');
    expect(broken.code).toBe(2);
    expect(broken.stderr.trim().split('\n')).toHaveLength(1);
    expect(broken.stderr).toContain(`"contextTimes" must give 'disabled' and 'all' lists of each calibration network's layer times in ms`);
    expect(existsSync(path.join(dir, 'device-refit2.json'))).toBe(false);
    // Times of another calibration than this version's are named, not used: other networks, or other layers.
    const disabled = swept.contextTimes.disabled as (number | null)[][];
    for (const [times, message] of [
      [[[0.1, 0.2]], new RegExp(`context times kept for 1 networks, but disabled calibrates ${disabled.length}`)],
      [[disabled[0].slice(1), ...disabled.slice(1)], /the context times kept for \S+ do not match its \d+ layers/]
    ] as const) {
      writeFileSync(path.join(dir, 'device-other.json'), JSON.stringify({ ...swept, contextTimes: { disabled: times } }));
      const other = cli('refit', 'device-other.json', '--out', 'device-refit3.json');
      expect(other.code).toBe(2);
      expect(other.stderr.trim().split('\n')).toHaveLength(1);
      expect(other.stderr).toMatch(message);
    }
  }, 120_000);
});
