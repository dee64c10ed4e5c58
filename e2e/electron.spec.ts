// The desktop window through Playwright's Electron driver: the same renderer as in the
// browser, loaded by dist/main/electron-main.cjs with its preload. It runs only where the
// Electron binary is installed (what `require('electron')` names exists); elsewhere
// it is reported as skipped with the reason.
import { _electron as electron } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, expectModelShown, projectRoot, screenshot, test } from './studio-fixture.js';

/**
 * The Electron binary's path, or null where the package is installed without it. This
 * reads what `require('electron')` would return without requiring it: that call tries to
 * download a missing binary.
 */
function electronBinary(): string | null {
  let packageDir: string;
  try {
    packageDir = path.dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = path.join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? path.join(override, relative || 'electron') : path.join(packageDir, 'dist', relative);
  return existsSync(binary) ? binary : null;
}

const binary = electronBinary();

test.describe('Electron window', () => {
  test.skip(binary === null, 'Electron binary not installed on this machine (ELECTRON_SKIP_BINARY_DOWNLOAD); the same UI is covered in Chromium through the web host');

  test('opens the sample in a sandboxed, context-isolated window whose preload exposes only the contract bridge', async ({}, testInfo) => {
    const home = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-studio-electron-'));
    const app = await electron.launch({
      executablePath: binary as string,
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), projectRoot],
      env: { ...process.env, NEUROSURGEON_STUDIO_HOME: home }
    });
    try {
      const page = await app.firstWindow();
      await expectModelShown(page, 'alexnet.onnx', 19);
      await expect(page.getByTestId('executor-status')).toContainText('this machine');

      const exposed = await page.evaluate(() => ({
        bridge: Object.keys((window as unknown as { studio?: object }).studio ?? {}).sort(),
        require: typeof (window as unknown as { require?: unknown }).require,
        process: typeof (window as unknown as { process?: unknown }).process
      }));
      expect(exposed).toEqual({ bridge: ['on', 'pathForFile', 'request'], require: 'undefined', process: 'undefined' });

      // getLastWebPreferences is in Electron's API but not in its typings.
      const preferences = await app.evaluate(({ BrowserWindow }) => {
        type WebPreferences = { contextIsolation?: boolean; sandbox?: boolean; nodeIntegration?: boolean };
        const contents = BrowserWindow.getAllWindows()[0].webContents as unknown as { getLastWebPreferences(): WebPreferences | null };
        const prefs = contents.getLastWebPreferences();
        return { contextIsolation: prefs?.contextIsolation, sandbox: prefs?.sandbox, nodeIntegration: prefs?.nodeIntegration };
      });
      expect(preferences).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
      await screenshot(page, testInfo, 'electron-first-start');
    } finally {
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
