// The one way the product measures a profile: `neurosurgeon profile --json` in a process of
// its own. The studio's "Profile local", the executor's profile endpoint and split
// prediction's device profile all come through here, and a user's `neurosurgeon profile`
// is the very same command — so they share the code (profiler.ts), the process model
// (nothing else on the profiling process's event loop, no other sessions or heap in it)
// and the options: graph optimisation DEFAULT_GRAPH_OPTIMIZATION unless asked otherwise,
// and the intra-op threads of the caller (intraOpThreads), passed explicitly.
//
// Before, the studio profiled inside its own process: onnxruntime-node runs session.run
// synchronously on the JavaScript thread (its backend wraps the call in setImmediate), so
// each timed run shared that thread — and the cores — with whatever the web host or
// Electron's main process had to do (WebSocket traffic, the executor link's polling,
// garbage collection of a heap holding every open model), while its local and remote jobs
// could run at once on the same cores; and it profiled with its own defaults (10 runs,
// graph optimisation 'disabled', threads not recorded).

// The child's temporary folder (its TMPDIR: traces, the optimised graph, an uploaded
// model's bytes) belongs to this side and is removed when the child ends, however it ends
// — so cancelling can simply kill it (SIGKILL: a run of a large model cannot be
// interrupted, and nothing of the child's outlives it). Progress comes back as JSON lines
// on stderr (`--progress-json`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_GRAPH_OPTIMIZATION, type ExecutionProviderName, type GraphOptimization, type LatencyProfile } from '../../app/profiling/types.js';
import { packageRoot } from '../files/paths.js';
import { checkProfileShape, PROFILE_PHASES, ProfileCancelledError, ProfileError, type ProfilePhase, type ProfileProgress } from './profiler.js';
import { intraOpThreads } from './providers.js';
import { firstLine } from '../errors/user-errors.js';

/** How `neurosurgeon profile --progress-json` marks a progress line on stderr. */
export const PROGRESS_LINE_PREFIX = 'neurosurgeon-progress ';

/** The progress line for one event, as the CLI writes it. */
export function progressLine(progress: ProfileProgress): string {
  return `${PROGRESS_LINE_PREFIX}${JSON.stringify(progress)}\n`;
}

/** A progress event from one line of the child's stderr; null for any other line. */
export function parseProgressLine(line: string): ProfileProgress | null {
  if (!line.startsWith(PROGRESS_LINE_PREFIX)) return null;
  try {
    const value = JSON.parse(line.slice(PROGRESS_LINE_PREFIX.length)) as { phase?: unknown; done?: unknown; total?: unknown };
    if (!PROFILE_PHASES.includes(value.phase as ProfilePhase) || typeof value.done !== 'number' || typeof value.total !== 'number') return null;
    return { phase: value.phase as ProfilePhase, done: value.done, total: value.total };
  } catch {
    return null;
  }
}

export interface ProfileProcessOptions {
  ep: ExecutionProviderName;
  runs: number;
  warmup: number;
  /** More timed runs where they are fast, to fill this many ms (ProfileOptions.minMeasureMs). */
  minMeasureMs?: number;
  optimization?: GraphOptimization;
  allowCpuFallback?: boolean;
  dimValues?: Record<string, number>;
  seed?: number;
  /** The model's SHA-256 when known: a profile of other bytes (the file changed since it was opened) is refused. */
  expectSha256?: string;
  signal?: AbortSignal;
  onProgress?: (progress: ProfileProgress) => void;
  /** Each warning line the profiler printed (CPU fallback, unstable runs), without the "neurosurgeon: warning: " prefix. */
  onWarning?: (line: string) => void;
}

/** The arguments of the `neurosurgeon profile` command a profile runs, after the bin script. */
export function profileCommandArgs(file: string, options: ProfileProcessOptions): string[] {
  const dims = Object.entries(options.dimValues ?? {}).map(([name, value]) => `${name}=${value}`);
  return [
    '--threads',
    String(intraOpThreads()),
    'profile',
    file,
    '--ep',
    options.ep,
    '--runs',
    String(options.runs),
    '--warmup',
    String(options.warmup),
    '--min-time-ms',
    String(Math.round(options.minMeasureMs ?? 0)),
    '--optimization',
    options.optimization ?? DEFAULT_GRAPH_OPTIMIZATION,
    ...(options.seed !== undefined ? ['--seed', String(options.seed)] : []),
    ...(options.allowCpuFallback ? ['--fallback-cpu'] : []),
    ...(dims.length > 0 ? ['--dim', ...dims] : []),
    '--progress-json',
    '--json'
  ];
}

/**
 * Profiles a model — a file on this machine, or its bytes (written to the child's
 * temporary folder) — with `neurosurgeon profile` in a child process.
 */
export function profileInChildProcess(model: string | Uint8Array, options: ProfileProcessOptions): Promise<LatencyProfile> {
  if (options.signal?.aborted) return Promise.reject(new ProfileCancelledError());
  let folder: string;
  let args: string[];
  try {
    folder = mkdtempSync(path.join(os.tmpdir(), 'neurosurgeon-profile-run-'));
  } catch (error) {
    return Promise.reject(new ProfileError(`cannot make a folder for the profiler: ${(error as Error).message}`));
  }
  try {
    const file = typeof model === 'string' ? path.resolve(model) : path.join(folder, 'model.onnx');
    if (typeof model !== 'string') writeFileSync(file, model);
    args = [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), ...profileCommandArgs(file, options)];
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    return Promise.reject(error instanceof ProfileError ? error : new ProfileError(`cannot start the profiler: ${firstLine(error)}`));
  }
  const label = typeof model === 'string' ? path.basename(model) : 'the model';
  return new Promise<LatencyProfile>((resolve, reject) => {
    // Under Electron, process.execPath is Electron itself: ELECTRON_RUN_AS_NODE makes it Node.
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: folder, TMP: folder, TEMP: folder, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env, windowsHide: true });
    let stdout = '';
    let stderrTail = '';
    const errorLines: string[] = [];
    let cancelled = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail += chunk;
      const lines = stderrTail.split('\n');
      stderrTail = lines.pop() ?? '';
      for (const line of lines) handleLine(line);
    });
    const handleLine = (line: string): void => {
      const progress = parseProgressLine(line);
      if (progress) return options.onProgress?.(progress);
      const warning = /^neurosurgeon: warning: (.*)$/.exec(line);
      if (warning) return options.onWarning?.(warning[1]);
      if (line.trim() !== '') errorLines.push(line.replace(/\r/g, '').trim());
    };
    const onAbort = (): void => {
      cancelled = true;
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const finish = (): void => {
      options.signal?.removeEventListener('abort', onAbort);
      rmSync(folder, { recursive: true, force: true });
    };
    child.on('error', (error) => {
      finish();
      reject(new ProfileError(`cannot start the profiler: ${error.message}`));
    });
    child.on('close', (code) => {
      if (stderrTail !== '') handleLine(stderrTail);
      finish();
      if (cancelled) return reject(new ProfileCancelledError());
      if (code !== 0) {
        const line = errorLines.find((l) => l.startsWith('neurosurgeon:')) ?? errorLines[0] ?? `the profiler exited with code ${code}`;
        return reject(new ProfileError(`profiling ${label} failed: ${line.replace(/^neurosurgeon:\s*/, '')}`));
      }
      let profile: LatencyProfile;
      try {
        profile = checkProfileShape(JSON.parse(stdout), 'the profiler output');
      } catch (error) {
        return reject(error instanceof ProfileError ? error : new ProfileError(`the profiler printed no profile: ${(error as Error).message}`));
      }
      if (options.expectSha256 && profile.model.sha256 !== options.expectSha256) {
        return reject(new ProfileError(`${label} changed on disk since it was opened (sha256 ${profile.model.sha256.slice(0, 12)}…, not ${options.expectSha256.slice(0, 12)}…); open it again`));
      }
      resolve(profile);
    });
  });
}
