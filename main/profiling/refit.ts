// Refitting a device profile: its sweep's samples fitted again by this version's regression
// (app/prediction/regression.ts), the per-type errors with them, and the context factors
// found again against the new fits from the calibration times the profile kept
// (DeviceProfile.contextTimes), without timing anything again. What `neurosurgeon refit`
// does, so a profile characterised by an older version predicts as its samples allow now,
// and what the predict bench's fixed inputs are compared on when the fitting changes.
import { fitsWithErrors } from '../../app/prediction/local-correction.js';
import type { DeviceProfile, GraphOptimization } from '../../app/profiling/types.js';
import { firstLine } from '../errors/user-errors.js';
import { DeviceProfileError } from './characterize.js';
import { ContextCalibration } from './context-calibration.js';
import { readFusionRules } from './fusion-probe.js';

export interface RefitResult {
  profile: DeviceProfile;
  /** The levels whose context factors were found again (the others kept theirs: no times were kept for them). */
  contextRefound: GraphOptimization[];
}

/** `device` refitted; `label` names it in the one-line DeviceProfileError of calibration times that do not match this version's networks. */
export async function refitDeviceProfile(device: DeviceProfile, label = 'device profile'): Promise<RefitResult> {
  let profile: DeviceProfile = { ...device, ...fitsWithErrors(device.samples ?? []) };
  const contextRefound: GraphOptimization[] = [];
  for (const level of ['disabled', 'all'] as const) {
    const times = device.contextTimes?.[level];
    if (!times) continue;
    const calibration = await ContextCalibration.open(level, times).catch((error: unknown) => {
      throw new DeviceProfileError(`${label}: ${firstLine(error)}`);
    });
    try {
      const factors = calibration.factors(profile, level === 'all' ? await readFusionRules() : undefined);
      profile = level === 'disabled' ? { ...profile, contextFactors: factors } : { ...profile, contextFactorsAtAll: factors };
      contextRefound.push(level);
    } finally {
      calibration.close();
    }
  }
  return { profile, contextRefound };
}
