// Where the engine's parts meet: a model's analysis (app/analysis) plus a latency
// profile becomes the ONNX-free PartitionProblem the optimisers in app/partition work on,
// and a first latency profile can be estimated from the analysis alone until measured
// or predicted ones exist. main/ (CLI, studio) and the renderer call these.
import type { ModelAnalysis, TensorFacts } from './analysis/types.js';
import { estimateLayerMs, hardwarePreset } from './partition/estimate.js';
import type { HardwareProfile } from './partition/estimate.js';
import type { PartitionProblem, PartitionTensor } from './partition/types.js';

export interface LatencyProfile {
  /** Per layer, in analysis order: latency on the device, ms. */
  localMs: number[];
  /** Per layer: latency on an unloaded server, ms. */
  remoteMs: number[];
}

export interface BuiltPartitionProblem extends PartitionProblem {
  /** Tensors whose size the analysis could not settle: they count as 0 bytes. */
  unknownSizeTensors: string[];
}

export class PartitionProblemError extends Error {
  override name = 'PartitionProblemError';
}

/**
 * Nodes are the analysis's layers (in their topological order); tensors are the model
 * inputs and every node output, with producer and consumers. Initializers (names neither
 * a model input nor produced by a node) are weights, not traffic, and are left out.
 */
export function buildPartitionProblem(analysis: ModelAnalysis, latencies: LatencyProfile): BuiltPartitionProblem {
  const layerCount = analysis.layers.length;
  if (latencies.localMs.length !== layerCount || latencies.remoteMs.length !== layerCount) {
    throw new PartitionProblemError(
      `latency profile has ${latencies.localMs.length} local and ${latencies.remoteMs.length} remote entries for ${layerCount} layers`
    );
  }
  const graphOutputs = new Set(analysis.outputs.map((output) => output.name));
  const tensors: PartitionTensor[] = [];
  const tensorIndexByName = new Map<string, number>();
  const unknownSizeTensors: string[] = [];
  const addTensor = (facts: TensorFacts, producer: number): void => {
    if (facts.name === '') return;
    if (tensorIndexByName.has(facts.name)) {
      throw new PartitionProblemError(`tensor ${facts.name} is produced twice (by a model input or another node)`);
    }
    if (facts.bytes === null) unknownSizeTensors.push(facts.name);
    tensorIndexByName.set(facts.name, tensors.length);
    tensors.push({ name: facts.name, bytes: facts.bytes ?? 0, producer, consumers: [], isGraphOutput: graphOutputs.has(facts.name) });
  };
  for (const input of analysis.inputs) addTensor(input, -1);
  analysis.layers.forEach((layer, index) => layer.outputs.forEach((output) => addTensor(output, index)));

  analysis.layers.forEach((layer, index) => {
    for (const name of layer.inputs) {
      const tensorIndex = tensorIndexByName.get(name);
      if (tensorIndex === undefined) continue;
      const tensor = tensors[tensorIndex];
      if (tensor.producer >= index) {
        throw new PartitionProblemError(`layer ${layer.name} reads ${name} before layer ${tensor.producer} produces it: layers are not in topological order`);
      }
      if (tensor.consumers[tensor.consumers.length - 1] !== index) tensor.consumers.push(index);
    }
  });

  const nodes = analysis.layers.map((layer, index) => ({
    name: layer.name,
    localMs: latencies.localMs[index],
    remoteMs: latencies.remoteMs[index]
  }));
  return { nodes, tensors, unknownSizeTensors };
}

export interface LatencyEstimate extends LatencyProfile {
  /** Layers whose MACs are unknown: estimated from bytes moved alone. */
  macsUnknownLayers: string[];
  /** Layers with an output or input activation of unknown size (counted as 0 bytes). */
  bytesUnknownLayers: string[];
}

/**
 * Roofline estimate (app/partition/estimate.ts) of every layer on the device and on the
 * server; presets by name ('mobile-cpu', 'mobile-gpu', 'server-gpu') or custom profiles.
 */
export function estimateLatencies(
  analysis: ModelAnalysis,
  device: HardwareProfile | string = 'mobile-cpu',
  server: HardwareProfile | string = 'server-gpu'
): LatencyEstimate {
  const deviceProfile = typeof device === 'string' ? hardwarePreset(device) : device;
  const serverProfile = typeof server === 'string' ? hardwarePreset(server) : server;
  const activationBytes = new Map<string, number | null>();
  for (const input of analysis.inputs) activationBytes.set(input.name, input.bytes);
  for (const layer of analysis.layers) for (const output of layer.outputs) activationBytes.set(output.name, output.bytes);

  const estimate: LatencyEstimate = { localMs: [], remoteMs: [], macsUnknownLayers: [], bytesUnknownLayers: [] };
  for (const layer of analysis.layers) {
    const inputs = { bytes: 0, allSizesKnown: true };
    for (const name of new Set(layer.inputs)) {
      if (!activationBytes.has(name)) continue;
      const bytes = activationBytes.get(name) ?? null;
      if (bytes === null) inputs.allSizesKnown = false;
      else inputs.bytes += bytes;
    }
    const onDevice = estimateLayerMs(layer, inputs, deviceProfile);
    const onServer = estimateLayerMs(layer, inputs, serverProfile);
    estimate.localMs.push(onDevice.ms);
    estimate.remoteMs.push(onServer.ms);
    if (!onDevice.macsKnown) estimate.macsUnknownLayers.push(layer.name);
    if (!onDevice.bytesKnown) estimate.bytesUnknownLayers.push(layer.name);
  }
  return estimate;
}
