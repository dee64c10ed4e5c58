// The context calibration's passes (context-calibration.ts): what a slowed pass leaves of
// the layers' times, and the networks' files kept only while the calibration is open.
// Real passes and the factors they give are tested through characterize.test.ts.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContextCalibration, keepLowest } from './context-calibration.js';

describe('keepLowest', () => {
  it('keeps each layer\'s lower time, so a pass slowed by a burst of load changes nothing', () => {
    const quiet = [0.1, 0.4, 2];
    const burst = quiet.map((ms) => ms * 1.6);
    expect(keepLowest(keepLowest([], quiet), burst)).toEqual(quiet);
    expect(keepLowest(keepLowest([], burst), quiet)).toEqual(quiet);
    expect(keepLowest([0.1, 0.5], [0.2, 0.3])).toEqual([0.1, 0.3]);
  });

  it('keeps a layer only one pass timed', () => {
    expect(keepLowest([0.1], [0.2, 0.3])).toEqual([0.1, 0.3]);
    expect(keepLowest([0.1, 0.3], [0.2])).toEqual([0.1, 0.3]);
  });
});

describe('ContextCalibration', () => {
  it('writes its networks when opened and removes them when closed', async () => {
    const calibration = await ContextCalibration.open('disabled');
    expect(calibration.level).toBe('disabled');
    expect(calibration.passes).toBe(0);
    expect(readdirSync(calibration.folder).filter((name) => name.endsWith('.onnx')).length).toBeGreaterThan(0);
    calibration.close();
    expect(existsSync(calibration.folder)).toBe(false);
  });
});
