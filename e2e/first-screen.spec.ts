// The first screen is the decision: on opening a model, without a click, the per-layer
// charts (Figure 5), the per-split chart with its star and accessible name (Figure 6), the
// network presets and the speed-up against cloud-only — at 1280×720 and 1440×900, light
// and dark, with no horizontal scrolling and no label cut short. Screenshots of each are
// saved among the test's artifacts. Also: a clicked chart shows no focus ring, the Runs
// field can be emptied and retyped, and the per-layer charts export as SVG (legend, axis
// titles and layer names in it) and PNG.
import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, expectModelShown, screenshot, test } from './studio-fixture.js';

const ALEXNET_NODES = 19;

/** Elements whose text is clipped (scrolled or cut with an ellipsis), named for the failure message. */
async function clippedLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const selectors = [
      '[role="tab"]',
      '.split-chip',
      '.split-slider span',
      '.split-slider output',
      '.split-controls-title',
      '.split-chart-header > *',
      '.split-decision-block *',
      '.layer-charts-header > *',
      '.layer-chart-axis-title',
      '.layer-chart-legend',
      '.status-bar .status-item'
    ];
    const clipped: string[] = [];
    for (const element of document.querySelectorAll<HTMLElement>(selectors.join(','))) {
      if (element.offsetParent === null) continue;
      if (element.scrollWidth > element.clientWidth + 1) clipped.push(`${element.className || element.tagName}: "${element.textContent?.trim()}" (${element.scrollWidth} > ${element.clientWidth})`);
    }
    // SVG text of the per-split chart, and the layer names under the per-layer charts, stay inside their drawing.
    const texts = [...document.querySelectorAll<SVGTextElement>('[data-testid="split-chart"] text, .layer-axis-label')];
    for (const text of texts) {
      const box = text.ownerSVGElement?.getBoundingClientRect();
      const r = text.getBoundingClientRect();
      if (box && r.width > 0 && (r.left < box.left - 1 || r.right > box.right + 1)) clipped.push(`chart text "${text.textContent}" (${Math.round(r.left - box.left)}..${Math.round(r.right - box.left)} of ${Math.round(box.width)})`);
    }
    return clipped;
  });
}

test('the first screen shows the decision at 1280×720 and 1440×900, light and dark, with nothing cut', async ({ studioPage: page }, testInfo) => {
  for (const theme of ['light', 'dark'] as const) {
    for (const [width, height] of [
      [1280, 720],
      [1440, 900]
    ] as const) {
      await page.setViewportSize({ width, height });
      if (theme === 'dark' && (await page.locator('html').getAttribute('data-theme')) !== 'dark') await page.getByTestId('theme-toggle').click();
      await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
      // No click needed: Figure 5, Figure 6 with its star, the presets and the speed-up.
      await expect(page.getByRole('tab', { name: 'Decision' })).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByTestId('layer-charts')).toBeInViewport();
      await expect(page.getByRole('img', { name: /^best split for latency: cut \d+ \((after \S+|cloud-only|device-only)\)$/ })).toBeInViewport();
      await expect(page.getByRole('radiogroup', { name: 'Network' })).toBeInViewport();
      for (const preset of ['Wi-Fi', 'LTE', '3G', '5G']) await expect(page.getByRole('radio', { name: preset })).toBeInViewport();
      await expect(page.getByTestId('split-speedup')).toHaveText(/^\d+\.\d\d×$/);
      await expect(page.getByTestId('split-decision')).toContainText('faster than cloud-only');
      // The layer axis names layers, not only their index.
      await expect(page.locator('.layer-chart-size .layer-axis-label').first()).toHaveText('features.0');

      const scroll = await page.evaluate(() => ({ width: document.documentElement.scrollWidth, viewport: innerWidth }));
      expect(scroll.width, 'horizontal scrolling').toBeLessThanOrEqual(scroll.viewport);
      expect(await clippedLabels(page)).toEqual([]);
      await screenshot(page, testInfo, `first-screen-${width}-${theme}`);
    }
  }
});

test('every model opens on the decision, even after another tab was chosen', async ({ studioPage: page }) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await page.getByRole('tab', { name: /^Trace replay/ }).click();
  await expect(page.getByRole('img', { name: /^best split for latency/ })).toHaveCount(0);
  // The network conditions stay in view on every tab.
  await expect(page.getByRole('slider', { name: 'Uplink' })).toBeVisible();
  await page.getByTestId('recent-button').click();
  await page.getByRole('menuitem', { name: /^LeNet/ }).first().click();
  await expect(page.getByTestId('status-model')).toHaveText('lenet.onnx', { timeout: 60_000 });
  await expect(page.getByRole('tab', { name: 'Decision' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('img', { name: /^best split for latency/ })).toBeVisible();
  // Arrow keys move between the tabs.
  await page.getByRole('tab', { name: 'Decision' }).focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: /^Compare cuts/ })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: /^Compare cuts/ })).toBeFocused();
});

test('a clicked chart shows no focus ring, and the Runs field can be emptied and retyped', async ({ studioPage: page }) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  for (const chart of ['.layer-chart-compute', '.layer-chart-size']) {
    const box = await page.locator(chart).boundingBox();
    if (!box) throw new Error(`${chart} has no box`);
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const outline = await page.evaluate(() => {
      const focused = document.activeElement;
      return focused && focused !== document.body ? getComputedStyle(focused).outlineStyle : 'none';
    });
    expect(outline, `focus ring after clicking ${chart}`).toBe('none');
  }

  const runs = page.getByTestId('runs-input');
  await runs.fill('');
  await expect(runs).toHaveValue('');
  await runs.pressSequentially('25');
  await expect(runs).toHaveValue('25');
  await runs.blur();
  await page.reload();
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  await expect(runs).toHaveValue('25');
  // Left empty, it shows the saved value again.
  await runs.fill('');
  await runs.blur();
  await expect(runs).toHaveValue('25');
});

test('the per-layer charts export as one SVG with legend, axis titles and layer names, and as PNG', async ({ studioPage: page }, testInfo) => {
  await expectModelShown(page, 'alexnet.onnx', ALEXNET_NODES);
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export per-layer charts as SVG' }).click()]);
  expect(svgDownload.suggestedFilename()).toBe('alexnet-layers.svg');
  const svg = readFileSync(await svgDownload.path(), 'utf8');
  expect(svg.length, 'SVG size').toBeLessThan(150_000);
  for (const text of ['alexnet.onnx: per layer', 'MACs per layer', 'output size per layer, bytes (log)', 'Output size', 'Input 588 KiB', '>features.0<']) expect(svg).toContain(text);
  expect(svg.includes('var(--'), 'a CSS variable left unresolved in the SVG').toBe(false);
  const [pngDownload] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export per-layer charts as PNG' }).click()]);
  expect(pngDownload.suggestedFilename()).toBe('alexnet-layers.png');
  expect([...readFileSync(await pngDownload.path()).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  await pngDownload.saveAs(testInfo.outputPath('layer-charts-export.png'));
});
