// The tail as a KServe service: an InferenceService manifest (serving.kserve.io/v1beta1)
// that serves the export's Triton model repository with KServe's Triton runtime over the
// Open Inference Protocol (v2), and a one-paragraph deploy note. Written with js-yaml (see
// docs/architecture.md) and checked, before export.ts writes it, against what KServe's
// admission webhook and the Triton runtime require (`kserveManifestProblems`).
//
// Resources come from the profile and the tail: memory is onnxruntime's and Triton's
// baseline plus twice the tail model's bytes plus its activations (every tail layer's
// output, no reuse assumed), the limit twice the request; one CPU requested, two allowed;
// one NVIDIA GPU when the server-side latencies were measured or predicted on CUDA.
import { dump } from 'js-yaml';
import type { ExecutionProviderName } from '../../app/profiling/types.js';

export const KSERVE_API_VERSION = 'serving.kserve.io/v1beta1';
/** KServe's ClusterServingRuntime for NVIDIA Triton. */
export const KSERVE_TRITON_RUNTIME = 'kserve-tritonserver';
/** Storage schemes KServe's storage initializer (or its modelcar, oci://) can fetch a model from. */
export const KSERVE_STORAGE_SCHEMES = ['s3://', 'gs://', 'pvc://', 'hdfs://', 'webhdfs://', 'https://', 'http://', 'oci://', 'hf://'] as const;

const MIB = 2 ** 20;
/** Memory Triton and onnxruntime take before any model: an editable assumption. */
export const RUNTIME_BASELINE_BYTES = 256 * MIB;

export class KServeManifestError extends Error {
  override name = 'KServeManifestError';
}

export interface KServeQuantities {
  cpu: string;
  memory: string;
  'nvidia.com/gpu'?: string;
}

export interface InferenceServiceManifest {
  apiVersion: typeof KSERVE_API_VERSION;
  kind: 'InferenceService';
  metadata: { name: string; annotations: Record<string, string> };
  spec: {
    predictor: {
      model: {
        modelFormat: { name: 'onnx' };
        runtime: typeof KSERVE_TRITON_RUNTIME;
        protocolVersion: 'v2';
        storageUri: string;
        resources: { requests: KServeQuantities; limits: KServeQuantities };
      };
    };
  };
}

export interface KServeRequest {
  /** The repository's model name (Triton serves the tail under it: /v2/models/NAME/infer). */
  repositoryModel: string;
  /** Where the repository/ folder will be uploaded; a PVC default when the user gives none. */
  storageUri: string | null;
  exportFolderName: string;
  model: { file: string; sha256: string };
  cut: number | 'dag';
  tailModelBytes: number;
  /** Bytes of every tail layer's outputs (activations the tail writes). */
  tailActivationBytes: number;
  /** The tail's predicted time per inference on the server, and what the latencies are. */
  tailMs: number;
  latencySource: string;
  /** The provider the server-side latencies were measured or predicted on, when they come from a profile. */
  serverProvider: ExecutionProviderName | null;
  inputs: { name: string; elementType: string; shape: (number | string | null)[] | null }[];
}

/** A DNS-1035 label KServe accepts as an InferenceService name (lower case, starts with a letter, ≤ 63 characters). */
export function inferenceServiceName(repositoryModel: string): string {
  const cleaned = repositoryModel
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+/g, '-')
    .slice(0, 63)
    .replace(/-+$/, '');
  return cleaned || 'neurosurgeon-tail';
}

function mebibytes(bytes: number): string {
  return `${Math.max(1, Math.ceil(bytes / MIB))}Mi`;
}

/** The storage URI a manifest gets when the user gives none: a PVC named neurosurgeon-models. */
export function defaultStorageUri(exportFolderName: string): string {
  return `pvc://neurosurgeon-models/${inferenceServiceName(exportFolderName)}/repository`;
}

/** The --storage-uri problem as a phrase, or null when KServe can fetch from it. */
export function storageUriProblem(uri: string): string | null {
  if (!KSERVE_STORAGE_SCHEMES.some((scheme) => uri.startsWith(scheme) && uri.length > scheme.length)) {
    return `the storage URI must start with one of ${KSERVE_STORAGE_SCHEMES.join(', ')} and name a location, got "${uri}"`;
  }
  if (/\s/.test(uri)) return `the storage URI must not contain spaces, got "${uri}"`;
  return null;
}

export function inferenceServiceManifest(request: KServeRequest): InferenceServiceManifest {
  const storageUri = request.storageUri ?? defaultStorageUri(request.exportFolderName);
  const problem = storageUriProblem(storageUri);
  if (problem) throw new KServeManifestError(problem);
  const memory = RUNTIME_BASELINE_BYTES + 2 * request.tailModelBytes + request.tailActivationBytes;
  const gpu = request.serverProvider === 'cuda';
  const requests: KServeQuantities = { cpu: '1', memory: mebibytes(memory) };
  const limits: KServeQuantities = { cpu: '2', memory: mebibytes(2 * memory), ...(gpu ? { 'nvidia.com/gpu': '1' } : {}) };
  return {
    apiVersion: KSERVE_API_VERSION,
    kind: 'InferenceService',
    metadata: {
      name: inferenceServiceName(request.repositoryModel),
      annotations: {
        'neurosurgeon.studio/model': request.model.file,
        'neurosurgeon.studio/sha256': request.model.sha256,
        'neurosurgeon.studio/cut': String(request.cut),
        'neurosurgeon.studio/triton-model': request.repositoryModel,
        'neurosurgeon.studio/tail-ms': request.tailMs.toPrecision(4),
        'neurosurgeon.studio/latencies': request.latencySource
      }
    },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'onnx' },
          runtime: KSERVE_TRITON_RUNTIME,
          protocolVersion: 'v2',
          storageUri,
          resources: { requests, limits }
        }
      }
    }
  };
}

/** The manifest as YAML (js-yaml; no anchors, keys in the order written). */
export function manifestYaml(manifest: InferenceServiceManifest): string {
  return `# The tail of ${manifest.metadata.annotations['neurosurgeon.studio/model']} as a KServe InferenceService (neurosurgeon export).\n${dump(manifest, { noRefs: true, lineWidth: 120 })}`;
}

/** The deploy note: one paragraph on what to upload, apply and call. */
export function deployNote(manifest: InferenceServiceManifest, request: Pick<KServeRequest, 'repositoryModel' | 'inputs' | 'storageUri'>): string {
  const model = manifest.spec.predictor.model;
  const inputs = request.inputs.map((input) => `${input.name} (${input.elementType}${input.shape ? ` [${input.shape.map((d) => d ?? '?').join(',')}]` : ''})`).join(', ');
  const upload = request.storageUri
    ? `upload the repository/ folder to ${model.storageUri} (its contents, so that ${request.repositoryModel}/config.pbtxt sits at the top)`
    : `copy the repository/ folder into a PersistentVolumeClaim named neurosurgeon-models at ${model.storageUri.replace(/^pvc:\/\/neurosurgeon-models\//, '')} (the default; export with --storage-uri to name your own S3, GCS or PVC location)`;
  return [
    '# Deploying the tail on KServe',
    '',
    `To serve the tail on a Kubernetes cluster with KServe and its Triton runtime (${KSERVE_TRITON_RUNTIME}), ${upload}, then run ` +
      `\`kubectl apply -f kserve.yaml\` and wait until \`kubectl get inferenceservice ${manifest.metadata.name}\` reports READY. ` +
      `The service speaks the Open Inference Protocol (v2): the device runs head.onnx and sends ${inputs || 'its crossing tensors'} to ` +
      `\`POST <service URL>/v2/models/${request.repositoryModel}/infer\`, which returns the model outputs. ` +
      `The requested resources (${model.resources.requests.cpu} CPU, ${model.resources.requests.memory} memory${model.resources.limits['nvidia.com/gpu'] ? ', one NVIDIA GPU' : ''}) are estimated from the tail's size and the server profile; ` +
      `partition.json's decision table tells the app which cut to use at each uplink bandwidth (a cut other than this export's needs its own tail).`,
    ''
  ].join('\n');
}

const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What KServe requires of an InferenceService that serves a Triton repository over v2,
 * checked on a parsed manifest: every problem as a phrase (empty when none).
 */
export function kserveManifestProblems(manifest: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(manifest)) return ['the manifest is not a mapping'];
  if (manifest.apiVersion !== KSERVE_API_VERSION) problems.push(`apiVersion must be ${KSERVE_API_VERSION}`);
  if (manifest.kind !== 'InferenceService') problems.push('kind must be InferenceService');
  const metadata = manifest.metadata;
  const name = isRecord(metadata) ? metadata.name : undefined;
  if (typeof name !== 'string' || !DNS_1035.test(name) || name.length > 63) problems.push('metadata.name must be a DNS-1035 label of at most 63 characters');
  const predictor = isRecord(manifest.spec) ? manifest.spec.predictor : undefined;
  const model = isRecord(predictor) ? predictor.model : undefined;
  if (!isRecord(model)) return [...problems, 'spec.predictor.model is missing'];
  const format = model.modelFormat;
  if (!isRecord(format) || typeof format.name !== 'string' || format.name === '') problems.push('spec.predictor.model.modelFormat.name is missing');
  if (model.runtime !== KSERVE_TRITON_RUNTIME) problems.push(`spec.predictor.model.runtime must be ${KSERVE_TRITON_RUNTIME}`);
  if (model.protocolVersion !== 'v2') problems.push('spec.predictor.model.protocolVersion must be v2 (Triton speaks the Open Inference Protocol)');
  if (typeof model.storageUri !== 'string') problems.push('spec.predictor.model.storageUri is missing');
  else {
    const problem = storageUriProblem(model.storageUri);
    if (problem) problems.push(`spec.predictor.model.storageUri: ${problem}`);
  }
  const resources = model.resources;
  for (const kind of ['requests', 'limits'] as const) {
    const quantities = isRecord(resources) ? resources[kind] : undefined;
    if (!isRecord(quantities)) {
      problems.push(`spec.predictor.model.resources.${kind} is missing`);
      continue;
    }
    for (const [resource, quantity] of Object.entries(quantities)) {
      if (typeof quantity !== 'string' || !QUANTITY.test(quantity)) problems.push(`spec.predictor.model.resources.${kind}.${resource} is no Kubernetes quantity`);
    }
  }
  return problems;
}
