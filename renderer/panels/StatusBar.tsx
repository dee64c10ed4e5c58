// The status bar: the open model's facts (file, layers, parameters, MACs, measured totals,
// each with its settings in the tooltip and ⚠ when its runs were unstable)
// on the left; the executor ("this machine" or remote, with RTT and bandwidth) and the
// host on the right.
import { instabilityWarning, profileSettings } from '../../app/profiling/stability.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import { currentProfiles, useStudio } from '../store.js';
import { executorName, ExecutorStateDot } from './ExecutorPanel.js';
import { formatBytes, formatCount, formatMs } from '../format.js';
import { formatMbps } from './format.js';
import { providerTitles } from './Toolbar.js';

function profileSummary(side: string, profile: LatencyProfile | null) {
  if (!profile) return null;
  const total = profile.wholeModelMs ?? profile.sumOfMediansMs;
  const warning = instabilityWarning(profile);
  return (
    <span
      className={`status-item profile-${side}`}
      title={`Profiled ${profile.date} — ${profile.runs} runs, ${profile.device.cpu}, ${profileSettings(profile)}${warning ? `\n${warning}` : ''}`}
    >
      <span className={`swatch swatch-${side}`} aria-hidden="true" />
      {side} {formatMs(total)} ({providerTitles[profile.ep]})
      {warning && (
        <span className="status-warning" aria-label="unstable runs" data-testid={`status-unstable-${side}`}>
          {' '}
          ⚠
        </span>
      )}
    </span>
  );
}

export function StatusBar() {
  const current = useStudio((state) => state.current);
  const profiles = useStudio(currentProfiles);
  const executor = useStudio((state) => state.executor);
  const info = useStudio((state) => state.info);

  return (
    <footer className="status-bar">
      {current ? (
        <>
          <span className="status-item status-model" title={`${current.source.label}\nSHA-256 ${current.model.id}`} data-testid="status-model">
            {current.model.fileName}
          </span>
          <span className="status-item" title={current.model.graphNodeCount > current.model.nodes.length ? `${current.model.graphNodeCount} nodes in the file; the others compute weights only` : undefined}>{current.model.nodes.length} layers</span>
          <span className="status-item">{formatCount(current.model.totals.params)} params</span>
          <span className="status-item">{formatCount(current.model.totals.macs)} MACs</span>
          <span className="status-item">{formatBytes(current.model.fileBytes)}</span>
          {profileSummary('local', profiles.local)}
          {profileSummary('remote', profiles.remote)}
        </>
      ) : (
        <span className="status-item muted">No model open</span>
      )}
      <span className="status-spacer" />
      <span className="status-item status-executor" data-testid="executor-status" title={executor?.url}>
        <ExecutorStateDot state={executor?.state} />
        <span className="status-executor-text">
          {executor ? (
            <>
              Executor: {executorName(executor)} · {executor.state}
              {executor.rttMs !== null && ` · RTT ${formatMs(executor.rttMs)}`}
              {executor.uplinkMbps !== null && ` · ↑ ${formatMbps(executor.uplinkMbps)}`}
              {executor.downlinkMbps !== null && ` ↓ ${formatMbps(executor.downlinkMbps)}`}
              {executor.loadFactor !== null && ` · K ${executor.loadFactor.toFixed(2)}`}
            </>
          ) : (
            'Executor: —'
          )}
        </span>
      </span>
      {info && (
        <span className="status-item muted">
          {info.host === 'web' ? 'web host' : 'desktop'} · v{info.version}
        </span>
      )}
    </footer>
  );
}
