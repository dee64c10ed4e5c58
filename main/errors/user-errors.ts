// main/errors/ — the lowest room: the error types every other room reports through.
//
// The errors a user can cause, and how every room of main/ turns a failure into one line:
// UsageError for bad requests, the names of the other expected error types (each room
// declares its own class; they print as they are), and anything else labelled an internal
// error. The CLI prints these lines (main/cli/errors.ts); the studio sends them to the page.
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file or folder that cannot be read or written: "cannot write /x: read-only file system". */
export class FileSystemError extends Error {
  override name = 'FileSystemError';
}

const expectedErrorNames = new Set([
  'UsageError',
  'AffinityError',
  'GraphStructureError',
  'FileSystemError',
  'QuantizationError',
  'QuantizeError',
  'QuantizedModelError',
  'ExportError',
  'ExportCancelledError',
  'PartitionConfigError',
  'BandwidthTraceError',
  'ModelFileError',
  'OnnxFormatError',
  'SurgeryError',
  'WireEncodingError',
  'InputSpecError',
  'RuntimeShapeError',
  'PartitionError',
  'PartitionProblemError',
  'ZooError',
  'UnknownPresetError',
  'PowerProfileError',
  'LatencySourceError',
  'ProfileError',
  'ProfileCancelledError',
  'ProviderError',
  'InputFileError',
  'TraceFormatError',
  'ProfileMixError',
  'DeviceProfileError',
  'CharacterizeCancelledError',
  'CharacterizeError',
  'ContractError',
  'WireError',
  'ExecutorUnavailableError',
  'ExecutorConnectError',
  'ExecutorStartError',
  'WebHostError',
  'SplitRunError',
  'SweepInterruptedError',
  'SplitPredictionError',
  'TensorConversionError',
  'ExecutorError',
  'ExecutorProcessError',
  'FleetInputError',
  'FleetCancelledError'
]);

/** The first line of an error's message, trimmed. */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0].trim();
}

/** What the operating system's error codes mean, in words (Node's own messages, without the code). */
const systemReasons: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'folder not empty',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENAMETOOLONG: 'name too long',
  ELOOP: 'too many levels of symbolic links',
  EIO: 'input/output error',
  EXDEV: 'cannot move across file systems',
  EBUSY: 'resource busy',
  ETXTBSY: 'file busy',
  EINVAL: 'invalid argument',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  EAGAIN: 'resource temporarily unavailable',
  ESPIPE: 'not a seekable file'
};

/** A Node error that came from the operating system (fs, net): it has an E… code and a syscall. */
export function isSystemError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((error as NodeJS.ErrnoException).code as string) && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** The cause of a system error in words: "read-only file system", not "EROFS: read-only file system, open '/x'". */
export function systemErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && systemReasons[code]) return systemReasons[code];
  const message = error instanceof Error ? error.message : String(error);
  const described = /^[A-Z0-9_]+: ([^,]+)/.exec(message)?.[1];
  return (described ?? (typeof code === 'string' ? code : firstLine(error))).trim().toLowerCase();
}

const syscallVerbs: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create',
  rename: 'write',
  copyfile: 'write',
  unlink: 'remove',
  rmdir: 'remove',
  rm: 'remove',
  scandir: 'read',
  stat: 'read',
  lstat: 'read',
  fstat: 'read',
  access: 'read',
  realpath: 'read',
  readlink: 'read',
  chmod: 'change',
  utime: 'change'
};

/** One line for a user: an expected error as it is, a file-system error as "cannot VERB PATH: cause", anything else as an internal error. */
export function describeError(error: unknown): string {
  if (isSystemError(error) && (typeof error.path === 'string' || (error.syscall as string) in syscallVerbs)) {
    const verb = syscallVerbs[error.syscall as string] ?? error.syscall;
    // Node names no path for read and write calls on an open file; the callers that write wrap those.
    return `cannot ${verb} ${typeof error.path === 'string' ? error.path : 'a file'}: ${systemErrorReason(error)}`;
  }
  if (error instanceof Error) {
    const line = error.message.split('\n')[0].trim();
    return expectedErrorNames.has(error.name) ? line : `internal error: ${line}`;
  }
  return `internal error: ${String(error)}`;
}
