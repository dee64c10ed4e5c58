// Bandwidth trace replay (the paper's Figure 14: the split adapting as LTE bandwidth
// changes): load a CSV of time and bandwidth (or the bundled LTE-like sample), and the
// trace is replayed against the model's CutTable with app/partition/bandwidth-trace.ts —
// at each point the best cut for the objective is re-chosen. The chart shows the chosen
// cut's latency and cloud-only's over time, with the chosen cut as a step line on its own
// axis; Play moves a cursor through the trace (10 points a second), Pause stops it. The
// chart exports as SVG or PNG. It is the bottom pane's "Trace replay" tab.
import { useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { parseBandwidthTrace, replayTrace, type BandwidthTrace } from '../../app/partition/bandwidth-trace.js';
import { cutTableOf } from '../../app/partition/split-analysis.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { errorMessage, useStudio } from '../store.js';
import { downloadPng, downloadSvg } from './chart-export.js';
import { cutLabel, planOptionsFor, type SplitProblem, type WhatIf } from './split-data.js';
import { useElementSize } from './use-element-size.js';
import sampleTrace from '../../resources/traces/lte-sample.csv';

export interface TraceReplayProps {
  model: ModelView;
  split: SplitProblem;
  whatIf: WhatIf;
}

const POINTS_PER_SECOND = 10;
const PAD = { left: 48, right: 48, top: 14, bottom: 20 };

export function TraceReplay({ model, split, whatIf }: TraceReplayProps) {
  const pushBanner = useStudio((state) => state.pushBanner);
  const [trace, setTrace] = useState<{ name: string; trace: BandwidthTrace } | null>(null);
  const [cursor, setCursor] = useState(0);
  const [playing, setPlaying] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);
  const [box, size] = useElementSize<HTMLDivElement>({ width: 600, height: 170 });
  const exportChart = (format: 'svg' | 'png') => {
    const svg = box.current?.querySelector('svg');
    if (!svg || !trace) return;
    const fileName = `${model.fileName.replace(/\.onnx$/i, '')}-trace-${trace.name.replace(/\.csv$/i, '')}.${format}`;
    if (format === 'svg') downloadSvg(svg, fileName);
    else downloadPng(svg, fileName).catch((error: unknown) => pushBanner('error', `Could not export the chart: ${errorMessage(error)}`));
  };

  const points = useMemo(
    () => (trace ? replayTrace(cutTableOf(split.problem), planOptionsFor(whatIf), trace.trace, whatIf.objective) : []),
    [trace, split, whatIf]
  );

  useEffect(() => {
    if (!playing) return;
    const timer = setInterval(() => {
      setCursor((at) => {
        if (at + 1 >= points.length) {
          setPlaying(false);
          return at;
        }
        return at + 1;
      });
    }, 1000 / POINTS_PER_SECOND);
    return () => clearInterval(timer);
  }, [playing, points.length]);

  const load = (name: string, csv: string) => {
    try {
      setTrace({ name, trace: parseBandwidthTrace(csv) });
      setCursor(0);
      setPlaying(false);
    } catch (error) {
      pushBanner('error', `Could not read ${name}: ${errorMessage(error)}`);
    }
  };
  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (file) load(file.name, await file.text());
  };

  const togglePlay = () => {
    if (!playing && cursor >= points.length - 1) setCursor(0);
    setPlaying(!playing);
  };

  const at = points[Math.min(cursor, points.length - 1)];
  const { width, height } = size;
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = Math.max(10, height - PAD.top - PAD.bottom);
  const t0 = points[0]?.tSeconds ?? 0;
  const t1 = points[points.length - 1]?.tSeconds ?? 1;
  const maxMs = Math.max(1e-9, ...points.map((point) => Math.max(point.totalMs, point.cloudOnlyMs)));
  const x = (t: number) => PAD.left + ((t - t0) / Math.max(1e-9, t1 - t0)) * plotW;
  const yMs = (ms: number) => PAD.top + plotH - (ms / maxMs) * plotH;
  const yCut = (cut: number) => PAD.top + plotH - (cut / Math.max(1, model.nodes.length)) * plotH;
  const line = (value: (index: number) => number) => points.map((point, index) => `${x(point.tSeconds).toFixed(1)},${value(index).toFixed(1)}`).join(' ');
  const steps = points.flatMap((point, index) => {
    const next = points[index + 1];
    const y = yCut(point.cut).toFixed(1);
    return next ? [`${x(point.tSeconds).toFixed(1)},${y}`, `${x(next.tSeconds).toFixed(1)},${y}`] : [`${x(point.tSeconds).toFixed(1)},${y}`];
  });

  return (
    <div className="split-trace" data-testid="split-trace" data-points={points.length} data-cursor={at ? cursor : ''} data-cut={at?.cut ?? ''}>
      <div className="split-trace-bar">
        <button type="button" className="split-button" onClick={() => load('lte-sample.csv', sampleTrace)}>
          Load sample trace
        </button>
        <button type="button" className="split-button" onClick={() => fileInput.current?.click()}>
          Load CSV…
        </button>
        <input ref={fileInput} type="file" accept=".csv,text/csv" hidden onChange={(event) => void onFile(event)} data-testid="split-trace-input" />
        <button type="button" className="split-button" disabled={points.length === 0} onClick={togglePlay}>
          {playing ? 'Pause' : 'Play'}
        </button>
        {trace && at ? (
          <span className="split-trace-now" data-testid="split-trace-now">
            {trace.name} · t = {at.tSeconds.toFixed(0)} s · {cutLabel(model, at.cut)} · {formatMs(at.totalMs)} vs cloud-only {formatMs(at.cloudOnlyMs)}
          </span>
        ) : (
          <span className="muted split-trace-help">A CSV of time_s,uplink_mbps[,downlink_mbps]; the best cut is re-chosen at every point.</span>
        )}
        <span className="split-spacer" />
        <span className="split-chart-export">
          <button type="button" className="split-button" disabled={points.length === 0} aria-label="Export trace chart as SVG" onClick={() => exportChart('svg')}>
            SVG
          </button>
          <button type="button" className="split-button" disabled={points.length === 0} aria-label="Export trace chart as PNG" onClick={() => exportChart('png')}>
            PNG
          </button>
        </span>
      </div>
      <div className="split-trace-box" ref={box}>
        {points.length > 0 && (
          <svg width="100%" height="100%" className="split-chart" role="img" aria-label={`Trace replay of ${trace?.name}: chosen cut and latency over time against cloud-only`}>
            <line className="split-grid" x1={PAD.left} x2={width - PAD.right} y1={yMs(0)} y2={yMs(0)} />
            <line className="split-grid" x1={PAD.left} x2={width - PAD.right} y1={yMs(maxMs)} y2={yMs(maxMs)} />
            <text x={PAD.left - 4} y={yMs(maxMs) + 3} textAnchor="end">
              {formatMs(maxMs)}
            </text>
            <text x={PAD.left - 4} y={yMs(0) + 3} textAnchor="end">
              0
            </text>
            <text x={width - PAD.right + 4} y={yCut(model.nodes.length) + 3} className="split-trace-cut-axis">
              cut {model.nodes.length}
            </text>
            <text x={width - PAD.right + 4} y={yCut(0) + 3} className="split-trace-cut-axis">
              cut 0
            </text>
            <text x={PAD.left} y={height - 5}>
              {t0.toFixed(0)} s
            </text>
            <text x={width - PAD.right} y={height - 5} textAnchor="end">
              {t1.toFixed(0)} s
            </text>
            <polyline className="split-trace-cut" points={steps.join(' ')} fill="none" />
            <polyline className="split-trace-cloud" points={line((index) => yMs(points[index].cloudOnlyMs))} fill="none" />
            <polyline className="split-trace-total" points={line((index) => yMs(points[index].totalMs))} fill="none" />
            {at && <line className="split-trace-cursor" x1={x(at.tSeconds)} x2={x(at.tSeconds)} y1={PAD.top} y2={PAD.top + plotH} />}
          </svg>
        )}
      </div>
      {points.length > 0 && (
        <div className="split-trace-legend">
          <span className="split-legend-item">
            <span className="split-swatch split-swatch-total" aria-hidden="true" />
            chosen cut&apos;s latency
          </span>
          <span className="split-legend-item">
            <span className="split-swatch split-swatch-cloud" aria-hidden="true" />
            cloud-only
          </span>
          <span className="split-legend-item">
            <span className="split-swatch split-swatch-cut" aria-hidden="true" />
            chosen cut (right axis)
          </span>
        </div>
      )}
    </div>
  );
}
