// `neurosurgeon export` as users run it (the built CLI in a child process): a LeNet export
// with its files and decision table, --json, the refusal to overwrite without --force (one
// line on stderr, exit 2), a bad --cut, and the KServe manifest with --storage-uri.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildZooModel } from '../../app/zoo/index.js';
import { load } from 'js-yaml';
import { partitionSchemaProblem } from '../split/export.js';
import { kserveManifestProblems, type InferenceServiceManifest } from '../split/kserve.js';
import { packageRoot } from '../files/paths.js';

const root = packageRoot();
const bin = path.join(root, 'bin', 'neurosurgeon.js');
let dir: string;

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(root, 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` first (npm test does)');
  dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-export-cli-'));
  writeFileSync(path.join(dir, 'lenet.onnx'), buildZooModel('lenet', { seed: 2 }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('neurosurgeon export', () => {
  it('writes head, tail, repository and a schema-valid partition.json', () => {
    const result = cli('export', 'lenet.onnx', '--cut', '3', '--network', '3g', '--out', 'out');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote .*head\.onnx/);
    expect(result.stdout).toMatch(/repository\/lenet-tail\/config\.pbtxt/);
    expect(result.stdout).toMatch(/decision table \(latency, uplink Mbps → cut\):/);
    const config = JSON.parse(readFileSync(path.join(dir, 'out', 'partition.json'), 'utf8'));
    expect(partitionSchemaProblem(config)).toBeNull();
    expect(config.cut).toBe(3);
    expect(config.assumptions.network.name).toBe('3g');
    expect(existsSync(path.join(dir, 'out', 'repository', 'lenet-tail', '1', 'model.onnx'))).toBe(true);
  });

  it('refuses to replace an export without --force, and replaces it with --force', () => {
    const refused = cli('export', 'lenet.onnx', '--cut', 'auto', '--out', 'out');
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^neurosurgeon: .*out already exists; use --force to overwrite/);
    const forced = cli('export', 'lenet.onnx', '--cut', 'auto', '--out', 'out', '--force', '--json', '--objective', 'energy', '--uplink-mbps', '2');
    expect(forced.code).toBe(0);
    const printed = JSON.parse(forced.stdout);
    expect(printed.partition.method).toBe('auto');
    expect(printed.partition.decisionTable.objective).toBe('energy');
    expect(printed.partition.assumptions.network.uplinkMbps).toBe(2);
    expect(JSON.parse(readFileSync(path.join(dir, 'out', 'partition.json'), 'utf8'))).toEqual(printed.partition);
  });

  it('names a bad cut in one line', () => {
    const result = cli('export', 'lenet.onnx', '--cut', 'middle', '--out', 'bad');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^neurosurgeon: --cut expects a number, "auto" or "dag", got "middle"\n$/);
    expect(existsSync(path.join(dir, 'bad'))).toBe(false);
  });

  it('writes the tail as a KServe InferenceService serving from --storage-uri, with a deploy note', () => {
    const result = cli('export', 'lenet.onnx', '--cut', '3', '--out', 'kserve', '--storage-uri', 'gs://bucket/lenet/repository');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/wrote .*kserve\.yaml/);
    expect(result.stdout).toMatch(/wrote .*DEPLOY\.md/);
    expect(result.stdout).not.toMatch(/default PVC/);
    const manifest = load(readFileSync(path.join(dir, 'kserve', 'kserve.yaml'), 'utf8')) as InferenceServiceManifest;
    expect(kserveManifestProblems(manifest)).toEqual([]);
    expect(manifest.spec.predictor.model.storageUri).toBe('gs://bucket/lenet/repository');
    const defaulted = cli('export', 'lenet.onnx', '--cut', '3', '--out', 'kserve-default');
    expect(defaulted.stdout).toMatch(/kserve\.yaml serves the repository from the default PVC location; give --storage-uri/);
  });

  it('refuses a storage URI KServe cannot fetch from in one line', () => {
    const result = cli('export', 'lenet.onnx', '--cut', '3', '--out', 'ftp', '--storage-uri', 'ftp://host/x');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^neurosurgeon: --storage-uri: the storage URI must start with one of s3:\/\/, gs:\/\/, pvc:\/\/.*, got "ftp:\/\/host\/x"\n$/);
    expect(existsSync(path.join(dir, 'ftp'))).toBe(false);
  });
});
