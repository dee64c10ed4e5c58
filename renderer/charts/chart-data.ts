// Pure data for LayerCharts (the paper's Figure 5): one row per layer with its compute
// (MACs; local and remote latency once profiled) and its output size, plus the brush
// window that keeps a 1,000-layer model readable without hiding any layer.
import type { LatencyProfile, LayerTiming } from '../../app/profiling/types.js';
import type { ModelView } from '../../app/studio/model-view.js';

export interface LayerRow {
  index: number;
  name: string;
  /** A short form of the name for the layer axis ("features.0", "self/query"). */
  label: string;
  op: string;
  macs: number | null;
  outputBytes: number | null;
  /** Output bytes for a log axis: null where the size is unknown or zero (log(0) has no place). */
  outputBytesLog: number | null;
  localMs: number | null;
  remoteMs: number | null;
  local: LayerTiming | null;
  remote: LayerTiming | null;
}

/**
 * A profile's timing for each node of the model: by index where the names agree (the
 * usual case: the profile was made from this very file), else by name, else none.
 */
export function timingsFor(model: ModelView, profile: LatencyProfile | null): (LayerTiming | null)[] {
  if (!profile) return model.nodes.map(() => null);
  const byName = new Map(profile.layers.map((layer) => [layer.name, layer]));
  return model.nodes.map((node) => {
    const atIndex = profile.layers[node.index];
    if (atIndex && atIndex.index === node.index && atIndex.name === node.name) return atIndex;
    return byName.get(node.name) ?? null;
  });
}

/**
 * The layer axis' label for a node: its name without the op type PyTorch appends and
 * without the module path above the last two levels, where those repeat the last one:
 * "/features/features.0/Conv" → "features.0"; "/encoder/layer.0/attention/self/query/MatMul" → "self/query".
 */
export function layerAxisLabel(name: string, opType: string): string {
  const segments = name.split('/').filter((segment) => segment !== '');
  if (segments.length > 1 && segments[segments.length - 1].replace(/_\d+$/, '') === opType) segments.pop();
  if (segments.length === 0) return name || opType;
  const last = segments[segments.length - 1];
  const parent = segments.length > 1 ? segments[segments.length - 2] : null;
  return parent !== null && !last.startsWith(parent) ? `${parent}/${last}` : last;
}

export function layerRows(model: ModelView, local: LatencyProfile | null, remote: LatencyProfile | null): LayerRow[] {
  const localTimings = timingsFor(model, local);
  const remoteTimings = timingsFor(model, remote);
  return model.nodes.map((node) => ({
    index: node.index,
    name: node.name,
    label: layerAxisLabel(node.name, node.opType),
    op: node.opType,
    macs: node.macs,
    outputBytes: node.outputBytes,
    outputBytesLog: node.outputBytes !== null && node.outputBytes > 0 ? node.outputBytes : null,
    localMs: localTimings[node.index]?.medianMs ?? null,
    remoteMs: remoteTimings[node.index]?.medianMs ?? null,
    local: localTimings[node.index],
    remote: remoteTimings[node.index]
  }));
}

export interface ChartTotals {
  macs: number;
  localMs: number | null;
  remoteMs: number | null;
  largestOutput: { index: number; bytes: number } | null;
}

export function chartTotals(rows: LayerRow[]): ChartTotals {
  let macs = 0;
  let localMs: number | null = null;
  let remoteMs: number | null = null;
  let largestOutput: ChartTotals['largestOutput'] = null;
  for (const row of rows) {
    macs += row.macs ?? 0;
    if (row.localMs !== null) localMs = (localMs ?? 0) + row.localMs;
    if (row.remoteMs !== null) remoteMs = (remoteMs ?? 0) + row.remoteMs;
    if (row.outputBytes !== null && (largestOutput === null || row.outputBytes > largestOutput.bytes)) largestOutput = { index: row.index, bytes: row.outputBytes };
  }
  return { macs, localMs, remoteMs, largestOutput };
}

/** A log axis for byte sizes: ticks at powers of 32 (1 B, 32 B, 1 KiB, 32 KiB, 1 MiB ...) around the values. */
export function logByteAxis(values: readonly (number | null)[]): { domain: [number, number]; ticks: number[] } {
  let min = Infinity;
  let max = 0;
  for (const value of values) {
    if (value === null || !(value > 0)) continue;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  if (max === 0) return { domain: [1, 1024], ticks: [1, 32, 1024] };
  const low = 32 ** Math.floor(Math.log(min) / Math.log(32) + 1e-9);
  let high = 32 ** Math.ceil(Math.log(max) / Math.log(32) - 1e-9);
  if (high <= low) high = low * 32;
  const ticks: number[] = [];
  for (let tick = low; tick <= high; tick *= 32) ticks.push(tick);
  return { domain: [low, high], ticks };
}

/** More layers than this and the charts show a brush window of WINDOW_SIZE of them. */
export const WINDOW_THRESHOLD = 200;
/** Layers in the brush window. */
export const WINDOW_SIZE = 100;

/** Inclusive range of row positions the charts show. */
export interface LayerWindow {
  start: number;
  end: number;
}

/** All rows when they fit (up to WINDOW_THRESHOLD); otherwise the first WINDOW_SIZE. */
export function initialWindow(rowCount: number): LayerWindow {
  const size = rowCount > WINDOW_THRESHOLD ? WINDOW_SIZE : rowCount;
  return { start: 0, end: Math.max(0, size - 1) };
}

/** The window, moved as little as possible so that it shows `position` (kept the same size). */
export function windowShowing(window: LayerWindow, position: number, rowCount: number): LayerWindow {
  if (position < 0 || position >= rowCount || (position >= window.start && position <= window.end)) return window;
  const size = window.end - window.start + 1;
  const margin = Math.min(Math.floor(size / 4), 10);
  const start = position < window.start ? Math.max(0, position - margin) : Math.min(rowCount - size, position + margin - size + 1);
  return { start: Math.max(0, start), end: Math.max(0, start) + size - 1 };
}

/** A clamped, ordered window for rowCount rows (what a brush reports may be out of range or reversed). */
export function clampWindow(window: LayerWindow, rowCount: number): LayerWindow {
  if (rowCount === 0) return { start: 0, end: 0 };
  const start = Math.max(0, Math.min(rowCount - 1, Math.min(window.start, window.end)));
  const end = Math.max(start, Math.min(rowCount - 1, Math.max(window.start, window.end)));
  return { start, end };
}

export type ComputeMetric = 'latency' | 'macs';

/** Latency once either side is profiled, MACs before. */
export function defaultComputeMetric(local: LatencyProfile | null, remote: LatencyProfile | null): ComputeMetric {
  return local || remote ? 'latency' : 'macs';
}

/**
 * One line for a predicted profile's expected error: its layer types by predicted time
 * (at most `limit`), each with its share and the device profile's cross-validated median
 * error ("conv 62 % ±8 % · depthwiseConv 20 % ±12 %"); null for a measured profile or
 * one predicted without per-type errors.
 */
export function predictionErrorSummary(profile: LatencyProfile, limit = 5): string | null {
  if (!profile.predicted || !profile.predictionErrors || profile.predictionErrors.length === 0) return null;
  const pct = (x: number): string => `${Math.round(x * 100)} %`;
  const parts = profile.predictionErrors.slice(0, limit).map((e) => `${e.layerType} ${pct(e.share)} of time ${e.medianError === null ? '(no error known)' : `±${pct(e.medianError)}`}`);
  const rest = profile.predictionErrors.length - limit;
  return `expected error by layer type: ${parts.join(' · ')}${rest > 0 ? ` · ${rest} more` : ''}`;
}
