// From a partition (split/shown-partition.ts) and a layout to what the canvas paints: the
// side of every box (device, server, or both for a collapsed group the cut goes through),
// which drawn edges carry tensors up to the server or results back down, and the labels
// ("pills") with their bytes — one per tensor, on the first edge that carries it, or on the
// group box when the crossing is hidden inside a collapsed group. Also which box stands for
// a layer (itself, or the outermost collapsed group holding it). Pure; GraphView calls it
// when the layout or the partition changes, not per frame.
import type { GraphLayout } from './layout.js';
import type { GraphSpec } from './graph-spec.js';
import type { ShownPartition } from '../split/shown-partition.js';
import { formatBytes } from '../format.js';

export const SIDE_NONE = 0;
export const SIDE_DEVICE = 1;
export const SIDE_SERVER = 2;
/** A collapsed group with layers on both sides. */
export const SIDE_BOTH = 3;

export interface Pill {
  kind: 'up' | 'down' | 'inside';
  /** The layout edge it labels, -1 for a pill on a group box. */
  edge: number;
  /** The group box it labels, -1 for an edge pill. */
  item: number;
  text: string;
  bytes: number;
}

export interface PartitionPaint {
  /** The layout it was computed for: edge indices mean nothing in another. */
  layout: GraphLayout;
  /** Per item id: SIDE_NONE, SIDE_DEVICE, SIDE_SERVER or SIDE_BOTH. */
  side: Uint8Array;
  /** Per item id: the fraction of its layers on the device (1 or 0 for a layer). */
  localFraction: Float32Array;
  /** Per layout edge: 0, 1 (carries an upload), 2 (carries a download). */
  edgeMarks: Uint8Array;
  pills: Pill[];
}

/** Per item id, the id of the box drawn for it: itself when shown, else the outermost collapsed group holding it. */
export function representatives(layout: GraphLayout): Int32Array {
  const expanded = new Set(layout.expanded);
  const reps = new Int32Array(layout.nodes.length);
  for (const node of layout.nodes) {
    let rep = node.id;
    for (let p = node.parent; p >= 0; p = layout.nodes[p].parent) if (!expanded.has(layout.nodes[p].index)) rep = p;
    reps[node.id] = rep;
  }
  return reps;
}

/** Per item id: 1 for a box that is a search match or holds one. */
export function matchMask(layout: GraphLayout, reps: Int32Array, matches: readonly number[]): Uint8Array {
  const mask = new Uint8Array(layout.nodes.length);
  for (const layer of matches) if (layer < reps.length) mask[reps[layer]] = 1;
  return mask;
}

export function partitionPaint(spec: GraphSpec, layout: GraphLayout, reps: Int32Array, partition: ShownPartition): PartitionPaint {
  const count = layout.nodes.length;
  const { isLocal } = partition;
  const layers = spec.layerCount;
  const side = new Uint8Array(count);
  const localFraction = new Float32Array(count);
  // Inputs start on the device and outputs end there.
  for (let id = 0; id < spec.groupBase; id++) {
    const local = id >= layers || isLocal[id] !== 0;
    side[id] = local ? SIDE_DEVICE : SIDE_SERVER;
    localFraction[id] = local ? 1 : 0;
  }
  // Groups: a layer range each (app/studio/module-tree.ts), counted with a prefix sum.
  const prefix = new Int32Array(layers + 1);
  for (let i = 0; i < layers; i++) prefix[i + 1] = prefix[i] + (isLocal[i] !== 0 ? 1 : 0);
  const range = new Map<number, [number, number]>();
  for (let id = 0; id < layers; id++) {
    for (let p = layout.nodes[id].parent; p >= 0; p = layout.nodes[p].parent) {
      const known = range.get(p);
      range.set(p, known ? [Math.min(known[0], id), Math.max(known[1], id)] : [id, id]);
    }
  }
  for (const [group, [first, last]] of range) {
    const local = prefix[last + 1] - prefix[first];
    const size = last - first + 1;
    side[group] = local === size ? SIDE_DEVICE : local === 0 ? SIDE_SERVER : SIDE_BOTH;
    localFraction[group] = local / size;
  }

  const isLocalItem = (id: number) => id >= layers || isLocal[id] !== 0;
  const upBytes = new Map(partition.uploads.map((t) => [t.tensor, t.bytes]));
  const downBytes = new Map(partition.downloads.map((t) => [t.tensor, t.bytes]));
  const edgeMarks = new Uint8Array(layout.edges.length);
  const pills: Pill[] = [];
  const pilled = new Set<string>();
  layout.edges.forEach((edge, index) => {
    let bytes = 0;
    let kind: 'up' | 'down' | null = null;
    for (const e of edge.specEdges) {
      const { from, to, tensor } = spec.edges[e];
      if (isLocalItem(from) === isLocalItem(to)) continue;
      const up = isLocalItem(from);
      kind = up ? 'up' : 'down';
      if (pilled.has(tensor)) continue;
      pilled.add(tensor);
      bytes += (up ? upBytes.get(tensor) : downBytes.get(tensor)) ?? 0;
    }
    if (kind === null) return;
    edgeMarks[index] = kind === 'up' ? 1 : 2;
    if (bytes > 0 || !pills.some((p) => p.edge >= 0)) pills.push({ kind, edge: index, item: -1, text: `${kind === 'up' ? '↑' : '↓'} ${formatBytes(bytes)}`, bytes });
  });

  // Crossings inside a collapsed group: their bytes go on the group's box.
  const inside = new Map<number, number>();
  for (const upload of partition.uploads) {
    if (pilled.has(upload.tensor)) continue;
    // A model input is drawn at the top level, so its crossing edges are always shown.
    const group = upload.producer >= 0 ? reps[upload.producer] : -1;
    if (group < 0 || layout.nodes[group].kind !== 'group') continue;
    inside.set(group, (inside.get(group) ?? 0) + upload.bytes);
  }
  for (const [group, bytes] of inside) pills.push({ kind: 'inside', edge: -1, item: group, text: `↑ ${formatBytes(bytes)} inside`, bytes });
  for (let id = spec.groupBase; id < count; id++) {
    if (side[id] === SIDE_BOTH && layout.nodes[id].visible && !inside.has(id)) pills.push({ kind: 'inside', edge: -1, item: id, text: 'split inside', bytes: 0 });
  }

  // The cut's name goes on the first pill, top to bottom.
  const pillY = (pill: Pill) => (pill.edge >= 0 ? layout.edges[pill.edge].labelY : layout.nodes[pill.item].y);
  pills.sort((a, b) => pillY(a) - pillY(b));
  const first = pills.find((pill) => pill.kind !== 'down') ?? pills[0];
  if (first) first.text = `${partition.shortLabel} · ${first.text}`;
  return { layout, side, localFraction, edgeMarks, pills };
}
