// main/files/ — files on disk: where the project's own files are (here), writes that never
// leave half a file (atomic-write.ts) and the user's JSON documents (json-file.ts).
//
// Where the project's own files are, whether running from source (tests) or from the
// bundle in dist/ (CLI, Electron).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | null = null;

export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'neurosurgeon-studio') {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the neurosurgeon-studio package folder');
    dir = parent;
  }
}

export function toolVersion(): string {
  return JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

export function defaultZooDir(): string {
  return path.join(packageRoot(), 'resources', 'models');
}
