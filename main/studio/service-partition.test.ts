// The studio service's split-analysis requests on real models, a real executor process and
// real files: partition.export (into the studio home when no folder is given, refusing to
// replace an export), partition.import (bytes and path; a config made for another model is
// refused), executor.measureLink, and sweep.start with progress, its result and cancel.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

function makeService(): StudioService {
  lastHome = mkdtempSync(path.join(work, 'home-'));
  return new StudioService({ host: 'web', home: lastHome, connect: connectExecutor, supervisor: null, log: () => undefined });
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

    await expect(
      service.handle('partition.export', { modelId, cut: 2, network: lte, serverLoad: 1, objective: 'latency', outDir: exported.dir })
    ).rejects.toMatchObject({ name: 'ExportError', message: expect.stringContaining('already exists') });
    const replaced = (await service.handle('partition.export', { modelId, cut: 'dag', network: lte, serverLoad: 1, objective: 'latency', outDir: exported.dir, overwrite: true })) as StudioResult<'partition.export'>;
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
