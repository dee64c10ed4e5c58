// Where and how the tools write: special file systems refused at once (Node's recursive
// mkdir loops forever on /proc/x), folders created level by level, and sets of files that
// land together or not at all, putting back what was there when one of them fails.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFilesAtomic, writeFolderAtomic } from './atomic-write.js';
import { checkOutputLocation, makeFolders, specialFileSystemOf } from './output-path.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'atomic-write-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('output locations', () => {
  it('knows procfs, sysfs and device files, and not an ordinary folder', () => {
    expect(specialFileSystemOf('/proc')).toMatch(/^procfs, a special file system/);
    expect(specialFileSystemOf('/proc/self')).toMatch(/^procfs/);
    expect(specialFileSystemOf('/sys')).toMatch(/^sysfs/);
    expect(specialFileSystemOf('/dev')).toMatch(/device files/);
    expect(specialFileSystemOf(dir)).toBeNull();
  });

  it('refuses to create folders there, at once, naming the path and the cause', () => {
    const started = performance.now();
    expect(() => makeFolders('/proc/neurosurgeon/a/b')).toThrow(
      expect.objectContaining({ name: 'FileSystemError', message: 'cannot write /proc/neurosurgeon/a/b: it is on procfs, a special file system (process information), not a place for files' })
    );
    expect(() => checkOutputLocation('/sys/kernel/x')).toThrow(/cannot write \/sys\/kernel\/x: it is on sysfs/);
    expect(() => writeFileAtomic('/dev/neurosurgeon.json', '{}')).toThrow(/cannot write \/dev\/neurosurgeon\.json: it is on the device folder/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('creates missing folders level by level, and names a file in the way', () => {
    makeFolders(path.join(dir, 'a', 'b', 'c'));
    expect(existsSync(path.join(dir, 'a', 'b', 'c'))).toBe(true);
    writeFileSync(path.join(dir, 'plain'), 'x');
    expect(() => makeFolders(path.join(dir, 'plain', 'x'))).toThrow(`cannot write ${path.join(dir, 'plain', 'x')}: ${path.join(dir, 'plain')} is not a folder`);
  });
});

describe('atomic writes', () => {
  it('writes a file, and refuses to put one where a folder is', () => {
    const target = path.join(dir, 'one', 'file.json');
    writeFileAtomic(target, '{"a": 1}');
    expect(readFileSync(target, 'utf8')).toBe('{"a": 1}');
    mkdirSync(path.join(dir, 'one', 'folder.json'));
    expect(() => writeFileAtomic(path.join(dir, 'one', 'folder.json'), '{}')).toThrow(/it is a folder$/);
    expect(readdirSync(path.join(dir, 'one')).sort()).toEqual(['file.json', 'folder.json']);
  });

  it('lands a set of files together, or leaves every old one as it was', () => {
    const set = path.join(dir, 'set');
    writeFilesAtomic([
      { target: path.join(set, 'head.onnx'), data: 'head 1' },
      { target: path.join(set, 'tail.onnx'), data: 'tail 1' },
      { target: path.join(set, 'partition.json'), data: 'config 1' }
    ]);
    // The last rename fails (a folder with something in it holds the name): the first two are put back.
    rmSync(path.join(set, 'partition.json'));
    mkdirSync(path.join(set, 'partition.json', 'x'), { recursive: true });
    expect(() =>
      writeFilesAtomic([
        { target: path.join(set, 'head.onnx'), data: 'head 2' },
        { target: path.join(set, 'tail.onnx'), data: 'tail 2' },
        { target: path.join(set, 'partition.json'), data: 'config 2' }
      ])
    ).toThrow(expect.objectContaining({ name: 'FileSystemError' }));
    expect(readFileSync(path.join(set, 'head.onnx'), 'utf8')).toBe('head 1');
    expect(readFileSync(path.join(set, 'tail.onnx'), 'utf8')).toBe('tail 1');
    expect(readdirSync(set).sort()).toEqual(['head.onnx', 'partition.json', 'tail.onnx']);
    rmSync(path.join(set, 'partition.json'), { recursive: true });
    // Files that must not remain go too, once the others are in place.
    writeFilesAtomic([{ target: path.join(set, 'partition.json'), data: 'config 3' }], { remove: [path.join(set, 'head.onnx')] });
    expect(readdirSync(set).sort()).toEqual(['partition.json', 'tail.onnx']);
  });

  it('swaps a folder in whole', () => {
    const target = path.join(dir, 'export');
    writeFolderAtomic(target, new Map([['a.txt', 'A'], ['sub/b.txt', 'B']]));
    writeFolderAtomic(target, new Map([['c.txt', 'C']]));
    expect(readdirSync(target)).toEqual(['c.txt']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(() => writeFolderAtomic('/proc/neurosurgeon-export', new Map([['a', 'b']]))).toThrow(/it is on procfs/);
  });
});
