// The executor the studio profiles the remote side on: either the one it started on this
// machine (executor-supervisor.ts) or a remote one the user connected to by URL and
// token. It keeps the contract's ExecutorStatus current — reachable or not, round-trip
// time, bandwidth, server load — by polling, and tells its listeners when that changes.
// While the studio keeps the executor busy (a remote profile, a sweep: busyWhile), a check
// that merely times out does not count as the executor being gone: it is busy, not down.
// The executor client itself (main/executor/client.ts) is reached through ExecutorApi,
// the few calls the studio needs, so this file does not depend on its other parts.
import type { GraphOptimization, LatencyProfile } from '../../app/profiling/types.js';
import type { ExecutorStatus } from '../../app/studio/contract.js';
import type { ExecutorSupervisor, SupervisedState } from './executor-supervisor.js';
import type { StudioLog } from './preferences.js';
import { firstLine } from '../errors/user-errors.js';

/** What the studio asks of an executor (a subset of main/executor/client.ts' ExecutorClient). */
export interface ExecutorApi {
  uploadModel(bytes: Uint8Array): Promise<{ name: string }>;
  /** Upload a model once (studio_sources, main/executor/sources.ts): null where the executor cannot keep models. */
  ensureSource?(bytes: Uint8Array, knownSha256?: string): Promise<{ sha256: string } | null>;
  /** Loads a part (here the whole model) built from a kept model, checked against `spec.sha256`. */
  buildModel?(name: string, spec: { source: string; part: 'head' | 'tail' | 'model'; localLayers: number[]; sha256: string }): Promise<{ name: string }>;
  profile(name: string, options: { runs: number; warmup: number; optimization?: GraphOptimization }): Promise<LatencyProfile>;
  measureLink(options?: { rounds?: number }): Promise<{ rttMs: number; uplinkMbps: number; downlinkMbps: number }>;
  load(): Promise<{ loadFactor: number }>;
  /** false (or a rejection) when the executor cannot be reached. */
  live(): Promise<boolean>;
  /** Needs the token (unlike live): rejects when it is wrong or missing. */
  ready(): Promise<boolean>;
  /** Lets go of idle connections. */
  close?(): void;
}

export type ExecutorConnector = (target: { url: string; token?: string }) => ExecutorApi;

export class ExecutorUnavailableError extends Error {
  override name = 'ExecutorUnavailableError';
}

export class ExecutorConnectError extends Error {
  override name = 'ExecutorConnectError';
}

export const LOCAL_EXECUTOR_LABEL = 'this machine';

export interface ExecutorLinkOptions {
  connect: ExecutorConnector;
  /** The executor on this machine; null with --no-executor. */
  supervisor: ExecutorSupervisor | null;
  /** Token the local executor was started with, if any. */
  localToken?: string;
  /** How often reachability, RTT and load are checked. */
  pollMs?: number;
  /** How often bandwidth is measured again (it moves data, so less often). */
  linkEveryMs?: number;
  /** How long one check may take before the executor counts as unreachable. */
  checkTimeoutMs?: number;
  log?: StudioLog;
}

interface Target {
  kind: 'local' | 'remote';
  url: string;
  token?: string;
  api: ExecutorApi | null;
}

/** A check that got no answer in time (as opposed to a refused connection or a wrong token). */
class CheckTimeoutError extends Error {
  override name = 'CheckTimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeoutError(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function reason(error: unknown): string {
  const line = firstLine(error)
    .replace(/^(Error|TypeError):\s*/, '')
    .replace(/^executor \S+: /, '');
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ? `${line} (${cause.code})` : line;
}

export class ExecutorLink {
  private target: Target;
  private current: ExecutorStatus;
  private readonly listeners = new Set<(status: ExecutorStatus) => void>();
  private pollTimer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastLinkMeasure = 0;
  private disposed = false;
  /** Jobs running on the executor now (busyWhile). */
  private busy = 0;
  private readonly offSupervisor: () => void;
  private readonly pollMs: number;
  private readonly linkEveryMs: number;
  private readonly checkTimeoutMs: number;
  private readonly log: StudioLog;

  constructor(private readonly options: ExecutorLinkOptions) {
    this.pollMs = options.pollMs ?? 5000;
    this.linkEveryMs = options.linkEveryMs ?? 120_000;
    this.checkTimeoutMs = options.checkTimeoutMs ?? 10_000;
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.target = { kind: 'local', url: '', api: null };
    // With a supervisor the executor on this machine is on its way (launchers start it once the first model is open).
    const initial = options.supervisor?.state ?? { state: 'stopped' };
    this.current = this.localStatus(options.supervisor && initial.state === 'stopped' ? { state: 'starting', attempt: 0 } : initial);
    this.offSupervisor = options.supervisor?.onChange((state) => this.onSupervisor(state)) ?? (() => undefined);
  }

  status(): ExecutorStatus {
    return { ...this.current };
  }

  /** Marks the executor busy with `work` until it settles; returns `work`. */
  busyWhile<T>(work: Promise<T>): Promise<T> {
    this.busy++;
    return work.finally(() => this.busy--);
  }

  onStatus(listener: (status: ExecutorStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The executor to profile on, or an ExecutorUnavailableError saying why there is none. */
  api(): { api: ExecutorApi; status: ExecutorStatus } {
    if (!this.target.api || this.current.state !== 'connected') {
      const who = this.target.kind === 'local' ? `the executor on ${LOCAL_EXECUTOR_LABEL}` : `the executor at ${this.target.url}`;
      const why = this.current.state === 'stopped' ? 'is not running' : this.current.state === 'starting' ? 'is still starting' : `is unreachable${this.current.error ? ` (${this.current.error})` : ''}`;
      throw new ExecutorUnavailableError(`${who} ${why}`);
    }
    return { api: this.target.api, status: this.status() };
  }

  /** Switches to the executor on this machine (starting it if needed). */
  async useLocal(): Promise<ExecutorStatus> {
    this.replaceTarget({ kind: 'local', url: '', api: null });
    const supervisor = this.options.supervisor;
    if (!supervisor) {
      this.publish(this.localStatus({ state: 'stopped' }));
      return this.status();
    }
    this.publish(this.localStatus(supervisor.state));
    if (supervisor.state.state === 'stopped') void supervisor.start().catch(() => undefined);
    else if (supervisor.state.state === 'running') await this.attach(supervisor.state.url);
    return this.status();
  }

  /** Connects to a remote executor; throws ExecutorConnectError when it does not answer (and keeps the current one). */
  async connectRemote(url: string, token?: string): Promise<ExecutorStatus> {
    const clean = url.replace(/\/+$/, '');
    let api: ExecutorApi;
    try {
      api = this.options.connect({ url: clean, token });
    } catch (error) {
      throw new ExecutorConnectError(`cannot use the executor at ${clean}: ${reason(error)}`);
    }
    let measured: ExecutorStatus;
    try {
      measured = await this.measure(api, { kind: 'remote', url: clean, label: clean }, true);
    } catch (error) {
      api.close?.();
      throw new ExecutorConnectError(`cannot connect to the executor at ${clean}: ${reason(error)}`);
    }
    this.replaceTarget({ kind: 'remote', url: clean, token, api });
    this.publish(measured);
    this.schedulePoll();
    return this.status();
  }

  dispose(): void {
    this.disposed = true;
    this.target.api?.close?.();
    this.offSupervisor();
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.listeners.clear();
  }

  private replaceTarget(target: Target): void {
    if (this.target.api && this.target.api !== target.api) this.target.api.close?.();
    this.target = target;
  }

  private localStatus(state: SupervisedState): ExecutorStatus {
    const base = { kind: 'local' as const, label: LOCAL_EXECUTOR_LABEL, rttMs: null, uplinkMbps: null, downlinkMbps: null, loadFactor: null };
    switch (state.state) {
      case 'stopped':
        return { ...base, url: '', state: 'stopped' };
      case 'starting':
        return { ...base, url: '', state: 'starting' };
      case 'restarting':
        return { ...base, url: '', state: 'unreachable', error: state.error };
      case 'running':
        return { ...base, url: state.url, state: 'starting' };
    }
  }

  private onSupervisor(state: SupervisedState): void {
    if (this.target.kind !== 'local' || this.disposed) return;
    if (state.state === 'running') {
      void this.attach(state.url);
      return;
    }
    this.replaceTarget({ kind: 'local', url: '', api: null });
    this.publish(this.localStatus(state));
  }

  private async attach(url: string): Promise<void> {
    const api = this.options.connect({ url, token: this.options.localToken });
    this.replaceTarget({ kind: 'local', url, token: this.options.localToken, api });
    this.publish(this.localStatus({ state: 'running', url, pid: -1 }));
    this.lastLinkMeasure = 0;
    await this.poll();
  }

  private async measure(api: ExecutorApi, who: { kind: 'local' | 'remote'; url: string; label: string }, measureLink: boolean): Promise<ExecutorStatus> {
    const started = performance.now();
    if (!(await withTimeout(api.live(), this.checkTimeoutMs, 'the liveness check'))) throw new Error('it does not answer');
    const rttMs = performance.now() - started;
    if (!(await withTimeout(api.ready(), this.checkTimeoutMs, 'the readiness check'))) throw new Error('it is not ready');
    const load = await withTimeout(api.load(), this.checkTimeoutMs, 'the load query').catch(() => null);
    let link = measureLink ? await withTimeout(api.measureLink({ rounds: 2 }), this.checkTimeoutMs * 3, 'the bandwidth measurement').catch(() => null) : null;
    if (link) this.lastLinkMeasure = Date.now();
    else if (!measureLink) link = { rttMs, uplinkMbps: this.current.uplinkMbps ?? NaN, downlinkMbps: this.current.downlinkMbps ?? NaN };
    const finite = (value: number | undefined): number | null => (value !== undefined && Number.isFinite(value) ? value : null);
    return {
      ...who,
      state: 'connected',
      rttMs: finite(link?.rttMs ?? rttMs) ?? rttMs,
      uplinkMbps: finite(link?.uplinkMbps),
      downlinkMbps: finite(link?.downlinkMbps),
      loadFactor: finite(load?.loadFactor)
    };
  }

  private async poll(): Promise<void> {
    if (this.polling || this.disposed) return;
    const target = this.target;
    if (!target.api) return;
    this.polling = true;
    const who = { kind: target.kind, url: target.url, label: target.kind === 'local' ? LOCAL_EXECUTOR_LABEL : target.url };
    try {
      const status = await this.measure(target.api, who, Date.now() - this.lastLinkMeasure >= this.linkEveryMs || this.current.state !== 'connected');
      if (this.target === target) this.publish(status);
    } catch (error) {
      if (this.target === target && error instanceof CheckTimeoutError && this.busy > 0 && this.current.state === 'connected') {
        // Busy with our own job: slow to answer, not gone. The next poll looks again.
      } else if (this.target === target) {
        const message = reason(error);
        if (this.current.state !== 'unreachable') this.log(`studio: the executor at ${target.url} is unreachable: ${message}`);
        this.publish({ ...who, state: 'unreachable', error: message, rttMs: null, uplinkMbps: null, downlinkMbps: null, loadFactor: null });
      }
    } finally {
      this.polling = false;
      this.schedulePoll();
    }
  }

  private schedulePoll(): void {
    if (this.disposed) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), this.pollMs);
    this.pollTimer.unref();
  }

  private publish(status: ExecutorStatus): void {
    const before = JSON.stringify(this.current);
    this.current = status;
    if (JSON.stringify(status) === before) return;
    for (const listener of [...this.listeners]) listener(this.status());
  }
}
