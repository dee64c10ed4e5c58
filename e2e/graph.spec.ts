// The graph end to end, in Chromium through the web host: module groups that open collapsed
// enough for "Fit" to be read and expand and collapse with a click, the layout in a Web
// Worker, the partition on the graph (the star's cut by default, a pinned cut, the DAG min
// cut, none) following the split panel, the overlays with their scale, the minimap, zoom to
// matches and to the selection, the hover card hiding when the view moves, and wheel zoom
// from Fit over empty space landing on the graph. Screenshots at 1280×720 and 1440×900,
// light and dark, on ResNet-50 collapsed and expanded and on a real export, are saved among
// the test's artifacts (test-results/playwright/graph-…/).
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { buildZooModel } from '../app/zoo/index.js';
import { expect, expectModelShown, projectRoot, screenshot, startStudio, test } from './studio-fixture.js';

interface GraphHooks {
  nodeScreenPosition(index: number): { x: number; y: number } | null;
  groupScreenPosition(label: string): { x: number; y: number; expanded: boolean } | null;
  revealNode(index: number): Promise<void>;
  expandAll(): Promise<void>;
  collapseAll(): Promise<void>;
  fit(): void;
  zoom(): number;
}

const RESNET50_LAYERS = 122;

function graph(page: Page) {
  return page.getByTestId('graph-canvas');
}

async function hooks<T>(page: Page, call: (graph: GraphHooks) => T | Promise<T>): Promise<T> {
  await page.waitForFunction(() => Boolean((window as unknown as { __studio?: { graph?: unknown } }).__studio?.graph));
  return page.evaluate(`(async () => { const graph = window.__studio.graph; return (${call.toString()})(graph); })()`) as Promise<T>;
}

/** A studio started with `neurosurgeon studio --web FILE`, its page loaded; page errors fail the test. */
async function openStudioWith(page: Page, file: string): Promise<{ stop(): Promise<void>; problems: string[] }> {
  const home = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-graph-e2e-'));
  const { server, stop } = await startStudio(home, [file]);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  await page.goto(server.url);
  return {
    problems,
    stop: async () => {
      await stop();
      rmSync(home, { recursive: true, force: true });
    }
  };
}

function resnet50File(): string {
  const bundled = path.join(projectRoot, 'resources', 'models', 'resnet50.onnx');
  if (existsSync(bundled)) return bundled;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'resnet50-')), 'resnet50.onnx');
  writeFileSync(file, buildZooModel('resnet50', { seed: 7 }));
  return file;
}

test('ResNet-50 opens with its stages collapsed, laid out in a worker, and Fit shows readable boxes', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const studio = await openStudioWith(page, resnet50File());
  try {
    await expectModelShown(page, 'resnet50.onnx', RESNET50_LAYERS);
    await expect(graph(page)).toHaveAttribute('data-layout-where', 'worker');
    await expect(graph(page)).toHaveAttribute('data-group-count', '20');
    // The four stages are boxes: 12 items, nothing of layer1..layer4 drawn one by one.
    await expect(graph(page)).toHaveAttribute('data-collapsed-groups', '4');
    await expect(graph(page)).toHaveAttribute('data-visible-items', '12');
    await hooks(page, (g) => g.fit());
    // The graph shares the window with the decision below it: Fit still draws the boxes' labels (op labels from 0.3).
    expect(await hooks(page, (g) => g.zoom())).toBeGreaterThanOrEqual(0.4);
    await screenshot(page, testInfo, 'graph-resnet50-collapsed-1440-light');

    // Clicking a stage expands it in place; its label strip collapses it again.
    const layer2 = await hooks(page, (g) => g.groupScreenPosition('layer2'));
    expect(layer2?.expanded).toBe(false);
    await page.mouse.click(layer2?.x ?? 0, layer2?.y ?? 0);
    await expect(graph(page)).toHaveAttribute('data-expanded-groups', '1');
    await expect(graph(page)).toHaveAttribute('data-visible-items', '15');
    const frame = await hooks(page, (g) => g.groupScreenPosition('layer2'));
    expect(frame?.expanded).toBe(true);
    await page.mouse.click(frame?.x ?? 0, frame?.y ?? 0);
    await expect(graph(page)).toHaveAttribute('data-expanded-groups', '0');

    // Expand all: every layer is drawn; Collapse all: back to the stages.
    await page.getByRole('button', { name: 'Expand all' }).click();
    await expect(graph(page)).toHaveAttribute('data-expanded-groups', '20');
    await expect(graph(page)).toHaveAttribute('data-visible-items', String(RESNET50_LAYERS + 2));
    await expect(graph(page)).toHaveAttribute('data-collapsed-groups', '0');
    await screenshot(page, testInfo, 'graph-resnet50-expanded-1440-light');
    await page.getByRole('button', { name: 'Collapse all' }).click();
    await expect(graph(page)).toHaveAttribute('data-visible-items', '12');
    expect(studio.problems).toEqual([]);
  } finally {
    await studio.stop();
  }
});

test('the graph shows the starred cut, a pinned cut, the DAG min cut or none, and follows the network', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const studio = await openStudioWith(page, resnet50File());
  try {
    await expectModelShown(page, 'resnet50.onnx', RESNET50_LAYERS);
    const panel = page.getByTestId('split-panel');
    for (const preset of ['Wi-Fi', '3G', '5G']) {
      await page.getByRole('radio', { name: preset }).click();
      const best = (await panel.getAttribute('data-best-latency')) ?? '';
      await expect(graph(page)).toHaveAttribute('data-shown-partition', 'best');
      await expect(graph(page)).toHaveAttribute('data-shown-cut', best);
      await expect(graph(page)).toHaveAttribute('data-local-count', best);
    }

    // A cut inside layer3 (layers 39..81 or so): the picker shows it once pinned; the stage box is split.
    await page.getByRole('tab', { name: /^Compare cuts/ }).click();
    await page.getByRole('spinbutton', { name: 'Cut to pin' }).fill('60');
    await page.getByRole('button', { name: 'Pin', exact: true }).click();
    const picker = page.getByRole('combobox', { name: 'Partition shown on the graph' });
    await picker.selectOption('pinned:60');
    await expect(graph(page)).toHaveAttribute('data-shown-partition', 'pinned');
    await expect(graph(page)).toHaveAttribute('data-shown-cut', '60');
    await expect(graph(page)).toHaveAttribute('data-local-count', '60');
    await expect(graph(page)).toHaveAttribute('data-crossing', /^[1-9]\d*$/);
    await expect(page.getByTestId('graph-partition')).toContainText('60/62');
    await screenshot(page, testInfo, 'graph-resnet50-pinned-cut-collapsed');
    await page.getByRole('button', { name: 'Show cut' }).click();
    await screenshot(page, testInfo, 'graph-resnet50-pinned-cut-shown');

    // The DAG min cut, then none.
    await picker.selectOption('dag');
    await expect(graph(page)).toHaveAttribute('data-shown-partition', 'dag');
    await expect(graph(page)).toHaveAttribute('data-shown-cut', 'dag');
    await picker.selectOption('none');
    await expect(graph(page)).toHaveAttribute('data-shown-partition', 'none');
    await expect(page.getByTestId('graph-legend')).not.toContainText('Device');

    // Unpinning the shown cut falls back to the star's.
    await picker.selectOption('pinned:60');
    await page.getByRole('button', { name: 'Unpin cut 60' }).first().click();
    await expect(graph(page)).toHaveAttribute('data-shown-partition', 'best');
    expect(studio.problems).toEqual([]);
  } finally {
    await studio.stop();
  }
});

test('overlays colour by latency, bytes or MACs with a scale; the minimap and the zoom buttons move the view', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', 19);
  const overlay = page.getByTestId('graph-overlay');
  for (const [metric, title] of [
    ['localMs', 'Device latency (estimated)'],
    ['remoteMs', 'Server latency (estimated)'],
    ['outputBytes', 'Output bytes'],
    ['macs', 'MACs']
  ] as const) {
    await overlay.selectOption(metric);
    await expect(graph(page)).toHaveAttribute('data-overlay', metric);
    await expect(page.getByTestId('graph-scale')).toContainText(title);
  }
  await expect(page.getByTestId('graph-scale')).toHaveAttribute('data-scale-kind', /^(log|linear)$/);
  await screenshot(page, testInfo, 'graph-overlay-macs');
  await overlay.selectOption('op');
  await expect(page.getByTestId('graph-scale')).toHaveCount(0);
  await expect(page.getByTestId('graph-legend')).toContainText('Group');

  // Zoom to the selection: reveal a layer inside a collapsed group and centre it.
  await page.getByTestId('search-input').fill('classifier.6');
  await page.getByTestId('search-input').press('Enter');
  await expect(page.getByTestId('node-details')).toContainText('/classifier/classifier.6/Gemm');
  await expect.poll(() => hooks(page, (g) => g.nodeScreenPosition(18))).not.toBeNull();
  await page.getByTestId('search-input').fill('conv');
  await page.getByRole('button', { name: 'Zoom to matches' }).click();
  await page.getByTestId('search-input').fill('');

  // The minimap: a click near its top moves the view to the top of the graph.
  await hooks(page, (g) => g.revealNode(18));
  const before = await hooks(page, (g) => g.nodeScreenPosition(18));
  const minimap = page.getByTestId('graph-minimap');
  const box = await minimap.boundingBox();
  if (!box) throw new Error('no minimap');
  await page.mouse.click(box.x + box.width / 2, box.y + 3);
  const after = await hooks(page, (g) => g.nodeScreenPosition(18));
  expect(after === null || before === null || Math.abs(after.y - before.y) > 20).toBe(true);

  await page.getByRole('button', { name: 'Zoom in' }).click();
  await page.getByRole('button', { name: 'Selection' }).click();
  await expect.poll(() => hooks(page, (g) => g.nodeScreenPosition(18))).not.toBeNull();
});

test('the hover card hides when the view moves; wheel zoom from Fit over empty space stays on the graph', async ({ studioPage: page }) => {
  await expectModelShown(page, 'alexnet.onnx', 19);
  await hooks(page, (g) => g.revealNode(3));
  const node = await hooks(page, (g) => g.nodeScreenPosition(3));
  if (!node) throw new Error('node 3 is not on screen');
  await page.mouse.move(node.x, node.y);
  const tooltip = page.locator('.graph-tooltip');
  await expect(tooltip).toBeVisible();
  await expect(tooltip).toContainText('Conv');
  await page.mouse.wheel(0, -200);
  await expect(tooltip).toBeHidden();

  // Fit, then wheel in many times over the empty left edge: boxes are still drawn.
  await hooks(page, (g) => g.fit());
  const canvas = await graph(page).boundingBox();
  if (!canvas) throw new Error('no canvas');
  await page.mouse.move(canvas.x + 12, canvas.y + canvas.height / 2);
  for (let i = 0; i < 12; i++) await page.mouse.wheel(0, -240);
  await expect.poll(async () => Number(await graph(page).getAttribute('data-drawn-nodes'))).toBeGreaterThan(0);
  expect(await hooks(page, (g) => g.zoom())).toBeGreaterThan(1);
});

test('the transformer lays out in the worker and expands all without blocking the page', async ({ studioPage: page }, testInfo) => {
  test.setTimeout(120_000);
  await expectModelShown(page, 'alexnet.onnx', 19);
  const file = testInfo.outputPath('transformer-large.onnx');
  writeFileSync(file, buildZooModel('transformer-large', { seed: 7 }));
  await page.getByTestId('open-file-input').setInputFiles(file);
  await expect(page.getByTestId('status-model')).toHaveText('transformer-large.onnx', { timeout: 90_000 });
  await expect(graph(page)).toHaveAttribute('data-layout-where', 'worker');
  await expect(graph(page)).toHaveAttribute('data-visible-items', '4');
  // The other views follow the graph's first draw in stages, one per task (opening-stages.tsx).
  const stagesOfLastOpening = () =>
    page.evaluate(() => {
      const marks = performance.getEntriesByType('mark').filter((mark) => mark.name.startsWith('opening-stage-'));
      const start = marks.map((mark) => mark.name).lastIndexOf('opening-stage-0');
      return marks.slice(start).map((mark) => mark.name.replace('opening-stage-', ''));
    });
  await expect.poll(stagesOfLastOpening).toEqual(['0', '0-graph-drawn', '1', '2', '3', '4']);
  await expect(page.getByTestId('layer-charts')).toHaveAttribute('data-layers', '1026');
  await expect(page.getByTestId('star-latency')).toBeVisible();
  // While the worker lays out 1,026 layers in 405 groups, the page keeps answering.
  await page.evaluate(() => {
    const w = window as unknown as { __longest: number };
    w.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__longest = Math.max(w.__longest, entry.duration);
    }).observe({ type: 'longtask' });
  });
  await page.getByRole('button', { name: 'Expand all' }).click();
  await expect(graph(page)).toHaveAttribute('data-visible-items', '1028', { timeout: 30_000 });
  const longest = await page.evaluate(() => (window as unknown as { __longest: number }).__longest);
  testInfo.annotations.push({ type: 'longest task while expanding all', description: `${longest.toFixed(0)} ms` });
  await screenshot(page, testInfo, 'graph-transformer-expanded');
});

const realFolder = process.env.NEUROSURGEON_REAL_MODELS ?? path.resolve(projectRoot, '..', 'shared', 'real-models');
const realFiles = existsSync(realFolder) ? readdirSync(realFolder).filter((f) => f.endsWith('.onnx')) : [];

test('screenshots: ResNet-50 collapsed and expanded and a real export, at 1280×720 and 1440×900, light and dark', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const files = [resnet50File(), ...['regnet_y_400mf.onnx', 'vit_small.onnx'].filter((f) => realFiles.includes(f)).map((f) => path.join(realFolder, f))];
  for (const file of files) {
    const name = path.basename(file, '.onnx');
    const studio = await openStudioWith(page, file);
    try {
      await expect(page.getByTestId('status-model')).toHaveText(path.basename(file), { timeout: 60_000 });
      await expect(graph(page)).toHaveAttribute('data-drawn-nodes', /^[1-9]\d*$/);
      await page.getByRole('radio', { name: 'LTE' }).click();
      for (const theme of ['light', 'dark'] as const) {
        if ((await page.locator('html').getAttribute('data-theme')) !== theme) await page.getByTestId('theme-toggle').click();
        for (const [width, height] of [
          [1280, 720],
          [1440, 900]
        ]) {
          await page.setViewportSize({ width, height });
          await hooks(page, (g) => g.collapseAll());
          await hooks(page, (g) => g.fit());
          await screenshot(page, testInfo, `${name}-collapsed-${width}-${theme}`);
          await hooks(page, (g) => g.expandAll());
          await screenshot(page, testInfo, `${name}-expanded-${width}-${theme}`);
        }
      }
      expect(studio.problems).toEqual([]);
    } finally {
      await studio.stop();
    }
  }
});
