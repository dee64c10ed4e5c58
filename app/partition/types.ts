// The partition problem in the engine's own terms, independent of ONNX: nodes with a
// local and a remote latency, tensors with a size, a producer and consumers. Built from
// a model's analysis plus a latency profile (estimated, measured or predicted) by
// app/engine.ts; the optimisers (topological cuts and DAG min-cut) work on it alone.

export interface PartitionNode {
  name: string;
  /** Latency of this node on the device, ms. */
  localMs: number;
  /** Latency on the server at no load, ms (the optimiser multiplies by the load factor K). */
  remoteMs: number;
}

export interface PartitionTensor {
  name: string;
  bytes: number;
  /** Index of the producing node, or -1 for a model input (which starts on the device). */
  producer: number;
  /** Indices of the consuming nodes, ascending. */
  consumers: number[];
  /** True when the tensor is a model output (it must end up on the device). */
  isGraphOutput: boolean;
}

export interface PartitionProblem {
  /** Nodes in topological order. */
  nodes: PartitionNode[];
  tensors: PartitionTensor[];
}

export interface NetworkConditions {
  name: string;
  uplinkMbps: number;
  downlinkMbps: number;
  rttMs: number;
}

/**
 * The radio's power (Huang et al., MobiSys 2012). While bytes move: P = alpha × throughput
 * (Mbps) + beta. While connected but moving nothing (the RTT halves, the server's compute):
 * the tail (active-idle) power. The power states and when each is charged: power.ts.
 */
export interface RadioPowerModel {
  uplinkAlphaMwPerMbps: number;
  downlinkAlphaMwPerMbps: number;
  betaMw: number;
  /** Power while connected but idle (LTE RRC_CONNECTED tail, 3G DCH tail, Wi-Fi tail), mW. */
  tailMw: number;
}

export interface DevicePower {
  /** Power drawn by the device while it computes, mW. */
  computeMw: number;
  /** SoC power while it waits for the network and the server (the radio's own draw apart), mW. */
  idleMw: number;
}

export interface PlanOptions {
  network: NetworkConditions;
  radio: RadioPowerModel;
  device: DevicePower;
  /** Server load factor K: remote latency is multiplied by it. */
  serverLoad: number;
}

export interface CutCost {
  /** Number of nodes (in topological order) run on the device. */
  cut: number;
  uploadBytes: number;
  downloadBytes: number;
  localMs: number;
  uploadMs: number;
  remoteMs: number;
  downloadMs: number;
  totalMs: number;
  /** Device energy, millijoules. */
  energyMJ: number;
}

export type Objective = 'latency' | 'energy';
