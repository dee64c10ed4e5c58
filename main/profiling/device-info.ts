// What machine a profile was measured on (DeviceInfo in app/profiling/types.ts): CPU,
// cores, memory, OS, and — for GPU providers — the GPU's name where nvidia-smi can tell.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import type { DeviceInfo, ExecutionProviderName } from '../../app/profiling/types.js';

/** The first GPU's name from nvidia-smi, or null (no driver, no GPU, or it took too long). */
export function nvidiaGpuName(timeoutMs = 2000): string | null {
  try {
    const output = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      timeout: timeoutMs,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore']
    });
    const first = output.split('\n')[0].trim();
    return first === '' ? null : first;
  } catch {
    return null;
  }
}

export function deviceInfo(ep: ExecutionProviderName): DeviceInfo {
  const cpus = os.cpus();
  let gpu: string | null = null;
  if (ep === 'webgpu' || ep === 'cuda' || ep === 'dml') gpu = nvidiaGpuName();
  if (gpu === null && ep === 'webgpu') gpu = 'WebGPU adapter';
  return {
    hostname: os.hostname(),
    os: `${os.type()} ${os.release()}`,
    arch: os.arch(),
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cpuCores: cpus.length,
    memoryBytes: os.totalmem(),
    gpu
  };
}
