// Playwright end-to-end tests (e2e/): the studio's renderer in Debian's Chromium through
// the web host (`neurosurgeon studio --web`), and the Electron window where an Electron
// binary exists. Run `npm run build` first; browsers are not downloaded — the system
// Chromium is used (override with PLAYWRIGHT_CHROMIUM_PATH).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  // Two tests at a time, any two: each spawns its own web host with its own studio home, and
  // one test keeps about one core busy (its host's jobs plus Chromium), so on this project's
  // 2-core machine two of them take 3.2 minutes where one at a time took 3.8.
  workers: 2,
  retries: 0,
  fullyParallel: true,
  forbidOnly: true,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  outputDir: 'test-results/playwright',
  use: {
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    // The studio honours prefers-reduced-motion: spinners stand still, so Chromium's software
    // compositor does not redraw 60 times a second while a job under test needs the CPU.
    reducedMotion: 'reduce',
    launchOptions: {
      executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    }
  }
});
