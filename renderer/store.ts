// The studio's one zustand store: slices for the open model, the selection and search,
// the profiles and running profile jobs, the executor, preferences and banners. It holds
// source facts only (what main said, what the user chose); numbers derived from them are
// computed where they are shown, by app/ functions. The store talks to main only through
// the StudioHost it is created with, so the same store runs over Electron IPC and over the
// web host's socket.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type {
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
import { DEFAULT_WHAT_IF, type WhatIf } from './split/split-data.js';

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

export interface Banner {
  id: number;
  tone: 'error' | 'info';
  message: string;
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

  // selection and search
  selected: number | null;
  search: string;
  focusRequest: { index: number; nonce: number } | null;

  // profiles, kept per model id so reopening or switching models shows them
  profiles: Record<string, ModelProfiles>;
  jobs: Partial<Record<ProfileSide, ProfileJob>>;

  // executor and providers
  executor: ExecutorStatus | null;
  providers: ProviderStatus[];

  // preferences and recent files
  prefs: Preferences | null;
  recent: RecentFile[];

  banners: Banner[];

  // split panel: the what-if conditions and the cuts pinned for comparison (of one model)
  splitWhatIf: WhatIf;
  splitPins: { modelId: string; cuts: number[] } | null;
  sweep: SweepJob | null;
  /** The partition drawn on the graph (split/shown-partition.ts resolves it). */
  graphPartition: GraphPartitionChoice;

  // actions
  start(): () => void;
  openFile(file: File): Promise<void>;
  openPath(path: string): Promise<void>;
  openSample(id: string): Promise<void>;
  select(index: number | null, options?: { focus?: boolean }): void;
  setSearch(search: string): void;
  startProfile(side: ProfileSide): Promise<void>;
  cancelProfile(side: ProfileSide): Promise<void>;
  connectExecutor(url: string, token: string): Promise<boolean>;
  switchToLocalExecutor(): Promise<void>;
  setPrefs(change: Partial<Preferences>): Promise<void>;
  toggleTheme(): void;
  pushBanner(tone: Banner['tone'], message: string): void;
  dismissBanner(id: number): void;
  setConnectionLost(reason: string): void;
  setWhatIf(change: Partial<WhatIf>): void;
  togglePin(modelId: string, cut: number): void;
  clearPins(): void;
  setGraphPartition(choice: GraphPartitionChoice): void;
  startSweep(params: Omit<StudioParams<'sweep.start'>, 'modelId'>): Promise<void>;
  cancelSweep(): Promise<void>;
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

export function createStudioStore(host: StudioHost): StudioStore {
  let nextBannerId = 1;
  /** Guards against an older open finishing after a newer one: the last open wins. */
  let openSequence = 0;
  /** Jobs main has already finished: a late profile.start answer must not resurrect them. */
  const finishedJobs = new Set<string>();

  return createStore<StudioState>()((set, get) => {
    const fail = (context: string, error: unknown) => get().pushBanner('error', `${context}: ${errorMessage(error)}`);

    /** Shows a model main opened; keeps any profile this session measured that main did not return. */
    const adoptModel = (opened: OpenedModel) => {
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
        if (sequence === openSequence) {
          // Main's messages name the file first ("x.onnx: truncated …"); say it once.
          const message = errorMessage(error);
          get().pushBanner('error', `Could not open ${label}: ${message.startsWith(`${label}: `) ? message.slice(label.length + 2) : message}`);
        }
      } finally {
        if (sequence === openSequence) set({ opening: null });
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
      const lost = status.state === 'unreachable' && (previous?.state !== 'unreachable' || previous.url !== status.url);
      if (lost) {
        const who = status.kind === 'local' ? 'The executor on this machine' : `The executor at ${status.url}`;
        get().pushBanner('error', `${who} is unreachable${status.error ? `: ${status.error}` : ''}`);
      }
    };

    return {
      host,
      info: null,
      connectionLost: null,
      current: null,
      opening: null,
      selected: null,
      search: '',
      focusRequest: null,
      profiles: {},
      jobs: {},
      executor: null,
      providers: [],
      prefs: null,
      recent: [],
      banners: [],
      splitWhatIf: DEFAULT_WHAT_IF,
      splitPins: null,
      sweep: null,
      graphPartition: { kind: 'best' },

      start() {
        const unsubscribe = [
          host.on('model.opened', (opened) => {
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
          })
        ];

        void (async () => {
          const [info, prefs, recent, executor, providers] = await Promise.allSettled([
            host.request('app.info', {}),
            host.request('prefs.get', {}),
            host.request('model.recent', {}),
            host.request('executor.status', {}),
            host.request('providers.list', {})
          ]);
          if (info.status === 'fulfilled') set({ info: info.value });
          else fail('Could not reach the studio', info.reason);
          if (prefs.status === 'fulfilled') set({ prefs: prefs.value });
          else fail('Could not read the preferences', prefs.reason);
          if (recent.status === 'fulfilled') set({ recent: recent.value });
          if (executor.status === 'fulfilled') onExecutorStatus(executor.value);
          else fail('Could not read the executor status', executor.reason);
          if (providers.status === 'fulfilled') set({ providers: providers.value });
          else fail('Could not list the execution providers', providers.reason);

          // Main opens the sample on first start and announces it; ask for it only when
          // nothing is open or being opened by then, so every view has data without setup.
          const sample = info.status === 'fulfilled' ? info.value.samples[0] : undefined;
          if (!get().current && !get().opening && openSequence === 0 && sample) await get().openSample(sample.id);
        })();

        return () => unsubscribe.forEach((off) => off());
      },

      async openFile(file) {
        // In Electron a picked or dropped file has a path: open it there (no bytes copied, and it joins the recent files).
        const path = host.pathForFile?.(file) ?? '';
        if (path) return get().openPath(path);
        await open(file.name, async () => {
          const bytes = new Uint8Array(await file.arrayBuffer());
          return host.request('model.openBytes', { fileName: file.name, bytes });
        });
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
          fail('Could not connect to the remote executor', error);
          return false;
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

      pushBanner(tone, message) {
        set((state) => {
          // The same problem twice shows once (e.g. a retried request failing again).
          if (state.banners.some((banner) => banner.message === message)) return {};
          return { banners: [...state.banners, { id: nextBannerId++, tone, message }].slice(-4) };
        });
      },

      dismissBanner(id) {
        set((state) => ({ banners: state.banners.filter((banner) => banner.id !== id) }));
      },

      setConnectionLost(reason) {
        // Nothing main said about jobs, opens or the executor holds any more; the model and its profiles stay shown.
        set({ connectionLost: reason, jobs: {}, opening: null, executor: null });
      },

      setWhatIf(change) {
        set((state) => ({ splitWhatIf: { ...state.splitWhatIf, ...change } }));
      },

      togglePin(modelId, cut) {
        set((state) => {
          const cuts = state.splitPins?.modelId === modelId ? state.splitPins.cuts : [];
          const next = cuts.includes(cut) ? cuts.filter((pinned) => pinned !== cut) : [...cuts, cut].sort((a, b) => a - b);
          return { splitPins: { modelId, cuts: next } };
        });
      },

      clearPins() {
        set({ splitPins: null });
      },

      setGraphPartition(choice) {
        set({ graphPartition: choice });
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
