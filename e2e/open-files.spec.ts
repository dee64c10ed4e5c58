// Opening models from the page, end to end through the web host: by path with the Open
// panel's completion (home folder and recent folders), by upload in chunks with a progress
// bar and Cancel (kept in the studio home: it is in Open Recent and comes back after a
// reload), the tab's model reopened after a reload instead of the sample, and an executor
// error banner that goes once a connect succeeds. Screenshots of the Open panel and of an
// upload in progress, light and dark, at 1280×720 and 1440×900.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { buildZooModel } from '../app/zoo/index.js';
import { expect, expectModelShown, projectRoot, screenshot, startStudio, test, type StudioServer } from './studio-fixture.js';

const ALEXNET_NODES = 19;

/** A studio whose user home holds models/lenet.onnx and models/vision/resnet18.onnx. */
async function studioWithUserHome(): Promise<{ server: StudioServer; user: string; stop(): Promise<void> }> {
  const root = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-open-e2e-'));
  const user = path.join(root, 'user');
  mkdirSync(path.join(user, 'models', 'vision'), { recursive: true });
  writeFileSync(path.join(user, 'models', 'lenet.onnx'), buildZooModel('lenet', { seed: 7 }));
  writeFileSync(path.join(user, 'models', 'vision', 'resnet18.onnx'), buildZooModel('resnet18', { seed: 7 }));
  const home = path.join(root, 'studio-home');
  mkdirSync(home);
  const { server, stop } = await startStudio(home, [], { HOME: user });
  return {
    server,
    user,
    async stop() {
      await stop();
      rmSync(root, { recursive: true, force: true });
    }
  };
}

async function openPage(page: Page, server: StudioServer): Promise<void> {
  await page.goto(server.url);
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
}

test('opens a model by path with folder completion, lists it in Open Recent, and shows it again after a reload', async ({ page }, testInfo) => {
  const studio = await studioWithUserHome();
  try {
    await openPage(page, studio.server);
    await page.getByTestId('open-button').click();
    const field = page.getByTestId('open-path');
    await expect(field).toBeFocused();
    // With nothing typed it offers the home folder.
    await expect(page.getByTestId('open-suggestions')).toContainText(studio.user);
    await field.fill(`${studio.user}/mo`);
    await expect(page.getByRole('option', { name: /models/ })).toBeVisible();
    await field.press('Tab');
    await expect(field).toHaveValue(`${studio.user}/models/`);
    await expect(page.getByTestId('open-suggestions').getByRole('option')).toHaveText([/vision.*folder/, /lenet\.onnx.*MiB/]);
    for (const [width, height] of [
      [1280, 720],
      [1440, 900]
    ] as const) {
      await page.setViewportSize({ width, height });
      await screenshot(page, testInfo, `open-panel-${width}-light`);
    }
    await field.press('ArrowDown');
    await field.press('ArrowDown');
    await field.press('Enter');
    await expectModelShown(page, 'lenet.onnx', 9);
    await expect(page.getByTestId('open-panel')).toHaveCount(0);
    await expect(page.getByTestId('banner')).toHaveCount(0);

    // Typed whole, a path opens with Enter too.
    await page.keyboard.press('Control+o');
    await expect(field).toBeFocused();
    await field.fill(path.join(studio.user, 'models', 'vision', 'resnet18.onnx'));
    await field.press('Enter');
    await expectModelShown(page, 'resnet18.onnx', 49);

    await page.getByTestId('recent-button').click();
    await expect(page.getByRole('menuitem', { name: /resnet18\.onnx/ })).toBeVisible();
    await expect(page.getByRole('menuitem', { name: /lenet\.onnx/ }).first()).toBeVisible();
    await page.keyboard.press('Escape');

    // A reload shows the same model, not the sample.
    await page.reload();
    await expectModelShown(page, 'resnet18.onnx', 49);
    await expect(page.getByTestId('banner')).toHaveCount(0);

    // Outside the home and recent folders, completion says why it lists nothing; the path still opens.
    await page.getByTestId('open-button').click();
    await field.fill('/proc/');
    await expect(page.getByTestId('open-suggestions')).toContainText('only your home folder and the folders of recent files can be browsed');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+D');
    await page.getByTestId('open-button').click();
    await field.fill(`${studio.user}/models/`);
    await expect(page.getByTestId('open-suggestions').getByRole('option')).toHaveCount(2);
    await screenshot(page, testInfo, 'open-panel-1440-dark');
    await page.setViewportSize({ width: 1280, height: 720 });
    await screenshot(page, testInfo, 'open-panel-1280-dark');
  } finally {
    await studio.stop();
  }
});

test('uploads a file in chunks with progress, keeps it for Open Recent and a reload, and cancels one', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const studio = await studioWithUserHome();
  try {
    await openPage(page, studio.server);
    await page.setViewportSize({ width: 1280, height: 720 });
    const resnet = path.join(studio.user, 'models', 'vision', 'resnet18.onnx');
    // Fractions the progress strip shows while the bytes travel.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __uploadSeen: string[] }).__uploadSeen = seen;
      new MutationObserver(() => {
        const strip = document.querySelector('[data-testid="open-progress"]');
        const fraction = strip?.getAttribute('data-fraction');
        if (fraction && strip?.getAttribute('data-phase') === 'uploading') seen.push(fraction);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-fraction', 'data-phase'] });
    });
    await page.getByTestId('open-file-input').setInputFiles(resnet);
    await expectModelShown(page, 'resnet18.onnx', 49);
    const seen = await page.evaluate(() => (window as unknown as { __uploadSeen: string[] }).__uploadSeen);
    expect(new Set(seen).size, `progress seen: ${seen.join(', ')}`).toBeGreaterThan(2);
    await expect(page.getByTestId('open-progress')).toHaveCount(0);
    await expect(page.getByTestId('banner')).toHaveCount(0);
    // Kept in the studio home, listed as uploaded. The copy is written while the model already
    // opens from memory, so on a loaded machine it may land a moment after the graph shows.
    const uploads = path.join(studio.server.home, 'uploads');
    await expect.poll(() => readdirSync(uploads).filter((name) => !name.startsWith('.')), { timeout: 15_000 }).toHaveLength(1);
    await page.getByTestId('recent-button').click();
    await expect(page.getByRole('menuitem', { name: /resnet18\.onnx.*uploaded/ })).toBeVisible();
    await page.keyboard.press('Escape');
    await page.reload();
    await expectModelShown(page, 'resnet18.onnx', 49);

    // A big one (256 MiB, the size of a VGG-class model; cancelled before it is read, so its
    // bytes need not parse), cancelled while it travels: nothing is left of it and the model shown stays.
    const big = testInfo.outputPath('big-model.onnx');
    writeFileSync(big, '');
    truncateSync(big, 256 * 1024 * 1024);
    const strip = page.getByTestId('open-progress');
    // Slowed to 40 MB/s (Chromium's network emulation), so the upload is still on its way when Cancel is clicked.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 40e6 });
    for (const [width, height, theme] of [
      [1280, 720, 'light'],
      [1440, 900, 'dark']
    ] as const) {
      await page.setViewportSize({ width, height });
      if (theme === 'dark') await page.keyboard.press('Control+Shift+D');
      await page.getByTestId('open-file-input').setInputFiles(big);
      await expect(strip).toHaveAttribute('data-phase', 'uploading');
      await screenshot(page, testInfo, `upload-progress-${width}-${theme}`);
      await page.getByTestId('upload-cancel').click();
      await expect(strip).toHaveCount(0, { timeout: 30_000 });
      await expect(page.getByTestId('status-model')).toHaveText('resnet18.onnx');
      await expect(page.getByTestId('banner')).toHaveCount(0);
      await expect.poll(() => readdirSync(uploads).filter((name) => name.startsWith('.partial-')).length).toBe(0);
    }
    expect(existsSync(uploads)).toBe(true);
  } finally {
    await studio.stop();
  }
});

/** An executor on loopback with a token of our choosing. */
async function startExecutor(token: string): Promise<{ url: string; stop(): void }> {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [path.join(projectRoot, 'bin', 'neurosurgeon.js'), 'executor', '--port', '0'], {
    env: { ...process.env, NEUROSURGEON_EXECUTOR_TOKEN: token }
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /executor listening on (\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`the executor exited (${code}) before listening`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

test('the "wrong token" banner goes once a connect succeeds', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  const executor = await startExecutor('right-token');
  try {
    await page.getByTestId('executor-button').click();
    await page.getByTestId('executor-url').fill(executor.url);
    await page.getByTestId('executor-token').fill('wrong-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    const banner = page.getByTestId('banner');
    await expect(banner).toContainText('Could not connect to the remote executor', { timeout: 30_000 });
    await screenshot(page, testInfo, 'banner-wrong-token');
    // The banner floats over the graph: the graph keeps its place.
    const graph = await page.getByTestId('graph-canvas').boundingBox();
    await page.getByTestId('executor-token').fill('right-token');
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByTestId('executor-status')).toContainText(executor.url.replace(/^http:\/\//, ''), { timeout: 30_000 });
    await expect(banner).toHaveCount(0);
    expect(await page.getByTestId('graph-canvas').boundingBox()).toEqual(graph);
  } finally {
    executor.stop();
  }
});
