// main/studio/ — the studio's main-process side: the contract's service (here), the web host,
// preferences, and the executor it starts or connects to. Electron's window lives in main/electron/.
//
// The studio's main-process side of the contract (app/studio/contract.ts), as one plain
// class that Electron's IPC (main/electron/main.ts) and the web host (web-host.ts) both
// call: `handle(method, params)` checks the parameters and answers; `on(listener)` gets
// every event, each checked against the contract before it leaves. It opens models
// (path, uploaded bytes, bundled samples) into the JSON-safe ModelView, keeps them in
// memory for profiling, runs profiles on this machine (onnxruntime-node) and on the
// executor one job at a time per side, keeps the results per model on disk, and holds the
// preferences, the recent files and the executor connection. Pages also list folders for
// their path field (folder-listing.ts) and stream files in chunks (uploads.ts, kept in the
// studio home so they are recent files like any other). No Electron import here.
import { createHash, randomUUID } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkEvent,
  checkParams,
  ContractError,
  isStudioMethod,
  THIS_MACHINE_DEVICE,
  type DeviceList,
  type ExecutorStatus,
  type OpenedModel,
  type StudioErrorPayload,
  type StudioEventName,
  type StudioEvent,
  type StudioMethod,
  type StudioParams,
  type StudioResult
} from '../../app/studio/contract.js';
import { modelViewOf, type ModelView } from '../../app/studio/model-view.js';
import { readOnnxModel, OnnxFormatError } from '../../app/onnx/reader.js';
import { DEFAULT_GRAPH_OPTIMIZATION, type ExecutionProviderName, type LatencyProfile } from '../../app/profiling/types.js';
import { zooModel, zooModels } from '../../app/zoo/index.js';
import { analyzeLoadedModel, resolvedDims, type AnalyzedModel } from '../model/analyze-file.js';
import { describeError, UsageError } from '../errors/user-errors.js';
import { loadModelFile, ModelFileError, type LoadedModel } from '../model/model-file.js';
import { defaultZooDir, toolVersion } from '../files/paths.js';
import { readRegularTextFile } from '../files/regular-file.js';
import { ProfileCancelledError, ProfileError, type ProfilePhase, type ProfileProgress } from '../profiling/profiler.js';
import { profileInChildProcess } from '../profiling/profile-process.js';
import { listProviders, type ProviderStatus } from '../profiling/providers.js';
import { firstLine } from '../errors/user-errors.js';
import { ensureZooModel, ZooError } from '../model/zoo-files.js';
import { ExecutorConnectError, ExecutorLink, type ExecutorApi, type ExecutorConnector } from './executor-link.js';
import { estimateLatencies } from '../../app/engine.js';
import { defaultPlanOptions, isNetworkPresetName } from '../../app/partition/presets.js';
import type { NetworkConditions, PlanOptions } from '../../app/partition/types.js';
import { ExportError, exportPartition, MAX_PARTITION_CONFIG_BYTES, PartitionConfigError, readPartitionConfig, type ExportRequest } from '../split/export.js';
import { ExecutorClient } from '../executor/client.js';
import { profileOn, type LinkChoice } from '../split/split-prediction.js';
import { SweepCancelledError, sweepModel } from '../split/sweep.js';
import { FleetCancelledError, runFleet } from '../fleet/fleet-run.js';
import { checkFleetRequest, defaultFleetRequest } from '../../app/fleet/request.js';
import type { FleetPoint, FleetReport, FleetRequest } from '../../app/fleet/types.js';
import { CALIBRATION_SAMPLES, calibratedWire, encodingSamples, evaluateCut, unsplitOutputs } from '../split/encoded-split.js';
import { encodingsFor } from '../split/encoded-plan.js';
import { parseWireEncoding, WireEncodingError } from '../../app/partition/wire-encoding.js';
import type { ExecutorSupervisor } from './executor-supervisor.js';
import { PreferencesStore, ProfileStore, type StoredProfiles, type StudioLog } from './preferences.js';
import { listFolder } from './folder-listing.js';
import { UploadStore, type StoredUpload } from './uploads.js';
import { DownloadTickets } from './download-tickets.js';
import { EXPORT_DOWNLOAD_PATH } from '../../app/studio/wire.js';

/** The user closed the export-folder dialog without choosing (Electron). */
export class ExportCancelledError extends Error {
  override name = 'ExportCancelledError';
}

export type ProfileSide = 'local' | 'remote';

export interface StudioServiceOptions {
  host: 'electron' | 'web';
  /** Where preferences and profiles are kept (studioHomeDir()). */
  home: string;
  /** Talks to an executor at a URL (main/executor/client.ts in the product). */
  connect: ExecutorConnector;
  /** The executor on this machine; null to run without one (--no-executor). */
  supervisor: ExecutorSupervisor | null;
  localExecutorToken?: string;
  /** Where bundled samples are generated (default resources/models). */
  zooDir?: string;
  /** Models kept in memory for profiling (the most recently opened ones). */
  maxOpenModels?: number;
  /** Executor status polling, for tests. */
  executorPollMs?: number;
  /**
   * Electron: shows the native folder dialog (starting at `current`) and resolves with the
   * folder picked, or null when cancelled. Without it (the web host), exports go only under
   * the studio's own export folder, HOME/exports.
   */
  chooseFolder?: (current: string | null) => Promise<string | null>;
  /** Electron: shows a folder in the system's file manager (partition.reveal). */
  revealFolder?: (dir: string) => void;
  /** The user's home folder, where the page's path field may browse (default os.homedir()). */
  userHome?: string;
  log?: StudioLog;
}

/** The sample opened on first start (the paper's Figure 5 model). */
export const DEFAULT_SAMPLE_ID = 'alexnet';

interface OpenModelEntry {
  analyzed: AnalyzedModel;
  view: ModelView;
  source: OpenedModel['source'];
}

/** A device the head can run on (this machine: no URL, no client). */
interface DeviceEntry {
  id: string;
  url: string | null;
  client: ExecutorClient | null;
  /** Its latest profile (its CPU, provider and threads), once profiled. */
  profiled: LatencyProfile | null;
}

interface ProfileJob {
  jobId: string;
  modelId: string;
  side: ProfileSide;
  /** The device a local profile runs on (the active one when it started). */
  deviceId?: string;
  controller: AbortController;
  finished: boolean;
}

export type StudioEventListener = <E extends StudioEventName>(event: E, payload: StudioEvent<E>) => void;

/** Turns any error into what crosses the contract: its class name and one line naming the problem. */
export function errorPayload(error: unknown): StudioErrorPayload {
  const name = error instanceof Error ? error.name : 'Error';
  return { name, message: describeError(error) };
}

export class StudioService {
  readonly prefs: PreferencesStore;
  readonly profiles: ProfileStore;
  readonly executor: ExecutorLink;
  readonly uploads: UploadStore;
  private readonly models = new Map<string, OpenModelEntry>();
  private readonly opening = new Map<string, Promise<OpenedModel>>();
  /** Files opened lately: their size and modification time when read, and the model id they gave. */
  private readonly openedFiles = new Map<string, { signature: string; id: string }>();
  private readonly jobs = new Map<string, ProfileJob>();
  private readonly sweeps = new Map<string, ProfileJob>();
  private readonly downloads = new DownloadTickets();
  private fleet: { jobId: string; controller: AbortController } | null = null;
  private readonly queues: Record<ProfileSide, Promise<void>> = { local: Promise.resolve(), remote: Promise.resolve() };
  private readonly listeners = new Set<StudioEventListener>();
  private providers: Promise<ProviderStatus[]> | null = null;
  private resolveModelServed: () => void = () => undefined;
  /** Resolves once a page has been given a model (its first chart is on its way). */
  readonly firstModelServed = new Promise<void>((resolve) => (this.resolveModelServed = resolve));
  private readonly zooDir: string;
  private readonly log: StudioLog;
  private disposed = false;

  constructor(private readonly options: StudioServiceOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.zooDir = options.zooDir ?? defaultZooDir();
    this.prefs = new PreferencesStore(options.home, this.log);
    this.profiles = new ProfileStore(options.home, this.log);
    this.uploads = new UploadStore(options.home);
    this.executor = new ExecutorLink({
      connect: options.connect,
      supervisor: options.supervisor,
      localToken: options.localExecutorToken,
      pollMs: options.executorPollMs,
      log: this.log
    });
    this.executor.onStatus((status) => this.emit('executor.status', status));
  }

  /** Starts the executor on this machine, or reconnects to the remote one in the preferences. */
  async start(): Promise<void> {
    if (this.disposed) return;
    const remote = this.prefs.get().remoteExecutor;
    if (remote) {
      try {
        await this.executor.connectRemote(remote.url, remote.token);
        return;
      } catch (error) {
        this.log(`studio: ${firstLine(error)}; using the executor on this machine instead`);
      }
    }
    await this.executor.useLocal();
  }

  /**
   * Work a launcher starts before any page asks: opening the model the page will ask for
   * first, then probing the execution providers (a child process for WebGPU) — after it,
   * so the probe does not compete with the page and its first chart for the CPU.
   */
  prepare(model: { sample: string } | { path: string }): Promise<OpenedModel> {
    const opened = 'sample' in model ? this.openSample(model.sample) : this.openPath(model.path);
    void opened.finally(() => (this.providers ??= listProviders())).catch(() => undefined);
    return opened;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.jobs.values()) job.controller.abort();
    for (const job of this.sweeps.values()) job.controller.abort();
    this.fleet?.controller.abort();
    await this.uploads.dispose();
    this.executor.dispose();
    await this.options.supervisor?.stop();
    this.listeners.clear();
  }

  /** Every event, already checked against the contract. */
  on(listener: StudioEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit<E extends StudioEventName>(event: E, payload: StudioEvent<E>): void {
    if (this.disposed) return;
    const checked = checkEvent(event, payload);
    for (const listener of [...this.listeners]) {
      try {
        listener(event, checked);
      } catch (error) {
        this.log(`studio: an event listener failed on ${event}: ${firstLine(error)}`);
      }
    }
  }

  /** One request from a renderer: an unknown method or bad parameters is a ContractError. */
  async handle(method: string, params: unknown): Promise<unknown> {
    if (!isStudioMethod(method)) throw new ContractError(`unknown method "${method}"`);
    return this.dispatch(method, checkParams(method, params));
  }

  private dispatch<M extends StudioMethod>(method: M, params: StudioParams<M>): Promise<StudioResult<M>> {
    const handler = this.handlers[method] as (p: StudioParams<M>) => Promise<StudioResult<M>> | StudioResult<M>;
    const answer = Promise.resolve(handler(params));
    if (method === 'model.openSample' || method === 'model.openPath' || method === 'upload.finish') void answer.then(() => this.markModelServed(), () => undefined);
    return answer;
  }

  /** A page has been given a model (answered, or announced by a launcher). */
  markModelServed(): void {
    this.resolveModelServed();
  }

  private readonly handlers: { [M in StudioMethod]: (params: StudioParams<M>) => Promise<StudioResult<M>> | StudioResult<M> } = {
    'app.info': () => ({
      version: toolVersion(),
      host: this.options.host,
      platform: process.platform,
      samples: sampleList()
    }),
    'model.openPath': ({ path: filePath }) => this.openPath(filePath),
    'model.openBytes': ({ fileName, bytes }) => this.openBytes(fileName, bytes),
    'model.openSample': ({ id }) => this.openSample(id),
    'model.recent': () => this.prefs.recent(),
    'files.list': ({ dir }) => listFolder(dir, this.browseRoots()),
    'upload.begin': async ({ fileName, bytes }) => ({ uploadId: await this.uploads.begin(fileName, bytes) }),
    'upload.chunk': ({ uploadId, offset, bytes }) => ({ received: this.uploads.chunk(uploadId, offset, bytes) }),
    'upload.finish': ({ uploadId }) => this.openUpload(this.uploads.finish(uploadId)),
    'upload.cancel': ({ uploadId }) => ({ cancelled: this.uploads.cancel(uploadId) }),
    'providers.list': () => (this.providers ??= listProviders()),
    'profile.start': (params) => ({ jobId: this.startProfile(params.modelId, params.side, params.ep, params.runs, params.warmup) }),
    'profile.cancel': ({ jobId }) => ({ cancelled: this.cancelProfile(jobId) }),
    'executor.status': () => this.executor.status(),
    'executor.connect': (params) => this.connectExecutor(params.url, params.token),
    'executor.useLocal': () => this.useLocalExecutor(),
    'device.list': () => this.deviceList(),
    'device.add': (params) => this.addDevice(params.url, params.token),
    'device.select': (params) => this.selectDevice(params.id, params.modelId),
    'prefs.get': () => this.prefs.get(),
    'prefs.set': (change) => this.prefs.set(change),
    'partition.export': (params) => this.exportPartition(params),
    'partition.exportFolder': () => ({ dir: this.exportRoot() ?? this.defaultExportRoot(), canChoose: Boolean(this.options.chooseFolder) }),
    'partition.chooseExportFolder': () => this.chooseExportFolder(),
    'partition.reveal': ({ dir }) => this.revealExport(dir),
    'partition.download': ({ dir }) => this.downloadExport(dir),
    'partition.import': (params) => this.importPartition(params),
    'executor.measureLink': () => this.executor.api().api.measureLink({ rounds: 3 }),
    'encoding.measure': (params) => this.measureEncodings(params),
    'sweep.start': (params) => ({ jobId: this.startSweep(params) }),
    'sweep.cancel': ({ jobId }) => ({ cancelled: this.cancelSweep(jobId) }),
    'fleet.start': (params) => ({ jobId: this.startFleet(params) }),
    'fleet.cancel': ({ jobId }) => ({ cancelled: this.cancelFleet(jobId) })
  };

  // ---- models ------------------------------------------------------------------------

  /** Opens a model file on this machine (and puts it first in the recent files). */
  openPath(filePath: string): Promise<OpenedModel> {
    const resolved = path.resolve(filePath);
    const uploaded = this.uploads.holds(resolved);
    const source: OpenedModel['source'] = uploaded ? { kind: 'upload', label: path.basename(resolved), path: resolved } : { kind: 'path', label: resolved, path: resolved };
    return this.once(`path:${resolved}`, async () => {
      // An upload's kept copy may still be on its way to disk (a reload right after it).
      if (uploaded) await this.uploads.whenWritten(resolved);
      const opened = await this.openFile(resolved, source);
      this.remember(resolved, uploaded);
      return opened;
    });
  }

  /** Opens the bytes a page uploaded, from memory (their id known already), while their kept copy is written. */
  private openUpload(stored: StoredUpload): Promise<OpenedModel> {
    return this.once(`path:${stored.path}`, async () => {
      let model;
      try {
        model = readOnnxModel(stored.bytes);
      } catch (error) {
        if (error instanceof OnnxFormatError) throw new ModelFileError(`${stored.fileName}: ${error.message}`);
        throw error;
      }
      if (model.externalData.length > 0) {
        throw new ModelFileError(`${stored.fileName}: keeps its weights in external data files, which an upload cannot carry; open it by path instead`);
      }
      const opened = await this.open({ path: stored.path, bytes: stored.bytes, model, sha256: stored.sha256 }, { kind: 'upload', label: stored.fileName, path: stored.path });
      this.remember(stored.path, true);
      stored.written.then(
        () => {
          // Opening it again by path (a reload) finds it still in memory.
          const signature = fileSignature(stored.path);
          if (signature !== null) this.openedFiles.set(stored.path, { signature, id: opened.model.id });
          this.pruneUploads();
        },
        (error: unknown) => this.log(`studio: ${firstLine(error)}`)
      );
      return opened;
    });
  }

  /** Puts a file first in the recent files; uploads no recent file names any more are deleted. */
  private remember(file: string, uploaded: boolean): void {
    this.prefs.addRecent(file, uploaded);
    this.pruneUploads();
  }

  private pruneUploads(): void {
    try {
      this.uploads.prune(this.prefs.recent().map((entry) => entry.path));
    } catch (error) {
      this.log(`studio: could not tidy the uploads folder: ${firstLine(error)}`);
    }
  }

  /** Where the page's path field may browse: the user's home and the folders of recent files. */
  private browseRoots(): string[] {
    return [this.options.userHome ?? os.homedir(), ...this.prefs.recent().map((entry) => path.dirname(entry.path))];
  }

  /** Opens a model from its bytes (a file the user picked or dropped in a browser); writes nothing. */
  async openBytes(fileName: string, bytes: Uint8Array): Promise<OpenedModel> {
    const name = path.basename(fileName.replace(/\\/g, '/')) || 'model.onnx';
    let model;
    try {
      model = readOnnxModel(bytes);
    } catch (error) {
      if (error instanceof OnnxFormatError) throw new ModelFileError(`${name}: ${error.message}`);
      throw error;
    }
    if (model.externalData.length > 0) {
      throw new ModelFileError(`${name}: keeps its weights in external data files, which an upload cannot carry; open it by path instead`);
    }
    return this.open({ path: name, bytes, model }, { kind: 'upload', label: name });
  }

  /** Opens a bundled sample, generating it on first use. */
  openSample(id: string): Promise<OpenedModel> {
    return this.once(`sample:${id}`, async () => {
      let title: string;
      try {
        title = zooModel(id).title;
      } catch {
        throw new ZooError(`no sample "${id}"; the samples are ${zooModels.map((m) => m.id).join(', ')}`);
      }
      return this.openFile(ensureZooModel(id, this.zooDir), { kind: 'sample', label: `${title} (sample)`, sampleId: id });
    });
  }

  /** Measures wire encodings at some cuts of an open model (encoded-split.ts); a cut past the model's layers or an unknown encoding is refused in one line. */
  private async measureEncodings(params: StudioParams<'encoding.measure'>): Promise<StudioResult<'encoding.measure'>> {
    const { analyzed } = this.openedModel(params.modelId);
    const layers = analyzed.analysis.layers.length;
    for (const cut of params.cuts) if (cut > layers) throw new WireEncodingError(`cut ${cut} is past the model's ${layers} layers`);
    if (params.encodings !== 'auto') for (const name of params.encodings) parseWireEncoding(name);
    const dims = resolvedDims(analyzed);
    const samples = encodingSamples(analyzed.model, params.samples, 1000, dims);
    const calibration = encodingSamples(analyzed.model, CALIBRATION_SAMPLES, 5000, dims);
    const expected = await unsplitOutputs(analyzed.bytes, samples);
    const measurements: StudioResult<'encoding.measure'>['measurements'] = [];
    for (const cut of [...new Set(params.cuts)].sort((a, b) => a - b)) {
      const encodings = cut === layers ? ['fp32'] : params.encodings === 'auto' ? encodingsFor({ encoding: 'auto' }, cut) : params.encodings;
      const evaluation = await evaluateCut(analyzed.model, analyzed.analysis, cut, encodings, samples, calibration, expected);
      for (const m of evaluation.measurements) {
        const { wire: _wire, ...rest } = m;
        measurements.push(rest);
      }
    }
    return { measurements, samples: samples.length };
  }

  /** The analysed model kept for profiling, or a ModelFileError saying it must be opened again. */
  openedModel(modelId: string): OpenModelEntry {
    const entry = this.models.get(modelId);
    if (!entry) throw new ModelFileError(`model ${modelId.slice(0, 12)}… is no longer open in the studio; open it again to profile it`);
    return entry;
  }

  /**
   * Opens a file on this machine; a file still in memory and unchanged since (same size
   * and modification time) is not read and analysed again.
   */
  private async openFile(file: string, source: OpenedModel['source']): Promise<OpenedModel> {
    const signature = fileSignature(file);
    const known = this.openedFiles.get(file);
    const entry = known && known.signature === signature ? this.models.get(known.id) : undefined;
    if (known && entry) {
      this.models.delete(known.id);
      this.models.set(known.id, { ...entry, source });
      return { model: entry.view, source, profiles: this.storedProfiles(known.id) };
    }
    const opened = await this.open(await loadModelFile(file), source);
    if (signature !== null) this.openedFiles.set(file, { signature, id: opened.model.id });
    return opened;
  }

  /** Concurrent opens of the same thing share one piece of work. */
  private once(key: string, work: () => Promise<OpenedModel>): Promise<OpenedModel> {
    const pending = this.opening.get(key);
    if (pending) return pending;
    const promise = work().finally(() => this.opening.delete(key));
    this.opening.set(key, promise);
    return promise;
  }

  private async open(loaded: LoadedModel, source: OpenedModel['source']): Promise<OpenedModel> {
    const fileName = path.basename(loaded.path);
    let analyzed: AnalyzedModel;
    try {
      analyzed = await analyzeLoadedModel(loaded);
    } catch (error) {
      if (error instanceof ModelFileError) throw error;
      throw new ModelFileError(`${fileName}: cannot be analysed (${firstLine(error)})`);
    }
    if (analyzed.runtimeShapeWarning) this.log(`studio: ${fileName}: ${analyzed.runtimeShapeWarning}`);
    const id = loaded.sha256 ?? (await sha256Yielding(loaded.bytes));
    const view = modelViewOf(analyzed.model, analyzed.analysis, { id, fileName, fileBytes: loaded.bytes.byteLength });
    this.models.delete(id);
    this.models.set(id, { analyzed, view, source });
    this.forgetOldModels();
    return { model: view, source, profiles: this.storedProfiles(id) };
  }

  /** Keeps the most recently opened models (weights can be hundreds of MB each), never one being profiled. */
  private forgetOldModels(): void {
    const limit = this.options.maxOpenModels ?? 3;
    const busy = new Set([...this.jobs.values(), ...this.sweeps.values()].filter((j) => !j.finished).map((j) => j.modelId));
    for (const id of this.models.keys()) {
      if (this.models.size <= limit) break;
      if (!busy.has(id)) this.models.delete(id);
    }
  }

  // ---- profiling ---------------------------------------------------------------------

  /**
   * Queues a profile (one job at a time per side); progress and the result arrive as events.
   * While the executor runs on this machine, both sides share one queue: two profiles at
   * once would take each other's cores and both come out slow.
   */
  startProfile(modelId: string, side: ProfileSide, ep: ExecutionProviderName, runs: number, warmup: number): string {
    const entry = this.openedModel(modelId);
    const job: ProfileJob = { jobId: randomUUID(), modelId, side, controller: new AbortController(), finished: false, ...(side === 'local' ? { deviceId: this.activeDevice } : {}) };
    this.jobs.set(job.jobId, job);
    const queue = this.queueFor(side);
    this.queues[queue] = this.queues[queue].then(() => this.runJob(job, entry, ep, runs, warmup));
    return job.jobId;
  }

  /** The queue a measuring job of `side` waits in: the local one for everything while the executor is on this machine. */
  private queueFor(side: ProfileSide): ProfileSide {
    return side === 'remote' && !executorOnThisMachine(this.executor.status()) ? 'remote' : 'local';
  }

  /** Cancels a queued or running job; false when it is unknown or already finished. */
  cancelProfile(jobId: string): boolean {
    const job = this.jobs.get(jobId);
    if (!job || job.finished || job.controller.signal.aborted) return false;
    job.controller.abort();
    return true;
  }

  private async runJob(job: ProfileJob, entry: OpenModelEntry, ep: ExecutionProviderName, runs: number, warmup: number): Promise<void> {
    const signal = job.controller.signal;
    const progress = progressReporter((phase, fraction, message) =>
      this.emit('profile.progress', { jobId: job.jobId, modelId: job.modelId, side: job.side, phase, fraction, message })
    );
    let profile: LatencyProfile | null = null;
    let outcome: 'done' | 'cancelled' | 'failed' = 'done';
    let error: string | undefined;
    try {
      if (signal.aborted) throw new ProfileCancelledError();
      progress('queued', 0, 'Starting…', true);
      const device = job.deviceId !== undefined && job.deviceId !== THIS_MACHINE_DEVICE ? this.devices.get(job.deviceId) : undefined;
      profile =
        job.side === 'local'
          ? device?.client
            ? await this.profileOnDevice(device, entry, runs, warmup, signal, progress)
            : await this.profileLocally(entry, ep, runs, warmup, signal, progress)
          : await this.executor.busyWhile(this.profileRemotely(entry, runs, warmup, signal, progress));
      if (signal.aborted) throw new ProfileCancelledError();
      if (device) this.profiles.putDevice(job.modelId, device.id, profile);
      else this.profiles.put(job.modelId, job.side, profile);
      progress('done', 1, 'Done', true);
    } catch (caught) {
      profile = null;
      if (caught instanceof ProfileCancelledError || signal.aborted) outcome = 'cancelled';
      else {
        outcome = 'failed';
        error = describeError(caught);
        this.log(`studio: profiling ${entry.view.fileName} (${job.side}) failed: ${error}`);
      }
    } finally {
      job.finished = true;
      this.jobs.delete(job.jobId);
    }
    this.emit('profile.done', { jobId: job.jobId, modelId: job.modelId, side: job.side, outcome, profile, ...(error ? { error } : {}) });
  }

  /**
   * `neurosurgeon profile` in a child process, as every profile (main/profiling/profile-process.ts):
   * the file the model was opened from (refused if it changed since), or an upload's bytes.
   */
  private profileLocally(entry: OpenModelEntry, ep: ExecutionProviderName, runs: number, warmup: number, signal: AbortSignal, progress: ProgressSink): Promise<LatencyProfile> {
    let furthest = 0;
    return profileInChildProcess(entry.source.kind === 'upload' ? entry.analyzed.bytes : entry.analyzed.path, {
      ep,
      runs,
      warmup,
      optimization: DEFAULT_GRAPH_OPTIMIZATION,
      expectSha256: entry.view.id,
      signal,
      onProgress: (event) => {
        const step = localProfileStep(event);
        // Unsteady runs make the profiler take more of them: the bar holds rather than going back.
        furthest = Math.max(furthest, step.fraction);
        progress(event.phase, furthest, step.label, event.done === 0);
      },
      onWarning: (line) => this.log(`studio: profiling ${entry.view.fileName} on this machine: ${line}`)
    });
  }

  // ---- devices ------------------------------------------------------------------------

  /** The devices the head can run on: this machine first, then device executors by URL. */
  private readonly devices = new Map<string, DeviceEntry>([[THIS_MACHINE_DEVICE, { id: THIS_MACHINE_DEVICE, url: null, client: null, profiled: null }]]);
  private activeDevice = THIS_MACHINE_DEVICE;

  private deviceList(): DeviceList {
    return {
      activeId: this.activeDevice,
      devices: [...this.devices.values()].map((d) => ({
        id: d.id,
        label: d.url === null ? 'this machine' : `device executor ${d.url}`,
        url: d.url,
        cpu: d.profiled?.device.cpu ?? null,
        provider: d.profiled?.ep ?? null,
        threads: d.profiled?.threads ?? null
      }))
    };
  }

  /** Adds a device executor (it must answer ready with the token) and makes it the active device. */
  private async addDevice(url: string, token?: string): Promise<DeviceList> {
    const client = new ExecutorClient({ url, token: token || undefined, role: 'device executor', timeoutMs: 10_000 });
    if (!(await client.ready())) {
      client.close();
      throw new ExecutorConnectError(`device executor ${client.url}: cannot be reached (is it running, with --upstream set to the server?)`);
    }
    const previous = this.devices.get(client.url);
    previous?.client?.close();
    this.devices.set(client.url, { id: client.url, url: client.url, client, profiled: previous?.profiled ?? null });
    this.activeDevice = client.url;
    return this.deviceList();
  }

  private selectDevice(id: string, modelId?: string): DeviceList & { profiles: StoredProfiles | null } {
    if (!this.devices.has(id)) throw new ExecutorConnectError(`no device "${id}": add a device executor by its URL first`);
    this.activeDevice = id;
    return { ...this.deviceList(), profiles: modelId !== undefined && this.models.has(modelId) ? this.storedProfiles(modelId) : null };
  }

  /** A model's profiles as the active device sees them: its own profile as the local side, the executor's as the remote. */
  private storedProfiles(modelId: string): StoredProfiles {
    const stored = this.profiles.get(modelId);
    if (this.activeDevice === THIS_MACHINE_DEVICE) return stored;
    const local = this.profiles.getDevice(modelId, this.activeDevice);
    const device = this.devices.get(this.activeDevice);
    if (device && local) device.profiled = local;
    return { local, remote: stored.remote };
  }

  /** The device executor's own profile of the model (sent to it once: main/executor/sources.ts). */
  private async profileOnDevice(device: DeviceEntry, entry: OpenModelEntry, runs: number, warmup: number, signal: AbortSignal, progress: ProgressSink): Promise<LatencyProfile> {
    const cancelled = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new ProfileCancelledError());
      signal.addEventListener('abort', () => reject(new ProfileCancelledError()), { once: true });
    });
    cancelled.catch(() => undefined);
    progress('upload', 0.02, `Sending ${entry.view.fileName} to ${device.url} (once)`, true);
    const profile = await Promise.race([profileOn(device.client as ExecutorClient, entry.analyzed, { runs, warmup }), cancelled]);
    if (profile.model.sha256 !== entry.view.id || profile.layers.length !== entry.view.nodes.length) {
      throw new ProfileError(`the device executor at ${device.url} profiled another model (${profile.model.file}, ${profile.layers.length} layers) than ${entry.view.fileName}`);
    }
    device.profiled = profile;
    return profile;
  }

  /**
   * The whole model on the executor: kept there by its hash and loaded from that (sent at
   * most once per executor, shared with sweeps' tails: main/executor/sources.ts), or — on
   * an executor that keeps no models — uploaded the Triton way.
   */
  private async placeWholeModel(api: ExecutorApi, entry: OpenModelEntry): Promise<{ name: string }> {
    if (api.ensureSource && api.buildModel && entry.analyzed.model.externalData.length === 0) {
      const source = await api.ensureSource(entry.analyzed.bytes, entry.view.id);
      if (source) return api.buildModel(`model-${source.sha256.slice(0, 16)}`, { source: source.sha256, part: 'model', localLayers: [], sha256: source.sha256 });
    }
    return api.uploadModel(entry.analyzed.bytes);
  }

  private async profileRemotely(entry: OpenModelEntry, runs: number, warmup: number, signal: AbortSignal, progress: ProgressSink): Promise<LatencyProfile> {
    const { api, status } = this.executor.api();
    const cancelled = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(new ProfileCancelledError());
      signal.addEventListener('abort', () => reject(new ProfileCancelledError()), { once: true });
    });
    cancelled.catch(() => undefined);
    // The client skips the transfer when the executor already holds these bytes. Neither
    // call can be interrupted: a cancel stops waiting for them (the executor finishes its run).
    progress('upload', 0.02, `Uploading ${entry.view.fileName} to ${status.label}`, true);
    const { name } = await Promise.race([this.placeWholeModel(api, entry), cancelled]);
    progress('profile', 0.2, `Profiling on ${status.label} (${warmup} warm-up, ${runs} timed runs)`, true);
    const profile = await Promise.race([api.profile(name, { runs, warmup, optimization: DEFAULT_GRAPH_OPTIMIZATION }), cancelled]);
    if (profile?.kind !== 'latency-profile' || !Array.isArray(profile.layers)) throw new ProfileError(`the executor at ${status.url} answered something that is not a latency profile`);
    if (profile.model.sha256 !== entry.view.id || profile.layers.length !== entry.view.nodes.length) {
      throw new ProfileError(
        `the executor at ${status.url} profiled another model (${profile.model.file}, ${profile.layers.length} layers) than ${entry.view.fileName} (${entry.view.nodes.length} nodes)`
      );
    }
    return profile;
  }

  // ---- partitions --------------------------------------------------------------------

  /** Per-layer latencies for planning: the profiles measured in the studio, else the roofline estimate. */
  private planLatencies(modelId: string, entry: OpenModelEntry): ExportRequest['latencies'] {
    const stored = this.storedProfiles(modelId);
    const layerCount = entry.analyzed.analysis.layers.length;
    let estimate: ReturnType<typeof estimateLatencies> | null = null;
    const side = (profile: LatencyProfile | null, which: 'localMs' | 'remoteMs', preset: string) => {
      if (profile && profile.layers.length === layerCount) {
        return { ms: profile.layers.map((layer) => layer.medianMs), source: `${profile.predicted ? 'predicted' : 'measured'} on ${profile.ep}` };
      }
      estimate ??= estimateLatencies(entry.analyzed.analysis);
      return { ms: estimate[which], source: `estimated (${preset} roofline)` };
    };
    return { local: side(stored.local, 'localMs', 'mobile-cpu'), remote: side(stored.remote, 'remoteMs', 'server-gpu') };
  }

  /** The web host's export folder, and Electron's until one is picked: HOME/exports. */
  private defaultExportRoot(): string {
    return path.join(this.options.home, 'exports');
  }

  /** Where exports go: the folder picked in Electron's dialog, the studio's own in the web host; null when Electron has none yet. */
  private exportRoot(): string | null {
    return this.options.chooseFolder ? this.prefs.exportDir() : this.defaultExportRoot();
  }

  private async chooseExportFolder(): Promise<StudioResult<'partition.chooseExportFolder'>> {
    if (!this.options.chooseFolder) {
      throw new ExportError(`the studio in a browser exports only into ${this.defaultExportRoot()}; another folder can be chosen in the desktop app`);
    }
    const picked = await this.options.chooseFolder(this.exportRoot());
    if (picked) this.prefs.setExportDir(picked);
    return { dir: this.exportRoot() ?? this.defaultExportRoot(), canChoose: true, chosen: picked !== null };
  }

  /**
   * Writes an export into NAME under the export folder — never anywhere the page names: the
   * name is a folder name (the contract refuses paths) and the folder is the one picked in
   * Electron's dialog (asked for on the first export) or the web host's own.
   */
  private async exportPartition(params: StudioParams<'partition.export'>): Promise<StudioResult<'partition.export'>> {
    const entry = this.openedModel(params.modelId);
    let root = this.exportRoot();
    if (root === null) {
      const picked = await this.options.chooseFolder?.(null);
      if (!picked) throw new ExportCancelledError('no export folder was chosen; nothing was written');
      this.prefs.setExportDir(picked);
      root = path.resolve(picked);
    }
    // One folder per model and cut: exporting the same cut again replaces it (only if an export wrote it).
    const name = params.name ?? `${path.basename(entry.view.fileName).replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_')}-cut-${params.cut}`;
    const outDir = path.join(root, name);
    if (path.dirname(outDir) !== path.resolve(root)) throw new ExportError(`"${name}" is not a folder name`);
    // The wire encoding, as `export --encoding`: parsed (an unknown name refused in one line) and calibrated before anything is written.
    const encoding = params.encoding === undefined ? null : parseWireEncoding(params.encoding);
    const wire = encoding ? await calibratedWire(entry.analyzed, encoding) : null;
    const result = exportPartition({
      analyzed: entry.analyzed,
      cut: params.cut,
      options: { ...studioPlanOptions(params.network, params.serverLoad), ...(params.radio ? { radio: params.radio } : {}), ...(params.device ? { device: params.device } : {}) },
      objective: params.objective,
      latencies: this.planLatencies(params.modelId, entry),
      outDir,
      overwrite: params.overwrite ?? params.name === undefined,
      overwriteHint: 'tick Overwrite to replace it',
      ...(wire ? { wire } : {})
    });
    return { dir: result.dir, files: result.files, ms: result.ms };
  }

  /** An export folder the page names back (to reveal or download): directly under the export folder, written by an export. */
  private exportedFolder(dir: string): string {
    const root = this.exportRoot();
    const resolved = path.resolve(dir);
    if (root === null || path.dirname(resolved) !== path.resolve(root)) throw new ExportError(`${dir} is not an export folder`);
    let stats;
    try {
      stats = statSync(path.join(resolved, 'partition.json'));
    } catch {
      throw new ExportError(`${dir} holds no export (no partition.json)`);
    }
    if (!stats.isFile()) throw new ExportError(`${dir} holds no export (no partition.json)`);
    return resolved;
  }

  private revealExport(dir: string): StudioResult<'partition.reveal'> {
    if (!this.options.revealFolder) throw new ExportError('the studio in a browser cannot show a folder; download it as a zip instead');
    this.options.revealFolder(this.exportedFolder(dir));
    return { revealed: true };
  }

  private downloadExport(dir: string): StudioResult<'partition.download'> {
    const folder = this.exportedFolder(dir);
    const ticket = this.downloads.issue(folder);
    return { url: `${EXPORT_DOWNLOAD_PATH}${ticket}`, fileName: `${path.basename(folder)}.zip` };
  }

  /** The folder a download ticket was issued for, once (the web host's EXPORT_DOWNLOAD_PATH). */
  takeDownload(ticket: string): string | null {
    return this.downloads.take(ticket);
  }

  private async importPartition(params: StudioParams<'partition.import'>): Promise<StudioResult<'partition.import'>> {
    let text: string;
    let label: string;
    if ('path' in params) {
      label = path.basename(params.path);
      // A regular file of a partition config's size only; its content is never quoted back.
      text = await readRegularTextFile(params.path, { label, maxBytes: MAX_PARTITION_CONFIG_BYTES, what: 'a partition config', makeError: (message) => new PartitionConfigError(message) });
    } else {
      label = path.basename(params.fileName.replace(/\\/g, '/'));
      text = new TextDecoder().decode(params.bytes);
    }
    const config = readPartitionConfig(text, label);
    const wanted = params.modelId ?? config.model.sha256;
    const entry = this.models.get(wanted);
    if (config.model.sha256 !== wanted || !entry) {
      const open = params.modelId ? this.models.get(params.modelId)?.view.fileName : undefined;
      throw new PartitionConfigError(
        `${label} was made for ${config.model.file} (sha256 ${config.model.sha256.slice(0, 12)}…), not ${open ?? 'a model open in the studio'}; open that model first`
      );
    }
    const { network, serverLoad, objective } = config.assumptions;
    return { modelId: wanted, cut: config.cut, network, serverLoad, objective };
  }

  /**
   * Measures real split runs through the connected executor (main/split/sweep.ts), one sweep at
   * a time, on the link shaped to `network` ('measured': unshaped). Latencies are the
   * profiles measured in the studio when both sides have one, else profiled now.
   */
  startSweep(params: StudioParams<'sweep.start'>): string {
    const entry = this.openedModel(params.modelId);
    const { status } = this.executor.api();
    const token = status.kind === 'local' ? this.options.localExecutorToken : this.prefs.get().remoteExecutor?.token;
    const job: ProfileJob = { jobId: randomUUID(), modelId: params.modelId, side: 'remote', controller: new AbortController(), finished: false };
    this.sweeps.set(job.jobId, job);
    const options = studioPlanOptions(params.network, 1);
    const link: LinkChoice = { kind: params.network.name === 'measured' ? 'measured' : 'preset', preset: { network: options.network, radio: options.radio } };
    const stored = this.storedProfiles(params.modelId);
    const device = this.devices.get(this.activeDevice);
    const latencies =
      stored.local && stored.remote && stored.local.layers.length === entry.view.nodes.length && stored.remote.layers.length === entry.view.nodes.length
        ? {
            local: { ms: stored.local.layers.map((l) => l.medianMs), source: `measured on ${stored.local.ep}`, profile: stored.local },
            remote: { ms: stored.remote.layers.map((l) => l.medianMs), source: `measured on ${stored.remote.ep}`, profile: stored.remote }
          }
        : undefined;
    const send = (fraction: number, message: string) => this.emit('sweep.progress', { jobId: job.jobId, modelId: job.modelId, fraction, message });
    const run = async (): Promise<void> => {
      const signal = job.controller.signal;
      let outcome: 'done' | 'cancelled' | 'failed' = 'done';
      let error: string | undefined;
      let result: StudioEvent<'sweep.done'>['result'] = null;
      try {
        if (signal.aborted) throw new SweepCancelledError();
        send(0, `Sweeping ${entry.view.fileName} through ${status.label}`);
        const [swept] = await this.executor.busyWhile(sweepModel({
          analyzed: entry.analyzed,
          links: [link],
          every: params.every,
          runs: params.runs,
          prune: false,
          dag: params.dag ?? false,
          ep: this.prefs.get().localEp,
          allowCpuFallback: true,
          latencies,
          signal,
          ...(device?.client ? { device: device.client } : {}),
          connect: (shaper) => new ExecutorClient({ url: status.url, token, shaper }),
          // sweepModel reports before each cut: the place to stop a cancelled sweep.
          onProgress: (message) => {
            if (signal.aborted) throw new SweepCancelledError();
            const position = /^\[(\d+)\/(\d+)\]/.exec(message);
            send(position ? 0.2 + (0.8 * (Number(position[1]) - 1)) / Number(position[2]) : 0.1, message);
          }
        }));
        result = {
          cuts: swept.cuts.map((cut) => ({ cut: cut.cut, predictedMs: cut.predictedMs, measuredMs: cut.measuredMs })),
          predictedBest: swept.predictedBest,
          measuredBest: swept.measuredBest >= 0 ? swept.measuredBest : null,
          serverLoad: swept.serverLoad,
          dag: swept.dag ? { localLayers: swept.dag.localLayers, predictedMs: swept.dag.predictedMs, measuredMs: swept.dag.measuredMs, vsBestCut: swept.dag.vsBestCut } : null,
          ratio: Number.isFinite(swept.ratio) ? swept.ratio : null,
          predictionError: Number.isFinite(swept.predictionError) ? swept.predictionError : null,
          latencies: swept.latencies,
          network: swept.network
        };
        send(1, 'Done');
      } catch (caught) {
        if (caught instanceof SweepCancelledError || signal.aborted) outcome = 'cancelled';
        else {
          outcome = 'failed';
          error = describeError(caught);
          this.log(`studio: sweeping ${entry.view.fileName} failed: ${error}`);
        }
      } finally {
        job.finished = true;
        this.sweeps.delete(job.jobId);
      }
      this.emit('sweep.done', { jobId: job.jobId, modelId: job.modelId, outcome, result, ...(error ? { error } : {}) });
    };
    // The remote profile queue also keeps the executor to one measuring job at a time (and
    // the local one, while the executor is on this machine: the sweep runs both sides here).
    const queue = this.queueFor('remote');
    this.queues[queue] = this.queues[queue].then(run);
    return job.jobId;
  }

  cancelSweep(jobId: string): boolean {
    const job = this.sweeps.get(jobId);
    if (!job || job.finished || job.controller.signal.aborted) return false;
    job.controller.abort();
    return true;
  }

  /**
   * A fleet run (main/fleet/fleet-run.ts): emulated clients against an executor it starts on
   * loopback for the run (the connected executor keeps serving the studio). One at a time:
   * a second start while one runs is refused.
   */
  startFleet(params: StudioParams<'fleet.start'>): string {
    if (this.fleet) throw new UsageError('a fleet run is already going; cancel it or wait for it to end');
    const defaults = defaultFleetRequest();
    const request: FleetRequest = {
      ...defaults,
      clients: params.clients,
      networkMix: params.networkMix,
      models: params.models,
      policies: params.policies,
      rates: [...new Set(params.rates)].sort((a, b) => a - b),
      durationS: params.durationS,
      deviceSlowdown: params.deviceSlowdown,
      objective: { ...defaults.objective, p95Ms: params.objectiveMs },
      refineSteps: params.refineSteps ?? 0
    };
    try {
      checkFleetRequest(request);
    } catch (error) {
      throw new UsageError(firstLine(error));
    }
    const job = { jobId: randomUUID(), controller: new AbortController() };
    this.fleet = job;
    const total = request.policies.length * request.rates.length;
    const send = (fraction: number, message: string, point?: FleetPoint) =>
      this.emit('fleet.progress', { jobId: job.jobId, fraction: Math.min(1, Math.max(0, fraction)), message, ...(point ? { point } : {}) });
    const run = async (): Promise<void> => {
      let outcome: 'done' | 'cancelled' | 'failed' = 'done';
      let error: string | undefined;
      let report: FleetReport | null = null;
      try {
        send(0, `Starting ${request.clients} clients`);
        report = await runFleet({
          request,
          zooDir: this.zooDir,
          signal: job.controller.signal,
          onProgress: (p) => send(p.phase === 'prepare' ? 0.02 : 0.05 + (0.95 * p.done) / Math.max(1, total), p.message, p.point)
        });
        send(1, 'Done');
      } catch (caught) {
        if (caught instanceof FleetCancelledError || job.controller.signal.aborted) outcome = 'cancelled';
        else {
          outcome = 'failed';
          error = describeError(caught);
          this.log(`studio: the fleet run failed: ${error}`);
        }
      } finally {
        this.fleet = null;
      }
      this.emit('fleet.done', { jobId: job.jobId, outcome, report, ...(error ? { error } : {}) });
    };
    void run();
    return job.jobId;
  }

  cancelFleet(jobId: string): boolean {
    if (!this.fleet || this.fleet.jobId !== jobId || this.fleet.controller.signal.aborted) return false;
    this.fleet.controller.abort();
    return true;
  }

  // ---- executor ----------------------------------------------------------------------

  private async connectExecutor(url: string, token: string | undefined): Promise<ExecutorStatus> {
    const status = await this.executor.connectRemote(url, token);
    this.prefs.set({ remoteExecutor: token ? { url: status.url, token } : { url: status.url } });
    return status;
  }

  private async useLocalExecutor(): Promise<ExecutorStatus> {
    this.prefs.set({ remoteExecutor: null });
    return this.executor.useLocal();
  }
}

/**
 * Plan options for a network from the renderer: the radio model of the preset it names
 * (LTE's for a custom or measured network), default device power.
 */
export function studioPlanOptions(network: NetworkConditions, serverLoad: number): PlanOptions {
  const presetName = network.name.replace(/ \(custom\)$/, '').toLowerCase();
  const base = defaultPlanOptions(isNetworkPresetName(presetName) ? presetName : 'lte');
  return { ...base, network: { ...network }, serverLoad };
}

/** Whether the executor runs on this machine: the one the studio started, or a URL naming this host. */
export function executorOnThisMachine(status: Pick<ExecutorStatus, 'kind' | 'url'>): boolean {
  if (status.kind === 'local') return true;
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(status.url).hostname);
  } catch {
    return false;
  }
}

/** Where each profiler phase starts and ends on the progress bar (fractions of the whole job). */
const PHASE_SPANS: Record<ProfilePhase, [number, number]> = {
  calibrate: [0, 0.05],
  load: [0.05, 0.15],
  warmup: [0.15, 0.25],
  profile: [0.25, 0.95],
  overhead: [0.95, 1]
};

/** Where one progress report of the local profiler stands: the fraction of the job done, and what to show. */
export function localProfileStep(event: ProfileProgress): { fraction: number; label: string } {
  const [from, to] = PHASE_SPANS[event.phase];
  const fraction = from + (to - from) * (event.total > 0 ? Math.min(1, event.done / event.total) : 0);
  switch (event.phase) {
    case 'calibrate':
      return { fraction, label: "Calibrating the profiler's own cost" };
    case 'load':
      return { fraction, label: 'Loading the model into onnxruntime' };
    case 'warmup':
      return { fraction, label: `Warm-up run ${event.done} of ${event.total}` };
    case 'profile':
      return { fraction, label: `Timed run ${event.done} of ${event.total} (profiled and plain in turn)` };
    case 'overhead':
      return { fraction, label: 'Measuring the per-run cost outside the layers' };
  }
}

type ProgressSink = (phase: string, fraction: number, message: string, force?: boolean) => void;

/** Passes progress on at most every 50 ms (and always on a phase change or when forced). */
function progressReporter(send: (phase: string, fraction: number, message: string) => void): ProgressSink {
  let last = 0;
  let lastPhase = '';
  return (phase, fraction, message, force = false) => {
    const now = performance.now();
    if (!force && phase === lastPhase && now - last < 50 && fraction < 1) return;
    last = now;
    lastPhase = phase;
    send(phase, fraction, message);
  };
}

/**
 * The model id: SHA-256 of the file (as main/model/model-file.ts sha256), hashed in slices with a
 * turn of the event loop between them, so the hosts keep serving while a large model is hashed.
 */
async function sha256Yielding(bytes: Uint8Array): Promise<string> {
  const hash = createHash('sha256');
  const slice = 8 << 20;
  for (let start = 0; start < bytes.byteLength; start += slice) {
    hash.update(bytes.subarray(start, Math.min(start + slice, bytes.byteLength)));
    if (start + slice < bytes.byteLength) await nextTurn();
  }
  return hash.digest('hex');
}

function fileSignature(file: string): string | null {
  try {
    const stats = statSync(file);
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return null;
  }
}

/** The bundled samples, the default one first. */
export function sampleList(): { id: string; title: string }[] {
  const first = zooModels.filter((m) => m.id === DEFAULT_SAMPLE_ID);
  return [...first, ...zooModels.filter((m) => m.id !== DEFAULT_SAMPLE_ID)].map((m) => ({ id: m.id, title: m.title }));
}
