// The preload of the studio window (sandboxed, bundled to dist/main/preload.cjs). It puts
// exactly the contract on `window.studio` — request(method, params), on(event, listener)
// and, for dropped files, pathForFile(file) — and nothing else of Electron or Node. Main
// checks every request against the contract (main/electron/main.ts).
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';

type Envelope = { ok: true; result: unknown } | { ok: false; error: { name: string; message: string } };

contextBridge.exposeInMainWorld('studio', {
  async request(method: string, params: unknown): Promise<unknown> {
    const envelope = (await ipcRenderer.invoke('studio:request', method, params)) as Envelope;
    if (envelope.ok) return envelope.result;
    // Only an Error's message survives the context bridge, so the name travels in it, in
    // the form Electron itself gives errors of ipcMain.handle (renderer/host/electron-host.ts parses it).
    throw new Error(`Error invoking remote method 'studio:request': ${envelope.error.name}: ${envelope.error.message}`);
  },
  on(event: string, listener: (payload: unknown) => void): () => void {
    const handler = (_event: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on('studio:event', handler);
    return () => {
      ipcRenderer.removeListener('studio:event', handler);
    };
  },
  pathForFile(file: object): string {
    try {
      return webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0]);
    } catch {
      return '';
    }
  }
});
