// The tail as a KServe service: export writes kserve.yaml beside the Triton repository and
// DEPLOY.md; parsed back with js-yaml, the manifest has every field KServe requires of an
// InferenceService served by its Triton runtime over protocol v2 (apiVersion, kind, a
// DNS-1035 name, modelFormat, runtime, protocolVersion, a storageUri it can fetch,
// resource quantities), names the repository's model, takes the user's --storage-uri, and
// sizes resources from the tail and the server profile. The checker itself refuses
// manifests missing each required field.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateLatencies } from '../../app/engine.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { ExportError, exportPartition, readPartitionConfig, repositoryModelName, type ExportRequest } from './export.js';
import { inferenceServiceName, KSERVE_API_VERSION, kserveManifestProblems, RUNTIME_BASELINE_BYTES, type InferenceServiceManifest } from './kserve.js';

const workDir = mkdtempSync(path.join(tmpdir(), 'ns-kserve-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function lenet(): Promise<AnalyzedModel> {
  const file = path.join(workDir, 'lenet.onnx');
  writeFileSync(file, buildZooModel('lenet', { seed: 3 }));
  return analyzeModelFile(file);
}

function request(analyzed: AnalyzedModel, outDir: string, extra: Partial<ExportRequest> = {}): ExportRequest {
  const estimate = estimateLatencies(analyzed.analysis);
  return {
    analyzed,
    cut: 4,
    options: defaultPlanOptions('lte'),
    objective: 'latency',
    latencies: { local: { ms: estimate.localMs, source: 'estimated' }, remote: { ms: estimate.remoteMs, source: 'estimated (server-gpu roofline)' } },
    outDir,
    overwrite: false,
    ...extra
  };
}

describe('export for KServe', () => {
  it('writes an InferenceService for the tail that KServe accepts, with the given storage URI, and a deploy note', async () => {
    const analyzed = await lenet();
    const outDir = path.join(workDir, 'with-uri');
    const result = exportPartition(request(analyzed, outDir, { storageUri: 's3://models/lenet-split/repository', serverProvider: 'cuda' }));
    expect(result.partition.files).toMatchObject({ kserve: 'kserve.yaml', deployNote: 'DEPLOY.md' });
    expect(readPartitionConfig(readFileSync(path.join(outDir, 'partition.json'), 'utf8'), 'partition.json').files.kserve).toBe('kserve.yaml');
    const manifest = load(readFileSync(path.join(outDir, 'kserve.yaml'), 'utf8')) as InferenceServiceManifest;
    expect(kserveManifestProblems(manifest)).toEqual([]);
    const name = repositoryModelName('lenet.onnx');
    expect(manifest.apiVersion).toBe(KSERVE_API_VERSION);
    expect(manifest.kind).toBe('InferenceService');
    expect(manifest.metadata.name).toBe('lenet-tail');
    expect(manifest.metadata.annotations['neurosurgeon.studio/triton-model']).toBe(name);
    expect(manifest.metadata.annotations['neurosurgeon.studio/cut']).toBe('4');
    expect(manifest.spec.predictor.model).toMatchObject({
      modelFormat: { name: 'onnx' },
      runtime: 'kserve-tritonserver',
      protocolVersion: 'v2',
      storageUri: 's3://models/lenet-split/repository'
    });
    // Memory: the runtime's baseline, twice the tail model, its activations; the limit twice that.
    const tailBytes = readFileSync(path.join(outDir, 'tail.onnx')).byteLength;
    const activations = analyzed.analysis.layers.slice(4).reduce((sum, layer) => sum + (layer.outputBytes ?? 0), 0);
    const mebibytes = Math.ceil((RUNTIME_BASELINE_BYTES + 2 * tailBytes + activations) / 2 ** 20);
    expect(manifest.spec.predictor.model.resources).toEqual({
      requests: { cpu: '1', memory: `${mebibytes}Mi` },
      limits: { cpu: '2', memory: `${Math.ceil((2 * (RUNTIME_BASELINE_BYTES + 2 * tailBytes + activations)) / 2 ** 20)}Mi`, 'nvidia.com/gpu': '1' }
    });
    const note = readFileSync(path.join(outDir, 'DEPLOY.md'), 'utf8');
    expect(note).toContain('s3://models/lenet-split/repository');
    expect(note).toContain('kubectl apply -f kserve.yaml');
    expect(note).toContain(`/v2/models/${name}/infer`);
    // The repository it serves is the one beside it.
    expect(readFileSync(path.join(outDir, 'repository', name, 'config.pbtxt'), 'utf8')).toContain(`name: "${name}"`);
  });

  it('defaults to a PVC location, asks for no GPU without a CUDA profile, and writes none without a tail', async () => {
    const analyzed = await lenet();
    const outDir = path.join(workDir, 'default-uri');
    exportPartition(request(analyzed, outDir));
    const manifest = load(readFileSync(path.join(outDir, 'kserve.yaml'), 'utf8')) as InferenceServiceManifest;
    expect(kserveManifestProblems(manifest)).toEqual([]);
    expect(manifest.spec.predictor.model.storageUri).toBe('pvc://neurosurgeon-models/default-uri/repository');
    expect(manifest.spec.predictor.model.resources.limits['nvidia.com/gpu']).toBeUndefined();
    expect(readFileSync(path.join(outDir, 'DEPLOY.md'), 'utf8')).toContain('PersistentVolumeClaim named neurosurgeon-models');
    const deviceOnly = exportPartition(request(analyzed, path.join(workDir, 'device-only'), { cut: analyzed.analysis.layers.length }));
    expect(deviceOnly.partition.files).toMatchObject({ kserve: null, deployNote: null });
  });

  it('refuses a storage URI KServe cannot fetch from, before writing anything', async () => {
    const analyzed = await lenet();
    const outDir = path.join(workDir, 'bad-uri');
    expect(() => exportPartition(request(analyzed, outDir, { storageUri: 'ftp://models/x' }))).toThrow(ExportError);
    expect(() => exportPartition(request(analyzed, outDir, { storageUri: 'ftp://models/x' }))).toThrow(/^--storage-uri: the storage URI must start with one of s3:\/\//);
    expect(() => readFileSync(path.join(outDir, 'partition.json'))).toThrow();
  });
});

describe('kserveManifestProblems', () => {
  const valid: InferenceServiceManifest = {
    apiVersion: KSERVE_API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'model-tail', annotations: {} },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'onnx' },
          runtime: 'kserve-tritonserver',
          protocolVersion: 'v2',
          storageUri: 'gs://bucket/repository',
          resources: { requests: { cpu: '1', memory: '300Mi' }, limits: { cpu: '2', memory: '600Mi' } }
        }
      }
    }
  };
  const withModel = (change: Record<string, unknown>) => ({ ...valid, spec: { predictor: { model: { ...valid.spec.predictor.model, ...change } } } });

  it('finds nothing wrong with a valid manifest and each missing or wrong required field', () => {
    expect(kserveManifestProblems(valid)).toEqual([]);
    expect(kserveManifestProblems({ ...valid, apiVersion: 'serving.kserve.io/v1alpha1' })).toEqual([`apiVersion must be ${KSERVE_API_VERSION}`]);
    expect(kserveManifestProblems({ ...valid, kind: 'Deployment' })).toEqual(['kind must be InferenceService']);
    expect(kserveManifestProblems({ ...valid, metadata: { name: 'Model_Tail' } })).toEqual(['metadata.name must be a DNS-1035 label of at most 63 characters']);
    expect(kserveManifestProblems({ ...valid, spec: { predictor: {} } })).toEqual(['spec.predictor.model is missing']);
    expect(kserveManifestProblems(withModel({ modelFormat: {} }))).toEqual(['spec.predictor.model.modelFormat.name is missing']);
    expect(kserveManifestProblems(withModel({ runtime: 'kserve-mlserver' }))).toEqual(['spec.predictor.model.runtime must be kserve-tritonserver']);
    expect(kserveManifestProblems(withModel({ protocolVersion: 'v1' }))).toEqual(['spec.predictor.model.protocolVersion must be v2 (Triton speaks the Open Inference Protocol)']);
    expect(kserveManifestProblems(withModel({ storageUri: undefined }))).toEqual(['spec.predictor.model.storageUri is missing']);
    expect(kserveManifestProblems(withModel({ storageUri: 'file:///tmp/x' }))[0]).toMatch(/^spec\.predictor\.model\.storageUri: the storage URI must start with/);
    expect(kserveManifestProblems(withModel({ resources: { requests: { cpu: 'one' }, limits: { memory: '1Gi' } } }))).toEqual(['spec.predictor.model.resources.requests.cpu is no Kubernetes quantity']);
  });

  it('turns any repository model name into a DNS-1035 label', () => {
    expect(inferenceServiceName('EfficientNet_B0-tail')).toBe('efficientnet-b0-tail');
    expect(inferenceServiceName('3dnet-tail')).toBe('dnet-tail');
    expect(inferenceServiceName('x'.repeat(80) + '-tail')).toHaveLength(63);
    expect(inferenceServiceName('___')).toBe('neurosurgeon-tail');
  });
});
