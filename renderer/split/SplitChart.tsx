// The per-split chart (the paper's Figure 6): for every topological cut a stacked bar of
// local / upload / remote / download latency, device energy as a line on its own axis,
// a narrow bar beside the fp32 bar at each cut whose wire encodings were measured (the
// best encoding's total; the best of them starred with its encoding's name), and
// a star (★) over the best cut for latency and one on the energy line at the best cut for
// energy, and the two baselines (cut 0 cloud-only, cut N device-only) labelled. Legend,
// axis titles and cut numbers are drawn in the SVG itself, so an exported chart reads on
// its own. Drawn as plain SVG: a 1,000-node model has 1,001 cuts, and the bars are drawn
// from a deferred copy of the analysis so the stars (drawn from the current one) move
// while a slider is still being dragged. Hovering names a cut (in the legend's place);
// clicking pins it.
import { memo, useDeferredValue, useLayoutEffect, useState } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { cutLabel, starLabel, type SplitAnalysis } from './split-data.js';
import { useElementSize, type Size } from './use-element-size.js';

export interface SplitChartProps {
  model: ModelView;
  analysis: SplitAnalysis;
  pins: readonly number[];
  onTogglePin: (cut: number) => void;
  /** Measured totals from a sweep (drawn as dots over the predicted bars). */
  measured?: ReadonlyArray<{ cut: number; measuredMs: number | null }>;
  /** The best measured wire encoding at each measured cut (its total beside the fp32 bar; the best of them starred with its encoding). */
  encoded?: ReadonlyArray<{ cut: number; encoding: string; totalMs: number }>;
}

const PAD = { left: 62, right: 60, bottom: 32 };
/** Legend rows sit above the plot: its top is this far below the last one. */
const LEGEND_ROW = 14;
/** Average width of a 10 px character, for laying out the legend and ticks without measuring. */
const CHAR_WIDTH = 5.9;

export const SEGMENTS = [
  { key: 'localMs', label: 'Local', className: 'seg-local' },
  { key: 'uploadMs', label: 'Upload', className: 'seg-upload' },
  { key: 'remoteMs', label: 'Remote', className: 'seg-remote' },
  { key: 'downloadMs', label: 'Download', className: 'seg-download' }
] as const;

/** Millijoules as mJ below 1 J, else J. */
export function formatEnergy(mJ: number): string {
  if (mJ >= 1000) return `${Number((mJ / 1000).toPrecision(3))} J`;
  return `${Number(mJ.toPrecision(3))} mJ`;
}

/** Cut numbers to label on the axis: a round step leaving room for each label, with the last cut. */
export function cutTicks(cuts: number, plotWidth: number): number[] {
  const last = cuts - 1;
  const room = (String(last).length + 2) * CHAR_WIDTH;
  const band = plotWidth / Math.max(1, cuts);
  const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000].find((candidate) => candidate * band >= room) ?? Math.ceil(last / 2);
  const ticks: number[] = [];
  for (let cut = 0; cut <= last; cut += step) ticks.push(cut);
  // The last cut is labelled too unless it would crowd the tick before it.
  if (ticks[ticks.length - 1] !== last) {
    if ((last - ticks[ticks.length - 1]) * band < room) ticks.pop();
    ticks.push(last);
  }
  return ticks;
}

/** A round axis maximum (1, 2 or 5 × a power of ten) at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

interface Scales {
  top: number;
  width: number;
  height: number;
  plotH: number;
  band: number;
  x: (cut: number) => number;
  yMs: (ms: number) => number;
  yEnergy: (mJ: number) => number;
  maxMs: number;
  maxEnergy: number;
}

function scalesOf(analysis: SplitAnalysis, { width, height }: Size, top: number): Scales {
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = Math.max(10, height - top - PAD.bottom);
  const count = analysis.costs.length;
  let maxMs = 0;
  let maxEnergy = 0;
  for (const cost of analysis.costs) {
    maxMs = Math.max(maxMs, cost.totalMs);
    maxEnergy = Math.max(maxEnergy, cost.energyMJ);
  }
  maxMs = niceMax(maxMs);
  maxEnergy = niceMax(maxEnergy);
  const band = plotW / count;
  return {
    top,
    width,
    height,
    plotH,
    band,
    x: (cut) => PAD.left + cut * band,
    yMs: (ms) => top + plotH - (ms / maxMs) * plotH,
    yEnergy: (mJ) => top + plotH - (mJ / maxEnergy) * plotH,
    maxMs,
    maxEnergy
  };
}

let lastBarsCommit: SplitAnalysis | null = null;
const barsWaiters = new Map<SplitAnalysis, () => void>();

/** Resolves once the bars have been committed for `analysis` (for the split panel's slider probe). */
export function barsCommitted(analysis: SplitAnalysis): Promise<void> {
  if (lastBarsCommit === analysis) return Promise.resolve();
  return new Promise((resolve) => barsWaiters.set(analysis, resolve));
}

/**
 * The bars and the energy line: the expensive part, memoised on the (deferred) analysis.
 * One path per segment kind (not an element per bar), so 1,000 cuts stay cheap to draw.
 */
const Bars = memo(function Bars({ analysis, size, top }: { analysis: SplitAnalysis; size: Size; top: number }) {
  useLayoutEffect(() => {
    lastBarsCommit = analysis;
    barsWaiters.get(analysis)?.();
    barsWaiters.delete(analysis);
  }, [analysis]);
  const s = scalesOf(analysis, size, top);
  const barWidth = Math.max(0.6, s.band * 0.78);
  const inset = (s.band - barWidth) / 2;
  const paths = SEGMENTS.map(() => [] as string[]);
  for (const cost of analysis.costs) {
    let top = s.yMs(0);
    const left = (s.x(cost.cut) + inset).toFixed(2);
    SEGMENTS.forEach((segment, kind) => {
      const height = (cost[segment.key] / s.maxMs) * s.plotH;
      if (!(height > 0)) return;
      top -= height;
      paths[kind].push(`M${left} ${top.toFixed(2)}h${barWidth.toFixed(2)}v${height.toFixed(2)}h${(-barWidth).toFixed(2)}z`);
    });
  }
  const energyPoints = analysis.costs.map((cost) => `${(s.x(cost.cut) + s.band / 2).toFixed(1)},${s.yEnergy(cost.energyMJ).toFixed(1)}`).join(' ');
  return (
    <g className="split-bars">
      {SEGMENTS.map((segment, kind) => (
        <path key={segment.key} className={segment.className} d={paths[kind].join('')} />
      ))}
      <polyline className="split-energy-line" points={energyPoints} fill="none" />
    </g>
  );
});

interface LegendEntry {
  label: string;
  className: string;
  kind: 'box' | 'line' | 'star' | 'dot';
}

/** The legend's entries placed left to right from `left`, onto a new row where one would pass `right`. */
export function legendLayout<T extends { label: string }>(entries: T[], left: number, right: number): { placed: Array<T & { x: number; row: number }>; rows: number } {
  let x = left;
  let row = 0;
  const placed = entries.map((entry) => {
    const width = 14 + entry.label.length * CHAR_WIDTH;
    if (x > left && x + width > right) {
      row++;
      x = left;
    }
    const at = { ...entry, x, row };
    x += width + 12;
    return at;
  });
  return { placed, rows: row + 1 };
}

export function SplitChart({ model, analysis, pins, onTogglePin, measured, encoded }: SplitChartProps) {
  const deferred = useDeferredValue(analysis);
  const [hovered, setHovered] = useState<number | null>(null);
  const [ref, size] = useElementSize<SVGSVGElement>();
  const { width: WIDTH, height: HEIGHT } = size;
  const legend = legendLayout<LegendEntry>(
    [
      ...SEGMENTS.map((segment) => ({ label: segment.label, className: segment.className, kind: 'box' as const })),
      { label: 'Device energy', className: 'split-energy-line', kind: 'line' },
      { label: 'best latency', className: 'split-star-latency', kind: 'star' },
      { label: 'best energy', className: 'split-star-energy', kind: 'star' },
      ...(measured && measured.length > 0 ? [{ label: 'measured', className: 'split-measured', kind: 'dot' as const }] : [])
    ],
    8,
    WIDTH - 8
  );
  const top = legend.rows * LEGEND_ROW + 8;
  // Stars and baselines follow the current analysis; the bars may lag one render behind.
  const s = scalesOf(analysis, size, top);
  const last = analysis.costs.length - 1;
  const latencyCut = analysis.bestLatency;
  const energyCut = analysis.bestEnergy;
  const centre = (cut: number) => s.x(cut) + s.band / 2;
  /** The cut under a pointer's client x. */
  const cutAt = (clientX: number): number | null => {
    const left = ref.current?.getBoundingClientRect().left ?? 0;
    const cut = Math.floor((clientX - left - PAD.left) / s.band);
    return cut >= 0 && cut <= last ? cut : null;
  };
  const plotBottom = top + s.plotH;
  const bestEncoded = encoded?.reduce<{ cut: number; encoding: string; totalMs: number } | null>((best, point) => (point.cut <= last && (!best || point.totalMs < best.totalMs) ? point : best), null) ?? null;
  const middle = top + s.plotH / 2;
  return (
    <svg ref={ref} className="split-chart" width="100%" height="100%" data-testid="split-chart" data-cuts={analysis.costs.length}>
      <title>{`End-to-end latency and device energy per split of ${model.fileName}`}</title>
      {hovered === null && (
        <g className="split-chart-legend" data-testid="split-chart-legend">
          {legend.placed.map((entry) => (
            <g key={entry.label} transform={`translate(${entry.x}, ${10 + entry.row * LEGEND_ROW})`}>
              {entry.kind === 'box' && <rect className={entry.className} x={0} y={-4} width={9} height={9} rx={1.5} />}
              {entry.kind === 'line' && <line className={entry.className} x1={0} x2={11} y1={0.5} y2={0.5} />}
              {entry.kind === 'star' && (
                <text className={`split-legend-star ${entry.className}`} x={5} y={5} textAnchor="middle">
                  ★
                </text>
              )}
              {entry.kind === 'dot' && <circle className={entry.className} cx={5} cy={0.5} r={3.5} />}
              <text x={14} y={4}>
                {entry.label}
              </text>
            </g>
          ))}
        </g>
      )}
      <text className="split-axis-title" transform={`translate(11, ${middle}) rotate(-90)`} textAnchor="middle">
        end-to-end latency
      </text>
      <text className="split-axis-title split-energy-axis" transform={`translate(${WIDTH - 9}, ${middle}) rotate(90)`} textAnchor="middle">
        device energy
      </text>
      <g className="split-cut-ticks">
        {cutTicks(analysis.costs.length, s.band * analysis.costs.length).map((cut) => (
          <g key={cut}>
            <line className="split-grid" x1={centre(cut)} x2={centre(cut)} y1={plotBottom} y2={plotBottom + 3} />
            <text x={centre(cut)} y={plotBottom + 13} textAnchor="middle">
              {cut}
            </text>
          </g>
        ))}
      </g>
      <g className="split-axis">
        {[0, 0.5, 1].map((fraction) => (
          <g key={fraction}>
            <line x1={PAD.left} x2={WIDTH - PAD.right} y1={s.yMs(fraction * s.maxMs)} y2={s.yMs(fraction * s.maxMs)} className="split-grid" />
            <text x={PAD.left - 4} y={s.yMs(fraction * s.maxMs) + 3} textAnchor="end">
              {fraction === 0 ? '0' : formatMs(fraction * s.maxMs)}
            </text>
            <text x={WIDTH - PAD.right + 4} y={s.yEnergy(fraction * s.maxEnergy) + 3} className="split-energy-axis">
              {fraction === 0 ? '0' : formatEnergy(fraction * s.maxEnergy)}
            </text>
          </g>
        ))}
      </g>
      {pins.map((cut) =>
        cut <= last ? <rect key={`pin-${cut}`} className="split-pin-band" x={s.x(cut)} y={top - 4} width={Math.max(2, s.band)} height={s.plotH + 4} /> : null
      )}
      <Bars analysis={deferred} size={size} top={top} />
      {measured?.map((point) =>
        point.measuredMs !== null && point.cut <= last ? (
          <circle key={`measured-${point.cut}`} className="split-measured" data-testid="measured-dot" cx={centre(point.cut)} cy={Math.max(top, s.yMs(point.measuredMs))} r={3.5}>
            <title>{`${cutLabel(model, point.cut)}: measured ${formatMs(point.measuredMs)}, predicted ${formatMs(analysis.costs[point.cut].totalMs)}`}</title>
          </circle>
        ) : null
      )}
      {encoded?.map((point) =>
        point.cut <= last ? (
          <rect
            key={`encoded-${point.cut}`}
            className="split-encoded-bar"
            data-testid="encoded-bar"
            data-cut={point.cut}
            data-encoding={point.encoding}
            x={s.x(point.cut) + s.band * 0.55}
            y={Math.max(top, s.yMs(point.totalMs))}
            width={Math.max(1.5, s.band * 0.4)}
            height={Math.max(0, plotBottom - Math.max(top, s.yMs(point.totalMs)))}
          >
            <title>{`${cutLabel(model, point.cut)} in ${point.encoding}: ${formatMs(point.totalMs)} (fp32 ${formatMs(analysis.costs[point.cut].totalMs)})`}</title>
          </rect>
        ) : null
      )}
      {bestEncoded && bestEncoded.totalMs < analysis.costs[latencyCut].totalMs && (
        <g
          role="img"
          aria-label={`best with a wire encoding: ${cutLabel(model, bestEncoded.cut)} in ${bestEncoded.encoding}, ${formatMs(bestEncoded.totalMs)}`}
          className="split-star split-star-encoded"
          data-testid="star-encoded"
          data-cut={bestEncoded.cut}
          data-encoding={bestEncoded.encoding}
          transform={`translate(${s.x(bestEncoded.cut) + s.band * 0.75}, ${Math.max(top, s.yMs(bestEncoded.totalMs)) - 3})`}
        >
          <text textAnchor="middle">★</text>
          <text className="split-star-encoding" y={-10} textAnchor="middle">
            {bestEncoded.encoding}
          </text>
        </g>
      )}
      {hovered !== null && hovered <= last && (
        <g className="split-hover" pointerEvents="none">
          <rect className="split-hover-band" x={s.x(hovered)} y={top} width={Math.max(1, s.band)} height={s.plotH} />
          <text x={8} y={14} className="split-hover-text">
            {`${cutLabel(model, hovered)} · ${formatMs(analysis.costs[hovered].totalMs)} · ${formatEnergy(analysis.costs[hovered].energyMJ)} — click to pin`}
          </text>
        </g>
      )}
      <rect
        className="split-hit"
        data-testid="split-hit"
        x={PAD.left}
        y={top}
        width={Math.max(0, s.band * analysis.costs.length)}
        height={s.plotH}
        onMouseMove={(event) => setHovered(cutAt(event.clientX))}
        onMouseLeave={() => setHovered(null)}
        onClick={(event) => {
          const cut = cutAt(event.clientX);
          if (cut !== null) onTogglePin(cut);
        }}
      />
      <text className="split-baseline" x={PAD.left} y={HEIGHT - 4} textAnchor="start">
        ← cloud-only
      </text>
      <text className="split-axis-title" x={PAD.left + (WIDTH - PAD.left - PAD.right) / 2} y={HEIGHT - 4} textAnchor="middle">
        cut: layers run on the device
      </text>
      <text className="split-baseline" x={WIDTH - PAD.right} y={HEIGHT - 4} textAnchor="end">
        device-only →
      </text>
      <g
        role="img"
        aria-label={starLabel(model, 'latency', latencyCut)}
        className="split-star split-star-latency"
        data-testid="star-latency"
        data-cut={latencyCut}
        transform={`translate(${centre(latencyCut)}, ${Math.max(top, s.yMs(analysis.costs[latencyCut].totalMs)) - 3})`}
      >
        <text textAnchor="middle">★</text>
      </g>
      <g
        role="img"
        aria-label={starLabel(model, 'energy', energyCut)}
        className="split-star split-star-energy"
        data-testid="star-energy"
        data-cut={energyCut}
        transform={`translate(${centre(energyCut)}, ${s.yEnergy(analysis.costs[energyCut].energyMJ) + 5})`}
      >
        <text textAnchor="middle">★</text>
      </g>
    </svg>
  );
}
