// Starting the studio from the command line: the Electron window when its binary is
// installed, otherwise the web host in the browser. Both `neurosurgeon studio` and
// `npm start` (scripts/start.mjs, through the CLI) come through here.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../files/paths.js';
import { connectExecutor } from './executor-connector.js';
import { defaultExecutorArgs, executorTokenEnv, ExecutorSupervisor } from './executor-supervisor.js';
import { studioHomeDir } from './preferences.js';
import { DEFAULT_SAMPLE_ID, errorPayload, StudioService } from './service.js';
import { startWebHost, type WebHost } from './web-host.js';

/** The longest the executor waits for a page to get its model before it starts anyway. */
const EXECUTOR_DELAY_MS = 4000;
/** Time a page takes from getting its model to drawing its first charts, left to it. */
const FIRST_CHART_MS = 1000;

export interface StudioLaunchOptions {
  web: boolean;
  port: number;
  open: boolean;
  executor: boolean;
  model?: string;
}

/**
 * Where the Electron binary is, or why there is none. Reads electron's path.txt instead of
 * require('electron'), which would try to download the binary when it is missing.
 */
export function electronBinary(): { path: string } | { missing: string } {
  let folder: string;
  try {
    folder = path.dirname(createRequire(path.join(packageRoot(), 'package.json')).resolve('electron/package.json'));
  } catch {
    return { missing: 'the electron package is not installed' };
  }
  const pathFile = path.join(folder, 'path.txt');
  if (!existsSync(pathFile)) return { missing: 'node_modules/electron has no downloaded binary' };
  const binary = path.join(folder, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? { path: binary } : { missing: `${path.relative(packageRoot(), binary)} is missing` };
}

/** Whether a browser window can appear here (a desktop session, not a bare server). */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

export function openBrowser(url: string, log: (line: string) => void): void {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true, windowsHide: true });
    child.on('error', (error) => log(`studio: could not open a browser (${error.message}); open the address above yourself`));
    child.unref();
  } catch (error) {
    log(`studio: could not open a browser (${(error as Error).message}); open the address above yourself`);
  }
}

/** Runs the Electron window, passing the options on; resolves with its exit code. */
function runElectron(binary: string, options: StudioLaunchOptions): Promise<number> {
  const args = [path.join(packageRoot(), 'dist', 'main', 'electron-main.cjs'), ...(options.executor ? [] : ['--no-executor']), ...(options.model ? [path.resolve(options.model)] : [])];
  const child = spawn(binary, args, { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

export interface RunningWebStudio {
  host: WebHost;
  service: StudioService;
  stop(): Promise<void>;
}

/** Starts the service and the web host (the `--web` mode); prints the address as one line. */
export async function startWebStudio(options: StudioLaunchOptions, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<RunningWebStudio> {
  const localToken = randomBytes(18).toString('base64url');
  const supervisor = options.executor ? new ExecutorSupervisor({ args: defaultExecutorArgs(), env: executorTokenEnv(localToken), log }) : null;
  const service = new StudioService({ host: 'web', home: studioHomeDir(), connect: connectExecutor, supervisor, localExecutorToken: localToken, log });
  // Open the model now so the page finds it ready: the one named on the command line is
  // announced to every page that connects; the default sample is only prepared (the page
  // asks for it itself when nothing else is open). The executor starts a moment after a
  // page has its model (or after EXECUTOR_DELAY_MS without one), so starting it does not
  // compete with the page and its first chart for the CPU.
  const prepared = service.prepare(options.model ? { path: options.model } : { sample: DEFAULT_SAMPLE_ID });
  const launch = options.model ? prepared : null;
  const settled = prepared.then(
    () => undefined,
    (error: unknown) => {
      if (!launch) log(`studio: could not prepare the ${DEFAULT_SAMPLE_ID} sample: ${errorPayload(error).message}`);
    }
  );
  let waited: NodeJS.Timeout | undefined;
  const patience = new Promise<void>((resolve) => (waited = setTimeout(resolve, EXECUTOR_DELAY_MS)));
  void settled
    .then(() => Promise.race([service.firstModelServed.then(() => new Promise((resolve) => setTimeout(resolve, FIRST_CHART_MS))), patience]))
    .finally(() => {
      clearTimeout(waited);
      void service.start().catch((error) => log(`studio: ${errorPayload(error).message}`));
    });
  const host = await startWebHost({
    service,
    port: options.port,
    log,
    onClient: (send) => {
      launch?.then(
        (opened) => {
          send('model.opened', { ...opened, launch: true });
          service.markModelServed();
        },
        (error) => send('app.error', errorPayload(error))
      );
    }
  });
  process.stdout.write(`studio: ${host.url}\n`);
  return {
    host,
    service,
    async stop() {
      await host.close();
      await service.dispose();
    }
  };
}

/** `neurosurgeon studio`: the window, or the browser where Electron is not installed. */
export async function launchStudio(options: StudioLaunchOptions): Promise<void> {
  if (!options.web) {
    const electron = electronBinary();
    if ('path' in electron) process.exit(await runElectron(electron.path, options));
    process.stdout.write(`Electron binary not installed (${electron.missing}); starting the studio in your browser instead\n`);
  }
  // Ctrl-C and SIGTERM close the host and stop the executor; a second Ctrl-C exits at once.
  let studio: RunningWebStudio | null = null;
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    void (studio?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  studio = await startWebStudio(options);
  if (stopping) await studio.stop();
  else if (options.open && hasDisplay()) openBrowser(studio.host.url, (line) => process.stderr.write(`${line}\n`));
}
