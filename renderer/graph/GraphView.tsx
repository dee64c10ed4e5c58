// The model graph: a canvas that draws layout.ts's boxes and edges with draw.ts. Props
// only (no store, no contract); the shell passes the model, the selection and the search.
// Pan, zoom, hover and the frame loop live in refs, not React state: a frame is drawn on
// requestAnimationFrame only when something changed, and React re-renders only when the
// props do. Wheel zooms around the cursor, drag pans, double-click or F fits, arrow keys
// walk the selection along edges, +/- zoom, 0 is 100 %, Escape clears the selection.
//
// Test and benchmark hooks (documented for e2e and bench-studio): the canvas carries
// data-testid="graph-canvas", data-node-count, data-layout-ms, and after every frame
// data-drawn-nodes (nodes drawn) and data-drawn-model (the id of the model drawn), and
// data-cut-markers (the pinned cuts marked, comma-separated);
// window.__studio.graph = { nodeScreenPosition(index), measurePan(frames, options?), fit(),
// zoom() } — see GraphTestHooks.
import { useCallback, useEffect, useMemo, useRef, type JSX, type KeyboardEvent, type PointerEvent } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatBytes, formatElementType, formatShape } from '../format.js';
import { DETAIL, drawGraph, hitTest, readPalette, TextMeasure, type DrawState, type GraphPalette, type Viewport } from './draw.js';
import { layoutModel, searchNodes, type GraphLayout, type LaidOutNode, type OpFamily } from './layout.js';
import './graph.css';

export interface GraphViewProps {
  model: ModelView;
  selected: number | null;
  onSelect: (index: number | null) => void;
  search: string;
  /** Centres the node with this index; a new nonce repeats the request for the same node. */
  focusRequest?: { index: number; nonce: number };
  /** Topological cuts pinned in the split panel: nodes on the device under them get a strip (draw.ts cutSides). */
  cutMarkers?: readonly number[];
}

export interface PanMeasurement {
  /** Median and 95th percentile of the work per frame: the pan step, the draw and a forced raster. */
  medianMs: number;
  p95Ms: number;
  /** Median time between animation frames while panning (vsync-bound when the work fits in a frame). */
  frameIntervalMedianMs: number;
  frames: number;
  /** Nodes drawn per frame at the zoom measured. */
  drawnNodes: number;
  scale: number;
}

export interface GraphTestHooks {
  /** Centre of a model node in viewport (client) coordinates, or null when it is unknown or off-screen. */
  nodeScreenPosition(index: number): { x: number; y: number } | null;
  /** Pans the view by a few pixels per animation frame through the drag code path and times the frames. */
  measurePan(frames: number, options?: { zoom?: 'current' | 'fit' | number }): Promise<PanMeasurement>;
  fit(): void;
  zoom(): number;
}

interface CachedLayout {
  layout: GraphLayout;
  ms: number;
}

/** Layouts of the models opened lately, by model id: reopening or switching back is instant. */
const layoutCache = new Map<string, CachedLayout>();
const LAYOUT_CACHE_SIZE = 6;

function cachedLayout(model: ModelView): CachedLayout {
  const key = `${model.id}:${model.nodes.length}`;
  const hit = layoutCache.get(key);
  if (hit) return hit;
  const start = performance.now();
  const layout = layoutModel(model);
  const entry = { layout, ms: performance.now() - start };
  layoutCache.set(key, entry);
  if (layoutCache.size > LAYOUT_CACHE_SIZE) layoutCache.delete(layoutCache.keys().next().value as string);
  return entry;
}

const MAX_SCALE = 4;
const ZOOM_STEP = 1.25;
const DRAG_THRESHOLD = 4;

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
  io: ['I/O', 'Graph inputs and outputs']
};

export function GraphView({ model, selected, onSelect, search, focusRequest, cutMarkers }: GraphViewProps): JSX.Element {
  const { layout, ms: layoutMs } = useMemo(() => cachedLayout(model), [model]);
  const matches = useMemo(() => searchNodes(model, search), [model, search]);

  const containerRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const tooltipRef = useRef<HTMLDivElement>(null);
  const zoomLabelRef = useRef<HTMLSpanElement>(null);

  const view = useRef<Viewport>({ scale: 1, x: 0, y: 0, width: 0, height: 0, dpr: 1 });
  const fittedLayout = useRef<GraphLayout | null>(null);
  const drawState = useRef<DrawState>({ selected: null, hovered: null, matches: null });
  const palette = useRef<GraphPalette | null>(null);
  const textMeasure = useRef(new TextMeasure());
  const frame = useRef(0);
  const layoutRef = useRef(layout);
  layoutRef.current = layout;
  const modelIdRef = useRef(model.id);
  modelIdRef.current = model.id;
  const onSelectRef = useRef(onSelect);
  onSelectRef.current = onSelect;

  const drawNow = useCallback(() => {
    const canvas = canvasRef.current;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx || view.current.width === 0) return;
    palette.current ??= readPalette(canvas);
    const drawn = drawGraph(ctx, layoutRef.current, view.current, palette.current, drawState.current, textMeasure.current);
    canvas.dataset.drawnNodes = String(drawn);
    canvas.dataset.drawnModel = modelIdRef.current;
    if (zoomLabelRef.current) zoomLabelRef.current.textContent = `${Math.round(view.current.scale * 100)} %`;
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

  const minScale = useCallback(() => {
    const { width, height } = view.current;
    const l = layoutRef.current;
    const fit = Math.min(width / Math.max(1, l.width), height / Math.max(1, l.height));
    return Math.min(0.5, fit * 0.8);
  }, []);

  /** Keeps some of the graph on screen whatever the pan. */
  const clampView = useCallback(() => {
    const v = view.current;
    const l = layoutRef.current;
    const keep = 80;
    v.x = Math.min(v.width - keep, Math.max(keep - l.width * v.scale, v.x));
    v.y = Math.min(v.height - keep, Math.max(keep - l.height * v.scale, v.y));
  }, []);

  const panBy = useCallback(
    (dx: number, dy: number) => {
      view.current.x += dx;
      view.current.y += dy;
      clampView();
      requestDraw();
    },
    [clampView, requestDraw]
  );

  const zoomAt = useCallback(
    (factor: number, screenX: number, screenY: number) => {
      const v = view.current;
      const scale = Math.min(MAX_SCALE, Math.max(minScale(), v.scale * factor));
      const worldX = (screenX - v.x) / v.scale;
      const worldY = (screenY - v.y) / v.scale;
      v.scale = scale;
      v.x = screenX - worldX * scale;
      v.y = screenY - worldY * scale;
      clampView();
      requestDraw();
    },
    [clampView, minScale, requestDraw]
  );

  const fit = useCallback(() => {
    const v = view.current;
    const l = layoutRef.current;
    if (v.width === 0) return;
    v.scale = Math.min(1.5, Math.max(minScale(), Math.min(v.width / l.width, v.height / l.height)));
    v.x = (v.width - l.width * v.scale) / 2;
    v.y = (v.height - l.height * v.scale) / 2;
    requestDraw();
  }, [minScale, requestDraw]);

  /** First view of a model: all of it when its labels stay readable, else its top at a readable zoom. */
  const initialView = useCallback(() => {
    const v = view.current;
    const l = layoutRef.current;
    const fitScale = Math.min(v.width / l.width, v.height / l.height);
    if (fitScale >= DETAIL.sublabel) return fit();
    v.scale = Math.min(1, Math.max(DETAIL.sublabel, v.width / l.width));
    const top = l.nodes.reduce<LaidOutNode | null>((best, n) => (best === null || n.y < best.y ? n : best), null);
    v.x = l.width * v.scale <= v.width ? (v.width - l.width * v.scale) / 2 : v.width / 2 - (top?.x ?? 0) * v.scale;
    v.y = 0;
    clampView();
    requestDraw();
  }, [clampView, fit, requestDraw]);

  const centreOn = useCallback(
    (id: number, zoomIn: boolean) => {
      const v = view.current;
      const node = layoutRef.current.nodes[id];
      if (!node || v.width === 0) return;
      if (zoomIn && v.scale < DETAIL.sublabel) v.scale = 1;
      v.x = v.width / 2 - node.x * v.scale;
      v.y = v.height / 2 - node.y * v.scale;
      clampView();
      requestDraw();
    },
    [clampView, requestDraw]
  );

  /** Centres a node when it is off-screen or near the edge (keyboard navigation). */
  const reveal = useCallback(
    (id: number) => {
      const v = view.current;
      const node = layoutRef.current.nodes[id];
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

  // A new model: forget the hover, fit once the canvas has a size.
  useEffect(() => {
    drawState.current.hovered = null;
    if (canvasRef.current) canvasRef.current.dataset.layoutMs = layoutMs.toFixed(1);
    if (view.current.width > 0) {
      fittedLayout.current = layout;
      initialView();
    }
  }, [layout, layoutMs, initialView]);

  useEffect(() => {
    drawState.current.selected = selected !== null && selected >= 0 && selected < model.nodes.length ? selected : null;
    requestDraw();
  }, [selected, model, requestDraw]);

  useEffect(() => {
    if (search.trim() === '') {
      drawState.current.matches = null;
    } else {
      const mask = new Uint8Array(layout.nodes.length);
      for (const index of matches) mask[index] = 1;
      drawState.current.matches = mask;
    }
    requestDraw();
  }, [matches, search, layout, requestDraw]);

  const cutKey = cutMarkers?.join(',') ?? '';
  useEffect(() => {
    const cuts = cutKey === '' ? [] : cutKey.split(',').map(Number);
    if (cuts.length === 0) {
      drawState.current.cutSides = null;
    } else {
      const lowest = Math.min(...cuts);
      const highest = Math.max(...cuts);
      const sides = new Uint8Array(layout.nodes.length);
      for (const n of layout.nodes) if (n.kind === 'node') sides[n.id] = n.index < lowest ? 1 : n.index < highest ? 2 : 0;
      drawState.current.cutSides = sides;
    }
    requestDraw();
  }, [cutKey, layout, requestDraw]);

  useEffect(() => {
    if (focusRequest && focusRequest.index >= 0 && focusRequest.index < layout.nodes.length) centreOn(focusRequest.index, true);
    // The nonce is what asks again for the same node.
  }, [focusRequest?.index, focusRequest?.nonce, layout, centreOn]);

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
      if (fittedLayout.current !== layoutRef.current) {
        fittedLayout.current = layoutRef.current;
        initialView();
      } else {
        // Keep the centre where it was.
        v.x += (v.width - oldWidth) / 2;
        v.y += (v.height - oldHeight) / 2;
        clampView();
      }
      flushDraw();
    };
    const observer = new ResizeObserver(resize);
    observer.observe(container);
    const pixelRatio = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    pixelRatio.addEventListener('change', resize);
    const themeChanged = () => {
      palette.current = null;
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

  // Drag to pan, click to select, hover for the tooltip.
  const drag = useRef<{ pointer: number; startX: number; startY: number; lastX: number; lastY: number; moved: boolean } | null>(null);

  const worldAt = (clientX: number, clientY: number): [number, number] => {
    const rect = canvasRef.current?.getBoundingClientRect();
    const v = view.current;
    return [(clientX - (rect?.left ?? 0) - v.x) / v.scale, (clientY - (rect?.top ?? 0) - v.y) / v.scale];
  };

  const updateHover = (clientX: number, clientY: number) => {
    const [wx, wy] = worldAt(clientX, clientY);
    const hovered = hitTest(layoutRef.current, wx, wy);
    const canvas = canvasRef.current;
    if (canvas) canvas.style.cursor = drag.current?.moved ? 'grabbing' : hovered !== null ? 'pointer' : 'grab';
    if (hovered !== drawState.current.hovered) {
      drawState.current.hovered = hovered;
      requestDraw();
    }
    showTooltip(hovered, clientX, clientY);
  };

  const showTooltip = (id: number | null, clientX: number, clientY: number) => {
    const tooltip = tooltipRef.current;
    const container = containerRef.current;
    if (!tooltip || !container) return;
    if (id === null || drag.current?.moved) {
      tooltip.hidden = true;
      return;
    }
    if (tooltip.dataset.id !== String(id) || tooltip.dataset.model !== model.id) {
      tooltip.dataset.id = String(id);
      tooltip.dataset.model = model.id;
      fillTooltip(tooltip, model, layoutRef.current, id);
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
        if (tooltipRef.current) tooltipRef.current.hidden = true;
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
    if (!d || d.pointer !== event.pointerId) return;
    drag.current = null;
    if (!d.moved) {
      const [wx, wy] = worldAt(event.clientX, event.clientY);
      const hit = hitTest(layoutRef.current, wx, wy);
      const node = hit === null ? null : layoutRef.current.nodes[hit];
      onSelectRef.current(node && node.kind === 'node' ? node.index : null);
    }
    updateHover(event.clientX, event.clientY);
  };

  const onPointerLeave = () => {
    if (drag.current) return;
    drawState.current.hovered = null;
    if (tooltipRef.current) tooltipRef.current.hidden = true;
    requestDraw();
  };

  /**
   * The neighbour of the selection in a direction: down to the first consumer and up to the
   * latest producer in topological order (so a residual block is walked through, not
   * skipped), left and right to the next node of the same rank.
   */
  const neighbour = (from: number, key: string): number | null => {
    const l = layoutRef.current;
    const node = l.nodes[from];
    const modelNodes = (ids: number[]) => ids.filter((id) => l.nodes[id]?.kind === 'node');
    if (key === 'ArrowDown') {
      const next = modelNodes(l.outgoing[from].map((e) => l.edges[e].to));
      return next.length > 0 ? Math.min(...next) : null;
    }
    if (key === 'ArrowUp') {
      const previous = modelNodes(l.incoming[from].map((e) => l.edges[e].from));
      return previous.length > 0 ? Math.max(...previous) : null;
    }
    const row = l.nodes.filter((n) => n.kind === 'node' && Math.abs(n.y - node.y) < 1 && n.id !== from);
    const side = row.filter((n) => (key === 'ArrowLeft' ? n.x < node.x : n.x > node.x));
    side.sort((a, b) => Math.abs(a.x - node.x) - Math.abs(b.x - node.x));
    return side[0]?.id ?? null;
  };

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
        const next = current === null ? (model.nodes.length > 0 ? 0 : null) : neighbour(current, event.key);
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

  // Test and benchmark hooks.
  useEffect(() => {
    const hooks: GraphTestHooks = {
      nodeScreenPosition(index) {
        const canvas = canvasRef.current;
        const node = layoutRef.current.nodes[index];
        if (!canvas || !node || node.kind !== 'node') return null;
        const rect = canvas.getBoundingClientRect();
        const v = view.current;
        const x = node.x * v.scale + v.x;
        const y = node.y * v.scale + v.y;
        if (x < 0 || y < 0 || x > v.width || y > v.height) return null;
        return { x: rect.left + x, y: rect.top + y };
      },
      measurePan(frames, options = {}) {
        const zoom = options.zoom ?? 'current';
        if (zoom === 'fit') fit();
        else if (typeof zoom === 'number') zoomAt(zoom / view.current.scale, view.current.width / 2, view.current.height / 2);
        flushDraw();
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
            panBy(0, -9 * direction);
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
                scale: view.current.scale
              });
          };
          requestAnimationFrame(onFrame);
        });
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
  }, [fit, flushDraw, panBy, zoomAt]);

  const families = useMemo(() => [...new Set(layout.nodes.map((n) => n.family))].sort((a, b) => familyOrder(a) - familyOrder(b)), [layout]);
  const zoomButton = (factor: number) => () => zoomAt(factor, view.current.width / 2, view.current.height / 2);

  return (
    <div className="graph-view" ref={containerRef}>
      <canvas
        ref={canvasRef}
        className="graph-canvas"
        data-testid="graph-canvas"
        data-layout-ms={layoutMs.toFixed(1)}
        data-node-count={model.nodes.length}
        data-cut-markers={cutKey}
        tabIndex={0}
        role="application"
        aria-label={`Graph of ${model.fileName}: ${model.nodes.length} nodes. Arrow keys move the selection, F fits, plus and minus zoom.`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={() => (drag.current = null)}
        onPointerLeave={onPointerLeave}
        onDoubleClick={fit}
        onKeyDown={onKeyDown}
      />
      <div className="graph-tooltip" ref={tooltipRef} hidden />
      {search.trim() !== '' && (
        <div className="graph-search-status" data-testid="graph-search-status">
          {matches.length === 0 ? 'No layer matches' : `${matches.length} of ${model.nodes.length} layers match`}
        </div>
      )}
      <div className="graph-legend" aria-label="Op families">
        {families.map((family) => (
          <span key={family} className="graph-legend-item" title={FAMILY_NAMES[family][1]}>
            <i className={`graph-swatch op-${family}`} />
            {FAMILY_NAMES[family][0]}
          </span>
        ))}
      </div>
      <div className="graph-controls">
        <button type="button" onClick={zoomButton(1 / ZOOM_STEP)} title="Zoom out (−)" aria-label="Zoom out">
          −
        </button>
        <span className="graph-zoom" ref={zoomLabelRef} />
        <button type="button" onClick={zoomButton(ZOOM_STEP)} title="Zoom in (+)" aria-label="Zoom in">
          +
        </button>
        <button type="button" onClick={fit} title="Fit the graph (F or double-click)">
          Fit
        </button>
      </div>
    </div>
  );
}

function familyOrder(family: OpFamily): number {
  return ['io', 'conv', 'fc', 'pool', 'activation', 'norm', 'elementwise', 'shape', 'other'].indexOf(family);
}

function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The hover card: built with DOM text nodes, never HTML, since names come from the file. */
function fillTooltip(tooltip: HTMLElement, model: ModelView, layout: GraphLayout, id: number): void {
  const laidOut = layout.nodes[id];
  const line = (className: string, text: string) => {
    const div = document.createElement('div');
    div.className = className;
    div.textContent = text;
    return div;
  };
  tooltip.replaceChildren();
  if (laidOut.kind !== 'node') {
    const tensor = laidOut.kind === 'input' ? model.inputs[laidOut.index] : model.outputs[laidOut.index];
    tooltip.append(
      line('graph-tooltip-title', `${laidOut.kind === 'input' ? 'Input' : 'Output'} ${tensor.name}`),
      line('graph-tooltip-row', `${formatElementType(tensor.elementType)} ${formatShape(tensor.shape)} · ${formatBytes(tensor.bytes)}`)
    );
    return;
  }
  const node = model.nodes[laidOut.index];
  tooltip.append(line('graph-tooltip-title', `${node.opType}  #${node.index}`), line('graph-tooltip-name', node.name));
  for (const output of node.outputs) tooltip.append(line('graph-tooltip-row', `→ ${formatElementType(output.elementType)} ${formatShape(output.shape)} · ${formatBytes(output.bytes)}`));
}

