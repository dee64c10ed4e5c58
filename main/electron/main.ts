// main/electron/ — the desktop app: Electron's main process (here), preload, menu, the
// studio:// protocol and the window's security settings.
//
// The Electron main process (bundled to dist/main/electron-main.cjs, package.json "main"):
// one secure window showing the renderer (dist/renderer, served on studio://app/ by
// app-protocol.ts), the studio service behind it over IPC, the application menu, and the
// ways a model arrives from outside — the Open dialog, Open Recent, a path on the command
// line, a second launch, and macOS 'open-file' (the .onnx association in
// electron-builder.yml). The window is sandboxed with context
// isolation, no Node integration and a strict CSP (security.ts); the preload exposes only
// the contract, and every IPC request is checked for its sender and its parameters.
import { app, BrowserWindow, dialog, ipcMain, Menu, nativeTheme, session, shell, type IpcMainInvokeEvent } from 'electron';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { MenuCommand, StudioEventName } from '../../app/studio/contract.js';
import { packageRoot } from '../files/paths.js';
import { connectExecutor } from '../studio/executor-connector.js';
import { defaultExecutorArgs, executorTokenEnv, ExecutorSupervisor } from '../studio/executor-supervisor.js';
import { studioHomeDir } from '../studio/preferences.js';
import { DEFAULT_SAMPLE_ID, errorPayload, StudioService } from '../studio/service.js';
import { menuTemplate } from './menu.js';
import { APP_ORIGIN, APP_PAGE_URL, registerAppScheme, serveRenderer } from './app-protocol.js';
import { installSessionSecurity, isStudioPage, secureWebContents } from './security.js';

const APP_NAME = 'Neurosurgeon Studio';
const rendererDir = path.join(packageRoot(), 'dist', 'renderer');

/** Command-line words after the app itself: model paths and our own flags (Chromium's are skipped). */
function launchArguments(argv: string[]): { model: string | null; executor: boolean } {
  const words = argv.slice(app.isPackaged ? 1 : 2);
  const model = words.find((word) => !word.startsWith('-') && /\.onnx$/i.test(word)) ?? null;
  return { model: model ? path.resolve(model) : null, executor: !words.includes('--no-executor') };
}

let window: BrowserWindow | null = null;
let service: StudioService | null = null;
let rendererReady = false;
/** Models asked for before the window could show them (command line, macOS open-file). */
const pendingPaths: string[] = [];

function send(event: StudioEventName, payload: unknown): void {
  if (window && !window.isDestroyed()) window.webContents.send('studio:event', event, payload);
}

function refreshMenu(): void {
  if (!service) return;
  Menu.setApplicationMenu(
    Menu.buildFromTemplate(
      menuTemplate({
        appName: APP_NAME,
        isMac: process.platform === 'darwin',
        recent: service.prefs.recent(),
        devTools: !app.isPackaged,
        actions: {
          open: () => void showOpenDialog(),
          openRecent: (filePath) => void openFromOutside(filePath),
          exportSplit: () => menuCommand('export'),
          reload: () => menuCommand('reload'),
          toggleTheme: () => menuCommand('toggle-theme'),
          quit: () => app.quit(),
          toggleDevTools: () => window?.webContents.toggleDevTools()
        }
      })
    )
  );
}

function menuCommand(command: MenuCommand): void {
  send('menu.command', { command });
}

/** Opens a model main was handed and shows it, or a banner naming the problem. */
async function openFromOutside(filePath: string): Promise<void> {
  if (!service || !rendererReady) {
    pendingPaths.push(filePath);
    return;
  }
  try {
    send('model.opened', await service.openPath(filePath));
  } catch (error) {
    send('app.error', errorPayload(error));
  }
  refreshMenu();
  if (window?.isMinimized()) window.restore();
  window?.focus();
}

async function showOpenDialog(): Promise<void> {
  if (!window) return;
  const choice = await dialog.showOpenDialog(window, {
    title: 'Open an ONNX model',
    properties: ['openFile'],
    filters: [
      { name: 'ONNX models', extensions: ['onnx'] },
      { name: 'All files', extensions: ['*'] }
    ]
  });
  if (!choice.canceled && choice.filePaths[0]) await openFromOutside(choice.filePaths[0]);
}

type Envelope = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string } };

async function handleRequest(event: IpcMainInvokeEvent, method: unknown, params: unknown): Promise<Envelope> {
  const frameUrl = event.senderFrame?.url ?? '';
  if (!window || event.sender !== window.webContents || !isStudioPage(frameUrl, APP_ORIGIN)) {
    return { ok: false, error: { name: 'ContractError', message: 'request refused: it does not come from the studio window' } };
  }
  if (!service) return { ok: false, error: { name: 'ContractError', message: 'the studio is still starting' } };
  try {
    const result = await service.handle(typeof method === 'string' ? method : String(method), params);
    if (method === 'model.openPath' || method === 'upload.finish') refreshMenu();
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error: errorPayload(error) };
  }
}

function createWindow(): BrowserWindow {
  const created = new BrowserWindow({
    title: APP_NAME,
    width: 1440,
    height: 900,
    minWidth: 900,
    minHeight: 560,
    show: false,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1e1f22' : '#ffffff',
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false
    }
  });
  created.once('ready-to-show', () => created.show());
  created.webContents.on('did-finish-load', () => {
    rendererReady = true;
    for (const filePath of pendingPaths.splice(0)) void openFromOutside(filePath);
  });
  created.on('closed', () => {
    window = null;
    rendererReady = false;
  });
  void created.loadURL(APP_PAGE_URL);
  return created;
}

// ---- start-up ----------------------------------------------------------------------

registerAppScheme();
const launch = launchArguments(process.argv);
if (launch.model) pendingPaths.push(launch.model);

if (!app.requestSingleInstanceLock()) {
  // Another studio is running: it gets our arguments (second-instance) and we leave.
  app.quit();
} else {
  app.on('second-instance', (_event, argv) => {
    const again = launchArguments(argv);
    if (again.model) void openFromOutside(again.model);
    else window?.focus();
  });
  // macOS: a double-clicked .onnx file (may arrive before 'ready').
  app.on('open-file', (event, filePath) => {
    event.preventDefault();
    void openFromOutside(filePath);
  });
  app.on('web-contents-created', (_event, contents) => secureWebContents(contents, (url) => void shell.openExternal(url)));

  void app.whenReady().then(async () => {
    if (!existsSync(path.join(rendererDir, 'index.html'))) {
      dialog.showErrorBox(APP_NAME, `The studio's renderer is not built (${path.join(rendererDir, 'index.html')} is missing). Run \`npm run build\` first.`);
      app.exit(2);
      return;
    }
    installSessionSecurity(session.defaultSession);
    serveRenderer(rendererDir);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const localToken = randomBytes(18).toString('base64url');
    const supervisor = launch.executor
      ? new ExecutorSupervisor({ nodePath: process.execPath, env: { ELECTRON_RUN_AS_NODE: '1', ...executorTokenEnv(localToken) }, args: defaultExecutorArgs(), log })
      : null;
    service = new StudioService({
      host: 'electron',
      home: studioHomeDir(process.env, app.getPath('userData')),
      connect: connectExecutor,
      supervisor,
      localExecutorToken: localToken,
      // Exports go only into a folder the user picked here (remembered in the preferences).
      chooseFolder: async (current) => {
        const options: Electron.OpenDialogOptions = {
          title: 'Choose the folder exports go into',
          buttonLabel: 'Export here',
          properties: ['openDirectory', 'createDirectory'],
          ...(current ? { defaultPath: current } : {})
        };
        const choice = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
        return choice.canceled || !choice.filePaths[0] ? null : choice.filePaths[0];
      },
      revealFolder: (dir) => shell.showItemInFolder(path.join(dir, 'partition.json')),
      log
    });
    service.on((event, payload) => send(event, payload));
    ipcMain.handle('studio:request', handleRequest);
    refreshMenu();
    window = createWindow();
    // The page asks for the model first; the executor starts once it is ready (see launch.ts).
    const started = service;
    void started
      .prepare(launch.model ? { path: launch.model } : { sample: DEFAULT_SAMPLE_ID })
      .catch(() => undefined)
      .finally(() => void started.start().catch((error) => log(`studio: ${errorPayload(error).message}`)));

    app.on('activate', () => {
      if (!window) window = createWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let disposed = false;
  app.on('will-quit', (event) => {
    if (disposed || !service) return;
    event.preventDefault();
    disposed = true;
    void service.dispose().finally(() => app.quit());
  });
}
