// The "Export & import" tab of the bottom pane. Export sends the starred cut for the chosen
// objective (or the DAG min cut) with the what-if conditions to main ('partition.export':
// head.onnx, tail.onnx, the tail's model repository, partition.json with its decision
// table) and shows the folder it was written to. Import reads a partition.json
// ('partition.import'; refused by main when it was made for another model) and restores
// its view: the network, server load and objective, with its cut pinned (named by the
// file) for Compare cuts. Beside them, the decision table the export embeds: the exact
// uplink ranges in which each cut is best for the objective.
import { useDeferredValue, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { decisionTable } from '../../app/partition/decision-table.js';
import { cutTableOf } from '../../app/partition/split-analysis.js';
import type { StudioResult } from '../../app/studio/contract.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { errorMessage, useStudio } from '../store.js';
import { cutLabel, planOptionsFor, whatIfOfImported, type SplitProblem, type WhatIf } from './split-data.js';

export interface ExportImportProps {
  model: ModelView;
  split: SplitProblem;
  whatIf: WhatIf;
  /** The cut the stars give for the what-if's objective. */
  bestCut: number;
  /** True when the model is a DAG, so the min-cut partition can be exported instead. */
  hasDag: boolean;
  /** Switches the pane to Compare cuts (after an import pinned a cut there). */
  onShowComparison: () => void;
}

function formatRangeMbps(mbps: number): string {
  return mbps >= 100 ? mbps.toFixed(0) : mbps >= 10 ? mbps.toFixed(1) : mbps.toFixed(2);
}

export function ExportImport({ model, split, whatIf, bestCut, hasDag, onShowComparison }: ExportImportProps) {
  const host = useStudio((state) => state.host);
  const pushBanner = useStudio((state) => state.pushBanner);
  const setWhatIf = useStudio((state) => state.setWhatIf);
  const pinImported = useStudio((state) => state.pinImported);
  const [busy, setBusy] = useState(false);
  const [written, setWritten] = useState<StudioResult<'partition.export'> | null>(null);
  const [restored, setRestored] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const modelId = model.id;
  // The decision table (downlink scaled with the uplink, in the what-if's ratio) follows a deferred copy of the what-if.
  const deferredWhatIf = useDeferredValue(whatIf);
  const decisions = useMemo(() => decisionTable(cutTableOf(split.problem), planOptionsFor(deferredWhatIf), undefined, deferredWhatIf.objective), [split, deferredWhatIf]);

  const exportPartition = async (cut: number | 'dag') => {
    setBusy(true);
    try {
      const result = await host.request('partition.export', {
        modelId,
        cut,
        network: { name: whatIf.preset, uplinkMbps: whatIf.uplinkMbps, downlinkMbps: whatIf.downlinkMbps, rttMs: whatIf.rttMs },
        serverLoad: whatIf.serverLoad,
        objective: whatIf.objective
      });
      setWritten(result);
    } catch (error) {
      pushBanner('error', `Could not export the partition: ${errorMessage(error)}`);
    } finally {
      setBusy(false);
    }
  };

  const onImport = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const view = await host.request('partition.import', { bytes, fileName: file.name, modelId });
      setWhatIf(whatIfOfImported(view, whatIf));
      pinImported(modelId, view.cut, file.name);
      setRestored(`${file.name}: ${view.cut === 'dag' ? 'the DAG min cut' : `cut ${view.cut}`} on ${view.network.name}, K ${view.serverLoad}, for ${view.objective}`);
    } catch (error) {
      pushBanner('error', `Could not import ${file.name}: ${errorMessage(error)}`);
    }
  };

  return (
    <div className="split-export-view">
      <div className="split-export" data-testid="split-export">
        <div className="split-section-title">Partition config</div>
        <p className="muted split-export-help">
          Export writes head.onnx, tail.onnx, the tail as a model repository and partition.json (with the decision table on the right) for {cutLabel(model, bestCut)}, the
          best for {whatIf.objective} under the conditions on the left. Import restores a partition.json: its network, server load and objective, with its cut pinned.
        </p>
        <div className="split-export-buttons">
          <button
            type="button"
            className="split-button"
            disabled={busy}
            onClick={() => void exportPartition(bestCut)}
            title={`Export cut ${bestCut} (best for ${whatIf.objective}) with head.onnx, tail.onnx, a model repository and partition.json`}
          >
            {busy ? 'Exporting…' : 'Export'}
          </button>
          {hasDag && (
            <button type="button" className="split-button" disabled={busy} onClick={() => void exportPartition('dag')}>
              Export DAG cut
            </button>
          )}
          <button type="button" className="split-button" onClick={() => fileInput.current?.click()}>
            Import
          </button>
        </div>
        <input ref={fileInput} type="file" accept=".json,application/json" hidden onChange={(event) => void onImport(event)} data-testid="split-import-input" />
        {written && (
          <div className="split-written" data-testid="split-export-result" data-dir={written.dir} title={written.files.join('\n')}>
            Written to <code>{written.dir}</code> ({written.files.length} files, {written.ms.toFixed(0)} ms)
          </div>
        )}
        {restored && (
          <div className="split-restored" data-testid="split-import-result">
            Restored {restored}.{' '}
            <button type="button" className="text-button" onClick={onShowComparison}>
              Show in Compare cuts
            </button>
          </div>
        )}
      </div>
      <div
        className="split-decisions"
        data-testid="split-decisions"
        title="The exact uplink ranges (downlink scaled with the uplink) in which each cut is best for the objective: the decision table the export embeds"
      >
        <div className="split-section-title">Best cut by uplink, for {deferredWhatIf.objective}</div>
        <table className="split-decision-table">
          <thead>
            <tr>
              <th scope="col">uplink</th>
              <th scope="col">best cut</th>
            </tr>
          </thead>
          <tbody>
            {decisions.rows.map((row) => (
              <tr key={row.fromMbps} className="split-decision-row">
                <td className="mono">
                  {formatRangeMbps(row.fromMbps)}–{formatRangeMbps(row.toMbps)} Mbps
                </td>
                <td>
                  → cut {row.cut} <span className="muted">{cutLabel(model, row.cut).replace(/^cut \d+ /, '')}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
