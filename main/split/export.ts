// Exporting a partition as a deployable artifact (`neurosurgeon export`, the studio's
// Export): head.onnx and tail.onnx (graph surgery, surgery.ts), the tail as a model
// repository that Open-Inference-Protocol servers load (Triton's layout:
// repository/MODEL/1/model.onnx and repository/MODEL/config.pbtxt), and partition.json v2
// (resources/partition.schema.json, checked with ajv before anything is written) with the
// decision table of app/partition/decision-table.ts, and the tail as a KServe
// InferenceService (kserve.yaml, kserve.ts) with a deploy note (DEPLOY.md). The whole folder is written into a
// temporary sibling and renamed into place, so an export is there complete or not at all;
// an existing export is replaced only when asked.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { buildPartitionProblem } from '../../app/engine.js';
import { DEFAULT_DECISION_RANGE, decisionTable, type BandwidthRange, type DecisionRow } from '../../app/partition/decision-table.js';
import { cutTableOf } from '../../app/partition/split-analysis.js';
import type { CutCost, Objective, PlanOptions } from '../../app/partition/types.js';
import type { Dim } from '../../app/onnx/model.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';
import type { TensorFacts } from '../../app/analysis/types.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { inlineExternalData, modelIdentity } from '../model/model-file.js';
import { packageRoot, toolVersion } from '../files/paths.js';
import { choosePartition } from './split-files.js';
import { encodeSplit, splitModel } from './surgery.js';
import { load as loadYaml } from 'js-yaml';
import type { ExecutionProviderName } from '../../app/profiling/types.js';
import { deployNote, inferenceServiceManifest, kserveManifestProblems, KServeManifestError, manifestYaml, storageUriProblem } from './kserve.js';

export const PARTITION_SCHEMA_VERSION_2 = 2;

export class ExportError extends Error {
  override name = 'ExportError';
}

/** A partition.json that cannot be read, does not match the schema, or belongs to another model. */
export class PartitionConfigError extends Error {
  override name = 'PartitionConfigError';
}

export interface PartitionConfigV2 {
  schemaVersion: 2;
  tool: { name: 'neurosurgeon-studio'; version: string };
  model: { file: string; sha256: string; nodes: number };
  cut: number | 'dag';
  method: 'cut' | 'auto' | 'dag';
  localNodes: { index: number; name: string }[];
  crossing: { name: string; shape: Dim[] | null; elementType: ElementTypeName; bytes: number | null; direction: 'up' | 'down' }[];
  predicted: CutCost;
  assumptions: {
    network: PlanOptions['network'];
    radio: PlanOptions['radio'];
    device: PlanOptions['device'];
    serverLoad: number;
    objective: Objective;
    latencies: { local: string; remote: string };
  };
  decisionTable: { objective: Objective; downlink: 'scaled'; rows: DecisionRow[] };
  files: {
    head: string | null;
    tail: string | null;
    repository: { dir: string; model: string; config: string } | null;
    /** The tail as a KServe InferenceService, and the note on deploying it (absent in exports made before they were written). */
    kserve?: string | null;
    deployNote?: string | null;
  };
}

export interface ExportRequest {
  analyzed: AnalyzedModel;
  /** A topological cut index, 'auto' (the best cut for the objective) or 'dag' (min-cut). */
  cut: number | 'auto' | 'dag';
  options: PlanOptions;
  objective: Objective;
  /** Per-layer latencies of each side and what they are (e.g. "measured on cpu"). */
  latencies: { local: { ms: number[]; source: string }; remote: { ms: number[]; source: string } };
  outDir: string;
  overwrite: boolean;
  /** Uplink range the decision table covers (default 0.1..1000 Mbps). */
  decisionRange?: BandwidthRange;
  /** Where the repository will be uploaded for KServe (s3://, gs://, pvc://, ...); a PVC default when absent. */
  storageUri?: string | null;
  /** The provider the server-side latencies were measured or predicted on (a GPU one asks KServe for a GPU). */
  serverProvider?: ExecutionProviderName | null;
}

export interface ExportResult {
  dir: string;
  /** Every file written, as paths under `dir`. */
  files: string[];
  partition: PartitionConfigV2;
  ms: number;
}

let schemaValidator: ValidateFunction | null = null;

export function partitionSchemaPath(): string {
  return path.join(packageRoot(), 'resources', 'partition.schema.json');
}

/** Checks a partition config against resources/partition.schema.json; the first problem as one line, or null. */
export function partitionSchemaProblem(config: unknown): string | null {
  if (!schemaValidator) {
    const schema = JSON.parse(readFileSync(partitionSchemaPath(), 'utf8')) as object;
    schemaValidator = new Ajv({ allowUnionTypes: true }).compile(schema);
  }
  if (schemaValidator(config)) return null;
  const error = schemaValidator.errors?.[0];
  return error ? `${error.instancePath || '/'} ${error.message ?? 'is invalid'}` : 'is invalid';
}

/** A name Triton accepts for the tail's repository entry: the model file's base name plus "-tail". */
export function repositoryModelName(modelFile: string): string {
  const base = path.basename(modelFile).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9_-]+/g, '_');
  return `${base || 'model'}-tail`;
}

const tritonTypes: Partial<Record<ElementTypeName, string>> = {
  float32: 'TYPE_FP32',
  float16: 'TYPE_FP16',
  float64: 'TYPE_FP64',
  bfloat16: 'TYPE_BF16',
  uint8: 'TYPE_UINT8',
  uint16: 'TYPE_UINT16',
  uint32: 'TYPE_UINT32',
  uint64: 'TYPE_UINT64',
  int8: 'TYPE_INT8',
  int16: 'TYPE_INT16',
  int32: 'TYPE_INT32',
  int64: 'TYPE_INT64',
  bool: 'TYPE_BOOL',
  string: 'TYPE_STRING'
};

function configTensor(tensor: { name: string; elementType: ElementTypeName; shape: Dim[] | null }): string {
  const type = tritonTypes[tensor.elementType];
  if (!type) throw new ExportError(`tensor ${tensor.name}: element type ${tensor.elementType} has no Triton data type`);
  // Symbolic or unknown dimensions are variable-size (-1) in Triton's config.
  const dims = (tensor.shape ?? [-1]).map((dim) => (typeof dim === 'number' ? dim : -1));
  return `  {\n    name: ${JSON.stringify(tensor.name)}\n    data_type: ${type}\n    dims: [ ${dims.join(', ')} ]\n  }`;
}

/** Triton's config.pbtxt for the tail: platform onnxruntime_onnx, no batching dimension. */
export function tritonConfig(
  name: string,
  inputs: { name: string; elementType: ElementTypeName; shape: Dim[] | null }[],
  outputs: { name: string; elementType: ElementTypeName; shape: Dim[] | null }[]
): string {
  return [
    `name: ${JSON.stringify(name)}`,
    'platform: "onnxruntime_onnx"',
    'max_batch_size: 0',
    `input [\n${inputs.map(configTensor).join(',\n')}\n]`,
    `output [\n${outputs.map(configTensor).join(',\n')}\n]`,
    ''
  ].join('\n');
}

function isNonEmptyFolder(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return existsSync(dir);
  }
}

/** Writes the export; refuses an existing non-empty outDir unless `overwrite`. */
export function exportPartition(request: ExportRequest): ExportResult {
  const started = performance.now();
  const { analyzed, options, objective } = request;
  const outDir = path.resolve(request.outDir);
  if (!request.overwrite && isNonEmptyFolder(outDir)) throw new ExportError(`${outDir} already exists; use --force to overwrite`);
  const uriProblem = request.storageUri ? storageUriProblem(request.storageUri) : null;
  if (uriProblem) throw new ExportError(`--storage-uri: ${uriProblem}`);

  const problem = buildPartitionProblem(analyzed.analysis, { localMs: request.latencies.local.ms, remoteMs: request.latencies.remote.ms });
  const chosen = choosePartition(problem, options, String(request.cut), objective);
  const table = cutTableOf(problem);
  const decision = decisionTable(table, options, request.decisionRange ?? DEFAULT_DECISION_RANGE, objective);

  inlineExternalData(analyzed);
  const localSet = new Set(chosen.localNodes);
  const parts = splitModel(analyzed.model, analyzed.analysis, localSet);
  const encoded = encodeSplit(parts);
  const outputFacts = new Map<string, TensorFacts>(analyzed.analysis.outputs.map((output) => [output.name, output]));
  const tailOutputs = parts.outputs
    .filter((output) => output.from === 'tail')
    .map((output) => {
      const facts = outputFacts.get(output.name);
      if (!facts) throw new ExportError(`model output ${output.name} has no analysed type`);
      return facts;
    });

  const identity = modelIdentity(analyzed);
  const repositoryModel = repositoryModelName(identity.file);
  const repository = encoded.tail
    ? { dir: 'repository', model: `repository/${repositoryModel}/1/model.onnx`, config: `repository/${repositoryModel}/config.pbtxt` }
    : null;
  const remoteLayers = analyzed.analysis.layers.filter((layer) => !localSet.has(layer.index));
  const config: PartitionConfigV2 = {
    schemaVersion: PARTITION_SCHEMA_VERSION_2,
    tool: { name: 'neurosurgeon-studio', version: toolVersion() },
    model: { file: identity.file, sha256: identity.sha256, nodes: analyzed.analysis.layers.length },
    cut: chosen.cut ?? 'dag',
    method: chosen.method,
    localNodes: chosen.localNodes.map((index) => ({ index, name: analyzed.analysis.layers[index].name })),
    crossing: [
      ...parts.crossing.map((tensor) => ({ name: tensor.name, shape: tensor.shape, elementType: tensor.elementType, bytes: tensor.bytes, direction: 'up' as const })),
      ...tailOutputs.map((tensor) => ({ name: tensor.name, shape: tensor.shape, elementType: tensor.elementType, bytes: tensor.bytes, direction: 'down' as const }))
    ],
    predicted: chosen.predicted,
    assumptions: {
      network: { ...options.network },
      radio: { ...options.radio },
      device: { ...options.device },
      serverLoad: options.serverLoad,
      objective,
      latencies: { local: request.latencies.local.source, remote: request.latencies.remote.source }
    },
    decisionTable: { objective, downlink: 'scaled', rows: decision.rows },
    files: {
      head: encoded.head ? 'head.onnx' : null,
      tail: encoded.tail ? 'tail.onnx' : null,
      repository,
      kserve: encoded.tail ? 'kserve.yaml' : null,
      deployNote: encoded.tail ? 'DEPLOY.md' : null
    }
  };
  const problemWithSchema = partitionSchemaProblem(config);
  if (problemWithSchema) throw new ExportError(`partition.json does not match its schema: ${problemWithSchema}`);
  const contents = new Map<string, Uint8Array | string>();
  if (encoded.head) contents.set('head.onnx', encoded.head);
  if (encoded.tail && repository) {
    contents.set('tail.onnx', encoded.tail);
    contents.set(repository.model, encoded.tail);
    contents.set(repository.config, tritonConfig(repositoryModel, parts.crossing, tailOutputs));
    const kserveRequest = {
      repositoryModel,
      storageUri: request.storageUri ?? null,
      exportFolderName: path.basename(outDir),
      model: identity,
      cut: config.cut,
      tailModelBytes: encoded.tail.byteLength,
      tailActivationBytes: remoteLayers.reduce((sum, layer) => sum + (layer.outputBytes ?? 0), 0),
      tailMs: remoteLayers.reduce((sum, layer) => sum + request.latencies.remote.ms[layer.index], 0),
      latencySource: request.latencies.remote.source,
      serverProvider: request.serverProvider ?? null,
      inputs: parts.crossing.map((tensor) => ({ name: tensor.name, elementType: tensor.elementType, shape: tensor.shape }))
    };
    let manifest;
    try {
      manifest = inferenceServiceManifest(kserveRequest);
    } catch (error) {
      if (error instanceof KServeManifestError) throw new ExportError(`kserve.yaml: ${error.message}`);
      throw error;
    }
    const yaml = manifestYaml(manifest);
    const problems = kserveManifestProblems(loadYaml(yaml));
    if (problems.length > 0) throw new ExportError(`kserve.yaml does not match what KServe requires: ${problems[0]}`);
    contents.set('kserve.yaml', yaml);
    contents.set('DEPLOY.md', deployNote(manifest, kserveRequest));
  }
  contents.set('partition.json', JSON.stringify(config, null, 2) + '\n');
  writeFolderAtomic(outDir, contents);
  return { dir: outDir, files: [...contents.keys()].map((file) => path.join(outDir, file)), partition: config, ms: performance.now() - started };
}

/** Writes every file into a temporary sibling folder, then swaps it in for `dir` in one rename. */
function writeFolderAtomic(dir: string, contents: Map<string, Uint8Array | string>): void {
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  const suffix = randomBytes(4).toString('hex');
  const temporary = path.join(parent, `.${path.basename(dir)}.${suffix}.tmp`);
  const previous = path.join(parent, `.${path.basename(dir)}.${suffix}.old`);
  try {
    for (const [file, data] of contents) {
      const target = path.join(temporary, file);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, data);
    }
    if (existsSync(dir)) renameSync(dir, previous);
    try {
      renameSync(temporary, dir);
    } catch (error) {
      if (existsSync(previous)) renameSync(previous, dir);
      throw error;
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
    rmSync(previous, { recursive: true, force: true });
  }
}

/** The view a partition.json (v2) restores, after checking it against the schema. */
export function readPartitionConfig(text: string, label: string): PartitionConfigV2 {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PartitionConfigError(`${label}: not JSON (${(error as Error).message})`);
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== PARTITION_SCHEMA_VERSION_2) {
    throw new PartitionConfigError(`${label}: not a partition config version 2 (schemaVersion is ${JSON.stringify(version ?? null)})`);
  }
  const problem = partitionSchemaProblem(json);
  if (problem) throw new PartitionConfigError(`${label}: does not match the partition config schema: ${problem}`);
  return json as PartitionConfigV2;
}
