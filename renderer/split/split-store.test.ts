// The store's split slice against a host that answers from a script (every message goes
// through the contract's checks, as over the real hosts): what-if changes merge, pins are
// kept per model, and a sweep follows its progress and done events in any order, with a
// cancel clicked before main answered sent once the job has an id. The real sweep runs
// end to end in e2e/split.spec.ts.
import { describe, expect, it } from 'vitest';
import { type StudioResult } from '../../app/studio/contract.js';
import { ScriptedHost, type Handlers } from '../host/scripted-host.js';
import { createStudioStore } from '../store.js';
import { DEFAULT_WHAT_IF } from './split-data.js';

const network = { name: 'wifi', uplinkMbps: 18.88, downlinkMbps: 54, rttMs: 10 };
const fakeModel = { model: { id: 'model-a', nodes: [] }, source: { kind: 'sample', label: 'x' }, profiles: { local: null, remote: null } } as unknown as StudioResult<'model.openSample'>;

function storeWith(handlers: Handlers) {
  const host = new ScriptedHost(handlers);
  const store = createStudioStore(host);
  store.getState().start();
  store.setState({ current: fakeModel });
  return { host, store };
}

/** Banners about sweeps (start() also asks for app.info and the rest, which this host leaves unscripted). */
function sweepBanners(store: ReturnType<typeof createStudioStore>): string[] {
  return store
    .getState()
    .banners.map((banner) => banner.message)
    .filter((message) => /sweep/i.test(message));
}

describe('split slice', () => {
  it('merges what-if changes and keeps pins per model', () => {
    const { store } = storeWith({});
    expect(store.getState().splitWhatIf).toEqual(DEFAULT_WHAT_IF);
    store.getState().setWhatIf({ uplinkMbps: 3, preset: 'custom' });
    expect(store.getState().splitWhatIf).toEqual({ ...DEFAULT_WHAT_IF, uplinkMbps: 3, preset: 'custom' });

    store.getState().togglePin('model-a', 7);
    store.getState().togglePin('model-a', 2);
    expect(store.getState().splitPins).toEqual({ modelId: 'model-a', cuts: [2, 7], dag: false, imported: {} });
    store.getState().togglePin('model-a', 7);
    expect(store.getState().splitPins).toEqual({ modelId: 'model-a', cuts: [2], dag: false, imported: {} });
    // The DAG min cut and cuts from partition configs (named by their file) pin too.
    store.getState().togglePin('model-a', 'dag');
    store.getState().pinImported('model-a', 5, 'partition.json');
    store.getState().pinImported('model-a', 2, 'older.json');
    expect(store.getState().splitPins).toEqual({ modelId: 'model-a', cuts: [2, 5], dag: true, imported: { '5': 'partition.json', '2': 'older.json' } });
    store.getState().togglePin('model-a', 5);
    store.getState().togglePin('model-a', 'dag');
    expect(store.getState().splitPins).toEqual({ modelId: 'model-a', cuts: [2], dag: false, imported: { '2': 'older.json' } });
    // Pins of another model start afresh.
    store.getState().togglePin('model-b', 1);
    expect(store.getState().splitPins).toEqual({ modelId: 'model-b', cuts: [1], dag: false, imported: {} });
  });

  it('follows a sweep from progress to its result, even when progress arrives before the answer', async () => {
    let answer: (value: { jobId: string }) => void = () => undefined;
    const { host, store } = storeWith({ 'sweep.start': () => new Promise((resolve) => (answer = resolve)) });
    const started = store.getState().startSweep({ network, every: 2, runs: 1 });
    expect(store.getState().sweep).toMatchObject({ jobId: '', modelId: 'model-a', fraction: 0, done: null });
    host.emit('sweep.progress', { jobId: 'job-1', modelId: 'model-a', fraction: 0.5, message: 'cut 2 of 4' });
    expect(store.getState().sweep).toMatchObject({ jobId: 'job-1', fraction: 0.5, message: 'cut 2 of 4' });
    answer({ jobId: 'job-1' });
    await started;
    // A second start while one runs is ignored.
    await store.getState().startSweep({ network, every: 2, runs: 1 });
    expect(host.calls.filter((call) => call.method === 'sweep.start')).toHaveLength(1);
    const result = {
      cuts: [{ cut: 0, predictedMs: 10, measuredMs: 12 }],
      predictedBest: 0,
      measuredBest: 0,
      serverLoad: 1,
      dag: null,
      ratio: 1,
      predictionError: 1 / 6,
      latencies: { local: 'measured on cpu', remote: 'measured on cpu' },
      network: { ...network, shaped: true }
    };
    host.emit('sweep.done', { jobId: 'job-1', modelId: 'model-a', outcome: 'done', result });
    expect(store.getState().sweep?.done?.result).toEqual(result);
    expect(sweepBanners(store)).toEqual([]);
  });

  it('sends a cancel clicked before main answered once the job has an id, and reports a failure', async () => {
    let answer: (value: { jobId: string }) => void = () => undefined;
    const { host, store } = storeWith({
      'sweep.start': () => new Promise((resolve) => (answer = resolve)),
      'sweep.cancel': () => ({ cancelled: true })
    });
    const started = store.getState().startSweep({ network, every: 1, runs: 3 });
    await store.getState().cancelSweep();
    expect(host.calls.filter((call) => call.method === 'sweep.cancel')).toHaveLength(0);
    answer({ jobId: 'job-2' });
    await started;
    expect(host.calls.filter((call) => call.method === 'sweep.cancel')).toEqual([{ method: 'sweep.cancel', params: { jobId: 'job-2' } }]);
    host.emit('sweep.done', { jobId: 'job-2', modelId: 'model-a', outcome: 'failed', result: null, error: 'executor gone' });
    expect(store.getState().sweep?.done?.outcome).toBe('failed');
    expect(sweepBanners(store)).toEqual(['The sweep failed: executor gone']);
  });
});
