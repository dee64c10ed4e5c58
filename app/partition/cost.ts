// The cost model every optimiser shares (topological cuts in cuts.ts, DAG min-cut in
// dag.ts, the decision table in decision-table.ts, brute force in tests): given what a
// partition runs where and what it ships, the end-to-end latency and the device's energy.
// One formula, one place; the power states it charges are described in power.ts.
//
// A partition is the set L of nodes run on the device, closed under predecessors.
//   localMs    = Σ localMs over L
//   remoteMs   = K × Σ remoteMs over the nodes not in L              (K = serverLoad)
//   uploaded   = tensors produced on the device (producer in L, or a model input) and
//                consumed by at least one remote node, each counted once
//   downloaded = graph outputs produced by a remote node
//   If some node is remote:
//     sendMs     = uploadBytes × 8 / (uplinkMbps × 1000)      (bytes moving up)
//     receiveMs  = downloadBytes × 8 / (downlinkMbps × 1000)  (bytes moving down)
//     uploadMs   = sendMs + rttMs / 2
//     downloadMs = receiveMs + rttMs / 2
//   If every node is local, nothing crosses and all of these are 0.
//   totalMs  = localMs + uploadMs + remoteMs + downloadMs
//   energyMJ = (computeMw × localMs + P_up × sendMs + P_down × receiveMs
//               + (tailMw + idleMw) × (rttMs + remoteMs)) / 1000      (rttMs only if some node is remote)
//   with P_up = uplinkAlpha × uplinkMbps + beta and P_down = downlinkAlpha × downlinkMbps
//   + beta (Huang et al., MobiSys 2012) charged only while bytes move, and the radio's
//   tail (connected, idle) power plus the SoC's idle power while the device waits: the
//   two RTT halves and the server's compute. So P × time = alpha × bits + beta × time:
//   a faster link never costs more energy.
import type { CutCost, Objective, PlanOptions } from './types.js';

/**
 * Two costs closer than this (relative) count as a tie, so float noise from prefix sums
 * cannot make a larger cut win over a mathematically equal smaller one.
 */
export const TIE_TOLERANCE = 1e-12;

/** Milliseconds to send `bytes` at `mbps` megabits per second, without latency. */
export function transferMs(bytes: number, mbps: number): number {
  return (bytes * 8) / (mbps * 1000);
}

export function uplinkPowerMw(options: PlanOptions): number {
  return options.radio.uplinkAlphaMwPerMbps * options.network.uplinkMbps + options.radio.betaMw;
}

export function downlinkPowerMw(options: PlanOptions): number {
  return options.radio.downlinkAlphaMwPerMbps * options.network.downlinkMbps + options.radio.betaMw;
}

/** The device's draw while it waits with nothing moving: radio tail plus SoC idle, mW. */
export function waitingPowerMw(options: PlanOptions): number {
  return options.radio.tailMw + options.device.idleMw;
}

/** The raw facts of one partition, before the network and power turn them into costs. */
export interface PartitionFacts {
  /** Number of local nodes (the cut index for topological cuts). */
  cut: number;
  localMs: number;
  /** Σ remoteMs of the remote nodes, not yet multiplied by the server load. */
  unscaledRemoteMs: number;
  uploadBytes: number;
  downloadBytes: number;
  /** False when every node runs on the device. */
  anyRemote: boolean;
}

export function costOfPartition(facts: PartitionFacts, options: PlanOptions): CutCost {
  const { network, device } = options;
  const rttMs = facts.anyRemote ? network.rttMs : 0;
  const uploadBytes = facts.anyRemote ? facts.uploadBytes : 0;
  const downloadBytes = facts.anyRemote ? facts.downloadBytes : 0;
  const sendMs = facts.anyRemote ? transferMs(uploadBytes, network.uplinkMbps) : 0;
  const receiveMs = facts.anyRemote ? transferMs(downloadBytes, network.downlinkMbps) : 0;
  const remoteMs = options.serverLoad * facts.unscaledRemoteMs;
  const localMs = facts.localMs;
  const uploadMs = sendMs + rttMs / 2;
  const downloadMs = receiveMs + rttMs / 2;
  return {
    cut: facts.cut,
    uploadBytes,
    downloadBytes,
    localMs,
    uploadMs,
    remoteMs,
    downloadMs,
    totalMs: localMs + uploadMs + remoteMs + downloadMs,
    energyMJ:
      (device.computeMw * localMs +
        uplinkPowerMw(options) * sendMs +
        downlinkPowerMw(options) * receiveMs +
        waitingPowerMw(options) * (rttMs + remoteMs)) /
      1000
  };
}

export function objectiveValue(cost: CutCost, objective: Objective): number {
  return objective === 'latency' ? cost.totalMs : cost.energyMJ;
}

/** True when `candidate` beats `incumbent` by more than float noise. */
export function isStrictlyBetter(candidate: number, incumbent: number): boolean {
  return candidate < incumbent - TIE_TOLERANCE * Math.abs(incumbent);
}

/** Throws a RangeError naming the first value that makes the plan options meaningless. */
export function validatePlanOptions(options: PlanOptions): void {
  const checks: [string, number, boolean][] = [
    ['network.uplinkMbps', options.network.uplinkMbps, true],
    ['network.downlinkMbps', options.network.downlinkMbps, true],
    ['network.rttMs', options.network.rttMs, false],
    ['radio.uplinkAlphaMwPerMbps', options.radio.uplinkAlphaMwPerMbps, false],
    ['radio.downlinkAlphaMwPerMbps', options.radio.downlinkAlphaMwPerMbps, false],
    ['radio.betaMw', options.radio.betaMw, false],
    ['radio.tailMw', options.radio.tailMw, false],
    ['device.computeMw', options.device.computeMw, false],
    ['device.idleMw', options.device.idleMw, false],
    ['serverLoad', options.serverLoad, false]
  ];
  for (const [field, value, mustBePositive] of checks) {
    const valid = Number.isFinite(value) && (mustBePositive ? value > 0 : value >= 0);
    if (!valid) {
      throw new RangeError(`${field} must be a finite number ${mustBePositive ? '> 0' : '>= 0'}, got ${value}`);
    }
  }
}
