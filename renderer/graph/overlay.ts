// Per-node data as colour on the graph, as Model Explorer's node data overlays show it:
// each layer (and each collapsed group, with its summed value) is filled from a sequential
// colour ramp by its local latency, remote latency, output bytes or MACs, and a legend
// shows the ramp with its scale. Values of such models span orders of magnitude (a 1×1
// conv next to a 7×7 one), so the scale is logarithmic when the largest value is more than
// 20× the smallest, linear otherwise. Pure: the graph computes the per-item values
// (overlayValues) and draws with the colours (colourScale).
import type { ModelView } from '../../app/studio/model-view.js';
import { groupSums, type ModuleTree } from '../../app/studio/module-tree.js';
import { formatBytes, formatCount, formatMs } from '../format.js';

export type OverlayMetric = 'op' | 'localMs' | 'remoteMs' | 'outputBytes' | 'macs';

export const OVERLAYS: ReadonlyArray<{ metric: OverlayMetric; label: string }> = [
  { metric: 'op', label: 'Op type' },
  { metric: 'localMs', label: 'Device latency' },
  { metric: 'remoteMs', label: 'Server latency' },
  { metric: 'outputBytes', label: 'Output bytes' },
  { metric: 'macs', label: 'MACs' }
];

export function isOverlayMetric(value: string): value is OverlayMetric {
  return OVERLAYS.some((overlay) => overlay.metric === value);
}

/** A value as the legend and the boxes print it. */
export function formatOverlayValue(metric: OverlayMetric, value: number): string {
  if (metric === 'localMs' || metric === 'remoteMs') return formatMs(value);
  if (metric === 'outputBytes') return formatBytes(value);
  if (metric === 'macs') return `${formatCount(value)} MACs`;
  return String(value);
}

/** Viridis, sampled: dark to light, perceptually even, readable by colour-blind people, and visible on light and dark themes. */
export const RAMP = ['#440154', '#46327e', '#365c8d', '#277f8e', '#1fa187', '#4ac16d', '#a0da39', '#fde725'] as const;

/** How many distinct colours the ramp is cut into (boxes of one colour are filled in one call). */
export const RAMP_STEPS = 24;

export interface ColourScale {
  kind: 'log' | 'linear';
  min: number;
  max: number;
  /** Position 0..1 of a value on the ramp; null for no value (null, zero on a log scale). */
  position(value: number | null): number | null;
  /** The quantised ramp colour of a value, null when it has none. */
  colour(value: number | null): string | null;
  /** A few round values with their positions, for the legend. */
  ticks: Array<{ value: number; position: number }>;
}

function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex([r, g, b]: [number, number, number]): string {
  return `#${[r, g, b].map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** The ramp's colour at t in 0..1, interpolated between its stops. */
export function rampColour(t: number): string {
  const clamped = Math.min(1, Math.max(0, t));
  const scaled = clamped * (RAMP.length - 1);
  const low = Math.min(RAMP.length - 2, Math.floor(scaled));
  const f = scaled - low;
  const [a, b] = [hexToRgb(RAMP[low]), hexToRgb(RAMP[low + 1])];
  return rgbToHex([a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]);
}

const QUANTISED = Array.from({ length: RAMP_STEPS }, (_, i) => rampColour(i / (RAMP_STEPS - 1)));

/** Text colour that reads on a fill: dark on the light end of the ramp, white on the dark end (WCAG relative luminance). */
export function textColourOn(fill: string): string {
  const [r, g, b] = hexToRgb(fill).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return luminance > 0.22 ? '#1d2127' : '#ffffff';
}

/** The scale for a set of values (non-finite and negative ones ignored); null when no value is above zero. */
export function colourScale(values: Iterable<number | null>): ColourScale | null {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value === null || !Number.isFinite(value) || value <= 0) continue;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  if (!Number.isFinite(max)) return null;
  const kind: ColourScale['kind'] = max / min > 20 ? 'log' : 'linear';
  const position =
    kind === 'log'
      ? (value: number | null) => (value === null || !(value > 0) ? null : Math.min(1, Math.max(0, Math.log(value / min) / Math.log(max / min))))
      : (value: number | null) => (value === null || !Number.isFinite(value) || value < 0 ? null : max === min ? 1 : Math.min(1, Math.max(0, (value - min) / (max - min))));
  const colour = (value: number | null) => {
    const t = position(value);
    return t === null ? null : QUANTISED[Math.round(t * (RAMP_STEPS - 1))];
  };
  return { kind, min, max, position, colour, ticks: ticksFor(kind, min, max, position) };
}

/** Round values across the scale: the ends, and powers of ten away from them on a log scale (the middle on a linear one), so labels do not collide. */
function ticksFor(kind: ColourScale['kind'], min: number, max: number, position: (value: number) => number | null): ColourScale['ticks'] {
  if (kind === 'linear') return [min, (min + max) / 2, max].map((value) => ({ value, position: position(value) ?? 0 }));
  const ticks: ColourScale['ticks'] = [{ value: min, position: 0 }];
  const first = Math.ceil(Math.log10(min));
  const last = Math.floor(Math.log10(max));
  const stride = Math.max(1, Math.ceil((last - first + 1) / 3));
  for (let e = first; e <= last; e += stride) {
    const value = 10 ** e;
    const p = position(value) ?? 0;
    if (p > 0.24 && p < 0.76) ticks.push({ value, position: p });
  }
  ticks.push({ value: max, position: 1 });
  return ticks;
}

/** What the overlays read per layer: latencies per side (measured or estimated) and the model's own facts. */
export interface LayerValues {
  localMs: readonly number[];
  remoteMs: readonly number[];
}

/**
 * Per item id (graph-spec.ts ids: layers, then inputs and outputs, then groups) the value
 * of a metric: a layer's own, a group's sum over its layers — for output bytes, the bytes
 * of the tensors that leave the group (what a cut after it would send). Inputs and
 * outputs have none (NaN).
 */
export function overlayValues(metric: OverlayMetric, model: ModelView, tree: ModuleTree, layers: LayerValues | null, itemCount: number, groupBase: number): Float64Array {
  const values = new Float64Array(itemCount).fill(Number.NaN);
  if (metric === 'op') return values;
  const perLayer: Array<number | null> =
    metric === 'localMs' ? [...(layers?.localMs ?? [])] : metric === 'remoteMs' ? [...(layers?.remoteMs ?? [])] : metric === 'macs' ? model.nodes.map((n) => n.macs) : model.nodes.map((n) => n.outputBytes);
  for (let i = 0; i < model.nodes.length; i++) values[i] = perLayer[i] ?? Number.NaN;
  const sums = metric === 'outputBytes' ? groupOutputBytes(model, tree) : groupSums(tree, perLayer);
  for (let g = 0; g < tree.groups.length; g++) values[groupBase + g] = sums[g];
  return values;
}

/** Per group, the bytes of the distinct tensors its layers produce and a layer after it (or the graph's output) reads. */
export function groupOutputBytes(model: ModelView, tree: ModuleTree): Float64Array {
  const lastReader = new Map<string, number>();
  for (const node of model.nodes) for (const input of node.inputs) lastReader.set(input.name, Math.max(lastReader.get(input.name) ?? -1, node.index));
  for (const output of model.outputs) lastReader.set(output.name, Number.POSITIVE_INFINITY);
  const sums = new Float64Array(tree.groups.length);
  for (const group of tree.groups) {
    let bytes = 0;
    for (let i = group.first; i <= group.last; i++) {
      for (const output of model.nodes[i].outputs) if ((lastReader.get(output.name) ?? -1) > group.last) bytes += output.bytes ?? 0;
    }
    sums[group.id] = bytes;
  }
  return sums;
}
