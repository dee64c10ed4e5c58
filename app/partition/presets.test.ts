// Network and power presets: the paper's reference uplinks and Huang et al.'s radio
// model, fresh copies on every lookup, clear errors for unknown names and bad values.
import { describe, expect, it } from 'vitest';
import { customNetwork, defaultPlanOptions, DEFAULT_DEVICE_POWER, networkPreset, NETWORK_PRESET_NAMES, UnknownPresetError } from './presets.js';

describe('network presets', () => {
  it('carry the reference uplinks and radio models', () => {
    expect(NETWORK_PRESET_NAMES).toEqual(['wifi', 'lte', '3g', '5g', 'unshaped']);
    expect(networkPreset('wifi').network.uplinkMbps).toBe(18.88);
    expect(networkPreset('lte').network.uplinkMbps).toBe(5.85);
    expect(networkPreset('3g').network.uplinkMbps).toBe(1.1);
    expect(networkPreset('lte').radio).toEqual({ uplinkAlphaMwPerMbps: 438.39, downlinkAlphaMwPerMbps: 51.97, betaMw: 1288.04, tailMw: 1060 });
    expect(networkPreset('3g').radio).toEqual({ uplinkAlphaMwPerMbps: 868.98, downlinkAlphaMwPerMbps: 122.12, betaMw: 817.88, tailMw: 803.9 });
    expect(networkPreset('wifi').radio).toEqual({ uplinkAlphaMwPerMbps: 283.17, downlinkAlphaMwPerMbps: 137.01, betaMw: 132.86, tailMw: 119.3 });
    expect(networkPreset('5g').radio.tailMw).toBe(1000);
    expect(networkPreset('unshaped').radio.tailMw).toBe(0);
  });

  it('lists the valid names for an unknown preset', () => {
    expect(() => networkPreset('4g')).toThrow(UnknownPresetError);
    expect(() => networkPreset('4g')).toThrow('unknown network preset "4g"; valid presets: wifi, lte, 3g, 5g, unshaped');
    expect(() => networkPreset('toString')).toThrow(UnknownPresetError);
  });

  it('hands out copies, so editing one leaves the presets alone', () => {
    const options = defaultPlanOptions('lte');
    options.network.uplinkMbps = 1;
    options.device.computeMw = 1;
    expect(defaultPlanOptions('lte').network.uplinkMbps).toBe(5.85);
    expect(DEFAULT_DEVICE_POWER.computeMw).toBe(2000);
    expect(defaultPlanOptions().network.name).toBe('wifi');
    expect(defaultPlanOptions('3g').serverLoad).toBe(1);
  });

  it('builds and checks custom networks', () => {
    expect(customNetwork({ uplinkMbps: 3, downlinkMbps: 9, rttMs: 40 })).toEqual({ name: 'custom', uplinkMbps: 3, downlinkMbps: 9, rttMs: 40 });
    expect(() => customNetwork({ uplinkMbps: 0, downlinkMbps: 9, rttMs: 40 })).toThrow(/uplinkMbps/);
    expect(() => customNetwork({ uplinkMbps: 1, downlinkMbps: 9, rttMs: -1 })).toThrow(/rttMs/);
  });
});
