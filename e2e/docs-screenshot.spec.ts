// The README's picture (docs/studio.png): the studio at 1280×720, light theme, with the
// AlexNet sample open and the decision on the first screen (per-layer charts, the
// per-split chart with the best split for latency starred, the speed-up against
// cloud-only), no click needed. Every run checks that the star is there and saves the
// picture among the test's artifacts; with UPDATE_DOCS_SCREENSHOT=1 it also replaces
// docs/studio.png.
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { expect, expectModelShown, projectRoot, test } from './studio-fixture.js';

test('the README screenshot shows a model open with its best split starred', async ({ studioPage: page }, testInfo) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await expectModelShown(page, 'alexnet.onnx', 19);
  // The first screen: the star without a click.
  await expect(page.getByRole('img', { name: /^best split for latency: cut \d+/ })).toBeVisible();
  await expect(page.getByTestId('split-decision')).toBeVisible();
  await expect(page.getByTestId('executor-status')).toContainText('connected', { timeout: 30_000 });
  const file = testInfo.outputPath('studio.png');
  await page.screenshot({ path: file });
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(file, path.join(projectRoot, 'docs', 'studio.png'));
});
