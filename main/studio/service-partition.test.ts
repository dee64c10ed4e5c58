// The studio service's split-analysis requests on real models, a real executor process and
// real files: partition.export (only under the export folder, by name — the web host's own
// or the one picked in Electron's dialog and remembered —, replacing only an earlier
// export), partition.import (bytes and path; a config made for another model is refused, a
// file that is not one is refused without quoting it), executor.measureLink, and
// sweep.start with progress, its result and cancel.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedModel, StudioEvent, StudioEventName, StudioResult } from '../../app/studio/contract.js';
import { NETWORK_PRESETS } from '../../app/partition/presets.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { partitionSchemaProblem } from '../split/export.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { connectExecutor } from './executor-connector.js';
import { StudioService } from './service.js';

let work: string;
let executor: ExecutorProcess;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'studio-partition-'));
  copyFileSync(ensureZooModel('lenet', defaultZooDir()), path.join(work, 'lenet.onnx'));
  ensureZooModel('alexnet', defaultZooDir());
  executor = await startExecutorProcess([]);
}, 120_000);

afterAll(async () => {
  await executor?.stop();
  rmSync(work, { recursive: true, force: true });
});

let lastHome = '';

function makeService(options: { home?: string; chooseFolder?: (current: string | null) => Promise<string | null> } = {}): StudioService {
  lastHome = options.home ?? mkdtempSync(path.join(work, 'home-'));
  return new StudioService({
    host: options.chooseFolder ? 'electron' : 'web',
    home: lastHome,
    connect: connectExecutor,
    supervisor: null,
    log: () => undefined,
    ...(options.chooseFolder ? { chooseFolder: options.chooseFolder } : {})
  });
}

function nextEvent<E extends StudioEventName>(service: StudioService, event: E, match: (payload: StudioEvent<E>) => boolean = () => true): Promise<StudioEvent<E>> {
  return new Promise((resolve) => {
    const off = service.on((name: StudioEventName, payload: unknown) => {
      if (name === event && match(payload as StudioEvent<E>)) {
        off();
        resolve(payload as StudioEvent<E>);
      }
    });
  });
}

const lte = NETWORK_PRESETS.lte.network;

describe('partition.export and partition.import', () => {
  it('exports into the studio home, refuses to replace, and restores the view from the file', async () => {
    const service = makeService();
    const opened = (await service.handle('model.openPath', { path: path.join(work, 'lenet.onnx') })) as OpenedModel;
    const modelId = opened.model.id;
    const exported = (await service.handle('partition.export', { modelId, cut: 4, network: lte, serverLoad: 2, objective: 'energy' })) as StudioResult<'partition.export'>;
    expect(path.dirname(exported.dir)).toBe(path.join(lastHome, 'exports'));
    expect(existsSync(path.join(exported.dir, 'head.onnx'))).toBe(true);
    expect(exported.files.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['head.onnx', 'tail.onnx', 'partition.json', 'model.onnx', 'config.pbtxt']));
    const config = JSON.parse(readFileSync(path.join(exported.dir, 'partition.json'), 'utf8'));
    expect(partitionSchemaProblem(config)).toBeNull();
    expect(config.model.sha256).toBe(modelId);
    expect(config.assumptions.radio).toEqual(NETWORK_PRESETS.lte.radio);
    expect(config.assumptions.latencies.local).toMatch(/estimated/);

    const name = path.basename(exported.dir);
    await expect(service.handle('partition.export', { modelId, cut: 2, network: lte, serverLoad: 1, objective: 'latency', name })).rejects.toMatchObject({
      name: 'ExportError',
      message: `${exported.dir} already exists; tick Overwrite to replace it`
    });
    const replaced = (await service.handle('partition.export', { modelId, cut: 'dag', network: lte, serverLoad: 1, objective: 'latency', name, overwrite: true })) as StudioResult<'partition.export'>;
    expect(replaced.dir).toBe(exported.dir);
    const radio = { uplinkAlphaMwPerMbps: 1, downlinkAlphaMwPerMbps: 2, betaMw: 3, tailMw: 4 };
    const device = { computeMw: 1500, idleMw: 100 };
    const custom = (await service.handle('partition.export', { modelId, cut: 1, network: { ...lte, name: 'custom' }, serverLoad: 1, objective: 'latency', radio, device })) as StudioResult<'partition.export'>;
    const customConfig = JSON.parse(readFileSync(path.join(custom.dir, 'partition.json'), 'utf8'));
    expect(customConfig.assumptions.radio).toEqual(radio);
    expect(customConfig.assumptions.device).toEqual(device);

    const bytes = new Uint8Array(readFileSync(path.join(exported.dir, 'partition.json')));
    const view = await service.handle('partition.import', { bytes, fileName: 'partition.json', modelId });
    expect(view).toEqual({ modelId, cut: 'dag', network: lte, serverLoad: 1, objective: 'latency' });
    expect(await service.handle('partition.import', { path: path.join(exported.dir, 'partition.json') })).toEqual(view);
    await service.dispose();
  }, 120_000);

  it('refuses a config made for another model, and one that is not a partition config', async () => {
    const service = makeService();
    const lenet = (await service.handle('model.openPath', { path: path.join(work, 'lenet.onnx') })) as OpenedModel;
    const exported = (await service.handle('partition.export', { modelId: lenet.model.id, cut: 3, network: lte, serverLoad: 1, objective: 'latency' })) as StudioResult<'partition.export'>;
    const alexnet = (await service.handle('model.openSample', { id: 'alexnet' })) as OpenedModel;
    const bytes = new Uint8Array(readFileSync(path.join(exported.dir, 'partition.json')));
    await expect(service.handle('partition.import', { bytes, fileName: 'partition.json', modelId: alexnet.model.id })).rejects.toMatchObject({
      name: 'PartitionConfigError',
      message: expect.stringMatching(/^partition\.json was made for lenet\.onnx \(sha256 [0-9a-f]{12}…\), not alexnet\.onnx; open that model first$/)
    });
    await expect(service.handle('partition.import', { bytes: new TextEncoder().encode('{"schemaVersion": 2}'), fileName: 'x.json' })).rejects.toMatchObject({
      name: 'PartitionConfigError',
      message: expect.stringContaining('x.json: does not match the partition config schema')
    });
    await service.dispose();
  }, 120_000);
});

describe('where the studio writes', () => {
  const request = (modelId: string, extra: Record<string, unknown> = {}) => ({ modelId, cut: 3, network: lte, serverLoad: 1, objective: 'latency', ...extra });

  it('in the web host: only under HOME/exports, by name, never a path the page sends', async () => {
    const service = makeService();
    const { model } = (await service.handle('model.openPath', { path: path.join(work, 'lenet.onnx') })) as OpenedModel;
    const root = path.join(lastHome, 'exports');
    expect(await service.handle('partition.exportFolder', {})).toEqual({ dir: root, canChoose: false });
    await expect(service.handle('partition.chooseExportFolder', {})).rejects.toMatchObject({ name: 'ExportError', message: expect.stringContaining(`exports only into ${root}`) });
    const named = (await service.handle('partition.export', request(model.id, { name: 'lenet cut 3' }))) as StudioResult<'partition.export'>;
    expect(named.dir).toBe(path.join(root, 'lenet cut 3'));
    const escape = path.join(work, 'escaped');
    for (const params of [
      request(model.id, { name: '../escaped' }),
      request(model.id, { name: escape }),
      request(model.id, { name: '..' }),
      request(model.id, { name: 'a/b' }),
      request(model.id, { outDir: escape }),
      request(model.id, { outDir: '/proc/x', overwrite: true })
    ]) {
      await expect(service.handle('partition.export', params)).rejects.toMatchObject({ name: 'ContractError' });
    }
    expect(existsSync(escape)).toBe(false);
    // A folder of the user's under the export folder is never replaced, even with overwrite.
    mkdirSync(path.join(root, 'mine'));
    writeFileSync(path.join(root, 'mine', 'notes.txt'), 'my notes');
    await expect(service.handle('partition.export', request(model.id, { name: 'mine', overwrite: true }))).rejects.toMatchObject({
      name: 'ExportError',
      message: `${path.join(root, 'mine')} is not replaced: it is not an earlier export (it has no partition.json)`
    });
    expect(readdirSync(path.join(root, 'mine'))).toEqual(['notes.txt']);
    // The page cannot set the export folder through the preferences either.
    await expect(service.handle('prefs.set', { exportDir: '/tmp' })).rejects.toMatchObject({ name: 'ContractError' });
    await service.dispose();
  }, 120_000);

  it('in Electron: into the folder picked in the dialog, asked once and remembered', async () => {
    const picked = mkdtempSync(path.join(work, 'picked-'));
    const asked: (string | null)[] = [];
    let answer: string | null = null;
    const chooseFolder = async (current: string | null) => {
      asked.push(current);
      return answer;
    };
    const service = makeService({ chooseFolder });
    const home = lastHome;
    const { model } = (await service.handle('model.openPath', { path: path.join(work, 'lenet.onnx') })) as OpenedModel;
    // Closing the dialog writes nothing.
    await expect(service.handle('partition.export', request(model.id))).rejects.toMatchObject({ name: 'ExportCancelledError' });
    expect(existsSync(path.join(home, 'exports'))).toBe(false);
    answer = picked;
    const first = (await service.handle('partition.export', request(model.id, { name: 'first' }))) as StudioResult<'partition.export'>;
    expect(first.dir).toBe(path.join(picked, 'first'));
    expect(asked).toEqual([null, null]);
    const second = (await service.handle('partition.export', request(model.id, { name: 'second' }))) as StudioResult<'partition.export'>;
    expect(second.dir).toBe(path.join(picked, 'second'));
    expect(asked).toHaveLength(2);
    expect(await service.handle('partition.exportFolder', {})).toEqual({ dir: picked, canChoose: true });
    answer = null;
    expect(await service.handle('partition.chooseExportFolder', {})).toEqual({ dir: picked, canChoose: true, chosen: false });
    expect(asked[2]).toBe(picked);
    await service.dispose();
    // Remembered across launches, in the preferences file but not in the page's preferences.
    const again = makeService({ home, chooseFolder });
    expect(await again.handle('partition.exportFolder', {})).toEqual({ dir: picked, canChoose: true });
    expect(await again.handle('prefs.get', {})).not.toHaveProperty('exportDir');
    await again.dispose();
  }, 120_000);

  it('imports a partition.json by path only from a regular file, and never quotes a file that is not one', async () => {
    const service = makeService();
    const shadow = path.join(work, 'shadow');
    writeFileSync(shadow, 'root:*:20212:0:99999:7:::\ndaemon:*:20212:0:99999:7:::\n');
    const refusal = service.handle('partition.import', { path: shadow });
    await expect(refusal).rejects.toMatchObject({ name: 'PartitionConfigError', message: expect.stringMatching(/^shadow: not JSON \(a syntax error[^)]*\)$/) });
    const fifo = path.join(work, 'partition-fifo.json');
    execFileSync('mkfifo', [fifo]);
    const started = performance.now();
    await expect(service.handle('partition.import', { path: fifo })).rejects.toMatchObject({ message: 'partition-fifo.json: is a FIFO (named pipe), not a regular file' });
    await expect(service.handle('partition.import', { path: '/dev/zero' })).rejects.toMatchObject({ message: 'zero: is a character device, not a regular file' });
    expect(performance.now() - started).toBeLessThan(1000);
    const bytes = new TextEncoder().encode('root:*:20212:0:99999:7:::');
    await expect(service.handle('partition.import', { bytes, fileName: 'shadow.json' })).rejects.toMatchObject({ message: expect.not.stringContaining('root') });
    await service.dispose();
  });
});

describe('executor.measureLink and sweep.start', () => {
  it('measures the link and sweeps LeNet through the executor with progress', async () => {
    const service = makeService();
    await service.handle('executor.connect', { url: executor.url });
    const link = (await service.handle('executor.measureLink', {})) as StudioResult<'executor.measureLink'>;
    expect(link.rttMs).toBeGreaterThan(0);
    expect(link.uplinkMbps).toBeGreaterThan(0);
    const opened = (await service.handle('model.openPath', { path: path.join(work, 'lenet.onnx') })) as OpenedModel;
    const progress: number[] = [];
    service.on((event, payload) => {
      if (event === 'sweep.progress') progress.push((payload as StudioEvent<'sweep.progress'>).fraction);
    });
    const { jobId } = (await service.handle('sweep.start', { modelId: opened.model.id, network: NETWORK_PRESETS.unshaped.network, every: 4, runs: 1 })) as { jobId: string };
    const done = await nextEvent(service, 'sweep.done', (p) => p.jobId === jobId);
    expect(done.error).toBeUndefined();
    expect(done.outcome).toBe('done');
    const nodes = opened.model.nodes.length;
    expect(done.result?.cuts.map((c) => c.cut)).toEqual(expect.arrayContaining([0, 4, nodes]));
    for (const cut of done.result?.cuts ?? []) {
      expect(cut.measuredMs).toBeGreaterThan(0);
      expect(cut.predictedMs).toBeGreaterThan(0);
    }
    expect(done.result?.measuredBest).not.toBeNull();
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[progress.length - 1]).toBe(1);

    const second = (await service.handle('sweep.start', { modelId: opened.model.id, network: lte, every: 1, runs: 3 })) as { jobId: string };
    expect(await service.handle('sweep.cancel', { jobId: second.jobId })).toEqual({ cancelled: true });
    const cancelled = await nextEvent(service, 'sweep.done', (p) => p.jobId === second.jobId);
    expect(cancelled.outcome).toBe('cancelled');
    expect(await service.handle('sweep.cancel', { jobId: second.jobId })).toEqual({ cancelled: false });
    await service.dispose();
  }, 300_000);
});
