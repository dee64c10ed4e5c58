// Sweeps against a real executor child process: which cuts are swept, several links in
// one pass, and pruning — a skipped cut's shaped transfer time alone exceeds the best
// total measured for that link, and the predicted best is always measured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkPreset } from '../../app/partition/presets.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeLoadedModel, type AnalyzedModel } from '../model/analyze-file.js';
import { UsageError } from '../errors/user-errors.js';
import { ExecutorClient } from '../executor/client.js';
import type { LinkShaper } from '../executor/link.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import type { RemoteExecutor } from '../executor/remote-executor.js';
import { SKIPPED_BY_BOUND, sweepModel, sweptCuts } from './sweep.js';

let executor: ExecutorProcess;
let dir: string;
let lenet: AnalyzedModel;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-sweep-'));
  const bytes = buildZooModel('lenet', { seed: 4 });
  lenet = await analyzeLoadedModel({ path: path.join(dir, 'lenet.onnx'), bytes, model: readOnnxModel(bytes) });
  executor = await startExecutorProcess(['--max-concurrency', '1']);
});

afterAll(async () => {
  await executor?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const connect = (shaper?: LinkShaper): RemoteExecutor => new ExecutorClient({ url: executor.url, shaper });

describe('sweptCuts', () => {
  it('always has 0 and N, every k-th cut and the extra ones, sorted once each', () => {
    expect(sweptCuts(9, 3, [5, 3])).toEqual([0, 3, 5, 6, 9]);
    expect(sweptCuts(9, 1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sweptCuts(9, 20)).toEqual([0, 9]);
    expect(() => sweptCuts(9, 0)).toThrow(UsageError);
  });
});

describe('sweepModel', () => {
  it('sweeps several links in one pass and prunes per link by the hard transfer bound', async () => {
    const links = [
      { kind: 'preset' as const, preset: networkPreset('wifi') },
      { kind: 'preset' as const, preset: networkPreset('3g') }
    ];
    const [wifi, threeG] = await sweepModel({ analyzed: lenet, links, runs: 1, prune: true, ep: 'cpu', profileRuns: 3, profileWarmup: 1, connect });
    for (const result of [wifi, threeG]) {
      expect(result.cuts.map((c) => c.cut)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(result.outputsOk).toBe(true);
      const byCut = new Map(result.cuts.map((c) => [c.cut, c]));
      const best = byCut.get(result.measuredBest)?.measuredMs ?? NaN;
      expect(byCut.get(result.predictedBest)?.measuredMs).toBeGreaterThan(0);
      expect(result.ratio).toBeGreaterThanOrEqual(1);
      for (const cut of result.cuts) {
        if (cut.measuredMs === null) {
          expect(cut.skipped).toBe(SKIPPED_BY_BOUND);
          expect(cut.lowerBoundMs).toBeGreaterThan(best);
        } else {
          expect(cut.measuredMs).toBeGreaterThanOrEqual(best);
        }
      }
    }
    expect(wifi.network).toMatchObject({ name: 'wifi', shaped: true });
    expect(threeG.network).toMatchObject({ name: '3g', shaped: true });
    // Under 3G every remote cut costs at least the 150 ms round trip: LeNet stays on the device.
    expect(threeG.predictedBest).toBe(9);
    expect(threeG.cuts.filter((c) => c.skipped).length).toBeGreaterThanOrEqual(8);
    // The bound is the cost model's transfer time: equal for both links only at cut N.
    expect(threeG.cuts[9].lowerBoundMs).toBe(0);
    expect(threeG.cuts[0].lowerBoundMs).toBeGreaterThan(wifi.cuts[0].lowerBoundMs);
    // Device only is the same work on every link: one measurement of both links' runs serves each.
    expect(wifi.cuts[9].measuredMs).toBeGreaterThan(0);
    expect(threeG.cuts[9].measuredMs).toBe(wifi.cuts[9].measuredMs);
  });

  it('measures every swept cut without pruning', async () => {
    const [result] = await sweepModel({
      analyzed: lenet,
      links: [{ kind: 'preset', preset: networkPreset('unshaped') }],
      every: 4,
      runs: 1,
      prune: false,
      ep: 'cpu',
      profileRuns: 3,
      profileWarmup: 1,
      connect
    });
    expect(result.network.shaped).toBe(false);
    expect(result.cuts.every((c) => c.measuredMs !== null && c.skipped === undefined)).toBe(true);
    expect(result.cuts.map((c) => c.cut)).toEqual(expect.arrayContaining([0, 4, 8, 9]));
    expect(Number.isFinite(result.predictionError)).toBe(true);
  });
});
