// The application menu: Open…, Open Recent, Export…, Reload, Toggle Dark Mode, Quit, with
// the usual shortcuts, and on macOS the app menu first (About, Hide, Quit) as the platform
// expects. Built as a plain template from callbacks, so it is tested without Electron.
import type { MenuItemConstructorOptions } from 'electron';
import type { RecentFile } from '../../app/studio/contract.js';

export interface MenuActions {
  open(): void;
  openRecent(path: string): void;
  clearRecent?(): void;
  exportSplit(): void;
  reload(): void;
  toggleTheme(): void;
  quit(): void;
  toggleDevTools?(): void;
}

export function menuTemplate(options: { appName: string; isMac: boolean; recent: RecentFile[]; actions: MenuActions; devTools: boolean }): MenuItemConstructorOptions[] {
  const { actions, isMac } = options;
  const recentItems: MenuItemConstructorOptions[] =
    options.recent.length === 0
      ? [{ label: 'No Recent Files', enabled: false }]
      : options.recent.map((file) => ({ label: file.fileName, sublabel: file.path, toolTip: file.path, click: () => actions.openRecent(file.path) }));
  const quit: MenuItemConstructorOptions = { label: isMac ? `Quit ${options.appName}` : 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => actions.quit() };

  const template: MenuItemConstructorOptions[] = [];
  if (isMac) {
    template.push({
      label: options.appName,
      submenu: [{ role: 'about' }, { type: 'separator' }, { role: 'services' }, { type: 'separator' }, { role: 'hide' }, { role: 'hideOthers' }, { role: 'unhide' }, { type: 'separator' }, quit]
    });
  }
  template.push(
    {
      label: 'File',
      submenu: [
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.open() },
        { label: 'Open Recent', submenu: recentItems },
        { type: 'separator' },
        { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: () => actions.exportSplit() },
        ...(isMac ? [] : [{ type: 'separator' } as const, quit])
      ]
    },
    {
      label: 'Edit',
      submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }]
    },
    {
      label: 'View',
      submenu: [
        { label: 'Reload', accelerator: 'CmdOrCtrl+R', click: () => actions.reload() },
        { label: 'Toggle Dark Mode', accelerator: 'CmdOrCtrl+Shift+D', click: () => actions.toggleTheme() },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
        ...(options.devTools && actions.toggleDevTools
          ? [{ type: 'separator' } as const, { label: 'Toggle Developer Tools', accelerator: isMac ? 'Alt+Cmd+I' : 'Ctrl+Shift+I', click: () => actions.toggleDevTools?.() }]
          : [])
      ]
    },
    { role: 'windowMenu' }
  );
  return template;
}
