// The "Export & import" tab of the bottom pane. Export sends the starred cut for the chosen
// objective (or the DAG min cut) with the what-if conditions to main ('partition.export':
// head.onnx, tail.onnx, the tail's model repository, partition.json with its decision
// table; the radio and device power the panel's energies use, so partition.json assumes
// the same) and shows the folder it was written to, with Show in folder (Electron) or
// Download .zip (web host). Without a name, each model and cut has one folder, replaced
// by the next export of that cut. The page names only the export's
// folder (a name, not a path): main writes it under the export folder — in the desktop app
// the one picked in the native dialog (Folder…), in a browser the studio's own — and
// Overwrite replaces only a folder an earlier export wrote. Import reads a partition.json
// ('partition.import'; refused by main when it was made for another model) and restores
// its view: the network, server load and objective, with its cut pinned (named by the
// file) for Compare cuts. Beside them, the decision table the export embeds: the exact
// uplink ranges in which each cut is best for the objective; once wire encodings were
// measured (Compare cuts), a second table gains the encoding column: the best measured
// (cut, encoding) within the 99 % agreement bound per uplink range. The export's wire
// encoding is chosen beside the buttons: fp32, or one the starred cut's crossing tensors
// allow (app/partition/wire-encoding.ts encodingsForCut), with the top-1 agreement Compare
// cuts measured for it; main puts it into head and tail ('partition.export' encoding, as
// `neurosurgeon export --encoding`). The DAG cut is exported in fp32.
import { useDeferredValue, useEffect, useMemo, useRef, useState, type ChangeEvent } from 'react';
import { decisionTable } from '../../app/partition/decision-table.js';
import { cutTableOf } from '../../app/partition/split-analysis.js';
import { encodedDecisionTable, encodingsForCut } from '../../app/partition/wire-encoding.js';
import type { ExportFolder, StudioResult } from '../../app/studio/contract.js';
import type { ModelView } from '../../app/studio/model-view.js';
import { errorMessage, useStudio } from '../store.js';
import { crossingEncodables, cutLabel, planOptionsFor, whatIfOfImported, type SplitProblem, type WhatIf } from './split-data.js';

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
  const hostKind = useStudio((state) => state.info?.host ?? 'web');
  const [busy, setBusy] = useState(false);
  const [written, setWritten] = useState<StudioResult<'partition.export'> | null>(null);
  const [restored, setRestored] = useState<string | null>(null);
  const [folder, setFolder] = useState<ExportFolder | null>(null);
  const [name, setName] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [encoding, setEncoding] = useState('fp32');
  const fileInput = useRef<HTMLInputElement>(null);
  const modelId = model.id;
  // The decision table (downlink scaled with the uplink, in the what-if's ratio) follows a deferred copy of the what-if.
  const deferredWhatIf = useDeferredValue(whatIf);
  const decisions = useMemo(() => decisionTable(cutTableOf(split.problem), planOptionsFor(deferredWhatIf), undefined, deferredWhatIf.objective), [split, deferredWhatIf]);
  const encodingState = useStudio((state) => state.encodings);
  const measurements = encodingState?.modelId === modelId && !encodingState.measuring ? encodingState.measurements : null;
  // The encodings the starred cut allows; a choice the cut no longer allows falls back to fp32.
  const encodingOptions = useMemo(() => encodingsForCut(crossingEncodables(model, split.problem, bestCut)), [model, split, bestCut]);
  const exportEncoding = encodingOptions.includes(encoding) ? encoding : 'fp32';
  const measuredAgreement = (name: string): number | null => measurements?.find((m) => m.cut === bestCut && m.encoding === name && !m.skipped)?.agreement ?? null;
  const encodedRows = useMemo(
    () => (measurements && measurements.length > 0 ? encodedDecisionTable(cutTableOf(split.problem), measurements, planOptionsFor(deferredWhatIf), undefined, deferredWhatIf.objective) : null),
    [split, deferredWhatIf, measurements]
  );

  useEffect(() => {
    let live = true;
    host.request('partition.exportFolder', {}).then(
      (answer) => live && setFolder(answer),
      () => undefined
    );
    return () => {
      live = false;
    };
  }, [host]);

  const reveal = async (dir: string) => {
    try {
      await host.request('partition.reveal', { dir });
    } catch (error) {
      pushBanner('error', `Could not show the export: ${errorMessage(error)}`);
    }
  };

  // The web host streams the folder as a zip from a one-time address; a plain link downloads it without holding it in the page.
  const download = async (dir: string) => {
    try {
      const { url, fileName } = await host.request('partition.download', { dir });
      const link = document.createElement('a');
      link.href = url;
      link.download = fileName;
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      pushBanner('error', `Could not download the export: ${errorMessage(error)}`);
    }
  };

  const chooseFolder = async () => {
    try {
      const answer = await host.request('partition.chooseExportFolder', {});
      setFolder({ dir: answer.dir, canChoose: answer.canChoose });
    } catch (error) {
      pushBanner('error', `Could not choose the export folder: ${errorMessage(error)}`);
    }
  };

  const exportPartition = async (cut: number | 'dag') => {
    setBusy(true);
    try {
      const { network, radio, device, serverLoad } = planOptionsFor(whatIf);
      const result = await host.request('partition.export', {
        modelId,
        cut,
        network,
        serverLoad,
        objective: whatIf.objective,
        radio,
        device,
        ...(name.trim() !== '' ? { name: name.trim() } : {}),
        ...(overwrite ? { overwrite: true } : {}),
        ...(cut !== 'dag' && exportEncoding !== 'fp32' ? { encoding: exportEncoding } : {})
      });
      setWritten(result);
      // The first export in the desktop app asks for the folder: show the one chosen.
      if (folder?.canChoose) void host.request('partition.exportFolder', {}).then(setFolder, () => undefined);
    } catch (error) {
      if (error instanceof Error && error.name === 'ExportCancelledError') pushBanner('info', 'Export cancelled: no folder was chosen.');
      else pushBanner('error', `Could not export the partition: ${errorMessage(error)}`);
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
            title={`Export cut ${bestCut} (best for ${whatIf.objective}) in ${exportEncoding} with head.onnx, tail.onnx, a model repository and partition.json`}
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
          <label
            className="split-export-encoding"
            title="How the cut's tensors travel: int8 and fp16 go into head and tail (QuantizeLinear / DequantizeLinear, Cast), +deflate is HTTP compression; the agreement is what Compare cuts measured"
          >
            Encoding
            <select value={exportEncoding} onChange={(event) => setEncoding(event.target.value)} data-testid="split-export-encoding" aria-label="Wire encoding of the exported cut">
              {encodingOptions.map((option) => {
                const agreement = measuredAgreement(option);
                return (
                  <option key={option} value={option}>
                    {option}
                    {agreement !== null ? ` (${(agreement * 100).toFixed(1)} % agreement)` : ''}
                  </option>
                );
              })}
            </select>
          </label>
        </div>
        <div className="split-export-buttons">
          <input
            className="split-export-name"
            type="text"
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="folder name (optional)"
            aria-label="Export folder name"
            title={folder ? `The export goes into this folder under ${folder.dir}` : 'The name of the export folder'}
            data-testid="split-export-name"
            spellCheck={false}
          />
          <label className="split-export-overwrite" title="Replace a folder of this name, only if an earlier export wrote it">
            <input type="checkbox" checked={overwrite} onChange={(event) => setOverwrite(event.target.checked)} data-testid="split-export-overwrite" /> Overwrite
          </label>
          {folder?.canChoose && (
            <button type="button" className="split-button" onClick={() => void chooseFolder()} title="Choose the folder exports go into">
              Folder…
            </button>
          )}
        </div>
        {folder && (
          <div className="split-written" data-testid="split-export-folder" data-dir={folder.dir}>
            Exports go into <code>{folder.dir}</code>
          </div>
        )}
        <input ref={fileInput} type="file" accept=".json,application/json" hidden onChange={(event) => void onImport(event)} data-testid="split-import-input" />
        {written && (
          <div className="split-written" data-testid="split-export-result" data-dir={written.dir} title={written.files.join('\n')}>
            Written to <code>{written.dir}</code> ({written.files.length} files, {written.ms.toFixed(0)} ms){' '}
            {hostKind === 'electron' ? (
              <button type="button" className="text-button" onClick={() => void reveal(written.dir)} data-testid="split-export-reveal">
                Show in folder
              </button>
            ) : (
              <button type="button" className="text-button" onClick={() => void download(written.dir)} data-testid="split-export-download">
                Download .zip
              </button>
            )}
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
        {encodedRows && (
          <>
            <div className="split-section-title">Best (cut, encoding) by uplink, over the measured cuts</div>
            <table className="split-decision-table" data-testid="split-encoded-decisions">
              <thead>
                <tr>
                  <th scope="col">uplink</th>
                  <th scope="col">best cut</th>
                  <th scope="col">encoding</th>
                </tr>
              </thead>
              <tbody>
                {encodedRows.map((row) => (
                  <tr key={row.fromMbps} className="split-decision-row">
                    <td className="mono">
                      {formatRangeMbps(row.fromMbps)}–{formatRangeMbps(row.toMbps)} Mbps
                    </td>
                    <td>→ cut {row.cut}</td>
                    <td data-testid="decision-encoding">{row.encoding}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
    </div>
  );
}
