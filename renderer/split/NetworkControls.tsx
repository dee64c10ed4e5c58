// The what-if controls, in view beside every tab of the bottom pane: network presets (Wi-Fi, LTE, 3G, 5G and the
// live link to the connected executor, "Measured"), custom uplink / downlink / RTT
// sliders, the server-load factor K and the objective. Props only: the pane passes the
// store's what-if and writes every change back at once, so the stars move while a slider
// is dragged. Bandwidth sliders are logarithmic (0.1 Mbps to 10 Gbps); a measured link
// faster than that (loopback) keeps its real value, the thumb at the end and the value
// marked as beyond the slider.
import { useState, type ChangeEvent } from 'react';
import type { ExecutorStatus } from '../../app/studio/contract.js';
import { SPLIT_PRESETS, whatIfForPreset, type WhatIf } from './split-data.js';

export interface NetworkControlsProps {
  whatIf: WhatIf;
  executor: ExecutorStatus | null;
  onChange: (change: Partial<WhatIf>) => void;
  /** Measures the live link to the connected executor and applies it (the "Measured" preset). */
  onMeasure: () => Promise<void>;
}

const MIN_MBPS = 0.1;
export const MAX_MBPS = 10_000;
const SLIDER_STEPS = 1000;

/** Slider position (0..SLIDER_STEPS) of a bandwidth, on a log scale. */
export function mbpsToSlider(mbps: number): number {
  const clamped = Math.min(MAX_MBPS, Math.max(MIN_MBPS, mbps));
  return Math.round((Math.log(clamped / MIN_MBPS) / Math.log(MAX_MBPS / MIN_MBPS)) * SLIDER_STEPS);
}

/** Bandwidth of a slider position, rounded to 3 significant digits. */
export function sliderToMbps(position: number): number {
  const mbps = MIN_MBPS * (MAX_MBPS / MIN_MBPS) ** (position / SLIDER_STEPS);
  return Number(mbps.toPrecision(3));
}

function formatMbps(mbps: number): string {
  if (mbps >= 1000) return `${Number((mbps / 1000).toPrecision(3))} Gbps`;
  return mbps >= 100 ? `${mbps.toFixed(0)} Mbps` : mbps >= 10 ? `${mbps.toFixed(1)} Mbps` : `${mbps.toFixed(2)} Mbps`;
}

/** True when a bandwidth lies beyond the slider's range (its thumb then sits at an end). */
export function offScale(mbps: number): boolean {
  return mbps > MAX_MBPS * 1.0005 || mbps < MIN_MBPS * 0.9995;
}

/** A measured link: the executor's last probe, when it has all three numbers. */
export function measuredLink(executor: ExecutorStatus | null): { uplinkMbps: number; downlinkMbps: number; rttMs: number } | null {
  if (!executor || executor.state !== 'connected') return null;
  const { uplinkMbps, downlinkMbps, rttMs } = executor;
  if (uplinkMbps === null || downlinkMbps === null || rttMs === null || !(uplinkMbps > 0 && downlinkMbps > 0)) return null;
  return { uplinkMbps, downlinkMbps, rttMs };
}

export function NetworkControls({ whatIf, executor, onChange, onMeasure }: NetworkControlsProps) {
  const [measuring, setMeasuring] = useState(false);
  const connected = executor?.state === 'connected';
  const keep = { serverLoad: whatIf.serverLoad, objective: whatIf.objective };

  const bandwidth = (field: 'uplinkMbps' | 'downlinkMbps') => (event: ChangeEvent<HTMLInputElement>) =>
    onChange({ preset: 'custom', [field]: sliderToMbps(Number(event.target.value)) });
  const bandwidthSlider = (field: 'uplinkMbps' | 'downlinkMbps', label: string, testId?: string) => {
    const mbps = whatIf[field];
    const beyond = offScale(mbps);
    const text = `${formatMbps(mbps)}${beyond ? ` (beyond the slider's ${mbps > MAX_MBPS ? formatMbps(MAX_MBPS) : formatMbps(MIN_MBPS)})` : ''}`;
    return (
      <label className="split-slider">
        <span>{label}</span>
        <input
          type="range"
          aria-label={label}
          aria-valuetext={text}
          min={0}
          max={SLIDER_STEPS}
          value={mbpsToSlider(mbps)}
          onChange={bandwidth(field)}
          data-testid={testId}
        />
        <output className={beyond ? 'split-off-scale' : undefined} title={beyond ? `${text}: the link measured so; moving the slider brings it back into its range` : undefined}>
          {formatMbps(mbps)}
          {beyond ? (mbps > MAX_MBPS ? ' ▸' : ' ◂') : ''}
        </output>
      </label>
    );
  };

  return (
    <div className="split-controls" data-testid="split-controls">
      <div className="split-controls-title">Network</div>
      <div className="split-presets" role="radiogroup" aria-label="Network">
        {SPLIT_PRESETS.map((preset) => (
          <button
            key={preset.name}
            type="button"
            role="radio"
            aria-checked={whatIf.preset === preset.name}
            className="split-chip"
            onClick={() => onChange(whatIfForPreset(preset.name, keep))}
          >
            {preset.label}
          </button>
        ))}
        <button
          type="button"
          role="radio"
          aria-checked={whatIf.preset === 'measured'}
          className="split-chip"
          disabled={!connected || measuring}
          title={connected ? 'Measure the live link to the connected executor and use it' : 'No executor is connected'}
          onClick={() => {
            setMeasuring(true);
            void onMeasure().finally(() => setMeasuring(false));
          }}
        >
          {measuring ? 'Measuring…' : 'Measured'}
        </button>
      </div>

      {bandwidthSlider('uplinkMbps', 'Uplink', 'split-uplink')}
      {bandwidthSlider('downlinkMbps', 'Downlink')}
      <label className="split-slider">
        <span>RTT</span>
        <input
          type="range"
          aria-label="RTT"
          aria-valuetext={`${whatIf.rttMs} ms`}
          min={0}
          max={500}
          step={1}
          value={whatIf.rttMs}
          onChange={(event) => onChange({ preset: 'custom', rttMs: Number(event.target.value) })}
        />
        <output>{whatIf.rttMs.toFixed(0)} ms</output>
      </label>
      <label className="split-slider">
        <span>Server load</span>
        <input
          type="range"
          aria-label="Server load"
          aria-valuetext={`K = ${whatIf.serverLoad.toFixed(1)}`}
          min={1}
          max={10}
          step={0.1}
          value={whatIf.serverLoad}
          onChange={(event) => onChange({ serverLoad: Number(event.target.value) })}
        />
        <output>K {whatIf.serverLoad.toFixed(1)}</output>
      </label>

      <div className="split-controls-title">Objective</div>
      <div className="split-objective" role="radiogroup" aria-label="Objective">
        {(['latency', 'energy'] as const).map((objective) => (
          <button key={objective} type="button" role="radio" aria-checked={whatIf.objective === objective} className="split-chip" onClick={() => onChange({ objective })}>
            {objective === 'latency' ? 'Latency' : 'Energy'}
          </button>
        ))}
      </div>
    </div>
  );
}
