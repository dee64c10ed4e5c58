// Folder listings for the page's path field (files.list in the contract): a folder's
// subfolders and .onnx files, so a model on this machine opens by path — read where it
// lies, as fast as from the command line — instead of being uploaded. Only the starting
// points (the user's home folder and the folders of recent files) and what lies under
// them may be listed; a folder is checked by its real path, so a symbolic link cannot lead
// out of them. Hidden entries are left out; a listing carries at most MAX_ENTRIES.
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FolderEntry, FolderListing } from '../../app/studio/contract.js';

export class FolderListingError extends Error {
  override name = 'FolderListingError';
}

export const MAX_ENTRIES = 500;

async function realFolder(folder: string): Promise<string | null> {
  try {
    const real = await realpath(folder);
    return (await stat(real)).isDirectory() ? real : null;
  } catch {
    return null;
  }
}

function within(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/** The starting points that exist, each once, in the order given. */
async function existingRoots(roots: readonly string[]): Promise<Array<{ shown: string; real: string }>> {
  const seen = new Set<string>();
  const found: Array<{ shown: string; real: string }> = [];
  for (const root of roots) {
    const shown = path.resolve(root);
    const real = await realFolder(shown);
    if (real === null || seen.has(real)) continue;
    seen.add(real);
    found.push({ shown, real });
  }
  return found;
}

/**
 * Lists `dir` ('' for the starting points themselves). Throws FolderListingError with one
 * line when the folder does not exist or lies outside every starting point.
 */
export async function listFolder(dir: string, roots: readonly string[]): Promise<FolderListing> {
  const allowed = await existingRoots(roots);
  if (dir.trim() === '') {
    const entries: FolderEntry[] = allowed.map((root) => ({ name: root.shown, path: root.shown, kind: 'folder', bytes: null }));
    return { dir: '', parent: null, entries, truncated: false };
  }
  const shown = path.resolve(dir);
  const real = await realFolder(shown);
  if (real === null) throw new FolderListingError(`${dir}: no such folder`);
  if (!allowed.some((root) => within(real, root.real))) {
    throw new FolderListingError(`${dir}: only your home folder and the folders of recent files can be browsed; type a file's full path to open it`);
  }
  const names = (await readdir(real, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  const entries: FolderEntry[] = [];
  let truncated = false;
  for (const entry of names.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(real, entry.name);
    const isModelName = /\.onnx$/i.test(entry.name);
    if (!entry.isDirectory() && !entry.isSymbolicLink() && !(entry.isFile() && isModelName)) continue;
    // Symbolic links are listed by what they point to; broken ones are left out.
    const stats = await stat(full).catch(() => null);
    if (!stats) continue;
    let item: FolderEntry | null = null;
    if (stats.isDirectory()) item = { name: entry.name, path: path.join(shown, entry.name), kind: 'folder', bytes: null };
    else if (stats.isFile() && isModelName) item = { name: entry.name, path: path.join(shown, entry.name), kind: 'model', bytes: stats.size };
    if (!item) continue;
    if (entries.length === MAX_ENTRIES) {
      truncated = true;
      break;
    }
    entries.push(item);
  }
  entries.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'folder' ? -1 : 1));
  const isRoot = allowed.some((root) => root.real === real);
  const up = path.dirname(shown);
  const upReal = up === shown ? null : await realFolder(up);
  const parent = upReal !== null && allowed.some((root) => within(upReal, root.real)) ? up : isRoot ? '' : null;
  return { dir: shown, parent, entries, truncated };
}
