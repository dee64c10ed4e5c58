// `neurosurgeon characterize` in a process of its own, for a device executor's
// characterisation endpoint (main/executor/device.ts): the sweep of single-layer models
// runs as the user's own command would (characterize.ts), nothing else on its event loop,
// into a temporary file read back and checked here. Cancelling kills the child.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeviceProfile, ExecutionProviderName } from '../../app/profiling/types.js';
import { packageRoot } from '../files/paths.js';
import { firstLine } from '../errors/user-errors.js';
import { DeviceProfileError, readDeviceProfile } from './characterize.js';
import { intraOpThreads } from './providers.js';

export interface CharacterizeProcessOptions {
  ep: ExecutionProviderName;
  budgetS: number;
  signal?: AbortSignal;
}

/** A fresh characterisation of this machine (no resume), as `neurosurgeon characterize` makes it. */
export async function characterizeInChildProcess(options: CharacterizeProcessOptions): Promise<DeviceProfile> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-characterize-run-'));
  const out = path.join(folder, 'device.json');
  try {
    const args = [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), '--threads', String(intraOpThreads()), 'characterize', '--ep', options.ep, '--budget-s', String(options.budgetS), '--out', out, '--no-resume'];
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: folder, TMP: folder, TEMP: folder, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env, windowsHide: true });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-8192)));
      const onAbort = () => child.kill('SIGKILL');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (error) => reject(new DeviceProfileError(`cannot start the characterisation: ${error.message}`)));
      child.on('close', (code) => {
        options.signal?.removeEventListener('abort', onAbort);
        if (options.signal?.aborted) return reject(new DeviceProfileError('the characterisation was cancelled'));
        if (code !== 0) {
          const line = stderr.split('\n').find((l) => l.startsWith('neurosurgeon:')) ?? `exit code ${code}`;
          return reject(new DeviceProfileError(`the characterisation failed: ${line.replace(/^neurosurgeon:\s*/, '')}`));
        }
        resolve();
      });
    });
    try {
      return await readDeviceProfile(out);
    } catch (error) {
      throw new DeviceProfileError(`the characterisation wrote no device profile: ${firstLine(error)}`);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
