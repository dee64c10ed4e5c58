// Exports against reality: AlexNet and ResNet-18 are exported, the written head.onnx and
// tail.onnx (and the repository's copy of the tail) run chained in onnxruntime-node and
// must give the full model's outputs; partition.json must match its JSON Schema and say
// what crossed; an existing export is never replaced unless asked, and a refused or failed
// export leaves nothing behind.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateLatencies } from '../../app/engine.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { ExportError, exportPartition, partitionSchemaProblem, readPartitionConfig, repositoryModelName, type ExportRequest } from './export.js';
import { generateInputs } from '../model/inputs.js';
import { runModel, type Feeds } from './split-check.js';

const workDir = mkdtempSync(path.join(tmpdir(), 'ns-export-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function zooFile(id: string): Promise<AnalyzedModel> {
  const file = path.join(workDir, `${id}.onnx`);
  if (!existsSync(file)) writeFileSync(file, buildZooModel(id, { seed: 3 }));
  return analyzeModelFile(file);
}

function requestFor(analyzed: AnalyzedModel, cut: ExportRequest['cut'], outDir: string, overwrite = false, network = 'lte'): ExportRequest {
  const estimate = estimateLatencies(analyzed.analysis);
  return {
    analyzed,
    cut,
    options: defaultPlanOptions(network),
    objective: 'latency',
    latencies: { local: { ms: estimate.localMs, source: 'estimated' }, remote: { ms: estimate.remoteMs, source: 'estimated' } },
    outDir,
    overwrite
  };
}

function maxAbsDiff(actual: Feeds, expected: Feeds): number {
  let worst = 0;
  for (const [name, tensor] of Object.entries(expected)) {
    const got = actual[name];
    expect(got, `output ${name}`).toBeDefined();
    const a = got.data as Float32Array;
    const b = tensor.data as Float32Array;
    expect(a.length).toBe(b.length);
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  }
  return worst;
}

/** Runs head.onnx, feeds its outputs (and any model input the tail reads) to `tailFile`, returns the model outputs. */
async function runExported(dir: string, tailFile: string, inputs: Feeds): Promise<Feeds> {
  const headFile = path.join(dir, 'head.onnx');
  const headOutputs = existsSync(headFile) ? await runModel(readFileSync(headFile), inputs) : {};
  const available: Feeds = { ...inputs, ...headOutputs };
  const config = readPartitionConfig(readFileSync(path.join(dir, 'partition.json'), 'utf8'), 'partition.json');
  const tailFeeds: Feeds = {};
  for (const tensor of config.crossing.filter((c) => c.direction === 'up')) tailFeeds[tensor.name] = available[tensor.name];
  const tailOutputs = await runModel(readFileSync(path.join(dir, tailFile)), tailFeeds);
  return { ...headOutputs, ...tailOutputs };
}

describe('exportPartition', () => {
  // On 5G the estimated AlexNet splits after its first few layers ('auto' picks cut 3).
  for (const [id, cut, network] of [
    ['alexnet', 'auto', '5g'],
    ['alexnet', 7, 'lte'],
    ['resnet18', 'dag', 'lte'],
    ['resnet18', 12, 'lte']
  ] as const) {
    it(`${id} at cut ${cut}: head + tail (and the repository's tail) equal the full model`, async () => {
      const analyzed = await zooFile(id);
      const outDir = path.join(workDir, `${id}-${cut}`);
      const request = requestFor(analyzed, cut, outDir, false, network);
      if (cut === 'dag') {
        // A device slow at the last three layers only: the min cut keeps a part of the graph on each side.
        const n = request.latencies.local.ms.length;
        request.latencies.local.ms = request.latencies.local.ms.map((_, i) => (i < n - 3 ? 0.001 : 1000));
        request.latencies.remote.ms = request.latencies.remote.ms.map(() => 1);
      }
      const result = exportPartition(request);
      const config = result.partition;
      expect(partitionSchemaProblem(JSON.parse(readFileSync(path.join(outDir, 'partition.json'), 'utf8')))).toBeNull();
      expect(config.model.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(config.model.nodes).toBe(analyzed.analysis.layers.length);
      if (typeof cut === 'number') {
        expect(config.cut).toBe(cut);
        expect(config.localNodes.map((n) => n.index)).toEqual(Array.from({ length: cut }, (_, i) => i));
      }
      if (cut === 'dag') {
        expect(config.cut).toBe('dag');
        expect(config.localNodes.length).toBeGreaterThan(0);
      }
      if (cut === 'auto') expect(config.cut).toBe(3);
      expect(config.localNodes.every((n) => n.name === analyzed.analysis.layers[n.index].name)).toBe(true);
      const up = config.crossing.filter((c) => c.direction === 'up');
      expect(up.length).toBeGreaterThan(0);
      for (const tensor of up) {
        expect(tensor.elementType).toBe('float32');
        expect(tensor.bytes).toBeGreaterThan(0);
      }
      expect(config.decisionTable.rows.length).toBeGreaterThan(0);
      expect(config.assumptions.network.name).toBe(network);
      expect(result.files.map((f) => path.relative(outDir, f)).sort()).toEqual(
        [
          'head.onnx',
          'partition.json',
          'tail.onnx',
          'kserve.yaml',
          'DEPLOY.md',
          `repository/${repositoryModelName(`${id}.onnx`)}/1/model.onnx`,
          `repository/${repositoryModelName(`${id}.onnx`)}/config.pbtxt`
        ].sort()
      );
      const pbtxt = readFileSync(path.join(outDir, config.files.repository?.config ?? ''), 'utf8');
      expect(pbtxt).toContain('platform: "onnxruntime_onnx"');
      expect(pbtxt).toContain('data_type: TYPE_FP32');
      for (const tensor of up) expect(pbtxt).toContain(`name: ${JSON.stringify(tensor.name)}`);

      const inputs = generateInputs(analyzed.model, { seed: 5 });
      const expected = await runModel(analyzed.bytes, inputs);
      expect(maxAbsDiff(await runExported(outDir, 'tail.onnx', inputs), expected)).toBeLessThan(1e-4);
      expect(maxAbsDiff(await runExported(outDir, config.files.repository?.model ?? '', inputs), expected)).toBeLessThan(1e-4);
    }, 240_000);
  }

  it('writes no head at cut 0 and no tail or repository at cut N', async () => {
    const analyzed = await zooFile('alexnet');
    const cloud = exportPartition(requestFor(analyzed, 0, path.join(workDir, 'cloud')));
    expect(cloud.partition.files.head).toBeNull();
    expect(cloud.partition.crossing.filter((c) => c.direction === 'up').map((c) => c.name)).toEqual(analyzed.analysis.inputs.map((i) => i.name));
    const n = analyzed.analysis.layers.length;
    const device = exportPartition(requestFor(analyzed, n, path.join(workDir, 'device')));
    expect(device.partition.files).toEqual({ head: 'head.onnx', tail: null, repository: null, kserve: null, deployNote: null });
    expect(device.partition.crossing).toEqual([]);
    expect(readdirSync(path.join(workDir, 'device')).sort()).toEqual(['head.onnx', 'partition.json']);
  }, 120_000);

  it('never replaces an existing export unless asked, and leaves no temporary folders', async () => {
    const analyzed = await zooFile('alexnet');
    const outDir = path.join(workDir, 'twice');
    exportPartition(requestFor(analyzed, 3, outDir));
    expect(() => exportPartition(requestFor(analyzed, 5, outDir))).toThrow(ExportError);
    expect(() => exportPartition(requestFor(analyzed, 5, outDir))).toThrow(/already exists; use --force/);
    expect(readPartitionConfig(readFileSync(path.join(outDir, 'partition.json'), 'utf8'), 'p').cut).toBe(3);
    exportPartition(requestFor(analyzed, 5, outDir, true));
    expect(readPartitionConfig(readFileSync(path.join(outDir, 'partition.json'), 'utf8'), 'p').cut).toBe(5);
    expect(readdirSync(workDir).filter((name) => name.startsWith('.'))).toEqual([]);
  }, 120_000);

  it('refuses a cut out of range before writing anything', async () => {
    const analyzed = await zooFile('alexnet');
    const outDir = path.join(workDir, 'bad-cut');
    expect(() => exportPartition(requestFor(analyzed, 999, outDir))).toThrow(/out of range/);
    expect(existsSync(outDir)).toBe(false);
  });
});

describe('the partition schema', () => {
  it('rejects configs with missing or wrong fields, with the place named', async () => {
    const analyzed = await zooFile('alexnet');
    const { partition } = exportPartition(requestFor(analyzed, 4, path.join(workDir, 'schema')));
    expect(partitionSchemaProblem(partition)).toBeNull();
    expect(partitionSchemaProblem({ ...partition, cut: -1 })).toMatch(/cut/);
    expect(partitionSchemaProblem({ ...partition, model: { ...partition.model, sha256: 'abc' } })).toMatch(/\/model\/sha256/);
    expect(partitionSchemaProblem({ ...partition, crossing: [{ name: 'x', shape: [1], elementType: 'float32', bytes: 4, direction: 'sideways' }] })).toMatch(
      /\/crossing\/0\/direction/
    );
    const { decisionTable: _dropped, ...withoutTable } = partition;
    expect(partitionSchemaProblem(withoutTable)).toMatch(/decisionTable/);
    expect(() => readPartitionConfig('{"schemaVersion": 1}', 'old.json')).toThrow(/old.json: not a partition config version 2/);
    expect(() => readPartitionConfig('{', 'broken.json')).toThrow(/broken.json: not JSON/);
  });
});
