// The order in which a newly opened model's views appear, one view per main-thread task.
// Opening a thousand-layer model costs ~200 ms of rendering in all — the graph's spec, the
// split analysis with its DAG min cut, the split chart, recharts' two per-layer charts (each
// registers its bars in recharts' store and re-renders synchronously). Done in one render,
// that is one long block of the page. Here the graph comes first, then each stage below in
// a task of its own, each started by a timer armed after the previous stage committed, so
// no task holds the page for more than one view (the studio bench's longest-block figure).
// A view outside the provider, or showing another model than the one being opened, is
// never held back.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type JSX, type ReactNode } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';

/** The stages after the graph's first draw, in the order they appear. */
export const OPENING_STAGE = {
  /** The partition drawn on the graph (split analysis, DAG min cut). */
  graphSplit: 1,
  /** The split panel: per-split chart, star, presets. */
  splitPanel: 2,
  /** The per-layer compute chart. */
  computeChart: 3,
  /** The per-layer size chart, with its brush over every layer. */
  sizeChart: 4
} as const;

const LAST_STAGE = OPENING_STAGE.sizeChart;
/** How long stage 1 waits for the graph's first draw of a model. */
const GRAPH_WAIT_MS = 1500;
/** Where no frame comes (a hidden page), the next stage starts after this many ms. */
const HIDDEN_PAGE_STAGE_MS = 250;

interface OpeningState {
  model: ModelView | null;
  stage: number;
  /** Whether the graph has drawn `model` (stage 1 waits for it, or for GRAPH_WAIT_MS). */
  graphDrawn: boolean;
}

interface OpeningContextValue {
  model: ModelView | null;
  stage: number;
  /** The graph calls this when it has drawn a model. */
  graphDrawn: (model: ModelView) => void;
}

const OpeningContext = createContext<OpeningContextValue>({ model: null, stage: LAST_STAGE, graphDrawn: () => undefined });

/** Counts the stages of `model`'s opening, one per task; the views below read it with useOpeningStage. */
export function OpeningStagesProvider({ model, children }: { model: ModelView | null; children: ReactNode }): JSX.Element {
  const [state, setState] = useState<OpeningState>({ model, stage: LAST_STAGE, graphDrawn: true });
  // No model has nothing to stage: it counts as fully shown.
  const current: OpeningState = state.model === model ? state : model === null ? { model, stage: LAST_STAGE, graphDrawn: true } : { model, stage: 0, graphDrawn: false };
  const graphDrawn = useCallback(
    (drawn: ModelView) => setState((last) => (last.model !== drawn ? { model: drawn, stage: 0, graphDrawn: true } : last.graphDrawn ? last : { ...last, graphDrawn: true })),
    []
  );
  useEffect(() => {
    // Each stage is marked in the page's User Timing (DevTools' Performance panel shows them).
    performance.mark(`opening-stage-${current.stage}${current.stage === 0 && current.graphDrawn ? '-graph-drawn' : ''}`);
    if (current.stage >= LAST_STAGE) return;
    let advanced = false;
    const advance = () => {
      if (advanced) return;
      advanced = true;
      setState({ model, stage: current.stage + 1, graphDrawn: true });
    };
    // Stage 1 waits for the graph's draw (the layout comes from a worker), so that the draw
    // does not land in a stage's task; a graph that never draws is waited for GRAPH_WAIT_MS.
    if (current.stage === 0 && !current.graphDrawn) {
      const timer = setTimeout(advance, GRAPH_WAIT_MS);
      return () => {
        advanced = true;
        clearTimeout(timer);
      };
    }
    // The next stage starts in a task after the next frame, so that the frame's own work
    // (recharts' deferred re-render of the stage before) is not added to it; a hidden page,
    // which draws no frames, moves on by the timer.
    let afterFrame: ReturnType<typeof setTimeout> | undefined;
    const frame = requestAnimationFrame(() => (afterFrame = setTimeout(advance, 0)));
    const fallback = setTimeout(advance, HIDDEN_PAGE_STAGE_MS);
    return () => {
      advanced = true;
      cancelAnimationFrame(frame);
      clearTimeout(afterFrame);
      clearTimeout(fallback);
    };
  }, [model, current.stage, current.graphDrawn]);
  const value = useMemo(() => ({ model: current.model, stage: current.stage, graphDrawn }), [current.model, current.stage, graphDrawn]);
  return <OpeningContext.Provider value={value}>{children}</OpeningContext.Provider>;
}

/** Whether a view of `model` at `stage` may show now: always, unless `model` is the one being opened and its stage has not come. */
export function useOpeningStage(model: ModelView | null, stage: number): boolean {
  const opening = useContext(OpeningContext);
  return opening.model !== model || opening.stage >= stage;
}

/** What the graph calls once it has drawn a model. */
export function useGraphDrawnReport(): (model: ModelView) => void {
  return useContext(OpeningContext).graphDrawn;
}

/** `value` once `ready`; until then the last value that was ready (the view keeps showing what it showed). */
export function useHeldUntil<T>(value: T, ready: boolean): T {
  const [held, setHeld] = useState(value);
  if (ready && held !== value) setHeld(value);
  return ready ? value : held;
}
