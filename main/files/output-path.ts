// Where the tools may write: never on a special file system (procfs, sysfs, device files,
// cgroups …), where a recursive mkdir can loop forever (Node's recursive mkdir spins on
// /proc/x, which answers ENOENT to every attempt) and a rename could replace a device.
// Missing folders are created one level at a time from the nearest existing one, a
// bounded walk; every failure is a FileSystemError of one line naming the path and the
// cause: "cannot write /proc/x: it is on procfs, a special file system (process
// information), not a place for files".
import { mkdirSync, realpathSync, statfsSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { FileSystemError, systemErrorReason } from '../errors/user-errors.js';

/** Linux statfs f_type magic numbers of file systems that hold no user files. */
const SPECIAL_FILE_SYSTEMS: Record<number, [string, string]> = {
  0x9fa0: ['procfs', 'process information'],
  0x62656572: ['sysfs', 'kernel objects'],
  0x1cd1: ['devpts', 'terminals'],
  0x64626720: ['debugfs', 'kernel debugging'],
  0x74726163: ['tracefs', 'kernel tracing'],
  0x73636673: ['securityfs', 'security modules'],
  0x63677270: ['cgroup2', 'control groups'],
  0x27e0eb: ['cgroup', 'control groups'],
  0xcafe4a11: ['bpffs', 'BPF objects'],
  0x62656570: ['configfs', 'kernel configuration'],
  0x6165676c: ['pstore', 'kernel crash records'],
  0xde5e81e4: ['efivarfs', 'firmware variables'],
  0x42494e4d: ['binfmt_misc', 'binary formats'],
  0x65735543: ['fusectl', 'FUSE control'],
  0x19800202: ['mqueue', 'message queues']
};

/** The same by path, where statfs cannot tell (devtmpfs reports tmpfs's magic) or is absent. */
const SPECIAL_ROOTS: [string, string, string][] = [
  ['/proc', 'procfs', 'process information'],
  ['/sys', 'sysfs', 'kernel objects'],
  ['/dev', 'the device folder', 'device files']
];

function within(file: string, root: string): boolean {
  return file === root || file.startsWith(`${root}/`);
}

/** "procfs, a special file system (process information)" for a path on one, else null. `existing` must exist. */
export function specialFileSystemOf(existing: string): string | null {
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // keep the path as given
  }
  if (process.platform !== 'win32') {
    for (const [root, name, holds] of SPECIAL_ROOTS) {
      if (within(real, root) && !within(real, '/dev/shm')) return `${name}, a special file system (${holds})`;
    }
  }
  if (process.platform === 'linux') {
    try {
      const known = SPECIAL_FILE_SYSTEMS[statfsSync(real).type];
      if (known) return `${known[0]}, a special file system (${known[1]})`;
    } catch {
      // statfs unavailable here: the path check above is all there is
    }
  }
  return null;
}

/** The nearest folder of `dir` (itself included) that exists, and the names below it still to create. */
function nearestExisting(dir: string, label: string): { existing: string; stats: Stats; missing: string[] } {
  let current = path.resolve(dir);
  const missing: string[] = [];
  for (;;) {
    try {
      return { existing: current, stats: statSync(current), missing };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new FileSystemError(`cannot write ${label}: ${systemErrorReason(error)}`);
    }
    const parent = path.dirname(current);
    if (parent === current) throw new FileSystemError(`cannot write ${label}: no folder of it exists`);
    missing.unshift(path.basename(current));
    current = parent;
  }
}

/** Refuses `target` (a file or folder to be written) when it would land on a special file system or under a file. */
export function checkOutputLocation(target: string, label = target): void {
  const { existing, stats, missing } = nearestExisting(target, label);
  if (missing.length > 0 && !stats.isDirectory()) throw new FileSystemError(`cannot write ${label}: ${existing} is not a folder`);
  const special = specialFileSystemOf(existing);
  if (special) throw new FileSystemError(`cannot write ${label}: it is on ${special}, not a place for files`);
}

/**
 * mkdir -p, bounded: checks the location (checkOutputLocation), then creates each missing
 * level once. `label` names what is being written in messages (default: the folder).
 */
export function makeFolders(dir: string, label = dir): void {
  const { existing, stats, missing } = nearestExisting(dir, label);
  if (!stats.isDirectory()) throw new FileSystemError(`cannot write ${label}: ${existing} is not a folder`);
  const special = specialFileSystemOf(existing);
  if (special) throw new FileSystemError(`cannot write ${label}: it is on ${special}, not a place for files`);
  let current = existing;
  for (const name of missing) {
    current = path.join(current, name);
    try {
      mkdirSync(current);
    } catch (error) {
      const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
      if (exists && statSync(current, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw new FileSystemError(`cannot write ${label}: ${exists ? `${current} is not a folder` : systemErrorReason(error)}`);
    }
  }
}
