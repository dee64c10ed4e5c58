// The executor on "this machine": a child process running `neurosurgeon executor --port 0`
// on loopback, which the studio starts so remote profiling works with no setup. The
// supervisor starts it, reads the URL from its first stdout line ("executor listening on
// http://HOST:PORT"), restarts it with growing back-off when it dies, stops it when the
// studio exits, and tells its listeners every change of state. The child also ends by
// itself when the studio dies without stopping it (SIGKILL, a crash): it watches the stdin
// pipe it is given (--exit-with-parent).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../files/paths.js';
import type { StudioLog } from './preferences.js';

export class ExecutorStartError extends Error {
  override name = 'ExecutorStartError';
}

export type SupervisedState =
  | { state: 'stopped' }
  | { state: 'starting'; attempt: number }
  | { state: 'running'; url: string; pid: number }
  | { state: 'restarting'; error: string; retryInMs: number };

export interface ExecutorSupervisorOptions {
  /** The Node executable (Electron passes its own binary with ELECTRON_RUN_AS_NODE=1). */
  nodePath?: string;
  /** Arguments after the executable; default: bin/neurosurgeon.js executor --port 0 --host 127.0.0.1. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long the child may take to print its URL. */
  startTimeoutMs?: number;
  /** First and longest wait before a restart; the wait doubles after each quick death. */
  backoffMs?: { initial: number; max: number };
  /** A child that stayed up this long resets the back-off. */
  stableAfterMs?: number;
  log?: StudioLog;
}

const LISTENING_LINE = /executor listening on (https?:\/\/\S+)/;

/** The studio's executor ends with the studio, however the studio ends (SIGKILL included): --exit-with-parent watches the stdin pipe it is given. */
export function defaultExecutorArgs(): string[] {
  return [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), 'executor', '--port', '0', '--host', '127.0.0.1', '--exit-with-parent'];
}

/** The environment that gives the executor its token (not an argument: others could read it in the process list). */
export function executorTokenEnv(token: string): NodeJS.ProcessEnv {
  return { NEUROSURGEON_EXECUTOR_TOKEN: token };
}

export class ExecutorSupervisor {
  private child: ChildProcess | null = null;
  private current: SupervisedState = { state: 'stopped' };
  private readonly listeners = new Set<(state: SupervisedState) => void>();
  private wanted = false;
  private attempt = 0;
  private backoff: number;
  private restartTimer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  /** Kills the child when the studio's process exits without calling stop(). */
  private readonly exitHook = () => this.child?.kill('SIGKILL');
  private exitHooked = false;
  private readonly options: Required<Omit<ExecutorSupervisorOptions, 'env'>> & { env?: NodeJS.ProcessEnv };

  constructor(options: ExecutorSupervisorOptions = {}) {
    this.options = {
      nodePath: options.nodePath ?? process.execPath,
      args: options.args ?? defaultExecutorArgs(),
      env: options.env,
      startTimeoutMs: options.startTimeoutMs ?? 30_000,
      backoffMs: options.backoffMs ?? { initial: 500, max: 15_000 },
      stableAfterMs: options.stableAfterMs ?? 30_000,
      log: options.log ?? ((line) => process.stderr.write(`${line}\n`))
    };
    this.backoff = this.options.backoffMs.initial;
  }

  get state(): SupervisedState {
    return this.current;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  onChange(listener: (state: SupervisedState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the child (and keeps it running until stop()); resolves with its URL once it listens. */
  start(): Promise<string> {
    this.wanted = true;
    if (!this.exitHooked) process.on('exit', this.exitHook);
    this.exitHooked = true;
    if (this.current.state === 'running') return Promise.resolve(this.current.url);
    if (this.current.state !== 'starting' && !this.restartTimer) this.launch();
    return this.nextUrl();
  }

  /** Resolves with the URL the next time the child is running; rejects if it is stopped first. */
  nextUrl(): Promise<string> {
    if (this.current.state === 'running') return Promise.resolve(this.current.url);
    return new Promise((resolve, reject) => {
      const off = this.onChange((state) => {
        if (state.state === 'running') {
          off();
          resolve(state.url);
        } else if (state.state === 'stopped') {
          off();
          reject(new ExecutorStartError('the executor on this machine was stopped'));
        }
      });
    });
  }

  /** Stops the child (SIGTERM, SIGKILL after 3 s) and keeps it stopped. */
  async stop(): Promise<void> {
    this.wanted = false;
    process.removeListener('exit', this.exitHook);
    this.exitHooked = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
    }
    this.setState({ state: 'stopped' });
  }

  private setState(state: SupervisedState): void {
    this.current = state;
    for (const listener of [...this.listeners]) listener(state);
  }

  private launch(): void {
    this.restartTimer = null;
    this.attempt += 1;
    this.setState({ state: 'starting', attempt: this.attempt });
    // stdin is a pipe the child watches (--exit-with-parent): it closes when this process
    // ends, even by SIGKILL, when no exit hook runs. Nothing is written to it.
    const child = spawn(this.options.nodePath, this.options.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.options.env },
      windowsHide: true
    });
    child.stdin?.on('error', () => undefined);
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    this.child = child;
    this.startedAt = Date.now();
    const stderrTail: string[] = [];
    let listening = false;
    const timeout = setTimeout(() => {
      if (!listening) {
        this.options.log(`studio: the executor on this machine printed no URL within ${this.options.startTimeoutMs / 1000} s; restarting it`);
        child.kill('SIGKILL');
      }
    }, this.options.startTimeoutMs);

    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = LISTENING_LINE.exec(line);
      if (!listening && match && this.child === child) {
        listening = true;
        clearTimeout(timeout);
        this.setState({ state: 'running', url: match[1].replace(/\/$/, ''), pid: child.pid ?? -1 });
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 5) stderrTail.shift();
    });
    child.on('error', (error) => {
      stderrTail.push(error.message);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timeout);
      if (this.child !== child) return;
      this.child = null;
      if (!this.wanted) return;
      const lastLine = stderrTail.filter((l) => l.trim() !== '').pop();
      const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
      const error = `the executor on this machine ${how}${lastLine ? `: ${lastLine.trim()}` : ''}`;
      if (Date.now() - this.startedAt >= this.options.stableAfterMs) this.backoff = this.options.backoffMs.initial;
      const retryInMs = this.backoff;
      this.backoff = Math.min(this.backoff * 2, this.options.backoffMs.max);
      this.options.log(`studio: ${error}; restarting in ${(retryInMs / 1000).toFixed(1)} s`);
      this.setState({ state: 'restarting', error, retryInMs });
      this.restartTimer = setTimeout(() => this.launch(), retryInMs);
    });
  }
}
