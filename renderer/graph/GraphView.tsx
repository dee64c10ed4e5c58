// The model graph: a canvas that draws layout.ts's boxes, frames and edges with draw.ts,
// laid out in a Web Worker (layout-client.ts) so the page never freezes. Props only (no
// store, no contract); GraphPane.tsx passes the model, the selection, the search, the
// partition to draw (split/shown-partition.ts) and the per-layer latencies for overlays.
//
// What it shows: module groups from the layer names (app/studio/module-tree.ts) that open
// at the depth where "Fit" keeps labels readable (layout-choice.ts) — click a group's box
// to expand it, its frame's label strip to collapse it; the partition as device/server
// halos with the crossing edges marked and their bytes (paint.ts), chosen with the picker
// at the top left; boxes coloured by op type or by an overlay (overlay.ts) with its legend;
// a minimap; zoom to the selection and to the search's matches. Pan, zoom, hover and the
// frame loop live in refs, not React state: a frame is drawn on requestAnimationFrame only
// when something changed. Wheel zooms around the cursor (around the nearest part of the
// graph when the cursor is over empty space), drag pans, double-click or F fits, arrow keys
// walk the selection along edges, +/- zoom, 0 is 100 %, Escape clears the selection. The
// hover card hides whenever the view moves.
//
// Test and benchmark hooks (e2e, bench-studio): the canvas carries data-testid="graph-canvas",
// data-node-count, data-layout-ms, data-layout-where (worker or page), data-laying-out,
// data-visible-items, data-collapsed-groups, data-expanded-groups, data-group-count,
// data-overlay, data-shown-partition (best, pinned, dag, none), data-shown-cut (the cut,
// "dag" or ""), data-local-count, data-crossing (tensors going up), data-upload-bytes,
// data-cut-markers (the pinned cuts), and after every frame data-drawn-nodes (boxes drawn),
// data-drawn-model (the id of the model drawn) and data-drawn-partition (a counter bumped by
// each new partition drawn); window.__studio.graph = GraphTestHooks.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type JSX, type KeyboardEvent, type PointerEvent } from 'react';
import type { Objective } from '../../app/partition/types.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { groupSums, groupsToReveal, moduleTree, type ModuleTree } from '../../app/studio/module-tree.js';
import { formatBytes, formatCount, formatElementType, formatMs, formatShape } from '../format.js';
import type { ShownPartition } from '../split/shown-partition.js';
import type { GraphPartitionChoice } from '../store.js';
import { boundsOf, DETAIL, drawGraph, drawMinimap, frameHeaderAt, hitTest, minimapTransform, readPalette, TextMeasure, type DrawState, type GraphPalette, type Viewport } from './draw.js';
import { graphSpec, searchNodes, type GraphSpec, type OpFamily } from './graph-spec.js';
import { LayoutClient } from './layout-client.js';
import { expansionLevels } from './layout-choice.js';
import type { GraphLayout, LaidOutNode } from './layout.js';
import { colourScale, formatOverlayValue, isOverlayMetric, OVERLAYS, overlayValues, RAMP, type ColourScale, type OverlayMetric } from './overlay.js';
import { matchMask, partitionPaint, representatives, SIDE_BOTH, SIDE_DEVICE } from './paint.js';
import './graph.css';

export interface GraphLatencies {
  localMs: readonly number[];
  remoteMs: readonly number[];
  localSource: 'measured' | 'estimated' | 'mixed';
  remoteSource: 'measured' | 'estimated' | 'mixed';
}

export interface PartitionPicker {
  /** The choice shown (resolved: an unpinned cut falls back to the best). */
  choice: GraphPartitionChoice;
  pins: readonly number[];
  hasDag: boolean;
  objective: Objective;
  onChange(choice: GraphPartitionChoice): void;
}

export interface GraphViewProps {
  model: ModelView;
  selected: number | null;
  onSelect: (index: number | null) => void;
  search: string;
  /** Centres the node with this index (expanding the groups around it); a new nonce repeats the request. */
  focusRequest?: { index: number; nonce: number };
  /** The partition drawn on the graph; null or absent for none. */
  partition?: ShownPartition | null;
  /** The picker for which partition to draw; absent hides it. */
  partitionPicker?: PartitionPicker;
  /** Per-layer latencies on each side, for the overlays and the group summaries. */
  latencies?: GraphLatencies | null;
  /** Called after the first draw of each model. */
  onDrawn?: (model: ModelView) => void;
}

export interface PanMeasurement {
  /** Median and 95th percentile of the work per frame: the pan or zoom step, the draw and a forced raster. */
  medianMs: number;
  p95Ms: number;
  /** Median time between animation frames while moving (vsync-bound when the work fits in a frame). */
  frameIntervalMedianMs: number;
  frames: number;
  /** Boxes drawn per frame at the zoom measured. */
  drawnNodes: number;
  scale: number;
}

export interface GraphTestHooks {
  /** Centre of a layer's box in viewport (client) coordinates, or null when it is hidden, unknown or off-screen. */
  nodeScreenPosition(index: number): { x: number; y: number } | null;
  /** Centre of a collapsed group's box (by label, the first one), or of an expanded group's label strip. */
  groupScreenPosition(label: string): { x: number; y: number; expanded: boolean } | null;
  /** Pans (or zooms in and out) a few pixels per animation frame through the drag (or wheel) code path and times the frames. */
  measurePan(frames: number, options?: { zoom?: 'current' | 'fit' | number; mode?: 'pan' | 'zoom' }): Promise<PanMeasurement>;
  /** Expands the groups hiding a layer and centres it (zooming in to read it); resolves once it is drawn. */
  revealNode(index: number): Promise<void>;
  /** Expands every group, or collapses them all; resolves once the new layout is drawn. */
  expandAll(): Promise<void>;
  collapseAll(): Promise<void>;
  fit(): void;
  zoom(): number;
}

/** The fit scale the first view aims at: labels are 11 px at zoom 1, about 7 px here. */
const READABLE_FIT = 0.62;
const MAX_SCALE = 4;
const ZOOM_STEP = 1.25;
const DRAG_THRESHOLD = 4;
const MINIMAP_WIDTH = 120;
const MINIMAP_MAX_HEIGHT = 110;
/** Room the overlays take at the top (picker, colour switch) and bottom (legend) when fitting. */
const FIT_INSETS = { top: 44, bottom: 34, side: 16 };

/** Legend text: a short name and what it covers. */
const FAMILY_NAMES: Record<OpFamily, [string, string]> = {
  conv: ['Conv', 'Convolution'],
  pool: ['Pool', 'Pooling'],
  fc: ['FC / MatMul', 'Fully connected, Gemm, MatMul'],
  activation: ['Activation', 'Relu, Sigmoid, Softmax, Gelu ...'],
  norm: ['Norm', 'Batch, layer, instance normalisation, LRN'],
  elementwise: ['Element-wise', 'Add, Mul, Div, reductions ...'],
  shape: ['Shape', 'Reshape, Transpose, Concat, Gather, Slice ...'],
  other: ['Other', 'Ops outside these families'],
  io: ['I/O', 'Graph inputs and outputs'],
  group: ['Group', 'A collapsed module: click to expand']
};

let sharedClient: LayoutClient | null = null;
/** One layout worker for the page, started on first use. */
function layoutClient(): LayoutClient {
  sharedClient ??= new LayoutClient(typeof document === 'undefined' ? null : new URL('layout-worker.js', document.baseURI).href);
  return sharedClient;
}

/** The groups last shown expanded per model, so switching back shows the same view. */
const expandedByModel = new Map<string, number[]>();

interface Anchor {
  /** Item id kept in place across a new layout, and its top centre on screen. */
  id: number;
  screenX: number;
  screenY: number;
}

export function GraphView({ model, selected, onSelect, search, focusRequest, partition = null, partitionPicker, latencies = null, onDrawn }: GraphViewProps): JSX.Element {
  const tree = useMemo<ModuleTree>(() => moduleTree(model.nodes.map((n) => n.name)), [model]);
  const spec = useMemo<GraphSpec>(() => graphSpec(model, tree), [model, tree]);
  const matches = useMemo(() => searchNodes(model, search), [model, search]);
  const [layout, setLayout] = useState<GraphLayout | null>(null);
  const [layoutInfo, setLayoutInfo] = useState<{ ms: number; where: string }>({ ms: 0, where: '' });
  const [layingOut, setLayingOut] = useState(false);
  const [overlay, setOverlay] = useState<OverlayMetric>('op');
  const [layoutError, setLayoutError] = useState<string | null>(null);
  const shownLayout = layout && layout.key === model.id ? layout : null;

  const containerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const minimapRef = useRef<HTMLCanvasElement>(null);
  const tooltipRef = useRef<HTMLDivElement>(null);
  const zoomLabelRef = useRef<HTMLSpanElement>(null);

  const view = useRef<Viewport>({ scale: 1, x: 0, y: 0, width: 0, height: 0, dpr: 1 });
  const drawState = useRef<DrawState>({ selected: null, hovered: null, matches: null, fills: null, secondLines: null, groupLines: null, paint: null });
  const palette = useRef<GraphPalette | null>(null);
  const textMeasure = useRef(new TextMeasure());
  const minimapCache = useRef<{ canvas: HTMLCanvasElement; key: string } | null>(null);
  const minimapVersion = useRef(0);
  const partitionVersion = useRef(0);
  const frame = useRef(0);
  const layoutRef = useRef<GraphLayout | null>(shownLayout);
  layoutRef.current = shownLayout;
  const repsRef = useRef<Int32Array>(new Int32Array(0));
  const modelRef = useRef(model);
  modelRef.current = model;
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;
  const onDrawnRef = useRef(onDrawn);
  onDrawnRef.current = onDrawn;
  const reportedDrawn = useRef<ModelView | null>(null);
  const anchorRef = useRef<Anchor | null>(null);
  const pendingFocus = useRef<{ index: number; zoomIn: boolean } | null>(null);
  const fitOnArrival = useRef(false);
  const layoutWaiters = useRef<Array<() => void>>([]);
  const requestSeq = useRef(0);
  const sizeMinimapRef = useRef<() => void>(() => undefined);

  const reps = useMemo(() => (shownLayout ? representatives(shownLayout) : new Int32Array(0)), [shownLayout]);
  repsRef.current = reps;

  const drawNow = useCallback(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    const l = layoutRef.current;
    if (!canvas || !ctx || view.current.width === 0 || !l) return;
    palette.current ??= readPalette(canvas);
    const drawn = drawGraph(ctx, l, view.current, palette.current, drawState.current, textMeasure.current);
    canvas.dataset.drawnNodes = String(drawn);
    if (reportedDrawn.current !== modelRef.current) {
      reportedDrawn.current = modelRef.current;
      onDrawnRef.current?.(modelRef.current);
    }
    canvas.dataset.drawnModel = modelRef.current.id;
    canvas.dataset.drawnPartition = String(partitionVersion.current);
    if (zoomLabelRef.current) zoomLabelRef.current.textContent = `${Math.round(view.current.scale * 100)} %`;
    const minimap = minimapRef.current;
    const mctx = minimap?.getContext('2d');
    if (minimap && mctx && minimap.width > 0) {
      if (!minimapCache.current) minimapCache.current = { canvas: document.createElement('canvas'), key: '' };
      const dpr = view.current.dpr;
      drawMinimap(mctx, minimapCache.current, `${l.key}:${l.expanded.join(',')}:${minimapVersion.current}`, l, palette.current, drawState.current, view.current, {
        width: minimap.width / dpr,
        height: minimap.height / dpr,
        dpr
      });
    }
  }, []);

  const requestDraw = useCallback(() => {
    if (frame.current !== 0) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      drawNow();
    });
  }, [drawNow]);

  /** Draws at once (cancelling a pending frame): the benchmark's frames and synchronous hooks. */
  const flushDraw = useCallback(() => {
    if (frame.current !== 0) cancelAnimationFrame(frame.current);
    frame.current = 0;
    drawNow();
  }, [drawNow]);

  const hideTooltip = useCallback(() => {
    if (tooltipRef.current) tooltipRef.current.hidden = true;
    if (drawState.current.hovered !== null) drawState.current.hovered = null;
  }, []);

  const minScale = useCallback(() => {
    const { width, height } = view.current;
    const l = layoutRef.current;
    if (!l) return 0.05;
    const fit = Math.min(width / Math.max(1, l.width), height / Math.max(1, l.height));
    return Math.min(0.5, fit * 0.8);
  }, []);

  /** Keeps some of the graph on screen whatever the pan. */
  const clampView = useCallback(() => {
    const v = view.current;
    const l = layoutRef.current;
    if (!l) return;
    const keep = 80;
    v.x = Math.min(v.width - keep, Math.max(keep - l.width * v.scale, v.x));
    v.y = Math.min(v.height - keep, Math.max(keep - l.height * v.scale, v.y));
  }, []);

  const viewMoved = useCallback(() => {
    clampView();
    hideTooltip();
    requestDraw();
  }, [clampView, hideTooltip, requestDraw]);

  const panBy = useCallback(
    (dx: number, dy: number) => {
      view.current.x += dx;
      view.current.y += dy;
      viewMoved();
    },
    [viewMoved]
  );

  /**
   * Zooms by `factor` keeping the world point under (screenX, screenY) in place; over empty
   * space it zooms around the nearest point of the graph instead, so zooming in from a fit
   * narrow graph never ends on blank canvas.
   */
  const zoomAt = useCallback(
    (factor: number, screenX: number, screenY: number) => {
      const v = view.current;
      const l = layoutRef.current;
      if (!l) return;
      const scale = Math.min(MAX_SCALE, Math.max(minScale(), v.scale * factor));
      let worldX = (screenX - v.x) / v.scale;
      let worldY = (screenY - v.y) / v.scale;
      const nearestX = Math.min(l.width, Math.max(0, worldX));
      const nearestY = Math.min(l.height, Math.max(0, worldY));
      let anchorX = screenX;
      let anchorY = screenY;
      if (nearestX !== worldX || nearestY !== worldY) {
        [worldX, worldY] = [nearestX, nearestY];
        anchorX = worldX * v.scale + v.x;
        anchorY = worldY * v.scale + v.y;
      }
      v.scale = scale;
      v.x = anchorX - worldX * scale;
      v.y = anchorY - worldY * scale;
      viewMoved();
    },
    [minScale, viewMoved]
  );

  /** Fits a world rectangle in the view, zooming no closer than maxScale. */
  const fitRect = useCallback(
    (rect: { minX: number; minY: number; maxX: number; maxY: number }, maxScale: number, pad = 40) => {
      const v = view.current;
      if (v.width === 0) return;
      const w = Math.max(1, rect.maxX - rect.minX);
      const h = Math.max(1, rect.maxY - rect.minY);
      // The room between the overlays at the top (picker) and bottom (legend).
      const height = Math.max(1, v.height - FIT_INSETS.top - FIT_INSETS.bottom);
      v.scale = Math.min(maxScale, Math.max(minScale(), Math.min((v.width - 2 * pad) / w, (height - pad) / h)));
      v.x = v.width / 2 - ((rect.minX + rect.maxX) / 2) * v.scale;
      v.y = FIT_INSETS.top + height / 2 - ((rect.minY + rect.maxY) / 2) * v.scale;
      viewMoved();
    },
    [minScale, viewMoved]
  );

  const fit = useCallback(() => {
    const l = layoutRef.current;
    if (!l) return;
    const v = view.current;
    const width = Math.max(1, v.width - 2 * FIT_INSETS.side);
    const height = Math.max(1, v.height - FIT_INSETS.top - FIT_INSETS.bottom);
    v.scale = Math.min(1.5, Math.max(minScale(), Math.min(width / l.width, height / l.height)));
    v.x = (v.width - l.width * v.scale) / 2;
    v.y = FIT_INSETS.top + (height - l.height * v.scale) / 2;
    hideTooltip();
    requestDraw();
  }, [hideTooltip, minScale, requestDraw]);

  /** First view of a layout: all of it when its labels stay readable, else its top at a readable zoom. */
  const initialView = useCallback(() => {
    const v = view.current;
    const l = layoutRef.current;
    if (!l) return;
    const fitScale = Math.min((v.width - 2 * FIT_INSETS.side) / l.width, (v.height - FIT_INSETS.top - FIT_INSETS.bottom) / l.height);
    if (fitScale >= 0.5) return fit();
    v.scale = Math.min(1, Math.max(DETAIL.sublabel, v.width / l.width));
    v.x = l.width * v.scale <= v.width ? (v.width - l.width * v.scale) / 2 : v.width / 2 - (l.width / 2) * v.scale;
    v.y = FIT_INSETS.top - 16;
    viewMoved();
  }, [fit, viewMoved]);

  const centreOn = useCallback(
    (id: number, zoomIn: boolean) => {
      const v = view.current;
      const node = layoutRef.current?.nodes[id];
      if (!node || v.width === 0) return;
      if (zoomIn && v.scale < DETAIL.sublabel) v.scale = 1;
      v.x = v.width / 2 - node.x * v.scale;
      v.y = v.height / 2 - node.y * v.scale;
      viewMoved();
    },
    [viewMoved]
  );

  /** Centres a box when it is off-screen or near the edge (keyboard navigation). */
  const reveal = useCallback(
    (id: number) => {
      const v = view.current;
      const node = layoutRef.current?.nodes[id];
      if (!node) return;
      const left = node.x * v.scale + v.x - (node.width / 2) * v.scale;
      const right = left + node.width * v.scale;
      const top = node.y * v.scale + v.y - (node.height / 2) * v.scale;
      const bottom = top + node.height * v.scale;
      const pad = 40;
      if (left < pad || right > v.width - pad || top < pad || bottom > v.height - pad) centreOn(id, false);
    },
    [centreOn]
  );

  /** The box nearest the view's centre: what stays put when the layout changes without a click. */
  const centreAnchor = useCallback((): Anchor | null => {
    const l = layoutRef.current;
    const v = view.current;
    if (!l) return null;
    const cx = (v.width / 2 - v.x) / v.scale;
    const cy = (v.height / 2 - v.y) / v.scale;
    let best: LaidOutNode | null = null;
    let bestDistance = Infinity;
    for (const id of l.visible) {
      const n = l.nodes[id];
      const d = Math.hypot(n.x - cx, n.y - cy);
      if (d < bestDistance) [best, bestDistance] = [n, d];
    }
    return best ? { id: best.id, screenX: best.x * v.scale + v.x, screenY: (best.y - best.height / 2) * v.scale + v.y } : null;
  }, []);

  /** Asks the worker for a layout with these groups expanded; the view keeps `anchor` in place when it arrives. */
  const requestExpanded = useCallback(
    (expanded: readonly number[], anchor: Anchor | null) => {
      const client = layoutClient();
      client.setSpec(spec);
      const sequence = ++requestSeq.current;
      anchorRef.current = anchor;
      setLayingOut(true);
      client
        .layout(spec.key, expanded)
        .then((timed) => {
          if (sequence !== requestSeq.current) return;
          expandedByModel.set(spec.key, timed.layout.expanded);
          setLayoutInfo({ ms: timed.ms, where: timed.where });
          setLayout(timed.layout);
          setLayingOut(false);
          setLayoutError(null);
        })
        .catch((error: unknown) => {
          if (sequence !== requestSeq.current) return;
          setLayingOut(false);
          setLayoutError(error instanceof Error ? error.message : String(error));
        });
    },
    [spec]
  );

  // A new model: its first layout (the remembered expansion, or the deepest that fits readably).
  useEffect(() => {
    const client = layoutClient();
    client.setSpec(spec);
    const sequence = ++requestSeq.current;
    anchorRef.current = null;
    fitOnArrival.current = true;
    hideTooltip();
    const remembered = expandedByModel.get(spec.key);
    const rect = containerRef.current?.getBoundingClientRect();
    const [width, height] = rect && rect.width > 0 && rect.height > 0 ? [rect.width, rect.height] : [900, 520];
    const request = remembered ? client.layout(spec.key, remembered) : client.initial(spec.key, expansionLevels(tree), (width - 2 * FIT_INSETS.side) / READABLE_FIT, (height - FIT_INSETS.top - FIT_INSETS.bottom) / READABLE_FIT);
    setLayingOut(true);
    request
      .then((timed) => {
        if (sequence !== requestSeq.current) return;
        expandedByModel.set(spec.key, timed.layout.expanded);
        setLayoutInfo({ ms: timed.ms, where: timed.where });
        setLayout(timed.layout);
        setLayingOut(false);
        setLayoutError(null);
      })
      .catch((error: unknown) => {
        if (sequence !== requestSeq.current) return;
        setLayingOut(false);
        setLayoutError(error instanceof Error ? error.message : String(error));
      });
  }, [spec, tree, hideTooltip]);

  // Selection: outline the layer, or the collapsed group holding it.
  useEffect(() => {
    drawState.current.selected = selected !== null && selected >= 0 && selected < model.nodes.length && reps.length > 0 ? reps[selected] : null;
    requestDraw();
  }, [selected, model, reps, requestDraw]);

  useEffect(() => {
    drawState.current.matches = search.trim() === '' || !shownLayout ? null : matchMask(shownLayout, reps, matches);
    requestDraw();
  }, [matches, search, shownLayout, reps, requestDraw]);

  // The partition: halos, crossing edges and their bytes, drawn in the same commit as the
  // split panel's star (a layout effect, drawn at once), so both change in the same frame.
  useLayoutEffect(() => {
    drawState.current.paint = partition && shownLayout ? partitionPaint(spec, shownLayout, reps, partition) : null;
    partitionVersion.current++;
    minimapVersion.current++;
    flushDraw();
  }, [partition, shownLayout, spec, reps, flushDraw]);

  // Group summaries: summed MACs, params and latency per group.
  const groupTotals = useMemo(() => {
    const macs = groupSums(tree, model.nodes.map((n) => n.macs));
    const params = groupSums(tree, model.nodes.map((n) => n.params));
    const local = latencies ? groupSums(tree, latencies.localMs) : null;
    const remote = latencies ? groupSums(tree, latencies.remoteMs) : null;
    return { macs, params, local, remote };
  }, [tree, model, latencies]);

  useEffect(() => {
    const lines: Array<[string, string] | null> = new Array(spec.items.length).fill(null);
    for (const group of tree.groups) {
      const id = spec.groupBase + group.id;
      const first = `${group.last - group.first + 1} layers · ${formatCount(groupTotals.macs[group.id])} MACs`;
      const second = groupTotals.local && groupTotals.remote ? `${formatMs(groupTotals.local[group.id])} device · ${formatMs(groupTotals.remote[group.id])} server` : `${formatCount(groupTotals.params[group.id])} params`;
      lines[id] = [first, second];
    }
    drawState.current.groupLines = lines;
    requestDraw();
  }, [spec, tree, groupTotals, requestDraw]);

  // The overlay: fills and values per box, on a scale over the boxes shown.
  const overlayScale = useMemo<ColourScale | null>(() => {
    if (overlay === 'op' || !shownLayout) return null;
    const values = overlayValues(overlay, model, tree, latencies, spec.items.length, spec.groupBase);
    return colourScale(shownLayout.visible.map((id) => (Number.isNaN(values[id]) ? null : values[id])));
  }, [overlay, shownLayout, model, tree, latencies, spec]);
  useEffect(() => {
    if (overlay === 'op' || !shownLayout) {
      drawState.current.fills = null;
      drawState.current.secondLines = null;
    } else {
      const values = overlayValues(overlay, model, tree, latencies, spec.items.length, spec.groupBase);
      const fills: Array<string | null> = new Array(spec.items.length).fill(null);
      const lines: Array<string | null> = new Array(spec.items.length).fill(null);
      for (const id of shownLayout.visible) {
        const value = values[id];
        if (Number.isNaN(value)) continue;
        fills[id] = overlayScale?.colour(value) ?? null;
        lines[id] = formatOverlayValue(overlay, value);
      }
      drawState.current.fills = fills;
      drawState.current.secondLines = lines;
    }
    minimapVersion.current++;
    requestDraw();
  }, [overlay, overlayScale, shownLayout, model, tree, latencies, spec, requestDraw]);

  // A layout arrived (declared after the effects above, which repaint for it first): keep the anchor in place, or fit a new model, then draw.
  useEffect(() => {
    if (!shownLayout) return;
    const v = view.current;
    const anchor = anchorRef.current;
    anchorRef.current = null;
    if (canvasRef.current) canvasRef.current.dataset.layoutMs = layoutInfo.ms.toFixed(1);
    minimapVersion.current++;
    if (v.width > 0) {
      if (fitOnArrival.current) {
        fitOnArrival.current = false;
        initialView();
      } else if (anchor) {
        const rep = repsRef.current[anchor.id] ?? anchor.id;
        const node = shownLayout.nodes[rep];
        if (node) {
          v.x = anchor.screenX - node.x * v.scale;
          v.y = anchor.screenY - (node.y - node.height / 2) * v.scale;
          viewMoved();
        }
      }
      const focus = pendingFocus.current;
      if (focus && shownLayout.nodes[focus.index]?.visible) {
        pendingFocus.current = null;
        centreOn(focus.index, focus.zoomIn);
      }
    }
    flushDraw();
    const waiters = layoutWaiters.current;
    layoutWaiters.current = [];
    for (const resolve of waiters) resolve();
  }, [shownLayout, layoutInfo, initialView, viewMoved, centreOn, flushDraw]);

  // A layer asked for from outside (charts, details, search): expand the groups hiding it, then centre it.
  useEffect(() => {
    if (!focusRequest || focusRequest.index < 0 || focusRequest.index >= model.nodes.length) return;
    const l = layoutRef.current;
    if (!l) {
      pendingFocus.current = { index: focusRequest.index, zoomIn: true };
      return;
    }
    const hidden = groupsToReveal(tree, focusRequest.index, new Set(l.expanded));
    if (hidden.length === 0) centreOn(focusRequest.index, true);
    else {
      pendingFocus.current = { index: focusRequest.index, zoomIn: true };
      requestExpanded([...l.expanded, ...hidden], null);
    }
    // The nonce is what asks again for the same node.
  }, [focusRequest?.index, focusRequest?.nonce, model, tree, centreOn, requestExpanded]);

  // Size, pixel ratio and theme.
  useEffect(() => {
    const container = containerRef.current;
    const canvas = canvasRef.current;
    if (!container || !canvas) return;
    const resize = () => {
      const rect = container.getBoundingClientRect();
      const dpr = window.devicePixelRatio || 1;
      const v = view.current;
      const [oldWidth, oldHeight] = [v.width, v.height];
      v.width = Math.max(0, Math.floor(rect.width));
      v.height = Math.max(0, Math.floor(rect.height));
      v.dpr = dpr;
      canvas.width = Math.max(1, Math.round(v.width * dpr));
      canvas.height = Math.max(1, Math.round(v.height * dpr));
      canvas.style.width = `${v.width}px`;
      canvas.style.height = `${v.height}px`;
      if (v.width === 0 || v.height === 0) return;
      if (fitOnArrival.current && layoutRef.current) {
        fitOnArrival.current = false;
        initialView();
      } else {
        // Keep the centre where it was.
        v.x += (v.width - oldWidth) / 2;
        v.y += (v.height - oldHeight) / 2;
        clampView();
      }
      sizeMinimap();
      flushDraw();
    };
    const sizeMinimap = () => {
      const minimap = minimapRef.current;
      const l = layoutRef.current;
      if (!minimap || !l) return;
      const dpr = view.current.dpr;
      const height = Math.round(Math.min(MINIMAP_MAX_HEIGHT, Math.max(40, (MINIMAP_WIDTH * l.height) / Math.max(1, l.width))));
      minimap.width = MINIMAP_WIDTH * dpr;
      minimap.height = height * dpr;
      minimap.style.width = `${MINIMAP_WIDTH}px`;
      minimap.style.height = `${height}px`;
    };
    sizeMinimapRef.current = sizeMinimap;
    const observer = new ResizeObserver(resize);
    observer.observe(container);
    const pixelRatio = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    pixelRatio.addEventListener('change', resize);
    const themeChanged = () => {
      palette.current = null;
      minimapVersion.current++;
      requestDraw();
    };
    const themeObserver = new MutationObserver(themeChanged);
    themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme', 'class', 'style'] });
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', themeChanged);
    return () => {
      observer.disconnect();
      themeObserver.disconnect();
      pixelRatio.removeEventListener('change', resize);
      scheme.removeEventListener('change', themeChanged);
      if (frame.current !== 0) cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [clampView, flushDraw, initialView, requestDraw]);
  useEffect(() => {
    sizeMinimapRef.current();
    requestDraw();
  }, [shownLayout, requestDraw]);

  // Wheel zoom needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      const rect = canvas.getBoundingClientRect();
      const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
      zoomAt(Math.exp(-event.deltaY * lines * 0.0015), event.clientX - rect.left, event.clientY - rect.top);
    };
    canvas.addEventListener('wheel', onWheel, { passive: false });
    return () => canvas.removeEventListener('wheel', onWheel);
  }, [zoomAt]);

  const toggleGroup = useCallback(
    (id: number, expand: boolean) => {
      const l = layoutRef.current;
      const node = l?.nodes[id];
      if (!l || !node || node.kind !== 'group') return;
      const v = view.current;
      const anchor = { id, screenX: node.x * v.scale + v.x, screenY: (node.y - node.height / 2) * v.scale + v.y };
      const group = node.index;
      // Collapsing a group collapses the groups inside it too, so expanding it again opens one level.
      const inside = (g: number) => {
        for (let p = spec.items[spec.groupBase + g].parent; p >= 0; p = spec.items[p].parent) if (p === id) return true;
        return false;
      };
      const next = expand ? [...l.expanded, group] : l.expanded.filter((g) => g !== group && !inside(g));
      requestExpanded(next, anchor);
    },
    [requestExpanded, spec]
  );

  const expandAll = useCallback(() => requestExpanded(tree.groups.map((g) => g.id), centreAnchor()), [requestExpanded, tree, centreAnchor]);
  const collapseAll = useCallback(() => requestExpanded([], centreAnchor()), [requestExpanded, centreAnchor]);

  // Drag to pan, click to select (or expand / collapse a group), hover for the tooltip.
  const drag = useRef<{ pointer: number; startX: number; startY: number; lastX: number; lastY: number; moved: boolean } | null>(null);

  const worldAt = (clientX: number, clientY: number): [number, number] => {
    const rect = canvasRef.current?.getBoundingClientRect();
    const v = view.current;
    return [(clientX - (rect?.left ?? 0) - v.x) / v.scale, (clientY - (rect?.top ?? 0) - v.y) / v.scale];
  };

  const updateHover = (clientX: number, clientY: number) => {
    const l = layoutRef.current;
    if (!l) return;
    const [wx, wy] = worldAt(clientX, clientY);
    const hovered = hitTest(l, wx, wy);
    const header = hovered === null ? frameHeaderAt(l, wx, wy) : null;
    const canvas = canvasRef.current;
    if (canvas) canvas.style.cursor = drag.current?.moved ? 'grabbing' : hovered !== null || header ? 'pointer' : 'grab';
    if (hovered !== drawState.current.hovered) {
      drawState.current.hovered = hovered;
      requestDraw();
    }
    showTooltip(hovered ?? (header ? header.id : null), clientX, clientY);
  };

  const showTooltip = (id: number | null, clientX: number, clientY: number) => {
    const tooltip = tooltipRef.current;
    const container = containerRef.current;
    const l = layoutRef.current;
    if (!tooltip || !container || !l) return;
    if (id === null || drag.current?.moved) {
      tooltip.hidden = true;
      return;
    }
    const key = `${model.id}:${l.expanded.join(',')}:${id}:${partitionVersion.current}:${overlay}`;
    if (tooltip.dataset.key !== key) {
      tooltip.dataset.key = key;
      fillTooltip(tooltip, { model, tree, layout: l, id, paint: drawState.current.paint, latencies, totals: groupTotals, partition });
    }
    const rect = container.getBoundingClientRect();
    tooltip.hidden = false;
    const x = Math.min(clientX - rect.left + 14, rect.width - tooltip.offsetWidth - 6);
    const y = clientY - rect.top + 16 + tooltip.offsetHeight > rect.height ? clientY - rect.top - tooltip.offsetHeight - 10 : clientY - rect.top + 16;
    tooltip.style.transform = `translate(${Math.max(4, x)}px, ${Math.max(4, y)}px)`;
  };

  const onPointerDown = (event: PointerEvent<HTMLCanvasElement>) => {
    if (event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { pointer: event.pointerId, startX: event.clientX, startY: event.clientY, lastX: event.clientX, lastY: event.clientY, moved: false };
  };

  const onPointerMove = (event: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    if (d && d.pointer === event.pointerId) {
      if (!d.moved && Math.hypot(event.clientX - d.startX, event.clientY - d.startY) > DRAG_THRESHOLD) {
        d.moved = true;
        event.currentTarget.style.cursor = 'grabbing';
        hideTooltip();
      }
      if (d.moved) {
        panBy(event.clientX - d.lastX, event.clientY - d.lastY);
        d.lastX = event.clientX;
        d.lastY = event.clientY;
        return;
      }
    }
    updateHover(event.clientX, event.clientY);
  };

  const onPointerUp = (event: PointerEvent<HTMLCanvasElement>) => {
    const d = drag.current;
    const l = layoutRef.current;
    if (!d || d.pointer !== event.pointerId || !l) return;
    drag.current = null;
    if (!d.moved) {
      const [wx, wy] = worldAt(event.clientX, event.clientY);
      const hit = hitTest(l, wx, wy);
      const node = hit === null ? null : l.nodes[hit];
      const header = hit === null ? frameHeaderAt(l, wx, wy) : null;
      if (node?.kind === 'group') toggleGroup(node.id, true);
      else if (header) toggleGroup(header.id, false);
      else onSelectRef.current(node && node.kind === 'node' ? node.index : null);
    }
    updateHover(event.clientX, event.clientY);
  };

  const onPointerLeave = () => {
    if (drag.current) return;
    hideTooltip();
    requestDraw();
  };

  /**
   * The neighbour of the selection in a direction: down to the first consumer and up to the
   * latest producer in topological order (so a residual block is walked through, not
   * skipped), left and right to the next layer of the same rank.
   */
  const neighbour = (from: number, key: string): number | null => {
    const l = layoutRef.current;
    if (!l) return null;
    const node = l.nodes[from];
    const layers = (ids: number[]) => ids.filter((id) => l.nodes[id]?.kind === 'node');
    if (key === 'ArrowDown') {
      const next = layers(l.outgoing[from].map((e) => l.edges[e].to));
      return next.length > 0 ? Math.min(...next) : null;
    }
    if (key === 'ArrowUp') {
      const previous = layers(l.incoming[from].map((e) => l.edges[e].from));
      return previous.length > 0 ? Math.max(...previous) : null;
    }
    const row = l.visible.map((id) => l.nodes[id]).filter((n) => n.kind === 'node' && Math.abs(n.y - node.y) < 1 && n.id !== from);
    const side = row.filter((n) => (key === 'ArrowLeft' ? n.x < node.x : n.x > node.x));
    side.sort((a, b) => Math.abs(a.x - node.x) - Math.abs(b.x - node.x));
    return side[0]?.id ?? null;
  };

  const zoomToSelection = useCallback(() => {
    const l = layoutRef.current;
    const id = drawState.current.selected;
    if (!l || id === null) return;
    const rect = boundsOf(l, [id]);
    if (rect) fitRect(rect, 1.5, 120);
  }, [fitRect]);

  const zoomToMatches = useCallback(() => {
    const l = layoutRef.current;
    const mask = drawState.current.matches;
    if (!l || !mask) return;
    const rect = boundsOf(l, l.visible.filter((id) => mask[id] === 1));
    if (rect) fitRect(rect, 1.25);
  }, [fitRect]);

  const zoomToCut = useCallback(() => {
    const l = layoutRef.current;
    const paint = drawState.current.paint;
    if (!l || !paint) return;
    const ids = new Set<number>();
    // What goes up (the cut itself); results coming down at the output are left out.
    paint.edgeMarks.forEach((mark, e) => {
      if (mark !== 1) return;
      ids.add(l.edges[e].from);
      ids.add(l.edges[e].to);
    });
    for (const id of l.visible) if (paint.side[id] === SIDE_BOTH) ids.add(id);
    const rect = boundsOf(l, ids);
    if (rect) fitRect(rect, 1);
  }, [fitRect]);

  const onKeyDown = (event: KeyboardEvent<HTMLCanvasElement>) => {
    const v = view.current;
    switch (event.key) {
      case 'f':
      case 'F':
        fit();
        break;
      case '+':
      case '=':
        zoomAt(ZOOM_STEP, v.width / 2, v.height / 2);
        break;
      case '-':
      case '_':
        zoomAt(1 / ZOOM_STEP, v.width / 2, v.height / 2);
        break;
      case '0':
        zoomAt(1 / v.scale, v.width / 2, v.height / 2);
        break;
      case 'Escape':
        onSelectRef.current(null);
        break;
      case 'ArrowDown':
      case 'ArrowUp':
      case 'ArrowLeft':
      case 'ArrowRight': {
        const current = drawState.current.selected;
        const next = current === null ? (model.nodes.length > 0 ? (layoutRef.current?.visible.find((id) => layoutRef.current?.nodes[id].kind === 'node') ?? null) : null) : neighbour(current, event.key);
        if (next !== null) {
          onSelectRef.current(next);
          reveal(next);
        }
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  };

  // Minimap: click or drag to move the view there.
  const minimapDrag = useRef(false);
  const moveToMinimapPoint = (clientX: number, clientY: number) => {
    const minimap = minimapRef.current;
    const l = layoutRef.current;
    if (!minimap || !l) return;
    const rect = minimap.getBoundingClientRect();
    const t = minimapTransform(l, rect.width, rect.height);
    const wx = (clientX - rect.left - t.x) / t.scale;
    const wy = (clientY - rect.top - t.y) / t.scale;
    const v = view.current;
    v.x = v.width / 2 - wx * v.scale;
    v.y = v.height / 2 - wy * v.scale;
    viewMoved();
  };

  // Test and benchmark hooks.
  useEffect(() => {
    const whenLaidOut = () => new Promise<void>((resolve) => layoutWaiters.current.push(resolve));
    const hooks: GraphTestHooks = {
      nodeScreenPosition(index) {
        const canvas = canvasRef.current;
        const node = layoutRef.current?.nodes[index];
        if (!canvas || !node || node.kind !== 'node' || !node.visible) return null;
        const rect = canvas.getBoundingClientRect();
        const v = view.current;
        const x = node.x * v.scale + v.x;
        const y = node.y * v.scale + v.y;
        if (x < 0 || y < 0 || x > v.width || y > v.height) return null;
        return { x: rect.left + x, y: rect.top + y };
      },
      groupScreenPosition(label) {
        const canvas = canvasRef.current;
        const l = layoutRef.current;
        if (!canvas || !l) return null;
        const rect = canvas.getBoundingClientRect();
        const v = view.current;
        const box = l.visible.map((id) => l.nodes[id]).find((n) => n.kind === 'group' && n.label === label);
        if (box) return { x: rect.left + box.x * v.scale + v.x, y: rect.top + box.y * v.scale + v.y, expanded: false };
        const frameOf = l.frames.find((f) => f.label === label);
        if (frameOf) return { x: rect.left + (frameOf.x + 30) * v.scale + v.x, y: rect.top + (frameOf.y + 10) * v.scale + v.y, expanded: true };
        return null;
      },
      measurePan(frames, options = {}) {
        const zoom = options.zoom ?? 'current';
        const mode = options.mode ?? 'pan';
        if (zoom === 'fit') fit();
        else if (typeof zoom === 'number') zoomAt(zoom / view.current.scale, view.current.width / 2, view.current.height / 2);
        flushDraw();
        const startScale = view.current.scale;
        const ctx = canvasRef.current?.getContext('2d');
        return new Promise((resolve) => {
          const work: number[] = [];
          const intervals: number[] = [];
          let previous = 0;
          let direction = 1;
          let step = 0;
          const onFrame = (time: number) => {
            if (previous !== 0) intervals.push(time - previous);
            previous = time;
            const start = performance.now();
            // Back and forth, 20 frames each way, so the content measured stays what the zoom shows.
            if (step > 0 && step % 20 === 0) direction = -direction;
            if (mode === 'pan') panBy(0, -9 * direction);
            else zoomAt(direction > 0 ? 1.03 : 1 / 1.03, view.current.width / 2, view.current.height / 2);
            flushDraw();
            ctx?.getImageData(0, 0, 1, 1); // make the canvas raster now, inside the measured time
            work.push(performance.now() - start);
            if (++step < frames) requestAnimationFrame(onFrame);
            else
              resolve({
                medianMs: quantile(work, 0.5),
                p95Ms: quantile(work, 0.95),
                frameIntervalMedianMs: quantile(intervals, 0.5),
                frames: work.length,
                drawnNodes: Number(canvasRef.current?.dataset.drawnNodes ?? 0),
                scale: mode === 'pan' ? view.current.scale : startScale
              });
          };
          requestAnimationFrame(onFrame);
        });
      },
      revealNode(index) {
        const l = layoutRef.current;
        if (!l || index < 0 || index >= modelRef.current.nodes.length) return Promise.resolve();
        const hidden = groupsToReveal(tree, index, new Set(l.expanded));
        if (hidden.length === 0) {
          centreOn(index, true);
          flushDraw();
          return Promise.resolve();
        }
        const done = whenLaidOut();
        pendingFocus.current = { index, zoomIn: true };
        requestExpanded([...l.expanded, ...hidden], null);
        return done;
      },
      expandAll() {
        const done = whenLaidOut();
        expandAll();
        return done;
      },
      collapseAll() {
        const done = whenLaidOut();
        collapseAll();
        return done;
      },
      fit: () => {
        fit();
        flushDraw();
      },
      zoom: () => view.current.scale
    };
    const global = window as unknown as { __studio?: Record<string, unknown> };
    global.__studio = { ...global.__studio, graph: hooks };
    return () => {
      if (global.__studio?.graph === hooks) delete global.__studio.graph;
    };
  }, [fit, flushDraw, panBy, zoomAt, expandAll, collapseAll, tree, centreOn, requestExpanded]);

  const families = useMemo(() => {
    if (!shownLayout) return [];
    const present = new Set(shownLayout.visible.map((id) => shownLayout.nodes[id].family));
    return [...present].sort((a, b) => familyOrder(a) - familyOrder(b));
  }, [shownLayout]);
  const zoomButton = (factor: number) => () => zoomAt(factor, view.current.width / 2, view.current.height / 2);
  const collapsedCount = shownLayout ? shownLayout.visible.filter((id) => shownLayout.nodes[id].kind === 'group').length : 0;
  const pins = partitionPicker?.pins ?? [];
  const crossingCount = partition ? partition.uploads.length : 0;

  return (
    <div className="graph-view" ref={containerRef}>
      <canvas
        ref={canvasRef}
        className="graph-canvas"
        data-testid="graph-canvas"
        data-layout-ms={layoutInfo.ms.toFixed(1)}
        data-layout-where={layoutInfo.where}
        data-laying-out={layingOut ? 'true' : 'false'}
        data-node-count={model.nodes.length}
        data-visible-items={shownLayout?.visible.length ?? 0}
        data-group-count={tree.groups.length}
        data-collapsed-groups={collapsedCount}
        data-expanded-groups={shownLayout?.expanded.length ?? 0}
        data-overlay={overlay}
        data-shown-partition={partition ? partition.choice.kind : 'none'}
        data-shown-cut={partition ? (partition.cut === null ? 'dag' : String(partition.cut)) : ''}
        data-local-count={partition?.localCount ?? ''}
        data-crossing={crossingCount}
        data-upload-bytes={partition?.uploadBytes ?? ''}
        data-cut-markers={pins.join(',')}
        tabIndex={0}
        role="application"
        aria-label={`Graph of ${model.fileName}: ${model.nodes.length} layers. Click a group to expand it. Arrow keys move the selection, F fits, plus and minus zoom.`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (drag.current = null)}
        onPointerLeave={onPointerLeave}
        onDoubleClick={(event) => {
          const l = layoutRef.current;
          if (!l) return;
          const [wx, wy] = worldAt(event.clientX, event.clientY);
          if (hitTest(l, wx, wy) === null && !frameHeaderAt(l, wx, wy)) fit();
        }}
        onKeyDown={onKeyDown}
      />
      <div className="graph-tooltip" ref={tooltipRef} hidden />
      {layoutError !== null ? (
        <div className="graph-laying-out graph-layout-error" role="alert">
          Could not lay out the graph: {layoutError}
        </div>
      ) : (
        !shownLayout && (
          <div className="graph-laying-out" role="status">
            <span className="spinner" aria-hidden="true" /> Laying out {model.nodes.length.toLocaleString('en-US')} layers…
          </div>
        )
      )}
      <div className="graph-topbar">
        {partitionPicker && <PartitionCard picker={partitionPicker} partition={partition} model={model} onShow={zoomToCut} />}
        <div className="graph-topbar-right">
          {layingOut && shownLayout && <span className="graph-busy" role="status">Laying out…</span>}
          <label className="graph-field">
            <span>Colour</span>
            <select aria-label="Colour nodes by" value={overlay} onChange={(event) => isOverlayMetric(event.target.value) && setOverlay(event.target.value)} data-testid="graph-overlay">
              {OVERLAYS.map((o) => (
                <option key={o.metric} value={o.metric}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          {tree.groups.length > 0 && (
            <span className="graph-button-group">
              <button type="button" onClick={expandAll} title="Expand every group" disabled={shownLayout?.expanded.length === tree.groups.length}>
                Expand all
              </button>
              <button type="button" onClick={collapseAll} title="Collapse every group" disabled={shownLayout?.expanded.length === 0}>
                Collapse all
              </button>
            </span>
          )}
        </div>
      </div>
      {search.trim() !== '' && (
        <div className="graph-search-status" data-testid="graph-search-status">
          {matches.length === 0 ? (
            'No layer matches'
          ) : (
            <>
              {matches.length} of {model.nodes.length} layers match
              <button type="button" className="graph-link" onClick={zoomToMatches}>
                Zoom to matches
              </button>
            </>
          )}
        </div>
      )}
      <div className="graph-legend" aria-label="Legend" data-testid="graph-legend">
        {partition && (
          <span className="graph-legend-row">
            <span className="graph-legend-item">
              <i className="graph-swatch side-device" />
              Device
            </span>
            <span className="graph-legend-item">
              <i className="graph-swatch side-server" />
              Server
            </span>
            <span className="graph-legend-item">
              <i className="graph-line line-upload" />
              Upload
            </span>
            {partition.downloads.length > 0 && (
              <span className="graph-legend-item">
                <i className="graph-line line-download" />
                Download
              </span>
            )}
          </span>
        )}
        {overlay === 'op' ? (
          <span className="graph-legend-row">
            {families.map((family) => (
              <span key={family} className="graph-legend-item" title={FAMILY_NAMES[family][1]}>
                <i className={`graph-swatch op-${family}`} />
                {FAMILY_NAMES[family][0]}
              </span>
            ))}
          </span>
        ) : (
          <OverlayLegend metric={overlay} scale={overlayScale} latencies={latencies} />
        )}
      </div>
      <div className="graph-corner">
        {shownLayout && shownLayout.visible.length > 1 && (
          <canvas
            ref={minimapRef}
            className="graph-minimap"
            data-testid="graph-minimap"
            aria-label="Minimap: click to move the view"
            onPointerDown={(event) => {
              event.currentTarget.setPointerCapture(event.pointerId);
              minimapDrag.current = true;
              moveToMinimapPoint(event.clientX, event.clientY);
            }}
            onPointerMove={(event) => minimapDrag.current && moveToMinimapPoint(event.clientX, event.clientY)}
            onPointerUp={() => (minimapDrag.current = false)}
            onPointerCancel={() => (minimapDrag.current = false)}
          />
        )}
        <div className="graph-controls">
          <button type="button" onClick={zoomButton(1 / ZOOM_STEP)} title="Zoom out (−)" aria-label="Zoom out">
            −
          </button>
          <span className="graph-zoom" ref={zoomLabelRef} />
          <button type="button" onClick={zoomButton(ZOOM_STEP)} title="Zoom in (+)" aria-label="Zoom in">
            +
          </button>
          <button type="button" onClick={zoomToSelection} title="Zoom to the selected layer" disabled={selected === null}>
            Selection
          </button>
          <button type="button" onClick={fit} title="Fit the graph as shown (F or double-click); collapse groups for an overview">
            Fit
          </button>
        </div>
      </div>
    </div>
  );
}

/** The partition picker and what it shows: title, cut, bytes up and down, layers per side. */
function PartitionCard({ picker, partition, model, onShow }: { picker: PartitionPicker; partition: ShownPartition | null; model: ModelView; onShow: () => void }) {
  const value = picker.choice.kind === 'pinned' ? `pinned:${picker.choice.cut}` : picker.choice.kind;
  const choose = (next: string) => {
    if (next.startsWith('pinned:')) picker.onChange({ kind: 'pinned', cut: Number(next.slice(7)) });
    else if (next === 'best' || next === 'dag' || next === 'none') picker.onChange({ kind: next });
  };
  return (
    <div className="graph-partition" data-testid="graph-partition">
      <select aria-label="Partition shown on the graph" value={value} onChange={(event) => choose(event.target.value)}>
        <option value="best">Best for {picker.objective}</option>
        {picker.pins.map((cut) => (
          <option key={cut} value={`pinned:${cut}`}>
            Pinned cut {cut}
          </option>
        ))}
        {picker.hasDag && <option value="dag">DAG min cut</option>}
        <option value="none">No partition</option>
      </select>
      {partition && (
        <>
          {partition.cut !== null && (
            <span className="graph-partition-detail" title={partition.detail}>
              {partitionDetail(partition)}
            </span>
          )}
          <span className="graph-partition-figures">
            <span className="side-device-text">{partition.localCount}</span>
            <span className="muted">/</span>
            <span className="side-server-text">{model.nodes.length - partition.localCount}</span>
            <span className="muted"> layers · </span>
            {partition.uploads.length === 0 && partition.downloads.length === 0 ? (
              <span className="muted">nothing crosses</span>
            ) : (
              <>
                <span className="upload-text">↑ {formatBytes(partition.uploadBytes)}</span>
                {partition.downloadBytes > 0 && <span className="download-text"> ↓ {formatBytes(partition.downloadBytes)}</span>}
              </>
            )}
            <span className="muted"> · {formatMs(partition.cost.totalMs)}</span>
          </span>
          {(partition.uploads.length > 0 || partition.downloads.length > 0) && (
            <button type="button" className="graph-link" onClick={onShow} title="Zoom to the edges that cross">
              Show cut
            </button>
          )}
        </>
      )}
    </div>
  );
}

/** "cut 37 · after /layer2/layer2.3/relu_2/Relu", "cut 0 · cloud-only", "412 of 1,026 layers on the device". */
function partitionDetail(partition: ShownPartition): string {
  if (partition.cut === null) return partition.detail;
  const match = /^cut \d+ \((.*)\)$/.exec(partition.detail);
  return match ? `${partition.shortLabel} · ${match[1]}` : partition.detail;
}

function OverlayLegend({ metric, scale, latencies }: { metric: OverlayMetric; scale: ColourScale | null; latencies: GraphLatencies | null }) {
  const label = OVERLAYS.find((o) => o.metric === metric)?.label ?? metric;
  const source = metric === 'localMs' ? latencies?.localSource : metric === 'remoteMs' ? latencies?.remoteSource : null;
  if (!scale) return <span className="graph-legend-row muted">{label}: no values</span>;
  return (
    <span className="graph-legend-row graph-scale" data-testid="graph-scale" data-scale-kind={scale.kind}>
      <span className="graph-scale-title">
        {label}
        {source ? ` (${source})` : ''}
        {scale.kind === 'log' ? ' · log scale' : ''}
      </span>
      <span className="graph-scale-bar">
        <span className="graph-scale-ramp" style={{ background: `linear-gradient(to right, ${RAMP.join(', ')})` }} />
        <span className="graph-scale-ticks">
          {scale.ticks.map((tick, k) => (
            <span key={k} style={{ left: `${tick.position * 100}%` }} className={tick.position === 0 ? 'first' : tick.position === 1 ? 'last' : undefined}>
              {formatOverlayValue(metric, tick.value).replace(' MACs', '')}
            </span>
          ))}
        </span>
      </span>
      <span className="graph-legend-item">
        <i className="graph-swatch no-data" />
        none
      </span>
    </span>
  );
}

function familyOrder(family: OpFamily): number {
  return ['io', 'group', 'conv', 'fc', 'pool', 'activation', 'norm', 'elementwise', 'shape', 'other'].indexOf(family);
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface TooltipFacts {
  model: ModelView;
  tree: ModuleTree;
  layout: GraphLayout;
  id: number;
  paint: DrawState['paint'];
  latencies: GraphLatencies | null;
  totals: { macs: Float64Array; params: Float64Array; local: Float64Array | null; remote: Float64Array | null };
  partition: ShownPartition | null;
}

/** The hover card: built with DOM text nodes, never HTML, since names come from the file. */
function fillTooltip(tooltip: HTMLElement, facts: TooltipFacts): void {
  const { model, tree, layout, id, paint, latencies, totals, partition } = facts;
  const laidOut = layout.nodes[id];
  const line = (className: string, text: string) => {
    const div = document.createElement('div');
    div.className = className;
    div.textContent = text;
    return div;
  };
  tooltip.replaceChildren();
  if (laidOut.kind === 'input' || laidOut.kind === 'output') {
    const tensor = laidOut.kind === 'input' ? model.inputs[laidOut.index] : model.outputs[laidOut.index];
    tooltip.append(
      line('graph-tooltip-title', `${laidOut.kind === 'input' ? 'Input' : 'Output'} ${tensor.name}`),
      line('graph-tooltip-row', `${formatElementType(tensor.elementType)} ${formatShape(tensor.shape)} · ${formatBytes(tensor.bytes)}`)
    );
    return;
  }
  if (laidOut.kind === 'group') {
    const group = tree.groups[laidOut.index];
    const expanded = !laidOut.visible;
    tooltip.append(
      line('graph-tooltip-title', `${group.label}  ${expanded ? '(click the label to collapse)' : '(click to expand)'}`),
      line('graph-tooltip-name', group.path),
      line('graph-tooltip-row', `${group.last - group.first + 1} layers (#${group.first}–#${group.last}) · ${formatCount(totals.macs[group.id])} MACs · ${formatCount(totals.params[group.id])} params`)
    );
    if (totals.local && totals.remote) tooltip.append(line('graph-tooltip-row', `device ${formatMs(totals.local[group.id])} · server ${formatMs(totals.remote[group.id])} (summed)`));
    if (paint && partition) {
      const local = Math.round(paint.localFraction[id] * (group.last - group.first + 1));
      const side = paint.side[id];
      tooltip.append(
        line(
          'graph-tooltip-side',
          side === SIDE_BOTH ? `${partition.shortLabel} runs through it: ${local} layers on the device, ${group.last - group.first + 1 - local} on the server` : side === SIDE_DEVICE ? 'On the device' : 'On the server'
        )
      );
    }
    return;
  }
  const node = model.nodes[laidOut.index];
  tooltip.append(line('graph-tooltip-title', `${node.opType}  #${node.index}`), line('graph-tooltip-name', node.name));
  for (const output of node.outputs) tooltip.append(line('graph-tooltip-row', `→ ${formatElementType(output.elementType)} ${formatShape(output.shape)} · ${formatBytes(output.bytes)}`));
  if (node.macs !== null && node.macs > 0) tooltip.append(line('graph-tooltip-row', `${formatCount(node.macs)} MACs · ${formatCount(node.params)} params`));
  if (latencies) tooltip.append(line('graph-tooltip-row', `device ${formatMs(latencies.localMs[node.index])} · server ${formatMs(latencies.remoteMs[node.index])}`));
  if (paint) tooltip.append(line('graph-tooltip-side', paint.side[id] === SIDE_DEVICE ? 'On the device' : 'On the server'));
}
