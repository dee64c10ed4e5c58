// The characterisation sweep on this machine's CPU with small budgets (its optional phases on
// with the default grid only): a valid device profile with every type sampled and conv/fc
// fitted; resuming keeps earlier samples and adds new ones; cancelling saves and throws; a
// profile of another device starts over; profile files are checked with one-line errors; the
// integer layer types run and are recorded as their own types; layers with weights are timed
// as copies (a profile timed alone starts over) and what cold weights cost is recorded; the
// layout reorders around kernels at all are timed and fitted. About two and a half minutes in
// all here, more under load.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeviceProfile } from '../../app/profiling/types.js';
import { LAYER_TYPES } from '../../app/prediction/features.js';
import { layerReplicas, STREAMED_FC_MIN_BYTES } from '../../app/prediction/predict.js';
import { median } from '../../app/profiling/trace.js';
import { predictWithFits } from '../../app/prediction/regression.js';
import { ADAPTIVE_TYPES, adaptiveConfig, sweepPhases, adaptiveConfigFor, characterizeDevice, retimeHotWeights, kernelLevelGrid, spreadOverWindows, type SweepConfig, CharacterizeCancelledError, DeviceProfileError, readDeviceProfile, retimeSamples, STREAMED_FC_SPAN, sweepGrid, worstLayerType, type CharacterizeProgress } from './characterize.js';
import { CONTEXT_TYPES, MAX_CONTEXT_FACTOR } from '../../app/prediction/context.js';
import { refitDeviceProfile } from './refit.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'characterize-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const outFile = path.join(folder, 'device-cpu.json');

describe('sweepGrid', () => {
  it('has unique keys and starts with every layer type', () => {
    const grid = sweepGrid();
    expect(new Set(grid.map((config) => config.key)).size).toBe(grid.length);
    const firstTypes = new Set(grid.slice(0, LAYER_TYPES.length).map((config) => config.layerType));
    expect(firstTypes.size).toBe(LAYER_TYPES.length);
  });

  it('reaches down to vector-sized layers (a few hundred values) for the cheap types', () => {
    const grid = sweepGrid();
    const smallest = (layerType: string): number => Math.min(...grid.filter((c) => c.layerType === layerType).map((c) => c.activationBytes));
    for (const layerType of ['activation', 'elementwise', 'dataMovement']) expect(smallest(layerType)).toBeLessThanOrEqual(8 * 300);
    expect(grid.some((c) => c.key === 'activation Clip x=1x300')).toBe(true);
  });

  it('times several one-row FC layers beyond any cache, apart in the sweep, for the streaming rate', () => {
    const grid = sweepGrid();
    const streamed = grid.flatMap((c, position) => (c.layerType === 'fc' && /^fc Gemm /.test(c.key) && c.weightBytes > STREAMED_FC_MIN_BYTES ? [position] : []));
    expect(streamed.length).toBeGreaterThanOrEqual(4);
    // Not one after another: a burst of another tenant's memory traffic should meet one of them, not all.
    for (let i = 1; i < streamed.length; i++) expect(streamed[i] - streamed[i - 1]).toBeGreaterThan(LAYER_TYPES.length);
    // And all early enough for a sweep the budget cuts short at half the grid.
    expect(Math.max(...streamed)).toBeLessThan(STREAMED_FC_SPAN * grid.length);
  });
});

/** Seconds between the streaming probes of the first sweep here: its 28-s sweep under a parallel test file's load still has two. */
const PROBE_EVERY_S = 3;

describe('sweepPhases', () => {
  it('runs every optional phase with the default grid, none with a grid of the caller\'s own, and each as its option says', () => {
    const all = { adaptive: true, kernelLevel: true, contextCalibration: true, streamingProbes: true };
    const none = { adaptive: false, kernelLevel: false, contextCalibration: false, streamingProbes: false };
    const grid = sweepGrid().slice(0, 4);
    expect(sweepPhases({})).toEqual(all);
    expect(sweepPhases({ grid })).toEqual(none);
    expect(sweepPhases({ ...none })).toEqual(none);
    expect(sweepPhases({ grid, ...all })).toEqual(all);
    expect(sweepPhases({ streamingProbes: false })).toEqual({ ...all, streamingProbes: false });
    expect(sweepPhases({ grid, streamingProbes: true })).toEqual({ ...none, streamingProbes: true });
  });
});

describe('characterizeDevice', () => {
  let first: DeviceProfile;

  it('writes a device profile with samples of every type and conv and fc fitted', async () => {
    const events: CharacterizeProgress[] = [];
    // The default grid reordered: every type's cheapest configuration, then conv's and fc's
    // next seven (enough for a fit), then the rest, which the budget leaves unmeasured. The
    // default order needs seven rounds of all types (twice the budget) to fit conv and fc.
    const all = sweepGrid();
    const cheapest = LAYER_TYPES.map((type) => all.find((config) => config.layerType === type)!);
    const fitted = ['conv', 'fc'].flatMap((type) => all.filter((config) => config.layerType === type).slice(1, 8));
    const leading = new Set([...cheapest, ...fitted].map((config) => config.key));
    const grid = [...cheapest, ...fitted, ...all.filter((config) => !leading.has(config.key))];
    // Long enough for the one-off calibrations and those 32 configurations with another test file beside it on two cores,
    // and for opening the streaming probe's layer (3 s, more under load), whose share the later tests' context factors miss.
    const budgetS = 28;
    first = await characterizeDevice({ ep: 'cpu', budgetS, outFile, grid, streamingProbes: true, streamingProbeEveryS: PROBE_EVERY_S, onProgress: (e) => events.push(e) });
    const saved = await readDeviceProfile(outFile);
    expect(saved.configurations).toBe(first.configurations);
    expect(saved.samples).toHaveLength(first.configurations);
    expect(first.complete).toBe(false);
    expect(first.elapsedS).toBeLessThan(budgetS * 1.25 + 2);
    expect(first.overheadMs).toBeGreaterThanOrEqual(0);
    // The runtime's blocked layout was tested once, at the start (x86 CPUs have one), and
    // what cold weights cost (FC layers alone and as copies); Linux tells a core's cache.
    if (process.arch === 'x64') expect(first.nchwcLayout?.blockSize).toBeGreaterThanOrEqual(8);
    expect(first.coldWeightMsPerByte).toBeGreaterThanOrEqual(0);
    expect(first.coldWeightMsPerByte).toBeLessThan(1e-6);
    // The probes' times alone are kept, for a bench to time them again.
    expect(first.hotWeightProbes?.map((p) => p.config)).toEqual(['fc Gemm in=256 out=256', 'fc Gemm in=512 out=512', 'fc Gemm in=300 out=1000', 'fc Gemm in=768 out=768']);
    expect(first.hotWeightProbes?.every((p) => p.ms > 0 && p.ms < 1)).toBe(true);
    // The memory's streaming rate, probed every PROBE_EVERY_S of the sweep from its first
    // configuration on (the calibrations before it take 5–15 s, more under load): 144 MiB in a
    // few ms, a rate between 0.5 and 500 GB/s.
    const probes = first.streamingProbes ?? [];
    expect(probes.length).toBeGreaterThanOrEqual(2);
    expect(probes.every((probe) => probe.bytesPerMs > 5e5 && probe.bytesPerMs < 5e8)).toBe(true);
    for (let i = 1; i < probes.length; i++) expect(probes[i].atS - probes[i - 1].atS).toBeGreaterThanOrEqual(PROBE_EVERY_S - 0.1);
    // A kernel of shape arithmetic inside a network: more than nothing, far less than a layer of the sweep.
    expect(first.shapeArithmeticMsPerKernel).toBeGreaterThan(0);
    expect(first.shapeArithmeticMsPerKernel).toBeLessThan(0.01);
    // What a kernel alone pays over one in a chain: a fraction of a microsecond to a few
    // (0.6–0.7 µs on one machine, 0.19 on another); where the calibration finds none above
    // zero (that second machine, under a test's load), the profile has none.
    if (first.loneKernelExcessMs !== undefined) {
      expect(first.loneKernelExcessMs).toBeGreaterThan(0);
      expect(first.loneKernelExcessMs).toBeLessThan(0.01);
    }
    if (process.platform === 'linux') expect(first.coreCacheBytes).toBeGreaterThanOrEqual(64 * 1024);
    expect(new Set(first.samples.map((s) => s.layerType)).size).toBe(LAYER_TYPES.length);
    // conv and fc fitted to their samples. How well is not asked here: eight samples timed beside
    // another test file barely outnumber conv's features, and a relative-error fit may leave the
    // slowest one anywhere (R² fell to −0.05, and a fit predicted 0 for it, in two CI runs);
    // regression.test.ts checks the fitting against known data.
    for (const type of ['conv', 'fc']) {
      const fits = first.fits.filter((fit) => fit.layerType === type && fit.level === undefined);
      const timed = first.samples.filter((s) => s.layerType === type && s.level === undefined);
      expect(fits.length).toBeGreaterThan(0);
      expect(fits.reduce((sum, fit) => sum + fit.samples, 0)).toBeLessThanOrEqual(timed.length);
      for (const fit of fits) {
        expect(fit.samples).toBeGreaterThanOrEqual(fit.features.length + 2);
        expect(fit.r2).toBeLessThanOrEqual(1);
        expect(fit.coefficients.every(Number.isFinite) && Number.isFinite(fit.intercept)).toBe(true);
      }
      for (const sample of timed) expect(predictWithFits(fits, sample.features)).toBeGreaterThanOrEqual(0);
    }
    expect(first.samples.every((s) => Number.isFinite(s.ms) && s.ms >= 0)).toBe(true);
    // Each sample is its raw median less the calibrated per-kernel cost for each of its
    // kernels: one, or two for HardSwish, which onnxruntime runs as HardSigmoid and Mul. A
    // kernel shorter than that cost counts as zero (a tiny HardSigmoid, a copy of a layer
    // timed as several), so a correction may fall short of its whole share, never beyond.
    const perKernel = first.profilerOverheadMsPerKernel!;
    expect(perKernel).toBeGreaterThan(0);
    expect(perKernel).toBeLessThan(0.05);
    const shares: number[] = [];
    for (const sample of first.samples) {
      const kernels = sample.config.includes('activation HardSwish') ? 2 : 1;
      const correction = sample.rawMs! - sample.ms;
      expect(correction).toBeGreaterThanOrEqual(-1e-9);
      expect(correction).toBeLessThanOrEqual(kernels * perKernel + 1e-9);
      if (sample.rawMs! >= 3 * kernels * perKernel) shares.push(correction / (kernels * perKernel));
    }
    expect(median(shares)).toBeCloseTo(1, 6);
    expect(events.length).toBeGreaterThan(0);
    expect(events[events.length - 1].done).toBe(first.configurations);
  }, 60_000);

  it('resumes from the saved profile, keeping earlier samples', async () => {
    // The context calibrations' first pass runs inside the sweep (as a long sweep spreads its
    // first two), the sweep goes on after it, and the passes left run at its end.
    const notes: string[] = [];
    // No streaming probes here: their layer's opening (3 s, more under load) would take a sixth of this short sweep.
    const resumed = await characterizeDevice({ ep: 'cpu', budgetS: 20, outFile, contextSpreadMinS: 0, streamingProbes: false, onProgress: (e) => notes.push(e.note ?? `measured ${e.layerType}`) });
    const spread = notes.findIndex((note) => note.startsWith('profiling generated networks layer by layer, pass 1 of 3 (the passes are spread over the sweep)'));
    const atEnd = notes.findIndex((note) => note.startsWith('profiling generated networks layer by layer: how much slower'));
    expect(spread).toBeGreaterThan(0);
    expect(atEnd).toBeGreaterThan(spread);
    expect(notes.slice(spread, atEnd).some((note) => note.startsWith('measured '))).toBe(true);
    expect(resumed.configurations).toBeGreaterThan(first.configurations);
    expect(resumed.samples.slice(0, first.configurations)).toEqual(first.samples);
    expect(resumed.elapsedS).toBeGreaterThan(first.elapsedS);
    expect(resumed.overheadMs).toBe(first.overheadMs);
    expect(resumed.profilerOverheadMsPerKernel).toBe(first.profilerOverheadMsPerKernel);
    expect(resumed.nchwcLayout).toEqual(first.nchwcLayout);
    expect(resumed.coldWeightMsPerByte).toBe(first.coldWeightMsPerByte);
    expect(resumed.hotWeightProbes).toEqual(first.hotWeightProbes);
    // The first sweep's streaming probes are kept.
    expect(resumed.streamingProbes).toEqual(first.streamingProbes);
    expect(resumed.shapeArithmeticMsPerKernel).toBe(first.shapeArithmeticMsPerKernel);
    // Kept when the first found one; a first that found none (a burst of load can leave the
    // chain no faster than its kernels alone) has the resume try again.
    if (first.loneKernelExcessMs !== undefined) expect(resumed.loneKernelExcessMs).toBe(first.loneKernelExcessMs);
    // The default grid ends by profiling the generated networks: a factor of at least 1 per type they give enough of.
    expect(resumed.contextFactors).toBeDefined();
    for (const [type, entry] of Object.entries(resumed.contextFactors!)) {
      expect(CONTEXT_TYPES).toContain(type);
      expect(entry!.factor).toBeGreaterThanOrEqual(1);
      expect(entry!.factor).toBeLessThanOrEqual(MAX_CONTEXT_FACTOR);
      expect(entry!.upTo).toBeGreaterThan(0);
    }
    expect((await readDeviceProfile(outFile)).contextFactors).toEqual(resumed.contextFactors);
    // Then the full-size networks at 'all'.
    // Which types get a factor depends on what a short sweep fitted at 'all'; each one found is valid.
    expect(resumed.contextFactorsAtAll).toBeDefined();
    for (const entry of Object.values(resumed.contextFactorsAtAll!)) {
      expect(entry!.factor).toBeGreaterThanOrEqual(1);
      expect(entry!.factor).toBeLessThanOrEqual(MAX_CONTEXT_FACTOR);
    }
    expect((await readDeviceProfile(outFile)).contextFactorsAtAll).toEqual(resumed.contextFactorsAtAll);
    // The times the factors came from are kept, and found again against the same fits they give the same factors.
    expect(Object.keys(resumed.contextTimes ?? {}).sort()).toEqual(['all', 'disabled']);
    expect((await readDeviceProfile(outFile)).contextTimes).toEqual(resumed.contextTimes);
    const same = await refitDeviceProfile(resumed);
    expect(same.contextRefound).toEqual(['disabled', 'all']);
    expect(same.profile.fits).toEqual(resumed.fits);
    expect(same.profile.contextFactors).toEqual(resumed.contextFactors);
    expect(same.profile.contextFactorsAtAll).toEqual(resumed.contextFactorsAtAll);
    // Against fits of samples eight times as fast, the same measured layers give factors no lower, and some higher
    // (a type whose predicted layers now sum to too little for a factor has none). Eight, not two: under a
    // burst of load during the first sweep its samples run slow, the networks measured later at half
    // their prediction or less, and every factor sits at its floor of 1 against fits twice as fast too.
    const faster = await refitDeviceProfile({ ...resumed, samples: resumed.samples.map((sample) => ({ ...sample, ms: sample.ms / 8 })) });
    const common = Object.keys(resumed.contextFactors ?? {}).filter((type) => faster.profile.contextFactors?.[type] !== undefined);
    expect(common.length).toBeGreaterThan(0);
    for (const type of common) expect(faster.profile.contextFactors![type]!.factor).toBeGreaterThanOrEqual(resumed.contextFactors![type]!.factor);
    expect(common.some((type) => faster.profile.contextFactors![type]!.factor > resumed.contextFactors![type]!.factor || resumed.contextFactors![type]!.factor === MAX_CONTEXT_FACTOR)).toBe(true);
  }, 60_000);

  it('times characterised layers again as the sweep did, up to two of each type, for the machine\'s drift', async () => {
    const retimed = await retimeSamples(first, 2);
    const plain = first.samples.filter((s) => s.level === undefined);
    const types = new Set(plain.map((s) => s.layerType));
    expect(new Set(retimed.map((r) => r.layerType))).toEqual(types);
    for (const type of types) expect(retimed.filter((r) => r.layerType === type).length).toBeLessThanOrEqual(2);
    for (const r of retimed) {
      const sample = plain.find((s) => s.config === r.config);
      expect(r.characterisedMs).toBe(sample?.ms);
      expect(r.nowMs).toBeGreaterThan(0);
    }
    const fake = { ...first, samples: first.samples.map((s) => ({ ...s, config: `no such key ${s.config}` })) };
    expect(await retimeSamples(fake)).toEqual([]);
  }, 30_000);

  it('times the cold-weight probes alone again, as characterised, and refuses a profile whose probes are malformed', async () => {
    const retimed = await retimeHotWeights(first);
    expect(retimed.map((r) => r.config)).toEqual(first.hotWeightProbes?.map((p) => p.config));
    for (const r of retimed) expect(r.characterisedMs).toBe(first.hotWeightProbes?.find((p) => p.config === r.config)?.ms);
    // The same layers, timed the same way minutes later: within a few times of themselves even
    // on a loaded machine, as their median (one of these µs-scale probes once read 45× under
    // a parallel test file's load).
    const ratio = median(retimed.map((r) => r.nowMs / r.characterisedMs));
    expect(ratio).toBeGreaterThan(0.25);
    expect(ratio).toBeLessThan(4);
    expect(await retimeHotWeights({ ...first, hotWeightProbes: undefined })).toEqual([]);
    const file = path.join(folder, 'bad-probes.json');
    writeFileSync(file, JSON.stringify({ ...first, hotWeightProbes: [{ config: 'fc Gemm in=256 out=256', ms: -1 }] }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"hotWeightProbes" must be a list/);
    writeFileSync(file, JSON.stringify({ ...first, streamingProbes: [{ atS: 3, bytesPerMs: 0 }] }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"streamingProbes" must be a list of \{ atS, bytesPerMs \}/);
  }, 30_000);

  it('saves what it has and throws when cancelled', async () => {
    const before = (await readDeviceProfile(outFile)).configurations;
    const controller = new AbortController();
    let measured = 0;
    const run = characterizeDevice({
      ep: 'cpu',
      budgetS: 30,
      outFile,
      // Cancelling is what is tested: no streaming probe's layer to open first (3 s, far more under load).
      streamingProbes: false,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.note === undefined && ++measured === 3) controller.abort();
      }
    });
    await expect(run).rejects.toBeInstanceOf(CharacterizeCancelledError);
    const saved = await readDeviceProfile(outFile);
    expect(saved.configurations).toBe(before + 3);
  }, 60_000);

  // The default grid ends with the context calibration's three passes (about 11 s here).
  it('starts over, and says so, when the file is of another device', async () => {
    const other = path.join(folder, 'other.json');
    const foreign = JSON.parse(readFileSync(outFile, 'utf8')) as DeviceProfile;
    writeFileSync(other, JSON.stringify({ ...foreign, device: { ...foreign.device, hostname: 'elsewhere' } }));
    const notes: string[] = [];
    const fresh = await characterizeDevice({ ep: 'cpu', budgetS: 1, outFile: other, onProgress: (e) => e.note && notes.push(e.note) });
    expect(notes.some((note) => /starting over/.test(note) && /elsewhere/.test(note))).toBe(true);
    expect(fresh.configurations).toBeLessThan(foreign.configurations);
  }, 120_000);
});

describe('characterizeDevice over a small grid', () => {
  const grid = sweepGrid().slice(0, 4);

  it('measures every configuration twice when the budget allows, keeping the lower median', async () => {
    const file = path.join(folder, 'small-grid.json');
    const events: CharacterizeProgress[] = [];
    const profile = await characterizeDevice({ ep: 'cpu', budgetS: 20, outFile: file, grid, onProgress: (e) => e.note === undefined && events.push(e) });
    expect(profile.complete).toBe(true);
    expect(profile.samples.map((s) => s.config)).toEqual(grid.map((c) => c.key));
    expect(profile.samples.every((s) => s.passes === 2)).toBe(true);
    expect(events.map((e) => e.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events.every((e) => e.total === 8)).toBe(true);
    // A third call has nothing left to measure.
    const again = await characterizeDevice({ ep: 'cpu', budgetS: 20, outFile: file, grid });
    expect(again.samples).toEqual(profile.samples);
  }, 30_000);

  it('starts over, and says so, when the samples were not corrected for the profiler', async () => {
    const file = path.join(folder, 'uncorrected.json');
    const previous = JSON.parse(readFileSync(outFile, 'utf8')) as DeviceProfile;
    delete previous.profilerOverheadMsPerKernel;
    writeFileSync(file, JSON.stringify(previous));
    const notes: string[] = [];
    const fresh = await characterizeDevice({ ep: 'cpu', budgetS: 10, outFile: file, grid, onProgress: (e) => e.note && notes.push(e.note) });
    expect(notes.some((note) => /starting over: .* still hold the profiler's own per-kernel cost/.test(note))).toBe(true);
    expect(fresh.samples.map((s) => s.config)).toEqual(grid.map((c) => c.key));
    expect(fresh.profilerOverheadMsPerKernel).toBeGreaterThan(0);
  }, 30_000);
});

describe('adaptive sampling', () => {
  it('draws the same configurations for the same index, of the type asked, for every adaptive type', () => {
    for (const type of ADAPTIVE_TYPES) {
      const drawn = Array.from({ length: 12 }, (_, i) => adaptiveConfig(type, i)).filter((c) => c !== null);
      expect([type, drawn.length > 0]).toEqual([type, true]);
      expect(drawn.every((c) => c.layerType === type && c.key.startsWith(`adaptive ${type} #`))).toBe(true);
      expect(new Set(drawn.map((c) => c.key)).size).toBe(drawn.length);
    }
    expect(adaptiveConfig('conv', 5)?.key).toBe(adaptiveConfig('conv', 5)?.key);
  });

  it('picks the type with the highest error, discounted by the adaptive samples it already has, kernels at all among them', () => {
    const error = (layerType: string, medianError: number, adaptiveSamples = 0, level?: 'all') => ({ layerType, ...(level ? { level } : {}), samples: 40, adaptiveSamples, medianError, meanError: medianError });
    expect(worstLayerType([error('conv', 0.1), error('softmax', 0.3)])).toEqual({ layerType: 'softmax' });
    expect(worstLayerType([error('conv', 0.25), error('softmax', 0.3, 60)])).toEqual({ layerType: 'conv' });
    expect(worstLayerType([error('conv', 0.1), error('groupedConv', 0.29, 0, 'all')])).toEqual({ layerType: 'groupedConv', level: 'all' });
    expect(worstLayerType([error('qfc', 0.36), error('groupedConv', 0.29, 0, 'all')])).toEqual({ layerType: 'qfc' });
    // Integer convs are not sampled adaptively, nor types the sweep does not time at 'all'.
    expect(worstLayerType([error('qconv', 0.9), error('softmax', 0.9, 0, 'all')])).toBeNull();
  });

  it("keys a kernel-level draw apart from the same draw at 'disabled'", () => {
    const plain = adaptiveConfigFor({ layerType: 'groupedConv' }, 3);
    const atAll = adaptiveConfigFor({ layerType: 'groupedConv', level: 'all' }, 3);
    expect(plain?.key).toBe(adaptiveConfig('groupedConv', 3)?.key);
    expect(atAll?.key).toBe(plain?.key.replace(/^adaptive /, 'adaptive @all '));
    expect(atAll?.layerType).toBe('groupedConv');
  });

  it('adds configurations where the cross-validated error is highest, reports them per type, and resumes the sequence', async () => {
    const all = sweepGrid();
    const grid = [...all.filter((c) => c.layerType === 'softmax').slice(0, 8), ...all.filter((c) => c.layerType === 'activation').slice(0, 8)];
    const file = path.join(folder, 'adaptive.json');
    const first = await characterizeDevice({ ep: 'cpu', budgetS: 16, outFile: file, grid, adaptive: true });
    const adaptive = first.samples.filter((s) => s.config.startsWith('adaptive '));
    expect(adaptive.length).toBeGreaterThan(0);
    for (const type of ['softmax', 'activation']) {
      const reported = first.typeErrors?.find((e) => e.layerType === type);
      expect(reported?.adaptiveSamples).toBe(adaptive.filter((s) => s.layerType === type).length);
      expect(reported?.medianError).toBeGreaterThanOrEqual(0);
    }
    const again = await characterizeDevice({ ep: 'cpu', budgetS: 6, outFile: file, grid, adaptive: true });
    const keys = again.samples.map((s) => s.config);
    expect(new Set(keys).size).toBe(keys.length);
    expect(again.samples.filter((s) => s.config.startsWith('adaptive ')).length).toBeGreaterThan(adaptive.length);
  }, 60_000);

  it("samples the kernels at all where their error is the highest, timed at all and counted there", async () => {
    const grid = sweepGrid().filter((c) => c.layerType === 'activation').slice(0, 10);
    const profile = await characterizeDevice({ ep: 'cpu', budgetS: 20, outFile: path.join(folder, 'adaptive-all.json'), grid, adaptive: true, kernelLevel: true, contextCalibration: false });
    const adaptive = profile.samples.filter((s) => s.config.startsWith('adaptive '));
    const atAll = adaptive.filter((s) => s.config.startsWith('adaptive @all '));
    expect(atAll.every((s) => s.level === 'all')).toBe(true);
    expect(adaptive.filter((s) => !s.config.startsWith('adaptive @all ')).every((s) => s.level === undefined)).toBe(true);
    for (const level of [undefined, 'all'] as const) {
      const reported = profile.typeErrors?.find((e) => e.layerType === 'activation' && e.level === level);
      expect([level, reported?.adaptiveSamples]).toEqual([level, adaptive.filter((s) => s.level === level).length]);
    }
    // The activations timed at 'all' (fused GELU and SiLU kernels among plain ones) have the higher error here.
    expect(atAll.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('layers with weights timed as copies', () => {
  it('copies a layer until the copies hold 8 MiB of weights, at most eight; a layer without weights runs alone', () => {
    expect([0, 1000, 100_000, 2 * 2 ** 20, 3 * 2 ** 20, 64 * 2 ** 20].map(layerReplicas)).toEqual([1, 1, 8, 4, 3, 1]);
  });

  it('starts over, and says so, when the samples were timed alone', async () => {
    const file = path.join(folder, 'alone.json');
    const previous = JSON.parse(readFileSync(outFile, 'utf8')) as DeviceProfile;
    expect(previous.replicaWeightBytes).toBe(8 * 2 ** 20);
    delete previous.replicaWeightBytes;
    writeFileSync(file, JSON.stringify(previous));
    const notes: string[] = [];
    const fresh = await characterizeDevice({ ep: 'cpu', budgetS: 4, outFile: file, grid: sweepGrid().slice(0, 2), onProgress: (e) => e.note && notes.push(e.note) });
    expect(notes.some((note) => /starting over: the samples in .* timed each layer alone/.test(note))).toBe(true);
    expect(fresh.replicaWeightBytes).toBe(8 * 2 ** 20);
  }, 30_000);
});

describe('kernels at all', () => {
  it.skipIf(process.arch !== 'x64')('times the layout reorders around the blocked kernels and fits what one costs', async () => {
    // Enough small convolutions for a fit (the kernel-level phase waits for one), then a few of them at all.
    const convs = sweepGrid().filter((c) => c.layerType === 'conv' && c.activationBytes < 1e6).slice(0, 14);
    const profile = await characterizeDevice({ ep: 'cpu', budgetS: 16, outFile: path.join(folder, 'reorders.json'), grid: convs, kernelLevel: true, adaptive: false });
    const withReorders = profile.samples.filter((s) => s.level === 'all' && (s.reorders ?? []).length > 0);
    expect(withReorders.length).toBeGreaterThan(0);
    expect(profile.samples.filter((s) => s.level === undefined).every((s) => s.reorders === undefined)).toBe(true);
    for (const reorder of withReorders.flatMap((s) => s.reorders!)) {
      expect(reorder.bytes).toBeGreaterThan(0);
      expect(reorder.ms).toBeGreaterThanOrEqual(0);
    }
    expect(profile.nchwcLayout?.reorder?.msPerByte).toBeGreaterThan(0);
    expect(profile.nchwcLayout?.reorder?.samples).toBe(withReorders.flatMap((s) => s.reorders!).length);
    expect(profile.blockedChannelsPadded).toBe(true);

    // A profile whose convolutions at 'all' were counted over their own channels has them timed again.
    const older = { ...profile, blockedChannelsPadded: undefined };
    const olderFile = path.join(folder, 'unpadded.json');
    writeFileSync(olderFile, JSON.stringify(older));
    const notes: string[] = [];
    const resumed = await characterizeDevice({ ep: 'cpu', budgetS: 1, outFile: olderFile, grid: convs, kernelLevel: true, adaptive: false, onProgress: (e) => e.note && notes.push(e.note) });
    const atAll = profile.samples.filter((s) => s.level === 'all').length;
    expect(notes).toContain(`timing ${atAll} convolutions at 'all' again: their features now count the channels padded to whole blocks`);
    // The plain samples are kept (a second pass the first call had no time for may lower one).
    const plain = (p: DeviceProfile) => p.samples.filter((s) => s.level === undefined);
    expect(plain(resumed).map((s) => s.config)).toEqual(plain(profile).map((s) => s.config));
    plain(resumed).forEach((s, i) => expect(s.ms).toBeLessThanOrEqual(plain(profile)[i].ms));
    expect(resumed.blockedChannelsPadded).toBe(true);
  }, 40_000);

  it('spreads picks over the windows, giving those a window cannot fill to the others', () => {
    const convs = sweepGrid().filter((c) => c.layerType === 'conv' && c.window && c.window.kernel <= 3);
    const picked = spreadOverWindows(convs, 9);
    expect(picked).toHaveLength(9);
    expect(new Set(picked.map((c) => c.key)).size).toBe(9);
    const windows = [...new Set(convs.map((c) => `${c.window?.kernel}/${c.window?.stride}`))];
    // In turns: the first of each window before any window's second.
    expect(new Set(picked.slice(0, windows.length).map((c) => `${c.window?.kernel}/${c.window?.stride}`)).size).toBe(windows.length);
    const one = convs.filter((c) => c.window?.kernel === 3 && c.window.stride === 1).slice(0, 2);
    expect(spreadOverWindows([...one, ...convs.filter((c) => c.window?.kernel === 1).slice(0, 20)], 10).filter((c) => c.window?.kernel === 3)).toHaveLength(2);
    expect(spreadOverWindows(convs, 1)).toHaveLength(1);
    expect(spreadOverWindows(convs, 0)).toEqual([]);
  });

  it('times a spread of each NCHWc-capable type and the fused kernels at all, round-robin, fitted apart', async () => {
    const all = sweepGrid();
    const levelGrid = kernelLevelGrid(all);
    expect(levelGrid.slice(0, 7).map((c) => c.layerType)).toEqual(['conv', 'groupedConv', 'depthwiseConv', 'pooling', 'activation', 'normalization', 'activation']);
    expect(levelGrid.some((c) => c.key.startsWith('normalization kernel LayerNormalization'))).toBe(true);
    // Inverted-residual blocks' pointwise convs over large maps are all timed at all.
    expect(levelGrid.map((c) => c.key)).toEqual(expect.arrayContaining(['conv Conv c=24 hw=112 k=1 s=1 f=144 g=1', 'conv Conv c=24 hw=56 k=1 s=1 f=144 g=1', 'conv Conv c=144 hw=56 k=1 s=1 f=24 g=1']));
    expect(levelGrid.filter((c) => c.layerType === 'conv')).toHaveLength(90);
    // Every window of the grid's convs (kernel size and stride) is timed at all, and each comes early (a phase cut short keeps them).
    const windowOf = (c: SweepConfig) => `${c.window?.kernel}/${c.window?.stride}`;
    const gridWindows = new Set(all.filter((c) => c.layerType === 'conv').map(windowOf));
    expect(gridWindows.size).toBeGreaterThanOrEqual(10);
    const convsAtAll = levelGrid.filter((c) => c.layerType === 'conv');
    expect(new Set(convsAtAll.slice(0, 2 * gridWindows.size).map(windowOf))).toEqual(gridWindows);
    expect(convsAtAll.filter((c) => windowOf(c) === '5/1').length).toBeGreaterThanOrEqual(4);
    const grid = [...all.filter((c) => c.layerType === 'activation').slice(0, 8), ...all.filter((c) => c.layerType === 'normalization').slice(0, 8)];
    // The kernel-level phase has a quarter of the budget: enough here for its first few configurations, the Gelu kernel the third.
    const profile = await characterizeDevice({ ep: 'cpu', budgetS: 40, outFile: path.join(folder, 'kernel-level.json'), grid, kernelLevel: true, adaptive: false });
    const atAll = profile.samples.filter((s) => s.level === 'all');
    const gelu = atAll.find((s) => s.config === '@all activation kernel Gelu x=1x16x256');
    expect(gelu?.features).toEqual({ neurons: 16 * 256, transcendentalNeurons: 16 * 256 });
    expect(gelu!.ms).toBeGreaterThan(0);
    // The grid's own samples are at the profile's level; the fits at all are marked so.
    expect(profile.samples.filter((s) => s.level === undefined).map((s) => s.config)).toEqual(grid.map((c) => c.key));
    expect(profile.fits.filter((f) => f.level === 'all').every((f) => f.layerType === 'activation' || f.layerType === 'normalization')).toBe(true);
  }, 90_000);
});

describe('characterizeDevice over quantized layers', () => {
  it('runs a configuration of every integer layer type in onnxruntime and records it under its own type', async () => {
    const integerTypes = ['qconv', 'qdepthwiseConv', 'qfc', 'quantize', 'qelementwise'];
    const all = sweepGrid();
    const grid = integerTypes.map((type) => all.find((config) => config.layerType === type)!);
    grid.push(all.find((config) => config.key.startsWith('quantize DequantizeLinear'))!, all.find((config) => config.key.startsWith('quantize DynamicQuantizeLinear'))!, all.find((config) => config.key.startsWith('qfc MatMulInteger'))!);
    const profile = await characterizeDevice({ ep: 'cpu', budgetS: 20, outFile: path.join(folder, 'quantized.json'), grid });
    expect(profile.samples.map((s) => s.config).sort()).toEqual(grid.map((c) => c.key).sort());
    expect(new Set(profile.samples.map((s) => s.layerType))).toEqual(new Set(integerTypes));
    expect(profile.samples.every((s) => s.ms > 0)).toBe(true);
  }, 60_000);
});

describe('characterizeDevice over a profile of an older version', () => {
  it('starts over, and says so, when the profile was timed pinned to other CPUs (--cpus)', async () => {
    const file = path.join(folder, 'pinned.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), cpus: [4095] }));
    const notes: string[] = [];
    const fresh = await characterizeDevice({ ep: 'cpu', budgetS: 1, outFile: file, grid: sweepGrid().slice(0, 1), onProgress: (e) => e.note && notes.push(e.note) });
    expect(notes).toContain(`starting over: ${file} was measured on CPU 4095, this sweep runs on every CPU (--cpus)`);
    expect(fresh.cpus).toBeUndefined();
  }, 30_000);

  it('starts over, and says which, when the samples lack a feature this version fits', async () => {
    const grid = sweepGrid().slice(0, 2);
    const file = path.join(folder, 'older-features.json');
    const profile = await characterizeDevice({ ep: 'cpu', budgetS: 10, outFile: file, grid });
    const conv = profile.samples.find((s) => s.layerType === 'conv');
    expect(conv?.features.im2colElements).toBeGreaterThanOrEqual(0);
    delete conv!.features.im2colElements;
    writeFileSync(file, JSON.stringify(profile));
    const notes: string[] = [];
    const fresh = await characterizeDevice({ ep: 'cpu', budgetS: 10, outFile: file, grid, onProgress: (e) => e.note && notes.push(e.note) });
    expect(notes.some((note) => /starting over: .* lack features this version fits \(conv: im2colElements\)/.test(note))).toBe(true);
    expect(fresh.samples.every((s) => s.layerType !== 'conv' || 'im2colElements' in s.features)).toBe(true);
  }, 30_000);
});

describe('readDeviceProfile', () => {
  it('reports each problem in one line', async () => {
    const file = path.join(folder, 'bad.json');
    writeFileSync(file, '{ nope');
    await expect(readDeviceProfile(file)).rejects.toThrow(/^.*bad\.json: not JSON \([^\n]*\)$/);
    writeFileSync(file, JSON.stringify({ kind: 'latency-profile' }));
    await expect(readDeviceProfile(file)).rejects.toThrow(new DeviceProfileError(`${file}: not a device profile (kind is "latency-profile")`));
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), samples: [{ layerType: 'conv', config: 'x', features: {}, ms: -1 }] }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/sample 0 \("x"\) has no valid ms/);
    await expect(readDeviceProfile(path.join(folder, 'missing.json'))).rejects.toThrow(/missing\.json: no such file/);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), nchwcLayout: { blockSize: 0 } }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"nchwcLayout" must be null or have a whole blockSize and channelAlignment of at least 1/);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), loneKernelExcessMs: -0.001 }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"loneKernelExcessMs" must be a non-negative number/);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), contextFactors: { conv: { factor: 0.5, sizeFeature: 'macs', upTo: 1e6 } } }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"contextFactors" must give each layer type a factor from 1 to 2.5, a sizeFeature and an upTo size/);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), cpus: [0, -1] }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"cpus" must be a list of CPU numbers/);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), contextFactorsAtAll: { depthwiseConv: { factor: 3, sizeFeature: 'macs', upTo: 1e6 } } }));
    await expect(readDeviceProfile(file)).rejects.toThrow(/"contextFactorsAtAll" must give each layer type a factor from 1 to 2.5, a sizeFeature and an upTo size/);
    for (const contextTimes of [{ disabled: [[0.1, 'x']] }, { fast: [[0.1]] }, { all: [0.1] }]) {
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(outFile, 'utf8')), contextTimes }));
      await expect(readDeviceProfile(file)).rejects.toThrow(/"contextTimes" must give 'disabled' and 'all' lists of each calibration network's layer times in ms/);
    }
  });
});
