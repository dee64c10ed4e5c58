// main/fleet/ — `neurosurgeon fleet`, the datacenter's side of Neurosurgeon (its Figure 16):
// many emulated mobile clients against one Open Inference Protocol executor. The pure half
// (arrivals, mixes, policies, statistics, the report's types) is app/fleet/; here the Node
// half: the models and their tails (this file), the executor's load and CPU as the fleet
// reads them (server-probe.ts), and the run itself (fleet-run.ts). It sits above
// main/split/ (surgery, the split runner's conventions) and below main/studio/ (the
// Throughput view's job) and main/cli/, main/bench/.
//
// The fleet's models: each zoo model opened once, its per-layer latencies from a short
// profile on this machine (cached by file), the device side stretched by the device
// slowdown, the cut table the policies plan with, and — for each cut some client may take
// — the tail (surgery.ts, the whole file at cut 0) and the tensors a client sends to it.
// The phone's head is not run here: its time is waited out, so the tensors sent are
// zero-filled ones of the crossing shapes (the tail computes the same work on them), and
// the model inputs at cut 0.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildPartitionProblem } from '../../app/engine.js';
import { buildCutTable, type CutTable } from '../../app/partition/cuts.js';
import type { LatencyProfile } from '../../app/profiling/types.js';
import { DEFAULT_GRAPH_OPTIMIZATION } from '../../app/profiling/types.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { generateInputs } from '../model/inputs.js';
import { profileInChildProcess } from '../profiling/profile-process.js';
import { checkProfileShape } from '../profiling/profiler.js';
import type { OipDatatype, RawTensor } from '../executor/link.js';
import { toRawTensor } from '../executor/ort-tensors.js';
import { encodeSplit, splitModel } from '../split/surgery.js';
import { sanitizeModelName, selfContainedBytes } from '../split/split-prediction.js';
import { UsageError } from '../errors/user-errors.js';

/** One zoo model as the fleet uses it. */
export interface FleetModel {
  id: string;
  analyzed: AnalyzedModel;
  /** Cut table with device latencies × slowdown and server latencies as measured here. */
  table: CutTable;
  nodeCount: number;
  /** Where the per-layer latencies came from (one line). */
  latencySource: string;
}

/** A tail some client may call: its executor-side name, its bytes until uploaded, the tensors a client sends. */
export interface FleetTail {
  model: string;
  cut: number;
  name: string;
  inputs: RawTensor[];
  bytes: number;
}

const datatypeOf: Partial<Record<ElementTypeName, { oip: OipDatatype; size: number }>> = {
  float32: { oip: 'FP32', size: 4 },
  float16: { oip: 'FP16', size: 2 },
  float64: { oip: 'FP64', size: 8 },
  int64: { oip: 'INT64', size: 8 },
  int32: { oip: 'INT32', size: 4 },
  int8: { oip: 'INT8', size: 1 },
  uint8: { oip: 'UINT8', size: 1 },
  bool: { oip: 'BOOL', size: 1 }
};

export function profileCacheDir(): string {
  return path.join(os.tmpdir(), 'neurosurgeon-fleet-profiles');
}

/** This machine's latency profile of a model file: from the cache when the file is unchanged, else measured (3 runs) and cached. */
async function profileOf(file: string, cacheDir: string, signal?: AbortSignal): Promise<LatencyProfile> {
  const stat = statSync(file);
  const key = `${path.basename(file, '.onnx')}-${stat.size}-${Math.round(stat.mtimeMs)}.json`;
  const cached = path.join(cacheDir, key);
  if (existsSync(cached)) {
    try {
      return checkProfileShape(JSON.parse(readFileSync(cached, 'utf8')), key);
    } catch {
      // a damaged cache entry is measured again
    }
  }
  const profile = await profileInChildProcess(file, { ep: 'cpu', runs: 3, warmup: 1, optimization: DEFAULT_GRAPH_OPTIMIZATION, signal });
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(cached, JSON.stringify(profile));
  return profile;
}

/** Opens a zoo model (generating it when missing) and plans its cut table for a device `slowdown`× slower than this machine. */
export async function openFleetModel(id: string, options: { zooDir: string; slowdown: number; cacheDir?: string; signal?: AbortSignal }): Promise<FleetModel> {
  let file: string;
  try {
    file = ensureZooModel(id, options.zooDir);
  } catch (error) {
    throw new UsageError(`unknown model "${id}" for the fleet: ${(error as Error).message.split('\n')[0]}`);
  }
  const analyzed = await analyzeModelFile(file);
  const profile = await profileOf(file, options.cacheDir ?? profileCacheDir(), options.signal);
  const measured = profile.layers.map((l) => l.medianMs);
  if (measured.length !== analyzed.analysis.layers.length) throw new UsageError(`the cached profile of ${id} does not match the model; remove ${options.cacheDir ?? profileCacheDir()}`);
  const problem = buildPartitionProblem(analyzed.analysis, { localMs: measured.map((ms) => ms * options.slowdown), remoteMs: measured });
  return {
    id,
    analyzed,
    table: buildCutTable(problem),
    nodeCount: measured.length,
    latencySource: `measured on this machine (${profile.ep}, ${profile.layers.length} layers), device × ${options.slowdown}`
  };
}

function zeroTensor(name: string, elementType: ElementTypeName, shape: readonly (number | string | null)[] | null): RawTensor {
  const type = datatypeOf[elementType];
  if (!type) throw new UsageError(`a crossing tensor "${name}" of type ${elementType} cannot be emulated by the fleet`);
  const dims = (shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
  const count = dims.reduce((a, b) => a * b, 1);
  return { name, datatype: type.oip, shape: dims, data: new Uint8Array(count * type.size) };
}

/** The tail of `model` at `cut` (cut < nodeCount) and what a client sends it; `write` gets the tail's bytes once. */
export function buildTail(model: FleetModel, cut: number, write: (name: string, bytes: Uint8Array) => void): FleetTail {
  const name = sanitizeModelName(`${model.id}-tail-${cut}`);
  if (cut === 0) {
    const feeds = generateInputs(model.analyzed.model, { seed: 1 });
    const bytes = selfContainedBytes(model.analyzed);
    write(name, bytes);
    return { model: model.id, cut, name, inputs: Object.entries(feeds).map(([input, tensor]) => toRawTensor(input, tensor)), bytes: bytes.byteLength };
  }
  const parts = splitModel(model.analyzed.model, model.analyzed.analysis, new Set(Array.from({ length: cut }, (_, i) => i)));
  const encoded = encodeSplit(parts);
  if (!encoded.tail) throw new UsageError(`${model.id} at cut ${cut} has no tail`);
  write(name, encoded.tail);
  const inputs = parts.crossing.map((c) => zeroTensor(c.name, c.elementType, c.shape));
  return { model: model.id, cut, name, inputs, bytes: encoded.tail.byteLength };
}

/** Writes a tail into a Triton-layout model repository (NAME/1/model.onnx), as the executor and Triton load it. */
export function writeToRepository(dir: string): (name: string, bytes: Uint8Array) => void {
  return (name, bytes) => {
    mkdirSync(path.join(dir, name, '1'), { recursive: true });
    writeFileSync(path.join(dir, name, '1', 'model.onnx'), bytes);
  };
}
