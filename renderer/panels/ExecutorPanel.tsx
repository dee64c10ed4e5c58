// The executor: which one profiles the remote side ("this machine", the executor the
// studio started on loopback, or a remote one by URL and token), its state, and the link
// figures main measured (RTT, bandwidth) plus its server-load factor K. Shown in a
// toolbar popover; the status bar carries the one-line summary. Below it, the device
// picker (DevicePicker): which device the head runs on — this machine or a device executor
// added by URL — whose own profile the plan then uses for the device side.
import { useState, type FormEvent } from 'react';
import type { DeviceList, ExecutorStatus } from '../../app/studio/contract.js';
import { useStudio } from '../store.js';
import { formatMs } from '../format.js';
import { formatMbps } from './format.js';
import { Popover } from './Popover.js';
import { ServerIcon } from './icons.js';

export function executorName(status: ExecutorStatus): string {
  return status.kind === 'local' ? 'this machine' : status.label || status.url;
}

const stateText: Record<ExecutorStatus['state'], string> = {
  starting: 'starting',
  connected: 'connected',
  unreachable: 'unreachable',
  stopped: 'stopped'
};

export function ExecutorStateDot({ state }: { state: ExecutorStatus['state'] | undefined }) {
  return <span className={`state-dot state-${state ?? 'stopped'}`} aria-hidden="true" />;
}

function Figure({ label, value }: { label: string; value: string }) {
  return (
    <div className="figure">
      <span className="figure-label">{label}</span>
      <span className="figure-value">{value}</span>
    </div>
  );
}

function ExecutorDetails({ close }: { close: () => void }) {
  const status = useStudio((state) => state.executor);
  const remotePreference = useStudio((state) => state.prefs?.remoteExecutor ?? null);
  const connectExecutor = useStudio((state) => state.connectExecutor);
  const switchToLocalExecutor = useStudio((state) => state.switchToLocalExecutor);

  return (
    <div className="executor-panel">
      <div className="panel-title">Executor</div>
      {status ? (
        <>
          <div className="executor-line">
            <ExecutorStateDot state={status.state} />
            <strong>{executorName(status)}</strong>
            <span className="muted">{stateText[status.state]}</span>
          </div>
          <div className="executor-url mono" title={status.url}>
            {status.url}
          </div>
          {status.error && <div className="executor-error">{status.error}</div>}
          <div className="figures">
            <Figure label="RTT" value={status.rttMs === null ? '—' : formatMs(status.rttMs)} />
            <Figure label="Uplink" value={status.uplinkMbps === null ? '—' : formatMbps(status.uplinkMbps)} />
            <Figure label="Downlink" value={status.downlinkMbps === null ? '—' : formatMbps(status.downlinkMbps)} />
            <Figure label="Load K" value={status.loadFactor === null ? '—' : status.loadFactor.toFixed(2)} />
          </div>
          {status.kind === 'remote' && (
            <button type="button" className="text-button" onClick={() => void switchToLocalExecutor().then(close)}>
              Use this machine instead
            </button>
          )}
        </>
      ) : (
        <div className="muted">No executor status yet.</div>
      )}
      <DevicePicker />
      <UrlTokenForm
        subtitle="Connect to a remote executor"
        urlLabel="URL"
        urlPlaceholder="http://server:8000"
        urlRequired
        initialUrl={remotePreference?.url ?? ''}
        initialToken={remotePreference?.token ?? ''}
        testIdPrefix="executor"
        submitLabel="Connect"
        busyLabel="Connecting…"
        onSubmit={async (url, token) => {
          if (await connectExecutor(url, token)) close();
        }}
      />
    </div>
  );
}

/** The device the head runs on: choosing one re-plans with its profile (none yet: the estimate). */
function DevicePicker() {
  const devices = useStudio((state) => state.devices);
  const selectDevice = useStudio((state) => state.selectDevice);
  const addDevice = useStudio((state) => state.addDevice);
  const facts = (device: DeviceList['devices'][number]) =>
    device.cpu ? ` — ${device.cpu}${device.provider ? `, ${device.provider}` : ''}${device.threads ? `, ${device.threads} threads` : ''}` : '';
  return (
    <div className="device-picker">
      <div className="panel-subtitle">Device (where the head runs)</div>
      <select value={devices?.activeId ?? ''} onChange={(event) => void selectDevice(event.target.value)} disabled={!devices} data-testid="device-select" aria-label="Device">
        {(devices?.devices ?? []).map((device) => (
          <option key={device.id} value={device.id}>
            {device.label}
            {facts(device)}
          </option>
        ))}
      </select>
      <UrlTokenForm
        urlLabel="URL"
        urlPlaceholder="http://device:8000 (started with --upstream)"
        testIdPrefix="device"
        submitLabel="Add device"
        busyLabel="Adding…"
        onSubmit={async (url, token) => {
          if (await addDevice(url, token)) return 'clear';
        }}
      />
    </div>
  );
}

export function ExecutorButton() {
  const status = useStudio((state) => state.executor);
  return (
    <Popover
      align="right"
      title="Executor: where the remote side is profiled"
      testId="executor-button"
      label={
        <>
          <ServerIcon />
          <ExecutorStateDot state={status?.state} />
          <span className="executor-button-label">{status ? executorName(status) : 'executor'}</span>
        </>
      }
    >
      {(close) => <ExecutorDetails close={close} />}
    </Popover>
  );
}

interface UrlTokenFormProps {
  subtitle?: string;
  urlLabel: string;
  urlPlaceholder: string;
  urlRequired?: boolean;
  initialUrl?: string;
  initialToken?: string;
  /** Test ids PREFIX-url and PREFIX-token. */
  testIdPrefix: string;
  submitLabel: string;
  busyLabel: string;
  /** Called with the trimmed URL and token; 'clear' empties the URL field afterwards. */
  onSubmit: (url: string, token: string) => Promise<'clear' | void>;
}

/** A URL and an optional token, as the executor and the device picker ask for them. */
function UrlTokenForm(props: UrlTokenFormProps) {
  const [url, setUrl] = useState(props.initialUrl ?? '');
  const [token, setToken] = useState(props.initialToken ?? '');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    const after = await props.onSubmit(url.trim(), token.trim());
    if (after === 'clear') setUrl('');
    setBusy(false);
  };
  return (
    <form className="connect-form" onSubmit={(event) => void submit(event)}>
      {props.subtitle && <div className="panel-subtitle">{props.subtitle}</div>}
      <label>
        <span>{props.urlLabel}</span>
        <input type="url" required={props.urlRequired} placeholder={props.urlPlaceholder} value={url} onChange={(event) => setUrl(event.target.value)} data-testid={`${props.testIdPrefix}-url`} />
      </label>
      <label>
        <span>Token</span>
        <input type="password" placeholder="optional" value={token} onChange={(event) => setToken(event.target.value)} autoComplete="off" data-testid={`${props.testIdPrefix}-token`} />
      </label>
      <div className="form-actions">
        <button type="submit" className="primary-button" disabled={busy || url.trim() === ''}>
          {busy ? props.busyLabel : props.submitLabel}
        </button>
      </div>
    </form>
  );
}
