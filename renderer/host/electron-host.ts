// The StudioHost of the Electron window: the contract over the preload's `window.studio`
// bridge (main/electron/preload.ts exposes request, on and pathForFile, nothing else). Results
// and events are checked against the contract here too, so a bad message from main is
// caught on both sides of IPC.
import {
  checkEvent,
  checkParams,
  checkResult,
  type StudioErrorPayload,
  type StudioEvent,
  type StudioEventName,
  type StudioHost,
  type StudioMethod,
  type StudioParams,
  type StudioResult
} from '../../app/studio/contract.js';
import { StudioRequestError, type ConnectionEvents } from './host-error.js';

/** What the preload puts on `window.studio` (contextBridge copies values across, so no types cross). */
export interface PreloadBridge {
  request(method: string, params: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
  /** Electron's webUtils.getPathForFile: '' when the file has no path. */
  pathForFile?(file: object): string;
}

declare global {
  interface Window {
    studio?: PreloadBridge;
  }
}

/** Electron wraps errors thrown in ipcMain.handle as "Error invoking remote method 'x': Name: message". */
export function errorFromIpc(error: unknown): StudioErrorPayload {
  const text = error instanceof Error ? error.message : String(error);
  const match = /^Error invoking remote method '[^']*': (?:(\w+): )?([\s\S]*)$/.exec(text);
  if (!match) return { name: error instanceof Error ? error.name : 'Error', message: text };
  return { name: match[1] ?? 'Error', message: match[2] };
}

export function electronHost(bridge: PreloadBridge): StudioHost & ConnectionEvents {
  return {
    async request<M extends StudioMethod>(method: M, params: StudioParams<M>): Promise<StudioResult<M>> {
      const checked = checkParams(method, params);
      let result: unknown;
      try {
        result = await bridge.request(method, checked);
      } catch (error) {
        throw new StudioRequestError(errorFromIpc(error));
      }
      return checkResult(method, result);
    },

    on<E extends StudioEventName>(event: E, listener: (payload: StudioEvent<E>) => void): () => void {
      return bridge.on(event, (payload) => {
        try {
          listener(checkEvent(event, payload));
        } catch (error) {
          console.warn(`studio: ${(error as Error).message}`);
        }
      });
    },

    pathForFile(file: object): string {
      return bridge.pathForFile?.(file) ?? '';
    },

    // IPC lives as long as the window does.
    onConnectionLost() {
      return () => undefined;
    }
  };
}
