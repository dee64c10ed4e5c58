// The optimal partition of a DAG, over every predecessor-closed device set rather than
// topological prefixes only, by a minimum s-t cut (DADS, Hu et al., INFOCOM 2019) on
// maxflow.ts. The cost of the chosen set is then re-evaluated exactly by cuts.ts, so the
// breakdown matches the topological planner's to the last bit.
//
// Construction (source side = device, sink side = server; a cut pays the edges that go
// from the source side to the sink side):
//   s → v   remote cost of v (K × remoteMs) plus the download of every graph output v
//           produces: paid when v is on the server;
//   v → t   local cost of v: paid when v is on the device;
//   tensor produced by u (or by s for a model input) with one consumer c: u → c carrying
//           its upload cost; with several consumers, u → aux carrying it once and
//           aux → c (∞) for each consumer, so it is paid once however many consumers
//           sit on the server;
//   c → u   ∞ for every consumer c of u's tensors: a local consumer forces a local
//           producer (predecessor closure).
// Latency capacities are ms; energy capacities are mJ, the terms of cost.ts's formula
// split per node and tensor: compute power × local ms, waiting power (radio tail + SoC
// idle) × K × remote ms, transmit/receive power × the bytes' transfer ms. The RTT (both
// halves, and for energy its waiting power × RTT) is a constant paid whenever anything is
// remote, so the min cut is compared with device-only afterwards.
import { downlinkPowerMw, isStrictlyBetter, objectiveValue, transferMs, uplinkPowerMw, validatePlanOptions, waitingPowerMw } from './cost.js';
import { evaluatePartition, validateProblem } from './cuts.js';
import { FlowNetwork } from './maxflow.js';
import type { CutCost, Objective, PartitionProblem, PlanOptions } from './types.js';

export interface DagPartition {
  objective: Objective;
  /** Indices of the nodes run on the device, ascending. */
  localNodes: number[];
  /** The partition's cost; `cut` is the number of local nodes. */
  cost: CutCost;
  /** cost.totalMs for 'latency', cost.energyMJ for 'energy'. */
  objectiveValue: number;
}

interface EdgeCosts {
  /** Paid per node when it runs locally. */
  local: (localMs: number) => number;
  /** Paid per node when it runs remotely (remoteMs before the load factor). */
  remote: (remoteMs: number) => number;
  upload: (bytes: number) => number;
  download: (bytes: number) => number;
}

function edgeCostsFor(options: PlanOptions, objective: Objective): EdgeCosts {
  const { network, device, serverLoad } = options;
  if (objective === 'latency') {
    return {
      local: (ms) => ms,
      remote: (ms) => serverLoad * ms,
      upload: (bytes) => transferMs(bytes, network.uplinkMbps),
      download: (bytes) => transferMs(bytes, network.downlinkMbps)
    };
  }
  const uplinkMw = uplinkPowerMw(options);
  const downlinkMw = downlinkPowerMw(options);
  const waitingMw = waitingPowerMw(options);
  return {
    local: (ms) => (device.computeMw * ms) / 1000,
    remote: (ms) => (waitingMw * serverLoad * ms) / 1000,
    upload: (bytes) => (uplinkMw * transferMs(bytes, network.uplinkMbps)) / 1000,
    download: (bytes) => (downlinkMw * transferMs(bytes, network.downlinkMbps)) / 1000
  };
}

/** The predecessor-closed device set with the lowest latency or energy, by min s-t cut. */
export function optimalDagPartition(problem: PartitionProblem, options: PlanOptions, objective: Objective): DagPartition {
  validateProblem(problem);
  validatePlanOptions(options);
  const nodeCount = problem.nodes.length;
  const allLocal = Array.from({ length: nodeCount }, (_, index) => index);
  const deviceOnly = result(problem, allLocal, options, objective);
  if (nodeCount === 0) return deviceOnly;

  const costs = edgeCostsFor(options, objective);
  const auxiliaryCount = problem.tensors.filter((tensor) => tensor.consumers.length > 1).length;
  const source = nodeCount + auxiliaryCount;
  const sink = source + 1;
  const consumerEdges = problem.tensors.reduce((sum, tensor) => sum + tensor.consumers.length, 0);
  const network = new FlowNetwork(sink + 1, 2 * nodeCount + 2 * consumerEdges + auxiliaryCount);

  const costIfRemote = problem.nodes.map((node) => costs.remote(node.remoteMs));
  for (const tensor of problem.tensors) {
    if (tensor.isGraphOutput && tensor.producer >= 0) costIfRemote[tensor.producer] += costs.download(tensor.bytes);
  }
  problem.nodes.forEach((node, index) => {
    network.addEdge(source, index, costIfRemote[index]);
    network.addEdge(index, sink, costs.local(node.localMs));
  });

  let nextAuxiliary = nodeCount;
  for (const tensor of problem.tensors) {
    if (tensor.consumers.length === 0) continue;
    const producer = tensor.producer < 0 ? source : tensor.producer;
    const upload = costs.upload(tensor.bytes);
    if (tensor.consumers.length === 1) {
      network.addEdge(producer, tensor.consumers[0], upload);
    } else {
      const auxiliary = nextAuxiliary++;
      network.addEdge(producer, auxiliary, upload);
      for (const consumer of tensor.consumers) network.addEdge(auxiliary, consumer, Infinity);
    }
    if (producer !== source) {
      for (const consumer of tensor.consumers) network.addEdge(consumer, producer, Infinity);
    }
  }

  const { sourceSide } = network.minimumCut(source, sink);
  const localNodes = allLocal.filter((index) => sourceSide[index] === 1);
  if (localNodes.length === nodeCount) return deviceOnly;
  const split = result(problem, localNodes, options, objective);
  return isStrictlyBetter(deviceOnly.objectiveValue, split.objectiveValue) ? deviceOnly : split;
}

function result(problem: PartitionProblem, localNodes: number[], options: PlanOptions, objective: Objective): DagPartition {
  const cost = evaluatePartition(problem, localNodes, options);
  return { objective, localNodes, cost, objectiveValue: objectiveValue(cost, objective) };
}
