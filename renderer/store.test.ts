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
import { HostConnectionError } from './host/host-error.js';
import { ScriptedHost, type Handlers } from './host/scripted-host.js';
import { modelViewOf } from '../app/studio/model-view.js';
import { buildZooModel } from '../app/zoo/index.js';
import { createStudioStore, currentProfiles, UPLOAD_CHUNK_BYTES, type ModelMemory, type RememberedModel, type StudioStore } from './store.js';

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
    'device.list': () => ({ activeId: 'this-machine', devices: [{ id: 'this-machine', label: 'this machine', url: null, cpu: null, provider: null, threads: null }] }),
    'model.openSample': () => opened(),
    ...extra
  };
}

/** Lets queued promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A tab's memory of the model it shows, as a variable. */
function memoryOf(initial: RememberedModel | null): ModelMemory & { value: RememberedModel | null } {
  const memory = {
    value: initial,
    read: () => memory.value,
    write: (model: RememberedModel | null) => {
      memory.value = model;
    }
  };
  return memory;
}

async function started(host: ScriptedHost, memory: ModelMemory = memoryOf(null)): Promise<StudioStore> {
  const store = createStudioStore(host, memory);
  store.getState().start();
  for (let i = 0; i < 20 && !store.getState().current; i++) await settle();
  return store;
}

describe('studio store', () => {
  it('choosing a device puts that device\'s own profile on the device side (the plan follows), the server side as main answers it', async () => {
    const here = latencyProfile(1);
    const device = latencyProfile(8);
    const server = latencyProfile(0.5);
    const devices = [
      { id: 'this-machine', label: 'this machine', url: null, cpu: null, provider: null, threads: null },
      { id: 'http://board:8000', label: 'device executor http://board:8000', url: 'http://board:8000', cpu: 'ARM', provider: 'cpu', threads: 4 }
    ];
    const host = new ScriptedHost(
      startupHandlers({
        'model.openSample': () => opened({ local: here, remote: server }),
        'device.select': (params) => ({
          activeId: (params as { id: string }).id,
          devices,
          profiles: { local: (params as { id: string }).id === 'this-machine' ? here : device, remote: server }
        })
      })
    );
    const store = await started(host);
    expect(store.getState().profiles['lenet-sha'].local).toBe(here);
    await store.getState().selectDevice('http://board:8000');
    expect(store.getState().devices?.activeId).toBe('http://board:8000');
    expect(store.getState().profiles['lenet-sha']).toEqual({ local: device, remote: server });
    await store.getState().selectDevice('this-machine');
    expect(store.getState().profiles['lenet-sha'].local).toBe(here);
  });

  it('asks main for its facts on start and opens the first sample when no model was announced', async () => {
    const host = new ScriptedHost(startupHandlers());
    const store = await started(host);
    expect(store.getState().current?.model.fileName).toBe('lenet.onnx');
    expect(store.getState().info?.version).toBe('0.1.0');
    expect(store.getState().executor?.label).toBe('this machine');
    expect(host.calls.map((call) => call.method)).toEqual(['app.info', 'prefs.get', 'model.recent', 'executor.status', 'providers.list', 'device.list', 'model.openSample', 'model.recent']);
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

  it('shows one Disconnected banner when the host goes away, not another for each request it cut short', async () => {
    const reason = 'the connection to the studio was lost';
    let store: StudioStore | null = null;
    const host = new ScriptedHost(
      startupHandlers({
        'profile.start': () => {
          store?.getState().setConnectionLost(reason);
          throw new HostConnectionError(reason);
        }
      })
    );
    store = await started(host);
    await store.getState().startProfile('local');
    await settle();
    expect(store.getState().connectionLost).toBe(reason);
    expect(store.getState().banners).toEqual([]);
  });

  it('still names a connection error in a banner while the host is connected', async () => {
    const host = new ScriptedHost(
      startupHandlers({
        'profile.start': () => {
          throw new HostConnectionError('could not send a chunk to the studio (network error)');
        }
      })
    );
    const store = await started(host);
    await store.getState().startProfile('local');
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['Could not start profiling on this machine: could not send a chunk to the studio (network error)']);
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

  it('clears what it said about the executor once it is connected again', async () => {
    let accept = false;
    const remote: ExecutorStatus = { ...localExecutor, kind: 'remote', url: 'http://10.0.0.9:8000', label: 'http://10.0.0.9:8000' };
    const host = new ScriptedHost(
      startupHandlers({
        'executor.connect': () => {
          if (accept) return remote;
          throw Object.assign(new Error('cannot connect to the executor at http://10.0.0.9:8000: 401 wrong bearer token'), { name: 'ExecutorConnectError' });
        },
        'prefs.get': () => ({ theme: 'system', localEp: 'cpu', profileRuns: 5, profileWarmup: 1, remoteExecutor: null })
      })
    );
    const store = await started(host);
    expect(await store.getState().connectExecutor('http://10.0.0.9:8000', 'wrong')).toBe(false);
    store.getState().pushBanner('error', 'Profiling on this machine failed: out of memory (earlier results are kept)');
    expect(store.getState().banners).toHaveLength(2);
    accept = true;
    expect(await store.getState().connectExecutor('http://10.0.0.9:8000', 'right')).toBe(true);
    // The 401 is gone; what is not about the executor stays.
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['Profiling on this machine failed: out of memory (earlier results are kept)']);

    host.emit('executor.status', { ...remote, state: 'unreachable', error: 'connect ECONNREFUSED' });
    expect(store.getState().banners.map((banner) => banner.message)).toContain('The executor at http://10.0.0.9:8000 is unreachable: connect ECONNREFUSED');
    host.emit('executor.status', remote);
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['Profiling on this machine failed: out of memory (earlier results are kept)']);
  });

  it('streams a browser file to main in ordered chunks with progress, and remembers the kept copy for a reload', async () => {
    const size = 2 * UPLOAD_CHUNK_BYTES + 1234;
    const content = new Uint8Array(size).map((_, i) => i % 251);
    const received: number[] = [];
    const progress: number[] = [];
    let total = 0;
    const kept = '/home/me/.config/neurosurgeon-studio/uploads/0123456789abcdef/big.onnx';
    const host = new ScriptedHost(
      startupHandlers({
        'upload.begin': ({ bytes }) => {
          expect(bytes).toBe(size);
          return { uploadId: 'up-1' };
        },
        'upload.chunk': ({ offset, bytes }) => {
          expect(offset).toBe(total);
          // Each chunk holds the file's bytes from its offset (the pattern is i mod 251).
          expect(bytes.every((value, i) => value === (offset + i) % 251)).toBe(true);
          received.push(bytes.byteLength);
          total += bytes.byteLength;
          return { received: total };
        },
        'upload.finish': () => ({ ...opened(), source: { kind: 'upload', label: 'big.onnx', path: kept } })
      })
    );
    const memory = memoryOf(null);
    const store = await started(host, memory);
    store.subscribe((state) => {
      if (state.upload) progress.push(state.upload.sentBytes);
    });
    await store.getState().openFile(new File([content], 'big.onnx'));
    expect(received).toEqual([UPLOAD_CHUNK_BYTES, UPLOAD_CHUNK_BYTES, 1234]);
    expect(progress.at(-1)).toBe(size);
    expect(new Set(progress).size).toBeGreaterThan(2);
    expect(store.getState().upload).toBeNull();
    expect(store.getState().current?.source).toEqual({ kind: 'upload', label: 'big.onnx', path: kept });
    expect(memory.value).toEqual({ path: kept });
    expect(store.getState().banners).toEqual([]);
  });

  it('cancels an upload: stops sending, tells main, and shows no error', async () => {
    let chunks = 0;
    let store: StudioStore | null = null;
    const host = new ScriptedHost(
      startupHandlers({
        'upload.begin': () => ({ uploadId: 'up-2' }),
        'upload.chunk': ({ offset, bytes }) => {
          chunks++;
          // The user cancels while the first chunk is on its way.
          void store?.getState().cancelUpload();
          return { received: offset + bytes.byteLength };
        },
        'upload.cancel': () => ({ cancelled: true }),
        'upload.finish': () => opened()
      })
    );
    store = await started(host);
    const before = store.getState().current;
    await store.getState().openFile(new File([new Uint8Array(5 * UPLOAD_CHUNK_BYTES)], 'big.onnx'));
    expect(chunks).toBeLessThan(5);
    expect(host.calls.filter((call) => call.method === 'upload.cancel').map((call) => call.params)).toEqual([{ uploadId: 'up-2' }]);
    expect(host.called('upload.finish')).toBe(0);
    expect(store.getState().upload).toBeNull();
    expect(store.getState().opening).toBeNull();
    expect(store.getState().current).toBe(before);
    expect(store.getState().banners).toEqual([]);
  });

  it('after a reload opens again the model the tab showed, not the one announced for new tabs', async () => {
    const host = new ScriptedHost(
      startupHandlers({
        'app.info': async () => {
          host.emit('model.opened', { ...opened(), source: { kind: 'path', label: '/models/launch.onnx', path: '/models/launch.onnx' }, launch: true });
          return { version: '0.1.0', host: 'web', platform: 'linux', samples: [{ id: 'lenet', title: 'LeNet' }] };
        },
        'model.openPath': ({ path }) => ({ ...opened(), source: { kind: 'path', label: path, path } })
      })
    );
    const memory = memoryOf({ path: '/models/mine.onnx' });
    const store = await started(host, memory);
    await settle();
    expect(store.getState().current?.source.path).toBe('/models/mine.onnx');
    expect(host.calls.filter((call) => call.method === 'model.openPath').map((call) => call.params)).toEqual([{ path: '/models/mine.onnx' }]);
    expect(host.called('model.openSample')).toBe(0);
    expect(memory.value).toEqual({ path: '/models/mine.onnx' });

    // A fresh tab (nothing remembered) shows the announced model.
    const fresh = await started(host, memoryOf(null));
    await settle();
    expect(fresh.getState().current?.source.path).toBe('/models/launch.onnx');
  });

  it('falls back to what a fresh tab shows when the remembered file is gone, saying so', async () => {
    const host = new ScriptedHost(
      startupHandlers({
        'model.openPath': ({ path }) => {
          throw Object.assign(new Error(`${path}: no such file`), { name: 'ModelFileError' });
        }
      })
    );
    const memory = memoryOf({ path: '/models/gone.onnx' });
    const store = await started(host, memory);
    for (let i = 0; i < 20 && store.getState().current?.source.kind !== 'sample'; i++) await settle();
    expect(store.getState().current?.source.kind).toBe('sample');
    expect(store.getState().banners.map((banner) => banner.message)).toEqual(['Could not open gone.onnx: /models/gone.onnx: no such file']);
  });

  it('measures encodings at the pinned cuts, keeps other cuts, and leaves what was there when it fails', async () => {
    let fail = false;
    const host = new ScriptedHost(
      startupHandlers({
        'encoding.measure': (params) => {
          if (fail) throw new Error('onnxruntime went away');
          return {
            samples: params.samples,
            measurements: params.cuts.flatMap((cut) => [
              { cut, encoding: 'fp32', uploadBytes: 4000, encodeMs: 0, decodeMs: 0, agreement: 1 },
              { cut, encoding: 'int8', uploadBytes: 1000, encodeMs: 0.1, decodeMs: 0.1, agreement: 1 }
            ])
          };
        }
      })
    );
    const store = await started(host);
    await store.getState().measureEncodings([0, 2]);
    await store.getState().measureEncodings([2, 3]);
    const state = store.getState().encodings;
    expect(state?.measuring).toBe(false);
    expect(state?.samples).toBe(32);
    expect([...new Set(state?.measurements.map((m) => m.cut))].sort()).toEqual([0, 2, 3]);
    expect(state?.measurements.filter((m) => m.cut === 2)).toHaveLength(2);
    fail = true;
    await store.getState().measureEncodings([4]);
    expect(store.getState().encodings?.measurements.map((m) => m.cut)).not.toContain(4);
    expect(store.getState().encodings?.measurements).toHaveLength(6);
    expect(store.getState().banners.at(-1)?.message).toMatch(/Could not measure the encodings/);
  });
});

