// The safe reader on real special files: a FIFO and /dev/zero are refused at once (no
// hang, no memory), a folder and a missing file get one line, a size bound is kept, and
// a regular file is read whole; the caller's error type carries every message.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegularFileSync, readRegularFile, readRegularFileSync, readRegularTextFile, regularFileSize } from './regular-file.js';

class CallerError extends Error {
  override name = 'CallerError';
}
const makeError = (message: string) => new CallerError(message);

let dir: string;
let fifo: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'regular-file-'));
  writeFileSync(path.join(dir, 'data.bin'), Buffer.from([1, 2, 3, 4, 5]));
  writeFileSync(path.join(dir, 'empty.json'), '');
  mkdirSync(path.join(dir, 'folder.onnx'));
  fifo = path.join(dir, 'x.onnx');
  execFileSync('mkfifo', [fifo]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readRegularFile', () => {
  it('reads a regular file whole, and an empty one as nothing', async () => {
    expect([...(await readRegularFile(path.join(dir, 'data.bin')))]).toEqual([1, 2, 3, 4, 5]);
    expect([...readRegularFileSync(path.join(dir, 'data.bin'))]).toEqual([1, 2, 3, 4, 5]);
    expect(await readRegularTextFile(path.join(dir, 'empty.json'))).toBe('');
    expect(regularFileSize(path.join(dir, 'data.bin'))).toBe(5);
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const started = performance.now();
    await expect(readRegularFile(fifo, { makeError })).rejects.toThrow(new CallerError(`${fifo}: is a FIFO (named pipe), not a regular file`));
    expect(() => readRegularFileSync(fifo, { makeError })).toThrow(/is a FIFO \(named pipe\), not a regular file$/);
    expect(() => openRegularFileSync(fifo, { makeError })).toThrow(CallerError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('refuses /dev/zero before reading a byte', async () => {
    const before = process.memoryUsage().rss;
    await expect(readRegularFile('/dev/zero', { makeError, label: 'zero.onnx' })).rejects.toThrow('zero.onnx: is a character device, not a regular file');
    expect(() => regularFileSize('/dev/null')).toThrow(expect.objectContaining({ name: 'FileSystemError', message: '/dev/null: is a character device, not a regular file' }));
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it('names a folder, a missing file, and a file over the size bound in one line', async () => {
    await expect(readRegularFile(path.join(dir, 'folder.onnx'), { makeError, label: 'folder.onnx' })).rejects.toThrow(/^folder\.onnx: is a folder, not a file$/);
    await expect(readRegularFile(path.join(dir, 'missing.onnx'), { makeError, label: 'missing.onnx' })).rejects.toThrow(/^missing\.onnx: no such file$/);
    await expect(readRegularFile(path.join(dir, 'data.bin'), { makeError, label: 'data.bin', maxBytes: 4, what: 'a partition config' })).rejects.toThrow(
      'data.bin: is 5 bytes, over the 4 bytes a partition config may have'
    );
    expect(() => readRegularFileSync(path.join(dir, 'data.bin'), { maxBytes: 4 })).toThrow(expect.objectContaining({ name: 'FileSystemError' }));
  });

  it('opens a regular file for partial reads with its size', () => {
    const { fd, size } = openRegularFileSync(path.join(dir, 'data.bin'));
    expect(size).toBe(5);
    closeSync(fd);
  });
});
