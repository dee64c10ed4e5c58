// Picks the StudioHost for where the renderer runs: Electron's preload bridge when the
// window has one, otherwise the web host's WebSocket at the address the page came from.
import type { StudioHost } from '../../app/studio/contract.js';
import { electronHost } from './electron-host.js';
import type { ConnectionEvents, UploadChannel } from './host-error.js';
import { socketUrlForPage, webSocketHost } from './web-socket-host.js';

export { HostConnectionError, StudioRequestError } from './host-error.js';

export function connectHost(): StudioHost & ConnectionEvents & UploadChannel {
  if (window.studio) return electronHost(window.studio);
  return webSocketHost(socketUrlForPage(window.location));
}
