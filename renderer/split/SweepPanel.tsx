// Measured vs predicted: runs a sweep through the connected executor ('sweep.start': real
// split runs at cuts 0, every, 2·every, …, N and the predicted best, on a link shaped to
// the what-if network) with a progress bar and cancel, then lists each measured cut's
// median total beside the prediction, starring the measured best. On a DAG it can run the
// min-cut partition too, so the drawn DAG decision is measured like a chain one. Progress and outcome
// live in the store (events 'sweep.progress' and 'sweep.done').
import { useState } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { useStudio } from '../store.js';
import { cutLabel, type WhatIf } from './split-data.js';

export interface SweepPanelProps {
  model: ModelView;
  whatIf: WhatIf;
  /** The model is a DAG: offer to run its min-cut partition as well. */
  hasDag: boolean;
}

export function SweepPanel({ model, whatIf, hasDag }: SweepPanelProps) {
  const sweep = useStudio((state) => state.sweep);
  const executor = useStudio((state) => state.executor);
  const startSweep = useStudio((state) => state.startSweep);
  const cancelSweep = useStudio((state) => state.cancelSweep);
  const [every, setEvery] = useState(() => Math.max(1, Math.round(model.nodes.length / 8)));
  const [runs, setRuns] = useState(3);
  const [withDag, setWithDag] = useState(true);
  const job = sweep?.modelId === model.id ? sweep : null;
  const running = job !== null && job.done === null;
  const connected = executor?.state === 'connected';
  const result = job?.done?.result ?? null;

  const start = () =>
    void startSweep({
      network: { name: whatIf.preset, uplinkMbps: whatIf.uplinkMbps, downlinkMbps: whatIf.downlinkMbps, rttMs: whatIf.rttMs },
      every: Math.max(1, Math.floor(every)),
      runs: Math.min(100, Math.max(1, Math.floor(runs))),
      dag: hasDag && withDag
    });

  return (
    <div className="split-sweep" data-testid="split-sweep" data-state={running ? 'running' : (job?.done?.outcome ?? 'idle')}>
      <div className="split-sweep-header">
        <span className="split-section-title">Measured vs predicted</span>
        <label>
          every
          <input type="number" min={1} max={model.nodes.length} value={every} aria-label="Measure every Kth cut" onChange={(event) => setEvery(Number(event.target.value))} />
        </label>
        <label>
          runs
          <input type="number" min={1} max={100} value={runs} aria-label="Runs per cut" onChange={(event) => setRuns(Number(event.target.value))} />
        </label>
        {hasDag && (
          <label title="Also run the DAG min-cut partition, head → link → tail, and compare it with the best cut">
            <input type="checkbox" checked={withDag} aria-label="Also run the DAG min cut" onChange={(event) => setWithDag(event.target.checked)} />
            DAG cut
          </label>
        )}
        {running ? (
          <button type="button" className="split-button" disabled={job.cancelling} onClick={() => void cancelSweep()}>
            Cancel
          </button>
        ) : (
          <button type="button" className="split-button" disabled={!connected} title={connected ? 'Real split runs through the connected executor' : 'No executor is connected'} onClick={start}>
            Run sweep
          </button>
        )}
      </div>
      {running && (
        <div className="split-progress" role="progressbar" aria-label="Sweep progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(job.fraction * 100)} data-testid="sweep-progress" data-fraction={job.fraction}>
          <div className="split-progress-bar" style={{ width: `${(job.fraction * 100).toFixed(1)}%` }} />
          <span>{job.message}</span>
        </div>
      )}
      {job?.done && job.done.outcome !== 'done' && <div className="muted">Sweep {job.done.outcome}{job.done.error ? `: ${job.done.error}` : ''}</div>}
      {result && (
        <table className="split-sweep-table" data-testid="sweep-result" data-measured-best={result.measuredBest ?? ''} data-predicted-best={result.predictedBest}>
          <thead>
            <tr>
              <th>cut</th>
              <th>predicted</th>
              <th>measured</th>
            </tr>
          </thead>
          <tbody>
            {result.cuts.map((row) => (
              <tr key={row.cut} className={row.cut === result.measuredBest ? 'split-sweep-best' : undefined}>
                <td title={cutLabel(model, row.cut)}>
                  {row.cut === result.measuredBest ? <span aria-label="measured best">★ </span> : null}
                  {row.cut === result.predictedBest ? <span className="muted">(predicted best) </span> : null}
                  {row.cut}
                </td>
                <td>{formatMs(row.predictedMs)}</td>
                <td>{row.measuredMs === null ? 'skipped' : formatMs(row.measuredMs)}</td>
              </tr>
            ))}
            {result.dag && (
              <tr className="split-sweep-dag" data-testid="sweep-dag" data-measured={result.dag.measuredMs}>
                <td title={`The DAG min-cut partition: ${result.dag.localLayers.length} of ${model.nodes.length} layers on the device`}>DAG</td>
                <td>{formatMs(result.dag.predictedMs)}</td>
                <td>
                  {formatMs(result.dag.measuredMs)} <span className="muted">({result.dag.vsBestCut.toFixed(2)}× best cut)</span>
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
    </div>
  );
}
