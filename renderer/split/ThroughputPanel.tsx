// The "Throughput" tab: the datacenter's side of Neurosurgeon (the paper's Figure 16),
// measured by a fleet run ('fleet.start', main/fleet/): emulated mobile clients on a
// chosen network send Poisson queries to an executor started for the run, under each
// policy, at each arrival rate. It shows the progress with cancel (as the sweep tab does),
// a line chart of throughput against arrival rate per policy (recharts, growing point by
// point), and once done the throughput at the p95 objective and the gain over cloud-only.
// Progress and outcome live in the store (events 'fleet.progress' and 'fleet.done'); the
// chart's rows come from app/fleet/stats.ts.
import { useMemo, useState } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { throughputRows } from '../../app/fleet/stats.js';
import { FLEET_POLICIES, MAX_REFINE_STEPS, PAPER_MODELS, type FleetPolicy } from '../../app/fleet/types.js';
import { NumberField } from '../panels/NumberField.js';
import { useStudio } from '../store.js';

const NETWORKS = ['wifi', 'lte', '3g'] as const;
type FleetNetwork = (typeof NETWORKS)[number];

const COLORS: Record<FleetPolicy, string> = { 'cloud-only': '#8c8c8c', neurosurgeon: '#2f6fde', 'load-aware': '#d9822b' };

/** "10, 20, 30" → [10, 20, 30]; null when any entry is not a number > 0. */
export function parseRateList(text: string): number[] | null {
  const rates = text.split(/[,\s]+/).filter((p) => p !== '').map(Number);
  return rates.length > 0 && rates.length <= 12 && rates.every((r) => Number.isFinite(r) && r > 0) ? rates : null;
}

export function ThroughputPanel() {
  const fleet = useStudio((state) => state.fleet);
  const startFleet = useStudio((state) => state.startFleet);
  const cancelFleet = useStudio((state) => state.cancelFleet);
  const [network, setNetwork] = useState<FleetNetwork>('lte');
  const [clients, setClients] = useState(50);
  const [rates, setRates] = useState('5, 10, 20, 30');
  const [models, setModels] = useState(PAPER_MODELS.join(', '));
  const [durationS, setDurationS] = useState(5);
  const [slowdown, setSlowdown] = useState(20);
  const [objectiveMs, setObjectiveMs] = useState(1000);
  const [refineSteps, setRefineSteps] = useState(0);
  const running = fleet !== null && fleet.done === null;
  const rateList = parseRateList(rates);
  const modelList = models.split(/[,\s]+/).filter((m) => m !== '');
  const report = fleet?.done?.report ?? null;
  const rows = useMemo(() => throughputRows(report ? report.policies.flatMap((p) => p.points) : (fleet?.points ?? [])), [report, fleet?.points]);

  const start = () => {
    if (!rateList || modelList.length === 0) return;
    void startFleet({
      clients,
      networkMix: { [network]: 1 },
      models: modelList,
      policies: [...FLEET_POLICIES],
      rates: rateList,
      durationS,
      deviceSlowdown: slowdown,
      objectiveMs,
      refineSteps
    });
  };

  return (
    <div className="split-sweep fleet-panel" data-testid="fleet-panel" data-state={running ? 'running' : (fleet?.done?.outcome ?? 'idle')} data-points={rows.length}>
      <div className="split-sweep-controls">
        <div className="split-sweep-header">
          <span className="split-section-title">Datacenter throughput: emulated phones against one executor (Figure 16)</span>
          <label>
            network
            <select value={network} aria-label="Network of the clients" onChange={(event) => setNetwork(event.target.value as FleetNetwork)}>
              {NETWORKS.map((n) => (
                <option key={n} value={n}>
                  {n === 'wifi' ? 'Wi-Fi' : n.toUpperCase()}
                </option>
              ))}
            </select>
          </label>
          <label>
            clients
            <NumberField value={clients} min={1} max={2000} aria-label="Emulated clients" onCommit={setClients} />
          </label>
          <label title="Poisson arrival rates over all clients, queries per second">
            rates/s
            <input className="fleet-rates" value={rates} aria-label="Arrival rates" aria-invalid={rateList === null} onChange={(event) => setRates(event.target.value)} />
          </label>
          <label title="Zoo models spread over the clients (default: the paper's eight)">
            models
            <input className="fleet-models" value={models} aria-label="Models" onChange={(event) => setModels(event.target.value)} />
          </label>
          <label>
            s per rate
            <NumberField value={durationS} min={1} max={120} aria-label="Seconds per rate" onCommit={setDurationS} />
          </label>
          <label title="The emulated phone is this many times slower than this machine">
            device ×
            <NumberField value={slowdown} min={1} max={1000} aria-label="Device slowdown" onCommit={setSlowdown} />
          </label>
          <label title="p95 of the server's part must stay within this">
            p95 ≤ ms
            <NumberField value={objectiveMs} min={1} max={600_000} aria-label="p95 objective" onCommit={setObjectiveMs} />
          </label>
          <label title="After the rates, this many more points per policy, each halving the bracket around where its p95 crosses the objective">
            refine
            <NumberField value={refineSteps} min={0} max={MAX_REFINE_STEPS} aria-label="Refinement points per policy" onCommit={setRefineSteps} />
          </label>
          {running ? (
            <button type="button" className="split-button" disabled={fleet.cancelling} onClick={() => void cancelFleet()}>
              Cancel
            </button>
          ) : (
            <button type="button" className="split-button" disabled={rateList === null || modelList.length === 0} onClick={start}>
              Run fleet
            </button>
          )}
        </div>
        {running && (
          <div className="split-progress" role="progressbar" aria-label="Fleet progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fleet.fraction * 100)} data-testid="fleet-progress">
            <div className="split-progress-bar" style={{ width: `${(fleet.fraction * 100).toFixed(1)}%` }} />
            <span>{fleet.message}</span>
          </div>
        )}
        {fleet?.done && fleet.done.outcome !== 'done' && (
          <div className="muted">
            Fleet run {fleet.done.outcome}
            {fleet.done.error ? `: ${fleet.done.error}` : ''}
          </div>
        )}
        {report && (
          <div className="split-sweep-summary" data-testid="fleet-summary">
            {report.policies.map((p) => (
              <div key={p.policy} data-policy={p.policy} data-throughput={p.throughputAtObjective}>
                <span className="split-figure">{p.throughputAtObjective.toFixed(1)}/s</span> <span className="muted">{p.policy} at p95 ≤ {report.objective.p95Ms} ms</span>
                {p.policy !== 'cloud-only' && typeof report.gainsOverCloudOnly[p.policy] === 'number' && <span> ({(report.gainsOverCloudOnly[p.policy] as number).toFixed(2)}× cloud-only)</span>}
              </div>
            ))}
            <div className="muted">
              Generator: {report.generator.cpuMsPerQuery.toFixed(2)} ms CPU per query (not the server&apos;s).{report.notes.length > 0 ? ` ${report.notes[0]}` : ''}
            </div>
          </div>
        )}
      </div>
      {rows.length > 0 && (
        <div className="fleet-chart" data-testid="fleet-chart">
          <ResponsiveContainer width="100%" height="100%" minHeight={120}>
            <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 16, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="arrivalRate" type="number" domain={['dataMin', 'dataMax']} label={{ value: 'arrival rate, queries/s', position: 'insideBottom', offset: -8 }} />
              <YAxis label={{ value: 'throughput/s', angle: -90, position: 'insideLeft' }} />
              <Tooltip formatter={(value) => (typeof value === 'number' ? value.toFixed(1) : String(value))} />
              <Legend verticalAlign="top" />
              {FLEET_POLICIES.map((policy) => (
                <Line key={policy} type="monotone" dataKey={policy} stroke={COLORS[policy]} dot isAnimationActive={false} connectNulls />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      )}
    </div>
  );
}
