// What the fleet reads of the server (main/fleet/fleet-models.ts has the room's overview):
// the load factor K and queue waits from the executor's statistics endpoint — Triton's
// standard `statistics` extension (GET /v2/models/stats), so the same works against Triton
// — and the executor process's CPU time from /proc when its process is known (the one the
// fleet started, or --server-pid).
import { readFileSync } from 'node:fs';

interface StatsTotals {
  /** performance.now() when read. */
  at: number;
  queueNs: number;
  queueCount: number;
  computeNs: number;
  computeCount: number;
}

interface DurationStat {
  count?: number;
  ns?: number;
}

interface ModelStatsBody {
  model_stats?: { inference_stats?: { queue?: DurationStat; compute_infer?: DurationStat } }[];
}

/**
 * Polls the statistics endpoint. K, as the load-aware clients read it: 1 + (time requests
 * spent queued) / (time they spent computing), over the last second of completions — how
 * much longer than on an idle server a request takes now.
 */
export class LoadProbe {
  private samples: StatsTotals[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** The latest K (1 until the statistics say otherwise). */
  loadFactor = 1;
  /** Why the statistics could not be read, when they could not (K stays 1). */
  problem: string | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly intervalMs = 250,
    private readonly windowMs = 1000
  ) {}

  async read(): Promise<StatsTotals | null> {
    try {
      const response = await fetch(`${this.url}/v2/models/stats`, {
        headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        signal: AbortSignal.timeout(2000)
      });
      if (!response.ok) throw new Error(`${response.status}`);
      const body = (await response.json()) as ModelStatsBody;
      const totals: StatsTotals = { at: performance.now(), queueNs: 0, queueCount: 0, computeNs: 0, computeCount: 0 };
      for (const model of body.model_stats ?? []) {
        totals.queueNs += Number(model.inference_stats?.queue?.ns ?? 0);
        totals.queueCount += Number(model.inference_stats?.queue?.count ?? 0);
        totals.computeNs += Number(model.inference_stats?.compute_infer?.ns ?? 0);
        totals.computeCount += Number(model.inference_stats?.compute_infer?.count ?? 0);
      }
      this.failures = 0;
      return totals;
    } catch (error) {
      if (++this.failures >= 3) this.problem = `the executor's statistics (GET /v2/models/stats) could not be read (${(error as Error).message}); load-aware clients see K = 1`;
      return null;
    }
  }

  start(): void {
    if (this.timer) return;
    const tick = async () => {
      const totals = await this.read();
      if (totals) {
        this.samples.push(totals);
        while (this.samples.length > 2 && totals.at - this.samples[1].at >= this.windowMs) this.samples.shift();
        const first = this.samples[0];
        const computeNs = totals.computeNs - first.computeNs;
        const queueNs = totals.queueNs - first.queueNs;
        if (computeNs > 0) this.loadFactor = 1 + Math.max(0, queueNs) / computeNs;
        else if (totals.queueCount === first.queueCount) this.loadFactor = 1;
      }
      if (this.timer) this.timer = setTimeout(() => void tick(), this.intervalMs);
    };
    this.timer = setTimeout(() => void tick(), 0);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.samples = [];
    this.loadFactor = 1;
  }
}

/** Mean queue wait between two readings of the statistics, ms (null when nothing was queued through, or unknown). */
export function meanQueueWaitMs(before: StatsTotals | null, after: StatsTotals | null): number | null {
  if (!before || !after) return null;
  const count = after.queueCount - before.queueCount;
  return count > 0 ? (after.queueNs - before.queueNs) / count / 1e6 : null;
}

/** CPU seconds (user + system, every thread) a process has used, from /proc/PID/stat; null where that cannot be read. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    // USER_HZ is 100 on every Linux ABI Node runs on.
    return Number.isFinite(ticks) ? ticks / 100 : null;
  } catch {
    return null;
  }
}
