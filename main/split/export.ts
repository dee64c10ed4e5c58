// Exporting a partition as a deployable artifact (`neurosurgeon export`, the studio's
// Export): head.onnx and tail.onnx (graph surgery, surgery.ts), the tail as a model
// repository that Open-Inference-Protocol servers load (Triton's layout:
// repository/MODEL/1/model.onnx and repository/MODEL/config.pbtxt), and partition.json v2
// (resources/partition.schema.json, checked with ajv before anything is written) with the
// decision table of app/partition/decision-table.ts, and the tail as a KServe
// InferenceService (kserve.yaml, kserve.ts) with a deploy note (DEPLOY.md). The whole folder is written into a
// temporary sibling and renamed into place, so an export is there complete or not at all;
// an existing export is replaced only when asked.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
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
import { parseJsonText } from '../files/json-file.js';
import { writeFolderAtomic } from '../files/atomic-write.js';
import { checkOutputLocation } from '../files/output-path.js';
import { readRegularFileSync } from '../files/regular-file.js';
import { renderPbtxt, TritonConfigError, tritonModelConfig, type ConfigTensor } from '../executor/triton-config.js';
import { choosePartition } from './split-files.js';
import { encodeSplit, splitModel, SurgeryError } from './surgery.js';
import { encodableCrossing, encodeSplitUniform, type EncodedSplit } from './encode-surgery.js';
import { whyNotApplicableAtCut, type WireDatatype, type WireEncoding } from '../../app/partition/wire-encoding.js';
import type { TensorRange } from '../../app/quantization/parameters.js';
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
  crossing: { name: string; shape: Dim[] | null; elementType: ElementTypeName; bytes: number | null; direction: 'up' | 'down'; wire?: PartitionWire }[];
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

/** How an uploaded tensor travels when exported with an encoding (issue 16): the tail's input name and wire datatype, and the int8/uint8 parameters. */
export interface PartitionWire {
  name: string;
  encoding: string;
  datatype: WireDatatype;
  scale?: number;
  zeroPoint?: number;
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
  /** How to ask for a replacement, in the refusal (default: the CLI's "use --force to overwrite"). */
  overwriteHint?: string;
  /** Uplink range the decision table covers (default 0.1..1000 Mbps). */
  decisionRange?: BandwidthRange;
  /** Where the repository will be uploaded for KServe (s3://, gs://, pvc://, ...); a PVC default when absent. */
  storageUri?: string | null;
  /** The provider the server-side latencies were measured or predicted on (a GPU one asks KServe for a GPU). */
  serverProvider?: ExecutionProviderName | null;
  /** The wire encoding of the uploaded tensors and their calibrated ranges (encode-surgery.ts); fp32 when absent. */
  wire?: { encoding: WireEncoding; ranges: Record<string, TensorRange> };
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

/** The int64 dims the model file declares for its named tensors (inputs, outputs, value_info): exact where a number rounds. */
function declaredDims(analyzed: AnalyzedModel): Map<string, (bigint | null)[]> {
  const graph = analyzed.model.proto.graph;
  const declared = new Map<string, (bigint | null)[]>();
  for (const info of [...(graph?.input ?? []), ...(graph?.output ?? []), ...(graph?.valueInfo ?? [])]) {
    const dims = info.type?.tensorType?.shape?.dim;
    if (!info.name || !dims) continue;
    declared.set(
      info.name,
      dims.map((d) => (d.value === 'dimValue' && d.dimValue !== null && d.dimValue !== undefined ? BigInt(d.dimValue.toString()) : null))
    );
  }
  return declared;
}

type ExportTensor = { name: string; elementType: ElementTypeName; shape: Dim[] | null };

/** Triton's config.pbtxt for the tail (main/executor/triton-config.ts): platform onnxruntime_onnx, no batching dimension. */
export function tritonConfig(name: string, inputs: ExportTensor[], outputs: ExportTensor[], declared: Map<string, (bigint | null)[]> = new Map()): string {
  // A dimension beyond 2^53 is a rounded number here: its exact digits come from the file where it declares them.
  const exact = (tensor: ExportTensor): ConfigTensor => ({
    name: tensor.name,
    elementType: tensor.elementType,
    shape: tensor.shape?.map((dim, i) => (typeof dim === 'number' && !Number.isSafeInteger(dim) ? (declared.get(tensor.name)?.[i] ?? dim) : dim)) ?? null
  });
  try {
    return renderPbtxt(tritonModelConfig(name, inputs.map(exact), outputs.map(exact)));
  } catch (error) {
    if (error instanceof TritonConfigError) throw new ExportError(error.message);
    throw error;
  }
}

function isNonEmptyFolder(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return existsSync(dir);
  }
}

/**
 * Why `dir` may not be replaced by a new export, or null when it may: only a folder an
 * earlier export wrote is replaced — one holding a valid partition.json (v2) and nothing but
 * the files that partition.json lists — never a file, a link or a folder with anything else.
 */
export function replaceRefusal(dir: string): string | null {
  const stats = lstatSync(dir, { throwIfNoEntry: false });
  if (!stats) return null;
  if (stats.isSymbolicLink()) return 'it is a symbolic link, not an earlier export';
  if (!stats.isDirectory()) return 'it is a file, not an earlier export';
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true }).map((entry) => ({
    name: path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'),
    entry
  }));
  if (entries.length === 0) return null;
  if (!entries.some((e) => e.name === 'partition.json')) return 'it is not an earlier export (it has no partition.json)';
  let config: PartitionConfigV2;
  try {
    config = readPartitionConfig(readRegularFileSync(path.join(dir, 'partition.json'), { label: 'partition.json', maxBytes: MAX_PARTITION_CONFIG_BYTES }).toString('utf8'), 'partition.json');
  } catch {
    return 'its partition.json is not one an export wrote';
  }
  const kserve = config.files.kserve ? [config.files.kserve, 'DEPLOY.md'] : [];
  const files = new Set(
    ['partition.json', config.files.head, config.files.tail, config.files.repository?.model, config.files.repository?.config, ...kserve].filter((f): f is string => typeof f === 'string')
  );
  const folders = new Set<string>();
  for (const file of files) for (let parent = path.posix.dirname(file); parent !== '.'; parent = path.posix.dirname(parent)) folders.add(parent);
  const stranger = entries.find(({ name, entry }) => !(entry.isFile() && files.has(name)) && !(entry.isDirectory() && folders.has(name)));
  return stranger ? `it holds ${stranger.name}, which no export wrote` : null;
}

/** Writes the export; refuses an existing non-empty outDir unless `overwrite`, and even then anything but an earlier export. */
export function exportPartition(request: ExportRequest): ExportResult {
  const started = performance.now();
  const { analyzed, options, objective } = request;
  const outDir = path.resolve(request.outDir);
  checkOutputLocation(outDir);
  if (isNonEmptyFolder(outDir)) {
    if (!request.overwrite) throw new ExportError(`${outDir} already exists; ${request.overwriteHint ?? 'use --force to overwrite'}`);
    const refusal = replaceRefusal(outDir);
    if (refusal) throw new ExportError(`${outDir} is not replaced: ${refusal}`);
  }
  const uriProblem = request.storageUri ? storageUriProblem(request.storageUri) : null;
  if (uriProblem) throw new ExportError(`--storage-uri: ${uriProblem}`);

  const problem = buildPartitionProblem(analyzed.analysis, { localMs: request.latencies.local.ms, remoteMs: request.latencies.remote.ms });
  const chosen = choosePartition(problem, options, String(request.cut), objective);
  const table = cutTableOf(problem);
  const decision = decisionTable(table, options, request.decisionRange ?? DEFAULT_DECISION_RANGE, objective);

  inlineExternalData(analyzed);
  const localSet = new Set(chosen.localNodes);
  const plainParts = splitModel(analyzed.model, analyzed.analysis, localSet);
  const wireSpec = request.wire;
  let wired: EncodedSplit | null = null;
  if (wireSpec) {
    // Integer tensors travel as they are beside float ones; a cut where the encoding changes nothing (or cannot carry a tensor) is refused.
    const refusal = whyNotApplicableAtCut(wireSpec.encoding, encodableCrossing(plainParts.crossing));
    if (refusal) throw new ExportError(refusal);
    try {
      wired = encodeSplitUniform(plainParts, wireSpec.encoding, wireSpec.ranges);
    } catch (error) {
      if (error instanceof SurgeryError) throw new ExportError(error.message);
      throw error;
    }
  }
  const parts = wired ?? plainParts;
  const wireOf = new Map((wired?.wire ?? []).map((w) => [w.name, w]));
  // What the tail takes: the wire names and datatypes (config.pbtxt, kserve.yaml).
  const tailInputs = parts.crossing.map((tensor) => {
    const w = wireOf.get(tensor.name);
    if (!w || w.wireName === tensor.name) return tensor;
    const elementType: ElementTypeName = w.datatype === 'FP16' ? 'float16' : w.datatype === 'INT8' ? 'int8' : 'uint8';
    return { ...tensor, name: w.wireName, elementType };
  });
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
      ...parts.crossing.map((tensor) => {
        const w = wireOf.get(tensor.name);
        const wire: PartitionWire | undefined = w
          ? { name: w.wireName, encoding: w.encoding, datatype: w.datatype, ...(w.scale !== undefined ? { scale: w.scale, zeroPoint: w.zeroPoint } : {}) }
          : undefined;
        return { name: tensor.name, shape: tensor.shape, elementType: tensor.elementType, bytes: tensor.bytes, direction: 'up' as const, ...(wire ? { wire } : {}) };
      }),
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
    contents.set(repository.config, tritonConfig(repositoryModel, tailInputs, tailOutputs, declaredDims(analyzed)));
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
      inputs: tailInputs.map((tensor) => ({ name: tensor.name, elementType: tensor.elementType, shape: tensor.shape }))
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

/** A partition.json is a few hundred kB at most; a file past this is not one. */
export const MAX_PARTITION_CONFIG_BYTES = 64 << 20;

/** The view a partition.json (v2) restores, after checking it against the schema. Errors never quote the text. */
export function readPartitionConfig(text: string, label: string): PartitionConfigV2 {
  const json = parseJsonText(text, label, (message) => new PartitionConfigError(message));
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== PARTITION_SCHEMA_VERSION_2) {
    const found = version === undefined ? 'no schemaVersion' : Number.isInteger(version) ? `schemaVersion ${version as number}` : 'a schemaVersion that is not a number';
    throw new PartitionConfigError(`${label}: not a partition config version 2 (it has ${found})`);
  }
  const problem = partitionSchemaProblem(json);
  if (problem) throw new PartitionConfigError(`${label}: does not match the partition config schema: ${problem}`);
  return json as PartitionConfigV2;
}
