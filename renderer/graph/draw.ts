// Canvas drawing of a laid-out graph (layout.ts) for GraphView: one frame per call, only
// what the viewport shows (culling by bounding box), with level of detail — text only when
// it is large enough to read, simple shapes when zoomed far out — and draw calls batched
// by colour so a 1,000-node model draws in a few milliseconds. Colours come from CSS
// variables (readPalette), so light and dark themes are the shell's and graph.css's.
import { OP_FAMILIES, type GraphLayout, type LaidOutEdge, type LaidOutNode, type OpFamily } from './layout.js';

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
  accent: string;
  accent2: string;
  edge: string;
  nodeText: string;
  fontFamily: string;
  monoFamily: string;
  families: Record<OpFamily, string>;
}

export interface DrawState {
  /** Layout id of the selected node. */
  selected: number | null;
  hovered: number | null;
  /** Per layout id: 1 where the node matches the search; null when there is no search. */
  matches: Uint8Array | null;
  /**
   * Per layout id, for the split panel's pinned cuts: 1 where the node runs on the device
   * under every pinned cut, 2 where the pinned cuts disagree; drawn as a strip left of the box.
   */
  cutSides?: Uint8Array | null;
}

/** Zoom levels at which detail appears (text smaller than about 6 px on screen is not drawn). */
export const DETAIL = { opLabel: 0.5, sublabel: 0.78, edgeLabel: 0.72, curves: 0.2 } as const;

const OP_FONT = 11;
const SUBLABEL_FONT = 9;
const EDGE_FONT = 8.5;
const CORNER = 4;

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
    accent: read('--accent', '#0969da'),
    accent2: read('--accent-2', '#bc4c00'),
    edge: read('--graph-edge', read('--muted', '#6e7781')),
    nodeText: read('--op-text', '#ffffff'),
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

/** The node under a world point, or null. Later nodes win (they are drawn on top). */
export function hitTest(layout: GraphLayout, worldX: number, worldY: number): number | null {
  for (let id = layout.nodes.length - 1; id >= 0; id--) {
    const n = layout.nodes[id];
    if (Math.abs(worldX - n.x) <= n.width / 2 && Math.abs(worldY - n.y) <= n.height / 2) return id;
  }
  return null;
}

/** Draws one frame; returns how many nodes it drew. */
export function drawGraph(
  ctx: CanvasRenderingContext2D,
  layout: GraphLayout,
  view: Viewport,
  palette: GraphPalette,
  state: DrawState,
  text: TextMeasure
): number {
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, ctx.canvas.width, ctx.canvas.height);
  ctx.setTransform(view.dpr * view.scale, 0, 0, view.dpr * view.scale, view.dpr * view.x, view.dpr * view.y);

  const world = visibleWorld(view, 40);
  const nodeVisible = (n: LaidOutNode) =>
    n.x + n.width / 2 >= world.minX && n.x - n.width / 2 <= world.maxX && n.y + n.height / 2 >= world.minY && n.y - n.height / 2 <= world.maxY;
  const edgeVisible = (e: LaidOutEdge) => e.maxX >= world.minX && e.minX <= world.maxX && e.maxY >= world.minY && e.minY <= world.maxY;

  const { scale } = view;
  const pixel = 1 / scale;
  const searching = state.matches !== null;
  const selectedEdges = new Set<number>();
  if (state.selected !== null) {
    for (const e of layout.outgoing[state.selected] ?? []) selectedEdges.add(e);
    for (const e of layout.incoming[state.selected] ?? []) selectedEdges.add(e);
  }

  // Edges: one path for all of them, then the selected node's edges on top.
  const visibleEdges: number[] = [];
  layout.edges.forEach((e, i) => {
    if (edgeVisible(e)) visibleEdges.push(i);
  });
  const curves = scale >= DETAIL.curves;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.globalAlpha = searching ? 0.35 : 1;
  ctx.strokeStyle = palette.edge;
  ctx.fillStyle = palette.edge;
  ctx.lineWidth = Math.max(1, 0.9 * pixel);
  ctx.beginPath();
  for (const i of visibleEdges) if (!selectedEdges.has(i)) traceEdge(ctx, layout.edges[i].points, curves);
  ctx.stroke();
  if (curves) {
    ctx.beginPath();
    for (const i of visibleEdges) if (!selectedEdges.has(i)) traceArrowhead(ctx, layout.edges[i].points);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  if (selectedEdges.size > 0) {
    ctx.strokeStyle = palette.accent;
    ctx.fillStyle = palette.accent;
    ctx.lineWidth = Math.max(2, 1.8 * pixel);
    ctx.beginPath();
    for (const i of selectedEdges) traceEdge(ctx, layout.edges[i].points, curves);
    ctx.stroke();
    ctx.beginPath();
    for (const i of selectedEdges) traceArrowhead(ctx, layout.edges[i].points);
    ctx.fill();
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

  // Boxes, batched by family; search dims the ones that do not match.
  const visibleNodes: LaidOutNode[] = [];
  for (const n of layout.nodes) if (nodeVisible(n)) visibleNodes.push(n);
  const rounded = scale >= DETAIL.curves;
  const fillBatch = (family: OpFamily, matching: boolean | null) => {
    ctx.beginPath();
    for (const n of visibleNodes) {
      if (n.family !== family) continue;
      if (matching !== null && (state.matches?.[n.id] === 1) !== matching) continue;
      if (rounded) ctx.roundRect(n.x - n.width / 2, n.y - n.height / 2, n.width, n.height, n.kind === 'node' ? CORNER : n.height / 2);
      else ctx.rect(n.x - n.width / 2, n.y - n.height / 2, n.width, n.height);
    }
    ctx.fill();
    if (family === 'io') {
      ctx.strokeStyle = palette.border;
      ctx.lineWidth = Math.max(1, pixel);
      ctx.stroke();
    }
  };
  for (const family of OP_FAMILIES) {
    ctx.fillStyle = family === 'io' ? palette.panel : palette.families[family];
    if (searching) {
      ctx.globalAlpha = 0.22;
      fillBatch(family, false);
      ctx.globalAlpha = 1;
      fillBatch(family, true);
    } else {
      fillBatch(family, null);
    }
  }

  // Pinned-cut strips: device under every pinned cut (accent), device under some (accent-2).
  if (state.cutSides) {
    for (const [side, colour] of [
      [1, palette.accent],
      [2, palette.accent2]
    ] as const) {
      ctx.fillStyle = colour;
      ctx.beginPath();
      for (const n of visibleNodes) if (state.cutSides[n.id] === side) ctx.rect(n.x - n.width / 2 - 6, n.y - n.height / 2, 3.5, n.height);
      ctx.fill();
    }
  }

  // Labels inside the boxes.
  if (scale >= DETAIL.opLabel) {
    const opFont = `600 ${OP_FONT}px ${palette.fontFamily}`;
    const subFont = `${SUBLABEL_FONT}px ${palette.fontFamily}`;
    const withSublabel = scale >= DETAIL.sublabel;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const n of visibleNodes) {
      const dimmed = searching && state.matches?.[n.id] !== 1;
      ctx.globalAlpha = dimmed ? 0.4 : 1;
      const room = n.width - 10;
      const colour = n.kind === 'node' ? palette.nodeText : palette.fg;
      const showSub = withSublabel && n.sublabel !== '';
      ctx.font = opFont;
      ctx.fillStyle = colour;
      ctx.fillText(text.fit(ctx, opFont, n.label, room), n.x, showSub ? n.y - 6 : n.y + 0.5);
      if (showSub) {
        ctx.font = subFont;
        ctx.fillStyle = n.kind === 'node' ? colour : palette.muted;
        ctx.globalAlpha = dimmed ? 0.3 : 0.82;
        ctx.fillText(text.fit(ctx, subFont, n.sublabel, room), n.x, n.y + 7);
      }
    }
    ctx.globalAlpha = 1;
  }

  // Outlines: search matches, the hovered node, the selected node.
  const outline = (n: LaidOutNode, colour: string, width: number, gap: number) => {
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.beginPath();
    ctx.roundRect(n.x - n.width / 2 - gap, n.y - n.height / 2 - gap, n.width + 2 * gap, n.height + 2 * gap, CORNER + gap);
    ctx.stroke();
  };
  if (state.matches) {
    for (const n of visibleNodes) if (state.matches[n.id] === 1 && n.id !== state.selected) outline(n, palette.accent2, Math.max(1.5, 1.5 * pixel), 2 * Math.max(1, pixel));
  }
  if (state.hovered !== null && state.hovered !== state.selected) {
    const n = layout.nodes[state.hovered];
    if (n && nodeVisible(n)) outline(n, palette.fg, Math.max(1, pixel), 1.5 * Math.max(1, pixel));
  }
  if (state.selected !== null) {
    const n = layout.nodes[state.selected];
    if (n && nodeVisible(n)) {
      ctx.globalAlpha = 0.25;
      outline(n, palette.accent, Math.max(6, 6 * pixel), 3 * Math.max(1, pixel));
      ctx.globalAlpha = 1;
      outline(n, palette.accent, Math.max(2, 2 * pixel), 1.5 * Math.max(1, pixel));
    }
  }
  return visibleNodes.length;
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
