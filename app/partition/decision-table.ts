// The decision table an app embeds: the exact uplink bandwidths at which the best
// topological cut changes. Built from a CutTable (cuts.ts) and the cost model (cost.ts)
// without sampling: with x = 1 / uplink, every cut that sends something costs a line
// a + s·x, and device-only costs a constant, so the best cut over a bandwidth range is
// the lower envelope of lines, then compared with device-only by solving a + s·x = constant
// per envelope segment.
//
// Why lines, for energy too: the radio's transmit power α·b + β is charged only while the
// bytes move, for bits / b, so it costs α·bits + β·bits·x; the RTT and the server's compute
// are charged at the waiting power (radio tail + SoC idle), which no bandwidth changes.
// So a = compute·local + waiting·(RTT + K·remote) + α_up·upBits + α_down·downBits and
// s = β·(upBits + downBits / ratio), with no term that grows with the uplink.
//
// Downlink scales with uplink: it keeps the ratio downlinkMbps / uplinkMbps of `options`
// (the network's RTT, radio, device power and server load are held as given).
import { validatePlanOptions, waitingPowerMw } from './cost.js';
import type { CutTable } from './cuts.js';
import type { Objective, PlanOptions } from './types.js';

export interface DecisionRow {
  /** Lower end of the uplink range, Mbps (inclusive). */
  fromMbps: number;
  /** Upper end of the uplink range, Mbps. */
  toMbps: number;
  /** Best topological cut for every uplink in the range. */
  cut: number;
}

export interface DecisionTable {
  rows: DecisionRow[];
}

export interface BandwidthRange {
  minMbps: number;
  maxMbps: number;
}

/** The uplink range covered when none is given: from a poor 3G link to fast Ethernet. */
export const DEFAULT_DECISION_RANGE: Readonly<BandwidthRange> = { minMbps: 0.1, maxMbps: 1000 };

/** Cost of cut k < N as a function of uplink b: intercept + slope / b. */
interface CutLine {
  cut: number;
  intercept: number;
  slope: number;
}

function linesFor(table: CutTable, options: PlanOptions, objective: Objective): { lines: CutLine[]; deviceOnly: number } {
  const { network, radio, device, serverLoad } = options;
  const downlinkRatio = network.downlinkMbps / network.uplinkMbps;
  const rtt = network.rttMs;
  const waitingMw = waitingPowerMw(options);
  const n = table.nodeCount;
  const lines: CutLine[] = [];
  for (let k = 0; k < n; k++) {
    const local = table.localPrefixMs[k];
    const remote = serverLoad * table.remoteSuffixMs[k];
    // Kilobits (bytes × 8 / 1000), so that kilobits / Mbps is ms.
    const upKilobits = (table.uploadBytes[k] * 8) / 1000;
    const downKilobits = (table.downloadBytes[k] * 8) / 1000;
    const transferPerInverseMbps = upKilobits + downKilobits / downlinkRatio;
    if (objective === 'latency') {
      lines.push({ cut: k, intercept: local + remote + rtt, slope: transferPerInverseMbps });
    } else {
      const intercept =
        device.computeMw * local +
        waitingMw * (rtt + remote) +
        radio.uplinkAlphaMwPerMbps * upKilobits +
        radio.downlinkAlphaMwPerMbps * downKilobits;
      lines.push({ cut: k, intercept: intercept / 1000, slope: (radio.betaMw * transferPerInverseMbps) / 1000 });
    }
  }
  const localAll = table.localPrefixMs[n];
  const deviceOnly = objective === 'latency' ? localAll : (device.computeMw * localAll) / 1000;
  return { lines, deviceOnly };
}

/** True when line a is lower than line b at x (ties to the smaller slope, then the smaller cut). */
function lowerAt(a: CutLine, b: CutLine, x: number): boolean {
  const va = a.intercept + a.slope * x;
  const vb = b.intercept + b.slope * x;
  const scale = Math.max(Math.abs(va), Math.abs(vb), Number.MIN_VALUE);
  if (Math.abs(va - vb) > 1e-12 * scale) return va < vb;
  if (a.slope !== b.slope) return a.slope < b.slope;
  return a.cut < b.cut;
}

/** Segments [fromX, toX] of x = 1/uplink with the line lowest there, x ascending. */
function lowerEnvelope(lines: CutLine[], fromX: number, toX: number): { fromX: number; toX: number; line: CutLine }[] {
  // Among lines of equal slope only the lowest matters; dropping the rest keeps the walk short.
  const bySlope = new Map<number, CutLine>();
  for (const line of lines) {
    const kept = bySlope.get(line.slope);
    if (!kept || line.intercept < kept.intercept || (line.intercept === kept.intercept && line.cut < kept.cut)) bySlope.set(line.slope, line);
  }
  const candidates = [...bySlope.values()];
  let current = candidates[0];
  for (const line of candidates) {
    if (lowerAt(line, current, fromX)) current = line;
  }
  const segments: { fromX: number; toX: number; line: CutLine }[] = [];
  let x = fromX;
  for (;;) {
    // As x grows, the lowest line can only give way to one of smaller slope.
    let nextX = Infinity;
    let next: CutLine | null = null;
    for (const line of candidates) {
      if (line.slope >= current.slope) continue;
      const crossing = (line.intercept - current.intercept) / (current.slope - line.slope);
      if (crossing <= x) continue;
      if (crossing < nextX || (crossing === nextX && next !== null && line.slope < next.slope)) {
        nextX = crossing;
        next = line;
      }
    }
    if (next === null || nextX >= toX) {
      segments.push({ fromX: x, toX, line: current });
      return segments;
    }
    segments.push({ fromX: x, toX: nextX, line: current });
    x = nextX;
    current = next;
  }
}

/** The uplink b in (lo, hi) where intercept + slope / b equals `level`, if there is one. */
function crossingWithConstant(line: CutLine, level: number, lo: number, hi: number): number[] {
  if (line.intercept === level) return [];
  const root = line.slope / (level - line.intercept);
  return Number.isFinite(root) && root > lo && root < hi ? [root] : [];
}

/**
 * The best cut per uplink range for `objective`, rows ascending in bandwidth and adjacent
 * rows with different cuts. Exact up to float rounding at the breakpoints.
 */
export function decisionTable(
  table: CutTable,
  options: PlanOptions,
  range: BandwidthRange = DEFAULT_DECISION_RANGE,
  objective: Objective = 'latency'
): DecisionTable {
  validatePlanOptions(options);
  if (!(Number.isFinite(range.minMbps) && Number.isFinite(range.maxMbps) && range.minMbps > 0 && range.maxMbps > range.minMbps)) {
    throw new RangeError(`the bandwidth range must satisfy 0 < minMbps < maxMbps, got ${range.minMbps}..${range.maxMbps}`);
  }
  const n = table.nodeCount;
  const { lines, deviceOnly } = linesFor(table, options, objective);
  if (lines.length === 0) return { rows: [{ fromMbps: range.minMbps, toMbps: range.maxMbps, cut: n }] };

  const rows: DecisionRow[] = [];
  const push = (fromMbps: number, toMbps: number, cut: number): void => {
    if (toMbps <= fromMbps) return;
    const last = rows[rows.length - 1];
    if (last && last.cut === cut) last.toMbps = toMbps;
    else rows.push({ fromMbps, toMbps, cut });
  };
  const costAt = (line: CutLine, mbps: number): number => line.intercept + line.slope / mbps;
  // Envelope in x = 1/b ascending is bandwidth descending; walk it backwards.
  const segments = lowerEnvelope(lines, 1 / range.maxMbps, 1 / range.minMbps);
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i];
    const lo = i === segments.length - 1 ? range.minMbps : 1 / segment.toX;
    const hi = i === 0 ? range.maxMbps : 1 / segment.fromX;
    const points = [lo, ...crossingWithConstant(segment.line, deviceOnly, lo, hi), hi];
    for (let p = 0; p + 1 < points.length; p++) {
      const mid = (points[p] + points[p + 1]) / 2;
      // Device-only must be strictly better: ties go to the smaller cut, as planCuts does.
      const cost = costAt(segment.line, mid);
      const deviceWins = deviceOnly < cost - 1e-12 * Math.abs(cost);
      push(points[p], points[p + 1], deviceWins ? n : segment.line.cut);
    }
  }
  return { rows };
}

/** The cut the table chooses at `uplinkMbps` (clamped to the table's range). */
export function cutForBandwidth(decision: DecisionTable, uplinkMbps: number): number {
  const rows = decision.rows;
  for (const row of rows) {
    if (uplinkMbps < row.toMbps) return row.cut;
  }
  return rows[rows.length - 1].cut;
}
