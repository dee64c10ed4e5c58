// The paper's Figure 5 for any model: per layer, its compute — MACs before profiling,
// local and remote latency side by side once profiled — above its output data size, on
// one shared layer axis. Props only (no store, no contract). The selected layer is marked
// in both charts; clicking anywhere in a layer's column selects it. Models with more than
// WINDOW_THRESHOLD layers show a window of WINDOW_SIZE of them, moved with the brush under
// the size chart (and moved automatically to show a layer selected elsewhere): every layer
// stays selectable. Recharts draws SVG; animations are off and only the window's bars are
// drawn. The dashed line in the size chart is the model's input size: cutting after a
// layer whose output is below it sends less than cloud-only inference does. The layer
// axis names each layer (a short form of its name; the full one in the tooltip); each
// chart carries its axis title and legend; both export as one SVG or PNG (chart-export).
import { useDeferredValue, useEffect, useMemo, useRef, useState, type JSX } from 'react';
import { Bar, BarChart, Brush, CartesianGrid, ReferenceArea, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import { instabilityWarning } from '../../app/profiling/stability.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatBytes, formatBytesTick, formatCount, formatCountTick, formatMs, formatMsRange } from '../format.js';
import {
  chartTotals,
  clampWindow,
  defaultComputeMetric,
  initialWindow,
  layerRows,
  logByteAxis,
  predictionErrorSummary,
  WINDOW_THRESHOLD,
  windowShowing,
  type ComputeMetric,
  type LayerRow,
  type LayerWindow
} from './chart-data.js';
import { OPENING_STAGE, useOpeningStage } from '../opening/opening-stages.js';
import { composedSvg, downloadPngMarkup, downloadSvgMarkup, type LegendItem } from '../split/chart-export.js';
import './charts.css';

export interface LayerChartsProps {
  model: ModelView;
  local: LatencyProfile | null;
  remote: LatencyProfile | null;
  selected: number | null;
  onSelect: (index: number) => void;
  /** Called when an export cannot be made (e.g. no 2D canvas for the PNG). */
  onExportError?: (error: unknown) => void;
}

const Y_AXIS_WIDTH = 58;
const MARGIN = { top: 20, right: 22, bottom: 0, left: 0 };

/** A number per rows array: recharts' Brush keeps stale handles when its data changes, so the size chart remounts then. */
const rowsVersions = new WeakMap<object, number>();
let nextRowsVersion = 1;
function versionOf(rows: object): number {
  let version = rowsVersions.get(rows);
  if (version === undefined) {
    version = nextRowsVersion++;
    rowsVersions.set(rows, version);
  }
  return version;
}

/** Layer names longer than this are shown by their end ("…attention/self"), whole in the tooltip. */
const MAX_LABEL = 18;

export function shortenLabel(label: string): string {
  return label.length > MAX_LABEL ? `…${label.slice(label.length - MAX_LABEL + 1)}` : label;
}

interface TickProps {
  x?: number;
  y?: number;
  /** The axis' width: the plot's, which starts Y_AXIS_WIDTH from the chart's left. */
  width?: number;
  payload?: { value: number | string };
  label: (index: number) => string;
}

/** A layer-axis tick, centred on its bar but kept inside the chart at either end (its width estimated from its characters). */
function LayerTick({ x = 0, y = 0, width = 0, payload, label }: TickProps) {
  const text = label(Number(payload?.value ?? 0));
  const half = (text.length * 5.7) / 2;
  const right = Y_AXIS_WIDTH + width + MARGIN.right - 2;
  const centre = Math.min(Math.max(x, 2 + half), right - half);
  return (
    <text className="layer-axis-label" x={centre} y={y} dy="0.71em" textAnchor="middle" fill="var(--muted)" fontSize={10}>
      {text}
    </text>
  );
}

/** A chart's legend, drawn over its top right corner (and written into exports). */
function ChartLegend({ items }: { items: LegendItem[] }) {
  return (
    <span className="layer-chart-legend">
      {items.map((item) => (
        <span key={item.label} className="layer-charts-chip" title={item.kind === 'dash' ? "The model's input: what cloud-only inference uploads. Cutting after a layer below this line sends less." : undefined}>
          <i className={item.kind === 'box' ? undefined : 'input-line'} style={item.kind === 'box' ? { background: item.colour } : undefined} />
          {item.label}
        </span>
      ))}
    </span>
  );
}

/** No vertical grid lines: recharts would otherwise measure every tick label to place them, even with vertical={false}. */
const noVerticalLines = (): number[] => [];

export function LayerCharts(props: LayerChartsProps): JSX.Element {
  const { selected, onSelect, onExportError } = props;
  // A new model or profile reaches the charts as a background render, so opening a big
  // model never blocks the page for recharts' mount (the graph and the split chart do the same).
  const inputs = useMemo(() => ({ model: props.model, local: props.local, remote: props.remote }), [props.model, props.local, props.remote]);
  const { model, local, remote } = useDeferredValue(inputs);
  const rows = useMemo(() => layerRows(model, local, remote), [model, local, remote]);
  // Recharts' first mount is the slow part of opening a model: a new model's charts mount
  // after the graph and the split panel, one chart per task (opening-stages.tsx).
  const computeShown = useOpeningStage(model, OPENING_STAGE.computeChart);
  const chartsMounted = useOpeningStage(model, OPENING_STAGE.sizeChart) && computeShown;
  const totals = useMemo(() => chartTotals(rows), [rows]);
  const profiled = local !== null || remote !== null;
  const [metricChoice, setMetricChoice] = useState<ComputeMetric | null>(null);
  const metric: ComputeMetric = profiled ? (metricChoice ?? defaultComputeMetric(local, remote)) : 'macs';
  const [logScale, setLogScale] = useState(true);
  const [layerWindow, setLayerWindow] = useState<LayerWindow>(() => initialWindow(rows.length));
  const windowed = rows.length > WINDOW_THRESHOLD;

  // A new model starts at its first window.
  useEffect(() => setLayerWindow(initialWindow(rows.length)), [model.id, rows.length]);
  // A layer selected in the graph or the details comes into the window.
  useEffect(() => {
    if (selected !== null) setLayerWindow((current) => windowShowing(current, selected, rows.length));
  }, [selected, rows.length]);

  const visible = useMemo(() => (windowed ? rows.slice(layerWindow.start, layerWindow.end + 1) : rows), [rows, layerWindow, windowed]);
  const inputBytes = model.inputs.reduce<number | null>((sum, t) => (t.bytes === null || sum === null ? null : sum + t.bytes), 0);
  const logAxis = useMemo(() => logByteAxis([...rows.map((r) => r.outputBytes), inputBytes]), [rows, inputBytes]);

  const selectColumn = (state: { activeLabel?: string | number }) => {
    const index = Number(state.activeLabel);
    if (state.activeLabel !== undefined && Number.isInteger(index) && index >= 0 && index < rows.length) onSelect(index);
  };
  const selectedVisible = selected !== null && (!windowed || (selected >= layerWindow.start && selected <= layerWindow.end)) ? selected : null;

  const computeSeries =
    metric === 'macs'
      ? [{ key: 'macs' as const, name: 'MACs', colour: 'var(--accent)', predicted: false }]
      : [
          ...(local ? [{ key: 'localMs' as const, name: `Local · ${profileLabel(local)}`, colour: 'var(--accent)', predicted: local.predicted }] : []),
          ...(remote ? [{ key: 'remoteMs' as const, name: `Remote · ${profileLabel(remote)}`, colour: 'var(--accent-2)', predicted: remote.predicted }] : [])
        ];
  // Predicted bars are drawn pale with a dashed outline, and the device profile's per-type error is said beside them.
  const errorNotes = metric === 'latency' ? ([['Local', local], ['Remote', remote]] as const).flatMap(([side, profile]) => {
    const summary = profile ? predictionErrorSummary(profile) : null;
    return summary ? [`${side} predicted — ${summary}`] : [];
  }) : [];

  const computeLegend: LegendItem[] = computeSeries.map((series) => ({ label: series.name, colour: series.colour, kind: 'box' }));
  const sizeLegend: LegendItem[] = [
    { label: 'Output size', colour: 'var(--chart-size)', kind: 'box' },
    ...(inputBytes !== null && inputBytes > 0 ? [{ label: `Input ${formatBytes(inputBytes)}`, colour: 'var(--fg)', kind: 'dash' as const }] : [])
  ];
  const computeTitle = metric === 'macs' ? 'MACs per layer' : 'latency per layer, ms';
  const sizeTitle = `output size per layer, bytes${logScale ? ' (log)' : ''}`;
  const root = useRef<HTMLDivElement>(null);
  const exportCharts = (format: 'svg' | 'png') => {
    const compute = root.current?.querySelector<SVGSVGElement>('.layer-chart-compute svg.recharts-surface');
    const size = root.current?.querySelector<SVGSVGElement>('.layer-chart-size svg.recharts-surface');
    if (!compute || !size) return;
    const window = windowed ? ` (layers ${layerWindow.start}–${layerWindow.end} of ${rows.length})` : '';
    const markup = composedSvg(`${model.fileName}: per layer${window}`, [
      { svg: compute, title: computeTitle, legend: computeLegend },
      { svg: size, title: sizeTitle, legend: sizeLegend }
    ]);
    const fileName = `${model.fileName.replace(/\.onnx$/i, '')}-layers.${format}`;
    if (format === 'svg') downloadSvgMarkup(markup, fileName);
    else downloadPngMarkup(markup, fileName).catch((error: unknown) => onExportError?.(error));
  };
  const labelOf = (index: number) => shortenLabel(rows[index]?.label ?? String(index));

  return (
    <div ref={root} className="layer-charts" data-testid="layer-charts" data-bars={chartsMounted ? visible.length : 0} data-layers={rows.length} data-metric={metric}>
      <div className="layer-charts-header">
        <span className="layer-charts-title">Per layer</span>
        <span className="layer-charts-summary">
          {metric === 'macs'
            ? `${formatCount(totals.macs)} MACs`
            : [totals.localMs !== null ? `local Σ ${formatMs(totals.localMs)}` : null, totals.remoteMs !== null ? `remote Σ ${formatMs(totals.remoteMs)}` : null].filter(Boolean).join(' · ')}
        </span>
        <span className="layer-charts-spacer" />
        {profiled && (
          <span className="layer-charts-segmented" role="group" aria-label="Compute measure">
            <button type="button" aria-pressed={metric === 'latency'} onClick={() => setMetricChoice('latency')}>
              Latency
            </button>
            <button type="button" aria-pressed={metric === 'macs'} onClick={() => setMetricChoice('macs')}>
              MACs
            </button>
          </span>
        )}
        <label className="layer-charts-toggle" title="Output sizes on a log axis: they span orders of magnitude, and a log axis shows the small ones">
          <input type="checkbox" checked={logScale} onChange={(event) => setLogScale(event.target.checked)} aria-label="Log size axis" />
          Log
        </label>
        <span className="split-chart-export">
          <button type="button" className="split-button" aria-label="Export per-layer charts as SVG" title="Save both per-layer charts as one SVG" disabled={!chartsMounted} onClick={() => exportCharts('svg')}>
            SVG
          </button>
          <button type="button" className="split-button" aria-label="Export per-layer charts as PNG" title="Save both per-layer charts as one PNG" disabled={!chartsMounted} onClick={() => exportCharts('png')}>
            PNG
          </button>
        </span>
      </div>

      {computeShown && (
        <>
      <div className="layer-chart layer-chart-compute">
        <span className="layer-chart-axis-title">
          {computeTitle}
          {windowed && (
            <span className="layer-charts-window" data-testid="layer-charts-window">
              {' '}
              · layers {layerWindow.start}–{layerWindow.end} of {rows.length}
            </span>
          )}
        </span>
        <ChartLegend items={computeLegend} />
        {errorNotes.map((note) => (
          <span key={note} className="layer-chart-prediction-error" data-testid="prediction-errors" title="How far the device profile's fits missed configurations they were not fitted to (5-fold cross-validation), per layer type, with each type's share of this model's predicted time">
            {note}
          </span>
        ))}
        {!visible.some((row) => computeSeries.some((series) => (row[series.key] ?? 0) > 0)) && (
          <span className="layer-chart-empty">{metric === 'macs' ? 'No MACs counted for these layers: profile them to see their latency' : 'No latency measured for these layers'}</span>
        )}
        <ResponsiveContainer width="100%" height="100%" minHeight={40}>
          <BarChart data={visible} margin={MARGIN} barCategoryGap="12%" barGap={1} onClick={selectColumn} cursor="pointer">
            <CartesianGrid vertical={false} verticalCoordinatesGenerator={noVerticalLines} stroke="var(--border)" strokeDasharray="2 3" />
            <XAxis dataKey="index" hide />
            <YAxis
              width={Y_AXIS_WIDTH}
              tickFormatter={(value: number) => (metric === 'macs' ? formatCountTick(value) : formatMsTick(value))}
              tick={{ fill: 'var(--muted)', fontSize: 10 }}
              axisLine={false}
              tickLine={false}
            />
            {selectedVisible !== null && <ReferenceArea x1={selectedVisible} x2={selectedVisible} fill="var(--accent)" fillOpacity={0.14} ifOverflow="visible" />}
            <Tooltip content={LayerTooltip} cursor={{ fill: 'var(--fg)', fillOpacity: 0.06 }} isAnimationActive={false} />
            {computeSeries.map((series) => (
              <Bar
                key={series.key}
                dataKey={series.key}
                name={series.name}
                fill={series.colour}
                fillOpacity={series.predicted ? 0.4 : 1}
                stroke={series.predicted ? series.colour : undefined}
                strokeDasharray={series.predicted ? '3 2' : undefined}
                className={series.predicted ? 'layer-bar-predicted' : undefined}
                isAnimationActive={false}
                maxBarSize={28}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>

      <div className="layer-chart layer-chart-size">
        <span className="layer-chart-axis-title">{sizeTitle}</span>
        <ChartLegend items={sizeLegend} />
        {chartsMounted && (
          <ResponsiveContainer width="100%" height="100%" minHeight={40}>
            <BarChart key={versionOf(rows)} data={windowed ? rows : visible} margin={MARGIN} barCategoryGap="12%" onClick={selectColumn} cursor="pointer">
              <CartesianGrid vertical={false} verticalCoordinatesGenerator={noVerticalLines} stroke="var(--border)" strokeDasharray="2 3" />
              <XAxis
                dataKey="index"
                tick={<LayerTick label={labelOf} />}
                tickFormatter={labelOf}
                tickLine={false}
                axisLine={{ stroke: 'var(--border)' }}
                minTickGap={10}
                interval="preserveStartEnd"
                height={18}
              />
              <YAxis
                width={Y_AXIS_WIDTH}
                scale={logScale ? 'log' : 'linear'}
                domain={logScale ? logAxis.domain : [0, 'auto']}
                ticks={logScale ? logAxis.ticks : undefined}
                allowDataOverflow={logScale}
                tickFormatter={formatBytesTick}
                tick={{ fill: 'var(--muted)', fontSize: 10 }}
                axisLine={false}
                tickLine={false}
              />
              {selectedVisible !== null && <ReferenceArea x1={selectedVisible} x2={selectedVisible} fill="var(--accent)" fillOpacity={0.14} ifOverflow="visible" />}
              {inputBytes !== null && inputBytes > 0 && (
                <ReferenceLine y={inputBytes} stroke="var(--fg)" strokeOpacity={0.55} strokeDasharray="5 3" ifOverflow="extendDomain" />
              )}
              <Tooltip content={LayerTooltip} cursor={{ fill: 'var(--fg)', fillOpacity: 0.06 }} isAnimationActive={false} />
              <Bar dataKey={logScale ? 'outputBytesLog' : 'outputBytes'} name="Output size" fill="var(--chart-size)" isAnimationActive={false} maxBarSize={28} />
              {windowed && (
                <Brush
                  dataKey="index"
                  height={18}
                  travellerWidth={7}
                  startIndex={layerWindow.start}
                  endIndex={layerWindow.end}
                  onChange={(next) => setLayerWindow(clampWindow({ start: next.startIndex ?? 0, end: next.endIndex ?? 0 }, rows.length))}
                  stroke="var(--accent)"
                  fill="var(--panel)"
                  tickFormatter={(value: number) => String(value)}
                />
              )}
            </BarChart>
          </ResponsiveContainer>
        )}
      </div>
        </>
      )}
    </div>
  );
}

/** "cpu", "cuda (predicted)", "cpu (asked webgpu)". */
function profileLabel(profile: LatencyProfile): string {
  const notes = [
    profile.predicted ? 'predicted' : null,
    profile.requestedEp && profile.requestedEp !== profile.ep ? `asked ${profile.requestedEp}` : null,
    `opt ${profile.graphOptimization}`,
    profile.threads !== null ? `${profile.threads} thread${profile.threads === 1 ? '' : 's'}` : null,
    instabilityWarning(profile) ? 'unstable' : null
  ].filter(Boolean);
  return notes.length > 0 ? `${profile.ep} (${notes.join(', ')})` : profile.ep;
}

function formatMsTick(ms: number): string {
  if (ms === 0) return '0';
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? String(Number(ms.toFixed(1))) : String(Number(ms.toPrecision(2)));
}

/** The card shown over a layer's column in either chart. */
function LayerTooltip({ active, payload }: TooltipContentProps): JSX.Element | null {
  const row = payload?.[0]?.payload as LayerRow | undefined;
  if (!active || !row) return null;
  const timing = (label: string, t: LayerRow['local']) =>
    t && (
      <div className="layer-tooltip-row">
        <span>{label}</span>
        <span className="mono">
          {formatMs(t.medianMs)} <span className="muted">({formatMsRange(t.p10Ms, t.p90Ms)})</span>
        </span>
      </div>
    );
  return (
    <div className="layer-tooltip">
      <div className="layer-tooltip-title">
        <span className="mono muted">#{row.index}</span> {row.op}
      </div>
      <div className="layer-tooltip-name">{row.name}</div>
      <div className="layer-tooltip-row">
        <span>MACs</span>
        <span className="mono">{formatCount(row.macs)}</span>
      </div>
      {timing('Local', row.local)}
      {timing('Remote', row.remote)}
      <div className="layer-tooltip-row">
        <span>Output</span>
        <span className="mono">{formatBytes(row.outputBytes)}</span>
      </div>
    </div>
  );
}
