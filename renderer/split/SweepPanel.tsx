// The "Measured vs predicted" tab: runs a sweep through the connected executor
// ('sweep.start': real split runs at cuts 0, every, 2·every, …, N and the predicted best,
// on a link shaped to the what-if network) with a progress bar and cancel, then lists each
// measured cut's median total beside the prediction and their ratio, starring the
// measured best, with a summary (did the prediction pick the fastest cut; median and
// largest prediction error). The sweep predicts from its own inputs — the latencies it
// profiled or found, the server load the executor reports, the link it ran on — so the
// panel says which of them differ from the chart's bars, and by that why its "predicted"
// column may differ from them. On a DAG it can run the min-cut partition too. Progress and
// outcome live in the store (events 'sweep.progress' and 'sweep.done').
import { useState } from 'react';
import type { SweepDone } from '../../app/studio/contract.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatMs } from '../format.js';
import { NumberField } from '../panels/NumberField.js';
import { useStudio } from '../store.js';
import { cutLabel, type LatencySource, type WhatIf } from './split-data.js';

export interface SweepPanelProps {
  model: ModelView;
  whatIf: WhatIf;
  /** The model is a DAG: offer to run its min-cut partition as well. */
  hasDag: boolean;
  /** Where the chart's bars take their latencies from. */
  chartSource: { local: LatencySource; remote: LatencySource };
}

type SweepResult = NonNullable<SweepDone['result']>;

function formatPercent(fraction: number): string {
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)} %`;
}

/** Why the sweep's predictions may differ from the chart's bars: the inputs that are not the same. */
export function sweepDifferences(result: SweepResult, whatIf: WhatIf, chartSource: { local: LatencySource; remote: LatencySource }): string[] {
  const differences: string[] = [];
  const kind = (source: string) => (source.startsWith('measured') ? 'measured' : source.startsWith('estimated') ? 'estimated' : source);
  if (kind(result.latencies.local) !== chartSource.local || kind(result.latencies.remote) !== chartSource.remote) {
    differences.push(`latencies: the sweep's are device ${result.latencies.local}, server ${result.latencies.remote}; the chart's are device ${chartSource.local}, server ${chartSource.remote}`);
  }
  if (Math.abs(result.serverLoad - whatIf.serverLoad) > 0.005) {
    differences.push(`server load: the sweep used K = ${result.serverLoad.toFixed(2)} (the executor's), the chart K = ${whatIf.serverLoad.toFixed(2)}`);
  }
  const { network } = result;
  if (Math.abs(network.uplinkMbps - whatIf.uplinkMbps) > 1e-6 || Math.abs(network.downlinkMbps - whatIf.downlinkMbps) > 1e-6 || Math.abs(network.rttMs - whatIf.rttMs) > 1e-6) {
    differences.push(`network: the sweep ran on ${network.name} (↑ ${network.uplinkMbps} Mbps, RTT ${network.rttMs} ms), the chart shows ↑ ${whatIf.uplinkMbps} Mbps, RTT ${whatIf.rttMs} ms`);
  }
  return differences;
}

function Summary({ result, model }: { result: SweepResult; model: ModelView }) {
  const measuredErrors = result.cuts.filter((row) => row.measuredMs !== null).map((row) => Math.abs(row.predictedMs - (row.measuredMs ?? 0)) / (row.measuredMs ?? 1));
  const largest = measuredErrors.length > 0 ? Math.max(...measuredErrors) : null;
  const picked =
    result.ratio === null
      ? 'The predicted best cut was not measured.'
      : result.measuredBest === result.predictedBest
        ? `The prediction picked the fastest measured cut (${cutLabel(model, result.predictedBest)}).`
        : `The predicted best, cut ${result.predictedBest}, ran ${result.ratio.toFixed(2)}× the time of the fastest measured, cut ${result.measuredBest}.`;
  return (
    <div className="split-sweep-summary" data-testid="sweep-summary" data-ratio={result.ratio ?? ''} data-error={result.predictionError ?? ''}>
      <div>
        <span className="split-figure">{result.ratio === null ? '—' : `${result.ratio.toFixed(2)}×`}</span> <span className="muted">decision ratio (1 = the fastest cut picked)</span>
      </div>
      <div>
        <span className="split-figure">{result.predictionError === null ? '—' : formatPercent(result.predictionError)}</span>{' '}
        <span className="muted">median prediction error{largest !== null ? `, largest ${formatPercent(largest)}` : ''}</span>
      </div>
      <div className="split-sweep-picked">{picked}</div>
    </div>
  );
}

export function SweepPanel({ model, whatIf, hasDag, chartSource }: SweepPanelProps) {
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
  const differences = result ? sweepDifferences(result, whatIf, chartSource) : [];

  const start = () =>
    void startSweep({
      network: { name: whatIf.preset, uplinkMbps: whatIf.uplinkMbps, downlinkMbps: whatIf.downlinkMbps, rttMs: whatIf.rttMs },
      every,
      runs,
      dag: hasDag && withDag
    });

  return (
    <div className="split-sweep" data-testid="split-sweep" data-state={running ? 'running' : (job?.done?.outcome ?? 'idle')}>
      <div className="split-sweep-controls">
        <div className="split-sweep-header">
          <span className="split-section-title">Real split runs through the executor, beside the prediction</span>
          <label title="The cuts measured: 0, this step, twice it, …, the last cut, and the predicted best">
            step
            <NumberField value={every} min={1} max={model.nodes.length} aria-label="Measure every Kth cut" onCommit={setEvery} />
            <span className="muted">
              (cuts 0, {every}, {Math.min(2 * every, model.nodes.length)}, …, {model.nodes.length})
            </span>
          </label>
          <label>
            runs
            <NumberField value={runs} min={1} max={100} aria-label="Runs per cut" onCommit={setRuns} />
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
        {!connected && !result && <div className="muted">Connect an executor (status bar) to measure real split runs.</div>}
        {running && (
          <div className="split-progress" role="progressbar" aria-label="Sweep progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(job.fraction * 100)} data-testid="sweep-progress" data-fraction={job.fraction}>
            <div className="split-progress-bar" style={{ width: `${(job.fraction * 100).toFixed(1)}%` }} />
            <span>{job.message}</span>
          </div>
        )}
        {job?.done && job.done.outcome !== 'done' && (
          <div className="muted">
            Sweep {job.done.outcome}
            {job.done.error ? `: ${job.done.error}` : ''}
          </div>
        )}
        {result && <Summary result={result} model={model} />}
        {result && (
          <div className="split-sweep-why muted" data-testid="sweep-inputs">
            {differences.length === 0 ? (
              'The sweep predicted with the same inputs as the chart: its predicted column is the chart’s bars.'
            ) : (
              <>
                Its predicted column differs from the chart&apos;s bars because it predicted with other inputs:
                <ul>
                  {differences.map((difference) => (
                    <li key={difference}>{difference}</li>
                  ))}
                </ul>
              </>
            )}
          </div>
        )}
      </div>
      {result && (
        <div className="split-sweep-table-box">
          <table className="split-sweep-table" data-testid="sweep-result" data-measured-best={result.measuredBest ?? ''} data-predicted-best={result.predictedBest}>
            <thead>
              <tr>
                <th scope="col">cut</th>
                <th scope="col">predicted</th>
                <th scope="col">measured</th>
                <th scope="col" title="measured ÷ predicted">ratio</th>
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
                  <td>{row.measuredMs === null || row.predictedMs <= 0 ? '—' : `${(row.measuredMs / row.predictedMs).toFixed(2)}×`}</td>
                </tr>
              ))}
              {result.dag && (
                <tr className="split-sweep-dag" data-testid="sweep-dag" data-measured={result.dag.measuredMs}>
                  <td title={`The DAG min-cut partition: ${result.dag.localLayers.length} of ${model.nodes.length} layers on the device`}>DAG</td>
                  <td>{formatMs(result.dag.predictedMs)}</td>
                  <td>
                    {formatMs(result.dag.measuredMs)} <span className="muted">({result.dag.vsBestCut.toFixed(2)}× best cut)</span>
                  </td>
                  <td>{result.dag.predictedMs > 0 ? `${(result.dag.measuredMs / result.dag.predictedMs).toFixed(2)}×` : '—'}</td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
