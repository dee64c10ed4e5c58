// What the fleet reads of the server (main/fleet/fleet-models.ts has the room's overview):
// the load factor K, and whether the server is idle between points — from our executor's live load report (GET /v2/studio/load, which
// counts the requests queued right now) where the server has it, else from Triton's
// standard `statistics` extension (GET /v2/models/stats), so the same works against
// Triton — the mean queue wait from the standard statistics, and the executor process's
// CPU time from /proc when its process is known (the one the fleet started, or --server-pid).
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
 * Polls the server's load. K, as the load-aware clients read it: our executor's own K
 * (load-stats.ts: the larger of the recent slowdown against solo runs and 1 + queued /
 * slots); on a server without it, 1 + (time requests spent queued) / (time they spent
 * computing) over the last second of completions — how much longer than on an idle
 * server a request takes now.
 */
export class LoadProbe {
  private samples: StatsTotals[] = [];
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** The latest K (1 until the statistics say otherwise). */
  loadFactor = 1;
  /** Why the statistics could not be read, when they could not (K stays 1). */
  problem: string | null = null;
  /** Whether the server answers GET /v2/studio/load (null: not asked yet). */
  private studioLoad: boolean | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly intervalMs = 250,
    private readonly windowMs = 1000
  ) {}

  async read(): Promise<StatsTotals | null> {
    try {
      const response = await fetch(`${this.url}/v2/models/stats`, { headers: this.headers(), signal: AbortSignal.timeout(2000) });
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

  private headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** K from the studio extension's live report; null when the server has none (then it is not asked again). */
  private async studioLoadFactor(): Promise<number | null> {
    if (this.studioLoad === false) return null;
    try {
      const response = await fetch(`${this.url}/v2/studio/load`, { headers: this.headers(), signal: AbortSignal.timeout(2000) });
      if (response.status === 404 || response.status === 400) {
        this.studioLoad = false;
        return null;
      }
      if (!response.ok) return null;
      const body = (await response.json()) as { loadFactor?: unknown };
      if (typeof body.loadFactor !== 'number' || !Number.isFinite(body.loadFactor)) {
        this.studioLoad = false;
        return null;
      }
      this.studioLoad = true;
      return Math.max(1, body.loadFactor);
    } catch {
      return null;
    }
  }

  /**
   * Waits until the server has nothing queued or running (our executor's live report), or
   * until its statistics stop moving for half a second (any other server), at most
   * `maxMs`: a point must not inherit the backlog of the one before it. False when the
   * server was still busy at the limit.
   */
  async waitIdle(maxMs: number): Promise<boolean> {
    const until = performance.now() + maxMs;
    let last: StatsTotals | null = null;
    let stillSince = performance.now();
    while (performance.now() < until) {
      if (this.studioLoad !== false) {
        try {
          const response = await fetch(`${this.url}/v2/studio/load`, { headers: this.headers(), signal: AbortSignal.timeout(2000) });
          if (response.ok) {
            const body = (await response.json()) as { inFlight?: unknown; queued?: unknown };
            if (body.inFlight === 0 && body.queued === 0) return true;
          } else if (response.status === 404 || response.status === 400) this.studioLoad = false;
        } catch {
          // not answering yet: try again
        }
      } else {
        const totals = await this.read();
        const moved = !last || !totals || totals.queueCount !== last.queueCount || totals.computeCount !== last.computeCount;
        if (moved) stillSince = performance.now();
        else if (performance.now() - stillSince >= 500) return true;
        last = totals;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  start(): void {
    if (this.timer) return;
    const tick = async () => {
      const live = await this.studioLoadFactor();
      if (live !== null) {
        this.loadFactor = live;
        if (this.timer) this.timer = setTimeout(() => void tick(), this.intervalMs);
        return;
      }
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
