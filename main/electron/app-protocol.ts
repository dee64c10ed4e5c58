// The window loads the renderer from studio://app/, a privileged custom protocol served
// from dist/renderer, instead of file:// — as Electron's security checklist advises: the
// page gets an origin of its own ('self' in the CSP means exactly the bundle), every file
// carries the CSP header, and nothing else on disk can be fetched by the page.
import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import { contentSecurityPolicy } from '../studio/csp.js';
import { lookUpStaticFile } from '../studio/static-files.js';

export const APP_SCHEME = 'studio';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

function plain(status: number, text: string): Response {
  return new Response(`${text}\n`, { status, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': contentSecurityPolicy() } });
}

/** Serves dist/renderer on studio://app/ (call once the app is ready). */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST || request.method !== 'GET') return plain(404, 'not found');
    const found = lookUpStaticFile(rendererDir, url.pathname);
    if (found.kind === 'malformed') return plain(400, 'bad request');
    if (found.kind === 'missing') return plain(404, 'not found');
    return new Response(new Uint8Array(await readFile(found.file)), {
      status: 200,
      headers: {
        'Content-Type': found.contentType,
        'Content-Security-Policy': contentSecurityPolicy(),
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache'
      }
    });
  });
}
