// The decision, as the first screen shows it: the per-split chart (Figure 6, SplitChart)
// under a header that says what it means — the speed-up against cloud-only at the best cut
// for latency, the device energy saved at the best cut for energy (the current objective's
// first), where the latencies came from — with SVG and PNG export. Props only.
import { useRef } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { downloadPng, downloadSvg } from './chart-export.js';
import { formatEnergy, SplitChart, type SplitChartProps } from './SplitChart.js';
import { cutLabel, type LatencySource, type SplitAnalysis, type WhatIf } from './split-data.js';

export interface SplitFigureProps {
  model: ModelView;
  analysis: SplitAnalysis;
  whatIf: WhatIf;
  localSource: LatencySource;
  remoteSource: LatencySource;
  pins: readonly number[];
  onTogglePin: (cut: number) => void;
  measured?: ReadonlyArray<{ cut: number; measuredMs: number | null }>;
  encoded?: SplitChartProps['encoded'];
  onExportError: (error: unknown) => void;
}

/** "estimated latencies", "measured latencies", "device measured · server estimated". */
export function latencySourceText(local: LatencySource, remote: LatencySource): string {
  if (local === remote) return `${local} latencies`;
  return `device ${local} · server ${remote}`;
}

const SOURCE_HELP: Record<LatencySource, string> = {
  measured: 'measured by profiling',
  estimated: 'estimated from each layer\u2019s MACs and bytes (roofline of a mobile CPU and a server GPU) until it is profiled',
  mixed: 'measured where the profile has the layer, estimated elsewhere'
};

export function SplitFigure({ model, analysis, whatIf, localSource, remoteSource, pins, onTogglePin, measured, encoded, onExportError }: SplitFigureProps) {
  const box = useRef<HTMLDivElement>(null);
  const latency = analysis.costs[analysis.bestLatency];
  const energy = analysis.costs[analysis.bestEnergy];
  const exportChart = (format: 'svg' | 'png') => {
    const svg = box.current?.querySelector<SVGSVGElement>('svg.split-chart');
    if (!svg) return;
    const fileName = `${model.fileName.replace(/\.onnx$/i, '')}-splits-${whatIf.preset}.${format}`;
    if (format === 'svg') downloadSvg(svg, fileName);
    else downloadPng(svg, fileName).catch(onExportError);
  };
  const latencyBlock = (
    <div key="latency" className={`split-decision-block ${whatIf.objective === 'latency' ? 'current' : ''}`} data-testid="decision-latency">
      <div className="split-decision-figure">
        <span className="split-star-latency split-decision-star" aria-hidden="true">
          ★
        </span>
        <span className="split-figure" data-testid="split-speedup">
          {analysis.speedupVsCloud.toFixed(2)}×
        </span>
        <span>faster than cloud-only</span>
      </div>
      <div className="split-decision-cut" title={`Best split for latency: ${cutLabel(model, analysis.bestLatency)}`}>
        at <strong>{cutLabel(model, analysis.bestLatency)}</strong>{' '}
        <span className="split-decision-numbers">
          {formatMs(latency.totalMs)} <span className="muted">vs {formatMs(analysis.cloudOnly.totalMs)}</span>
        </span>
      </div>
    </div>
  );
  const energyBlock = (
    <div key="energy" className={`split-decision-block ${whatIf.objective === 'energy' ? 'current' : ''}`} data-testid="decision-energy">
      <div className="split-decision-figure">
        <span className="split-star-energy split-decision-star" aria-hidden="true">
          ★
        </span>
        <span className="split-figure" data-testid="split-energy-saving">
          {(analysis.energySavingVsCloud * 100).toFixed(1)}%
        </span>
        <span>less device energy</span>
      </div>
      <div className="split-decision-cut" title={`Best split for energy: ${cutLabel(model, analysis.bestEnergy)}`}>
        at <strong>{cutLabel(model, analysis.bestEnergy)}</strong>{' '}
        <span className="split-decision-numbers">
          {formatEnergy(energy.energyMJ)} <span className="muted">vs {formatEnergy(analysis.cloudOnly.energyMJ)}</span>
        </span>
      </div>
    </div>
  );
  return (
    <section className="split-figure-card" aria-label="Per split: end-to-end latency and device energy" ref={box}>
      <header className="split-chart-header">
        <span className="split-card-title">Per split</span>
        <span
          className="split-source muted"
          data-testid="split-source"
          title={`Device: ${SOURCE_HELP[localSource]}.\nServer: ${SOURCE_HELP[remoteSource]}.\nProfile local / Profile remote measure them.`}
        >
          {latencySourceText(localSource, remoteSource)}
        </span>
        <span className="split-spacer" />
        <span className="split-chart-export">
          <button type="button" className="split-button" aria-label="Export chart as SVG" title="Save the per-split chart as SVG" onClick={() => exportChart('svg')}>
            SVG
          </button>
          <button type="button" className="split-button" aria-label="Export chart as PNG" title="Save the per-split chart as PNG" onClick={() => exportChart('png')}>
            PNG
          </button>
        </span>
      </header>
      <div className="split-decision" data-testid="split-decision">
        {whatIf.objective === 'latency' ? [latencyBlock, energyBlock] : [energyBlock, latencyBlock]}
      </div>
      <div className="split-chart-box">
        <SplitChart model={model} analysis={analysis} pins={pins} onTogglePin={onTogglePin} measured={measured} encoded={encoded} />
      </div>
    </section>
  );
}
