// The power profile: documented defaults, partial user files filled from them, one-line
// errors for bad values, and energy per node.
import { describe, expect, it } from 'vitest';
import { defaultPowerProfile, devicePowerFor, nodeEnergyMJ, parsePowerProfile, PowerProfileError } from './power.js';

describe('device power profile', () => {
  it('has the paper-era radio models and per-provider compute power', () => {
    const profile = defaultPowerProfile();
    expect(profile.radio.lte).toEqual({ uplinkAlphaMwPerMbps: 438.39, downlinkAlphaMwPerMbps: 51.97, betaMw: 1288.04, tailMw: 1060 });
    expect(profile.radio['3g'].uplinkAlphaMwPerMbps).toBe(868.98);
    expect(profile.radio.wifi.betaMw).toBe(132.86);
    expect(devicePowerFor(profile, 'cpu')).toEqual({ computeMw: 2000, idleMw: 300 });
    expect(devicePowerFor(profile, 'webgpu').computeMw).toBe(3500);
  });

  it('fills a partial user file from the defaults', () => {
    const profile = parsePowerProfile({ name: 'my phone', computeMw: { cpu: 1500 }, radio: { lte: { uplinkAlphaMwPerMbps: 400, downlinkAlphaMwPerMbps: 50, betaMw: 1200 } } });
    expect(profile.name).toBe('my phone');
    expect(profile.computeMw.cpu).toBe(1500);
    expect(profile.computeMw.webgpu).toBe(3500);
    expect(profile.radio.lte.betaMw).toBe(1200);
    expect(profile.radio.wifi.betaMw).toBe(132.86);
  });

  it("takes a radio tail power, or fills it from that network's default when left out", () => {
    const profile = parsePowerProfile({
      radio: { lte: { uplinkAlphaMwPerMbps: 400, downlinkAlphaMwPerMbps: 50, betaMw: 1200, tailMw: 900 }, '3g': { uplinkAlphaMwPerMbps: 800, downlinkAlphaMwPerMbps: 100, betaMw: 800 } }
    });
    expect(profile.radio.lte.tailMw).toBe(900);
    expect(profile.radio['3g'].tailMw).toBe(803.9);
    expect(profile.radio.wifi.tailMw).toBe(119.3);
    expect(() => parsePowerProfile({ radio: { wifi: { uplinkAlphaMwPerMbps: 1, downlinkAlphaMwPerMbps: 1, betaMw: 1, tailMw: -5 } } })).toThrow(
      'power profile: radio.wifi.tailMw must be a number ≥ 0, got -5'
    );
  });

  it('names what is wrong', () => {
    expect(() => parsePowerProfile([])).toThrow(PowerProfileError);
    expect(() => parsePowerProfile({ idleMw: -1 })).toThrow('power profile: idleMw must be a number ≥ 0, got -1');
    expect(() => parsePowerProfile({ computeMw: { tpu: 3 } })).toThrow('unknown provider "tpu"');
    expect(() => parsePowerProfile({ radio: { wimax: {} } })).toThrow(/unknown network "wimax"/);
    expect(() => parsePowerProfile({ radio: { lte: { uplinkAlphaMwPerMbps: 1 } } })).toThrow('radio.lte.downlinkAlphaMwPerMbps must be a number ≥ 0, got undefined');
    expect(() => parsePowerProfile({ kind: 'device-profile' })).toThrow(/expected "power-profile"/);
  });

  it('gives energy per node as power × time', () => {
    expect(nodeEnergyMJ([1, 2.5, 0], { computeMw: 2000, idleMw: 300 })).toEqual([2, 5, 0]);
  });
});
