// LayerCharts' rows and brush window on real zoo models and profiles shaped the way
// main/profiling/profiler.ts writes them.
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../../app/analysis/analyze.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { modelViewOf, type ModelView } from '../../app/studio/model-view.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { chartTotals, clampWindow, defaultComputeMetric, initialWindow, layerRows, logByteAxis, predictionErrorSummary, timingsFor, windowShowing, WINDOW_SIZE, WINDOW_THRESHOLD, layerAxisLabel } from './chart-data.js';

function zooView(id: string): ModelView {
  const bytes = buildZooModel(id, { seed: 1 });
  const model = readOnnxModel(bytes);
  return modelViewOf(model, analyzeModel(model), { id, fileName: `${id}.onnx`, fileBytes: bytes.byteLength });
}

function profileOf(view: ModelView, msOf: (index: number) => number, layers = view.nodes): LatencyProfile {
  return {
    schemaVersion: 2,
    kind: 'latency-profile',
    model: { file: view.fileName, sha256: view.id, nodes: view.nodes.length },
    device: { hostname: 'test', os: 'linux', arch: 'x64', cpu: 'cpu', cpuCores: 2, memoryBytes: 1, gpu: null },
    ep: 'cpu',
    predicted: false,
    graphOptimization: 'disabled',
    threads: 1,
    wholeModelSpread: null,
    runs: 5,
    warmup: 1,
    wholeModelMs: 1,
    sumOfMediansMs: 1,
    date: '2025-01-01T00:00:00Z',
    layers: layers.map((node, position) => ({
      index: position,
      name: node.name,
      op: node.opType,
      provider: 'CPUExecutionProvider',
      medianMs: msOf(node.index),
      p10Ms: msOf(node.index) * 0.9,
      p90Ms: msOf(node.index) * 1.1,
      outputBytes: node.outputBytes
    }))
  };
}

const alexnet = zooView('alexnet');

describe('layerRows', () => {
  it('gives one row per layer with MACs and output size, and no latency before profiling', () => {
    const rows = layerRows(alexnet, null, null);
    expect(rows.map((r) => r.index)).toEqual(alexnet.nodes.map((n) => n.index));
    expect(rows[0]).toMatchObject({ op: 'Conv', macs: 70_276_800, outputBytes: 774_400, outputBytesLog: 774_400, localMs: null, remoteMs: null });
    expect(defaultComputeMetric(null, null)).toBe('macs');
  });

  it('puts local and remote medians on their layers', () => {
    const local = profileOf(alexnet, (i) => i + 1);
    const remote = profileOf(alexnet, (i) => (i + 1) / 10);
    const rows = layerRows(alexnet, local, remote);
    expect(rows[3].localMs).toBe(4);
    expect(rows[3].remoteMs).toBeCloseTo(0.4);
    expect(rows[3].local?.p90Ms).toBeCloseTo(4.4);
    expect(defaultComputeMetric(local, null)).toBe('latency');
    const totals = chartTotals(rows);
    expect(totals.localMs).toBe((alexnet.nodes.length * (alexnet.nodes.length + 1)) / 2);
    expect(totals.macs).toBe(alexnet.totals.macs);
    expect(totals.largestOutput?.index).toBe(0);
  });

  it('matches timings by name when the profile lists layers in another order, and leaves missing ones empty', () => {
    const reordered = [...alexnet.nodes].reverse().slice(1); // last layer missing
    const profile = profileOf(alexnet, (i) => 100 + i, reordered);
    const timings = timingsFor(alexnet, profile);
    expect(timings[0]?.medianMs).toBe(100);
    expect(timings[5]?.name).toBe(alexnet.nodes[5].name);
    expect(timings[alexnet.nodes.length - 1]).toBeNull();
  });

  it('keeps zero and unknown sizes off a log axis', () => {
    const view: ModelView = { ...alexnet, nodes: alexnet.nodes.map((n, i) => ({ ...n, outputBytes: i === 0 ? 0 : i === 1 ? null : n.outputBytes })) };
    const rows = layerRows(view, null, null);
    expect(rows[0].outputBytesLog).toBeNull();
    expect(rows[1].outputBytesLog).toBeNull();
    expect(rows[2].outputBytesLog).toBe(rows[2].outputBytes);
  });
});

describe('layerAxisLabel', () => {
  it('shortens PyTorch export names to the module the layer belongs to', () => {
    expect(layerAxisLabel('/features/features.0/Conv', 'Conv')).toBe('features.0');
    expect(layerAxisLabel('/encoder/layer.0/attention/self/query/MatMul', 'MatMul')).toBe('self/query');
    expect(layerAxisLabel('/encoder/ln/Add_1', 'Add')).toBe('encoder/ln');
    expect(layerAxisLabel('/Flatten', 'Flatten')).toBe('Flatten');
    expect(layerAxisLabel('Unsqueeze_8', 'Unsqueeze')).toBe('Unsqueeze_8');
    expect(layerAxisLabel('fc1', 'Gemm')).toBe('fc1');
    expect(layerAxisLabel('', 'Relu')).toBe('Relu');
  });
});

describe('brush window', () => {
  it('shows every layer of a small model and a window of a large one', () => {
    expect(initialWindow(19)).toEqual({ start: 0, end: 18 });
    expect(initialWindow(WINDOW_THRESHOLD)).toEqual({ start: 0, end: WINDOW_THRESHOLD - 1 });
    expect(initialWindow(1026)).toEqual({ start: 0, end: WINDOW_SIZE - 1 });
    expect(initialWindow(0)).toEqual({ start: 0, end: 0 });
  });

  it('moves just enough to show a selected layer, keeping its size', () => {
    const window = initialWindow(1026);
    expect(windowShowing(window, 50, 1026)).toBe(window);
    const later = windowShowing(window, 500, 1026);
    expect(later.end - later.start).toBe(WINDOW_SIZE - 1);
    expect(later.end).toBe(510); // ten layers of context after it
    const back = windowShowing(later, 3, 1026);
    expect(back).toEqual({ start: 0, end: WINDOW_SIZE - 1 });
    expect(windowShowing(window, 1025, 1026)).toEqual({ start: 1026 - WINDOW_SIZE, end: 1025 });
  });

  it('puts log ticks at powers of 32 bytes around the data', () => {
    expect(logByteAxis([4000, 774_400, null, 0])).toEqual({ domain: [1024, 1024 ** 2], ticks: [1024, 32 * 1024, 1024 ** 2] });
    expect(logByteAxis([1024])).toEqual({ domain: [1024, 32 * 1024], ticks: [1024, 32 * 1024] });
    expect(logByteAxis([null, 0])).toEqual({ domain: [1, 1024], ticks: [1, 32, 1024] });
  });

  it('clamps what a brush reports', () => {
    expect(clampWindow({ start: -5, end: 2000 }, 1026)).toEqual({ start: 0, end: 1025 });
    expect(clampWindow({ start: 40, end: 10 }, 1026)).toEqual({ start: 10, end: 40 });
  });
});

describe('predictionErrorSummary', () => {
  const base = { kind: 'latency-profile', layers: [] } as unknown as LatencyProfile;
  it('says each predicted type’s share and expected error, and nothing for a measured profile', () => {
    const predicted = {
      ...base,
      predicted: true,
      predictionErrors: [
        { layerType: 'conv', layers: 10, predictedMs: 6, share: 0.6, medianError: 0.08, meanError: 0.1, samples: 300 },
        { layerType: 'roofline', layers: 2, predictedMs: 1, share: 0.1, medianError: null, meanError: null, samples: null }
      ]
    } as LatencyProfile;
    expect(predictionErrorSummary(predicted)).toBe('expected error by layer type: conv 60 % of time ±8 % · roofline 10 % of time (no error known)');
    expect(predictionErrorSummary({ ...predicted, predicted: false })).toBeNull();
    expect(predictionErrorSummary({ ...predicted, predictionErrors: undefined })).toBeNull();
  });
});
