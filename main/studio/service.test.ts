// The studio service on real zoo models and real onnxruntime: opening (path, bytes,
// sample), broken files, profiling with progress, cancel and queueing, results kept per
// model across launches, and preferences with recovery from a corrupted file.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { OpenedModel, StudioEvent, StudioEventName } from '../../app/studio/contract.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import type { ExecutorConnector } from './executor-link.js';
import { executorOnThisMachine, localProfileStep, StudioService } from './service.js';
import { intraOpThreads } from '../profiling/providers.js';

const noExecutor: ExecutorConnector = () => {
  throw new Error('no executor in this test');
};

interface Recorded {
  event: StudioEventName;
  payload: unknown;
}

function makeService(home: string, log: string[] = []): { service: StudioService; events: Recorded[] } {
  const service = new StudioService({ host: 'web', home, connect: noExecutor, supervisor: null, log: (line) => log.push(line) });
  const events: Recorded[] = [];
  service.on((event, payload) => events.push({ event, payload }));
  return { service, events };
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

let work: string;
let lenetPath: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'studio-service-'));
  lenetPath = path.join(work, 'lenet copy.onnx');
  copyFileSync(ensureZooModel('lenet', defaultZooDir()), lenetPath);
  ensureZooModel('squeezenet1.1', defaultZooDir());
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function freshHome(): string {
  return mkdtempSync(path.join(work, 'home-'));
}

describe('StudioService requests', () => {
  it('describes itself with the AlexNet sample first and refuses unknown methods and bad parameters', async () => {
    const { service } = makeService(freshHome());
    const info = (await service.handle('app.info', {})) as { host: string; samples: { id: string }[] };
    expect(info.host).toBe('web');
    expect(info.samples[0]).toEqual({ id: 'alexnet', title: 'AlexNet' });
    expect(info.samples.map((s) => s.id)).toContain('transformer-large');
    await expect(service.handle('model.delete', {})).rejects.toThrow('unknown method "model.delete"');
    await expect(service.handle('model.openPath', { path: 42 })).rejects.toMatchObject({ name: 'ContractError', message: expect.stringContaining('model.openPath: bad parameters (path:') });
    await expect(service.handle('prefs.get', { extra: true })).rejects.toMatchObject({ name: 'ContractError' });
    await service.dispose();
  });

  it('opens a sample, a path and bytes of the same model into one model id', async () => {
    const home = freshHome();
    const { service } = makeService(home);
    const sample = (await service.handle('model.openSample', { id: 'lenet' })) as OpenedModel;
    expect(sample.source).toEqual({ kind: 'sample', label: 'LeNet (MNIST) (sample)', sampleId: 'lenet' });
    expect(sample.model.nodes.length).toBeGreaterThan(5);
    expect(sample.model.nodes[0].outputs[0].shape?.every((d) => typeof d === 'number')).toBe(true);
    expect(sample.model.totals.macs).toBeGreaterThan(0);
    expect(sample.profiles).toEqual({ local: null, remote: null });

    const byPath = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    expect(byPath.model.id).toBe(sample.model.id);
    expect(byPath.model.fileName).toBe('lenet copy.onnx');
    expect(byPath.source).toEqual({ kind: 'path', label: lenetPath, path: lenetPath });
    expect(await service.handle('model.recent', {})).toEqual([expect.objectContaining({ path: lenetPath, fileName: 'lenet copy.onnx' })]);

    const before = readdirSync(home).sort();
    const bytes = new Uint8Array(readFileSync(lenetPath));
    const uploaded = (await service.handle('model.openBytes', { fileName: 'C:\\models\\lenet.onnx', bytes })) as OpenedModel;
    expect(uploaded.model.id).toBe(sample.model.id);
    expect(uploaded.source).toEqual({ kind: 'upload', label: 'lenet.onnx' });
    expect(readdirSync(home).sort()).toEqual(before);
    await service.dispose();
  });

  it('reuses a model still in memory while its file is unchanged, and reads it again when it changes', async () => {
    const { service } = makeService(freshHome());
    const file = path.join(work, 'changing.onnx');
    copyFileSync(lenetPath, file);
    const first = (await service.handle('model.openPath', { path: file })) as OpenedModel;
    const again = (await service.handle('model.openPath', { path: file })) as OpenedModel;
    expect(again.model).toBe(first.model);
    copyFileSync(ensureZooModel('squeezenet1.1', defaultZooDir()), file);
    const changed = (await service.handle('model.openPath', { path: file })) as OpenedModel;
    expect(changed.model.id).not.toBe(first.model.id);
    expect(changed.model.nodes.length).not.toBe(first.model.nodes.length);
    await service.dispose();
  });

  it('answers a broken, truncated or missing file with one line naming it, and stays usable', async () => {
    const { service } = makeService(freshHome());
    const garbage = path.join(work, 'notes.onnx');
    writeFileSync(garbage, 'this is not a model, just some text that happens to end in .onnx\n');
    const truncated = path.join(work, 'truncated.onnx');
    const whole = readFileSync(lenetPath);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.byteLength / 2)));

    const failures = [
      service.handle('model.openPath', { path: garbage }),
      service.handle('model.openPath', { path: truncated }),
      service.handle('model.openPath', { path: path.join(work, 'missing.onnx') }),
      service.handle('model.openBytes', { fileName: 'half.onnx', bytes: new Uint8Array(whole.subarray(0, 5000)) }),
      service.handle('model.openBytes', { fileName: 'empty.onnx', bytes: new Uint8Array(0) }),
      service.handle('model.openSample', { id: 'nope' })
    ];
    const errors = await Promise.all(failures.map((p) => p.then(() => null, (e: Error) => e)));
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).not.toContain('\n');
    }
    expect(errors[0]).toMatchObject({ name: 'ModelFileError', message: expect.stringMatching(/notes\.onnx: not an ONNX model/) });
    expect(errors[1]).toMatchObject({ name: 'ModelFileError', message: expect.stringMatching(/truncated\.onnx: truncated ONNX model/) });
    expect(errors[2]).toMatchObject({ name: 'ModelFileError', message: expect.stringMatching(/missing\.onnx: no such file$/) });
    expect(errors[3]).toMatchObject({ name: 'ModelFileError', message: expect.stringMatching(/^half\.onnx: /) });
    expect(errors[4]).toMatchObject({ name: 'ModelFileError', message: 'empty.onnx: not an ONNX model: the file is empty' });
    expect(errors[5]).toMatchObject({ name: 'ZooError', message: expect.stringContaining('no sample "nope"') });
    expect(await service.handle('model.recent', {})).toEqual([]);

    const opened = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    expect(opened.model.nodes.length).toBeGreaterThan(0);
    await service.dispose();
  });
});

describe('StudioService profiling', () => {
  it('profiles on CPU with progress, keeps the result on disk, and shows it when the model is reopened', async () => {
    const home = freshHome();
    const { service, events } = makeService(home);
    const opened = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    const done = nextEvent(service, 'profile.done');
    // The profile runs in a child process (`neurosurgeon profile`), never in the studio's own.
    const sessions = vi.spyOn(ort.InferenceSession, 'create');
    const { jobId } = (await service.handle('profile.start', { modelId: opened.model.id, side: 'local', ep: 'cpu', runs: 3, warmup: 1 })) as { jobId: string };
    const result = await done;
    expect(sessions).not.toHaveBeenCalled();
    sessions.mockRestore();
    expect(result).toMatchObject({ jobId, modelId: opened.model.id, side: 'local', outcome: 'done' });
    expect(result.profile?.layers).toHaveLength(opened.model.nodes.length);
    expect(result.profile?.runs).toBeGreaterThanOrEqual(3); // more when another program made them unsteady
    // The CLI's defaults: the executor's optimisation level and this process's threads.
    expect(result.profile).toMatchObject({ graphOptimization: 'all', threads: intraOpThreads() });

    const progress = events.filter((e) => e.event === 'profile.progress').map((e) => e.payload as StudioEvent<'profile.progress'>);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.every((p) => p.jobId === jobId)).toBe(true);
    const fractions = progress.map((p) => p.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    expect([...new Set(progress.map((p) => p.phase))]).toEqual(['queued', 'calibrate', 'load', 'warmup', 'profile', 'overhead', 'done']);
    await service.dispose();

    const again = makeService(home).service;
    const reopened = (await again.handle('model.openSample', { id: 'lenet' })) as OpenedModel;
    expect(reopened.profiles.local?.date).toBe(result.profile?.date);
    expect(reopened.profiles.remote).toBeNull();
    await again.dispose();
  });

  it('cancels a running job and a queued one; earlier results stay', async () => {
    const home = freshHome();
    const { service } = makeService(home);
    const opened = (await service.handle('model.openSample', { id: 'squeezenet1.1' })) as OpenedModel;
    const modelId = opened.model.id;

    const firstProgress = nextEvent(service, 'profile.progress', (p) => p.phase === 'warmup' || p.phase === 'profile');
    const running = (await service.handle('profile.start', { modelId, side: 'local', ep: 'cpu', runs: 1000, warmup: 2 })) as { jobId: string };
    const queued = (await service.handle('profile.start', { modelId, side: 'local', ep: 'cpu', runs: 1000, warmup: 2 })) as { jobId: string };
    const runningDone = nextEvent(service, 'profile.done', (d) => d.jobId === running.jobId);
    const queuedDone = nextEvent(service, 'profile.done', (d) => d.jobId === queued.jobId);
    await firstProgress;
    expect(await service.handle('profile.cancel', { jobId: queued.jobId })).toEqual({ cancelled: true });
    expect(await service.handle('profile.cancel', { jobId: running.jobId })).toEqual({ cancelled: true });
    expect(await runningDone).toMatchObject({ outcome: 'cancelled', profile: null });
    expect(await queuedDone).toMatchObject({ outcome: 'cancelled', profile: null });
    expect(await service.handle('profile.cancel', { jobId: running.jobId })).toEqual({ cancelled: false });
    expect(existsSync(path.join(home, 'profiles', `${modelId}.json`))).toBe(false);

    // Jobs on one side run one after the other.
    const order: string[] = [];
    const off = service.on((event, payload) => {
      if (event === 'profile.progress' && order.at(-1) !== (payload as { jobId: string }).jobId) order.push((payload as { jobId: string }).jobId);
    });
    const lenet = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    const a = (await service.handle('profile.start', { modelId: lenet.model.id, side: 'local', ep: 'cpu', runs: 2, warmup: 0 })) as { jobId: string };
    const b = (await service.handle('profile.start', { modelId: lenet.model.id, side: 'local', ep: 'cpu', runs: 2, warmup: 0 })) as { jobId: string };
    await nextEvent(service, 'profile.done', (d) => d.jobId === b.jobId);
    off();
    expect(order).toEqual([a.jobId, b.jobId]);
    await service.dispose();
  });

  it('maps the profiler’s phases onto one progress bar, in order', () => {
    const steps = [
      localProfileStep({ phase: 'calibrate', done: 0, total: 1 }),
      localProfileStep({ phase: 'load', done: 1, total: 2 }),
      localProfileStep({ phase: 'warmup', done: 2, total: 6 }),
      localProfileStep({ phase: 'profile', done: 10, total: 20 }),
      localProfileStep({ phase: 'overhead', done: 1, total: 1 })
    ];
    const fractions = steps.map((s) => s.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    expect(steps[3].label).toBe('Timed run 10 of 20 (profiled and plain in turn)');
  });

  it('knows when the executor shares this machine (its profiles then queue behind the local ones)', () => {
    expect(executorOnThisMachine({ kind: 'local', url: '' })).toBe(true);
    expect(executorOnThisMachine({ kind: 'remote', url: 'http://127.0.0.1:8000' })).toBe(true);
    expect(executorOnThisMachine({ kind: 'remote', url: 'http://localhost:8000/' })).toBe(true);
    expect(executorOnThisMachine({ kind: 'remote', url: 'http://board.local:8000' })).toBe(false);
    expect(executorOnThisMachine({ kind: 'remote', url: 'not a url' })).toBe(false);
  });

  it('fails a remote profile with a clear reason when there is no executor, and refuses unknown models', async () => {
    const { service } = makeService(freshHome());
    const opened = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    const done = nextEvent(service, 'profile.done');
    await service.handle('profile.start', { modelId: opened.model.id, side: 'remote', ep: 'cpu', runs: 2, warmup: 0 });
    expect(await done).toMatchObject({ outcome: 'failed', profile: null, error: 'the executor on this machine is not running' });
    await expect(service.handle('profile.start', { modelId: 'f'.repeat(64), side: 'local', ep: 'cpu', runs: 2, warmup: 0 })).rejects.toThrow(/no longer open in the studio/);
    await service.dispose();
  });
});

describe('StudioService preferences', () => {
  it('round-trips preferences across launches and refuses invalid ones', async () => {
    const home = freshHome();
    const { service } = makeService(home);
    expect(await service.handle('prefs.get', {})).toEqual({ theme: 'system', localEp: 'cpu', profileRuns: 20, profileWarmup: 3, remoteExecutor: null });
    const updated = await service.handle('prefs.set', { theme: 'dark', profileRuns: 25 });
    expect(updated).toMatchObject({ theme: 'dark', profileRuns: 25, localEp: 'cpu' });
    await expect(service.handle('prefs.set', { theme: 'purple' })).rejects.toMatchObject({ name: 'ContractError' });
    await expect(service.handle('prefs.set', { profileRuns: 0 })).rejects.toMatchObject({ name: 'ContractError' });
    await service.dispose();
    const again = makeService(home).service;
    expect(await again.handle('prefs.get', {})).toMatchObject({ theme: 'dark', profileRuns: 25 });
    await again.dispose();
  });

  it('moves a corrupted preferences file aside, says so, and starts from defaults', async () => {
    const home = freshHome();
    writeFileSync(path.join(home, 'preferences.json'), '{"schemaVersion": 1, "preferences": {"theme": ');
    const log: string[] = [];
    const { service } = makeService(home, log);
    expect(await service.handle('prefs.get', {})).toMatchObject({ theme: 'system' });
    expect(log).toEqual([expect.stringMatching(/^studio: preferences\.json could not be read \(not JSON: .*\); moved it to preferences\.json\.corrupt-/)]);
    expect(readdirSync(home).some((f) => f.startsWith('preferences.json.corrupt-'))).toBe(true);
    await service.handle('prefs.set', { theme: 'light' });
    expect(JSON.parse(readFileSync(path.join(home, 'preferences.json'), 'utf8')).preferences.theme).toBe('light');

    writeFileSync(path.join(home, 'preferences.json'), JSON.stringify({ schemaVersion: 1, preferences: { theme: 'neon' }, recentFiles: [] }));
    const log2: string[] = [];
    const again = makeService(home, log2).service;
    expect(await again.handle('prefs.get', {})).toMatchObject({ theme: 'system' });
    expect(log2[0]).toMatch(/preferences\.theme: /);
    await service.dispose();
    await again.dispose();
  });

  it('ignores a corrupted profile file for a model', async () => {
    const home = freshHome();
    const log: string[] = [];
    const { service } = makeService(home, log);
    const opened = (await service.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    await service.dispose();
    const file = path.join(home, 'profiles', `${opened.model.id}.json`);
    rmSync(path.dirname(file), { recursive: true, force: true });
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ schemaVersion: 1, local: { kind: 'latency-profile', schemaVersion: 2 }, remote: null }));
    const again = makeService(home, log).service;
    const reopened = (await again.handle('model.openPath', { path: lenetPath })) as OpenedModel;
    expect(reopened.profiles).toEqual({ local: null, remote: null });
    expect(log.at(-1)).toMatch(/could not be read \(local profile: "model" must have file, sha256 and nodes\)/);
    await again.dispose();
  });
});
