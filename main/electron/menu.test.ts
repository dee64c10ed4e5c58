// The Electron menu template and the window's security checks, without Electron: the menu
// has every command with its usual shortcut (macOS app menu first), and IPC senders and
// links are judged correctly.
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import { menuTemplate, type MenuActions } from './menu.js';
import { isExternalWebLink, isStudioPage } from './security.js';

function recordingActions(calls: string[]): MenuActions {
  return {
    open: () => calls.push('open'),
    openRecent: (path) => calls.push(`recent ${path}`),
    exportSplit: () => calls.push('export'),
    reload: () => calls.push('reload'),
    toggleTheme: () => calls.push('theme'),
    quit: () => calls.push('quit'),
    toggleDevTools: () => calls.push('devtools')
  };
}

function items(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? items(item.submenu) : [])]);
}

function click(item: MenuItemConstructorOptions | undefined): void {
  (item?.click as (() => void) | undefined)?.();
}

describe('menuTemplate', () => {
  const recent = [{ path: '/models/vgg16.onnx', fileName: 'vgg16.onnx', openedAt: '2025-01-01T00:00:00.000Z' }];

  it('has Open, Open Recent, Export, Reload, Toggle Dark Mode and Quit with their shortcuts', () => {
    const calls: string[] = [];
    const all = items(menuTemplate({ appName: 'Neurosurgeon Studio', isMac: false, recent, actions: recordingActions(calls), devTools: false }));
    const byLabel = (label: string) => all.find((item) => item.label === label);
    expect(byLabel('Open…')?.accelerator).toBe('CmdOrCtrl+O');
    expect(byLabel('Export…')?.accelerator).toBe('CmdOrCtrl+E');
    expect(byLabel('Reload')?.accelerator).toBe('CmdOrCtrl+R');
    expect(byLabel('Toggle Dark Mode')?.accelerator).toBe('CmdOrCtrl+Shift+D');
    expect(byLabel('Quit')?.accelerator).toBe('CmdOrCtrl+Q');
    expect(byLabel('Toggle Developer Tools')).toBeUndefined();
    for (const label of ['Open…', 'vgg16.onnx', 'Export…', 'Reload', 'Toggle Dark Mode', 'Quit']) click(byLabel(label));
    expect(calls).toEqual(['open', 'recent /models/vgg16.onnx', 'export', 'reload', 'theme', 'quit']);
  });

  it('puts the app menu first on macOS, with Quit there', () => {
    const template = menuTemplate({ appName: 'Neurosurgeon Studio', isMac: true, recent: [], actions: recordingActions([]), devTools: true });
    expect(template[0].label).toBe('Neurosurgeon Studio');
    const appMenu = template[0].submenu as MenuItemConstructorOptions[];
    expect(appMenu.find((item) => item.accelerator === 'CmdOrCtrl+Q')?.label).toBe('Quit Neurosurgeon Studio');
    const file = template[1].submenu as MenuItemConstructorOptions[];
    expect(file.some((item) => item.label === 'Quit')).toBe(false);
    const openRecent = file.find((item) => item.label === 'Open Recent')?.submenu as MenuItemConstructorOptions[];
    expect(openRecent).toEqual([{ label: 'No Recent Files', enabled: false }]);
    expect(items(template).some((item) => item.label === 'Toggle Developer Tools')).toBe(true);
  });
});

describe('security checks', () => {
  it('trusts only the studio page itself', () => {
    const origin = 'studio://app';
    expect(isStudioPage('studio://app/index.html', origin)).toBe(true);
    expect(isStudioPage('studio://app/index.html?x=1#graph', origin)).toBe(true);
    expect(isStudioPage('studio://other/index.html', origin)).toBe(false);
    expect(isStudioPage('file:///opt/studio/dist/renderer/index.html', origin)).toBe(false);
    expect(isStudioPage('https://app/index.html', origin)).toBe(false);
    expect(isStudioPage('', origin)).toBe(false);
  });

  it('sends only web links to the browser', () => {
    expect(isExternalWebLink('https://onnx.ai/')).toBe(true);
    expect(isExternalWebLink('file:///etc/passwd')).toBe(false);
    expect(isExternalWebLink('javascript:alert(1)')).toBe(false);
    expect(isExternalWebLink('not a url')).toBe(false);
  });
});
