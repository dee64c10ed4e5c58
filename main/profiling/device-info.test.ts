// A core's own cache, read from a sysfs-shaped folder: instruction caches and caches shared
// between CPUs are skipped, the largest private one wins; sizes parse with their units.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { coreCacheBytes, getconfLevel2CacheBytes, parseCacheSize } from './device-info.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'device-info-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function cache(index: number, type: string, size: string, shared: string): void {
  const dir = path.join(folder, `index${index}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'type'), `${type}\n`);
  writeFileSync(path.join(dir, 'size'), `${size}\n`);
  writeFileSync(path.join(dir, 'shared_cpu_list'), `${shared}\n`);
}

describe('coreCacheBytes', () => {
  it("takes the largest cache one CPU has to itself", () => {
    cache(0, 'Data', '48K', '0');
    cache(1, 'Instruction', '4096K', '0');
    cache(2, 'Unified', '2048K', '0');
    cache(3, 'Unified', '491520K', '0-1');
    expect(coreCacheBytes(folder)).toBe(2 * 2 ** 20);
  });

  it('parses sizes with their units and says null for what it cannot read', () => {
    expect([parseCacheSize('48K'), parseCacheSize('32M'), parseCacheSize('512'), parseCacheSize('1G\n'), parseCacheSize('big')]).toEqual([48 * 1024, 32 * 2 ** 20, 512, 2 ** 30, null]);
    if (process.platform !== 'darwin') expect(coreCacheBytes(path.join(folder, 'missing'), () => null)).toBeNull();
  });

  it("on Linux without the sysfs folder (a Firecracker VM's kernel), takes getconf's L2", () => {
    if (process.platform !== 'linux') return;
    expect(coreCacheBytes(path.join(folder, 'missing'), () => 1024 * 1024)).toBe(1024 * 1024);
    // The real getconf: a whole number of bytes where glibc can read the CPU, else null.
    const level2 = getconfLevel2CacheBytes();
    if (level2 !== null) expect(Number.isInteger(level2) && level2 >= 64 * 1024).toBe(true);
  });
});
