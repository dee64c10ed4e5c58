// zipFolder on a real folder: every regular file, under the folder's name, byte for byte;
// links are left out; a file larger than the stream's buffer arrives whole.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { filesUnder, zipFolder } from './zip-folder.js';

const work = mkdtempSync(path.join(tmpdir(), 'zip-folder-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function collect(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

describe('zipFolder', () => {
  it('zips every regular file under the folder name, byte for byte, without links', async () => {
    const dir = path.join(work, 'export-a');
    mkdirSync(path.join(dir, 'repository', 'm', '1'), { recursive: true });
    const big = new Uint8Array(5 * 1024 * 1024).map((_, i) => (i * 7919) % 251);
    writeFileSync(path.join(dir, 'repository', 'm', '1', 'model.onnx'), big);
    writeFileSync(path.join(dir, 'partition.json'), '{"a": 1}\n');
    writeFileSync(path.join(dir, 'empty.txt'), '');
    symlinkSync('/etc/passwd', path.join(dir, 'link'));
    expect(filesUnder(dir)).toEqual(['empty.txt', 'partition.json', path.join('repository', 'm', '1', 'model.onnx')]);
    const entries = unzipSync(await collect(zipFolder(dir)));
    expect(Object.keys(entries).sort()).toEqual(['export-a/empty.txt', 'export-a/partition.json', 'export-a/repository/m/1/model.onnx']);
    expect(Buffer.from(entries['export-a/repository/m/1/model.onnx']).equals(Buffer.from(big))).toBe(true);
    expect(new TextDecoder().decode(entries['export-a/partition.json'])).toBe('{"a": 1}\n');
    expect(entries['export-a/empty.txt']).toHaveLength(0);
  });
});
