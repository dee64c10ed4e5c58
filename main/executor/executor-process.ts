// Starts a real executor as a child process (`neurosurgeon executor --port 0 …` from the
// bundle in dist/) and waits for its "executor listening on URL" line — for the split-run
// tests and `npm run bench -- --only split`, which measure against a real server on
// loopback. stop() ends that child (and only it).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../files/paths.js';

export interface ExecutorProcess {
  url: string;
  child: ChildProcess;
  /** stderr the child has written so far (for failure messages). */
  stderr(): string;
  stop(): Promise<void>;
}

export class ExecutorProcessError extends Error {
  override name = 'ExecutorProcessError';
}

/** Spawns `neurosurgeon executor --port 0 ...args` and resolves once it listens. */
export function startExecutorProcess(args: string[] = [], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ExecutorProcess> {
  const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');
  if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) {
    return Promise.reject(new ExecutorProcessError('dist/main/cli.js is missing: run `npm run build` first'));
  }
  const child = spawn(process.execPath, [bin, 'executor', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killTimer);
    }
  };
  return new Promise<ExecutorProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new ExecutorProcessError(`the executor did not start within ${options.timeoutMs ?? 30_000} ms: ${stderr.trim().split('\n')[0] ?? ''}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /executor listening on (\S+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ url: match[1], child, stderr: () => stderr, stop });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new ExecutorProcessError(`the executor exited before listening (${signal ?? `code ${code}`}): ${stderr.trim().split('\n')[0] ?? ''}`));
    });
  });
}
