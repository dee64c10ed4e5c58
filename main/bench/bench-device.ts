// The device profile a bench section predicts with: read from `--device DEVICE.json`, or a
// fresh characterisation of this CPU within the budget (in a temporary folder, not resumed),
// timed so the section can report the characterisation's time against its budget. A fresh
// one is kept in bench-results/ (its path is logged), so a run's misses can be looked into
// afterwards and the same profile given back with `--device`.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceProfile } from '../../app/profiling/types.js';
import { characterizeDevice, checkDeviceProfileShape } from '../profiling/characterize.js';
import { packageRoot } from '../files/paths.js';

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
    const outFile = path.join(folder, 'device.json');
    const device = await characterizeDevice({ ep: 'cpu', budgetS: options.budgetS, outFile, resume: false });
    const characterizeSeconds = (performance.now() - start) / 1000;
    const kept = path.join(packageRoot(), 'bench-results', `device-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    mkdirSync(path.dirname(kept), { recursive: true });
    copyFileSync(outFile, kept);
    process.stderr.write(`bench: the device profile is kept in ${kept} (--device ${path.relative(process.cwd(), kept)} predicts with it again)\n`);
    return { device, characterizeSeconds };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
