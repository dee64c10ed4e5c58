// Canvas drawing of a laid-out graph (layout.ts) for GraphView: one frame per call, only
// what the viewport shows (culling by bounding box), with level of detail — text only when
// it is large enough to read, simple shapes when zoomed far out — and draw calls batched
// by colour so a 1,000-node model draws in a few milliseconds. What is drawn, back to front:
// frames of expanded groups, the partition's device/server halos (paint.ts), edges (those
// crossing to the server thick, in the split panel's upload/download colours), boxes filled
// by op family or by the overlay's colour (overlay.ts), labels, outlines (search, hover,
// selection), and the crossing's byte labels in screen space so they stay readable at any
// zoom. Colours come from CSS variables (readPalette), so light and dark themes are the
// shell's, graph.css's and split.css's. Also the minimap (drawMinimap).
import type { OpFamily } from './graph-spec.js';
import { OP_FAMILIES } from './graph-spec.js';
import type { GraphLayout, LaidOutEdge, LaidOutFrame, LaidOutNode } from './layout.js';
import { FRAME_PAD } from './layout.js';
import { textColourOn } from './overlay.js';
import { SIDE_BOTH, SIDE_DEVICE, SIDE_SERVER, type PartitionPaint } from './paint.js';

/** Screen = world × scale + (x, y), in CSS pixels; the canvas backing store is dpr times larger. */
export interface Viewport {
  scale: number;
  x: number;
  y: number;
  width: number;
  height: number;
  dpr: number;
}

export interface GraphPalette {
  fg: string;
  muted: string;
  border: string;
  panel: string;
  bg: string;
  accent: string;
  accent2: string;
  edge: string;
  nodeText: string;
  frame: string;
  noData: string;
  device: string;
  server: string;
  upload: string;
  download: string;
  fontFamily: string;
  monoFamily: string;
  families: Record<OpFamily, string>;
}

export interface DrawState {
  /** Item id of the selected box (the selected layer, or the collapsed group holding it). */
  selected: number | null;
  hovered: number | null;
  /** Per item id: 1 where the box matches the search or holds a match; null when there is no search. */
  matches: Uint8Array | null;
  /** Per item id, the overlay's fill (null: no value); null when colouring by op type. */
  fills: Array<string | null> | null;
  /** Per item id, a second line that replaces the sublabel (the overlay's value); null to keep sublabels. */
  secondLines: Array<string | null> | null;
  /** Per item id, the summary lines of a collapsed group ("412 M MACs · 1.2 M params", "3.1 ms device"). */
  groupLines: Array<[string, string] | null> | null;
  /** The partition to paint, null for none. */
  paint: PartitionPaint | null;
}

/** Zoom levels at which detail appears (text smaller than about 6 px on screen is not drawn). */
export const DETAIL = { opLabel: 0.3, sublabel: 0.78, edgeLabel: 0.72, curves: 0.2, frameLabel: 0.45, expandMark: 0.5 } as const;

/** Below zoom 1, box labels grow in layout units so they stay at least this many pixels on screen (ellipsised to fit the box). */
const MIN_LABEL_PX = 8.5;

const OP_FONT = 11;
const SUBLABEL_FONT = 9;
const EDGE_FONT = 8.5;
const FRAME_FONT = 10.5;
const PILL_FONT = 10.5;
const CORNER = 4;
/** The largest a box's op label grows to (layout units), so that it still fits in the box's height. */
const NODE_LABEL_MAX = 26;
/** How far the partition's halo reaches around a box. */
const HALO = 5;

/** Reads the theme's colours from CSS variables on `element` (see graph.css and the shell's theme). */
export function readPalette(element: Element): GraphPalette {
  const style = getComputedStyle(element);
  const read = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const families = {} as Record<OpFamily, string>;
  for (const family of OP_FAMILIES) families[family] = read(`--op-${family}`, '#666');
  return {
    fg: read('--fg', '#1f2328'),
    muted: read('--muted', '#6e7781'),
    border: read('--border', '#d0d7de'),
    panel: read('--panel', '#ffffff'),
    bg: read('--bg', '#eef0f3'),
    accent: read('--accent', '#0969da'),
    accent2: read('--accent-2', '#bc4c00'),
    edge: read('--graph-edge', read('--muted', '#6e7781')),
    nodeText: read('--op-text', '#ffffff'),
    frame: read('--graph-frame', 'rgba(127, 127, 127, 0.06)'),
    noData: read('--graph-nodata', '#9aa1ab'),
    device: read('--graph-device', '#1a6fdb'),
    server: read('--graph-server', '#2f8f83'),
    upload: read('--graph-upload', '#d9730d'),
    download: read('--graph-download', '#8a5cd1'),
    fontFamily: style.fontFamily || 'system-ui, sans-serif',
    monoFamily: read('--font-mono', 'ui-monospace, monospace'),
    families
  };
}

/** Text widths by font and string, and ellipsised fits, measured once each. */
export class TextMeasure {
  private readonly widths = new Map<string, number>();
  private readonly fits = new Map<string, string>();

  width(ctx: CanvasRenderingContext2D, font: string, text: string): number {
    const key = `${font}\u0000${text}`;
    let width = this.widths.get(key);
    if (width === undefined) {
      ctx.font = font;
      width = ctx.measureText(text).width;
      this.widths.set(key, width);
    }
    return width;
  }

  /** The text, or its longest prefix plus "…" that fits in maxWidth. */
  fit(ctx: CanvasRenderingContext2D, font: string, text: string, maxWidth: number): string {
    const key = `${font}\u0000${maxWidth}\u0000${text}`;
    let fitted = this.fits.get(key);
    if (fitted === undefined) {
      fitted = text;
      if (this.width(ctx, font, text) > maxWidth) {
        let low = 0;
        let high = text.length;
        while (low < high) {
          const mid = Math.ceil((low + high) / 2);
          if (this.width(ctx, font, `${text.slice(0, mid)}…`) <= maxWidth) low = mid;
          else high = mid - 1;
        }
        fitted = low === 0 ? '' : `${text.slice(0, low)}…`;
      }
      this.fits.set(key, fitted);
    }
    return fitted;
  }
}

/** The world rectangle the viewport shows, grown by `margin` screen pixels. */
export function visibleWorld(view: Viewport, margin = 0): { minX: number; minY: number; maxX: number; maxY: number } {
  return {
    minX: (-view.x - margin) / view.scale,
    minY: (-view.y - margin) / view.scale,
    maxX: (view.width - view.x + margin) / view.scale,
    maxY: (view.height - view.y + margin) / view.scale
  };
}

/** The box (layer, input, output or collapsed group) under a world point, or null. */
export function hitTest(layout: GraphLayout, worldX: number, worldY: number): number | null {
  for (let k = layout.visible.length - 1; k >= 0; k--) {
    const n = layout.nodes[layout.visible[k]];
    if (Math.abs(worldX - n.x) <= n.width / 2 && Math.abs(worldY - n.y) <= n.height / 2) return n.id;
  }
  return null;
}

/** The expanded group whose label strip is under a world point (the innermost), or null. */
export function frameHeaderAt(layout: GraphLayout, worldX: number, worldY: number): LaidOutFrame | null {
  for (let k = layout.frames.length - 1; k >= 0; k--) {
    const f = layout.frames[k];
    if (worldX >= f.x && worldX <= f.x + f.width && worldY >= f.y && worldY <= f.y + FRAME_PAD.top) return f;
  }
  return null;
}

/** The world rectangle around some boxes, or null for none. */
export function boundsOf(layout: GraphLayout, ids: Iterable<number>): { minX: number; minY: number; maxX: number; maxY: number } | null {
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const id of ids) {
    const n = layout.nodes[id];
    if (!n) continue;
    minX = Math.min(minX, n.x - n.width / 2);
    maxX = Math.max(maxX, n.x + n.width / 2);
    minY = Math.min(minY, n.y - n.height / 2);
    maxY = Math.max(maxY, n.y + n.height / 2);
  }
  return Number.isFinite(minX) ? { minX, minY, maxX, maxY } : null;
}

const textColours = new Map<string, string>();
function textOn(fill: string): string {
  let colour = textColours.get(fill);
  if (colour === undefined) {
    colour = fill.startsWith('#') && fill.length === 7 ? textColourOn(fill) : '#ffffff';
    textColours.set(fill, colour);
  }
  return colour;
}

/** The fill of a box: the overlay's colour (or "no data"), or its op family's. */
function fillOf(n: LaidOutNode, palette: GraphPalette, state: DrawState): string {
  if (n.kind === 'input' || n.kind === 'output') return palette.panel;
  if (state.fills) return state.fills[n.id] ?? palette.noData;
  return palette.families[n.family];
}

/** Draws one frame; returns how many boxes it drew. */
export function drawGraph(ctx: CanvasRenderingContext2D, layout: GraphLayout, view: Viewport, palette: GraphPalette, state: DrawState, text: TextMeasure): number {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.setTransform(view.dpr * view.scale, 0, 0, view.dpr * view.scale, view.dpr * view.x, view.dpr * view.y);

  const world = visibleWorld(view, 40);
  const boxVisible = (x: number, y: number, w: number, h: number) => x + w / 2 >= world.minX && x - w / 2 <= world.maxX && y + h / 2 >= world.minY && y - h / 2 <= world.maxY;
  const nodeVisible = (n: LaidOutNode) => boxVisible(n.x, n.y, n.width, n.height);
  const edgeVisible = (e: LaidOutEdge) => e.maxX >= world.minX && e.minX <= world.maxX && e.maxY >= world.minY && e.minY <= world.maxY;

  const { scale } = view;
  const pixel = 1 / scale;
  const searching = state.matches !== null && state.matches.length === layout.nodes.length;
  // A partition painted for another layout (one frame between a new layout and its paint) is left out.
  const paint = state.paint && state.paint.layout === layout ? state.paint : null;
  const rounded = scale >= DETAIL.curves;

  // Frames of expanded groups, outermost first, with their label strip.
  const frames = layout.frames.filter((f) => boxVisible(f.x + f.width / 2, f.y + f.height / 2, f.width, f.height));
  ctx.lineWidth = Math.max(1, pixel);
  for (const f of frames) {
    ctx.beginPath();
    if (rounded) ctx.roundRect(f.x, f.y, f.width, f.height, 6);
    else ctx.rect(f.x, f.y, f.width, f.height);
    ctx.fillStyle = palette.frame;
    ctx.fill();
    ctx.strokeStyle = palette.border;
    ctx.stroke();
  }
  if (scale >= DETAIL.frameLabel) {
    // At least FRAME_FONT px on screen, as large as the label strip allows.
    const size = Math.min(FRAME_PAD.top * 0.62, Math.max(FRAME_FONT, FRAME_FONT / scale));
    const font = `600 ${size.toFixed(1)}px ${palette.fontFamily}`;
    ctx.font = font;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    ctx.fillStyle = palette.muted;
    for (const f of frames) ctx.fillText(text.fit(ctx, font, `▾ ${f.label}`, f.width - 12), f.x + 7, f.y + FRAME_PAD.top / 2);
  }

  const visibleNodes: LaidOutNode[] = [];
  for (const id of layout.visible) {
    const n = layout.nodes[id];
    if (nodeVisible(n)) visibleNodes.push(n);
  }

  // The partition's halos: device and server regions around the boxes, at least 4 px wide on screen.
  const halo = Math.max(HALO, 4 / scale);
  if (paint) {
    ctx.globalAlpha = 0.36;
    for (const [side, colour] of [
      [SIDE_DEVICE, palette.device],
      [SIDE_SERVER, palette.server]
    ] as const) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (const n of visibleNodes) {
        const s = paint.side[n.id];
        const [left, top, width, height] = [n.x - n.width / 2 - halo, n.y - n.height / 2 - halo, n.width + 2 * halo, n.height + 2 * halo];
        if (s === side) {
          if (rounded) ctx.roundRect(left, top, width, height, CORNER + halo);
          else ctx.rect(left, top, width, height);
        } else if (s === SIDE_BOTH) {
          // Device above, server below, in proportion to the layers on each side.
          const split = height * paint.localFraction[n.id];
          if (side === SIDE_DEVICE) ctx.rect(left, top, width, split);
          else ctx.rect(left, top + split, width, height - split);
        }
      }
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }

  // Edges: one path for all of them, then the selected box's edges, then the crossing ones.
  const selectedEdges = new Set<number>();
  if (state.selected !== null) {
    for (const e of layout.outgoing[state.selected] ?? []) selectedEdges.add(e);
    for (const e of layout.incoming[state.selected] ?? []) selectedEdges.add(e);
  }
  const visibleEdges: number[] = [];
  layout.edges.forEach((e, i) => {
    if (edgeVisible(e)) visibleEdges.push(i);
  });
  const curves = scale >= DETAIL.curves;
  const marked = (i: number) => paint !== null && paint.edgeMarks[i] !== 0;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.globalAlpha = searching ? 0.35 : 1;
  ctx.strokeStyle = palette.edge;
  ctx.fillStyle = palette.edge;
  ctx.lineWidth = Math.max(1, 0.9 * pixel);
  ctx.beginPath();
  for (const i of visibleEdges) if (!selectedEdges.has(i) && !marked(i)) traceEdge(ctx, layout.edges[i].points, curves);
  ctx.stroke();
  if (curves) {
    ctx.beginPath();
    for (const i of visibleEdges) if (!selectedEdges.has(i) && !marked(i)) traceArrowhead(ctx, layout.edges[i].points);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  const strokeSet = (ids: Iterable<number>, colour: string, width: number) => {
    ctx.strokeStyle = colour;
    ctx.fillStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    for (const i of ids) traceEdge(ctx, layout.edges[i].points, curves);
    ctx.stroke();
    ctx.beginPath();
    for (const i of ids) traceArrowhead(ctx, layout.edges[i].points);
    ctx.fill();
  };
  if (selectedEdges.size > 0) strokeSet([...selectedEdges].filter((i) => !marked(i)), palette.accent, Math.max(2, 1.8 * pixel));
  if (paint) {
    strokeSet(visibleEdges.filter((i) => paint.edgeMarks[i] === 1), palette.upload, Math.max(2.5, 3 * pixel));
    strokeSet(visibleEdges.filter((i) => paint.edgeMarks[i] === 2), palette.download, Math.max(2.5, 3 * pixel));
  }

  // Edge labels (tensor shapes), only when readable.
  if (scale >= DETAIL.edgeLabel) {
    const font = `${EDGE_FONT}px ${palette.monoFamily}`;
    ctx.font = font;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'middle';
    for (const i of visibleEdges) {
      const e = layout.edges[i];
      const selected = selectedEdges.has(i);
      ctx.globalAlpha = searching && !selected ? 0.45 : 1;
      ctx.fillStyle = selected ? palette.accent : palette.muted;
      ctx.fillText(e.label, e.labelX + 5, e.labelY);
    }
    ctx.globalAlpha = 1;
  }

  // Boxes, batched by fill; search dims the ones that do not match. A collapsed group shows a second box behind it, like a stack.
  const groups = visibleNodes.filter((n) => n.kind === 'group');
  if (groups.length > 0) {
    ctx.beginPath();
    for (const n of groups) {
      if (rounded) ctx.roundRect(n.x - n.width / 2 + 4, n.y - n.height / 2 + 4, n.width, n.height, CORNER);
      else ctx.rect(n.x - n.width / 2 + 4, n.y - n.height / 2 + 4, n.width, n.height);
    }
    ctx.fillStyle = palette.border;
    ctx.fill();
  }
  // A collapsed group the cut goes through: a line across it where the device part ends, drawn under the box so it marks both sides without crossing the text.
  if (paint) {
    ctx.strokeStyle = palette.upload;
    ctx.lineWidth = Math.max(2, 2.5 * pixel);
    ctx.setLineDash([Math.max(4, 5 * pixel), Math.max(3, 3 * pixel)]);
    ctx.beginPath();
    for (const n of groups) {
      if (paint.side[n.id] !== SIDE_BOTH) continue;
      const y = n.y - n.height / 2 - halo + (n.height + 2 * halo) * paint.localFraction[n.id];
      ctx.moveTo(n.x - n.width / 2 - halo - 4 * pixel, y);
      ctx.lineTo(n.x + n.width / 2 + halo + 4 * pixel, y);
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  const batches = new Map<string, LaidOutNode[]>();
  for (const n of visibleNodes) {
    const fill = fillOf(n, palette, state);
    const dim = searching && state.matches?.[n.id] !== 1 ? '\u0000dim' : '';
    const key = fill + dim;
    let batch = batches.get(key);
    if (!batch) batches.set(key, (batch = []));
    batch.push(n);
  }
  for (const [key, batch] of batches) {
    const dim = key.endsWith('\u0000dim');
    ctx.globalAlpha = dim ? 0.22 : 1;
    ctx.fillStyle = dim ? key.slice(0, -4) : key;
    ctx.beginPath();
    for (const n of batch) {
      if (rounded) ctx.roundRect(n.x - n.width / 2, n.y - n.height / 2, n.width, n.height, n.kind === 'input' || n.kind === 'output' ? n.height / 2 : CORNER);
      else ctx.rect(n.x - n.width / 2, n.y - n.height / 2, n.width, n.height);
    }
    ctx.fill();
    if (batch[0].kind === 'input' || batch[0].kind === 'output') {
      ctx.strokeStyle = palette.border;
      ctx.lineWidth = Math.max(1, pixel);
      ctx.stroke();
    }
  }
  ctx.globalAlpha = 1;

  // Labels inside the boxes.
  if (scale >= DETAIL.opLabel) {
    const opSize = Math.min(NODE_LABEL_MAX, Math.max(OP_FONT, MIN_LABEL_PX / scale));
    const opFont = `600 ${opSize.toFixed(1)}px ${palette.fontFamily}`;
    const subFont = `${SUBLABEL_FONT}px ${palette.fontFamily}`;
    // A collapsed group's second line ("43 layers") shows at every zoom its label does: at least 7.5 px on screen.
    const groupSubFont = `${Math.min(13, Math.max(SUBLABEL_FONT, 7.5 / scale)).toFixed(1)}px ${palette.fontFamily}`;
    const withSublabel = scale >= DETAIL.sublabel;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const n of visibleNodes) {
      const dimmed = searching && state.matches?.[n.id] !== 1;
      const room = n.width - 10;
      const fill = fillOf(n, palette, state);
      const colour = n.kind === 'input' || n.kind === 'output' ? palette.fg : state.fills ? textOn(fill) : palette.nodeText;
      const lines: string[] = [n.label];
      if (n.kind === 'group') {
        const summary = state.groupLines?.[n.id];
        if (withSublabel) lines.push(state.secondLines?.[n.id] ?? summary?.[0] ?? n.sublabel, summary?.[1] ?? '');
        else lines.push(state.secondLines?.[n.id] ?? n.sublabel);
      } else if (withSublabel) {
        lines.push(state.secondLines?.[n.id] ?? n.sublabel);
      }
      const shown = lines.filter((line) => line !== '');
      const step = n.kind === 'group' ? (withSublabel ? 13 : Math.max(13, opSize * 1.15)) : 12.5;
      const top = n.y - ((shown.length - 1) * step) / 2;
      shown.forEach((line, k) => {
        const font = k === 0 ? opFont : n.kind === 'group' && !withSublabel ? groupSubFont : subFont;
        ctx.font = font;
        ctx.fillStyle = k === 0 || n.kind === 'node' || n.kind === 'group' ? colour : palette.muted;
        ctx.globalAlpha = (dimmed ? 0.4 : 1) * (k === 0 ? 1 : 0.86);
        ctx.fillText(text.fit(ctx, font, line, room), n.x, top + k * step + (k === 0 ? 0.5 : 0));
      });
    }
    ctx.globalAlpha = 1;
    // The expand mark of a collapsed group.
    ctx.font = `600 ${OP_FONT}px ${palette.fontFamily}`;
    ctx.textAlign = 'right';
    if (scale >= DETAIL.expandMark) for (const n of groups) {
      ctx.fillStyle = state.fills ? textOn(fillOf(n, palette, state)) : palette.nodeText;
      ctx.fillText('+', n.x + n.width / 2 - 6, n.y - n.height / 2 + 9);
    }
  }

  // Outlines: search matches, the hovered box, the selected box.
  const outline = (n: LaidOutNode, colour: string, width: number, gap: number) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.roundRect(n.x - n.width / 2 - gap, n.y - n.height / 2 - gap, n.width + 2 * gap, n.height + 2 * gap, CORNER + gap);
    ctx.stroke();
  };
  if (searching && state.matches) {
    for (const n of visibleNodes) if (state.matches[n.id] === 1 && n.id !== state.selected) outline(n, palette.accent2, Math.max(1.5, 1.5 * pixel), 2 * Math.max(1, pixel));
  }
  if (state.hovered !== null && state.hovered !== state.selected) {
    const n = layout.nodes[state.hovered];
    if (n && n.visible && nodeVisible(n)) outline(n, palette.fg, Math.max(1, pixel), 1.5 * Math.max(1, pixel));
  }
  if (state.selected !== null) {
    const n = layout.nodes[state.selected];
    if (n && n.visible && nodeVisible(n)) {
      ctx.globalAlpha = 0.25;
      outline(n, palette.accent, Math.max(6, 6 * pixel), 3 * Math.max(1, pixel));
      ctx.globalAlpha = 1;
      outline(n, palette.accent, Math.max(2, 2 * pixel), 1.5 * Math.max(1, pixel));
    }
  }

  // The crossing's labels, in screen space: readable at every zoom.
  if (paint && paint.pills.length > 0) drawPills(ctx, layout, view, palette, paint, text);
  return visibleNodes.length;
}

/** Byte labels on the crossing edges and on groups the cut goes through; a pill that would overlap one already drawn is skipped. */
function drawPills(ctx: CanvasRenderingContext2D, layout: GraphLayout, view: Viewport, palette: GraphPalette, paint: PartitionPaint, text: TextMeasure): void {
  ctx.setTransform(view.dpr, 0, 0, view.dpr, 0, 0);
  const font = `600 ${PILL_FONT}px ${palette.fontFamily}`;
  ctx.font = font;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const drawn: Array<[number, number, number, number]> = [];
  const height = 18;
  for (const pill of paint.pills) {
    const width = text.width(ctx, font, pill.text) + 14;
    let x: number;
    let y: number;
    if (pill.edge >= 0) {
      const e = layout.edges[pill.edge];
      x = e.labelX * view.scale + view.x + 8;
      y = e.labelY * view.scale + view.y - height / 2;
    } else {
      const n = layout.nodes[pill.item];
      x = (n.x + n.width / 2) * view.scale + view.x + 10;
      y = n.y * view.scale + view.y - height / 2;
    }
    if (x > view.width || y > view.height || x + width < 0 || y + height < 0) continue;
    if (drawn.some(([a, b, w, h]) => x < a + w && a < x + width && y < b + h && b < y + height)) continue;
    drawn.push([x, y, width, height]);
    ctx.fillStyle = pill.kind === 'down' ? palette.download : palette.upload;
    ctx.beginPath();
    ctx.roundRect(x, y, width, height, height / 2);
    ctx.fill();
    ctx.fillStyle = '#ffffff';
    ctx.fillText(pill.text, x + 7, y + height / 2 + 0.5);
  }
}

/** Adds an edge's polyline to the current path, smoothed through the midpoints of its segments. */
function traceEdge(ctx: CanvasRenderingContext2D, points: number[], curves: boolean): void {
  const count = points.length / 2;
  if (count < 2) return;
  ctx.moveTo(points[0], points[1]);
  if (!curves || count === 2) {
    for (let i = 1; i < count; i++) ctx.lineTo(points[2 * i], points[2 * i + 1]);
    return;
  }
  for (let i = 1; i < count - 2; i++) {
    ctx.quadraticCurveTo(points[2 * i], points[2 * i + 1], (points[2 * i] + points[2 * i + 2]) / 2, (points[2 * i + 1] + points[2 * i + 3]) / 2);
  }
  ctx.quadraticCurveTo(points[2 * count - 4], points[2 * count - 3], points[2 * count - 2], points[2 * count - 1]);
}

/** Adds a small arrowhead at the edge's end, along its last segment. */
function traceArrowhead(ctx: CanvasRenderingContext2D, points: number[]): void {
  const count = points.length / 2;
  if (count < 2) return;
  const [tipX, tipY] = [points[2 * count - 2], points[2 * count - 1]];
  let dx = tipX - points[2 * count - 4];
  let dy = tipY - points[2 * count - 3];
  const length = Math.hypot(dx, dy) || 1;
  dx /= length;
  dy /= length;
  const size = 6;
  ctx.moveTo(tipX, tipY);
  ctx.lineTo(tipX - dx * size - dy * size * 0.45, tipY - dy * size + dx * size * 0.45);
  ctx.lineTo(tipX - dx * size + dy * size * 0.45, tipY - dy * size - dx * size * 0.45);
  ctx.closePath();
}

/** The minimap's transform: the whole layout scaled into the minimap canvas, centred. */
export function minimapTransform(layout: GraphLayout, width: number, height: number): { scale: number; x: number; y: number } {
  const scale = Math.min(width / Math.max(1, layout.width), height / Math.max(1, layout.height));
  return { scale, x: (width - layout.width * scale) / 2, y: (height - layout.height * scale) / 2 };
}

/**
 * The minimap: every box as a small rectangle (in the partition's side colours when one is
 * shown, else in its fill), frames as outlines, and the viewport as a rectangle. The boxes
 * are drawn once into `cache` (an offscreen canvas, redrawn when `cacheKey` changes); a
 * frame only copies it and draws the viewport.
 */
export function drawMinimap(
  ctx: CanvasRenderingContext2D,
  cache: { canvas: HTMLCanvasElement; key: string },
  cacheKey: string,
  layout: GraphLayout,
  palette: GraphPalette,
  state: DrawState,
  view: Viewport,
  size: { width: number; height: number; dpr: number }
): void {
  const { width, height, dpr } = size;
  const t = minimapTransform(layout, width, height);
  if (cache.key !== cacheKey || cache.canvas.width !== Math.round(width * dpr) || cache.canvas.height !== Math.round(height * dpr)) {
    cache.key = cacheKey;
    cache.canvas.width = Math.round(width * dpr);
    cache.canvas.height = Math.round(height * dpr);
    const c = cache.canvas.getContext('2d');
    if (c) {
      c.setTransform(dpr * t.scale, 0, 0, dpr * t.scale, dpr * t.x, dpr * t.y);
      c.lineWidth = 1 / t.scale;
      c.strokeStyle = palette.border;
      for (const f of layout.frames) c.strokeRect(f.x, f.y, f.width, f.height);
      const batches = new Map<string, LaidOutNode[]>();
      for (const id of layout.visible) {
        const n = layout.nodes[id];
        const side = state.paint?.layout === layout ? state.paint.side[id] : undefined;
        const fill = side === SIDE_DEVICE ? palette.device : side === SIDE_SERVER ? palette.server : side === SIDE_BOTH ? palette.upload : fillOf(n, palette, state);
        let batch = batches.get(fill);
        if (!batch) batches.set(fill, (batch = []));
        batch.push(n);
      }
      for (const [fill, batch] of batches) {
        c.fillStyle = fill;
        c.beginPath();
        for (const n of batch) c.rect(n.x - n.width / 2, n.y - n.height / 2, n.width, Math.max(n.height, 2 / t.scale));
        c.fill();
      }
    }
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.drawImage(cache.canvas, 0, 0);
  // The viewport, in minimap coordinates.
  const w = visibleWorld(view);
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const left = Math.max(0, w.minX * t.scale + t.x);
  const top = Math.max(0, w.minY * t.scale + t.y);
  const right = Math.min(width, w.maxX * t.scale + t.x);
  const bottom = Math.min(height, w.maxY * t.scale + t.y);
  if (right > left && bottom > top) {
    ctx.fillStyle = palette.accent;
    ctx.globalAlpha = 0.12;
    ctx.fillRect(left, top, right - left, bottom - top);
    ctx.globalAlpha = 1;
    ctx.strokeStyle = palette.accent;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(left + 0.75, top + 0.75, Math.max(2, right - left - 1.5), Math.max(2, bottom - top - 1.5));
  }
}
