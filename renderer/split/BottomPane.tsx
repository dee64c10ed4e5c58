// The bottom pane, whose first screen is the decision: the network conditions on the left
// (presets, what-if sliders, objective: always in view), and tabs beside them. "Decision",
// shown on opening any model, holds the per-layer charts (Figure 5, passed in as `layers`)
// and the per-split chart with its stars and the speed-up against cloud-only (Figure 6,
// SplitFigure). The other tabs hold the rest, one click away: "Compare cuts" (pinned cuts
// as a table), "Measured vs predicted" (the sweep), "Throughput" (a fleet run of emulated
// clients, ThroughputPanel), "Trace replay" and "Export & import"
// (with the decision table by uplink the export embeds). The pane reads the store (model,
// profiles, what-if, pins) and derives every number with split-data.ts, i.e. app/partition:
// the CutTable is built once per model and profiles, each what-if is one O(N) re-plan.
//
// Test and benchmark hooks: the pane carries data-testid="split-panel" with
// data-best-latency, data-best-energy, data-uplink, data-downlink, data-rtt,
// data-server-load, data-objective and data-latency-source (what the stars are based on);
// window.__studio.split.measureSlider(values) moves the uplink slider through `values`
// (real input events) and returns the time from each event to the star's DOM update, and
// to the bars' (they render from a deferred copy, after the stars).
import { useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { currentProfiles, errorMessage, useStudio } from '../store.js';
import { CompareView } from './CompareView.js';
import { ExportImport } from './ExportImport.js';
import { NetworkControls, mbpsToSlider, measuredLink, sliderToMbps } from './NetworkControls.js';
import { barsCommitted } from './SplitChart.js';
import { SplitFigure } from './SplitFigure.js';
import { SweepPanel } from './SweepPanel.js';
import { ThroughputPanel } from './ThroughputPanel.js';
import { TraceReplay } from './TraceReplay.js';
import { analyzeWhatIf, encodedCuts, splitProblemFor, type PinnedCut } from './split-data.js';
import { OPENING_STAGE, useHeldUntil, useOpeningStage } from '../opening/opening-stages.js';
import './split.css';

export interface SliderMeasurement {
  /** Per movement: ms from the input event to the star's update in the DOM. */
  samplesMs: number[];
  medianMs: number;
  maxMs: number;
  /** Per movement: ms from the input event to the bars (drawn from a deferred copy) committed too. */
  chartSamplesMs: number[];
  chartMedianMs: number;
  chartMaxMs: number;
  /** How many of the movements moved a star (for latency or for energy). */
  starMoves: number;
  cuts: number;
}

export interface SplitTestHooks {
  measureSlider(uplinkValues: number[]): Promise<SliderMeasurement>;
}

export type PaneTab = 'decision' | 'compare' | 'sweep' | 'throughput' | 'trace' | 'export';

const TABS: ReadonlyArray<{ id: PaneTab; label: string }> = [
  { id: 'decision', label: 'Decision' },
  { id: 'compare', label: 'Compare cuts' },
  { id: 'sweep', label: 'Measured vs predicted' },
  { id: 'throughput', label: 'Throughput' },
  { id: 'trace', label: 'Trace replay' },
  { id: 'export', label: 'Export & import' }
];

const noPins: number[] = [];
const noImports: Record<string, string> = {};

/** A promise per expected uplink, resolved by the commit that shows it (the star is in that same commit). */
function useCommitWaiter(uplink: number) {
  const waiters = useRef<Array<{ uplink: number; resolve: () => void }>>([]);
  useLayoutEffect(() => {
    const ready = waiters.current.filter((waiter) => waiter.uplink === uplink);
    waiters.current = waiters.current.filter((waiter) => waiter.uplink !== uplink);
    for (const waiter of ready) waiter.resolve();
  }, [uplink]);
  return useCallback((expected: number) => new Promise<void>((resolve) => waiters.current.push({ uplink: expected, resolve })), []);
}

export function BottomPane({ layers }: { layers: ReactNode }) {
  const current = useStudio((state) => state.current);
  const profiles = useStudio(currentProfiles);
  const whatIf = useStudio((state) => state.splitWhatIf);
  const pinState = useStudio((state) => state.splitPins);
  const executor = useStudio((state) => state.executor);
  const sweep = useStudio((state) => state.sweep);
  const setWhatIf = useStudio((state) => state.setWhatIf);
  const togglePin = useStudio((state) => state.togglePin);
  const host = useStudio((state) => state.host);
  const pushBanner = useStudio((state) => state.pushBanner);
  const encodingState = useStudio((state) => state.encodings);
  const measureEncodings = useStudio((state) => state.measureEncodings);

  // A new model or profile is planned and drawn as a background render (the what-if stays urgent: slider to star).
  const planInputs = useMemo(() => ({ model: current?.model ?? null, local: profiles.local, remote: profiles.remote }), [current?.model, profiles.local, profiles.remote]);
  // A newly opened model is planned a task after the graph is drawn (opening-stages.tsx); until then the pane shows what it showed.
  const deferredInputs = useDeferredValue(planInputs);
  const { model, local, remote } = useHeldUntil(deferredInputs, useOpeningStage(deferredInputs.model, OPENING_STAGE.splitPanel));
  const split = useMemo(() => (model ? splitProblemFor(model, local, remote) : null), [model, local, remote]);
  const analysis = useMemo(() => (split ? analyzeWhatIf(split, whatIf) : null), [split, whatIf]);
  const ownPins = model && pinState?.modelId === model.id ? pinState : null;
  const pins = ownPins?.cuts ?? noPins;
  const dagPinned = ownPins?.dag ?? false;
  const imported = ownPins?.imported ?? noImports;
  const onTogglePin = useCallback((cut: PinnedCut) => model && togglePin(model.id, cut), [model, togglePin]);
  const ownEncodings = model && encodingState?.modelId === model.id ? encodingState : null;
  const encoded = useMemo(() => (split && ownEncodings ? encodedCuts(split, whatIf, ownEncodings.measurements) : undefined), [split, whatIf, ownEncodings]);
  const encodedBars = useMemo(() => (encoded ? [...encoded].map(([cut, best]) => ({ cut, encoding: best.measurement.encoding, totalMs: best.cost.totalMs })) : undefined), [encoded]);
  const onMeasureEncodings = useCallback((cuts: number[]) => void measureEncodings(cuts), [measureEncodings]);

  // Every model opens on the decision.
  const [tab, setTab] = useState<PaneTab>('decision');
  const modelId = model?.id;
  useEffect(() => setTab('decision'), [modelId]);
  const tabRefs = useRef(new Map<PaneTab, HTMLButtonElement>());
  const onTabKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = TABS.findIndex((entry) => entry.id === tab);
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (step === 0) return;
    event.preventDefault();
    const next = TABS[(index + step + TABS.length) % TABS.length].id;
    setTab(next);
    tabRefs.current.get(next)?.focus();
  };

  const measure = useCallback(async () => {
    try {
      const link = await host.request('executor.measureLink', {});
      setWhatIf({ preset: 'measured', uplinkMbps: link.uplinkMbps, downlinkMbps: link.downlinkMbps, rttMs: link.rttMs });
    } catch (error) {
      const last = measuredLink(executor);
      if (last) setWhatIf({ preset: 'measured', ...last });
      pushBanner('error', `Could not measure the link to the executor${last ? ' (using its last measurement)' : ''}: ${errorMessage(error)}`);
    }
  }, [host, executor, setWhatIf, pushBanner]);

  const rootRef = useRef<HTMLDivElement>(null);
  const waitForUplink = useCommitWaiter(whatIf.uplinkMbps);
  const latestAnalysis = useRef(analysis);
  latestAnalysis.current = analysis;
  const latestUplink = useRef(whatIf.uplinkMbps);
  latestUplink.current = whatIf.uplinkMbps;

  useEffect(() => {
    const hooks: SplitTestHooks = {
      async measureSlider(uplinkValues) {
        const slider = rootRef.current?.querySelector<HTMLInputElement>('input[aria-label="Uplink"]');
        if (!slider) throw new Error('the bottom pane has no uplink slider');
        const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
        const samplesMs: number[] = [];
        const chartSamplesMs: number[] = [];
        let starMoves = 0;
        for (const mbps of uplinkValues) {
          const starsBefore = `${latestAnalysis.current?.bestLatency}/${latestAnalysis.current?.bestEnergy}`;
          const position = mbpsToSlider(mbps);
          const expected = sliderToMbps(position);
          // A movement that changes nothing would commit nothing to wait for.
          if (String(position) === slider.value || expected === latestUplink.current) continue;
          const committed = waitForUplink(expected);
          const start = performance.now();
          setValue?.call(slider, String(position));
          slider.dispatchEvent(new Event('input', { bubbles: true }));
          await committed;
          samplesMs.push(performance.now() - start);
          const shown = latestAnalysis.current;
          if (shown) {
            await barsCommitted(shown);
            chartSamplesMs.push(performance.now() - start);
          }
          if (`${latestAnalysis.current?.bestLatency}/${latestAnalysis.current?.bestEnergy}` !== starsBefore) starMoves++;
        }
        const sorted = [...samplesMs].sort((a, b) => a - b);
        const chartSorted = [...chartSamplesMs].sort((a, b) => a - b);
        return {
          samplesMs,
          medianMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
          maxMs: sorted[sorted.length - 1] ?? 0,
          chartSamplesMs,
          chartMedianMs: chartSorted[Math.floor(chartSorted.length / 2)] ?? 0,
          chartMaxMs: chartSorted[chartSorted.length - 1] ?? 0,
          starMoves,
          cuts: latestAnalysis.current?.costs.length ?? 0
        };
      }
    };
    const global = window as unknown as { __studio?: Record<string, unknown> };
    global.__studio = { ...global.__studio, split: hooks };
    return () => {
      if (global.__studio?.split === hooks) delete global.__studio.split;
    };
  }, [waitForUplink]);

  if (!model || !split || !analysis) return <div className="pane-empty muted">Open a model to see where to split it.</div>;

  const measuredCuts = sweep?.modelId === model.id ? sweep.done?.result?.cuts : undefined;
  const pinnedCount = pins.length + (dagPinned ? 1 : 0);
  const onExportError = (error: unknown) => pushBanner('error', `Could not export the chart: ${errorMessage(error)}`);

  let content: ReactNode;
  if (tab === 'decision') {
    content = (
      <div className="split-decision-view">
        <div className="split-layers">{layers}</div>
        <SplitFigure
          model={model}
          analysis={analysis}
          whatIf={whatIf}
          localSource={split.localSource}
          remoteSource={split.remoteSource}
          pins={pins}
          onTogglePin={onTogglePin}
          measured={measuredCuts}
          encoded={encodedBars}
          onExportError={onExportError}
        />
      </div>
    );
  } else if (tab === 'compare') {
    content = (
      <CompareView
        model={model}
        split={split}
        analysis={analysis}
        pins={pins}
        dagPinned={dagPinned}
        imported={imported}
        onTogglePin={onTogglePin}
        encoding={{ encoded, encodingSamples: ownEncodings?.samples, measuringEncodings: ownEncodings?.measuring ?? false, onMeasureEncodings }}
      />
    );
  } else if (tab === 'sweep') {
    content = <SweepPanel model={model} whatIf={whatIf} hasDag={analysis.dag !== undefined} chartSource={{ local: split.localSource, remote: split.remoteSource }} />;
  } else if (tab === 'throughput') {
    content = <ThroughputPanel />;
  } else if (tab === 'trace') {
    content = <TraceReplay model={model} split={split} whatIf={whatIf} />;
  } else {
    content = (
      <ExportImport
        model={model}
        split={split}
        whatIf={whatIf}
        bestCut={whatIf.objective === 'latency' ? analysis.bestLatency : analysis.bestEnergy}
        hasDag={analysis.dag !== undefined}
        onShowComparison={() => setTab('compare')}
      />
    );
  }

  return (
    <div
      ref={rootRef}
      className="split-panel"
      data-testid="split-panel"
      data-best-latency={analysis.bestLatency}
      data-best-energy={analysis.bestEnergy}
      data-uplink={whatIf.uplinkMbps}
      data-downlink={whatIf.downlinkMbps}
      data-rtt={whatIf.rttMs}
      data-server-load={whatIf.serverLoad}
      data-objective={whatIf.objective}
      data-radio={whatIf.radioPreset}
      data-latency-source={`${split.localSource}/${split.remoteSource}`}
      data-tab={tab}
    >
      <aside className="split-left" aria-label="Network conditions">
        <NetworkControls whatIf={whatIf} executor={executor} onChange={setWhatIf} onMeasure={measure} />
      </aside>
      <div className="split-main">
        <div className="bottom-tab-bar" role="tablist" aria-label="Bottom pane" onKeyDown={onTabKey}>
          {TABS.map((entry) => (
            <button
              key={entry.id}
              ref={(element) => {
                if (element) tabRefs.current.set(entry.id, element);
                else tabRefs.current.delete(entry.id);
              }}
              type="button"
              role="tab"
              id={`bottom-tab-${entry.id}`}
              aria-selected={tab === entry.id}
              aria-controls="bottom-tab-panel"
              tabIndex={tab === entry.id ? 0 : -1}
              className="bottom-tab"
              onClick={() => setTab(entry.id)}
            >
              {entry.label}
              {entry.id === 'compare' && pinnedCount > 0 && <span className="bottom-tab-count">{pinnedCount}</span>}
            </button>
          ))}
          {tab === 'decision' && <span className="bottom-tab-hint muted">Click a bar to pin that cut for Compare cuts</span>}
        </div>
        <div className="bottom-tab-panel" role="tabpanel" id="bottom-tab-panel" aria-labelledby={`bottom-tab-${tab}`}>
          {content}
        </div>
      </div>
    </div>
  );
}
