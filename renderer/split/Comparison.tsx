// Pinned cuts side by side: for each, the time breakdown, device energy, the tensors that
// cross (names, shapes, bytes) and how many layers run where. Props only; the numbers
// come from split-data.ts (app/partition underneath). A cut is pinned by clicking its bar,
// with the Pin buttons of the summary, or by number here.
import { useState, type FormEvent } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatBytes, formatMs } from '../format.js';
import { cutDetails, cutLabel, type SplitAnalysis, type SplitProblem } from './split-data.js';

export interface ComparisonProps {
  model: ModelView;
  split: SplitProblem;
  analysis: SplitAnalysis;
  pins: readonly number[];
  onTogglePin: (cut: number) => void;
}

export function Comparison({ model, split, analysis, pins, onTogglePin }: ComparisonProps) {
  const [cutText, setCutText] = useState('');
  const last = model.nodes.length;
  const wanted = Number(cutText);
  const valid = cutText.trim() !== '' && Number.isInteger(wanted) && wanted >= 0 && wanted <= last;
  const pinTyped = (event: FormEvent) => {
    event.preventDefault();
    if (valid && !pins.includes(wanted)) onTogglePin(wanted);
    setCutText('');
  };
  const shown = pins.filter((cut) => cut <= last).map((cut) => cutDetails(model, split, analysis, cut));
  const fastest = shown.length > 0 ? Math.min(...shown.map((details) => details.cost.totalMs)) : 0;

  return (
    <div className="split-compare" data-testid="split-comparison" data-pins={shown.map((details) => details.cut).join(',')}>
      <form className="split-compare-header" onSubmit={pinTyped}>
        <span className="split-section-title">Compare</span>
        <input
          type="number"
          min={0}
          max={last}
          aria-label="Cut to pin"
          placeholder={`cut 0–${last}`}
          value={cutText}
          onChange={(event) => setCutText(event.target.value)}
        />
        <button type="submit" className="split-button" disabled={!valid}>
          Pin
        </button>
      </form>
      {shown.length > 0 && (
        <div className="muted split-compare-legend">
          To draw a pinned cut on the graph, pick it in the graph&apos;s partition menu (top left).
        </div>
      )}
      {shown.length === 0 ? (
        <div className="muted split-compare-empty">Pin cuts (click a bar, or a Pin button) to compare them side by side.</div>
      ) : (
        <div className="split-compare-columns">
          {shown.map((details) => (
            <section key={details.cut} className="split-compare-card" aria-label={`Pinned ${cutLabel(model, details.cut)}`} data-testid="pinned-cut" data-cut={details.cut}>
              <header>
                <span className="split-compare-title">{cutLabel(model, details.cut)}</span>
                <button type="button" className="split-unpin" aria-label={`Unpin cut ${details.cut}`} onClick={() => onTogglePin(details.cut)}>
                  ×
                </button>
              </header>
              <dl>
                <dt>Total</dt>
                <dd className={details.cost.totalMs === fastest ? 'split-fastest' : undefined}>{formatMs(details.cost.totalMs)}</dd>
                <dt>Local</dt>
                <dd>{formatMs(details.cost.localMs)}</dd>
                <dt>Upload</dt>
                <dd>{formatMs(details.cost.uploadMs)}</dd>
                <dt>Remote</dt>
                <dd>{formatMs(details.cost.remoteMs)}</dd>
                <dt>Download</dt>
                <dd>{formatMs(details.cost.downloadMs)}</dd>
                <dt>Energy</dt>
                <dd>{details.cost.energyMJ.toFixed(1)} mJ</dd>
                <dt>Layers</dt>
                <dd>
                  {details.localNodes} device · {details.remoteNodes} server
                </dd>
                <dt>Sent</dt>
                <dd>{formatBytes(details.cost.uploadBytes)}</dd>
              </dl>
              <ul className="split-tensors" aria-label="Tensors that cross">
                {details.uploaded.map((tensor) => (
                  <li key={`up-${tensor.name}`} title={`${tensor.name} ${tensor.shape} ${formatBytes(tensor.bytes)}`}>
                    ↑ <code>{tensor.name}</code> {tensor.shape} {formatBytes(tensor.bytes)}
                  </li>
                ))}
                {details.downloaded.map((tensor) => (
                  <li key={`down-${tensor.name}`} title={`${tensor.name} ${tensor.shape} ${formatBytes(tensor.bytes)}`}>
                    ↓ <code>{tensor.name}</code> {tensor.shape} {formatBytes(tensor.bytes)}
                  </li>
                ))}
                {details.uploaded.length + details.downloaded.length === 0 && <li className="muted">nothing crosses (device-only)</li>}
              </ul>
            </section>
          ))}
        </div>
      )}
    </div>
  );
}
