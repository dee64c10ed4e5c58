// The one-line description of every failure: expected errors as they are, file-system
// errors from Node as "cannot VERB PATH: cause" (never "internal error: EROFS…"), anything
// else labelled an internal error.
import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeError, FileSystemError, firstLine, isSystemError, systemErrorReason, UsageError } from './user-errors.js';

function systemError(code: string, syscall: string, filePath: string, text: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${filePath}'`), { code, syscall, path: filePath, errno: -1 });
}

describe('describeError', () => {
  it('prints expected errors as they are and others as internal errors', () => {
    expect(describeError(new UsageError('--cut expects a number'))).toBe('--cut expects a number');
    expect(describeError(new FileSystemError('cannot write /x: read-only file system\nmore'))).toBe('cannot write /x: read-only file system');
    expect(describeError(new TypeError('x is undefined'))).toBe('internal error: x is undefined');
    expect(describeError('text')).toBe('internal error: text');
  });

  it('turns a file-system error from Node into "cannot VERB PATH: cause"', () => {
    expect(describeError(systemError('EROFS', 'open', '/x', 'read-only file system'))).toBe('cannot open /x: read-only file system');
    expect(describeError(systemError('ENOSPC', 'write', '/out/head.onnx', 'no space left on device'))).toBe('cannot write /out/head.onnx: no space left on device');
    expect(describeError(systemError('EACCES', 'mkdir', '/root/x', 'permission denied'))).toBe('cannot create /root/x: permission denied');
    expect(describeError(systemError('EWEIRD', 'rename', '/a', 'something odd'))).toBe('cannot write /a: something odd');
  });

  it('describes real errors thrown by node:fs', () => {
    let caught: unknown;
    try {
      mkdirSync('/proc/neurosurgeon-test');
    } catch (error) {
      caught = error;
    }
    expect(isSystemError(caught)).toBe(true);
    expect(describeError(caught)).toBe('cannot create /proc/neurosurgeon-test: no such file or folder');
    try {
      writeFileSync('/proc/version', 'x');
    } catch (error) {
      caught = error;
    }
    // Node names no path for a failed write(2) on an open file: the callers that write wrap it with theirs.
    expect(describeError(caught)).toMatch(/^cannot (open \/proc\/version|write a file): (permission denied|operation not permitted|input\/output error)$/);
  });

  it('gives the cause in words', () => {
    expect(systemErrorReason(systemError('EROFS', 'open', '/x', 'read-only file system'))).toBe('read-only file system');
    expect(systemErrorReason(Object.assign(new Error('EFOO: foo bar, open'), { code: 'EFOO' }))).toBe('foo bar');
    expect(firstLine(new Error(' a \n b'))).toBe('a');
  });
});
