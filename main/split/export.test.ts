// Exports against reality: AlexNet and ResNet-18 are exported, the written head.onnx and
// tail.onnx (and the repository's copy of the tail) run chained in onnxruntime-node and
// must give the full model's outputs; partition.json must match its JSON Schema and say
// what crossed; an existing export is never replaced unless asked, and a refused or failed
// export leaves nothing behind.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { estimateLatencies } from '../../app/engine.js';
import { defaultPlanOptions } from '../../app/partition/presets.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { analyzeModelFile, type AnalyzedModel } from '../model/analyze-file.js';
import { ExportError, exportPartition, partitionSchemaProblem, readPartitionConfig, replaceRefusal, repositoryModelName, type ExportRequest } from './export.js';
import { generateInputs } from '../model/inputs.js';
import Long from 'long';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { encodeModel, int64 } from '../../app/onnx/writer.js';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { runModel, type Feeds } from './split-check.js';
import { startExecutorProcess } from '../executor/executor-process.js';

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

  it('replaces only a folder an earlier export wrote, even when asked to overwrite', async () => {
    const analyzed = await zooFile('lenet');
    const unrelated = path.join(workDir, 'unrelated');
    mkdirSync(unrelated);
    writeFileSync(path.join(unrelated, 'notes.txt'), 'my notes');
    expect(() => exportPartition(requestFor(analyzed, 3, unrelated, true))).toThrow(`${unrelated} is not replaced: it is not an earlier export (it has no partition.json)`);
    // An export the user added a file to is no longer only an export.
    const touched = path.join(workDir, 'touched');
    exportPartition(requestFor(analyzed, 3, touched));
    writeFileSync(path.join(touched, 'repository', 'notes.txt'), 'mine');
    expect(() => exportPartition(requestFor(analyzed, 4, touched, true))).toThrow(/is not replaced: it holds repository\/notes\.txt, which no export wrote/);
    // A partition.json that is not an export's, and a plain file, are not replaced either.
    const fake = path.join(workDir, 'fake');
    mkdirSync(fake);
    writeFileSync(path.join(fake, 'partition.json'), 'root:*:20212:0:99999:7:::');
    expect(() => exportPartition(requestFor(analyzed, 3, fake, true))).toThrow(/is not replaced: its partition\.json is not one an export wrote$/);
    writeFileSync(path.join(workDir, 'a-file'), 'x');
    expect(() => exportPartition(requestFor(analyzed, 3, path.join(workDir, 'a-file'), true))).toThrow(/is not replaced: it is a file, not an earlier export/);
    expect(readFileSync(path.join(unrelated, 'notes.txt'), 'utf8')).toBe('my notes');
    expect(readFileSync(path.join(fake, 'partition.json'), 'utf8')).toMatch(/^root/);
    expect(replaceRefusal(path.join(workDir, 'never-written'))).toBeNull();
  }, 120_000);

  it('refuses a cut out of range before writing anything', async () => {
    const analyzed = await zooFile('alexnet');
    const outDir = path.join(workDir, 'bad-cut');
    expect(() => exportPartition(requestFor(analyzed, 999, outDir))).toThrow(/out of range/);
    expect(existsSync(outDir)).toBe(false);
  });
});

describe("the tail's config.pbtxt", () => {
  it('says what the executor serving the exported repository says at GET /v2/models/M/config', async () => {
    const analyzed = await zooFile('lenet');
    const outDir = path.join(workDir, 'served');
    const { partition } = exportPartition(requestFor(analyzed, 4, outDir));
    const pbtxt = readFileSync(path.join(outDir, partition.files.repository?.config ?? ''), 'utf8');
    // The facts of config.pbtxt: each tensor block's name, data type and dims.
    const blocks = (section: string) =>
      [...(new RegExp(`^${section} \\[([\\s\\S]*?)^\\]`, 'm').exec(pbtxt)?.[1] ?? '').matchAll(/name: "([^"]+)"\s+data_type: (\w+)\s+dims: \[ ([^\]]*) \]/g)].map((m) => ({
        name: m[1],
        data_type: m[2],
        dims: m[3].trim() === '' ? [] : m[3].split(', ').map(Number)
      }));
    const executor = await startExecutorProcess(['--models', path.join(outDir, 'repository')]);
    try {
      const model = repositoryModelName('lenet.onnx');
      const served = (await (await fetch(`${executor.url}/v2/models/${model}/config`)).json()) as Record<string, unknown>;
      expect(served).toEqual({
        name: /^name: "([^"]+)"$/m.exec(pbtxt)?.[1],
        platform: /^platform: "([^"]+)"$/m.exec(pbtxt)?.[1],
        backend: /^backend: "([^"]+)"$/m.exec(pbtxt)?.[1],
        max_batch_size: Number(/^max_batch_size: (\d+)$/m.exec(pbtxt)?.[1]),
        input: blocks('input'),
        output: blocks('output')
      });
      expect((served.input as unknown[]).length).toBeGreaterThan(0);
    } finally {
      await executor.stop();
    }
  }, 120_000);

  it('writes a dimension beyond 2^53 with its exact digits, and no rank for an output of unknown rank', async () => {
    const huge = '1152921504606846977'; // 2^60 + 1: a JS number would make it …976
    const b = new GraphBuilder('huge');
    const x = b.input('x', 'float32', [1, 4]);
    b.output(b.relu(b.relu(x)), 'float32', [1, 4]);
    const proto = b.toProto();
    const dim = proto.graph?.input?.[0].type?.tensorType?.shape?.dim?.[1];
    if (!dim) throw new Error('the builder wrote no dims');
    dim.dimValue = Long.fromString(huge);
    writeFileSync(path.join(workDir, 'huge.onnx'), encodeModel(proto));
    const analyzed = await analyzeModelFile(path.join(workDir, 'huge.onnx'), { runtimeShapes: 'never' });
    const outDir = path.join(workDir, 'huge-export');
    const { partition } = exportPartition(requestFor(analyzed, 0, outDir));
    const pbtxt = readFileSync(path.join(outDir, partition.files.repository?.config ?? ''), 'utf8');
    expect(pbtxt).toContain(`dims: [ 1, ${huge} ]`);
    expect(pbtxt).not.toContain('1152921504606846976');

    // An op no one knows: the output after it has an unknown rank (runtime shapes off).
    const unknown = new GraphBuilder('unknown-rank');
    const input = unknown.input('input', 'float32', [1, 3, 8, 8]);
    const conv = unknown.conv(input, { inChannels: 3, outChannels: 4, kernel: 3, pad: 1, name: '/conv' });
    unknown.output(unknown.relu(unknown.node('MysteryOp', [conv], {}, { domain: 'com.example', name: '/mystery' })[0]), 'float32', null);
    const unknownProto = unknown.toProto();
    unknownProto.opsetImport.push(new onnx.OperatorSetIdProto({ domain: 'com.example', version: int64(1) }));
    writeFileSync(path.join(workDir, 'unknown-rank.onnx'), encodeModel(unknownProto));
    const unknownAnalyzed = await analyzeModelFile(path.join(workDir, 'unknown-rank.onnx'), { runtimeShapes: 'never' });
    expect(unknownAnalyzed.analysis.outputs[0].shape).toBeNull();
    const unknownDir = path.join(workDir, 'unknown-export');
    const exported = exportPartition(requestFor(unknownAnalyzed, 1, unknownDir)).partition;
    const text = readFileSync(path.join(unknownDir, exported.files.repository?.config ?? ''), 'utf8');
    expect(text).not.toContain('dims: [ -1 ]');
    expect(text).toMatch(/^# outputs left to Triton's auto-complete from the model: .* has an unknown rank/);
    expect(text).not.toMatch(/^output \[/m);
    expect(text).toContain('dims: [ 1, 4, 8, 8 ]');
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
    // Errors about a file never quote its content.
    expect(() => readPartitionConfig('root:*:20212:0:99999:7:::', 'shadow')).toThrow(/^shadow: not JSON \(a syntax error[^)]*\)$/);
    expect(() => readPartitionConfig('{"schemaVersion": "root:*:20212"}', 'quoted')).toThrow(/^quoted: not a partition config version 2 \(it has a schemaVersion that is not a number\)$/);
  });
});
