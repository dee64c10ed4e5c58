// Network, radio-power and device-power presets that turn a network name into the
// PlanOptions the partition optimisers take. Every number is an editable default: the
// studio lets users change them and can measure the network itself.
//
// Sources and choices:
// - Uplinks of Wi-Fi (18.88 Mbps), LTE (5.85) and 3G (1.1) are the reference numbers of
//   Neurosurgeon (Kang et al., ASPLOS 2017), from the measurements it builds on.
// - Downlinks and RTTs are our defaults, typical of each technology, not paper numbers.
// - Radio power P = alpha × throughput(Mbps) + beta for Wi-Fi, LTE and 3G is Huang et al.
//   (MobiSys 2012). That linear fit was made at LTE-era throughputs; applying it to
//   hundreds of Mbps would predict tens of watts, so 5G uses a placeholder of our own
//   that keeps the modem at a few watts (≈4 W at 100 Mbps up), and 'unshaped' (a wired
//   or loopback link for lab runs) charges no radio power at all.
// - Radio tail (active-idle) power, charged while the radio is connected but moves no
//   data (the RTT halves, the server's compute): Huang et al.'s measured tail powers
//   (MobiSys 2012, Table 3) — LTE 1060 mW (the RRC_CONNECTED tail base), 3G 803.9 mW
//   (the DCH tail), Wi-Fi 119.3 mW. 5G's 1000 mW is a placeholder of our own, not a
//   measurement; 'unshaped' charges none. See power.ts for when each power is charged.
// - Device power: 2 W while computing, 0.3 W while waiting — rough smartphone-SoC figures.
import type { DevicePower, NetworkConditions, PlanOptions, RadioPowerModel } from './types.js';

export interface NetworkPreset {
  network: NetworkConditions;
  radio: RadioPowerModel;
}

export type NetworkPresetName = 'wifi' | 'lte' | '3g' | '5g' | 'unshaped';

export const NETWORK_PRESETS: Readonly<Record<NetworkPresetName, NetworkPreset>> = {
  wifi: {
    network: { name: 'wifi', uplinkMbps: 18.88, downlinkMbps: 54, rttMs: 10 },
    radio: { uplinkAlphaMwPerMbps: 283.17, downlinkAlphaMwPerMbps: 137.01, betaMw: 132.86, tailMw: 119.3 }
  },
  lte: {
    network: { name: 'lte', uplinkMbps: 5.85, downlinkMbps: 20, rttMs: 50 },
    radio: { uplinkAlphaMwPerMbps: 438.39, downlinkAlphaMwPerMbps: 51.97, betaMw: 1288.04, tailMw: 1060 }
  },
  '3g': {
    network: { name: '3g', uplinkMbps: 1.1, downlinkMbps: 2, rttMs: 150 },
    radio: { uplinkAlphaMwPerMbps: 868.98, downlinkAlphaMwPerMbps: 122.12, betaMw: 817.88, tailMw: 803.9 }
  },
  '5g': {
    network: { name: '5g', uplinkMbps: 100, downlinkMbps: 300, rttMs: 15 },
    // Our placeholder, every number of it (tail included), not a measurement.
    radio: { uplinkAlphaMwPerMbps: 20, downlinkAlphaMwPerMbps: 5, betaMw: 2000, tailMw: 1000 }
  },
  unshaped: {
    network: { name: 'unshaped', uplinkMbps: 1000, downlinkMbps: 1000, rttMs: 0.1 },
    radio: { uplinkAlphaMwPerMbps: 0, downlinkAlphaMwPerMbps: 0, betaMw: 0, tailMw: 0 }
  }
};

export const DEFAULT_DEVICE_POWER: Readonly<DevicePower> = { computeMw: 2000, idleMw: 300 };

export const NETWORK_PRESET_NAMES = Object.keys(NETWORK_PRESETS) as NetworkPresetName[];

export class UnknownPresetError extends Error {
  override name = 'UnknownPresetError';
}

export function isNetworkPresetName(name: string): name is NetworkPresetName {
  return Object.hasOwn(NETWORK_PRESETS, name);
}

/** The preset called `name` (a fresh copy, safe to edit); throws listing the valid names. */
export function networkPreset(name: string): NetworkPreset {
  if (!isNetworkPresetName(name)) {
    throw new UnknownPresetError(`unknown network preset "${name}"; valid presets: ${NETWORK_PRESET_NAMES.join(', ')}`);
  }
  const preset = NETWORK_PRESETS[name];
  return { network: { ...preset.network }, radio: { ...preset.radio } };
}

/** Plan options for a preset network, default device power and an unloaded server (K = 1). */
export function defaultPlanOptions(networkName: string = 'wifi'): PlanOptions {
  const { network, radio } = networkPreset(networkName);
  return { network, radio, device: { ...DEFAULT_DEVICE_POWER }, serverLoad: 1 };
}

/** A user-defined network; throws a RangeError for a non-positive bandwidth or negative RTT. */
export function customNetwork(conditions: { uplinkMbps: number; downlinkMbps: number; rttMs: number; name?: string }): NetworkConditions {
  const { uplinkMbps, downlinkMbps, rttMs, name = 'custom' } = conditions;
  for (const [field, value] of [
    ['uplinkMbps', uplinkMbps],
    ['downlinkMbps', downlinkMbps]
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`${field} must be a finite number > 0, got ${value}`);
  }
  if (!(Number.isFinite(rttMs) && rttMs >= 0)) throw new RangeError(`rttMs must be a finite number >= 0, got ${rttMs}`);
  return { name, uplinkMbps, downlinkMbps, rttMs };
}
