// The details pane: everything known about the selected node — op, domain, name, flags,
// MACs, parameters, output bytes, measured latency on each side, attributes, and its
// inputs and outputs with shapes, types, bytes and where each shape came from. With no
// node selected it summarises the model instead (inputs, outputs, totals, op counts,
// profiles with the optimisation level and threads they ran with, and a warning beside
// one whose runs were unstable). Props only; `onSelect`, when given, makes producers and consumers links.
import { useMemo, type JSX, type ReactNode } from 'react';
import { instabilityWarning, profileSettings } from '../../app/profiling/stability.js';
import type { LatencyProfile, LayerTiming } from '../../app/profiling/types.js';
import type { ModelView, NodeView, TensorView } from '../../app/studio/model-view.js';
import { timingsFor } from '../charts/chart-data.js';
import { formatBytes, formatCount, formatElementType, formatMs, formatMsRange, formatShape } from '../format.js';
import './details.css';

export interface NodeDetailsProps {
  model: ModelView;
  index: number | null;
  local: LatencyProfile | null;
  remote: LatencyProfile | null;
  /** Optional: follow a link to another node (a producer or a consumer). */
  onSelect?: (index: number) => void;
}

const FLAG_TEXT: Record<string, string> = {
  'unknown-op': 'Unknown op: MACs not counted',
  'unknown-shape': 'Output shape unknown',
  'symbolic-shape': 'Symbolic shape'
};

const SOURCE_TEXT: Record<TensorView['source'], string> = {
  declared: 'declared in the file',
  static: 'static shape inference',
  runtime: 'observed in a run',
  unknown: 'unknown',
  initializer: 'weight (initializer)'
};

export function NodeDetails({ model, index, local, remote, onSelect }: NodeDetailsProps): JSX.Element {
  const node = index !== null && index >= 0 && index < model.nodes.length ? model.nodes[index] : null;
  const consumers = useMemo(() => consumersByNode(model), [model]);
  const localTimings = useMemo(() => timingsFor(model, local), [model, local]);
  const remoteTimings = useMemo(() => timingsFor(model, remote), [model, remote]);

  return (
    <div className="node-details" data-testid="node-details" data-index={node?.index ?? ''}>
      {node ? (
        <NodeSection
          model={model}
          node={node}
          consumers={consumers[node.index]}
          local={local && localTimings[node.index] ? { profile: local, timing: localTimings[node.index] as LayerTiming } : null}
          remote={remote && remoteTimings[node.index] ? { profile: remote, timing: remoteTimings[node.index] as LayerTiming } : null}
          profiled={{ local: local !== null, remote: remote !== null }}
          onSelect={onSelect}
        />
      ) : (
        <ModelSummary model={model} local={local} remote={remote} />
      )}
    </div>
  );
}

interface Measured {
  profile: LatencyProfile;
  timing: LayerTiming;
}

function NodeSection(props: {
  model: ModelView;
  node: NodeView;
  consumers: number[];
  local: Measured | null;
  remote: Measured | null;
  profiled: { local: boolean; remote: boolean };
  onSelect?: (index: number) => void;
}): JSX.Element {
  const { model, node, consumers, local, remote, profiled, onSelect } = props;
  const link = (target: number) => (
    <NodeLink key={target} model={model} index={target} onSelect={onSelect} />
  );
  return (
    <>
      <header className="details-header">
        <div className="details-op">
          <span className="details-op-type">{node.opType}</span>
          {node.domain !== '' && <span className="details-domain">{node.domain}</span>}
          <span className="details-index">#{node.index}</span>
        </div>
        <div className="details-name mono" title={node.name}>
          {node.name}
        </div>
        {node.flags.length > 0 && (
          <div className="details-flags">
            {node.flags.map((flag) => (
              <span key={flag} className="details-flag">
                {FLAG_TEXT[flag] ?? flag}
              </span>
            ))}
          </div>
        )}
      </header>

      <dl className="details-stats">
        <Stat
          label="MACs"
          value={formatCount(node.macs)}
          sub={node.intMacs ? `${formatCount(node.intMacs)} integer` : undefined}
          title={node.macs === null ? 'not counted (unknown op or shape)' : `${node.macs.toLocaleString('en-US')}${node.intMacs ? `, of which ${node.intMacs.toLocaleString('en-US')} integer (8-bit) multiply-accumulates` : ''}`}
        />
        <Stat label="Parameters" value={formatCount(node.params)} sub={node.params > 0 ? formatBytes(node.paramBytes) : undefined} />
        <Stat label="Output" value={formatBytes(node.outputBytes)} title={node.outputBytes === null ? 'unknown' : `${node.outputBytes.toLocaleString('en-US')} bytes`} />
      </dl>

      {(profiled.local || profiled.remote) && (
        <Section title="Latency">
          <table className="details-table">
            <thead>
              <tr>
                <th>side</th>
                <th className="num">median</th>
                <th className="num">p10–p90</th>
                <th>provider</th>
              </tr>
            </thead>
            <tbody>
              {profiled.local && <TimingRow side="Local" measured={local} />}
              {profiled.remote && <TimingRow side="Remote" measured={remote} />}
            </tbody>
          </table>
        </Section>
      )}

      <Section title="Attributes" count={node.attributes.length}>
        {node.attributes.length === 0 ? (
          <div className="details-none">none</div>
        ) : (
          <table className="details-table details-attributes">
            <tbody>
              {node.attributes.map((attribute) => (
                <tr key={attribute.name}>
                  <th>{attribute.name}</th>
                  <td className="mono">{attribute.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>

      <Section title="Inputs" count={node.inputs.length}>
        <TensorList tensors={node.inputs} renderFrom={(t) => (t.producer >= 0 ? <>from {link(t.producer)}</> : t.isWeight ? null : <span className="muted">graph input</span>)} />
      </Section>

      {node.folded.length > 0 && (
        <Section title="Folded weight nodes" count={node.folded.length}>
          <div className="details-hint muted">Nodes that compute weights only (aliases, constants, weights reshaped): not layers, they run wherever this layer runs.</div>
          <ul className="details-tensors" data-testid="folded-nodes">
            {node.folded.map((folded, i) => (
              <li key={`${folded.name}:${i}`} className="is-weight">
                <div className="details-tensor-name mono" title={folded.name}>
                  {folded.opType} <span className="muted">{folded.name}</span>
                </div>
                {folded.outputs.map((output) => (
                  <div key={output.name} className="details-tensor-facts">
                    <span className="mono">
                      {formatElementType(output.elementType)}[{formatShape(output.shape)}]
                    </span>
                    <span className="mono">{formatBytes(output.bytes)}</span>
                  </div>
                ))}
              </li>
            ))}
          </ul>
        </Section>
      )}

      <Section title="Outputs" count={node.outputs.length}>
        <TensorList
          tensors={node.outputs}
          renderFrom={(t) => {
            const readers = consumers.filter((c) => model.nodes[c].inputs.some((input) => input.name === t.name));
            const isGraphOutput = model.outputs.some((o) => o.name === t.name);
            if (readers.length === 0) return isGraphOutput ? <span className="muted">graph output</span> : <span className="muted">unused</span>;
            return (
              <>
                to {readers.slice(0, 6).map(link)}
                {readers.length > 6 && <span className="muted"> +{readers.length - 6}</span>}
                {isGraphOutput && <span className="muted"> · graph output</span>}
              </>
            );
          }}
        />
      </Section>
    </>
  );
}

function TimingRow({ side, measured }: { side: string; measured: Measured | null }): JSX.Element {
  if (!measured) {
    return (
      <tr>
        <th>{side}</th>
        <td colSpan={3} className="muted">
          not in this profile
        </td>
      </tr>
    );
  }
  const { timing, profile } = measured;
  const notes = [
    timing.attribution === 'fused' ? 'share of a fused kernel' : null,
    timing.attribution === 'folded' ? 'folded away at load' : null,
    timing.predicted || profile.predicted ? `predicted${timing.method === 'roofline' ? ' (roofline)' : ''}` : null
  ].filter(Boolean);
  return (
    <tr>
      <th>{side}</th>
      <td className="num mono">{formatMs(timing.medianMs)}</td>
      <td className="num mono">{formatMsRange(timing.p10Ms, timing.p90Ms)}</td>
      <td title={notes.join(', ')}>
        {shortProvider(timing.provider ?? profile.ep)}
        {notes.length > 0 && <span className="muted"> · {notes.join(', ')}</span>}
      </td>
    </tr>
  );
}

/** The profile's instability warning (app/profiling/stability.ts), when its runs were not steady. */
export function ProfileWarning({ profile }: { profile: LatencyProfile }): JSX.Element | null {
  const warning = instabilityWarning(profile);
  if (!warning) return null;
  return (
    <div className="details-warning" role="note" data-testid="profile-unstable">
      ⚠ {warning.charAt(0).toUpperCase()}
      {warning.slice(1)}
    </div>
  );
}

function TensorList({ tensors, renderFrom }: { tensors: TensorView[]; renderFrom: (tensor: TensorView) => ReactNode }): JSX.Element {
  if (tensors.length === 0) return <div className="details-none">none</div>;
  return (
    <ul className="details-tensors">
      {tensors.map((tensor, i) => {
        const from = renderFrom(tensor);
        return (
          <li key={`${tensor.name}:${i}`} className={tensor.isWeight ? 'is-weight' : undefined}>
            <div className="details-tensor-name mono" title={tensor.name}>
              {tensor.name}
            </div>
            <div className="details-tensor-facts">
              <span className="mono">
                {formatElementType(tensor.elementType)}[{formatShape(tensor.shape)}]
              </span>
              <span className="mono">{formatBytes(tensor.bytes)}</span>
              <span className={`details-source source-${tensor.source}`} title={`shape: ${SOURCE_TEXT[tensor.source]}`}>
                {tensor.isWeight ? 'weight' : tensor.source}
              </span>
            </div>
            {from !== null && <div className="details-tensor-from">{from}</div>}
          </li>
        );
      })}
    </ul>
  );
}

function ModelSummary({ model, local, remote }: { model: ModelView; local: LatencyProfile | null; remote: LatencyProfile | null }): JSX.Element {
  const opCounts = useMemo(() => {
    const counts = new Map<string, number>();
    for (const node of model.nodes) counts.set(node.opType, (counts.get(node.opType) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }, [model]);
  return (
    <>
      <header className="details-header">
        <div className="details-op">
          <span className="details-op-type">{model.fileName}</span>
        </div>
        <div className="details-name">
          {[model.producer || null, model.opset > 0 ? `opset ${model.opset}` : null, formatBytes(model.fileBytes)].filter(Boolean).join(' · ')}
        </div>
        <div className="details-hint muted">Select a node in the graph or a layer in the charts to see its details.</div>
      </header>
      <dl className="details-stats">
        <Stat
          label="Layers"
          value={model.nodes.length.toLocaleString('en-US')}
          sub={model.graphNodeCount > model.nodes.length ? `${model.graphNodeCount.toLocaleString('en-US')} nodes` : undefined}
          title={
            model.graphNodeCount > model.nodes.length
              ? `${model.graphNodeCount - model.nodes.length} nodes compute weights only (aliases, constants) and are folded into the layers that read them`
              : undefined
          }
        />
        <Stat label="Parameters" value={formatCount(model.totals.params)} sub={formatBytes(model.totals.paramBytes)} />
        <Stat
          label="MACs"
          value={formatCount(model.totals.macs)}
          sub={
            model.totals.unknownMacLayers > 0
              ? `${model.totals.unknownMacLayers} layers not counted`
              : model.totals.intMacs > 0
                ? `${formatCount(model.totals.intMacs)} integer · ${formatCount(model.totals.macs - model.totals.intMacs)} float`
                : undefined
          }
        />
      </dl>
      {(local || remote) && (
        <Section title="Profiles">
          <table className="details-table">
            <tbody>
              {(
                [
                  ['Local', local],
                  ['Remote', remote]
                ] as const
              ).map(
                ([side, profile]) =>
                  profile && (
                    <tr key={side}>
                      <th>{side}</th>
                      <td data-testid={`profile-summary-${side.toLowerCase()}`}>
                        {shortProvider(profile.ep)} on {profile.device.hostname}
                        <div className="muted">
                          {profile.wholeModelMs !== null ? `${formatMs(profile.wholeModelMs)} per run` : 'predicted'} · {profile.runs} runs ·{' '}
                          {profile.date.slice(0, 16).replace('T', ' ')}
                        </div>
                        <div className="muted" data-testid="profile-settings">
                          {profileSettings(profile)}
                        </div>
                        <ProfileWarning profile={profile} />
                      </td>
                    </tr>
                  )
              )}
            </tbody>
          </table>
        </Section>
      )}
      <Section title="Inputs" count={model.inputs.length}>
        <TensorList tensors={model.inputs} renderFrom={() => null} />
      </Section>
      {model.symbolicDims.length > 0 && (
        <Section title="Symbolic dimensions" count={model.symbolicDims.length}>
          <table className="details-table" data-testid="symbolic-dims">
            <tbody>
              {model.symbolicDims.map((dim) => (
                <tr key={dim.name}>
                  <th className="mono">{dim.name}</th>
                  <td className="mono">{dim.value}</td>
                  <td className="muted">{dim.source === 'default' ? 'default: every shape, byte and MAC count assumes it' : 'given'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      <Section title="Outputs" count={model.outputs.length}>
        <TensorList tensors={model.outputs} renderFrom={() => null} />
      </Section>
      <Section title="Ops" count={opCounts.length}>
        <div className="details-ops">
          {opCounts.map(([op, count]) => (
            <span key={op} className="details-op-count">
              {op} <span className="muted">{count}</span>
            </span>
          ))}
        </div>
      </Section>
    </>
  );
}

function Section({ title, count, children }: { title: string; count?: number; children: ReactNode }): JSX.Element {
  return (
    <section className="details-section">
      <h3>
        {title}
        {count !== undefined && <span className="details-count">{count}</span>}
      </h3>
      {children}
    </section>
  );
}

function Stat({ label, value, sub, title }: { label: string; value: string; sub?: string; title?: string }): JSX.Element {
  return (
    <div className="details-stat" title={title}>
      <dt>{label}</dt>
      <dd className="mono">{value}</dd>
      {sub !== undefined && <dd className="details-stat-sub">{sub}</dd>}
    </div>
  );
}

function NodeLink({ model, index, onSelect }: { model: ModelView; index: number; onSelect?: (index: number) => void }): JSX.Element {
  const node = model.nodes[index];
  const text = `${node.opType} #${index}`;
  if (!onSelect) return <span className="details-link-static" title={node.name}>{text}</span>;
  return (
    <button type="button" className="details-link" title={node.name} onClick={() => onSelect(index)}>
      {text}
    </button>
  );
}

/** 'CPUExecutionProvider' → 'CPU'; 'webgpu' → 'WebGPU'. */
function shortProvider(provider: string): string {
  const known: Record<string, string> = { cpu: 'CPU', webgpu: 'WebGPU', cuda: 'CUDA', dml: 'DirectML', coreml: 'CoreML' };
  const key = provider.replace(/ExecutionProvider$/, '').toLowerCase();
  return known[key] ?? provider.replace(/ExecutionProvider$/, '');
}

/** For each node, the nodes that read one of its outputs (ascending). */
function consumersByNode(model: ModelView): number[][] {
  const consumers: number[][] = model.nodes.map(() => []);
  for (const node of model.nodes) for (const p of node.predecessors) consumers[p].push(node.index);
  return consumers;
}
