// `neurosurgeon run` and `neurosurgeon sweep` as a user runs them: the bundled CLI in a
// child process against a real executor child process on loopback, with the JSON shapes
// README.md documents, and one-line errors (exit 2) for an unreachable executor, a wrong
// token, a cut out of range and an executor that dies in the middle of a run; with
// --encoding, the encoded run's and sweep's report and the one-line refusals. An executor
// that stops answering is run-timeouts.test.ts's.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZooModel } from '../../app/zoo/index.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { packageRoot } from '../files/paths.js';

const root = packageRoot();
const bin = path.join(root, 'bin', 'neurosurgeon.js');
let dir: string;
let executor: ExecutorProcess;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectOneLineError(result: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^neurosurgeon: /);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
}

beforeAll(async () => {
  if (!existsSync(path.join(root, 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-cli-run-'));
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 1 }));
  executor = await startExecutorProcess(['--max-concurrency', '1']);
});

afterAll(async () => {
  await executor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('run and sweep with --device-executor', () => {
  it('runs the head on the device executor and says so; an unreachable one, or one that refuses the server, is named in one line', async () => {
    const device = await startExecutorProcess(['--max-concurrency', '1', '--upstream', executor.url]);
    const plain = await startExecutorProcess([]);
    try {
      const result = cli('run', 'lenet.onnx', '--executor', executor.url, '--device-executor', device.url, '--cut', '4', '--network', 'lte', '--runs', '1');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`device part on the device executor ${device.url}`);
      expect(result.stdout).toMatch(/outputs match the full local run/);
      expectOneLineError(
        cli('run', 'lenet.onnx', '--executor', executor.url, '--device-executor', plain.url, '--cut', '4', '--network', 'wifi', '--runs', '1'),
        new RegExp(`^neurosurgeon: device executor ${plain.url}: 403 this executor was started without --upstream: it forwards to no server$`, 'm')
      );
      const gone = plain.url;
      await plain.stop();
      expectOneLineError(
        cli('run', 'lenet.onnx', '--executor', executor.url, '--device-executor', gone, '--cut', '4', '--network', 'wifi', '--runs', '1'),
        new RegExp(`^neurosurgeon: device executor ${gone}: connection refused \\(is the executor running\\?\\)$`, 'm')
      );
      expectOneLineError(
        cli('run', 'lenet.onnx', '--executor', executor.url, '--device-executor', device.url, '--device-slowdown', '2', '--cut', '4', '--runs', '1'),
        /--device-slowdown emulates a device on this machine; with --device-executor, start that executor with --slowdown instead/
      );
    } finally {
      await device.stop();
      await plain.stop();
    }
  }, 120_000);
});

describe('neurosurgeon run', () => {
  it('prints the documented JSON for a user cut over a shaped network', () => {
    const result = cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', '4', '--network', 'wifi', '--runs', '2', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['model', 'network', 'cut', 'chosenBy', 'runs', 'median', 'outputCheck']));
    expect(report).toMatchObject({ model: 'lenet.onnx', cut: 4, chosenBy: 'user', network: { name: 'wifi', uplinkMbps: 18.88, shaped: true } });
    expect(report.runs).toHaveLength(2);
    for (const run of [...report.runs, report.median]) {
      expect(Object.keys(run).sort()).toEqual(['bytesDown', 'bytesUp', 'downloadMs', 'encodeMs', 'localMs', 'remoteMs', 'totalMs', 'uploadMs']);
    }
    expect(report.median.uploadMs).toBeGreaterThanOrEqual(5);
    expect(report.outputCheck).toMatchObject({ ok: true });
    expect(report.outputCheck.maxAbsDiff).toBeLessThan(1e-4);
  });

  it('chooses the cut with --cut auto and says why', () => {
    const result = cli('run', 'lenet.onnx', '--executor', executor.url, '--network', '3g', '--runs', '1');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/chosen by auto/);
    expect(result.stdout).toMatch(/auto chose cut \d+ for latency: predicted [\d.]+ ms/);
    expect(result.stdout).toMatch(/cloud only [\d.]+ ms, device only [\d.]+ ms/);
    expect(result.stdout).toMatch(/server load K=1\.00/);
    expect(result.stdout).toMatch(/outputs match the full local run/);
    expect(result.stderr).toMatch(/profiling lenet\.onnx on the executor/);
  });

  it('takes custom link numbers', () => {
    const result = cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', '0', '--network', 'lte', '--uplink-mbps', '2', '--rtt-ms', '20', '--runs', '1', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).network).toMatchObject({ name: 'lte (custom)', uplinkMbps: 2, downlinkMbps: 20, rttMs: 20 });
  });

  it('names an unreachable executor in one line', () => {
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', 'http://127.0.0.1:1', '--cut', '3'), /executor http:\/\/127\.0\.0\.1:1: connection refused/);
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', 'not a url', '--cut', '3'), /--executor expects a URL/);
  });

  it('names a cut out of range and a bad --cut in one line', () => {
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', '10'), /cut 10 is out of range: lenet\.onnx has 9 layers \(cuts 0\.\.9\)/);
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', 'middle'), /--cut expects a number, "auto" or "dag", got "middle"/);
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', executor.url, '--network', 'dialup', '--cut', '2'), /unknown network preset "dialup"/);
  });

  it('names a wrong token in one line', async () => {
    const guarded = await startExecutorProcess(['--token', 'sesame', '--max-concurrency', '1']);
    try {
      expectOneLineError(cli('run', 'lenet.onnx', '--executor', guarded.url, '--token', 'open', '--cut', '3'), /401 wrong bearer token/);
      expectOneLineError(cli('run', 'lenet.onnx', '--executor', guarded.url, '--cut', '3'), /401 this executor needs an Authorization: Bearer token/);
    } finally {
      await guarded.stop();
    }
  });

  it('ends with one line, not a hang, when the executor is killed mid-run', async () => {
    const doomed = await startExecutorProcess(['--max-concurrency', '1']);
    try {
      // Each upload of LeNet's 3 KB input takes ~0.5 s at 0.05 Mbps; the executor dies during the runs.
      const child = spawn(process.execPath, [bin, 'run', 'lenet.onnx', '--executor', doomed.url, '--cut', '0', '--network', 'wifi', '--uplink-mbps', '0.05', '--runs', '20'], { cwd: dir });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise((resolve) => setTimeout(resolve, 2500));
      doomed.child.kill('SIGKILL');
      const code = await exited;
      expect(stdout).toBe('');
      expectOneLineError({ code, stderr }, /executor http:\/\/127\.0\.0\.1:\d+: (the connection closed|connection refused)/);
    } finally {
      await doomed.stop();
    }
  });
});

describe('neurosurgeon sweep', () => {
  it('prints the documented JSON: every cut measured beside its prediction', () => {
    const result = cli('sweep', 'lenet.onnx', '--executor', executor.url, '--network', 'wifi', '--every', '3', '--runs', '1', '--json');
    expect(result.code).toBe(0);
    const sweep = JSON.parse(result.stdout);
    expect(Object.keys(sweep)).toEqual(expect.arrayContaining(['cuts', 'predictedBest', 'measuredBest', 'ratio']));
    const cuts = sweep.cuts.map((c: { cut: number }) => c.cut);
    expect(cuts).toEqual(expect.arrayContaining([0, 3, 6, 9, sweep.predictedBest]));
    expect(cuts).toEqual([...cuts].sort((a: number, b: number) => a - b));
    for (const cut of sweep.cuts) {
      expect(cut.predictedMs).toBeGreaterThan(0);
      expect(cut.measuredMs).toBeGreaterThan(0);
    }
    const measured = new Map<number, number>(sweep.cuts.map((c: { cut: number; measuredMs: number }) => [c.cut, c.measuredMs]));
    expect(Math.min(...measured.values())).toBe(measured.get(sweep.measuredBest));
    expect(sweep.ratio).toBeCloseTo((measured.get(sweep.predictedBest) ?? NaN) / (measured.get(sweep.measuredBest) ?? NaN), 9);
    expect(sweep.ratio).toBeGreaterThanOrEqual(1);
    expect(result.stderr).toMatch(/\[1\/\d+\] lenet\.onnx cut \d+/);
  });

  it('prunes cuts whose shaped transfer alone exceeds the best measured total', () => {
    const result = cli('sweep', 'lenet.onnx', '--executor', executor.url, '--network', '3g', '--prune', '--runs', '1', '--json');
    expect(result.code).toBe(0);
    const sweep = JSON.parse(result.stdout);
    expect(sweep.cuts).toHaveLength(10);
    const skipped = sweep.cuts.filter((c: { skipped?: string }) => c.skipped);
    expect(skipped.length).toBeGreaterThan(0);
    const best = sweep.cuts.find((c: { cut: number }) => c.cut === sweep.measuredBest).measuredMs;
    for (const cut of skipped) {
      expect(cut).toMatchObject({ skipped: 'lower bound exceeds best', measuredMs: null });
      expect(cut.lowerBoundMs).toBeGreaterThan(best);
    }
    expect(sweep.cuts.find((c: { cut: number }) => c.cut === sweep.predictedBest).measuredMs).toBeGreaterThan(0);
  });

  it('needs --network', () => {
    const result = cli('sweep', 'lenet.onnx', '--executor', executor.url);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--network/);
  });
});

describe('run and sweep --encoding', () => {
  it('run prints the measured time beside the predicted one, the bytes on the wire and the agreement', () => {
    const result = cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', '3', '--network', 'lte', '--runs', '1', '--encoding', 'int8', '--samples', '4');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/encoding int8 \(as given\); wire: \S+ as INT8 \(scale [\d.e-]+, zero point -?\d+\)/);
    expect(result.stdout).toMatch(/in int8: measured [\d.]+ ms, predicted [\d.]+ ms; on the wire [\d.]+ KiB per run \(tensors [\d.]+ KiB, 12\.5 KiB in fp32\); top-1 agreement [\d.]+ % on 4 sample inputs/);
    expect(result.stdout).toMatch(/outputs give the full local run's top-1 answer/);
    const json = JSON.parse(cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', 'auto', '--network', '3g', '--runs', '1', '--encoding', 'auto', '--samples', '4', '--json').stdout);
    expect(json.encoded).toMatchObject({ requested: 'auto', chosenBy: 'auto', minAgreement: 0.99, samples: 4 });
    expect(json.cut).toBe(json.decision.chosen);
    // JPEG at cut 0 is weighed like the others (the executor decodes it): chosen, considered, or left out for its agreement.
    const weighed = [...json.encoded.considered, ...json.encoded.excluded] as { cut: number; encoding: string }[];
    expect(weighed.some((x) => x.cut === 0 && x.encoding === 'jpeg')).toBe(true);
  }, 120_000);

  it('refuses an encoding that cannot apply in one line naming the tensor', () => {
    expectOneLineError(
      cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', '3', '--encoding', 'uint8'),
      /^neurosurgeon: cut 3: uint8 does not apply to tensor "\/conv2\/Conv_output_0": it is not a model input/
    );
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', executor.url, '--cut', '3', '--encoding', 'jpeg'), /^neurosurgeon: cut 3: jpeg does not apply to tensor "\/conv2\/Conv_output_0"/);
    expectOneLineError(cli('sweep', 'lenet.onnx', '--executor', executor.url, '--network', 'wifi', '--encoding', 'int3'), /unknown encoding "int3"/);
    expectOneLineError(cli('run', 'lenet.onnx', '--executor', executor.url, '--encoding', 'int8', '--min-agreement', '101'), /--min-agreement is a percentage 0\.\.100/);
  });

  it('sweep shows predicted vs measured for the encoded runs too', () => {
    const result = cli('sweep', 'lenet.onnx', '--executor', executor.url, '--network', 'lte', '--every', '3', '--runs', '1', '--encoding', 'auto', '--samples', '4', '--json');
    expect(result.code, result.stderr).toBe(0);
    const sweep = JSON.parse(result.stdout);
    expect(Object.keys(sweep.encoded)).toEqual(expect.arrayContaining(['cuts', 'predictedBest', 'measuredBest', 'ratio', 'vsFp32']));
    expect(sweep.encoded.cuts.map((c: { cut: number }) => c.cut)).toEqual(sweep.cuts.map((c: { cut: number }) => c.cut));
    for (const cut of sweep.encoded.cuts) {
      expect(cut.measuredMs).toBeGreaterThan(0);
      expect(cut.agreement).toBeGreaterThanOrEqual(0.99);
    }
    expect(sweep.encoded.ratio).toBeGreaterThanOrEqual(1);
    const text = cli('sweep', 'lenet.onnx', '--executor', executor.url, '--network', 'lte', '--every', '9', '--runs', '1', '--encoding', 'fp16', '--samples', '2');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/in fp16 \(agreement on 2 sample inputs\):/);
    expect(text.stdout).toMatch(/P predicted best: cut \d+ in fp(16|32) {3}★ measured best: cut \d+ in fp(16|32) {3}ratio [\d.]+; median prediction error [\d.]+ %; [\d.]+× the fp32 measured best/);
  }, 180_000);
});
