// What machine a profile was measured on (DeviceInfo in app/profiling/types.ts): CPU,
// cores, memory, OS, and — for GPU providers — the GPU's name where nvidia-smi can tell;
// and the size of a core's own cache, where the OS tells it.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

/** "2048K", "48K", "32M" (Linux sysfs cache sizes) → bytes; null when unreadable. */
export function parseCacheSize(text: string): number | null {
  const match = /^(\d+)\s*([KMG]?)B?$/i.exec(text.trim());
  if (!match) return null;
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 }[match[2].toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Number(match[1]) * unit;
}

/** The size of a core's L2 as glibc's getconf reads it from the CPU (CPUID on x86), bytes; null where it does not say. */
export function getconfLevel2CacheBytes(): number | null {
  try {
    const value = Number(execFileSync('getconf', ['LEVEL2_CACHE_SIZE'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isFinite(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

/**
 * The largest cache a core has to itself (its L2 on most CPUs), bytes: on Linux from
 * /sys/devices/system/cpu/cpu0/cache (a cache whose shared_cpu_list names one CPU), or
 * where a virtual machine's kernel has no such folder (Firecracker's), from
 * `linuxFallback` (getconf's L2); on macOS from sysctl. Null where none of them tells.
 */
export function coreCacheBytes(sysfsFolder = '/sys/devices/system/cpu/cpu0/cache', linuxFallback: () => number | null = getconfLevel2CacheBytes): number | null {
  try {
    let largest: number | null = null;
    for (const entry of readdirSync(sysfsFolder).filter((name) => /^index\d+$/.test(name))) {
      const read = (file: string): string => readFileSync(path.join(sysfsFolder, entry, file), 'utf8').trim();
      if (read('type') === 'Instruction' || /[-,]/.test(read('shared_cpu_list'))) continue;
      const size = parseCacheSize(read('size'));
      if (size !== null && (largest === null || size > largest)) largest = size;
    }
    if (largest !== null) return largest;
  } catch {
    // Not Linux, or no sysfs cache folder: try the fallbacks below.
  }
  if (process.platform === 'linux') return linuxFallback();
  if (process.platform !== 'darwin') return null;
  for (const key of ['hw.perflevel0.l2cachesize', 'hw.l2cachesize']) {
    try {
      const value = Number(execFileSync('sysctl', ['-n', key], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      if (Number.isFinite(value) && value > 0) return value;
    } catch {
      // Try the next key.
    }
  }
  return null;
}
