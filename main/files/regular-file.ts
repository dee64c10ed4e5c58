// Reading a file a user points at, safely: it is opened without blocking (a FIFO named
// x.onnx does not hang the open), checked to be a regular file on the opened handle
// (fstat, so a path swapped between check and open cannot slip a device in), and read
// up to the size that fstat gave, never past it (/dev/zero and friends are refused
// before one byte is read; a file that grows meanwhile is read as it was). Every refusal
// is one line naming the file and the cause, as the caller's own error type. Every file
// the CLI or the studio reads on a user's behalf comes through here: models and their
// external data (main/model/model-file.ts), JSON documents (json-file.ts: profiles, device
// and power profiles), input tensors, partition.json, the studio's preferences.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as bufferConstants } from 'node:buffer';
import { FileSystemError, systemErrorReason } from '../errors/user-errors.js';

/** Read-only, and never blocking on a FIFO or a terminal at open time. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

export interface RegularFileOptions {
  /** How the file is named in messages (default: the path as given). */
  label?: string;
  /** Largest size accepted, bytes; a larger file is refused before it is read. */
  maxBytes?: number;
  /** What the file is, for the size message ("a partition config"). */
  what?: string;
  /** The caller's own error type (default FileSystemError). */
  makeError?: (message: string) => Error;
  /** Called with each slice read, in order, while the next slice is being read (to hash it on the way). */
  onSlice?: (slice: Uint8Array) => void;
}

/** Slice size when the caller looks at the bytes as they arrive. */
const READ_SLICE_BYTES = 16 << 20;

/** What a non-regular file is, for the refusal: "is a FIFO (named pipe)". */
export function fileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

function openFailure(label: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${label}: no such file`;
  if (code === 'EISDIR') return `${label}: is a folder, not a file`;
  return `${label}: cannot read (${systemErrorReason(error)})`;
}

/** Why a file is refused (not a regular file, or over the size limit), or null. */
function refusal(stats: Stats, label: string, limit: number, what: string | undefined): string | null {
  if (stats.isDirectory()) return `${label}: is a folder, not a file`;
  if (!stats.isFile()) return `${label}: is ${fileKind(stats)}, not a regular file`;
  if (stats.size > limit) return `${label}: is ${stats.size} bytes, over the ${limit} bytes ${what ? `${what} may have` : 'that can be read at once'}`;
  return null;
}

function errorMaker(options: RegularFileOptions): (message: string) => Error {
  return options.makeError ?? ((message: string) => new FileSystemError(message));
}

function wholeFileLimit(options: RegularFileOptions): number {
  return Math.min(options.maxBytes ?? Infinity, bufferConstants.MAX_LENGTH);
}

/** Reads a regular file whole, at most the size fstat gave when it was opened. */
export async function readRegularFile(filePath: string, options: RegularFileOptions = {}): Promise<Buffer> {
  const label = options.label ?? filePath;
  const makeError = errorMaker(options);
  let handle;
  try {
    handle = await open(filePath, OPEN_FLAGS);
  } catch (error) {
    throw makeError(openFailure(label, error));
  }
  try {
    let stats: Stats;
    try {
      stats = await handle.stat();
    } catch (error) {
      throw makeError(`${label}: cannot read (${systemErrorReason(error)})`);
    }
    const problem = refusal(stats, label, wholeFileLimit(options), options.what);
    if (problem) throw makeError(problem);
    const buffer = Buffer.allocUnsafe(stats.size);
    let offset = 0;
    const slice = options.onSlice ? READ_SLICE_BYTES : stats.size;
    try {
      let pending = stats.size > 0 ? handle.read(buffer, 0, Math.min(slice, stats.size), 0) : null;
      while (pending) {
        const { bytesRead } = await pending;
        if (bytesRead === 0) break;
        const start = offset;
        offset += bytesRead;
        pending = offset < stats.size ? handle.read(buffer, offset, Math.min(slice, stats.size - offset), offset) : null;
        options.onSlice?.(buffer.subarray(start, offset));
      }
    } catch (error) {
      throw makeError(`${label}: cannot read (${systemErrorReason(error)})`);
    }
    return offset === stats.size ? buffer : buffer.subarray(0, offset);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readRegularFile as UTF-8 text. */
export async function readRegularTextFile(filePath: string, options: RegularFileOptions = {}): Promise<string> {
  return (await readRegularFile(filePath, options)).toString('utf8');
}

/** Opens a file without blocking and checks it on its descriptor; the caller closes the descriptor. */
function openChecked(filePath: string, options: RegularFileOptions, limit: number): { fd: number; size: number } {
  const label = options.label ?? filePath;
  const makeError = errorMaker(options);
  let fd: number;
  try {
    fd = openSync(filePath, OPEN_FLAGS);
  } catch (error) {
    throw makeError(openFailure(label, error));
  }
  let problem: string | null;
  let size = 0;
  try {
    const stats = fstatSync(fd);
    size = stats.size;
    problem = refusal(stats, label, limit, options.what);
  } catch (error) {
    problem = `${label}: cannot read (${systemErrorReason(error)})`;
  }
  if (problem) {
    closeSync(fd);
    throw makeError(problem);
  }
  return { fd, size };
}

/** The synchronous twin of readRegularFile (the studio's preferences are read at start-up). */
export function readRegularFileSync(filePath: string, options: RegularFileOptions = {}): Buffer {
  const { fd, size } = openChecked(filePath, options, wholeFileLimit(options));
  try {
    const buffer = Buffer.allocUnsafe(size);
    let offset = 0;
    while (offset < size) {
      const bytesRead = readSync(fd, buffer, offset, size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === size ? buffer : buffer.subarray(0, offset);
  } catch (error) {
    throw errorMaker(options)(`${options.label ?? filePath}: cannot read (${systemErrorReason(error)})`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a regular file for reads of parts of it (external data): its descriptor and the
 * size fstat gave (reads must stay within it). The caller closes the descriptor.
 */
export function openRegularFileSync(filePath: string, options: RegularFileOptions = {}): { fd: number; size: number } {
  return openChecked(filePath, options, options.maxBytes ?? Number.MAX_SAFE_INTEGER);
}

/** The size of a regular file (checked on an opened handle, as above). */
export function regularFileSize(filePath: string, options: RegularFileOptions = {}): number {
  const { fd, size } = openRegularFileSync(filePath, options);
  closeSync(fd);
  return size;
}
