// Topological cuts, the Neurosurgeon search: cut k runs nodes 0..k-1 on the device and
// the rest on the server (k = 0 is cloud-only, k = N device-only). Everything about a
// problem that does not depend on the network, power or load is folded once into a
// CutTable, so re-planning after a bandwidth or load change is O(N) arithmetic on typed
// arrays. Also here: the cost of any predecessor-closed set (for dag.ts and brute force)
// and which tensors cross a given cut (for display and the partition config).
// The cost model itself lives in cost.ts.
import { costOfPartition, isStrictlyBetter, validatePlanOptions } from './cost.js';
import type { CutCost, Objective, PartitionProblem, PlanOptions } from './types.js';

/** Per cut k (index 0..N), the facts that do not depend on the plan options. */
export interface CutTable {
  nodeCount: number;
  /** Σ localMs of nodes 0..k-1. */
  localPrefixMs: Float64Array;
  /** Σ remoteMs of nodes k..N-1, not multiplied by the server load. */
  remoteSuffixMs: Float64Array;
  uploadBytes: Float64Array;
  downloadBytes: Float64Array;
}

export interface CutPlan {
  /** cuts[k] is the cost of cut k, for k = 0..N. */
  cuts: CutCost[];
  /** The best cut index per objective; ties go to the smaller index (less local work). */
  best: Record<Objective, number>;
}

export interface CrossingTensors {
  uploaded: string[];
  downloaded: string[];
}

/** Throws a RangeError naming the first node or tensor that breaks the problem's invariants. */
export function validateProblem(problem: PartitionProblem): void {
  const nodeCount = problem.nodes.length;
  for (const node of problem.nodes) {
    if (!(Number.isFinite(node.localMs) && node.localMs >= 0 && Number.isFinite(node.remoteMs) && node.remoteMs >= 0)) {
      throw new RangeError(`node ${node.name}: latencies must be finite and >= 0 (local ${node.localMs}, remote ${node.remoteMs})`);
    }
  }
  for (const tensor of problem.tensors) {
    if (!(Number.isFinite(tensor.bytes) && tensor.bytes >= 0)) {
      throw new RangeError(`tensor ${tensor.name}: bytes must be finite and >= 0, got ${tensor.bytes}`);
    }
    if (!Number.isInteger(tensor.producer) || tensor.producer < -1 || tensor.producer >= nodeCount) {
      throw new RangeError(`tensor ${tensor.name}: producer ${tensor.producer} is not a node index or -1`);
    }
    for (const consumer of tensor.consumers) {
      if (!Number.isInteger(consumer) || consumer <= tensor.producer || consumer >= nodeCount) {
        throw new RangeError(
          `tensor ${tensor.name}: consumer ${consumer} must be a node index after its producer ${tensor.producer} (nodes are in topological order)`
        );
      }
    }
  }
}

function lastConsumer(consumers: readonly number[]): number {
  let last = -1;
  for (const consumer of consumers) if (consumer > last) last = consumer;
  return last;
}

/**
 * O(N + T + Σ consumers). A tensor produced by p (-1 for a model input) whose last
 * consumer is c is uploaded for p < k ≤ c; a graph output produced by p is downloaded
 * for k ≤ p. Both ranges go into difference arrays, summed once at the end.
 */
export function buildCutTable(problem: PartitionProblem): CutTable {
  validateProblem(problem);
  const nodeCount = problem.nodes.length;
  const localPrefixMs = new Float64Array(nodeCount + 1);
  const remoteSuffixMs = new Float64Array(nodeCount + 1);
  for (let i = 0; i < nodeCount; i++) localPrefixMs[i + 1] = localPrefixMs[i] + problem.nodes[i].localMs;
  for (let i = nodeCount - 1; i >= 0; i--) remoteSuffixMs[i] = remoteSuffixMs[i + 1] + problem.nodes[i].remoteMs;

  const uploadBytes = new Float64Array(nodeCount + 1);
  const downloadBytes = new Float64Array(nodeCount + 1);
  for (const tensor of problem.tensors) {
    const producer = tensor.producer;
    const last = lastConsumer(tensor.consumers);
    if (last > producer) {
      uploadBytes[producer + 1] += tensor.bytes;
      uploadBytes[last + 1] -= tensor.bytes;
    }
    if (tensor.isGraphOutput && producer >= 0) {
      downloadBytes[0] += tensor.bytes;
      downloadBytes[producer + 1] -= tensor.bytes;
    }
  }
  for (let k = 1; k <= nodeCount; k++) {
    uploadBytes[k] += uploadBytes[k - 1];
    downloadBytes[k] += downloadBytes[k - 1];
  }
  return {
    nodeCount,
    localPrefixMs,
    remoteSuffixMs,
    uploadBytes,
    downloadBytes
  };
}

export function costOfCut(table: CutTable, cut: number, options: PlanOptions): CutCost {
  if (!Number.isInteger(cut) || cut < 0 || cut > table.nodeCount) {
    throw new RangeError(`cut ${cut} is outside 0..${table.nodeCount}`);
  }
  return costOfPartition(
    {
      cut,
      localMs: table.localPrefixMs[cut],
      unscaledRemoteMs: table.remoteSuffixMs[cut],
      uploadBytes: table.uploadBytes[cut],
      downloadBytes: table.downloadBytes[cut],
      anyRemote: cut < table.nodeCount
    },
    options
  );
}

/** The cost of every topological cut and the best one per objective: O(N), table reused. */
export function planCuts(table: CutTable, options: PlanOptions): CutPlan {
  validatePlanOptions(options);
  const cuts: CutCost[] = new Array<CutCost>(table.nodeCount + 1);
  let bestLatency = 0;
  let bestEnergy = 0;
  for (let k = 0; k <= table.nodeCount; k++) {
    const cost = costOfCut(table, k, options);
    cuts[k] = cost;
    if (isStrictlyBetter(cost.totalMs, cuts[bestLatency].totalMs)) bestLatency = k;
    if (isStrictlyBetter(cost.energyMJ, cuts[bestEnergy].energyMJ)) bestEnergy = k;
  }
  return { cuts, best: { latency: bestLatency, energy: bestEnergy } };
}

/** Names of the tensors that cross topological cut k, in problem order. */
export function crossingTensors(problem: PartitionProblem, cut: number): CrossingTensors {
  if (!Number.isInteger(cut) || cut < 0 || cut > problem.nodes.length) {
    throw new RangeError(`cut ${cut} is outside 0..${problem.nodes.length}`);
  }
  const isLocal = new Uint8Array(problem.nodes.length);
  isLocal.fill(1, 0, cut);
  return crossingTensorsOf(problem, isLocal);
}

/** Names of the tensors that cross the partition whose device side is `isLocal`. */
export function crossingTensorsOf(problem: PartitionProblem, isLocal: Uint8Array): CrossingTensors {
  const uploaded: string[] = [];
  const downloaded: string[] = [];
  for (const tensor of problem.tensors) {
    const producedLocally = tensor.producer < 0 || isLocal[tensor.producer] !== 0;
    if (producedLocally && tensor.consumers.some((consumer) => isLocal[consumer] === 0)) uploaded.push(tensor.name);
    if (tensor.isGraphOutput && !producedLocally) downloaded.push(tensor.name);
  }
  return { uploaded, downloaded };
}

/** A 0/1 mask over the nodes from a list of local node indices (a mask is checked and passed through). */
export function localMask(problem: PartitionProblem, localNodes: Iterable<number> | Uint8Array): Uint8Array {
  if (localNodes instanceof Uint8Array) {
    if (localNodes.length !== problem.nodes.length) {
      throw new RangeError(`local mask has ${localNodes.length} entries for ${problem.nodes.length} nodes`);
    }
    return localNodes;
  }
  const isLocal = new Uint8Array(problem.nodes.length);
  for (const node of localNodes) {
    if (!Number.isInteger(node) || node < 0 || node >= problem.nodes.length) {
      throw new RangeError(`local node ${node} is outside 0..${problem.nodes.length - 1}`);
    }
    isLocal[node] = 1;
  }
  return isLocal;
}

/** True when every producer of a local node's input is local too. */
export function isPredecessorClosed(problem: PartitionProblem, localNodes: Iterable<number> | Uint8Array): boolean {
  const isLocal = localMask(problem, localNodes);
  for (const tensor of problem.tensors) {
    if (tensor.producer < 0 || isLocal[tensor.producer] !== 0) continue;
    if (tensor.consumers.some((consumer) => isLocal[consumer] !== 0)) return false;
  }
  return true;
}

/**
 * The cost of an arbitrary predecessor-closed device set, O(N + Σ consumers); `cut` in
 * the result is the number of local nodes. Throws when the set is not closed.
 */
export function evaluatePartition(
  problem: PartitionProblem,
  localNodes: Iterable<number> | Uint8Array,
  options: PlanOptions
): CutCost {
  const isLocal = localMask(problem, localNodes);
  if (!isPredecessorClosed(problem, isLocal)) {
    throw new RangeError('the local node set is not closed under predecessors: a local node reads a tensor produced on the server');
  }
  let localCount = 0;
  let localMs = 0;
  let unscaledRemoteMs = 0;
  problem.nodes.forEach((node, index) => {
    if (isLocal[index] !== 0) {
      localCount++;
      localMs += node.localMs;
    } else {
      unscaledRemoteMs += node.remoteMs;
    }
  });
  let uploadBytes = 0;
  let downloadBytes = 0;
  for (const tensor of problem.tensors) {
    const producedLocally = tensor.producer < 0 || isLocal[tensor.producer] !== 0;
    if (producedLocally && tensor.consumers.some((consumer) => isLocal[consumer] === 0)) uploadBytes += tensor.bytes;
    if (tensor.isGraphOutput && !producedLocally) downloadBytes += tensor.bytes;
  }
  return costOfPartition(
    { cut: localCount, localMs, unscaledRemoteMs, uploadBytes, downloadBytes, anyRemote: localCount < problem.nodes.length },
    options
  );
}

/** A node and every node it depends on, transitively: the smallest predecessor-closed set holding it. */
export function predecessorClosure(problem: PartitionProblem, node: number): Set<number> {
  const producersOf: number[][] = problem.nodes.map(() => []);
  for (const tensor of problem.tensors) for (const consumer of tensor.consumers) if (tensor.producer >= 0) producersOf[consumer].push(tensor.producer);
  const found = new Set<number>();
  const pending = [node];
  while (pending.length > 0) {
    const next = pending.pop() as number;
    if (found.has(next)) continue;
    found.add(next);
    pending.push(...producersOf[next]);
  }
  return found;
}
