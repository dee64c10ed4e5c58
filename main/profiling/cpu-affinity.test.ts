// Pinning to CPUs (cpu-affinity.ts): CPU lists read and written, a real process pinned with
// taskset and read back from /proc, a CPU this process may not use refused in one line, and
// the ranking that `--cpus auto` picks from giving the process its CPUs back.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AffinityError, allowedCpus, followedCpus, followFastestCpus, formatCpuList, memoryLatencyNs, onlineCpus, parseCpuList, pinAsAsked, pinProcess, rankCpus, stopFollowing } from './cpu-affinity.js';

const linux = process.platform === 'linux';

describe('CPU lists', () => {
  it('reads single CPUs and ranges, each once and in order, and writes them back as ranges', () => {
    expect(parseCpuList('0')).toEqual([0]);
    expect(parseCpuList(' 6,0-3 ,2')).toEqual([0, 1, 2, 3, 6]);
    expect(formatCpuList([6, 0, 1, 2, 3])).toBe('0-3,6');
    expect(formatCpuList([1, 3, 5])).toBe('1,3,5');
    expect(formatCpuList(parseCpuList('0-1,4-7'))).toBe('0-1,4-7');
  });

  it('refuses what is not a CPU list in one line', () => {
    for (const text of ['', 'auto', '3-1', '0,,1', '-1', '1.5']) {
      expect(() => parseCpuList(text)).toThrow(AffinityError);
      expect(() => parseCpuList(text)).toThrow(/is not a CPU list: give CPU numbers and ranges such as 0 or 0-3,6$/);
    }
  });
});

describe.runIf(linux)('pinning on Linux', () => {
  it('pins every thread of a running process and reads it back from /proc', async () => {
    const cpus = allowedCpus()!;
    expect(cpus.length).toBeGreaterThan(0);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const target = cpus[cpus.length - 1];
      pinProcess([target], child.pid);
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      expect(status).toMatch(new RegExp(`^Cpus_allowed_list:\\s+${target}$`, 'm'));
    } finally {
      child.kill();
    }
  });

  it('pins a process whose threads come and go while taskset walks them (walking the list again)', async () => {
    // Workers started every 2 ms and ending 5 ms later: a walk of the thread list often meets one ending.
    const churn = "const { Worker } = require('node:worker_threads'); setInterval(() => new Worker('setTimeout(() => {}, 5)', { eval: true }).unref(), 2); setTimeout(() => {}, 20000);";
    const child = spawn(process.execPath, ['-e', churn], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const cpus = allowedCpus()!;
      for (let i = 0; i < 200; i++) pinProcess([cpus[i % cpus.length]], child.pid);
      expect(readFileSync(`/proc/${child.pid}/status`, 'utf8')).toMatch(new RegExp(`^Cpus_allowed_list:\\s+${cpus[199 % cpus.length]}$`, 'm'));
    } finally {
      child.kill();
    }
  });

  it('refuses a CPU the machine does not have online, naming it', () => {
    const cpus = onlineCpus()!;
    const missing = Math.max(...cpus) + 1;
    expect(() => pinProcess([missing])).toThrow(new RegExp(`^CPU ${missing} is not one of this machine's online CPUs \\(${formatCpuList(cpus)}\\)$`));
    expect(() => pinProcess([])).toThrow(/^no CPU to pin to$/);
  });

  it('ranks every CPU it may run on by memory latency and gives the process its CPUs back', () => {
    const before = allowedCpus()!;
    const ranking = rankCpus();
    expect(ranking.map((r) => r.cpu).sort((a, b) => a - b)).toEqual(before);
    for (let i = 1; i < ranking.length; i++) expect(ranking[i].latencyNs).toBeGreaterThanOrEqual(ranking[i - 1].latencyNs);
    for (const r of ranking) expect(r.latencyNs).toBeGreaterThan(0);
    expect(allowedCpus()).toEqual(before);
    expect(memoryLatencyNs()).toBeGreaterThan(0);
  }, 30_000);

  it('probes each CPU from its main thread alone, leaving the other threads where they are, and puts it back', () => {
    const before = allowedCpus()!;
    const threadCpus = (): string[] =>
      readdirSync('/proc/self/task')
        .filter((tid) => tid !== String(process.pid))
        .flatMap((tid) => {
          try {
            return [/^Cpus_allowed_list:\s+(\S+)$/m.exec(readFileSync(`/proc/self/task/${tid}/status`, 'utf8'))![1]];
          } catch {
            return []; // a thread that ended meanwhile
          }
        });
    const seen: { main: number[]; others: string[] }[] = [];
    const ranking = rankCpus(before, () => {
      seen.push({ main: allowedCpus()!, others: threadCpus() });
      return seen.length;
    });
    expect(seen.map((s) => s.main)).toEqual(before.map((cpu) => [cpu]));
    for (const { others } of seen) {
      expect(others.length).toBeGreaterThan(0);
      for (const list of others) expect(list).toBe(formatCpuList(before));
    }
    expect(ranking.map((r) => r.cpu)).toEqual(before);
    expect(allowedCpus()).toEqual(before);
  });

  it('follows the fastest CPU with auto: looks again after 2 s, not before unless forced, and stops when told', async () => {
    const before = allowedCpus()!;
    try {
      const pinned = pinAsAsked('auto', 1);
      expect(pinned.cpus).toHaveLength(1);
      expect(pinned.ranking!.map((r) => r.cpu).sort((a, b) => a - b)).toEqual(before);
      expect(allowedCpus()).toEqual(pinned.cpus);
      expect(followedCpus()).toEqual({ cpus: pinned.cpus, moves: 0, looks: 0 });
      followFastestCpus();
      expect(followedCpus()).toEqual({ cpus: pinned.cpus, moves: 0, looks: 0 });
      await new Promise((resolve) => setTimeout(resolve, 2100));
      followFastestCpus();
      const followed = followedCpus()!;
      expect(followed.cpus).toHaveLength(1);
      expect(before).toContain(followed.cpus[0]);
      expect(allowedCpus()).toEqual(followed.cpus);
      expect(followed.looks).toBe(1);
      expect(followed.moves).toBe(followed.cpus[0] === pinned.cpus[0] ? 0 : 1);
      followFastestCpus({ force: true });
      expect(followedCpus()!.looks).toBe(2);
      expect(before).toContain(followedCpus()!.cpus[0]);
      pinAsAsked(formatCpuList(before), 1);
      expect(followedCpus()).toBeNull();
    } finally {
      stopFollowing();
      pinProcess(before);
    }
  }, 30_000);
});
