// How each fleet client chooses its cut (app/fleet/types.ts). Neurosurgeon: the best cut
// for the client's own link at an idle server (K = 1), from the planner of app/partition.
// Load-aware: the best cut for the server-load factor K the executor reports now — the
// planner is run once per rung of a ladder of K values, so a query's choice is a lookup,
// and the cuts a client can take (the tails the executor must hold) are known up front.
import { planCuts, type CutTable } from '../partition/cuts.js';
import type { PlanOptions } from '../partition/types.js';
import type { FleetPolicy } from './types.js';

/** The K values the load-aware policy plans for; a load between two rungs uses the lower one. */
export const LOAD_LADDER: readonly number[] = [1, 1.5, 2, 3, 5, 8];

/** The best cut (latency objective) at each rung of the ladder. */
export interface LoadLadder {
  rungs: { k: number; cut: number }[];
  nodeCount: number;
}

export function buildLoadLadder(table: CutTable, options: PlanOptions, ladder: readonly number[] = LOAD_LADDER): LoadLadder {
  const rungs = ladder.map((k) => ({ k, cut: planCuts(table, { ...options, serverLoad: k }).best.latency }));
  return { rungs, nodeCount: table.nodeCount };
}

/** The cut a policy takes when the executor reports load factor `k`. */
export function chooseCut(policy: FleetPolicy, ladder: LoadLadder, k: number): number {
  if (policy === 'cloud-only') return 0;
  if (policy === 'neurosurgeon') return ladder.rungs[0].cut;
  let cut = ladder.rungs[0].cut;
  for (const rung of ladder.rungs) if (k >= rung.k) cut = rung.cut;
  return cut;
}

/** Every cut a policy may take with this ladder (the tails the executor must serve; nodeCount needs none). */
export function cutsOf(policy: FleetPolicy, ladder: LoadLadder): number[] {
  if (policy === 'cloud-only') return [0];
  if (policy === 'neurosurgeon') return [ladder.rungs[0].cut];
  return [...new Set(ladder.rungs.map((r) => r.cut))].sort((a, b) => a - b);
}

/** The same cut table for a device `factor`× slower (or faster, below 1) than the one it was built for. */
export function withDeviceScaled(table: CutTable, factor: number): CutTable {
  return { ...table, localPrefixMs: table.localPrefixMs.map((ms) => ms * factor) };
}

/**
 * Server work per query of a policy at K = 1, relative to cloud-only's, over a set of
 * clients (each a cut table and a link): the throughput gain the planner predicts when the
 * server's capacity is its only limit (> 1: Neurosurgeon leaves the server less to do).
 */
export function predictedGain(clients: readonly { table: CutTable; options: PlanOptions }[]): number {
  let cloud = 0;
  let split = 0;
  for (const { table, options } of clients) {
    cloud += table.remoteSuffixMs[0];
    split += table.remoteSuffixMs[planCuts(table, { ...options, serverLoad: 1 }).best.latency];
  }
  return split > 0 ? cloud / split : Infinity;
}
