// The device profile a bench section predicts with: read from `--device DEVICE.json`, or a
// fresh characterisation of this CPU within the budget (in a temporary folder, not resumed),
// timed so the section can report the characterisation's time against its budget.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceProfile } from '../../app/profiling/types.js';
import { characterizeDevice, checkDeviceProfileShape } from '../profiling/characterize.js';

export interface BenchDevice {
  device: DeviceProfile;
  /** Seconds the characterisation took; null when the profile was read from a file. */
  characterizeSeconds: number | null;
}

export async function benchDeviceProfile(options: { deviceFile?: string | null; budgetS: number }): Promise<BenchDevice> {
  if (options.deviceFile) {
    return { device: checkDeviceProfileShape(JSON.parse(readFileSync(options.deviceFile, 'utf8')), options.deviceFile), characterizeSeconds: null };
  }
  process.stderr.write(`bench: characterising this CPU (budget ${options.budgetS} s)…\n`);
  const folder = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-bench-'));
  const start = performance.now();
  try {
    const device = await characterizeDevice({ ep: 'cpu', budgetS: options.budgetS, outFile: path.join(folder, 'device.json'), resume: false });
    return { device, characterizeSeconds: (performance.now() - start) / 1000 };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
