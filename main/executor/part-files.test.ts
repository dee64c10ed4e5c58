// The executor's folder of part files (part-files.ts): a kept model is written once however
// many parts reference it, the file of a model the SourceStore let go is removed when the
// next one is written, closing removes the folder, and a source file is written whole in
// chunks (the chunking's reason, the page cache's 2-MiB pieces, is measured by the bench's
// upload-once sweeps, not here).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartFiles, SOURCE_WRITE_BYTES, writeInChunks } from './part-files.js';

describe('part files', () => {
  it('writes a file in chunks, every byte in its place, whether or not its size is a multiple of the chunk', async () => {
    expect(SOURCE_WRITE_BYTES % (2 * 2 ** 20)).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ns-chunks-test-'));
    try {
      for (const size of [0, 1, 4095, 4096, 4097, 3 * 4096, 3 * 4096 + 17]) {
        const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 31 + size) % 251);
        const file = path.join(dir, `f-${size}`);
        writeFileSync(file, 'left from before, longer than some of the sizes written over it '.repeat(400));
        await writeInChunks(file, bytes, 4096);
        expect(readFileSync(file).equals(Buffer.from(bytes))).toBe(true);
      }
      const view = new Uint8Array(Uint8Array.from({ length: 10_000 }, (_, i) => i % 256).buffer, 1000, 5000);
      await writeInChunks(path.join(dir, 'view'), view, 4096);
      expect(readFileSync(path.join(dir, 'view')).equals(Buffer.from(view))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes each kept model once, drops the ones let go, and removes its folder on close', async () => {
    const kept = new Set(['a'.repeat(64), 'b'.repeat(64)]);
    const files = new PartFiles((sha256) => kept.has(sha256));
    const first = await files.sourceFile('a'.repeat(64), Uint8Array.from([1, 2, 3]));
    expect(await files.sourceFile('a'.repeat(64), Uint8Array.from([9]))).toBe(first);
    const part = await files.writePart(Uint8Array.from([4, 5]));
    expect(readFileSync(part.path)).toEqual(Buffer.from([4, 5]));
    expect(part.sha256).toMatch(/^[0-9a-f]{64}$/);
    const folder = path.dirname(part.path);
    expect(readFileSync(path.join(folder, first))).toEqual(Buffer.from([1, 2, 3]));
    kept.delete('a'.repeat(64));
    await files.sourceFile('b'.repeat(64), Uint8Array.from([6]));
    expect(files.files()).toEqual([`${'b'.repeat(64)}.source.onnx`, path.basename(part.path)]);
    files.close();
    expect(existsSync(folder)).toBe(false);
  });

  it('removes a folder left by a process that was killed, and leaves a live process’s folder alone', async () => {
    const prefix = `ns-part-files-test-${process.pid}-`;
    // A pid that surely ran and is gone: a child that has exited.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid as number;
    const orphan = path.join(os.tmpdir(), `${prefix}${gone}-abc`);
    const alive = path.join(os.tmpdir(), `${prefix}${process.ppid}-abc`);
    for (const dir of [orphan, alive]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'x.source.onnx'), 'x');
    }
    const files = new PartFiles(() => true, prefix);
    await files.writePart(Uint8Array.from([1]));
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(alive)).toBe(true);
    files.close();
    rmSync(alive, { recursive: true, force: true });
  });
});
