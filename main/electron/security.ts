// The Electron window's hardening, in one place: the Content-Security-Policy on every
// response (the same one the web host sends, main/studio/csp.ts; app-protocol.ts sets it
// on the page's own files too), no navigation away from the studio's page, no new
// windows, no <webview>, no permissions, and the check that an IPC message comes from our
// own page in our own window.
import type { Session, WebContents } from 'electron';
import { contentSecurityPolicy } from '../studio/csp.js';

/** Whether a frame's URL is the studio's own page (studio://app/…, see app-protocol.ts). */
export function isStudioPage(url: string, appOrigin: string): boolean {
  try {
    const given = new URL(url);
    const expected = new URL(appOrigin);
    return given.protocol === expected.protocol && given.host === expected.host && given.host !== '';
  } catch {
    return false;
  }
}

/** Links to the web may open in the user's browser; nothing opens inside the studio. */
export function isExternalWebLink(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

export function installSessionSecurity(session: Session): void {
  const policy = contentSecurityPolicy();
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** Applied to every web contents the app creates. */
export function secureWebContents(contents: WebContents, openExternal: (url: string) => void): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalWebLink(url)) openExternal(url);
    return { action: 'deny' };
  });
}
