// The "Compare cuts" tab of the bottom pane: on the left the cuts worth comparing — the
// best for latency and for energy, the two baselines and, on a DAG, the min-cut partition —
// each with its time and energy and a Pin button; on the right the pinned ones as a table
// (Comparison.tsx). Props only.
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { Comparison, type ComparisonProps } from './Comparison.js';
import { formatEnergy } from './SplitChart.js';
import { cutLabel, type PinnedCut, type SplitAnalysis, type SplitProblem } from './split-data.js';

export interface CompareViewProps {
  model: ModelView;
  split: SplitProblem;
  analysis: SplitAnalysis;
  pins: readonly number[];
  dagPinned: boolean;
  imported: Readonly<Record<string, string>>;
  onTogglePin: (cut: PinnedCut) => void;
  encoding?: Pick<ComparisonProps, 'encoded' | 'encodingSamples' | 'measuringEncodings' | 'onMeasureEncodings'>;
}

export function CompareView({ model, split, analysis, pins, dagPinned, imported, onTogglePin, encoding }: CompareViewProps) {
  const last = analysis.costs.length - 1;
  const row = (key: string, label: string, cut: PinnedCut, star?: 'latency' | 'energy') => {
    const cost = cut === 'dag' ? analysis.dag?.cost : analysis.costs[cut];
    if (!cost) return null;
    const pinned = cut === 'dag' ? dagPinned : pins.includes(cut);
    return (
      <li key={key}>
        <span className={star ? `split-summary-star split-star-${star}` : 'split-summary-star'} aria-hidden="true">
          {star ? '★' : '·'}
        </span>
        <span className="split-summary-label">
          <span className="split-summary-kind">{label}</span>
          <span>{cut === 'dag' ? `${analysis.dag?.localNodes.length ?? 0} of ${model.nodes.length} layers on the device` : cutLabel(model, cut)}</span>
          <span className="split-summary-detail">
            {formatMs(cost.totalMs)} · {formatEnergy(cost.energyMJ)}
          </span>
        </span>
        <button type="button" className="split-button small" aria-pressed={pinned} aria-label={cut === 'dag' ? 'Pin the DAG min cut' : `Pin cut ${cut}`} onClick={() => onTogglePin(cut)}>
          {pinned ? 'Pinned' : 'Pin'}
        </button>
      </li>
    );
  };
  const dagBetter = analysis.dag !== undefined && analysis.dag.cost.totalMs < analysis.costs[analysis.bestLatency].totalMs - 1e-9;
  return (
    <div className="split-compare-view">
      <div className="split-summary" data-testid="split-summary">
        <div className="split-section-title">Cuts worth comparing</div>
        <ul className="split-summary-list">
          {row('latency', 'Best for latency', analysis.bestLatency, 'latency')}
          {row('energy', 'Best for energy', analysis.bestEnergy, 'energy')}
          {row('cloud', 'Cloud-only', 0)}
          {row('device', 'Device-only', last)}
          {analysis.dag && row('dag', 'DAG min cut', 'dag')}
        </ul>
        {analysis.dag && (
          <div className="split-dag muted" data-testid="split-dag">
            The DAG min cut may run branches on different sides, beyond cuts in layer order;
            {dagBetter ? <span className="split-dag-better"> here it beats the best cut by {formatMs(analysis.costs[analysis.bestLatency].totalMs - analysis.dag.cost.totalMs)}.</span> : ' here it is no faster than the best cut.'}
          </div>
        )}
      </div>
      <Comparison model={model} split={split} analysis={analysis} pins={pins} dagPinned={dagPinned} imported={imported} onTogglePin={onTogglePin} {...encoding} />
    </div>
  );
}
