// split-data on real zoo models: the problem the panel builds from a model view equals
// the one app/engine.ts builds from the analysis (so the stars match `neurosurgeon plan`),
// measured profiles replace estimates, and the stars are planCuts' best cuts.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { buildPartitionProblem, estimateLatencies } from '../../app/engine.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { buildCutTable, planCuts } from '../../app/partition/cuts.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import { modelViewOf } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { encodingsForCut } from '../../app/partition/wire-encoding.js';
import { analyzeWhatIf, crossingEncodables, cutDetails, cutLabel, DEFAULT_WHAT_IF, planOptionsFor, splitProblemFor, starLabel, whatIfForPreset, whatIfOfImported } from './split-data.js';

function load(id: string) {
  const model = readOnnxModel(buildZooModel(id, { seed: 3 }));
  const analysis = analyzeModel(model);
  const view = modelViewOf(model, analysis, { id: `${id}-id`, fileName: `${id}.onnx`, fileBytes: model.byteLength });
  return { analysis, view };
}

describe('split-data', () => {
  for (const id of ['alexnet', 'resnet18', 'transformer']) {
    it(`builds the same partition problem as app/engine.ts for ${id}`, () => {
      const { analysis, view } = load(id);
      const fromEngine = buildPartitionProblem(analysis, estimateLatencies(analysis));
      const split = splitProblemFor(view, null, null);
      expect(split.localSource).toBe('estimated');
      expect(split.problem.nodes).toEqual(fromEngine.nodes);
      expect(split.problem.tensors).toEqual(fromEngine.tensors);
    });
  }

  it('stars the cut planCuts picks, for every preset and both objectives', () => {
    const { analysis, view } = load('alexnet');
    const table = buildCutTable(buildPartitionProblem(analysis, estimateLatencies(analysis)));
    const split = splitProblemFor(view, null, null);
    const bestLatencyCuts = new Set<number>();
    for (const preset of ['wifi', 'lte', '3g', '5g'] as const) {
      const whatIf = whatIfForPreset(preset, { serverLoad: 1, objective: 'latency' });
      const expected = planCuts(table, defaultPlanOptions(preset));
      const shown = analyzeWhatIf(split, whatIf);
      expect(shown.bestLatency).toBe(expected.best.latency);
      expect(shown.bestEnergy).toBe(expected.best.energy);
      expect(shown.costs[shown.bestLatency].totalMs).toBeCloseTo(expected.cuts[expected.best.latency].totalMs, 9);
      bestLatencyCuts.add(shown.bestLatency);
    }
    // The presets are far enough apart that the star moves at least once.
    expect(bestLatencyCuts.size).toBeGreaterThan(1);
  });

  it('keeps the radio model of the last preset for a custom link', () => {
    const custom = { ...whatIfForPreset('3g', { serverLoad: 2, objective: 'energy' }), preset: 'custom' as const, uplinkMbps: 3 };
    const options = planOptionsFor(custom);
    expect(options.radio).toEqual(defaultPlanOptions('3g').radio);
    expect(options.network.uplinkMbps).toBe(3);
    expect(options.serverLoad).toBe(2);
    expect(planOptionsFor(DEFAULT_WHAT_IF).radio).toEqual(defaultPlanOptions('wifi').radio);
  });

  it('charges a 3.9 ms cloud-only run over a loopback "Measured" link a handful of mJ, not joules', () => {
    // As in the studio's sweep test: LeNet, the live link to a local executor measured at
    // gigabits with a few ms of RTT, energy with the last preset's radio (Wi-Fi). It used to
    // charge the RTT halves at 283.17 mW/Mbps × 3,000 Mbps: about 3.3 J for 3.9 ms (850 W).
    const { view } = load('lenet');
    const split = splitProblemFor(view, null, null);
    const link = { ...DEFAULT_WHAT_IF, preset: 'measured' as const, uplinkMbps: 3000, downlinkMbps: 3000, objective: 'energy' as const };
    const rttMs = 3.9 - analyzeWhatIf(split, { ...link, rttMs: 0 }).costs[0].totalMs;
    expect(rttMs).toBeGreaterThan(3);
    const cloudOnly = analyzeWhatIf(split, { ...link, rttMs }).costs[0];
    expect(cloudOnly.totalMs).toBeCloseTo(3.9, 9);
    // Wi-Fi: alpha × bits + beta × transfer time while bytes move, then tail 119.3 mW + SoC
    // idle 300 mW while waiting for the RTT and the server.
    const upKilobits = (cloudOnly.uploadBytes * 8) / 1000;
    const downKilobits = (cloudOnly.downloadBytes * 8) / 1000;
    const byHand =
      (283.17 * upKilobits + (132.86 * upKilobits) / 3000 + 137.01 * downKilobits + (132.86 * downKilobits) / 3000 + (119.3 + 300) * (rttMs + cloudOnly.remoteMs)) / 1000;
    expect(cloudOnly.energyMJ).toBeCloseTo(byHand, 9);
    expect(cloudOnly.energyMJ).toBeGreaterThan(1);
    expect(cloudOnly.energyMJ).toBeLessThan(15);
  });

  it('uses measured layer times where a profile has them', () => {
    const { view } = load('lenet');
    const timings = view.nodes.map((node) => ({ index: node.index, name: node.name, op: node.opType, provider: null, medianMs: 1 + node.index, p10Ms: 1, p90Ms: 1, outputBytes: null }));
    const profile = { kind: 'latency-profile', layers: timings } as unknown as LatencyProfile;
    const split = splitProblemFor(view, profile, null);
    expect(split.localSource).toBe('measured');
    expect(split.remoteSource).toBe('estimated');
    expect(split.problem.nodes.map((node) => node.localMs)).toEqual(view.nodes.map((node) => 1 + node.index));
    // Memoised: the same inputs give the same problem object (its CutTable is cached on it).
    expect(splitProblemFor(view, profile, null)).toBe(split);
  });

  it('labels cuts and names the tensors a cut sends', () => {
    const { view } = load('resnet18');
    const split = splitProblemFor(view, null, null);
    const analysis = analyzeWhatIf(split, DEFAULT_WHAT_IF);
    expect(cutLabel(view, 0)).toBe('cut 0 (cloud-only)');
    expect(cutLabel(view, view.nodes.length)).toBe(`cut ${view.nodes.length} (device-only)`);
    expect(starLabel(view, 'latency', 3)).toBe(`best split for latency: cut 3 (after ${view.nodes[2].name})`);
    expect(analysis.dag).toBeDefined();
    // Inside a residual block two tensors cross: the block input (skip) and the branch.
    const addIndex = view.nodes.findIndex((node) => node.opType === 'Add');
    const details = cutDetails(view, split, analysis, addIndex);
    expect(details?.uploaded.length).toBe(2);
    expect(details?.uploaded.reduce((sum, tensor) => sum + tensor.bytes, 0)).toBe(analysis.costs[addIndex].uploadBytes);
    expect(cutDetails(view, split, analysis, view.nodes.length)?.uploaded).toEqual([]);
    expect(cutDetails(view, split, analysis, view.nodes.length + 1)).toBeNull();
  });

  it('describes the DAG min-cut partition like a cut: its cost, layers on each side and the tensors it sends', () => {
    const { view } = load('resnet18');
    const split = splitProblemFor(view, null, null);
    const analysis = analyzeWhatIf(split, whatIfForPreset('3g', DEFAULT_WHAT_IF));
    const dag = cutDetails(view, split, analysis, 'dag');
    expect(dag?.cost).toBe(analysis.dag?.cost);
    expect(dag?.localNodes).toBe(analysis.dag?.localNodes.length);
    expect((dag?.localNodes ?? 0) + (dag?.remoteNodes ?? 0)).toBe(view.nodes.length);
    expect(dag?.uploaded.reduce((sum, tensor) => sum + tensor.bytes, 0)).toBe(analysis.dag?.cost.uploadBytes);
    // A chain has no DAG partition to show.
    const lenet = load('lenet').view;
    const chain = splitProblemFor(lenet, null, null);
    expect(cutDetails(lenet, chain, analyzeWhatIf(chain, DEFAULT_WHAT_IF), 'dag')).toBeNull();
  });

  it('restores a named preset from an imported config only when its numbers are that preset\'s', () => {
    const lte = { modelId: 'm', cut: 4, network: { name: 'lte', uplinkMbps: 5.85, downlinkMbps: 20, rttMs: 50 }, serverLoad: 2, objective: 'energy' as const };
    const restored = whatIfOfImported(lte, DEFAULT_WHAT_IF);
    expect(restored).toEqual({ preset: 'lte', radioPreset: 'lte', uplinkMbps: 5.85, downlinkMbps: 20, rttMs: 50, serverLoad: 2, objective: 'energy' });
    const edited = whatIfOfImported({ ...lte, network: { ...lte.network, uplinkMbps: 3 } }, DEFAULT_WHAT_IF);
    expect(edited.preset).toBe('custom');
    expect(edited.radioPreset).toBe('lte');
    const measured = whatIfOfImported({ ...lte, network: { name: 'measured', uplinkMbps: 80, downlinkMbps: 90, rttMs: 2 } }, whatIfForPreset('3g', DEFAULT_WHAT_IF));
    expect(measured.preset).toBe('custom');
    expect(measured.radioPreset).toBe('3g');
  });

  it('offers the export the encodings each cut allows: pixels and JPEG for the image input, int8 for activations, fp32 where nothing crosses', () => {
    const { view } = load('lenet');
    const { problem } = splitProblemFor(view, null, null);
    const atInput = crossingEncodables(view, problem, 0);
    expect(atInput).toEqual([{ name: 'input', elementType: 'float32', dims: [1, 1, 28, 28], isModelInput: true }]);
    expect(encodingsForCut(atInput)).toContain('jpeg');
    const middle = encodingsForCut(crossingEncodables(view, problem, 3));
    expect(middle).toContain('int8');
    expect(middle).not.toContain('uint8');
    expect(encodingsForCut(crossingEncodables(view, problem, problem.nodes.length))).toEqual(['fp32']);
  });
});
