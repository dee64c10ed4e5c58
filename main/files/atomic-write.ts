// Writes that never leave a half-written file: data go to temporary files in the target's
// folder, which are then renamed over the targets. One file (writeFileAtomic), a set of
// files that appear together or not at all (writeFilesAtomic: `split`'s head, tail and
// partition.json), or a whole folder swapped in by one rename (writeFolderAtomic:
// `export`). Folders are created with output-path.ts (never on procfs, sysfs or device
// files), and every failure is one FileSystemError line: "cannot write /x: read-only file
// system".
import { existsSync, linkSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FileSystemError, systemErrorReason } from '../errors/user-errors.js';
import { makeFolders } from './output-path.js';

function temporaryBeside(target: string, suffix: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${suffix}`);
}

function failure(label: string, error: unknown): FileSystemError {
  if (error instanceof FileSystemError) return error;
  return new FileSystemError(`cannot write ${label}: ${systemErrorReason(error)}`);
}

function refuseFolderTarget(target: string): void {
  const stats = lstatSync(target, { throwIfNoEntry: false });
  if (stats?.isDirectory()) throw new FileSystemError(`cannot write ${target}: it is a folder`);
}

export function writeFileAtomic(target: string, data: Uint8Array | string): void {
  writeFilesAtomic([{ target, data }]);
}

/**
 * Writes several files so that either all of them are in place or none changed: every
 * temporary file is written first; then each target is moved aside and its new file renamed
 * in; a failure puts back what was there. `remove` lists files that must not remain (moved
 * aside with the others and deleted once everything is in place).
 */
export function writeFilesAtomic(files: { target: string; data: Uint8Array | string }[], options: { remove?: string[] } = {}): void {
  const suffix = randomBytes(4).toString('hex');
  const entries = files.map(({ target, data }) => ({ target: path.resolve(target), data, temporary: temporaryBeside(path.resolve(target), `${suffix}.tmp`) }));
  const removals = (options.remove ?? []).map((file) => path.resolve(file)).filter((file) => existsSync(file));
  for (const { target } of entries) {
    makeFolders(path.dirname(target), target);
    refuseFolderTarget(target);
  }
  const written: string[] = [];
  try {
    for (const entry of entries) {
      try {
        writeFileSync(entry.temporary, entry.data);
        written.push(entry.temporary);
      } catch (error) {
        throw failure(entry.target, error);
      }
    }
  } catch (error) {
    for (const temporary of [...written, ...entries.map((e) => e.temporary)]) rmSync(temporary, { force: true });
    throw error;
  }
  // Swap in: every replaced or removed file goes aside first, so a failure can be undone.
  const aside: { original: string; backup: string }[] = [];
  const placed: string[] = [];
  try {
    for (const file of [...entries.map((e) => e.target), ...removals]) {
      if (!existsSync(file)) continue;
      const backup = temporaryBeside(file, `${suffix}.old`);
      try {
        renameSync(file, backup);
      } catch (error) {
        throw failure(file, error);
      }
      aside.push({ original: file, backup });
    }
    for (const entry of entries) {
      try {
        renameSync(entry.temporary, entry.target);
      } catch (error) {
        throw failure(entry.target, error);
      }
      placed.push(entry.target);
    }
  } catch (error) {
    for (const target of placed) rmSync(target, { force: true });
    for (const { original, backup } of aside) {
      try {
        renameSync(backup, original);
      } catch {
        // left beside it as .NAME.SUFFIX.old; the error below names the file that failed
      }
    }
    for (const entry of entries) rmSync(entry.temporary, { force: true });
    throw error;
  }
  for (const { backup } of aside) rmSync(backup, { recursive: true, force: true });
}

/**
 * Writes every file into a temporary sibling folder, then swaps it in for `dir` in one
 * rename (the folder it replaces is deleted afterwards). The caller decides whether an
 * existing `dir` may be replaced.
 */
/** Hard-links `existing` as `out`; false where the file system cannot (the bytes are then written again). */
function linked(existing: string, out: string): boolean {
  try {
    linkSync(existing, out);
    return true;
  } catch {
    return false;
  }
}

export function writeFolderAtomic(dir: string, contents: Map<string, Uint8Array | string>): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  makeFolders(parent, target);
  const suffix = randomBytes(4).toString('hex');
  const temporary = temporaryBeside(target, `${suffix}.tmp`);
  const previous = temporaryBeside(target, `${suffix}.old`);
  try {
    // The same bytes under two names (tail.onnx and the repository's model.onnx) are one file, hard-linked.
    const written = new Map<Uint8Array, string>();
    for (const [file, data] of contents) {
      const out = path.join(temporary, file);
      try {
        mkdirSync(path.dirname(out), { recursive: true });
        const first = typeof data === 'string' ? undefined : written.get(data);
        if (first === undefined || !linked(first, out)) writeFileSync(out, data);
        if (typeof data !== 'string' && first === undefined) written.set(data, out);
      } catch (error) {
        throw failure(target, error);
      }
    }
    try {
      if (existsSync(target)) renameSync(target, previous);
    } catch (error) {
      throw failure(target, error);
    }
    try {
      renameSync(temporary, target);
    } catch (error) {
      if (existsSync(previous)) renameSync(previous, target);
      throw failure(target, error);
    }
  } finally {
    rmSync(temporary, { recursive: true, force: true });
    rmSync(previous, { recursive: true, force: true });
  }
}
