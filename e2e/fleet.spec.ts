// The Throughput tab end to end, in Chromium through the web host: a small fleet run (a
// few clients on two small models, one rate) through the contract, its progress, then the
// chart of throughput against arrival rate with a line per policy and the summary at the
// objective. A screenshot is saved among the test's artifacts.
import { expect, expectModelShown, screenshot, test } from './studio-fixture.js';

test('runs a fleet from the Throughput tab and charts throughput per policy', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', 19);
  await page.getByRole('tab', { name: 'Throughput' }).click();
  const panel = page.getByTestId('fleet-panel');
  await expect(panel).toHaveAttribute('data-state', 'idle');
  await page.getByLabel('Emulated clients').fill('4');
  await page.getByLabel('Emulated clients').press('Enter');
  await page.getByLabel('Arrival rates').fill('6');
  await page.getByLabel('Models').fill('lenet, senna-pos');
  await page.getByLabel('Seconds per rate').fill('2');
  await page.getByLabel('Seconds per rate').press('Enter');
  // One refinement point per policy: none is taken here, since every policy meets the objective at the one rate.
  await page.getByLabel('Refinement points per policy').fill('1');
  await page.getByLabel('Refinement points per policy').press('Enter');
  await page.getByRole('button', { name: 'Run fleet' }).click();
  await expect(panel).toHaveAttribute('data-state', 'done', { timeout: 110_000 });
  await expect(panel).toHaveAttribute('data-points', '1');
  const summary = page.getByTestId('fleet-summary');
  for (const policy of ['cloud-only', 'neurosurgeon', 'load-aware']) await expect(summary.locator(`[data-policy="${policy}"]`)).toBeVisible();
  await expect(page.getByTestId('fleet-chart').locator('.recharts-line')).toHaveCount(3);
  await screenshot(page, testInfo, 'throughput-tab');
  await page.setViewportSize({ width: 1280, height: 720 });
  await screenshot(page, testInfo, 'throughput-tab-1280');
});
