// The store's bookkeeping against a host that answers from a script: the first start
// opens the sample unless main announced a model; profile jobs follow progress and done
// events in any order; a failed profile or a broken file leaves what was there; a lost
// executor is reported once. Real model views (the zoo's LeNet); every answer and event
// goes through the contract's checks, as it does over the real hosts (the end-to-end
// tests in e2e/ drive the same store through the real web host).
import { describe, expect, it } from 'vitest';
import { analyzeModel } from '../app/analysis/analyze.js';
import { readOnnxModel } from '../app/onnx/reader.js';
import type { LatencyProfile } from '../app/profiling/types.js';
import { type ExecutorStatus, type OpenedModel } from '../app/studio/contract.js';
import { ScriptedHost, type Handlers } from './host/scripted-host.js';
import { modelViewOf } from '../app/studio/model-view.js';
import { buildZooModel } from '../app/zoo/index.js';
import { createStudioStore, currentProfiles, type StudioStore } from './store.js';

const bytes = buildZooModel('lenet', { seed: 1 });
const onnx = readOnnxModel(bytes);
const lenet = modelViewOf(onnx, analyzeModel(onnx), { id: 'lenet-sha', fileName: 'lenet.onnx', fileBytes: bytes.byteLength });
const opened = (profiles: OpenedModel['profiles'] = { local: null, remote: null }): OpenedModel => ({
  model: lenet,
  source: { kind: 'sample', label: 'LeNet (sample)' },
  profiles
});

function latencyProfile(ms: number): LatencyProfile {
  return {
    schemaVersion: 2,
    kind: 'latency-profile',
    model: { file: 'lenet.onnx', sha256: 'lenet-sha', nodes: lenet.nodes.length },
    device: { hostname: 'h', os: 'linux', arch: 'x64', cpu: 'cpu', cpuCores: 2, memoryBytes: 1e9, gpu: null },
    ep: 'cpu',
    predicted: false,
    graphOptimization: 'disabled',
    threads: 1,
    wholeModelSpread: null,
    runs: 5,
    warmup: 1,
    wholeModelMs: ms * lenet.nodes.length,
    sumOfMediansMs: ms * lenet.nodes.length,
    date: '2025-06-02T12:00:00Z',
    layers: lenet.nodes.map((node) => ({ index: node.index, name: node.name, op: node.opType, provider: 'CPUExecutionProvider', medianMs: ms, p10Ms: ms, p90Ms: ms, outputBytes: node.outputBytes }))
  };
}

const localExecutor: ExecutorStatus = {
  kind: 'local',
  url: 'http://127.0.0.1:40000',
  label: 'this machine',
  state: 'connected',
  rttMs: 0.3,
  uplinkMbps: 2000,
  downlinkMbps: 2000,
  loadFactor: 1
};

function startupHandlers(extra: Handlers = {}): Handlers {
  return {
    'app.info': () => ({ version: '0.1.0', host: 'web', platform: 'linux', samples: [{ id: 'lenet', title: 'LeNet' }] }),
    'prefs.get': () => ({ theme: 'system', localEp: 'cpu', profileRuns: 5, profileWarmup: 1, remoteExecutor: null }),
    'model.recent': () => [],
    'executor.status': () => localExecutor,
    'providers.list': () => [{ name: 'cpu', available: true }],
    'model.openSample': () => opened(),
    ...extra
  };
}

/** Lets queued promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

async function started(host: ScriptedHost): Promise<StudioStore> {
  const store = createStudioStore(host);
  store.getState().start();
  for (let i = 0; i < 20 && !store.getState().current; i++) await settle();
  return store;
}

describe('studio store', () => {
  it('asks main for its facts on start and opens the first sample when no model was announced', async () => {
    const host = new ScriptedHost(startupHandlers());
    const store = await started(host);
    expect(store.getState().current?.model.fileName).toBe('lenet.onnx');
    expect(store.getState().info?.version).toBe('0.1.0');
    expect(store.getState().executor?.label).toBe('this machine');
    expect(host.calls.map((call) => call.method)).toEqual(['app.info', 'prefs.get', 'model.recent', 'executor.status', 'providers.list', 'model.openSample', 'model.recent']);
    expect(store.getState().banners).toEqual([]);
  });

  it('does not open the sample when main announced a model first', async () => {
    let announce = () => undefined as void;
    const host = new ScriptedHost(
      startupHandlers({
        'app.info': async () => {
          announce();
          return { version: '0.1.0', host: 'web', platform: 'linux', samples: [{ id: 'lenet', title: 'LeNet' }] };
        }
      })
    );
    announce = () => host.emit('model.opened', { ...opened(), source: { kind: 'path', label: '/models/lenet.onnx' } });
    const store = await started(host);
    await settle();
    expect(store.getState().current?.source.kind).toBe('path');
    expect(host.called('model.openSample')).toBe(0);
  });

  it('follows a profile job from progress to done, even when progress arrives before the job id', async () => {
    let jobId = '';
    const host = new ScriptedHost(
      startupHandlers({
        'profile.start': (params) => {
          jobId = 'job-1';
          host.emit('profile.progress', { jobId, modelId: params.modelId, side: 'local', phase: 'profile', fraction: 0.25, message: 'Profiling run 1 of 4' });
          return { jobId };
        }
      })
    );
    const store = await started(host);
    await store.getState().startProfile('local');
    expect(host.calls.find((call) => call.method === 'profile.start')?.params).toEqual({ modelId: 'lenet-sha', side: 'local', ep: 'cpu', runs: 5, warmup: 1 });
    expect(store.getState().jobs.local).toMatchObject({ jobId: 'job-1', fraction: 0.25, message: 'Profiling run 1 of 4' });

    host.emit('profile.progress', { jobId, modelId: 'lenet-sha', side: 'local', phase: 'profile', fraction: 0.75, message: 'Profiling run 3 of 4' });
    expect(store.getState().jobs.local?.fraction).toBe(0.75);

    const profile = latencyProfile(0.5);
    host.emit('profile.done', { jobId, modelId: 'lenet-sha', side: 'local', outcome: 'done', profile });
    expect(store.getState().jobs.local).toBeUndefined();
    expect(currentProfiles(store.getState()).local).toEqual(profile);
    // A late progress event of the finished job does not bring it back.
    host.emit('profile.progress', { jobId, modelId: 'lenet-sha', side: 'local', phase: 'done', fraction: 1, message: 'Done' });
    expect(store.getState().jobs.local).toBeUndefined();
  });

  it('keeps the previous profile when a new one fails, and says why in a banner', async () => {
    const earlier = latencyProfile(0.5);
    const host = new ScriptedHost(startupHandlers({ 'model.openSample': () => opened({ local: earlier, remote: null }), 'profile.start': () => ({ jobId: 'job-2' }) }));
    const store = await started(host);
    await store.getState().startProfile('local');
    host.emit('profile.done', { jobId: 'job-2', modelId: 'lenet-sha', side: 'local', outcome: 'failed', profile: null, error: 'onnxruntime: out of memory' });
    expect(currentProfiles(store.getState()).local).toBe(earlier);
    expect(store.getState().jobs.local).toBeUndefined();
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['Profiling on this machine failed: onnxruntime: out of memory (earlier results are kept)']);
  });

  it('sends a cancel clicked before main answered once the job has its id', async () => {
    let answer: (value: { jobId: string }) => void = () => undefined;
    const host = new ScriptedHost(
      startupHandlers({
        'profile.start': () => new Promise((resolve) => (answer = resolve)),
        'profile.cancel': () => ({ cancelled: true })
      })
    );
    const store = await started(host);
    const starting = store.getState().startProfile('local');
    await settle();
    await store.getState().cancelProfile('local');
    expect(host.called('profile.cancel')).toBe(0);
    answer({ jobId: 'job-3' });
    await starting;
    expect(host.calls.filter((call) => call.method === 'profile.cancel').map((call) => call.params)).toEqual([{ jobId: 'job-3' }]);
    host.emit('profile.done', { jobId: 'job-3', modelId: 'lenet-sha', side: 'local', outcome: 'cancelled', profile: null });
    expect(store.getState().jobs.local).toBeUndefined();
    expect(store.getState().banners).toEqual([]);
  });

  it('keeps the open model when another file will not open, and names the file in the banner', async () => {
    const host = new ScriptedHost(
      startupHandlers({
        'model.openPath': () => {
          throw Object.assign(new Error('broken.onnx: not an ONNX model (protobuf decode failed)'), { name: 'ModelFileError' });
        }
      })
    );
    const store = await started(host);
    await store.getState().openPath('/tmp/broken.onnx');
    expect(store.getState().current?.model.fileName).toBe('lenet.onnx');
    expect(store.getState().opening).toBeNull();
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['Could not open broken.onnx: not an ONNX model (protobuf decode failed)']);
  });

  it('reports a lost executor once, not on every status repeat', async () => {
    const host = new ScriptedHost(startupHandlers());
    const store = await started(host);
    const lost: ExecutorStatus = { ...localExecutor, state: 'unreachable', error: 'connect ECONNREFUSED', rttMs: null };
    host.emit('executor.status', lost);
    host.emit('executor.status', lost);
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['The executor on this machine is unreachable: connect ECONNREFUSED']);
    host.emit('executor.status', localExecutor);
    expect(store.getState().executor?.state).toBe('connected');
  });
});
