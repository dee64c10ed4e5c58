// The path field's completion, as pure functions: which folder to list for what is typed
// (the part up to the last separator; '' lists the starting points), which of its entries
// match the rest, and what choosing one puts in the field (a folder gets a separator so
// its own entries are offered next).
import type { FolderEntry } from '../../app/studio/contract.js';

export interface TypedPath {
  /** The folder to list ('' for the starting points: home and the folders of recent files). */
  dir: string;
  /** What is typed after it. */
  prefix: string;
}

/** "/home/me/mod" → list "/home/me", match "mod"; "/home/me/" → list "/home/me", match ""; "mod" → the starting points. */
export function typedPath(text: string): TypedPath {
  const cut = Math.max(text.lastIndexOf('/'), text.lastIndexOf('\\'));
  if (cut < 0) return { dir: '', prefix: text };
  const dir = text.slice(0, cut);
  // "/x" lists "/"; "C:\x" lists "C:\".
  return { dir: dir === '' || /^[A-Za-z]:$/.test(dir) ? text.slice(0, cut + 1) : dir, prefix: text.slice(cut + 1) };
}

/** Entries whose name starts with the prefix (any case), folders first, as listed; at the starting points, entries containing it. */
export function matchingEntries(entries: readonly FolderEntry[], typed: TypedPath): FolderEntry[] {
  const wanted = typed.prefix.toLowerCase();
  const matches = entries.filter((entry) => (typed.dir === '' ? entry.path.toLowerCase().includes(wanted) : entry.name.toLowerCase().startsWith(wanted)));
  return [...matches.filter((entry) => entry.kind === 'folder'), ...matches.filter((entry) => entry.kind !== 'folder')];
}

/** The field's text after choosing an entry: a folder ends with its separator. */
export function completedText(entry: FolderEntry): string {
  if (entry.kind !== 'folder') return entry.path;
  const separator = entry.path.includes('\\') && !entry.path.includes('/') ? '\\' : '/';
  return entry.path.endsWith(separator) ? entry.path : `${entry.path}${separator}`;
}
