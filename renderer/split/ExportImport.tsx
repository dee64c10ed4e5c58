// Export and import of partition configs from the split panel. Export sends the starred
// cut for the chosen objective (or the DAG min cut) with the what-if conditions — and the
// radio and device power the panel's energies use, so partition.json assumes the same — to main
// ('partition.export': head.onnx, tail.onnx, the tail's model repository, partition.json
// with its decision table) and shows the folder it was written to. The page names only the
// export's folder (a name, not a path): main writes it under the export folder — in the
// desktop app the one picked in the native dialog (Folder…), in a browser the studio's own
// — and Overwrite replaces only a folder an earlier export wrote. Import reads a
// partition.json ('partition.import'; refused by main when it was made for another model)
// and restores its view: the network, server load and objective, with its cut pinned.
import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import type { ExportFolder, StudioResult } from '../../app/studio/contract.js';
import { errorMessage, useStudio } from '../store.js';
import { planOptionsFor, whatIfOfImported, type WhatIf } from './split-data.js';

export interface ExportImportProps {
  modelId: string;
  whatIf: WhatIf;
  /** The cut the stars give for the what-if's objective. */
  bestCut: number;
  /** True when the model is a DAG, so the min-cut partition can be exported instead. */
  hasDag: boolean;
}

export function ExportImport({ modelId, whatIf, bestCut, hasDag }: ExportImportProps) {
  const host = useStudio((state) => state.host);
  const pushBanner = useStudio((state) => state.pushBanner);
  const setWhatIf = useStudio((state) => state.setWhatIf);
  const togglePin = useStudio((state) => state.togglePin);
  const pins = useStudio((state) => state.splitPins);
  const [busy, setBusy] = useState(false);
  const [written, setWritten] = useState<StudioResult<'partition.export'> | null>(null);
  const [folder, setFolder] = useState<ExportFolder | null>(null);
  const [name, setName] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

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
        ...(overwrite ? { overwrite: true } : {})
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
      if (typeof view.cut === 'number' && !(pins?.modelId === modelId && pins.cuts.includes(view.cut))) togglePin(modelId, view.cut);
      pushBanner('info', `Restored ${file.name}: ${view.cut === 'dag' ? 'the DAG min cut' : `cut ${view.cut}`} on ${view.network.name}`);
    } catch (error) {
      pushBanner('error', `Could not import ${file.name}: ${errorMessage(error)}`);
    }
  };

  return (
    <div className="split-export" data-testid="split-export">
      <button type="button" className="split-button" disabled={busy} onClick={() => void exportPartition(bestCut)} title={`Export cut ${bestCut} (best for ${whatIf.objective}) with head.onnx, tail.onnx, a model repository and partition.json`}>
        {busy ? 'Exporting…' : 'Export'}
      </button>
      {hasDag && (
        <button type="button" className="split-button" disabled={busy} onClick={() => void exportPartition('dag')}>
          Export DAG cut
        </button>
      )}
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
      <button type="button" className="split-button" onClick={() => fileInput.current?.click()}>
        Import
      </button>
      {folder && (
        <span className="split-written" data-testid="split-export-folder" data-dir={folder.dir}>
          Exports go into <code>{folder.dir}</code>
        </span>
      )}
      <input ref={fileInput} type="file" accept=".json,application/json" hidden onChange={(event) => void onImport(event)} data-testid="split-import-input" />
      {written && (
        <span className="split-written" data-testid="split-export-result" data-dir={written.dir} title={written.files.join('\n')}>
          Written to <code>{written.dir}</code> ({written.files.length} files, {written.ms.toFixed(0)} ms)
        </span>
      )}
    </div>
  );
}
