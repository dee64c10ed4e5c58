// The per-split chart (the paper's Figure 6): for every topological cut a stacked bar of
// local / upload / remote / download latency, device energy as a line on its own axis,
// a star (★) over the best cut for latency and one on the energy line at the best cut for
// energy, and the two baselines (cut 0 cloud-only, cut N device-only) labelled. Drawn as
// plain SVG: a 1,000-node model has 1,001 cuts, and the bars are drawn from a deferred
// copy of the analysis so the stars (drawn from the current one) move while a slider is
// still being dragged. Hovering names a cut; clicking pins it.
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
}

const PAD = { left: 48, right: 52, top: 18, bottom: 18 };


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

/** A round axis maximum (1, 2 or 5 × a power of ten) at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

interface Scales {
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

function scalesOf(analysis: SplitAnalysis, { width, height }: Size): Scales {
  const plotW = Math.max(10, width - PAD.left - PAD.right);
  const plotH = Math.max(10, height - PAD.top - PAD.bottom);
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
    width,
    height,
    plotH,
    band,
    x: (cut) => PAD.left + cut * band,
    yMs: (ms) => PAD.top + plotH - (ms / maxMs) * plotH,
    yEnergy: (mJ) => PAD.top + plotH - (mJ / maxEnergy) * plotH,
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
const Bars = memo(function Bars({ analysis, size }: { analysis: SplitAnalysis; size: Size }) {
  useLayoutEffect(() => {
    lastBarsCommit = analysis;
    barsWaiters.get(analysis)?.();
    barsWaiters.delete(analysis);
  }, [analysis]);
  const s = scalesOf(analysis, size);
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

export function SplitChart({ model, analysis, pins, onTogglePin, measured }: SplitChartProps) {
  const deferred = useDeferredValue(analysis);
  const [hovered, setHovered] = useState<number | null>(null);
  const [ref, size] = useElementSize<SVGSVGElement>();
  // Stars and baselines follow the current analysis; the bars may lag one render behind.
  const s = scalesOf(analysis, size);
  const { width: WIDTH, height: HEIGHT } = size;
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
  return (
    <svg ref={ref} className="split-chart" width="100%" height="100%" data-testid="split-chart" data-cuts={analysis.costs.length}>
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
        cut <= last ? <rect key={`pin-${cut}`} className="split-pin-band" x={s.x(cut)} y={PAD.top - 4} width={Math.max(2, s.band)} height={s.plotH + 4} /> : null
      )}
      <Bars analysis={deferred} size={size} />
      {measured?.map((point) =>
        point.measuredMs !== null && point.cut <= last ? (
          <circle key={`measured-${point.cut}`} className="split-measured" cx={centre(point.cut)} cy={Math.max(PAD.top, s.yMs(point.measuredMs))} r={3.5}>
            <title>{`${cutLabel(model, point.cut)}: measured ${formatMs(point.measuredMs)}, predicted ${formatMs(analysis.costs[point.cut].totalMs)}`}</title>
          </circle>
        ) : null
      )}
      {hovered !== null && hovered <= last && (
        <g className="split-hover" pointerEvents="none">
          <rect className="split-hover-band" x={s.x(hovered)} y={PAD.top} width={Math.max(1, s.band)} height={s.plotH} />
          <text x={Math.min(Math.max(centre(hovered), PAD.left + 150), WIDTH - PAD.right - 150)} y={PAD.top - 5} textAnchor="middle" className="split-hover-text">
            {`${cutLabel(model, hovered)} · ${formatMs(analysis.costs[hovered].totalMs)} · ${formatEnergy(analysis.costs[hovered].energyMJ)} — click to pin`}
          </text>
        </g>
      )}
      <rect
        className="split-hit"
        data-testid="split-hit"
        x={PAD.left}
        y={PAD.top}
        width={Math.max(0, s.band * analysis.costs.length)}
        height={s.plotH}
        onMouseMove={(event) => setHovered(cutAt(event.clientX))}
        onMouseLeave={() => setHovered(null)}
        onClick={(event) => {
          const cut = cutAt(event.clientX);
          if (cut !== null) onTogglePin(cut);
        }}
      />
      <text className="split-baseline" x={centre(0)} y={HEIGHT - 6} textAnchor="start">
        cloud-only
      </text>
      <text className="split-baseline" x={centre(last)} y={HEIGHT - 6} textAnchor="end">
        device-only
      </text>
      <g
        role="img"
        aria-label={starLabel(model, 'latency', latencyCut)}
        className="split-star split-star-latency"
        data-testid="star-latency"
        data-cut={latencyCut}
        transform={`translate(${centre(latencyCut)}, ${Math.max(PAD.top, s.yMs(analysis.costs[latencyCut].totalMs)) - 3})`}
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
