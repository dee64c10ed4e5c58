// Which CPUs this process may run on, and pinning it (every thread, and every process it
// starts after, which inherit it) to some of them. A characterisation timed on one core and
// runs timed on another compare two machines where the cores differ: on this project's
// 2-vCPU VM, vCPU 1 runs SENNA-POS (a 20-µs model) in 42 µs where vCPU 0 runs it in 21, and
// ResNet-18 12 % slower, and the scheduler moves a process between them every few seconds.
// Phones are the same (big and little cores): nn-Meter and the mobile benchmark tools time
// pinned to one cluster. Linux only, through util-linux's taskset (sched_setaffinity, which
// Node does not expose); elsewhere pinning is refused in one line. The CLI's `--cpus` and the
// bench use it; `auto` ranks the allowed CPUs by a memory-latency probe (memoryLatencyNs)
// and, while measuring, moves to the fastest again every few seconds (followFastestCpus).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { median } from '../../app/profiling/trace.js';
import { firstLine } from '../errors/user-errors.js';

export class AffinityError extends Error {
  override name = 'AffinityError';
}

/** "0", "0-3,6" → [0, 1, 2, 3, 6] (sorted, each once); throws one line naming the text otherwise. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const part of text.trim().split(',')) {
    const match = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(part.trim());
    const from = match ? Number(match[1]) : NaN;
    const to = match?.[2] !== undefined ? Number(match[2]) : from;
    if (!match || to < from) throw new AffinityError(`"${text}" is not a CPU list: give CPU numbers and ranges such as 0 or 0-3,6`);
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0, 1, 2, 3, 6] → "0-3,6". */
export function formatCpuList(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The CPUs this process may run on now (Linux's Cpus_allowed_list), or null where it cannot be read. */
export function allowedCpus(): number[] | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync('/proc/self/status', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Cpus_allowed_list:'));
    return line ? parseCpuList(line.slice(line.indexOf(':') + 1)) : null;
  } catch {
    return null;
  }
}

/** The machine's online CPUs (Linux), the ones a process may be pinned to; null where they cannot be read. */
export function onlineCpus(): number[] | null {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Walks of the thread list pinProcess tries when threads end under it. Five fell short once in a
 * clean-clone test run: a process starting a worker every 2 ms, on a loaded 2-core machine, had a
 * thread end under each of five walks in a row; a walk costs one taskset (a few ms).
 */
const PIN_ATTEMPTS = 20;

/**
 * Pins every thread of process `pid` (default this one) to `cpus`; threads and processes it
 * starts later inherit them. With `allThreads` false, only its main thread (what rankCpus
 * moves to probe each CPU from it).
 */
export function pinProcess(cpus: readonly number[], pid: number = process.pid, allThreads = true): void {
  if (process.platform !== 'linux') throw new AffinityError(`pinning to CPUs is supported on Linux only (this is ${process.platform})`);
  if (cpus.length === 0) throw new AffinityError('no CPU to pin to');
  const online = onlineCpus();
  const missing = online ? cpus.filter((cpu) => !online.includes(cpu)) : [];
  if (missing.length > 0) throw new AffinityError(`CPU ${formatCpuList(missing)} is not one of this machine's online CPUs (${formatCpuList(online ?? [])})`);
  // taskset walks the process's threads one by one, and fails on a thread that ends while it
  // walks (an onnxruntime session released, a worker done: "failed to get pid N's affinity:
  // No such process"); the next walk finds the list without it.
  for (let attempt = 1; ; attempt++) {
    try {
      execFileSync('taskset', [...(allThreads ? ['--all-tasks'] : []), '--cpu-list', '--pid', formatCpuList(cpus), String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new AffinityError('pinning to CPUs needs taskset (util-linux), which is not installed');
      const said = firstLine((error as { stderr?: Buffer | string }).stderr?.toString() ?? '') || firstLine(error);
      if (attempt < PIN_ATTEMPTS && /No such process/.test(said)) continue;
      throw new AffinityError(`taskset could not pin to CPU ${formatCpuList(cpus)}: ${said}`);
    }
  }
}

const CHASE_BYTES = 8 * 2 ** 20;
let chain: Int32Array | null = null;

/**
 * Nanoseconds per dependent load over 8 MiB in a random cycle (more than a core's own cache,
 * as a model's weights and activations are), the median of `rounds` rounds of `loads`: the
 * memory latency this process sees on the CPU it runs on now. On this project's VM it tells
 * the two vCPUs apart at once: 20–26 ns on the one whose last-level cache is its own, 100–137
 * on the one another tenant's work crowds out of it (the lowest of three rounds, as it first
 * took them; which vCPU is which changes over minutes).
 * The median, not the lowest: where the other tenant's work comes and goes within
 * milliseconds, it slows a share of the rounds and spares others. Fifteen rounds of 40,000
 * loads gave 19 and 20 ns at best on the two vCPUs, and medians of 23 and 71 ns; SENNA-POS
 * ran 22 µs on the first and 36 µs on the second then.
 */
export function memoryLatencyNs(loads = 100_000, rounds = 9): number {
  if (!chain) {
    const n = CHASE_BYTES / 4;
    const order = Int32Array.from({ length: n }, (_, i) => i);
    let seed = 12345;
    for (let i = n - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    chain = new Int32Array(n);
    for (let i = 0; i < n; i++) chain[order[i]] = order[(i + 1) % n];
  }
  let at = 0;
  const perLoad: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < loads; i++) at = chain[at];
    perLoad.push(Number(process.hrtime.bigint() - start) / loads);
  }
  if (at < 0) throw new Error('unreachable');
  return median(perLoad);
}

export interface CpuRank {
  cpu: number;
  latencyNs: number;
}

/**
 * Each of `cpus`' memory latency, fastest first: the probe runs on this process's main
 * thread, moved to each CPU in turn and then given back what it had (the other threads stay
 * where they are). A CPU the thread is already pinned to alone is probed first, where it is.
 * Each move runs taskset, a fork of this process: 60 ms a fork for a 3-GB bench process here.
 */
export function rankCpus(cpus: readonly number[] | null = allowedCpus(), probe: () => number = () => memoryLatencyNs()): CpuRank[] {
  if (!cpus || cpus.length === 0) throw new AffinityError('this process\'s CPUs cannot be read here (Linux only)');
  const before = allowedCpus() ?? cpus;
  const here = before.length === 1 && cpus.includes(before[0]) ? before[0] : null;
  const ranks: CpuRank[] = [];
  let moved = false;
  try {
    for (const cpu of here === null ? cpus : [here, ...cpus.filter((c) => c !== here)]) {
      if (cpu !== here) {
        pinProcess([cpu], process.pid, false);
        moved = true;
      }
      ranks.push({ cpu, latencyNs: probe() });
    }
  } finally {
    if (moved) pinProcess(before, process.pid, false);
  }
  return ranks.sort((a, b) => a.latencyNs - b.latencyNs || a.cpu - b.cpu);
}

/** The `count` (at least one) fastest CPUs of a ranking, in CPU order. */
function fastestOf(ranking: readonly CpuRank[], count: number): number[] {
  return ranking
    .slice(0, Math.max(1, count))
    .map((r) => r.cpu)
    .sort((a, b) => a - b);
}

/** How often a followed process looks again for its fastest CPUs. */
const FOLLOW_INTERVAL_MS = 2000;

interface Following {
  candidates: number[];
  count: number;
  checkedAt: number;
  current: number[];
  moves: number;
  looks: number;
}
let following: Following | null = null;

/**
 * `--cpus` as given: a CPU list (pinned once), or "auto": the `count` fastest CPUs by memory
 * latency, looked for again at most every 2 s wherever the measuring code calls
 * followFastestCpus (a shared machine's fastest core changes over minutes; a dedicated one's
 * stays put). Returns what it chose and, for auto, the ranking behind it.
 */
export function pinAsAsked(asked: string, count: number): { cpus: number[]; ranking: CpuRank[] | null } {
  if (asked.trim() === 'auto') {
    const candidates = allowedCpus();
    if (!candidates) throw new AffinityError(`pinning to CPUs is supported on Linux only (this is ${process.platform})`);
    memoryLatencyNs(1000, 1); // builds the chain and warms the loop before any CPU is timed
    const ranking = rankCpus(candidates);
    const cpus = fastestOf(ranking, count);
    pinProcess(cpus);
    following = { candidates, count: Math.max(1, count), checkedAt: performance.now(), current: cpus, moves: 0, looks: 0 };
    return { cpus, ranking };
  }
  const cpus = parseCpuList(asked);
  pinProcess(cpus);
  following = null;
  return { cpus, ranking: null };
}

/** "CPU 0-1", with the ranking behind an auto choice: "CPU 1 (memory latency CPU 1 24 ns, CPU 0 101 ns)". */
export function describePinning(pinned: { cpus: readonly number[]; ranking: readonly CpuRank[] | null }): string {
  const ranking = pinned.ranking ? ` (memory latency ${pinned.ranking.map((r) => `CPU ${r.cpu} ${r.latencyNs.toFixed(0)} ns`).join(', ')})` : '';
  return `CPU ${formatCpuList(pinned.cpus)}${ranking}`;
}

/**
 * Where `--cpus auto` follows the fastest CPUs: moves this process to them when 2 s have
 * passed since the last look, or at once with `force` (a quick probe, 3–15 ms a CPU).
 * A no-op when not following.
 */
export function followFastestCpus(options: { force?: boolean } = {}): void {
  if (!following || (!options.force && performance.now() - following.checkedAt < FOLLOW_INTERVAL_MS)) return;
  const cpus = fastestOf(rankCpus(following.candidates, () => memoryLatencyNs(20_000, 7)), following.count);
  if (formatCpuList(cpus) !== formatCpuList(following.current)) {
    pinProcess(cpus);
    following.moves++;
  }
  following.current = cpus;
  following.looks++;
  following.checkedAt = performance.now();
}

/** The CPUs `--cpus auto` keeps this process on now, how often it looked again and how often it moved, or null when it is not following. */
export function followedCpus(): { cpus: number[]; moves: number; looks: number } | null {
  return following ? { cpus: following.current, moves: following.moves, looks: following.looks } : null;
}

/** Stops following (the process keeps the CPUs it has; pinProcess gives it others). */
export function stopFollowing(): void {
  following = null;
}
