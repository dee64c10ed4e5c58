// Pinned cuts compared as a table: one column per pinned cut (the DAG min cut and cuts
// restored from partition configs included, each labelled), one row per figure — total,
// local, upload, remote and download time, device energy, bytes up and down, layers on
// the device — with the best value of each row marked, and the tensors that cross each
// cut in a last row, collapsed to a count until expanded. Props only; the numbers come
// from split-data.ts (app/partition underneath). A cut is pinned by clicking its bar, with
// the Pin buttons beside it, or by number here. "Measure encodings" measures the wire
// encodings at the pinned cuts (the store's measureEncodings, main's 'encoding.measure');
// the table then gains the best encoding within the 99 % agreement bound, its bytes on the
// wire, its agreement and the total time it gives (app/partition/wire-encoding.ts).
import { useState, type FormEvent, type ReactNode } from 'react';
import type { ModelView } from '../../app/studio/model-view.js';
import { formatBytes, formatMs } from '../format.js';
import { formatEnergy } from './SplitChart.js';
import { cutDetails, type BestEncoding, type CutDetails, type PinnedCut, type SplitAnalysis, type SplitProblem } from './split-data.js';

export interface ComparisonProps {
  model: ModelView;
  split: SplitProblem;
  analysis: SplitAnalysis;
  pins: readonly number[];
  dagPinned: boolean;
  /** Pinned cuts that came from partition configs: String(cut) or 'dag' → file name. */
  imported: Readonly<Record<string, string>>;
  onTogglePin: (cut: PinnedCut) => void;
  /** The best measured encoding per measured cut (split-data.ts encodedCuts), when any was measured. */
  encoded?: ReadonlyMap<number, BestEncoding>;
  /** Samples the encodings were measured on, and whether a measurement runs now. */
  encodingSamples?: number;
  measuringEncodings?: boolean;
  onMeasureEncodings?: (cuts: number[]) => void;
}

const ENCODING_ROWS: { id: string; label: string; show: (e: BestEncoding) => ReactNode }[] = [
  { id: 'encoding', label: 'Best encoding', show: (e) => e.measurement.encoding },
  { id: 'wire-bytes', label: 'Bytes on the wire', show: (e) => formatBytes(e.measurement.uploadBytes) },
  { id: 'agreement', label: 'Top-1 agreement', show: (e) => (e.measurement.agreement === null ? 'n/a' : `${(e.measurement.agreement * 100).toFixed(1)} %`) },
  { id: 'encoded-total', label: 'Total, encoded', show: (e) => formatMs(e.cost.totalMs) }
];

interface Row {
  id: string;
  label: string;
  /** The number compared across columns (lower is better), when the row has one. */
  value: (details: CutDetails) => number;
  show: (details: CutDetails) => ReactNode;
}

const ROWS: Row[] = [
  { id: 'total', label: 'Total', value: (d) => d.cost.totalMs, show: (d) => formatMs(d.cost.totalMs) },
  { id: 'local', label: 'Local (device)', value: (d) => d.cost.localMs, show: (d) => formatMs(d.cost.localMs) },
  { id: 'upload', label: 'Upload', value: (d) => d.cost.uploadMs, show: (d) => formatMs(d.cost.uploadMs) },
  { id: 'remote', label: 'Remote (server)', value: (d) => d.cost.remoteMs, show: (d) => formatMs(d.cost.remoteMs) },
  { id: 'download', label: 'Download', value: (d) => d.cost.downloadMs, show: (d) => formatMs(d.cost.downloadMs) },
  { id: 'energy', label: 'Device energy', value: (d) => d.cost.energyMJ, show: (d) => formatEnergy(d.cost.energyMJ) },
  { id: 'bytes-up', label: 'Bytes up', value: (d) => d.cost.uploadBytes, show: (d) => formatBytes(d.cost.uploadBytes) },
  { id: 'bytes-down', label: 'Bytes down', value: (d) => d.cost.downloadBytes, show: (d) => formatBytes(d.cost.downloadBytes) }
];

function columnKey(cut: PinnedCut): string {
  return cut === 'dag' ? 'dag' : `cut-${cut}`;
}

/** Column title: the cut's number and the layer it follows, on separate lines so neither is cut. */
function ColumnTitle({ model, cut }: { model: ModelView; cut: PinnedCut }) {
  if (cut === 'dag') return <span className="split-compare-cut">DAG min cut</span>;
  const after = cut === 0 ? 'cloud-only' : cut === model.nodes.length ? 'device-only' : `after ${model.nodes[cut - 1]?.name ?? `node ${cut - 1}`}`;
  return (
    <>
      <span className="split-compare-cut">cut {cut}</span>
      <span className="split-compare-after">{after}</span>
    </>
  );
}

function Tensors({ details }: { details: CutDetails }) {
  const all = [...details.uploaded.map((tensor) => ({ ...tensor, way: '↑' })), ...details.downloaded.map((tensor) => ({ ...tensor, way: '↓' }))];
  if (all.length === 0) return <span className="muted">nothing crosses</span>;
  return (
    <ul className="split-tensors">
      {all.map((tensor) => (
        <li key={`${tensor.way}${tensor.name}`}>
          {tensor.way} <code>{tensor.name}</code> <span className="muted">{tensor.shape}</span> {formatBytes(tensor.bytes)}
        </li>
      ))}
    </ul>
  );
}

export function Comparison({ model, split, analysis, pins, dagPinned, imported, onTogglePin, encoded, encodingSamples, measuringEncodings, onMeasureEncodings }: ComparisonProps) {
  const [cutText, setCutText] = useState('');
  const [tensorsOpen, setTensorsOpen] = useState(false);
  const last = model.nodes.length;
  const wanted = Number(cutText);
  const valid = cutText.trim() !== '' && Number.isInteger(wanted) && wanted >= 0 && wanted <= last;
  const pinTyped = (event: FormEvent) => {
    event.preventDefault();
    if (valid && !pins.includes(wanted)) onTogglePin(wanted);
    setCutText('');
  };
  const pinnedCuts: PinnedCut[] = [...pins, ...(dagPinned ? (['dag'] as const) : [])];
  const columns = pinnedCuts.map((cut) => cutDetails(model, split, analysis, cut)).filter((details): details is CutDetails => details !== null);
  const crossingCounts = columns.map((details) => details.uploaded.length + details.downloaded.length);

  return (
    <div className="split-compare" data-testid="split-comparison" data-pins={columns.map((details) => details.cut).join(',')}>
      <form className="split-compare-header" onSubmit={pinTyped}>
        <span className="split-section-title">Pinned cuts</span>
        <input type="number" min={0} max={last} aria-label="Cut to pin" placeholder={`cut 0–${last}`} value={cutText} onChange={(event) => setCutText(event.target.value)} />
        <button type="submit" className="split-button" disabled={!valid}>
          Pin
        </button>
        {onMeasureEncodings && pins.length > 0 && (
          <button type="button" className="split-button" data-testid="measure-encodings" disabled={measuringEncodings} onClick={() => onMeasureEncodings([...pins])}>
            {measuringEncodings ? 'Measuring encodings…' : 'Measure encodings'}
          </button>
        )}
        {columns.length > 0 && (
          <span className="muted split-compare-legend">
            Best of each row in <span className="split-fastest">green</span>. On the graph: <span className="split-strip split-strip-all" aria-hidden="true" /> on the
            device under every pinned cut, <span className="split-strip split-strip-some" aria-hidden="true" /> under some.
          </span>
        )}
      </form>
      {columns.length === 0 ? (
        <div className="muted split-compare-empty">Pin cuts to compare them here: click a bar of the per-split chart, use a Pin button on the left, or type a cut number. To draw a pinned cut on the graph, pick it in the graph&apos;s partition menu (top left).</div>
      ) : (
        <div className="split-compare-scroll">
          <table className="split-compare-table" data-testid="comparison-table">
            <thead>
              <tr>
                <th scope="col" className="split-compare-corner">
                  <span className="visually-hidden">Figure</span>
                </th>
                {columns.map((details) => {
                  const source = imported[String(details.cut)];
                  return (
                    <th key={columnKey(details.cut)} scope="col" data-testid="pinned-cut" data-cut={details.cut}>
                      <div className="split-compare-head">
                        <div className="split-compare-title">
                          <ColumnTitle model={model} cut={details.cut} />
                          {source && <span className="split-compare-imported">from {source}</span>}
                        </div>
                        <button type="button" className="split-unpin" aria-label={`Unpin ${details.cut === 'dag' ? 'the DAG min cut' : `cut ${details.cut}`}`} title="Unpin" onClick={() => onTogglePin(details.cut)}>
                          ×
                        </button>
                      </div>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {ROWS.map((row) => {
                const values = columns.map(row.value);
                const best = Math.min(...values);
                return (
                  <tr key={row.id}>
                    <th scope="row">{row.label}</th>
                    {columns.map((details, index) => (
                      <td
                        key={columnKey(details.cut)}
                        className={columns.length > 1 && values[index] === best ? 'split-fastest' : undefined}
                        data-testid="comparison-cell"
                        data-row={row.id}
                        data-cut={details.cut}
                      >
                        {row.show(details)}
                      </td>
                    ))}
                  </tr>
                );
              })}
              <tr>
                <th scope="row">Layers on the device</th>
                {columns.map((details) => (
                  <td key={columnKey(details.cut)} data-testid="comparison-cell" data-row="layers" data-cut={details.cut}>
                    {details.localNodes} of {details.localNodes + details.remoteNodes}
                  </td>
                ))}
              </tr>
              {encoded &&
                encoded.size > 0 &&
                ENCODING_ROWS.map((row) => (
                  <tr key={row.id} title={`Measured on ${encodingSamples ?? 0} sample inputs against the unsplit model; only encodings with ≥ 99 % top-1 agreement`}>
                    <th scope="row">{row.label}</th>
                    {columns.map((details) => {
                      const best = details.cut === 'dag' ? undefined : encoded.get(details.cut);
                      return (
                        <td key={columnKey(details.cut)} data-testid="comparison-cell" data-row={row.id} data-cut={details.cut}>
                          {best ? row.show(best) : <span className="muted">not measured</span>}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              <tr className="split-compare-tensors">
                <th scope="row">
                  <button type="button" className="split-disclosure" aria-expanded={tensorsOpen} onClick={() => setTensorsOpen((open) => !open)}>
                    <span aria-hidden="true">{tensorsOpen ? '▾' : '▸'}</span> Crossing tensors
                  </button>
                </th>
                {columns.map((details, index) => (
                  <td key={columnKey(details.cut)} data-testid="comparison-cell" data-row="tensors" data-cut={details.cut}>
                    {tensorsOpen ? <Tensors details={details} /> : `${crossingCounts[index]} ${crossingCounts[index] === 1 ? 'tensor' : 'tensors'}`}
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
