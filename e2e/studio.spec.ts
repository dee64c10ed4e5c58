// The studio end to end, in Debian's Chromium through the web host: every test starts a
// real `neurosurgeon studio --web` with an empty home (a first start), so the AlexNet
// sample opens by itself and the executor on this machine is started. Screenshots of
// each step are saved among the test's artifacts (test-results/playwright/).
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, expectModelShown, screenshot, test, writeZooModel } from './studio-fixture.js';

const ALEXNET_NODES = 19;
const RESNET18_NODES = 49;
const LENET_NODES = 9;

interface GraphProbe {
  nodeScreenPosition(index: number): { x: number; y: number } | null;
  revealNode(index: number): Promise<void>;
}

/** Where node `index` is drawn, in page coordinates, after expanding the groups hiding it (the graph view's test hooks). */
async function nodePosition(page: Page, index: number): Promise<{ x: number; y: number }> {
  const position = await page.evaluate(async (i) => {
    const graph = (window as unknown as { __studio?: { graph?: GraphProbe } }).__studio?.graph;
    await graph?.revealNode(i);
    return graph?.nodeScreenPosition(i) ?? null;
  }, index);
  if (!position) throw new Error(`the graph has no screen position for node ${index}`);
  return position;
}

/** Samples the progress bar's fraction until it goes away; returns the distinct values seen. */
async function watchProgress(page: Page): Promise<number[]> {
  const bar = page.getByTestId('profile-progress');
  await expect(bar).toBeVisible();
  const seen = new Set<number>();
  while (await bar.isVisible()) {
    const fraction = await bar.getAttribute('data-fraction', { timeout: 1000 }).catch(() => null);
    if (fraction !== null) seen.add(Number(fraction));
    await page.waitForTimeout(50);
  }
  return [...seen].sort((a, b) => a - b);
}

/** The charts show latency per layer, with a legend entry for this side ("Local · cpu", "Remote · cpu"). */
async function expectLatencySeries(page: Page, side: 'Local' | 'Remote'): Promise<void> {
  const charts = page.getByTestId('layer-charts');
  await expect(charts).toHaveAttribute('data-metric', 'latency');
  await expect(charts).toContainText(`${side} ·`);
}

test('first start shows the AlexNet sample: graph, charts, and the executor on this machine', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(page.getByTestId('node-details')).toBeVisible();
  await expect(page.getByTestId('executor-status')).toContainText('this machine');
  await expect(page.getByTestId('executor-status')).toContainText('connected', { timeout: 30_000 });
  await expect(page.getByTestId('banner')).toHaveCount(0);
  await screenshot(page, testInfo, '01-first-start');
});

test('opens another model through the file input, by drag and drop, and from the samples menu', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await page.getByTestId('open-file-input').setInputFiles(writeZooModel(testInfo, 'resnet18'));
  await expectModelShown(page, 'resnet18.onnx', RESNET18_NODES);
  await expect(page.getByTestId('banner')).toHaveCount(0);
  await screenshot(page, testInfo, '02-resnet18-opened');

  // A file dragged over the window shows the drop overlay; dropping it opens it.
  const lenet = readFileSync(writeZooModel(testInfo, 'lenet')).toString('base64');
  const dataTransfer = await page.evaluateHandle((base64) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'dropped-lenet.onnx'));
    return transfer;
  }, lenet);
  await page.locator('body').dispatchEvent('dragenter', { dataTransfer });
  await expect(page.locator('.drop-overlay')).toBeVisible();
  await page.locator('body').dispatchEvent('drop', { dataTransfer });
  await expect(page.locator('.drop-overlay')).toHaveCount(0);
  await expectModelShown(page, 'dropped-lenet.onnx', LENET_NODES);

  // The recent menu lists the bundled samples.
  await page.getByTestId('recent-button').click();
  await page.getByRole('menuitem', { name: /AlexNet/ }).click();
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(page.getByTestId('banner')).toHaveCount(0);
});

test('selecting a node in the graph shows its op, shapes and MACs', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  const details = page.getByTestId('node-details');

  // features.3 is AlexNet's second convolution: 64→192 channels, 5×5, on 27×27.
  const secondConv = await nodePosition(page, 3);
  await page.mouse.click(secondConv.x, secondConv.y);
  await expect(details).toContainText('/features/features.3/Conv');
  await expect(details).toContainText('Conv');
  await expect(details).toContainText('1×192×27×27');
  await expect(details).toContainText('224 M'); // 192·27·27 · 64·5·5 = 223,948,800 MACs
  await screenshot(page, testInfo, '03-node-selected-in-graph');

  // Ctrl+F goes to the search box, which finds by op; Enter selects the first match and the details follow.
  await page.keyboard.press('Control+f');
  await expect(page.getByTestId('search-input')).toBeFocused();
  await page.keyboard.type('gemm');
  await expect(page.getByTestId('search-count')).toHaveText('3 found');
  await page.getByTestId('search-input').press('Enter');
  await expect(details).toContainText('/classifier/classifier.1/Gemm');
  await expect(details).toContainText('1×4096');
  await expect(page.getByTestId('search-count')).toHaveText('1 of 3');
  await screenshot(page, testInfo, '04-node-found-by-search');

  // Esc (outside the search box) clears the selection.
  await page.getByTestId('graph-canvas').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Escape');
  await expect(details).not.toContainText('/classifier/classifier.1/Gemm');
});

test('profiles on the CPU with a moving progress bar; the latency series appears and survives a reload', async ({ studioPage: page }, testInfo) => {
  test.setTimeout(120_000);
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(page.getByTestId('provider-select')).toHaveValue('cpu');
  await page.getByTestId('runs-input').fill('5');
  await page.getByTestId('profile-local').click();
  await expect(page.getByTestId('profile-progress')).toBeVisible();
  await screenshot(page, testInfo, '05-profiling');
  const fractions = await watchProgress(page);
  expect(fractions.length, `progress values seen: ${fractions.join(', ')}`).toBeGreaterThan(1);
  expect(fractions.some((f) => f > 0 && f < 1), `progress values seen: ${fractions.join(', ')}`).toBe(true);

  await expect(page.getByTestId('banner')).toHaveCount(0);
  await expectLatencySeries(page, 'Local');
  await expect(page.locator('.status-bar .profile-local')).toContainText('(CPU)');
  // Beside the profile: the optimisation level and threads it ran with (the CLI's defaults).
  await expect(page.getByTestId('profile-summary-local').getByTestId('profile-settings')).toHaveText(/^optimisation all · \d+ threads?$/);
  await expect(page.locator('.status-bar .profile-local')).toHaveAttribute('title', /optimisation all · \d+ threads?/);
  await screenshot(page, testInfo, '06-profiled');

  // Results are kept per model: a reload (the same model opened again) shows them.
  await page.reload();
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expectLatencySeries(page, 'Local');
});

test('profiles the remote side through the executor on this machine', async ({ studioPage: page }, testInfo) => {
  // AlexNet's 233 MiB go to the executor first; on a busy two-core machine that takes a while.
  test.setTimeout(180_000);
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(page.getByTestId('executor-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByTestId('runs-input').fill('3');
  await page.getByTestId('profile-remote').click();
  await expect(page.getByTestId('profile-job-remote')).toContainText('the executor (this machine)');
  await screenshot(page, testInfo, '07-profiling-remote');
  await expect(page.getByTestId('profile-progress')).toHaveCount(0, { timeout: 150_000 });
  await expect(page.getByTestId('banner')).toHaveCount(0);
  await expectLatencySeries(page, 'Remote');
  await expect(page.locator('.status-bar .profile-remote')).toContainText('remote');
  await screenshot(page, testInfo, '08-profiled-remote');
});

test('a profile can be cancelled; nothing measured before is lost', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await page.getByTestId('runs-input').fill('1000');
  await page.getByTestId('profile-local').click();
  await expect(page.getByTestId('profile-progress')).toBeVisible();
  await page.getByTestId('profile-cancel-local').click();
  await expect(page.getByTestId('profile-progress')).toHaveCount(0, { timeout: 30_000 });
  await expect(page.getByTestId('banner')).toHaveCount(0);
  await expect(page.getByTestId('layer-charts')).toHaveAttribute('data-metric', 'macs');
  await expect(page.getByTestId('layer-charts')).not.toContainText('Local ·');
  await expect(page.getByTestId('profile-local')).toBeEnabled();
  await screenshot(page, testInfo, '09-cancelled');
});

test('a broken file shows a banner naming the problem, and the studio keeps working', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  const lenet = readFileSync(writeZooModel(testInfo, 'lenet'));
  await page.getByTestId('open-file-input').setInputFiles({
    name: 'truncated-lenet.onnx',
    mimeType: 'application/octet-stream',
    buffer: lenet.subarray(0, Math.floor(lenet.byteLength / 3))
  });
  const banner = page.getByTestId('banner');
  await expect(banner).toHaveCount(1);
  await expect(banner).toHaveAttribute('role', 'alert');
  await expect(banner).toContainText('truncated-lenet.onnx');
  // The model that was open stays open, with its graph and charts.
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await screenshot(page, testInfo, '10-broken-file-banner');

  // Still usable: a good file opens, and the banner can be dismissed.
  await page.getByTestId('open-file-input').setInputFiles({ name: 'lenet.onnx', mimeType: 'application/octet-stream', buffer: lenet });
  await expectModelShown(page, 'lenet.onnx', LENET_NODES);
  await banner.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByTestId('banner')).toHaveCount(0);
});

test('an executor that does not answer gets a banner; the one on this machine stays in use', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(page.getByTestId('executor-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByTestId('executor-button').click();
  // Port 9 (discard) on loopback: nothing listens there.
  await page.getByTestId('executor-url').fill('http://127.0.0.1:9');
  await page.getByTestId('executor-token').fill('not-a-real-token');
  await page.getByRole('button', { name: 'Connect' }).click();
  const banner = page.getByTestId('banner');
  await expect(banner).toContainText('Could not connect to the remote executor', { timeout: 30_000 });
  await expect(banner).toContainText('127.0.0.1:9');
  await screenshot(page, testInfo, '11-executor-unreachable');
  await expect(page.getByTestId('executor-status')).toContainText('this machine');
  await expect(page.getByTestId('profile-local')).toBeEnabled();
});

test('when the web host goes away the page says so and keeps what it shows', async ({ studioPage: page, studio }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await studio.stop();
  const banner = page.getByTestId('banner');
  await expect(banner).toContainText('Disconnected');
  await expect(banner.getByRole('button', { name: 'Reconnect' })).toBeVisible();
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(page.getByTestId('profile-local')).toBeDisabled();
  await expect(page.getByTestId('open-button')).toBeDisabled();
  await expect(page.getByTestId('executor-status')).not.toContainText('connected');
  await screenshot(page, testInfo, '12-host-gone');
});

test('the theme toggle switches to dark and the choice persists', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  const html = page.locator('html');
  await expect(html).toHaveAttribute('data-theme', 'light');
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  const nodes = await nodePosition(page, 0);
  await page.mouse.click(nodes.x, nodes.y);
  await screenshot(page, testInfo, '13-dark');
  await page.reload();
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
});
