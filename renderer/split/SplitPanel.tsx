// The split panel (the "Split" tab under the graph): what-if controls on the left, the
// per-split chart with its stars in the middle, the summary (best cuts, speed-up and
// energy saving against cloud-only, the baselines, the DAG min cut) and the comparison of
// pinned cuts on the right. It reads the store (model, profiles, what-if, pins) and
// derives every number with split-data.ts, i.e. app/partition: the CutTable is built once
// per model and profiles, each what-if is one O(N) re-plan.
//
// Test and benchmark hooks: the panel carries data-testid="split-panel" with
// data-best-latency, data-best-energy, data-uplink, data-downlink, data-rtt,
// data-server-load, data-objective and data-latency-source (what the stars are based on);
// window.__studio.split.measureSlider(values) moves the uplink slider through `values`
// (real input events) and returns the time from each event to the star's DOM update, and
// to the bars' (they render from a deferred copy, after the stars).
import { useCallback, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { decisionTable, type DecisionTable } from '../../app/partition/decision-table.js';
import { cutTableOf } from '../../app/partition/split-analysis.js';
import { currentProfiles, errorMessage, useStudio } from '../store.js';
import { downloadPng, downloadSvg } from './chart-export.js';
import { Comparison } from './Comparison.js';
import { ExportImport } from './ExportImport.js';
import { NetworkControls, mbpsToSlider, measuredLink, sliderToMbps } from './NetworkControls.js';
import { barsCommitted, SEGMENTS, SplitChart } from './SplitChart.js';
import { SweepPanel } from './SweepPanel.js';
import { TraceReplay } from './TraceReplay.js';
import { analyzeWhatIf, cutLabel, planOptionsFor, splitProblemFor, starLabel, type SplitAnalysis } from './split-data.js';
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

const noPins: number[] = [];

function formatRangeMbps(mbps: number): string {
  return mbps >= 100 ? mbps.toFixed(0) : mbps >= 10 ? mbps.toFixed(1) : mbps.toFixed(2);
}

function Summary({
  model,
  analysis,
  decisions,
  onTogglePin,
  pins
}: {
  model: ModelView;
  analysis: SplitAnalysis;
  decisions: DecisionTable | null;
  pins: readonly number[];
  onTogglePin: (cut: number) => void;
}) {
  const last = analysis.costs.length - 1;
  const row = (label: string, cut: number, detail: string, star?: 'latency' | 'energy') => (
    <li key={label}>
      <span className={star ? `split-summary-star split-star-${star}` : 'split-summary-star'} aria-hidden="true">
        {star ? '★' : '·'}
      </span>
      <span className="split-summary-label" aria-label={star ? starLabel(model, star, cut) : undefined}>
        {label}: {cutLabel(model, cut)}
      </span>
      <span className="split-summary-detail">{detail}</span>
      <button type="button" className="split-button small" aria-pressed={pins.includes(cut)} aria-label={`Pin cut ${cut}`} onClick={() => onTogglePin(cut)}>
        {pins.includes(cut) ? 'Pinned' : 'Pin'}
      </button>
    </li>
  );
  const bestLatency = analysis.costs[analysis.bestLatency];
  const bestEnergy = analysis.costs[analysis.bestEnergy];
  return (
    <div className="split-summary" data-testid="split-summary">
      <div className="split-figures">
        <div>
          <span className="split-figure" data-testid="split-speedup">
            {analysis.speedupVsCloud.toFixed(2)}×
          </span>
          <span className="muted">faster than cloud-only</span>
        </div>
        <div>
          <span className="split-figure" data-testid="split-energy-saving">
            {(analysis.energySavingVsCloud * 100).toFixed(1)}%
          </span>
          <span className="muted">less device energy</span>
        </div>
      </div>
      <ul className="split-summary-list">
        {row('Latency', analysis.bestLatency, `${formatMs(bestLatency.totalMs)} · ${bestLatency.energyMJ.toFixed(1)} mJ`, 'latency')}
        {row('Energy', analysis.bestEnergy, `${formatMs(bestEnergy.totalMs)} · ${bestEnergy.energyMJ.toFixed(1)} mJ`, 'energy')}
        {row('Baseline', 0, `${formatMs(analysis.cloudOnly.totalMs)} · ${analysis.cloudOnly.energyMJ.toFixed(1)} mJ`)}
        {row('Baseline', last, `${formatMs(analysis.deviceOnly.totalMs)} · ${analysis.deviceOnly.energyMJ.toFixed(1)} mJ`)}
      </ul>
      {decisions && (
        <div className="split-decisions" data-testid="split-decisions" title="The exact uplink ranges (downlink scaled with the uplink) in which each cut is best for the objective: the decision table the export embeds">
          <span className="split-section-title">By uplink</span>{' '}
          {decisions.rows.map((row) => (
            <span key={row.fromMbps} className="split-decision">
              {formatRangeMbps(row.fromMbps)}–{formatRangeMbps(row.toMbps)} Mbps → cut {row.cut}
            </span>
          ))}
        </div>
      )}
      {analysis.dag && (
        <div className="split-dag" data-testid="split-dag">
          <span className="split-section-title">DAG min cut</span> {analysis.dag.localNodes.length} of {model.nodes.length} layers on the device ·{' '}
          {formatMs(analysis.dag.cost.totalMs)} · {analysis.dag.cost.energyMJ.toFixed(1)} mJ
          {analysis.dag.cost.totalMs < bestLatency.totalMs - 1e-9 ? <span className="split-dag-better"> beats the best topological cut</span> : null}
        </div>
      )}
    </div>
  );
}

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

export function SplitPanel() {
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

  const model = current?.model ?? null;
  const split = useMemo(() => (model ? splitProblemFor(model, profiles.local, profiles.remote) : null), [model, profiles.local, profiles.remote]);
  const analysis = useMemo(() => (split ? analyzeWhatIf(split, whatIf) : null), [split, whatIf]);
  // The decision table (downlink scaled with the uplink, in the what-if's ratio) follows a deferred copy, like the bars.
  const deferredWhatIf = useDeferredValue(whatIf);
  const decisions = useMemo(
    () => (split ? decisionTable(cutTableOf(split.problem), planOptionsFor(deferredWhatIf), undefined, deferredWhatIf.objective) : null),
    [split, deferredWhatIf]
  );
  const pins = model && pinState?.modelId === model.id ? pinState.cuts : noPins;
  const onTogglePin = useMemo(() => (cut: number) => model && togglePin(model.id, cut), [model, togglePin]);

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

  const [view, setView] = useState<'splits' | 'trace'>('splits');
  const exportChart = (format: 'svg' | 'png') => {
    const svg = rootRef.current?.querySelector<SVGSVGElement>('.split-chart-box svg');
    if (!svg || !model) return;
    const fileName = `${model.fileName.replace(/\.onnx$/i, '')}-${view === 'splits' ? 'splits' : 'trace'}-${whatIf.preset}.${format}`;
    if (format === 'svg') downloadSvg(svg, fileName);
    else downloadPng(svg, fileName).catch((error: unknown) => pushBanner('error', `Could not export the chart: ${errorMessage(error)}`));
  };
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
        if (!slider) throw new Error('the split panel has no uplink slider');
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

  const localSource = split.localSource;
  const measuredCuts = sweep?.modelId === model.id ? sweep.done?.result?.cuts : undefined;
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
    >
      <div className="split-left">
        <NetworkControls whatIf={whatIf} executor={executor} onChange={setWhatIf} onMeasure={measure} />
        <ExportImport modelId={model.id} whatIf={whatIf} bestCut={whatIf.objective === 'latency' ? analysis.bestLatency : analysis.bestEnergy} hasDag={analysis.dag !== undefined} />
      </div>
      <div className="split-main">
        <div className="split-chart-header">
          <span className="split-view-toggle" role="radiogroup" aria-label="Chart">
            <button type="button" role="radio" aria-checked={view === 'splits'} className="split-chip" onClick={() => setView('splits')}>
              Per split
            </button>
            <button type="button" role="radio" aria-checked={view === 'trace'} className="split-chip" onClick={() => setView('trace')}>
              Trace replay
            </button>
          </span>
          {view === 'splits' && (
            <span className="split-legend">
              {SEGMENTS.map((segment) => (
                <span key={segment.key} className="split-legend-item">
                  <span className={`split-swatch ${segment.className}`} aria-hidden="true" />
                  {segment.label}
                </span>
              ))}
              <span className="split-legend-item">
                <span className="split-swatch split-swatch-energy" aria-hidden="true" />
                Energy
              </span>
              {measuredCuts && (
                <span className="split-legend-item">
                  <span className="split-swatch split-swatch-measured" aria-hidden="true" />
                  Measured
                </span>
              )}
            </span>
          )}
          <span className="muted split-source" title="Layers without a measured time use the roofline estimate (mobile CPU / server GPU presets)">
            device {localSource} · server {split.remoteSource}
          </span>
          <span className="split-chart-export">
            <button type="button" className="split-button small" aria-label="Export chart as SVG" onClick={() => exportChart('svg')}>
              SVG
            </button>
            <button type="button" className="split-button small" aria-label="Export chart as PNG" onClick={() => exportChart('png')}>
              PNG
            </button>
          </span>
        </div>
        <div className="split-chart-box">
          {view === 'splits' ? (
            <SplitChart model={model} analysis={analysis} pins={pins} onTogglePin={onTogglePin} measured={measuredCuts} />
          ) : (
            <TraceReplay model={model} split={split} whatIf={whatIf} />
          )}
        </div>
      </div>
      <div className="split-side">
        <Summary model={model} analysis={analysis} decisions={decisions} pins={pins} onTogglePin={onTogglePin} />
        <Comparison model={model} split={split} analysis={analysis} pins={pins} onTogglePin={onTogglePin} />
        <SweepPanel model={model} whatIf={whatIf} hasDag={analysis.dag !== undefined} />
      </div>
    </div>
  );
}
