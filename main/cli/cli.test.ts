// The CLI as a user runs it: the bundled `neurosurgeon` command in a child process, on
// models the project generates (including one with external data and one with an op
// nobody knows), with the JSON shapes README.md documents and one-line errors (exit 2).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { buildZooModel } from '../../app/zoo/index.js';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { encodeModel, int64 } from '../../app/onnx/writer.js';
import { packageRoot } from '../files/paths.js';

const root = packageRoot();
const bin = path.join(root, 'bin', 'neurosurgeon.js');
let dir: string;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectOneLineError(result: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(result.code).toBe(2);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(/^neurosurgeon: /);
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/** LeNet with every initializer moved to a side file, as large PyTorch exports are saved. */
function writeExternalDataModel(folder: string): string {
  const proto = onnx.ModelProto.decode(buildZooModel('lenet', { seed: 2 }));
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const tensor of proto.graph?.initializer ?? []) {
    const raw = tensor.rawData ?? new Uint8Array();
    chunks.push(raw);
    tensor.externalData = [
      new onnx.StringStringEntryProto({ key: 'location', value: 'lenet.weights' }),
      new onnx.StringStringEntryProto({ key: 'offset', value: String(offset) }),
      new onnx.StringStringEntryProto({ key: 'length', value: String(raw.byteLength) })
    ];
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.rawData = new Uint8Array();
    offset += raw.byteLength;
  }
  writeFileSync(path.join(folder, 'lenet.weights'), Buffer.concat(chunks));
  const file = path.join(folder, 'lenet-external.onnx');
  writeFileSync(file, encodeModel(proto));
  return file;
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-cli-'));
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 1 }));
  writeFileSync(path.join(dir, 'resnet18.onnx'), buildZooModel('resnet18', { seed: 1, weights: 'zeros' }));
});

describe('neurosurgeon analyze', () => {
  it('prints the documented JSON', () => {
    const result = cli('analyze', 'lenet.onnx', '--json');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(Object.keys(report.model)).toEqual(expect.arrayContaining(['path', 'irVersion', 'opset', 'nodes', 'params', 'macs', 'inputs', 'outputs']));
    expect(report.model).toMatchObject({ irVersion: 8, opset: 17, layers: 9, nodes: 9, weightOnlyNodes: 0, symbolicDims: [], params: 431_080 });
    expect(report.model.inputs).toEqual([expect.objectContaining({ name: 'input', shape: [1, 1, 28, 28], dtype: 'float32' })]);
    expect(report.model.macs).toBe(288_000 + 1_600_000 + 400_000 + 5_000 + 30);
    expect(report.layers[0]).toMatchObject({ index: 0, name: '/conv1/Conv', op: 'Conv', outputBytes: 20 * 24 * 24 * 4, params: 520, macs: 288_000 });
    expect(report.layers[0].outputs[0]).toMatchObject({ shape: [1, 20, 24, 24], dtype: 'float32', bytes: 46_080, shapeSource: 'static' });
  });

  it('prints a readable table without --json', () => {
    const result = cli('analyze', 'lenet.onnx');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\/conv1\/Conv\s+Conv\s+\[1,20,24,24\]/);
    expect(result.stdout).toMatch(/9 layers, 431\.1 K parameters/);
  });

  it('reads weights from external data files, and names a missing one', () => {
    const file = writeExternalDataModel(dir);
    const result = cli('analyze', file, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).model.params).toBe(431_080);
    const split = cli('split', file, '--cut', '4', '--out', path.join(dir, 'external-split'));
    expect(split.code).toBe(0);
    const moved = path.join(dir, 'moved');
    mkdirSync(moved);
    writeFileSync(path.join(moved, 'lenet-external.onnx'), readFileSync(file));
    expectOneLineError(cli('analyze', path.join(moved, 'lenet-external.onnx')), /missing external data file "lenet\.weights" \(tensor /);
    writeFileSync(path.join(dir, 'lenet.weights'), new Uint8Array(10));
    expectOneLineError(cli('analyze', file), /external data file "lenet\.weights" is too short/);
    expectOneLineError(cli('analyze', path.join(dir, 'lenet-missing.onnx')), /lenet-missing\.onnx: no such file/);
  });

  it('goes on past an op it does not know and flags it', () => {
    const b = new GraphBuilder('custom');
    const x = b.input('input', 'float32', [1, 3, 16, 16]);
    const c = b.conv(x, { inChannels: 3, outChannels: 8, kernel: 3, pad: 1, name: '/conv' });
    const mystery = b.node('MysteryOp', [c], {}, { domain: 'com.example', name: '/mystery' })[0];
    const r = b.relu(mystery);
    b.output(r, 'float32', null);
    const proto = b.toProto();
    proto.opsetImport.push(new onnx.OperatorSetIdProto({ domain: 'com.example', version: int64(1) }));
    writeFileSync(path.join(dir, 'custom.onnx'), encodeModel(proto));
    const result = cli('analyze', 'custom.onnx', '--json');
    expect(result.code).toBe(0);
    const layers = JSON.parse(result.stdout).layers;
    expect(layers[0].macs).toBe(8 * 16 * 16 * 27);
    expect(layers[1]).toMatchObject({ op: 'MysteryOp', macs: null });
    expect(layers[1].flags).toContain('unknown-op');
    expect(result.stderr).toMatch(/warning: onnxruntime could not load the model/);
  });

  it('names the problem for files that are not ONNX or are cut short', () => {
    writeFileSync(path.join(dir, 'notes.onnx'), 'these are my notes, not a model');
    expectOneLineError(cli('analyze', 'notes.onnx'), /notes\.onnx: not an ONNX model/);
    const bytes = readFileSync(path.join(dir, 'lenet.onnx'));
    writeFileSync(path.join(dir, 'truncated.onnx'), bytes.subarray(0, bytes.length >> 1));
    expectOneLineError(cli('analyze', 'truncated.onnx'), /truncated\.onnx: truncated ONNX model/);
    const debug = cli('analyze', 'notes.onnx', '--debug');
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('neurosurgeon plan and split', () => {
  it('plans every cut with the documented JSON, best cuts and the DAG partition', () => {
    const result = cli('plan', 'resnet18.onnx', '--network', 'lte', '--load', '2', '--dag', '--json');
    expect(result.code).toBe(0);
    const plan = JSON.parse(result.stdout);
    expect(plan.objective).toBe('latency');
    expect(plan.network).toMatchObject({ name: 'lte', uplinkMbps: 5.85 });
    expect(plan.cuts).toHaveLength(50);
    expect(Object.keys(plan.cuts[0])).toEqual(
      expect.arrayContaining(['cut', 'crossing', 'uploadBytes', 'downloadBytes', 'localMs', 'uploadMs', 'remoteMs', 'downloadMs', 'totalMs', 'energyMJ'])
    );
    expect(plan.cuts[0].crossing).toEqual(['input']);
    expect(plan.cuts[0].uploadBytes).toBe(3 * 224 * 224 * 4);
    const bestLatency = Math.min(...plan.cuts.map((c: { totalMs: number }) => c.totalMs));
    expect(plan.cuts[plan.best.latency].totalMs).toBe(bestLatency);
    expect(plan.dag.totalMs).toBeLessThanOrEqual(bestLatency + 1e-9);
    expect(Array.isArray(plan.dag.localNodes)).toBe(true);
  });

  it('takes custom network numbers and rejects bad ones', () => {
    const result = cli('plan', 'lenet.onnx', '--network', '3g', '--uplink-mbps', '50', '--rtt-ms', '5', '--objective', 'energy', '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).network).toMatchObject({ uplinkMbps: 50, downlinkMbps: 2, rttMs: 5 });
    expectOneLineError(cli('plan', 'lenet.onnx', '--network', 'carrier-pigeon'), /unknown network preset "carrier-pigeon"; valid presets: wifi, lte, 3g, 5g, unshaped/);
    expectOneLineError(cli('plan', 'lenet.onnx', '--uplink-mbps', '-3'), /--uplink-mbps must be a positive number/);
  });

  it('plans for a slower device with --device-slowdown', () => {
    const plain = JSON.parse(cli('plan', 'lenet.onnx', '--json').stdout);
    const slowed = JSON.parse(cli('plan', 'lenet.onnx', '--device-slowdown', '4', '--json').stdout);
    expect(slowed.layers.map((l: { localMs: number }) => l.localMs)).toEqual(plain.layers.map((l: { localMs: number }) => l.localMs * 4));
    expect(slowed.layers.map((l: { remoteMs: number }) => l.remoteMs)).toEqual(plain.layers.map((l: { remoteMs: number }) => l.remoteMs));
    expect(slowed.latencies.local).toMatch(/× 4 \(emulated slower device\)/);
    expectOneLineError(cli('plan', 'lenet.onnx', '--device-slowdown', '0'), /--device-slowdown must be a positive number/);
  });

  it('refuses a broken graph in one line naming the value', () => {
    const b = new GraphBuilder('broken', { weights: 'zeros' });
    const x = b.input('x', 'float32', [1, 4]);
    b.output(b.op('Add', [x, 'ghost'], {}, '/add'), 'float32', [1, 4]);
    writeFileSync(path.join(dir, 'broken.onnx'), b.toBytes());
    expectOneLineError(cli('analyze', 'broken.onnx'), /node "\/add" \(Add\) reads "ghost", which no node, model input or initializer produces/);
    expectOneLineError(cli('plan', 'broken.onnx'), /reads "ghost"/);
  });

  it('writes head, tail and partition.json that run like the full model', async () => {
    const out = path.join(dir, 'split-lenet');
    const result = cli('split', 'lenet.onnx', '--cut', '4', '--out', out);
    expect(result.code).toBe(0);
    const config = JSON.parse(readFileSync(path.join(out, 'partition.json'), 'utf8'));
    expect(config).toMatchObject({ schemaVersion: 1, cut: 4, head: 'head.onnx', tail: 'tail.onnx' });
    expect(config.crossing).toEqual([expect.objectContaining({ dtype: 'float32', shape: [1, 50, 4, 4], bytes: 3200 })]);
    const input = new ort.Tensor('float32', Float32Array.from({ length: 784 }, (_, i) => Math.sin(i)), [1, 1, 28, 28]);
    const full = await (await ort.InferenceSession.create(path.join(dir, 'lenet.onnx'))).run({ input });
    const head = await (await ort.InferenceSession.create(path.join(out, 'head.onnx'))).run({ input });
    const tail = await (await ort.InferenceSession.create(path.join(out, 'tail.onnx'))).run(head);
    const expected = full.output.data as Float32Array;
    const actual = tail.output.data as Float32Array;
    expect(Array.from(actual).map((v, i) => Math.abs(v - expected[i]) < 1e-5)).not.toContain(false);

    expectOneLineError(cli('split', 'lenet.onnx', '--cut', '4', '--out', out), /head\.onnx already exists; use --force to overwrite/);
    expect(cli('split', 'lenet.onnx', '--cut', '0', '--out', out, '--force').code).toBe(0);
    expect(existsSync(path.join(out, 'head.onnx'))).toBe(false);
    expectOneLineError(cli('split', 'lenet.onnx', '--cut', '10', '--out', out, '--force'), /cut 10 is out of range: the model has 9 layers \(cuts 0\.\.9\)/);
    expectOneLineError(cli('split', 'lenet.onnx', '--cut', 'middle', '--out', out, '--force'), /--cut expects a number, "auto" or "dag"/);
  });

  it('splits along the DAG min-cut', () => {
    const out = path.join(dir, 'split-dag');
    const result = cli('split', 'resnet18.onnx', '--cut', 'dag', '--network', 'wifi', '--out', out);
    expect(result.code).toBe(0);
    const config = JSON.parse(readFileSync(path.join(out, 'partition.json'), 'utf8'));
    expect(config.method).toBe('dag');
    expect(config.cut).toBeNull();
  });
});

describe('neurosurgeon zoo and help', () => {
  it('writes selected models, keeps them on a second call, and names unknown ids', () => {
    const out = path.join(dir, 'zoo');
    const first = cli('zoo', '--out', out, '--only', 'lenet', 'senna-pos');
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/\[1\/2\] lenet: written/);
    expect(existsSync(path.join(out, 'senna-pos.onnx'))).toBe(true);
    const manifest = JSON.parse(readFileSync(path.join(out, 'zoo.json'), 'utf8'));
    expect(manifest.models.map((m: { id: string }) => m.id)).toEqual(['lenet', 'senna-pos']);
    expect(cli('zoo', '--out', out, '--only', 'lenet').stderr).toMatch(/lenet: up to date/);
    expectOneLineError(cli('zoo', '--out', out, '--only', 'lenet5'), /unknown zoo model 'lenet5'; valid ids: alexnet/);
  });

  it('shows help and exits 2 on a usage error', () => {
    const help = cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/analyze \[options\] <model>/);
    expect(help.stdout).toMatch(/zoo \[options\]/);
    const bad = cli('analyze');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/missing required argument 'model'/);
  });

  it("prints commander's own errors as one neurosurgeon: line", () => {
    expectOneLineError(cli('analyze'), /^neurosurgeon: missing required argument 'model'; see neurosurgeon --help$/m);
    expectOneLineError(cli('anlyze', 'lenet.onnx'), /^neurosurgeon: unknown command 'anlyze' \(Did you mean analyze\?\); see neurosurgeon --help$/m);
    expectOneLineError(cli('plan', 'lenet.onnx', '--bogus'), /unknown option '--bogus'/);
    expectOneLineError(cli('run', 'lenet.onnx'), /required option '--executor <url>' not specified/);
  });

  it.runIf(process.platform === 'linux')('pins itself with --cpus, says where it runs, and refuses a CPU list it cannot take in one line', () => {
    const pinned = cli('--cpus', '0', 'analyze', 'lenet.onnx', '--json');
    expect(pinned.code).toBe(0);
    expect(pinned.stderr).toBe('neurosurgeon: running on CPU 0\n');
    expect(JSON.parse(pinned.stdout).layers.length).toBeGreaterThan(0);
    const auto = cli('--threads', '1', '--cpus', 'auto', 'analyze', 'lenet.onnx', '--json');
    expect(auto.code).toBe(0);
    expect(auto.stderr).toMatch(/^neurosurgeon: running on CPU \d+ \(memory latency (CPU \d+ \d+ ns(, )?)+\)\n$/);
    expectOneLineError(cli('--cpus', '0-', 'analyze', 'lenet.onnx'), /^neurosurgeon: "0-" is not a CPU list: give CPU numbers and ranges such as 0 or 0-3,6$/m);
    expectOneLineError(cli('--cpus', '4095', 'analyze', 'lenet.onnx'), /^neurosurgeon: CPU 4095 is not one of this machine's online CPUs \([\d,-]+\)$/m);
  });

  it('refuses an unknown NEUROSURGEON_PREPACKING before any command runs', () => {
    const result = spawnSync(process.execPath, [bin, 'analyze', 'lenet.onnx'], { encoding: 'utf8', cwd: dir, env: { ...process.env, NEUROSURGEON_PREPACKING: 'sometimes' } });
    expectOneLineError({ code: result.status, stdout: result.stdout, stderr: result.stderr }, /^neurosurgeon: NEUROSURGEON_PREPACKING must be 'auto' or 'always', got 'sometimes'$/m);
    expect(result.stdout).toBe('');
  });
});

describe('files the user points at, and where the CLI writes', () => {
  /** Runs the CLI and says how long it took. */
  function timed(...args: string[]) {
    const started = performance.now();
    const result = cli(...args);
    return { ...result, ms: performance.now() - started };
  }

  it('refuses /dev/zero, a FIFO and a folder at once with exit 2', () => {
    execFileSync('mkfifo', [path.join(dir, 'x.onnx')]);
    for (const [file, pattern] of [
      ['/dev/zero', /^neurosurgeon: \/dev\/zero: is a character device, not a regular file$/m],
      ['x.onnx', /^neurosurgeon: x\.onnx: is a FIFO \(named pipe\), not a regular file$/m],
      [os.tmpdir(), /is a folder, not a file$/m]
    ] as const) {
      const result = timed('analyze', file);
      expectOneLineError(result, pattern);
      // Node's start-up and the CLI's imports take most of this; the refusal itself is immediate.
      expect(result.ms).toBeLessThan(5000);
    }
    expectOneLineError(cli('plan', 'lenet.onnx', '--local', 'x.onnx'), /x\.onnx: is a FIFO/);
    expectOneLineError(cli('profile', 'lenet.onnx', '--input', 'input=/dev/zero'), /\/dev\/zero: is a character device/);
  });

  it('never echoes the bytes of a file that is not what it should be', () => {
    writeFileSync(path.join(dir, 'shadow.json'), 'root:*:20212:0:99999:7:::\nsecret-token\n');
    const result = cli('plan', 'lenet.onnx', '--local', 'shadow.json');
    expectOneLineError(result, /shadow\.json: not JSON \(a syntax error/);
    expect(result.stderr).not.toMatch(/root|secret/);
    const power = cli('plan', 'lenet.onnx', '--power', 'shadow.json');
    expectOneLineError(power, /shadow\.json: not JSON/);
    expect(power.stderr).not.toMatch(/root|secret/);
  });

  it('names the path and the cause when it cannot write, fast, for procfs, sysfs and device files', () => {
    for (const args of [
      ['split', 'lenet.onnx', '--cut', '3', '--out', '/proc/neurosurgeon-x'],
      ['export', 'lenet.onnx', '--cut', '3', '--out', '/proc/neurosurgeon-x/y'],
      ['profile', 'lenet.onnx', '--runs', '1', '--out', '/proc/neurosurgeon-x/profile.json'],
      ['zoo', '--only', 'lenet', '--out', '/sys/neurosurgeon-x']
    ]) {
      const result = timed(...args);
      const out = args[args.length - 1];
      expectOneLineError(result, new RegExp(`^neurosurgeon: cannot write ${out.replace(/[/.]/g, '\\$&')}: it is on (procfs|sysfs), a special file system \\(.+\\), not a place for files$`, 'm'));
      expect(result.ms).toBeLessThan(5000);
    }
    writeFileSync(path.join(dir, 'a-file'), 'x');
    expectOneLineError(cli('split', 'lenet.onnx', '--cut', '3', '--out', 'a-file/out'), /^neurosurgeon: cannot write a-file\/out: .*a-file is not a folder$/m);
  });

  it('writes split files together or not at all', () => {
    const out = path.join(dir, 'split-atomic');
    expect(cli('split', 'lenet.onnx', '--cut', '3', '--out', out).code).toBe(0);
    const head = readFileSync(path.join(out, 'head.onnx'));
    const config = readFileSync(path.join(out, 'partition.json'), 'utf8');
    // The tail cannot be written (a folder holds its name): nothing of the new split may land.
    rmSync(path.join(out, 'tail.onnx'));
    mkdirSync(path.join(out, 'tail.onnx', 'inside'), { recursive: true });
    const failed = cli('split', 'lenet.onnx', '--cut', '5', '--out', out, '--force');
    expectOneLineError(failed, /cannot write .*tail\.onnx: it is a folder/);
    expect(readFileSync(path.join(out, 'head.onnx')).equals(head)).toBe(true);
    expect(readFileSync(path.join(out, 'partition.json'), 'utf8')).toBe(config);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it("prints no onnxruntime log line when profiling a model onnxruntime refuses", () => {
    const b = new GraphBuilder('refused');
    const x = b.input('input', 'float32', [1, 4]);
    b.output(b.node('MysteryOp', [x], {}, { domain: 'com.example', name: '/mystery' })[0], 'float32', [1, 4]);
    const proto = b.toProto();
    proto.opsetImport.push(new onnx.OperatorSetIdProto({ domain: 'com.example', version: int64(1) }));
    writeFileSync(path.join(dir, 'refused.onnx'), encodeModel(proto));
    const result = cli('profile', 'refused.onnx', '--runs', '1', '--warmup', '0');
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/\x1b|onnxruntime:/);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('neurosurgeon:'));
    expect(errors).toEqual([expect.stringMatching(/^neurosurgeon: onnxruntime cannot run refused\.onnx on cpu: .*MysteryOp/)]);
  });
});
