// The device power profile: compute power per execution provider, the SoC's idle power,
// and the radio power model per network. Energy per node and per cut come from it
// (cost.ts costOfPartition holds the per-cut formula). Users edit it as a JSON file; the
// defaults below are documented estimates, not measurements:
// - compute: a phone-class SoC draws roughly 2 W with its CPU cores busy and 3.5 W with
//   its GPU busy; 'cuda' (a Jetson-class board) about 5 W — editable per device.
// - idle: 0.3 W, the SoC waiting with the radio's own draw accounted separately.
// - radio: Huang et al. (MobiSys 2012) for Wi-Fi, LTE and 3G, via presets.ts.
//
// Power states, and exactly when each is charged (a partition that runs everything on
// the device is charged the first state only; the radio is not used):
// - compute (computeMw): while the device runs its nodes, localMs.
// - radio transmitting (uplinkAlpha × uplinkMbps + beta): while the upload's bytes move,
//   uploadBytes × 8 / uplink — not during the RTT half that follows.
// - radio receiving (downlinkAlpha × downlinkMbps + beta): while the download's bytes
//   move, downloadBytes × 8 / downlink.
// - radio connected but idle, the tail (tailMw): while the device waits with no data
//   moving — the two RTT halves and the server's compute, rttMs + K × remoteMs.
// - SoC idle (idleMw): over that same wait, on top of the radio's tail.
// While bytes move, the radio's power is the device's whole extra draw (the SoC's idle
// is not added), as in Neurosurgeon's "radio power × transfer time". The tail the radio
// lingers in after the last byte arrives (seconds on LTE) is not charged: it belongs to
// the next inference as much as to this one.
import type { ExecutionProviderName } from '../profiling/types.js';
import { NETWORK_PRESETS, NETWORK_PRESET_NAMES, type NetworkPresetName } from './presets.js';
import type { DevicePower, RadioPowerModel } from './types.js';

export interface DevicePowerProfile {
  schemaVersion: 1;
  kind: 'power-profile';
  name: string;
  /** Power while computing on each provider, mW. */
  computeMw: Partial<Record<ExecutionProviderName, number>>;
  /** Power while waiting for the server, mW. */
  idleMw: number;
  /** Radio power model per network preset. */
  radio: Record<NetworkPresetName, RadioPowerModel>;
}

export class PowerProfileError extends Error {
  override name = 'PowerProfileError';
}

export function defaultPowerProfile(): DevicePowerProfile {
  return {
    schemaVersion: 1,
    kind: 'power-profile',
    name: 'default (phone-class SoC estimates)',
    computeMw: { cpu: 2000, webgpu: 3500, dml: 3500, coreml: 3000, cuda: 5000 },
    idleMw: 300,
    radio: Object.fromEntries(NETWORK_PRESET_NAMES.map((name) => [name, { ...NETWORK_PRESETS[name].radio }])) as Record<NetworkPresetName, RadioPowerModel>
  };
}

/** The compute and idle power the cost model uses when the local part runs on `provider`. */
export function devicePowerFor(profile: DevicePowerProfile, provider: ExecutionProviderName): DevicePower {
  const computeMw = profile.computeMw[provider];
  if (computeMw === undefined) {
    throw new PowerProfileError(`power profile "${profile.name}" has no compute power for provider ${provider}`);
  }
  return { computeMw, idleMw: profile.idleMw };
}

/** Device energy of each node run locally, mJ (mW × ms / 1000). */
export function nodeEnergyMJ(localMs: readonly number[], power: DevicePower): number[] {
  return localMs.map((ms) => (power.computeMw * ms) / 1000);
}

function nonNegative(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new PowerProfileError(`power profile: ${where} must be a number ≥ 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks a parsed JSON power profile and fills what it leaves out from the defaults, so a
 * user can write just `{"computeMw": {"cpu": 1500}}`.
 */
export function parsePowerProfile(json: unknown): DevicePowerProfile {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new PowerProfileError('power profile: expected a JSON object');
  const input = json as Record<string, unknown>;
  if (input.kind !== undefined && input.kind !== 'power-profile') {
    throw new PowerProfileError(`power profile: kind is "${String(input.kind)}", expected "power-profile"`);
  }
  const profile = defaultPowerProfile();
  if (typeof input.name === 'string') profile.name = input.name;
  if (input.idleMw !== undefined) profile.idleMw = nonNegative(input.idleMw, 'idleMw');
  if (input.computeMw !== undefined) {
    if (typeof input.computeMw !== 'object' || input.computeMw === null) throw new PowerProfileError('power profile: computeMw must be an object of provider → mW');
    for (const [provider, value] of Object.entries(input.computeMw)) {
      if (!(provider in profile.computeMw)) throw new PowerProfileError(`power profile: unknown provider "${provider}" in computeMw`);
      profile.computeMw[provider as ExecutionProviderName] = nonNegative(value, `computeMw.${provider}`);
    }
  }
  if (input.radio !== undefined) {
    if (typeof input.radio !== 'object' || input.radio === null) throw new PowerProfileError('power profile: radio must be an object of network → model');
    for (const [network, value] of Object.entries(input.radio)) {
      if (!(NETWORK_PRESET_NAMES as string[]).includes(network)) {
        throw new PowerProfileError(`power profile: unknown network "${network}" in radio; valid: ${NETWORK_PRESET_NAMES.join(', ')}`);
      }
      const model = value as Record<string, unknown>;
      const presetName = network as NetworkPresetName;
      profile.radio[presetName] = {
        uplinkAlphaMwPerMbps: nonNegative(model?.uplinkAlphaMwPerMbps, `radio.${network}.uplinkAlphaMwPerMbps`),
        downlinkAlphaMwPerMbps: nonNegative(model?.downlinkAlphaMwPerMbps, `radio.${network}.downlinkAlphaMwPerMbps`),
        betaMw: nonNegative(model?.betaMw, `radio.${network}.betaMw`),
        // Older profiles predate the tail power: the network's documented default fills it.
        tailMw: model?.tailMw === undefined ? profile.radio[presetName].tailMw : nonNegative(model.tailMw, `radio.${network}.tailMw`)
      };
    }
  }
  return profile;
}
