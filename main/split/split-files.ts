// `neurosurgeon split`: chooses the local node set (a given cut, the best topological
// cut, or the DAG min-cut), cuts the model with surgery.ts, and writes head.onnx,
// tail.onnx and partition.json atomically, refusing to overwrite unless asked.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { buildCutTable, planCuts } from '../../app/partition/cuts.js';
import { optimalDagPartition } from '../../app/partition/dag.js';
import type { CutCost, NetworkConditions, Objective, PartitionProblem, PlanOptions } from '../../app/partition/types.js';
import type { Dim } from '../../app/onnx/model.js';
import type { ModelIdentity } from '../../app/profiling/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { writeFilesAtomic } from '../files/atomic-write.js';
import { checkOutputLocation } from '../files/output-path.js';
import { UsageError } from '../errors/user-errors.js';
import { inlineExternalData, modelIdentity } from '../model/model-file.js';
import { toolVersion } from '../files/paths.js';
import { partitionProblem, planOptions, type PlanRequest } from './plan-service.js';
import { encodeSplit, splitModel } from './surgery.js';

export const PARTITION_SCHEMA_VERSION = 1;

export interface PartitionConfig {
  schemaVersion: number;
  tool: { name: 'neurosurgeon-studio'; version: string };
  model: ModelIdentity;
  /** Topological cut index, or null for a DAG (min-cut) partition. */
  cut: number | null;
  method: 'cut' | 'auto' | 'dag';
  objective: Objective;
  localNodes: string[];
  head: string | null;
  tail: string | null;
  crossing: { name: string; dtype: string; shape: Dim[] | null; bytes: number | null; producedBy: 'head' | 'input' }[];
  outputs: { name: string; from: 'head' | 'tail' }[];
  uploadBytes: number;
  predicted: CutCost;
  assumptions: { network: NetworkConditions; serverLoad: number; latencies: { local: string; remote: string }; power: string };
}

export interface SplitRequest {
  cut: string;
  outDir: string;
  force: boolean;
  request: PlanRequest;
}

export interface ChosenPartition {
  localNodes: number[];
  /** Topological cut index, or null for a DAG (min-cut) partition. */
  cut: number | null;
  method: PartitionConfig['method'];
  predicted: CutCost;
}

/** The local node set for `--cut K|auto|dag` (shared by `split` and `export`). */
export function choosePartition(problem: PartitionProblem, options: PlanOptions, cutArgument: string, objective: Objective): ChosenPartition {
  const nodeCount = problem.nodes.length;
  if (cutArgument === 'dag') {
    const dag = optimalDagPartition(problem, options, objective);
    return { localNodes: dag.localNodes, cut: null, method: 'dag', predicted: dag.cost };
  }
  const plan = planCuts(buildCutTable(problem), options);
  let cut: number;
  let method: PartitionConfig['method'];
  if (cutArgument === 'auto') {
    cut = plan.best[objective];
    method = 'auto';
  } else {
    if (!/^\d+$/.test(cutArgument)) throw new UsageError(`--cut expects a number, "auto" or "dag", got "${cutArgument}"`);
    cut = Number(cutArgument);
    if (cut > nodeCount) throw new UsageError(`cut ${cut} is out of range: the model has ${nodeCount} layers (cuts 0..${nodeCount})`);
    method = 'cut';
  }
  return { localNodes: Array.from({ length: cut }, (_, i) => i), cut, method, predicted: plan.cuts[cut] };
}

export function writeSplit(analyzed: AnalyzedModel, split: SplitRequest): { files: string[]; partition: PartitionConfig } {
  const problem = partitionProblem(analyzed, split.request);
  const options = planOptions(split.request);
  const { localNodes, cut, method, predicted } = choosePartition(problem, options, split.cut, split.request.objective);

  checkOutputLocation(split.outDir);
  const targets = { head: path.join(split.outDir, 'head.onnx'), tail: path.join(split.outDir, 'tail.onnx'), config: path.join(split.outDir, 'partition.json') };
  if (!split.force) {
    const existing = Object.values(targets).filter((f) => existsSync(f));
    if (existing.length > 0) throw new UsageError(`${existing[0]} already exists; use --force to overwrite`);
  }

  inlineExternalData(analyzed);
  const parts = splitModel(analyzed.model, analyzed.analysis, new Set(localNodes));
  const encoded = encodeSplit(parts);
  const config: PartitionConfig = {
    schemaVersion: PARTITION_SCHEMA_VERSION,
    tool: { name: 'neurosurgeon-studio', version: toolVersion() },
    model: modelIdentity(analyzed),
    cut,
    method,
    objective: split.request.objective,
    localNodes: localNodes.map((i) => analyzed.analysis.layers[i].name),
    head: encoded.head ? 'head.onnx' : null,
    tail: encoded.tail ? 'tail.onnx' : null,
    crossing: parts.crossing.map((c) => ({ name: c.name, dtype: c.elementType, shape: c.shape, bytes: c.bytes, producedBy: c.producedBy })),
    outputs: parts.outputs,
    uploadBytes: parts.crossing.reduce((sum, c) => sum + (c.bytes ?? 0), 0),
    predicted,
    assumptions: {
      network: options.network,
      serverLoad: options.serverLoad,
      latencies: { local: split.request.latencies.local.source, remote: split.request.latencies.remote.source },
      power: split.request.power.name
    }
  };
  // All three appear together or none changes (atomic-write.ts); with --force, a part this
  // split does not have must not linger from an earlier one.
  const written = [
    ...(encoded.head ? [{ target: targets.head, data: encoded.head }] : []),
    ...(encoded.tail ? [{ target: targets.tail, data: encoded.tail }] : []),
    { target: targets.config, data: JSON.stringify(config, null, 2) + '\n' }
  ];
  writeFilesAtomic(written, { remove: [...(encoded.head ? [] : [targets.head]), ...(encoded.tail ? [] : [targets.tail])] });
  const files = written.map((w) => w.target);
  return { files, partition: config };
}
