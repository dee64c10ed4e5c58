// The executor's folder of part files (part-files.ts): a kept model is written once however
// many parts reference it, the file of a model the SourceStore let go is removed when the
// next one is written, and closing removes the folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PartFiles } from './part-files.js';

describe('part files', () => {
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
