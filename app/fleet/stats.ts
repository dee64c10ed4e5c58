// The fleet's statistics (app/fleet/types.ts): percentiles of latencies, the throughput
// at a latency objective and the knee of a policy's sweep, and the gains between policies.
// A sweep meets the objective at a rate when its p95 is within the bound and few enough
// queries were rejected or failed; between the last rate that meets it and the first that
// does not, the crossing is interpolated linearly in p95, so the answer is not stuck to
// the sweep's grid.
import type { FleetObjective, FleetPoint, FleetPolicy, FleetPolicyResult, LatencyPercentiles } from './types.js';

/** Nearest-rank percentile of sorted values. */
function rank(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function latencyPercentiles(values: readonly number[]): LatencyPercentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, p50: rank(sorted, 0.5), p95: rank(sorted, 0.95), p99: rank(sorted, 0.99), count: sorted.length };
}

/** The p95 the objective bounds at a point (Infinity when nothing was measured but queries went unanswered). */
export function objectiveP95(point: FleetPoint, objective: FleetObjective): number {
  const latencies = objective.scope === 'server' ? point.serverMs : point.endToEndMs;
  if (point.unfinished > 0) return Infinity;
  return latencies?.p95 ?? 0;
}

export function meetsObjective(point: FleetPoint, objective: FleetObjective): boolean {
  const errors = point.rejected + point.failed + point.unfinished;
  return point.offered > 0 && errors <= objective.maxErrorShare * point.offered && objectiveP95(point, objective) <= objective.p95Ms;
}

/** Throughput at the objective and the knee of one policy's sweep (points in any order). */
export function summarizePolicy(policy: FleetPolicy, points: readonly FleetPoint[], objective: FleetObjective): FleetPolicyResult {
  const sorted = [...points].sort((a, b) => a.arrivalRate - b.arrivalRate);
  let best = 0;
  let knee: number | null = null;
  for (let i = 0; i < sorted.length; i++) {
    const point = sorted[i];
    if (meetsObjective(point, objective)) {
      best = Math.max(best, point.throughputQps);
      continue;
    }
    knee = point.arrivalRate;
    const previous = sorted[i - 1];
    const p95 = objectiveP95(point, objective);
    const errors = point.rejected + point.failed + point.unfinished;
    // Interpolate only when the p95 alone failed, finitely: a rejection cliff has no slope to follow.
    if (previous && meetsObjective(previous, objective) && Number.isFinite(p95) && errors <= objective.maxErrorShare * point.offered) {
      const p0 = objectiveP95(previous, objective);
      const f = p95 > p0 ? Math.min(1, Math.max(0, (objective.p95Ms - p0) / (p95 - p0))) : 0;
      knee = previous.arrivalRate + f * (point.arrivalRate - previous.arrivalRate);
      best = Math.max(best, previous.throughputQps + f * (point.throughputQps - previous.throughputQps));
    }
    break;
  }
  return { policy, points: sorted, throughputAtObjective: best, kneeRate: knee };
}

/**
 * Where a policy's sweep crosses the objective: the highest rate that met it below the
 * first that did not (0 when none did) and that first rate; null when every rate met it
 * (the sweep never reached the crossing) or nothing was measured.
 */
export function objectiveBracket(points: readonly FleetPoint[], objective: FleetObjective): { metRate: number; missedRate: number } | null {
  const sorted = [...points].sort((a, b) => a.arrivalRate - b.arrivalRate);
  const firstMiss = sorted.findIndex((point) => !meetsObjective(point, objective));
  if (firstMiss < 0) return null;
  return { metRate: firstMiss > 0 ? sorted[firstMiss - 1].arrivalRate : 0, missedRate: sorted[firstMiss].arrivalRate };
}

/** `policy`'s throughput at the objective over cloud-only's (null when either is missing or cloud-only met it nowhere). */
export function gainOver(results: readonly FleetPolicyResult[], policy: FleetPolicy, baseline: FleetPolicy = 'cloud-only'): number | null {
  const a = results.find((r) => r.policy === policy);
  const b = results.find((r) => r.policy === baseline);
  if (!a || !b || b.throughputAtObjective <= 0) return null;
  return a.throughputAtObjective / b.throughputAtObjective;
}

/**
 * Load-aware against Neurosurgeon at Neurosurgeon's knee: the swept rate nearest above
 * the knee (where Neurosurgeon has just stopped meeting the objective), the throughput
 * ratio and the p95 ratio there.
 */
export function loadAwareAtKnee(results: readonly FleetPolicyResult[], objective: FleetObjective): { arrivalRate: number; throughputRatio: number; p95Ratio: number | null } | null {
  const ns = results.find((r) => r.policy === 'neurosurgeon');
  const la = results.find((r) => r.policy === 'load-aware');
  if (!ns || !la || ns.kneeRate === null) return null;
  const knee = ns.kneeRate;
  const nsPoint = ns.points.find((p) => p.arrivalRate >= knee - 1e-9);
  const laPoint = nsPoint && la.points.find((p) => Math.abs(p.arrivalRate - nsPoint.arrivalRate) < 1e-9);
  if (!nsPoint || !laPoint || nsPoint.throughputQps <= 0) return null;
  const p95 = (p: FleetPoint) => objectiveP95(p, objective);
  const ratio = Number.isFinite(p95(nsPoint)) && Number.isFinite(p95(laPoint)) && p95(nsPoint) > 0 ? p95(laPoint) / p95(nsPoint) : null;
  return { arrivalRate: nsPoint.arrivalRate, throughputRatio: laPoint.throughputQps / nsPoint.throughputQps, p95Ratio: ratio };
}

/** One row per swept arrival rate, a throughput column per policy (absent where not measured): the Throughput view's chart data. */
export function throughputRows(points: readonly FleetPoint[]): ({ arrivalRate: number } & Partial<Record<FleetPolicy, number>>)[] {
  const rows = new Map<number, { arrivalRate: number } & Partial<Record<FleetPolicy, number>>>();
  for (const point of points) {
    const row = rows.get(point.arrivalRate) ?? { arrivalRate: point.arrivalRate };
    row[point.policy] = point.throughputQps;
    rows.set(point.arrivalRate, row);
  }
  return [...rows.values()].sort((a, b) => a.arrivalRate - b.arrivalRate);
}
