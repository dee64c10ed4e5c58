// The studio on real PyTorch exports (../shared/real-models): each opens from the page,
// its graph and charts show layers only (the Identity/Constant weight nodes PyTorch writes
// are folded into the layers that read them, listed in their details), and the first
// screen stars a cut. Screenshots at 1280×720 and 1440×900, light and dark.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { analyzeModel } from '../app/analysis/analyze.js';
import { readOnnxModel } from '../app/onnx/reader.js';
import { expect, expectModelShown, projectRoot, screenshot, test } from './studio-fixture.js';

const folder = process.env.NEUROSURGEON_REAL_MODELS ?? path.resolve(projectRoot, '..', 'shared', 'real-models');
const files = existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.onnx')).sort() : [];

test.skip(files.length === 0, `no real exports in ${folder}`);

test('every real export opens with layers only, its weights folded, and a starred split', async ({ studioPage: page }) => {
  test.setTimeout(60_000 + files.length * 30_000);
  for (const file of files) {
    const model = readOnnxModel(readFileSync(path.join(folder, file)));
    const analysis = analyzeModel(model);
    await page.getByTestId('open-file-input').setInputFiles(path.join(folder, file));
    await expectModelShown(page, file, analysis.layers.length);
    await expect(page.getByTestId('banner')).toHaveCount(0);
    // No weight-only node is drawn: searching for the aliases PyTorch writes finds none.
    if (analysis.weightNodes.some((w) => w.opType === 'Identity')) {
      await page.getByTestId('search-input').fill('Identity');
      await expect(page.getByTestId('search-count')).toHaveText('no match');
      await page.getByTestId('search-input').fill('');
    }
    // The decision is on the first screen, beside the per-layer charts: no tab to click.
    await expect(page.getByRole('img', { name: /^best split for latency: cut \d+/ })).toBeVisible();
    await expect(page.getByTestId('layer-charts')).toBeVisible();
  }
});

test('a layer lists the weight nodes folded into it; the model summary counts layers and nodes', async ({ studioPage: page }, testInfo) => {
  const file = files.find((f) => f.startsWith('mobilenet_v3')) ?? files[0];
  const model = readOnnxModel(readFileSync(path.join(folder, file)));
  const analysis = analyzeModel(model);
  await page.getByTestId('open-file-input').setInputFiles(path.join(folder, file));
  await expectModelShown(page, file, analysis.layers.length);
  const details = page.getByTestId('node-details');
  await expect(details).toContainText(`${model.graph.nodes.length.toLocaleString('en-US')} nodes`);
  const withFolded = analysis.layers.find((l) => l.foldedNodes.length > 0);
  expect(withFolded).toBeDefined();
  await page.getByTestId('search-input').fill(withFolded?.name ?? '');
  await page.getByTestId('search-input').press('Enter');
  await expect(details).toContainText(withFolded?.name ?? '');
  await expect(page.getByTestId('folded-nodes')).toBeVisible();
  for (const [width, height] of [
    [1280, 720],
    [1440, 900]
  ]) {
    await page.setViewportSize({ width, height });
    await screenshot(page, testInfo, `real-${width}-light`);
  }
  await page.getByTestId('theme-toggle').click();
  await screenshot(page, testInfo, 'real-1440-dark');
  await page.setViewportSize({ width: 1280, height: 720 });
  await screenshot(page, testInfo, 'real-1280-dark');
});
