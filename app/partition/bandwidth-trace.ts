// Bandwidth traces (the paper's Figure 14: the split adapting as LTE bandwidth changes):
// a CSV of time and uplink (optionally downlink) bandwidth is parsed here, then replayed
// against a CutTable (cuts.ts) — at each point the best cut is re-chosen, as Neurosurgeon
// does at run time, and its latency is set beside cloud-only's. A point without a downlink
// keeps the downlink/uplink ratio of the options, as decision-table.ts does.
//
// CSV format: one point per line, `time_s,uplink_mbps[,downlink_mbps]`, time strictly
// increasing; an optional header line (any line whose first field is not a number, first
// line only); blank lines and lines starting with '#' are skipped.
import { planCuts, type CutTable } from './cuts.js';
import type { Objective, PlanOptions } from './types.js';

export interface BandwidthPoint {
  tSeconds: number;
  uplinkMbps: number;
  downlinkMbps?: number;
}

export interface BandwidthTrace {
  points: BandwidthPoint[];
}

export interface ReplayPoint {
  tSeconds: number;
  /** The cut chosen for this point's bandwidth. */
  cut: number;
  /** End-to-end latency of the chosen cut, ms. */
  totalMs: number;
  /** Latency of cloud-only (cut 0) at the same point, ms. */
  cloudOnlyMs: number;
}

export class BandwidthTraceError extends Error {
  override name = 'BandwidthTraceError';
}

function parseField(text: string, what: string, lineNumber: number): number {
  const trimmed = text.trim();
  const value = trimmed === '' ? NaN : Number(trimmed);
  if (!Number.isFinite(value)) throw new BandwidthTraceError(`bandwidth trace line ${lineNumber}: ${what} "${trimmed}" is not a number`);
  return value;
}

export function parseBandwidthTrace(csv: string): BandwidthTrace {
  const points: BandwidthPoint[] = [];
  const lines = csv.split(/\r?\n/);
  let sawContent = false;
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    const line = lines[index].trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(',');
    const isFirstContent = !sawContent;
    sawContent = true;
    if (isFirstContent && !Number.isFinite(Number(fields[0].trim()))) continue;
    if (fields.length < 2 || fields.length > 3) {
      throw new BandwidthTraceError(`bandwidth trace line ${lineNumber}: expected time_s,uplink_mbps[,downlink_mbps], got ${fields.length} fields`);
    }
    const tSeconds = parseField(fields[0], 'time', lineNumber);
    const uplinkMbps = parseField(fields[1], 'uplink', lineNumber);
    if (tSeconds < 0) throw new BandwidthTraceError(`bandwidth trace line ${lineNumber}: time ${tSeconds} is negative`);
    if (uplinkMbps <= 0) throw new BandwidthTraceError(`bandwidth trace line ${lineNumber}: uplink ${uplinkMbps} Mbps must be > 0`);
    const previous = points[points.length - 1];
    if (previous && tSeconds <= previous.tSeconds) {
      throw new BandwidthTraceError(`bandwidth trace line ${lineNumber}: time ${tSeconds} does not increase (previous ${previous.tSeconds})`);
    }
    const point: BandwidthPoint = { tSeconds, uplinkMbps };
    if (fields.length === 3 && fields[2].trim() !== '') {
      const downlinkMbps = parseField(fields[2], 'downlink', lineNumber);
      if (downlinkMbps <= 0) throw new BandwidthTraceError(`bandwidth trace line ${lineNumber}: downlink ${downlinkMbps} Mbps must be > 0`);
      point.downlinkMbps = downlinkMbps;
    }
    points.push(point);
  }
  if (points.length === 0) throw new BandwidthTraceError('bandwidth trace has no data lines (expected time_s,uplink_mbps[,downlink_mbps])');
  return { points };
}

/** Plan options for one trace point: its bandwidths, everything else from `options`. */
export function optionsAtPoint(options: PlanOptions, point: BandwidthPoint): PlanOptions {
  const ratio = options.network.downlinkMbps / options.network.uplinkMbps;
  return {
    ...options,
    network: {
      ...options.network,
      uplinkMbps: point.uplinkMbps,
      downlinkMbps: point.downlinkMbps ?? point.uplinkMbps * ratio
    }
  };
}

export function replayTrace(table: CutTable, options: PlanOptions, trace: BandwidthTrace, objective: Objective): ReplayPoint[] {
  return trace.points.map((point) => {
    const plan = planCuts(table, optionsAtPoint(options, point));
    const cut = plan.best[objective];
    return { tSeconds: point.tSeconds, cut, totalMs: plan.cuts[cut].totalMs, cloudOnlyMs: plan.cuts[0].totalMs };
  });
}
