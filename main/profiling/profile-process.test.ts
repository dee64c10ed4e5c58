// The one profiling path (profile-process.ts): `neurosurgeon profile` in a child process,
// on a file or on bytes, with the CLI's defaults (the executor's optimisation level, the
// caller's threads) recorded in the profile; progress lines; a changed file refused;
// cancelling kills the child and leaves no temporary files. Needs the built CLI (npm test
// builds first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZooModel } from '../../app/zoo/index.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type LatencyProfile } from '../../app/profiling/types.js';
import { packageRoot } from '../files/paths.js';
import { sha256 } from '../model/model-file.js';
import { parseProgressLine, profileCommandArgs, profileInChildProcess, progressLine } from './profile-process.js';
import { PROFILE_PHASES, ProfileCancelledError, ProfileError, type ProfileProgress } from './profiler.js';
import { INTRA_OP_THREADS_ENV, intraOpThreads } from './providers.js';

const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');

/** The temporary folders of profiling children still on disk. */
function childFolders(): string[] {
  return readdirSync(os.tmpdir()).filter((name) => name.startsWith('neurosurgeon-profile-'));
}
let dir: string;
let lenet: string;
let lenetBytes: Uint8Array;
let previousTmp: string | undefined;

beforeAll(() => {
  if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  dir = mkdtempSync(path.join(os.tmpdir(), 'profile-process-'));
  lenetBytes = buildZooModel('lenet', { seed: 3 });
  lenet = path.join(dir, 'lenet.onnx');
  writeFileSync(lenet, lenetBytes);
  // A temporary root of this test's own, to see that every child's folder goes away.
  previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = mkdtempSync(path.join(dir, 'tmp-'));
});

afterAll(() => {
  if (previousTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previousTmp;
  rmSync(dir, { recursive: true, force: true });
});

describe('progress lines', () => {
  it('round-trip, and anything else on stderr is not progress', () => {
    const event: ProfileProgress = { phase: 'profile', done: 4, total: 20 };
    expect(parseProgressLine(progressLine(event).trimEnd())).toEqual(event);
    expect(parseProgressLine('neurosurgeon: warning: ran on cpu')).toBeNull();
    expect(parseProgressLine('neurosurgeon-progress {"phase":"dance","done":1,"total":2}')).toBeNull();
    expect(parseProgressLine('neurosurgeon-progress {')).toBeNull();
  });
});

describe('profileInChildProcess', () => {
  it('runs `neurosurgeon profile` with its defaults: the executor’s level and this process’s threads, both recorded', async () => {
    const phases: string[] = [];
    const profile = await profileInChildProcess(lenet, { ep: 'cpu', runs: 4, warmup: 1, onProgress: (p) => phases.push(p.phase) });
    expect(profile).toMatchObject({ kind: 'latency-profile', warmup: 1, graphOptimization: DEFAULT_GRAPH_OPTIMIZATION, threads: intraOpThreads() });
    expect(profile.runs).toBeGreaterThanOrEqual(4); // more when another program made them unsteady
    expect(profile.model.sha256).toBe(sha256(lenetBytes));
    expect([...new Set(phases)]).toEqual([...PROFILE_PHASES]);
    expect(childFolders()).toEqual([]);

    // The same command by hand, with no options: the same settings.
    const byHand = spawnSync(process.execPath, [bin, 'profile', lenet, '--runs', '4', '--warmup', '1', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(byHand.status).toBe(0);
    const cli = JSON.parse(byHand.stdout) as LatencyProfile;
    for (const key of ['graphOptimization', 'threads', 'warmup', 'ep'] as const) expect(cli[key]).toEqual(profile[key]);
    expect(cli.layers.map((l) => l.name)).toEqual(profile.layers.map((l) => l.name));
  });

  it('passes the threads, level, dims and seed on to the command', () => {
    const previous = process.env[INTRA_OP_THREADS_ENV];
    process.env[INTRA_OP_THREADS_ENV] = '3';
    try {
      const args = profileCommandArgs('m.onnx', { ep: 'cpu', runs: 7, warmup: 2, optimization: 'disabled', seed: 9, dimValues: { batch: 2, seq: 16 }, allowCpuFallback: true });
      expect(args.slice(0, 4)).toEqual(['--threads', '3', 'profile', 'm.onnx']);
      expect(args.join(' ')).toContain('--runs 7 --warmup 2 --min-time-ms 0 --optimization disabled --seed 9 --fallback-cpu --dim batch=2 seq=16 --progress-json --json');
    } finally {
      if (previous === undefined) delete process.env[INTRA_OP_THREADS_ENV];
      else process.env[INTRA_OP_THREADS_ENV] = previous;
    }
  });

  it('profiles bytes (an upload) from its own temporary folder, and refuses a model that is not the one expected', async () => {
    const profile = await profileInChildProcess(lenetBytes, { ep: 'cpu', runs: 2, warmup: 0, optimization: 'disabled', expectSha256: sha256(lenetBytes) });
    expect(profile.graphOptimization).toBe('disabled');
    expect(profile.model.file).toBe('model.onnx');
    await expect(profileInChildProcess(lenet, { ep: 'cpu', runs: 2, warmup: 0, expectSha256: 'f'.repeat(64) })).rejects.toThrow(
      /lenet\.onnx changed on disk since it was opened \(sha256 [0-9a-f]{12}…, not ffffffffffff…\); open it again/
    );
    expect(childFolders()).toEqual([]);
  });

  it('says in one line why the profiler failed', async () => {
    const broken = path.join(dir, 'broken.onnx');
    writeFileSync(broken, 'not a model');
    const failure = profileInChildProcess(broken, { ep: 'cpu', runs: 2, warmup: 0 });
    await expect(failure).rejects.toThrow(ProfileError);
    await expect(failure).rejects.toThrow(/^profiling broken\.onnx failed: \S*broken\.onnx: /);
  });

  it('kills the child when cancelled and leaves no temporary files', async () => {
    const controller = new AbortController();
    const run = profileInChildProcess(lenet, {
      ep: 'cpu',
      runs: 1000,
      warmup: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'warmup') controller.abort();
      }
    });
    await expect(run).rejects.toThrow(ProfileCancelledError);
    expect(childFolders()).toEqual([]);
    await expect(profileInChildProcess(lenet, { ep: 'cpu', runs: 1, warmup: 0, signal: controller.signal })).rejects.toThrow(ProfileCancelledError);
  });
});
