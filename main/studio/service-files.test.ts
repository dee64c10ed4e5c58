// Opening models the page's new ways, on the real service: streaming a file in chunks
// (kept in the studio home, a recent file like any other, that opens again by its path
// after a reload; out-of-order chunks, short uploads and cancels refused and cleaned up;
// uploads no recent file names any more deleted), listing folders for the path field
// (home and recent folders only, no way out through a symbolic link), and refusing to
// read anything but a regular file.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FolderListing, OpenedModel, RecentFile } from '../../app/studio/contract.js';
import { defaultZooDir } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import type { ExecutorConnector } from './executor-link.js';
import { StudioService } from './service.js';

const noExecutor: ExecutorConnector = () => {
  throw new Error('no executor in this test');
};

let work: string;
let lenet: Uint8Array;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'studio-files-'));
  lenet = new Uint8Array(readFileSync(ensureZooModel('lenet', defaultZooDir())));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeService(userHome = path.join(work, 'user')): { service: StudioService; home: string } {
  const home = mkdtempSync(path.join(work, 'home-'));
  mkdirSync(userHome, { recursive: true });
  return { service: new StudioService({ host: 'web', home, connect: noExecutor, supervisor: null, userHome, log: () => undefined }), home };
}

/** Streams `bytes` as the page does, in chunks of `chunk` bytes, all sent before any answer. */
async function upload(service: StudioService, fileName: string, bytes: Uint8Array, chunk = 64 * 1024): Promise<OpenedModel> {
  const { uploadId } = (await service.handle('upload.begin', { fileName, bytes: bytes.byteLength })) as { uploadId: string };
  const sent: Promise<unknown>[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += chunk) {
    sent.push(service.handle('upload.chunk', { uploadId, offset, bytes: bytes.subarray(offset, Math.min(offset + chunk, bytes.byteLength)) }));
  }
  await Promise.all(sent);
  return (await service.handle('upload.finish', { uploadId })) as OpenedModel;
}

function partials(home: string): string[] {
  const folder = path.join(home, 'uploads');
  return existsSync(folder) ? readdirSync(folder).filter((name) => name.startsWith('.partial-')) : [];
}

describe('uploads in chunks', () => {
  it('keeps the file in the studio home, lists it among the recent files and opens it again by path', async () => {
    const { service, home } = makeService();
    const opened = await upload(service, 'C:\\Users\\me\\lenet upload.onnx', lenet);
    expect(opened.model.fileName).toBe('lenet upload.onnx');
    expect(opened.source.kind).toBe('upload');
    expect(opened.source.label).toBe('lenet upload.onnx');
    const kept = opened.source.path ?? '';
    expect(kept.startsWith(path.join(home, 'uploads') + path.sep)).toBe(true);
    // The model opened from memory; its kept copy lands on disk whole.
    await service.uploads.whenWritten(kept);
    expect(new Uint8Array(readFileSync(kept))).toEqual(lenet);
    expect(partials(home)).toEqual([]);
    const recent = (await service.handle('model.recent', {})) as RecentFile[];
    expect(recent[0]).toMatchObject({ path: kept, fileName: 'lenet upload.onnx', uploaded: true });

    // A reload opens it by the path the page remembered: the same model, still an upload.
    const again = (await service.handle('model.openPath', { path: kept })) as OpenedModel;
    expect(again.model.id).toBe(opened.model.id);
    expect(again.source).toEqual({ kind: 'upload', label: 'lenet upload.onnx', path: kept });

    // The same bytes uploaded again are kept once.
    const twice = await upload(service, 'lenet upload.onnx', lenet, 1 << 20);
    expect(twice.source.path).toBe(kept);
    await service.uploads.whenWritten(kept);
    expect(readdirSync(path.dirname(kept))).toEqual(['lenet upload.onnx']);
    await service.dispose();
  });

  it('takes chunks in any order but refuses overlapping ones, a short upload and an unknown one, and keeps nothing of them', async () => {
    const { service, home } = makeService();
    // Out of order is fine (a few chunks travel at once): the same model opens.
    const half = 800_000;
    const mixed = (await service.handle('upload.begin', { fileName: 'mixed.onnx', bytes: lenet.byteLength })) as { uploadId: string };
    await service.handle('upload.chunk', { uploadId: mixed.uploadId, offset: half, bytes: lenet.subarray(half) });
    await service.handle('upload.chunk', { uploadId: mixed.uploadId, offset: 0, bytes: lenet.subarray(0, half) });
    const opened = (await service.handle('upload.finish', { uploadId: mixed.uploadId })) as OpenedModel;
    expect(opened.model.nodes.length).toBeGreaterThan(5);
    await service.uploads.whenWritten(opened.source.path ?? '');

    const { uploadId } = (await service.handle('upload.begin', { fileName: 'lenet.onnx', bytes: lenet.byteLength })) as { uploadId: string };
    await service.handle('upload.chunk', { uploadId, offset: 1000, bytes: lenet.subarray(1000, 2000) });
    await expect(service.handle('upload.chunk', { uploadId, offset: 1500, bytes: lenet.subarray(1500, 2500) })).rejects.toMatchObject({
      name: 'UploadError',
      message: 'lenet.onnx: the chunk at byte 1500 overlaps one that arrived before'
    });
    await expect(service.handle('upload.finish', { uploadId })).rejects.toMatchObject({ name: 'UploadError' });
    expect(partials(home)).toEqual([]);

    const short = (await service.handle('upload.begin', { fileName: 'short.onnx', bytes: lenet.byteLength })) as { uploadId: string };
    await service.handle('upload.chunk', { uploadId: short.uploadId, offset: 0, bytes: lenet.subarray(0, 4096) });
    await expect(service.handle('upload.finish', { uploadId: short.uploadId })).rejects.toThrow(`short.onnx: the upload stopped at 4096 of ${lenet.byteLength} bytes`);
    await expect(service.handle('upload.chunk', { uploadId: short.uploadId, offset: 4096, bytes: lenet.subarray(4096, 5000) })).rejects.toThrow(/no upload .* is in progress/);
    await expect(service.handle('upload.begin', { fileName: 'huge.onnx', bytes: 3 * 1024 ** 3 })).rejects.toThrow('huge.onnx: 3.0 GiB is more than one ONNX file can hold (2.0 GiB); open it by path instead');
    expect(partials(home)).toEqual([]);
    expect(((await service.handle('model.recent', {})) as RecentFile[]).map((entry) => entry.fileName)).toEqual(['mixed.onnx']);
    await service.dispose();
  });

  it('cancels an upload halfway, keeping nothing of it', async () => {
    const { service, home } = makeService();
    const { uploadId } = (await service.handle('upload.begin', { fileName: 'lenet.onnx', bytes: lenet.byteLength })) as { uploadId: string };
    await service.handle('upload.chunk', { uploadId, offset: 0, bytes: lenet.subarray(0, 100_000) });
    expect(await service.handle('upload.cancel', { uploadId })).toEqual({ cancelled: true });
    expect(partials(home)).toEqual([]);
    expect(existsSync(path.join(home, 'uploads')) ? readdirSync(path.join(home, 'uploads')) : []).toEqual([]);
    expect(await service.handle('upload.cancel', { uploadId })).toEqual({ cancelled: false });
    await expect(service.handle('upload.chunk', { uploadId, offset: 100_000, bytes: lenet.subarray(100_000, 200_000) })).rejects.toMatchObject({ name: 'UploadError' });
    await service.dispose();
  });

  it('deletes kept uploads once no recent file names them', async () => {
    const { service, home } = makeService();
    const first = await upload(service, 'first.onnx', lenet);
    const kept = first.source.path ?? '';
    const other = path.join(work, 'other.onnx');
    writeFileSync(other, lenet);
    await service.uploads.whenWritten(kept);
    // Ten newer files push the upload out of the recent list (it holds ten).
    for (let i = 0; i < 10; i++) {
      const file = path.join(work, `recent-${i}.onnx`);
      copyFileSync(other, file);
      await service.handle('model.openPath', { path: file });
    }
    const recent = (await service.handle('model.recent', {})) as RecentFile[];
    expect(recent.some((entry) => entry.path === kept)).toBe(false);
    expect(existsSync(kept)).toBe(false);
    expect(readdirSync(path.join(home, 'uploads'))).toEqual([]);
    await service.dispose();
  });

  it('removes partial copies a previous run left behind', async () => {
    const { service, home } = makeService();
    await service.dispose();
    // A crash while a kept copy was being written leaves a partial file.
    mkdirSync(path.join(home, 'uploads'), { recursive: true });
    writeFileSync(path.join(home, 'uploads', '.partial-0f6c'), lenet.subarray(0, 1000));
    expect(partials(home)).toHaveLength(1);
    const next = new StudioService({ host: 'web', home, connect: noExecutor, supervisor: null, log: () => undefined });
    expect(partials(home)).toEqual([]);
    await next.dispose();
  });

  it('opens an upload again by path right after it, waiting for its copy to be written', async () => {
    const { service } = makeService();
    const opened = await upload(service, 'quick.onnx', lenet);
    // No waiting here: a reload comes at once.
    const again = (await service.handle('model.openPath', { path: opened.source.path ?? '' })) as OpenedModel;
    expect(again.model.id).toBe(opened.model.id);
    await service.dispose();
  });
});

describe('folder listings for the path field', () => {
  it('starts at the home folder and the folders of recent files, and lists subfolders and .onnx files only', async () => {
    const user = path.join(work, 'lister');
    mkdirSync(path.join(user, 'models', 'vision'), { recursive: true });
    mkdirSync(path.join(user, '.cache'), { recursive: true });
    writeFileSync(path.join(user, 'models', 'b.onnx'), lenet);
    writeFileSync(path.join(user, 'models', 'A.ONNX'), 'x');
    writeFileSync(path.join(user, 'models', 'notes.txt'), 'x');
    writeFileSync(path.join(user, 'models', '.hidden.onnx'), 'x');
    const elsewhere = mkdtempSync(path.join(work, 'elsewhere-'));
    writeFileSync(path.join(elsewhere, 'far.onnx'), lenet);
    const { service } = makeService(user);

    const roots = (await service.handle('files.list', { dir: '' })) as FolderListing;
    expect(roots).toEqual({ dir: '', parent: null, entries: [{ name: user, path: user, kind: 'folder', bytes: null }], truncated: false });

    const models = (await service.handle('files.list', { dir: path.join(user, 'models') })) as FolderListing;
    expect(models.parent).toBe(user);
    expect(models.entries).toEqual([
      { name: 'vision', path: path.join(user, 'models', 'vision'), kind: 'folder', bytes: null },
      { name: 'A.ONNX', path: path.join(user, 'models', 'A.ONNX'), kind: 'model', bytes: 1 },
      { name: 'b.onnx', path: path.join(user, 'models', 'b.onnx'), kind: 'model', bytes: lenet.byteLength }
    ]);
    expect(((await service.handle('files.list', { dir: user })) as FolderListing).parent).toBe('');

    // Outside: refused, until a recent file lives there.
    await expect(service.handle('files.list', { dir: elsewhere })).rejects.toMatchObject({
      name: 'FolderListingError',
      message: `${elsewhere}: only your home folder and the folders of recent files can be browsed; type a file's full path to open it`
    });
    await service.handle('model.openPath', { path: path.join(elsewhere, 'far.onnx') });
    expect(((await service.handle('files.list', { dir: '' })) as FolderListing).entries.map((entry) => entry.path)).toEqual([user, elsewhere]);
    expect(((await service.handle('files.list', { dir: elsewhere })) as FolderListing).entries.map((entry) => entry.name)).toEqual(['far.onnx']);
    await expect(service.handle('files.list', { dir: path.join(user, 'nope') })).rejects.toThrow(`${path.join(user, 'nope')}: no such folder`);
    await service.dispose();
  });

  it('does not follow a symbolic link out of the allowed folders', async () => {
    const user = path.join(work, 'linker');
    mkdirSync(user, { recursive: true });
    const outside = mkdtempSync(path.join(work, 'outside-'));
    writeFileSync(path.join(outside, 'secret.onnx'), 'x');
    symlinkSync(outside, path.join(user, 'escape'));
    const { service } = makeService(user);
    const listing = (await service.handle('files.list', { dir: user })) as FolderListing;
    // The link is shown (it points to a folder) but cannot be listed.
    expect(listing.entries.map((entry) => entry.name)).toEqual(['escape']);
    await expect(service.handle('files.list', { dir: path.join(user, 'escape') })).rejects.toMatchObject({ name: 'FolderListingError' });
    await service.dispose();
  });
});

describe('regular files only', () => {
  it('refuses a device, a FIFO and a folder given as a model path, at once and in one line', async () => {
    const { service } = makeService();
    const fifo = path.join(work, 'pipe.onnx');
    execFileSync('mkfifo', [fifo]);
    const started = performance.now();
    await expect(service.handle('model.openPath', { path: fifo })).rejects.toMatchObject({
      name: 'ModelFileError',
      message: `${fifo}: is a FIFO (named pipe), not a regular file`
    });
    await expect(service.handle('model.openPath', { path: '/dev/zero' })).rejects.toThrow('/dev/zero: is a character device, not a regular file');
    await expect(service.handle('model.openPath', { path: work })).rejects.toThrow(`${work}: is a folder, not a file`);
    await expect(service.handle('partition.import', { path: fifo })).rejects.toMatchObject({ name: 'PartitionConfigError', message: expect.stringContaining('is a FIFO (named pipe), not a regular file') });
    // Nothing waited for a writer on the FIFO.
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await service.handle('model.recent', {})).toEqual([]);
    await service.dispose();
  });
});
