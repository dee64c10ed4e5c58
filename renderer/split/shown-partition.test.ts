// The partition the graph shows, decided once for the graph and the split panel: the best
// cut for the objective, a pinned cut, the DAG min cut or none; an unpinned cut or a DAG
// choice on a chain falls back to the best cut; its crossings are app/partition's.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import { crossingTensorsOf } from '../../app/partition/cuts.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf, type ModelView } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeWhatIf, splitProblemFor, whatIfForPreset } from './split-data.js';
import { crossingsOf, resolveChoice, shownPartitionOf } from './shown-partition.js';

function viewOf(id: string): ModelView {
  const bytes = buildZooModel(id, { seed: 1 });
  const model = readOnnxModel(bytes);
  return modelViewOf(model, analyzeModel(model), { id, fileName: `${id}.onnx`, fileBytes: bytes.byteLength });
}

describe('shownPartitionOf', () => {
  const view = viewOf('alexnet');
  const split = splitProblemFor(view, null, null);
  const whatIf = whatIfForPreset('lte', { serverLoad: 1, objective: 'latency' });
  const analysis = analyzeWhatIf(split, whatIf);

  it('shows the best cut for the objective by default, with its crossings and cost', () => {
    const shown = shownPartitionOf(view, split, analysis, 'latency', { kind: 'best' }, []);
    expect(shown?.cut).toBe(analysis.bestLatency);
    expect(shown?.title).toBe('Best for latency');
    expect(shown?.shortLabel).toBe(`cut ${analysis.bestLatency}`);
    expect(shown?.localCount).toBe(analysis.bestLatency);
    expect(shown?.cost).toBe(analysis.costs[analysis.bestLatency]);
    expect(shown?.uploadBytes).toBe(analysis.costs[analysis.bestLatency].uploadBytes);
    const energy = shownPartitionOf(view, split, analysis, 'energy', { kind: 'best' }, []);
    expect(energy?.cut).toBe(analysis.bestEnergy);
  });

  it('shows a pinned cut while it is pinned, else the best', () => {
    const pinned = shownPartitionOf(view, split, analysis, 'latency', { kind: 'pinned', cut: 5 }, [5, 9]);
    expect(pinned?.cut).toBe(5);
    expect(pinned?.title).toBe('Pinned cut');
    expect(Array.from(pinned?.isLocal ?? [])).toEqual(view.nodes.map((_, i) => (i < 5 ? 1 : 0)));
    expect(pinned?.uploads.map((u) => u.tensor)).toEqual(crossingTensorsOf(split.problem, pinned?.isLocal ?? new Uint8Array()).uploaded);
    expect(pinned?.uploads[0].consumers).toEqual([5]);
    expect(pinned?.detail).toBe(`cut 5 (after ${view.nodes[4].name})`);
    expect(shownPartitionOf(view, split, analysis, 'latency', { kind: 'pinned', cut: 5 }, [9])?.cut).toBe(analysis.bestLatency);
    expect(shownPartitionOf(view, split, analysis, 'latency', { kind: 'none' }, [])).toBeNull();
  });

  it('falls back to the best cut for a DAG choice on a chain (AlexNet has no DAG partition)', () => {
    expect(analysis.dag).toBeUndefined();
    expect(resolveChoice({ kind: 'dag' }, [], false)).toEqual({ kind: 'best' });
    expect(shownPartitionOf(view, split, analysis, 'latency', { kind: 'dag' }, [])?.cut).toBe(analysis.bestLatency);
  });

  it('shows the DAG min cut of a DAG model, and what goes up and down', () => {
    const resnet = viewOf('resnet18');
    const problem = splitProblemFor(resnet, null, null);
    const slow = analyzeWhatIf(problem, whatIfForPreset('3g', { serverLoad: 1, objective: 'latency' }));
    const dag = shownPartitionOf(resnet, problem, slow, 'latency', { kind: 'dag' }, []);
    expect(dag?.cut).toBeNull();
    expect(dag?.shortLabel).toBe('DAG cut');
    expect(dag?.cost).toBe(slow.dag?.cost);
    expect(dag?.detail).toMatch(/of 49 layers on the device$/);
    // Cloud-only: the input goes up; device-only: nothing crosses.
    const cloud = crossingsOf(problem.problem, new Uint8Array(resnet.nodes.length));
    expect(cloud.uploads.map((u) => u.producer)).toEqual([-1]);
    expect(cloud.downloads.length).toBe(1);
    const device = crossingsOf(problem.problem, new Uint8Array(resnet.nodes.length).fill(1));
    expect(device).toEqual({ uploads: [], downloads: [] });
  });
});
