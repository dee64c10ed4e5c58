// The fixtures of the end-to-end tests: a real web host (`neurosurgeon studio --web`)
// spawned per test with its own empty studio home (so every test is a first start), the
// page opened at the address it printed, screenshots saved as test artifacts, and ONNX
// files written from the sample zoo for the file input.
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildZooModel } from '../app/zoo/index.js';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StudioServer {
  /** The page address with this launch's token, as the host printed it. */
  url: string;
  /** The studio's home (preferences, recent files, profiles). */
  home: string;
  /** Everything the host wrote so far (stdout and stderr). */
  output(): string;
  /** Stops the host now (the fixture's teardown then has nothing left to stop). */
  stop(): Promise<void>;
}

const URL_LINE = /^studio: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m;

function waitForUrl(child: ChildProcessWithoutNullStreams, output: () => string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`the web host printed no address within ${timeoutMs} ms; it said:\n${output()}`)), timeoutMs);
    const check = () => {
      const match = URL_LINE.exec(output());
      if (match) finish(null, match[1]);
    };
    const onExit = (code: number | null) => finish(new Error(`the web host exited (code ${code}) before printing its address; it said:\n${output()}`));
    function finish(error: Error | null, url?: string) {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(url as string);
    }
    child.stdout.on('data', check);
    child.on('exit', onExit);
    check();
  });
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts a web host with an empty home (and `env` on top of this process's); the caller stops it. */
export async function startStudio(home: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ server: StudioServer; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [path.join(projectRoot, 'bin', 'neurosurgeon.js'), 'studio', '--web', '--no-open', '--port', '0', ...extraArgs], {
    cwd: projectRoot,
    env: { ...process.env, ...env, NEUROSURGEON_STUDIO_HOME: home },
    stdio: ['pipe', 'pipe', 'pipe']
  });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
  const output = () => log;
  try {
    const url = await waitForUrl(child, output, 90_000);
    return { server: { url, home, output, stop: () => stop(child) }, stop: () => stop(child) };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

export const test = base.extend<{ studio: StudioServer; studioPage: Page }>({
  studio: async ({}, use, testInfo) => {
    const home = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-studio-e2e-'));
    const { server, stop: stopStudio } = await startStudio(home);
    try {
      await use(server);
    } finally {
      await stopStudio();
      await testInfo.attach('web-host.log', { body: server.output(), contentType: 'text/plain' });
      rmSync(home, { recursive: true, force: true });
    }
  },

  /** The studio page, loaded, with the page's console errors failing the test. */
  studioPage: async ({ page, studio }, use) => {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(studio.url);
    await use(page);
    expect(problems, 'the page reported errors').toEqual([]);
  }
});

export { expect };

/** Saves a full-window screenshot as a test artifact (test-results/playwright/…/NAME.png). */
export async function screenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`) });
}

/** Writes a sample-zoo model as an .onnx file among the test's artifacts and returns its path. */
export function writeZooModel(testInfo: TestInfo, id: string): string {
  const file = testInfo.outputPath(`${id}.onnx`);
  writeFileSync(file, buildZooModel(id, { seed: 7 }));
  return file;
}

/** Waits until the graph has drawn nodes and the charts have rendered one row per layer. */
export async function expectModelShown(page: Page, fileName: string, nodes: number): Promise<void> {
  // Generous: on a fresh checkout the first start generates the AlexNet sample (233 MiB).
  await expect(page.getByTestId('status-model')).toHaveText(fileName, { timeout: 60_000 });
  await expect(page.getByTestId('graph-canvas')).toHaveAttribute('data-drawn-nodes', /^[1-9]\d*$/);
  await expect(page.getByTestId('layer-charts')).toHaveAttribute('data-layers', String(nodes));
  await expect(page.getByTestId('layer-charts')).toHaveAttribute('data-bars', /^[1-9]\d*$/);
}
