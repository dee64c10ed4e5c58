// Finding a file of the built renderer (dist/renderer) for a request path, for both hosts
// that serve it: the web host over HTTP (web-host.ts) and the Electron window's studio://
// protocol (main/electron/app-protocol.ts). A path that is malformed or leaves the folder
// is refused; every file gets its content type.
import { statSync } from 'node:fs';
import path from 'node:path';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8'
};

export type StaticLookup =
  | { kind: 'file'; file: string; size: number; contentType: string; isPage: boolean }
  | { kind: 'missing'; file: string | null; isPage: boolean }
  | { kind: 'malformed' };

export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** The file for a URL path ('/' is the page, index.html), never outside `root`. */
export function lookUpStaticFile(root: string, urlPath: string): StaticLookup {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'malformed' };
  }
  if (relative.includes('\0')) return { kind: 'malformed' };
  const isPage = relative === '/' || relative === '/index.html';
  const base = path.resolve(root);
  const file = path.resolve(base, `.${isPage ? '/index.html' : relative}`);
  if (!file.startsWith(base + path.sep)) return { kind: 'missing', file: null, isPage };
  try {
    const stats = statSync(file);
    if (!stats.isFile()) return { kind: 'missing', file, isPage };
    return { kind: 'file', file, size: stats.size, contentType: contentTypeOf(file), isPage };
  } catch {
    return { kind: 'missing', file, isPage };
  }
}
