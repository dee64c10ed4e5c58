// `neurosurgeon run` and `sweep` against an executor that stops answering (frozen with
// SIGSTOP: connections stay open, nothing moves): each ends within --timeout-ms plus a small
// constant, in one line, the sweep printing the cuts it measured. Beside run-commands.test.ts,
// in a file of its own: the two runs mostly wait, and another file can use the cores meanwhile.
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

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-cli-timeouts-'));
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 1 }));
  // The sweep's latencies from a file: a freshly started executor profiling under load (its
  // profiler calibrated on the first request) can stay silent past the 4-s timeout before a
  // single inference, which is a different test (`sweep` then says "no data moved").
  const profiled = spawnSync(process.execPath, [bin, 'profile', 'lenet.onnx', '--optimization', 'all', '--out', 'lenet-profile.json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  if (profiled.status !== 0) throw new Error(`profile failed: ${profiled.stderr}`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Concurrent: each test freezes an executor of its own and then waits.
describe.concurrent('a frozen executor (stopped with SIGSTOP: connections open, nothing answers)', () => {
  const TIMEOUT_MS = 4000;

  /** Runs the CLI, stops the executor once it has answered `afterInfers` inferences, and times the CLI's end from the freeze. */
  async function freezeDuring(frozen: ExecutorProcess, afterInfers: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; sinceFreezeMs: number }> {
    const pid = frozen.child.pid as number;
    const child = spawn(process.execPath, [bin, ...args, '--executor', frozen.url, '--timeout-ms', String(TIMEOUT_MS)], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    let frozenAt = 0;
    const watcher = setInterval(() => {
      if (frozenAt === 0 && (frozen.stderr().match(/\/infer 200 /g) ?? []).length >= afterInfers) {
        process.kill(pid, 'SIGSTOP');
        frozenAt = performance.now();
      }
    }, 10);
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    clearInterval(watcher);
    if (frozenAt > 0) process.kill(pid, 'SIGCONT');
    expect(frozenAt, `the executor was never frozen; the CLI said: ${stderr}`).toBeGreaterThan(0);
    return { code, stdout, stderr, sinceFreezeMs: performance.now() - frozenAt };
  }

  it('ends run within --timeout-ms plus a small constant, in one line', async () => {
    const frozen = await startExecutorProcess(['--verbose']);
    try {
      const result = await freezeDuring(frozen, 3, ['run', 'lenet.onnx', '--cut', '4', '--network', 'unshaped', '--runs', '500']);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^neurosurgeon: executor http:\/\/127\.0\.0\.1:\d+: no data moved for 4\.0 s \(timeout\)$/)]);
      // One timeout, then at most the best-effort unload's 2 s: not a second whole timeout.
      expect(result.sinceFreezeMs).toBeGreaterThan(TIMEOUT_MS - 500);
      expect(result.sinceFreezeMs).toBeLessThan(TIMEOUT_MS + 3000);
    } finally {
      await frozen.stop();
    }
  }, 60_000);

  it('ends sweep within --timeout-ms plus a small constant, printing the cuts it measured', async () => {
    const frozen = await startExecutorProcess(['--verbose']);
    try {
      // Cuts 0, 3, 6 and 9 and the predicted best, one warm-up and one timed run each: frozen after two cuts.
      const result = await freezeDuring(frozen, 4, ['sweep', 'lenet.onnx', '--network', 'unshaped', '--every', '3', '--runs', '1', '--local', 'lenet-profile.json', '--remote', 'lenet-profile.json']);
      expect(result.code).toBe(2);
      expect(result.sinceFreezeMs).toBeLessThan(TIMEOUT_MS + 3000);
      const lines = result.stderr.trim().split('\n');
      expect(lines.filter((line) => line.startsWith('neurosurgeon: the sweep'))).toEqual([
        expect.stringMatching(/^neurosurgeon: the sweep stopped after [1-9] of \d+ cuts: executor http:\/\/127\.0\.0\.1:\d+: no data moved for 4\.0 s \(timeout\)$/)
      ]);
      expect(lines.at(-1)).toMatch(/^neurosurgeon: the sweep stopped/);
      // The partial table: measured cuts with their totals, the others not reached.
      const rows = result.stdout.split('\n').filter((line) => /^\s*[P★ ]{0,2}\d+\s/.test(line));
      expect(rows.filter((row) => /not reached/.test(row)).length).toBeGreaterThan(0);
      expect(rows.filter((row) => !/not reached/.test(row)).length).toBeGreaterThanOrEqual(2);
      expect(result.stdout).toMatch(/★ measured best so far: cut \d+/);
    } finally {
      await frozen.stop();
    }
  }, 90_000);
});
