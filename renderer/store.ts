// The studio's one zustand store: slices for the open model, the selection and search,
// the profiles and running profile jobs, the executor, preferences and banners. It holds
// source facts only (what main said, what the user chose); numbers derived from them are
// computed where they are shown, by app/ functions. The store talks to main only through
// the StudioHost it is created with, so the same store runs over Electron IPC and over the
// web host's socket. A file picked or dropped in a browser streams to main in chunks
// (upload.*) with its progress here; the model shown is remembered for this tab (its path
// or sample id, in sessionStorage) and opened again after a reload.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
  DeviceList,
  ExecutorStatus,
  OpenedModel,
  Preferences,
  ProfileDone,
  ProfileProgress,
  RecentFile,
  StudioEvent,
  StudioHost,
  StudioParams,
  StudioResult
} from '../app/studio/contract.js';
import { DEFAULT_PROFILE_RUNS, DEFAULT_PROFILE_WARMUP, type ExecutionProviderName, type LatencyProfile } from '../app/profiling/types.js';
import { HostConnectionError, type UploadChannel } from './host/host-error.js';
import { DEFAULT_WHAT_IF, type PinnedCut, type WhatIf } from './split/split-data.js';
import type { FleetPoint } from '../app/fleet/types.js';

export type ProfileSide = 'local' | 'remote';
export type AppInfo = StudioResult<'app.info'>;
export type ProviderStatus = StudioResult<'providers.list'>[number];
export type ResolvedTheme = 'light' | 'dark';

export interface ModelProfiles {
  local: LatencyProfile | null;
  remote: LatencyProfile | null;
}

export interface ProfileJob {
  /** Empty until main answers profile.start (progress may arrive first). */
  jobId: string;
  modelId: string;
  side: ProfileSide;
  ep: ExecutionProviderName;
  phase: string;
  fraction: number;
  message: string;
  cancelling: boolean;
}

/** Which partition the graph shows: the best cut for the objective, a pinned cut, the DAG min cut, or none. */
export type GraphPartitionChoice = { kind: 'best' } | { kind: 'pinned'; cut: number } | { kind: 'dag' } | { kind: 'none' };
/**
 * What a banner is about, when the condition behind it can end: 'executor' banners go
 * when the executor is connected again.
 */
export type BannerTopic = 'executor';

export interface Banner {
  id: number;
  tone: 'error' | 'info';
  message: string;
  topic?: BannerTopic;
}

/** A file streaming to main (browser uploads): bytes main has written so far. */
export interface UploadJob {
  /** Empty until main answers upload.begin. */
  uploadId: string;
  fileName: string;
  sentBytes: number;
  totalBytes: number;
  cancelling: boolean;
}

/** What a tab remembers of the model it shows, to open it again after a reload. */
export type RememberedModel = { path: string } | { sampleId: string };

/** Where the remembered model is kept (sessionStorage in the page; a variable in tests). */
export interface ModelMemory {
  read(): RememberedModel | null;
  write(model: RememberedModel | null): void;
}

const MEMORY_KEY = 'studio.shownModel';

/** The tab's sessionStorage, or a memory that forgets where there is none. */
export function sessionMemory(): ModelMemory {
  const storage = typeof sessionStorage === 'undefined' ? null : sessionStorage;
  return {
    read() {
      try {
        const value: unknown = JSON.parse(storage?.getItem(MEMORY_KEY) ?? 'null');
        if (typeof value !== 'object' || value === null) return null;
        const record = value as Record<string, unknown>;
        if (typeof record.path === 'string' && record.path !== '') return { path: record.path };
        if (typeof record.sampleId === 'string' && record.sampleId !== '') return { sampleId: record.sampleId };
        return null;
      } catch {
        return null;
      }
    },
    write(model) {
      if (model) storage?.setItem(MEMORY_KEY, JSON.stringify(model));
      else storage?.removeItem(MEMORY_KEY);
    }
  };
}

/** Bytes per upload.chunk message, and how many may be on their way at once. */
export const UPLOAD_CHUNK_BYTES = 8 << 20;
const UPLOAD_WINDOW = 3;

class UploadCancelled extends Error {
  override name = 'UploadCancelled';
}

export interface StudioState {
  // connection
  host: StudioHost;
  info: AppInfo | null;
  /** Set when the host itself is gone (web host stopped, socket closed). */
  connectionLost: string | null;

  // model
  current: OpenedModel | null;
  /** The label of a file being opened (drives the busy indicator); null when idle. */
  opening: string | null;
  /** A browser file streaming to main, while it streams. */
  upload: UploadJob | null;

  // selection and search
  selected: number | null;
  search: string;
  focusRequest: { index: number; nonce: number } | null;

  // profiles, kept per model id so reopening or switching models shows them
  profiles: Record<string, ModelProfiles>;
  jobs: Partial<Record<ProfileSide, ProfileJob>>;

  // executor and providers
  executor: ExecutorStatus | null;
  /** The devices the head can run on and the active one (this machine, or a device executor). */
  devices: DeviceList | null;
  providers: ProviderStatus[];

  // preferences and recent files
  prefs: Preferences | null;
  recent: RecentFile[];

  banners: Banner[];

  // split panel: the what-if conditions and the cuts pinned for comparison (of one model)
  splitWhatIf: WhatIf;
  splitPins: SplitPins | null;
  sweep: SweepJob | null;
  /** The Throughput tab's fleet run (not tied to the open model). */
  fleet: FleetJob | null;
  /** Wire encodings measured at some cuts of the current model ('encoding.measure'). */
  encodings: EncodingMeasurements | null;
  /** The partition drawn on the graph (split/shown-partition.ts resolves it). */
  graphPartition: GraphPartitionChoice;

  // actions
  start(): () => void;
  openFile(file: File): Promise<void>;
  cancelUpload(): Promise<void>;
  openPath(path: string): Promise<void>;
  openSample(id: string): Promise<void>;
  select(index: number | null, options?: { focus?: boolean }): void;
  setSearch(search: string): void;
  startProfile(side: ProfileSide): Promise<void>;
  cancelProfile(side: ProfileSide): Promise<void>;
  connectExecutor(url: string, token: string): Promise<boolean>;
  switchToLocalExecutor(): Promise<void>;
  /** Adds a device executor by URL and makes it the active device (re-plans with its profile). */
  addDevice(url: string, token: string): Promise<boolean>;
  /** Makes a device the active one: the open model's device-side profile becomes that device's. */
  selectDevice(id: string): Promise<void>;
  setPrefs(change: Partial<Preferences>): Promise<void>;
  toggleTheme(): void;
  pushBanner(tone: Banner['tone'], message: string, topic?: BannerTopic): void;
  dismissBanner(id: number): void;
  /** Removes the banners about a condition that has ended. */
  clearBanners(topic: BannerTopic): void;
  setConnectionLost(reason: string): void;
  setWhatIf(change: Partial<WhatIf>): void;
  togglePin(modelId: string, cut: PinnedCut): void;
  /** Pins a cut read from a partition config, naming the file it came from. */
  pinImported(modelId: string, cut: PinnedCut, fileName: string): void;
  clearPins(): void;
  setGraphPartition(choice: GraphPartitionChoice): void;
  startSweep(params: Omit<StudioParams<'sweep.start'>, 'modelId'>): Promise<void>;
  /** Measures every applicable wire encoding at `cuts` of the current model on 32 sample inputs. */
  measureEncodings(cuts: number[]): Promise<void>;
  cancelSweep(): Promise<void>;
  startFleet(params: StudioParams<'fleet.start'>): Promise<void>;
  cancelFleet(): Promise<void>;
}

/** The cuts pinned for comparison, of one model. */
export interface SplitPins {
  modelId: string;
  /** Topological cuts, ascending (the graph marks these). */
  cuts: number[];
  /** The DAG min-cut partition is pinned too. */
  dag: boolean;
  /** Pinned cuts that came from a partition config: cut (or 'dag') → its file name. */
  imported: Record<string, string>;
}

/** Wire encodings measured for one model: bytes, encode/decode ms and agreement per (cut, encoding). */
export interface EncodingMeasurements {
  modelId: string;
  measuring: boolean;
  measurements: StudioResult<'encoding.measure'>['measurements'];
  samples: number;
}

/** A measured sweep started from the split panel: its progress while it runs, then its outcome. */
export interface SweepJob {
  /** Empty until main answers sweep.start. */
  jobId: string;
  modelId: string;
  /** The uplink the sweep's predictions were made for (its network). */
  network: string;
  fraction: number;
  message: string;
  cancelling: boolean;
  done: StudioEvent<'sweep.done'> | null;
}

/** A fleet run from the Throughput tab: its progress and the points measured so far, then its report. */
export interface FleetJob {
  /** Empty until main answers fleet.start. */
  jobId: string;
  fraction: number;
  message: string;
  points: FleetPoint[];
  cancelling: boolean;
  done: StudioEvent<'fleet.done'> | null;
}

export type StudioStore = StoreApi<StudioState>;

const emptyProfiles: ModelProfiles = { local: null, remote: null };

/** The first line of an error's message, for a banner. */
export function errorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0].trim() || 'unknown error';
}

/** The theme actually shown: 'system' follows the OS (prefers-color-scheme). */
export function resolveTheme(theme: Preferences['theme'] | undefined, systemPrefersDark: boolean): ResolvedTheme {
  if (theme === 'light' || theme === 'dark') return theme;
  return systemPrefersDark ? 'dark' : 'light';
}

function systemPrefersDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

export function createStudioStore(host: StudioHost & UploadChannel, memory: ModelMemory = sessionMemory()): StudioStore {
  let nextBannerId = 1;
  /** Guards against an older open finishing after a newer one: the last open wins. */
  let openSequence = 0;
  /** Jobs main has already finished: a late profile.start answer must not resurrect them. */
  const finishedJobs = new Set<string>();

  return createStore<StudioState>()((set, get) => {
    const fail = (context: string, error: unknown) => {
      // A request that failed because the host went away: the Disconnected banner already says so.
      if (error instanceof HostConnectionError && get().connectionLost !== null) return;
      get().pushBanner('error', `${context}: ${errorMessage(error)}`);
    };

    /** Shows a model main opened; keeps any profile this session measured that main did not return. */
    const adoptModel = (opened: OpenedModel) => {
      const { path, sampleId } = opened.source;
      memory.write(path ? { path } : sampleId ? { sampleId } : null);
      const known = get().profiles[opened.model.id] ?? emptyProfiles;
      const profiles: ModelProfiles = {
        local: opened.profiles.local ?? known.local,
        remote: opened.profiles.remote ?? known.remote
      };
      set((state) => ({
        current: opened,
        selected: null,
        focusRequest: null,
        profiles: { ...state.profiles, [opened.model.id]: profiles }
      }));
    };

    const refreshRecent = async () => {
      try {
        set({ recent: await host.request('model.recent', {}) });
      } catch (error) {
        fail('Could not read the recent files', error);
      }
    };

    const open = async (label: string, request: () => Promise<OpenedModel>) => {
      const sequence = ++openSequence;
      set({ opening: label });
      try {
        const opened = await request();
        if (sequence === openSequence) adoptModel(opened);
        void refreshRecent();
      } catch (error) {
        if (sequence === openSequence && !(error instanceof UploadCancelled)) {
          // Main's messages name the file first ("x.onnx: truncated …"); say it once.
          const message = errorMessage(error);
          get().pushBanner('error', `Could not open ${label}: ${message.startsWith(`${label}: `) ? message.slice(label.length + 2) : message}`);
        }
      } finally {
        if (sequence === openSequence) set({ opening: null });
      }
    };

    /**
     * Streams a file to main in chunks, in order, a few on their way at once (reading the
     * next slice while the last ones travel), then asks main to open it.
     */
    const uploadFile = async (file: File): Promise<OpenedModel> => {
      const job: UploadJob = { uploadId: '', fileName: file.name, sentBytes: 0, totalBytes: file.size, cancelling: false };
      set({ upload: job });
      const cancelled = () => get().upload?.cancelling ?? true;
      let uploadId = '';
      try {
        ({ uploadId } = await host.request('upload.begin', { fileName: file.name, bytes: file.size }));
        set((state) => (state.upload ? { upload: { ...state.upload, uploadId } } : {}));
        const inFlight: Promise<unknown>[] = [];
        for (let offset = 0; offset < file.size; offset += UPLOAD_CHUNK_BYTES) {
          if (cancelled()) throw new UploadCancelled();
          const chunk = file.slice(offset, Math.min(offset + UPLOAD_CHUNK_BYTES, file.size));
          // The host's own road for the bytes when it has one (the browser sends the slice
          // itself); else a contract request carrying them.
          const sent = host.sendUploadChunk
            ? host.sendUploadChunk({ uploadId, offset, chunk })
            : chunk.arrayBuffer().then((buffer) => host.request('upload.chunk', { uploadId, offset, bytes: new Uint8Array(buffer) }));
          if (cancelled()) throw new UploadCancelled();
          inFlight.push(
            sent.then(({ received }) =>
              set((state) => (state.upload && state.upload.uploadId === uploadId ? { upload: { ...state.upload, sentBytes: Math.max(state.upload.sentBytes, received) } } : {}))
            )
          );
          if (inFlight.length >= UPLOAD_WINDOW) await inFlight.shift();
        }
        await Promise.all(inFlight);
        if (cancelled()) throw new UploadCancelled();
        return await host.request('upload.finish', { uploadId });
      } catch (error) {
        if (uploadId !== '') await host.request('upload.cancel', { uploadId }).catch(() => undefined);
        throw cancelled() ? new UploadCancelled() : error;
      } finally {
        set({ upload: null });
      }
    };

    const onProgress = (progress: ProfileProgress) => {
      if (finishedJobs.has(progress.jobId)) return;
      set((state) => {
        const job = state.jobs[progress.side];
        const ep = job?.ep ?? state.prefs?.localEp ?? 'cpu';
        return {
          jobs: {
            ...state.jobs,
            [progress.side]: {
              jobId: progress.jobId,
              modelId: progress.modelId,
              side: progress.side,
              ep,
              phase: progress.phase,
              fraction: progress.fraction,
              message: progress.message,
              cancelling: job?.cancelling ?? false
            }
          }
        };
      });
    };

    const onDone = (done: ProfileDone) => {
      finishedJobs.add(done.jobId);
      set((state) => {
        const jobs = { ...state.jobs };
        if (!jobs[done.side] || jobs[done.side]?.jobId === done.jobId || jobs[done.side]?.jobId === '') delete jobs[done.side];
        if (done.outcome !== 'done' || !done.profile) return { jobs };
        const known = state.profiles[done.modelId] ?? emptyProfiles;
        return { jobs, profiles: { ...state.profiles, [done.modelId]: { ...known, [done.side]: done.profile } } };
      });
      const where = done.side === 'local' ? 'this machine' : 'the executor';
      if (done.outcome === 'failed') get().pushBanner('error', `Profiling on ${where} failed: ${done.error ?? 'no reason given'} (earlier results are kept)`);
      else if (done.outcome === 'done' && !done.profile) get().pushBanner('error', `Profiling on ${where} finished without a profile`);
    };

    const onExecutorStatus = (status: ExecutorStatus) => {
      const previous = get().executor;
      set({ executor: status });
      // What was said about the executor (unreachable, a refused connect) no longer holds.
      if (status.state === 'connected') get().clearBanners('executor');
      const lost = status.state === 'unreachable' && (previous?.state !== 'unreachable' || previous.url !== status.url);
      if (lost) {
        const who = status.kind === 'local' ? 'The executor on this machine' : `The executor at ${status.url}`;
        get().pushBanner('error', `${who} is unreachable${status.error ? `: ${status.error}` : ''}`, 'executor');
      }
    };

    return {
      host,
      info: null,
      connectionLost: null,
      current: null,
      opening: null,
      upload: null,
      selected: null,
      search: '',
      focusRequest: null,
      profiles: {},
      jobs: {},
      executor: null,
      devices: null,
      providers: [],
      prefs: null,
      recent: [],
      banners: [],
      splitWhatIf: DEFAULT_WHAT_IF,
      splitPins: null,
      sweep: null,
      fleet: null,
      encodings: null,
      graphPartition: { kind: 'best' },

      start() {
        // After a reload this tab opens again what it showed; the model named on the web
        // host's command line (announced to every new page) is only for a fresh tab.
        const remembered = memory.read();
        let launchModel: OpenedModel | null = null;
        const unsubscribe = [
          host.on('model.opened', (announced) => {
            const { launch, ...opened } = announced;
            if (launch && remembered) {
              launchModel = opened;
              return;
            }
            openSequence++;
            set({ opening: null });
            adoptModel(opened);
            void refreshRecent();
          }),
          host.on('profile.progress', onProgress),
          host.on('profile.done', onDone),
          host.on('executor.status', onExecutorStatus),
          host.on('app.error', (error) => get().pushBanner('error', error.message)),
          host.on('sweep.progress', (progress) =>
            set((state) => {
              const job = state.sweep;
              if (!job || job.done || (job.jobId !== '' && job.jobId !== progress.jobId)) return {};
              return { sweep: { ...job, jobId: progress.jobId, fraction: progress.fraction, message: job.cancelling ? job.message : progress.message } };
            })
          ),
          host.on('sweep.done', (done) => {
            const job = get().sweep;
            if (!job || (job.jobId !== '' && job.jobId !== done.jobId)) return;
            set({ sweep: { ...job, jobId: done.jobId, fraction: 1, done } });
            if (done.outcome === 'failed') get().pushBanner('error', `The sweep failed: ${done.error ?? 'no reason given'}`);
          }),
          host.on('fleet.progress', (progress) =>
            set((state) => {
              const job = state.fleet;
              if (!job || job.done || (job.jobId !== '' && job.jobId !== progress.jobId)) return {};
              return {
                fleet: {
                  ...job,
                  jobId: progress.jobId,
                  fraction: progress.fraction,
                  message: job.cancelling ? job.message : progress.message,
                  points: progress.point ? [...job.points, progress.point] : job.points
                }
              };
            })
          ),
          host.on('fleet.done', (done) => {
            const job = get().fleet;
            if (!job || (job.jobId !== '' && job.jobId !== done.jobId)) return;
            set({ fleet: { ...job, jobId: done.jobId, fraction: 1, done } });
            if (done.outcome === 'failed') get().pushBanner('error', `The fleet run failed: ${done.error ?? 'no reason given'}`);
          })
        ];

        void (async () => {
          // Each fact shows when it arrives; the model is asked for as soon as the app info
          // is in (probing the providers, say, may take a while and must not hold it up).
          const infoRequest = host.request('app.info', {});
          void host.request('prefs.get', {}).then((prefs) => set({ prefs }), (error: unknown) => fail('Could not read the preferences', error));
          void host.request('model.recent', {}).then((recent) => set({ recent }), () => undefined);
          void host.request('executor.status', {}).then(onExecutorStatus, (error: unknown) => fail('Could not read the executor status', error));
          void host.request('providers.list', {}).then((providers) => set({ providers }), (error: unknown) => fail('Could not list the execution providers', error));
          void host.request('device.list', {}).then((devices) => set({ devices }), () => undefined);
          let sample: AppInfo['samples'][number] | undefined;
          try {
            const info = await infoRequest;
            set({ info });
            sample = info.samples[0];
          } catch (error) {
            fail('Could not reach the studio', error);
          }

          if (remembered && openSequence === 0) {
            if ('path' in remembered) await get().openPath(remembered.path);
            else await get().openSample(remembered.sampleId);
            if (get().current) return;
            // It could not be opened again (the banner says why): show what a fresh tab shows.
            memory.write(null);
            if (launchModel) {
              adoptModel(launchModel);
              return;
            }
          }
          // Main opens the sample on first start and announces it; ask for it only when
          // nothing is open or being opened by then, so every view has data without setup.
          if (!get().current && !get().opening && sample && (openSequence === 0 || remembered)) await get().openSample(sample.id);
        })();

        return () => unsubscribe.forEach((off) => off());
      },

      async openFile(file) {
        // In Electron a picked or dropped file has a path: open it there (no bytes copied, and it joins the recent files).
        const path = host.pathForFile?.(file) ?? '';
        if (path) return get().openPath(path);
        if (get().upload) {
          get().pushBanner('error', `Could not open ${file.name}: ${get().upload?.fileName} is still uploading (cancel it first)`);
          return;
        }
        await open(file.name, () => uploadFile(file));
      },

      async cancelUpload() {
        const job = get().upload;
        if (!job || job.cancelling) return;
        set({ upload: { ...job, cancelling: true } });
      },

      async openPath(path) {
        const fileName = path.split(/[\\/]/).pop() || path;
        await open(fileName, () => host.request('model.openPath', { path }));
      },

      async openSample(id) {
        const title = get().info?.samples.find((sample) => sample.id === id)?.title ?? id;
        await open(`the ${title} sample`, () => host.request('model.openSample', { id }));
      },

      select(index, options) {
        set((state) => ({
          selected: index,
          focusRequest: options?.focus && index !== null ? { index, nonce: (state.focusRequest?.nonce ?? 0) + 1 } : state.focusRequest
        }));
      },

      setSearch(search) {
        set({ search });
      },

      async startProfile(side) {
        const { current, prefs, jobs } = get();
        if (!current || jobs[side]) return;
        const ep: ExecutionProviderName = side === 'local' ? (prefs?.localEp ?? 'cpu') : 'cpu';
        const modelId = current.model.id;
        const pending: ProfileJob = { jobId: '', modelId, side, ep, phase: 'starting', fraction: 0, message: 'Starting…', cancelling: false };
        set((state) => ({ jobs: { ...state.jobs, [side]: pending } }));
        try {
          const { jobId } = await host.request('profile.start', {
            modelId,
            side,
            ep,
            runs: prefs?.profileRuns ?? DEFAULT_PROFILE_RUNS,
            warmup: prefs?.profileWarmup ?? DEFAULT_PROFILE_WARMUP
          });
          if (finishedJobs.has(jobId)) return;
          set((state) => {
            const job = state.jobs[side];
            if (!job || (job.jobId !== '' && job.jobId !== jobId)) return {};
            return { jobs: { ...state.jobs, [side]: { ...job, jobId } } };
          });
          // A cancel clicked before main answered is sent now that the job has an id.
          if (get().jobs[side]?.cancelling) await host.request('profile.cancel', { jobId });
        } catch (error) {
          set((state) => {
            const jobs = { ...state.jobs };
            if (jobs[side]?.jobId === '') delete jobs[side];
            return { jobs };
          });
          fail(side === 'local' ? 'Could not start profiling on this machine' : 'Could not start profiling on the executor', error);
        }
      },

      async cancelProfile(side) {
        const job = get().jobs[side];
        if (!job || job.cancelling) return;
        set((state) => ({ jobs: { ...state.jobs, [side]: { ...job, cancelling: true, message: 'Cancelling…' } } }));
        if (job.jobId === '') return;
        try {
          await host.request('profile.cancel', { jobId: job.jobId });
        } catch (error) {
          fail('Could not cancel profiling', error);
        }
      },

      async connectExecutor(url, token) {
        try {
          const status = await host.request('executor.connect', token ? { url, token } : { url });
          onExecutorStatus(status);
          if (status.state === 'connected') {
            const prefs = await host.request('prefs.get', {});
            set({ prefs });
          }
          return status.state === 'connected';
        } catch (error) {
          get().pushBanner('error', `Could not connect to the remote executor: ${errorMessage(error)}`, 'executor');
          return false;
        }
      },

      async addDevice(url, token) {
        try {
          set({ devices: await host.request('device.add', token ? { url, token } : { url }) });
          await get().selectDevice(get().devices?.activeId ?? '');
          return true;
        } catch (error) {
          get().pushBanner('error', `Could not add the device: ${errorMessage(error)}`, 'executor');
          return false;
        }
      },

      async selectDevice(id) {
        const current = get().current;
        try {
          const answer = await host.request('device.select', current ? { id, modelId: current.model.id } : { id });
          const { profiles, ...devices } = answer;
          set((state) => ({
            devices,
            // The device side is now that device's own profile (or none yet: the estimate stands in).
            profiles: current && profiles ? { ...state.profiles, [current.model.id]: { local: profiles.local, remote: profiles.remote } } : state.profiles
          }));
        } catch (error) {
          fail('Could not switch the device', error);
        }
      },

      async switchToLocalExecutor() {
        try {
          onExecutorStatus(await host.request('executor.useLocal', {}));
        } catch (error) {
          fail('Could not switch to the executor on this machine', error);
        }
      },

      async setPrefs(change) {
        const before = get().prefs;
        if (before) set({ prefs: { ...before, ...change } });
        try {
          set({ prefs: await host.request('prefs.set', change) });
        } catch (error) {
          if (before) set({ prefs: before });
          fail('Could not save the preferences', error);
        }
      },

      toggleTheme() {
        const shown = resolveTheme(get().prefs?.theme, systemPrefersDark());
        void get().setPrefs({ theme: shown === 'dark' ? 'light' : 'dark' });
      },

      pushBanner(tone, message, topic) {
        set((state) => {
          // The same problem twice shows once (e.g. a retried request failing again).
          if (state.banners.some((banner) => banner.message === message)) return {};
          return { banners: [...state.banners, { id: nextBannerId++, tone, message, ...(topic ? { topic } : {}) }].slice(-4) };
        });
      },

      dismissBanner(id) {
        set((state) => ({ banners: state.banners.filter((banner) => banner.id !== id) }));
      },

      clearBanners(topic) {
        set((state) => (state.banners.some((banner) => banner.topic === topic) ? { banners: state.banners.filter((banner) => banner.topic !== topic) } : {}));
      },

      setConnectionLost(reason) {
        // Nothing main said about jobs, opens or the executor holds any more; the model and its profiles stay shown.
        set({ connectionLost: reason, jobs: {}, opening: null, upload: null, executor: null });
      },

      setWhatIf(change) {
        set((state) => ({ splitWhatIf: { ...state.splitWhatIf, ...change } }));
      },

      togglePin(modelId, cut) {
        set((state) => {
          const pins: SplitPins = state.splitPins?.modelId === modelId ? state.splitPins : { modelId, cuts: [], dag: false, imported: {} };
          const imported = { ...pins.imported };
          if (cut === 'dag') {
            if (pins.dag) delete imported.dag;
            return { splitPins: { ...pins, dag: !pins.dag, imported } };
          }
          const pinned = pins.cuts.includes(cut);
          if (pinned) delete imported[String(cut)];
          const cuts = pinned ? pins.cuts.filter((other) => other !== cut) : [...pins.cuts, cut].sort((a, b) => a - b);
          return { splitPins: { ...pins, cuts, imported } };
        });
      },

      pinImported(modelId, cut, fileName) {
        set((state) => {
          const pins: SplitPins = state.splitPins?.modelId === modelId ? state.splitPins : { modelId, cuts: [], dag: false, imported: {} };
          const cuts = cut === 'dag' || pins.cuts.includes(cut) ? pins.cuts : [...pins.cuts, cut].sort((a, b) => a - b);
          return { splitPins: { ...pins, cuts, dag: pins.dag || cut === 'dag', imported: { ...pins.imported, [String(cut)]: fileName } } };
        });
      },

      clearPins() {
        set({ splitPins: null });
      },

      setGraphPartition(choice) {
        set({ graphPartition: choice });
      },

      async measureEncodings(cuts) {
        const { current, encodings } = get();
        if (!current || encodings?.measuring) return;
        const modelId = current.model.id;
        const kept = encodings?.modelId === modelId ? encodings.measurements.filter((m) => !cuts.includes(m.cut)) : [];
        set({ encodings: { modelId, measuring: true, measurements: kept, samples: encodings?.samples ?? 0 } });
        try {
          const result = await host.request('encoding.measure', { modelId, cuts, encodings: 'auto', samples: 32 });
          set({ encodings: { modelId, measuring: false, measurements: [...kept, ...result.measurements], samples: result.samples } });
        } catch (error) {
          set({ encodings: { modelId, measuring: false, measurements: kept, samples: encodings?.samples ?? 0 } });
          fail('Could not measure the encodings', error);
        }
      },

      async startSweep(params) {
        const { current, sweep } = get();
        if (!current || (sweep && !sweep.done)) return;
        const modelId = current.model.id;
        set({ sweep: { jobId: '', modelId, network: params.network.name, fraction: 0, message: 'Starting…', cancelling: false, done: null } });
        try {
          const { jobId } = await host.request('sweep.start', { ...params, modelId });
          set((state) => (state.sweep && state.sweep.jobId === '' ? { sweep: { ...state.sweep, jobId } } : {}));
          if (get().sweep?.cancelling) await host.request('sweep.cancel', { jobId });
        } catch (error) {
          set({ sweep: null });
          fail('Could not start the sweep', error);
        }
      },

      async cancelSweep() {
        const job = get().sweep;
        if (!job || job.done || job.cancelling) return;
        set({ sweep: { ...job, cancelling: true, message: 'Cancelling…' } });
        if (job.jobId === '') return;
        try {
          await host.request('sweep.cancel', { jobId: job.jobId });
        } catch (error) {
          fail('Could not cancel the sweep', error);
        }
      },

      async startFleet(params) {
        const { fleet } = get();
        if (fleet && !fleet.done) return;
        set({ fleet: { jobId: '', fraction: 0, message: 'Starting…', points: [], cancelling: false, done: null } });
        try {
          const { jobId } = await host.request('fleet.start', params);
          set((state) => (state.fleet && state.fleet.jobId === '' ? { fleet: { ...state.fleet, jobId } } : {}));
          if (get().fleet?.cancelling) await host.request('fleet.cancel', { jobId });
        } catch (error) {
          set({ fleet: null });
          fail('Could not start the fleet run', error);
        }
      },

      async cancelFleet() {
        const job = get().fleet;
        if (!job || job.done || job.cancelling) return;
        set({ fleet: { ...job, cancelling: true, message: 'Cancelling…' } });
        if (job.jobId === '') return;
        try {
          await host.request('fleet.cancel', { jobId: job.jobId });
        } catch (error) {
          fail('Could not cancel the fleet run', error);
        }
      }
    };
  });
}

/** The profiles of the open model (a stable object: the same reference until they change). */
export function currentProfiles(state: StudioState): ModelProfiles {
  return state.current ? (state.profiles[state.current.model.id] ?? emptyProfiles) : emptyProfiles;
}

const StudioStoreContext = createContext<StudioStore | null>(null);

/** Provides the store to the component tree (index.tsx creates it with the host). */
export const StudioStoreProvider = StudioStoreContext.Provider;

/** Reads from the store; the selector must return a stable value (a field, not a new object). */
export function useStudio<T>(selector: (state: StudioState) => T): T {
  const store = useContext(StudioStoreContext);
  if (!store) throw new Error('useStudio must be used inside StudioStoreProvider');
  return useStore(store, selector);
}
