// Model files a page streams to the studio (upload.begin, upload.chunk…, upload.finish or
// upload.cancel in the contract): each chunk is written to a partial file in the studio
// home's uploads/ folder and hashed as it arrives, in order, so the page never holds the
// whole file in one message and the model id is known when the last chunk lands. The
// finished file moves to uploads/<first 16 hex digits of its SHA-256>/<file name> — one
// copy per content and name — where it opens like any file on disk, joins the recent
// files and opens again after a reload. Uploads that no recent file names any more are
// deleted (prune); partial files of uploads that were left behind are deleted on start.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export class UploadError extends Error {
  override name = 'UploadError';
}

/** protobuf's limit for one ONNX file (bigger models keep their weights in external data). */
export const MAX_UPLOAD_BYTES = 2 * 1024 ** 3;

/** An upload with no chunk for this long is given up when another one begins. */
const IDLE_LIMIT_MS = 10 * 60_000;

const PARTIAL_PREFIX = '.partial-';

interface Upload {
  id: string;
  fileName: string;
  size: number;
  received: number;
  handle: FileHandle;
  hash: Hash;
  partial: string;
  /** Chunks are written one after another, in the order they arrived. */
  chain: Promise<void>;
  cancelled: boolean;
  lastActivity: number;
}

export interface StoredUpload {
  path: string;
  fileName: string;
  sha256: string;
}

/** A file name from a page, safe to use as one path segment. */
export function safeFileName(fileName: string): string {
  const base = path.basename(fileName.replace(/\\/g, '/')).replace(/[\u0000-\u001f]/g, '');
  return base === '' || base === '.' || base === '..' ? 'model.onnx' : base;
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

export class UploadStore {
  readonly folder: string;
  private readonly uploads = new Map<string, Upload>();

  constructor(home: string) {
    this.folder = path.join(home, 'uploads');
    this.removeLeftovers();
  }

  /** True when `file` is a kept upload (under the uploads folder). */
  holds(file: string): boolean {
    return path.resolve(file).startsWith(this.folder + path.sep);
  }

  async begin(fileName: string, size: number): Promise<string> {
    const name = safeFileName(fileName);
    if (size > MAX_UPLOAD_BYTES) {
      throw new UploadError(`${name}: ${formatGiB(size)} is more than one ONNX file can hold (${formatGiB(MAX_UPLOAD_BYTES)}); open it by path instead`);
    }
    await this.dropIdle();
    mkdirSync(this.folder, { recursive: true });
    const id = randomUUID();
    const partial = path.join(this.folder, `${PARTIAL_PREFIX}${id}`);
    const handle = await open(partial, 'wx');
    this.uploads.set(id, { id, fileName: name, size, received: 0, handle, hash: createHash('sha256'), partial, chain: Promise.resolve(), cancelled: false, lastActivity: Date.now() });
    return id;
  }

  /** Queues a chunk behind the ones before it; resolves with the bytes received so far. */
  chunk(id: string, offset: number, bytes: Uint8Array): Promise<number> {
    const upload = this.get(id);
    upload.lastActivity = Date.now();
    const write = async () => {
      if (upload.cancelled) throw new UploadError(`the upload of ${upload.fileName} was cancelled`);
      if (offset !== upload.received) throw new UploadError(`${upload.fileName}: chunk at byte ${offset} arrived, byte ${upload.received} was expected next`);
      if (offset + bytes.byteLength > upload.size) throw new UploadError(`${upload.fileName}: more bytes arrived than the ${upload.size} announced`);
      let written = 0;
      while (written < bytes.byteLength) {
        const { bytesWritten } = await upload.handle.write(bytes, written, bytes.byteLength - written, offset + written);
        written += bytesWritten;
      }
      upload.hash.update(bytes);
      upload.received += bytes.byteLength;
    };
    upload.chain = upload.chain.then(write);
    return upload.chain.then(() => upload.received);
  }

  /** Waits for the chunks, checks the size and keeps the file; the upload is over either way. */
  async finish(id: string): Promise<StoredUpload> {
    const upload = this.get(id);
    try {
      await upload.chain;
      if (upload.received !== upload.size) throw new UploadError(`${upload.fileName}: the upload stopped at ${upload.received} of ${upload.size} bytes`);
      await upload.handle.close();
      const sha256 = upload.hash.digest('hex');
      const dir = path.join(this.folder, sha256.slice(0, 16));
      mkdirSync(dir, { recursive: true });
      const kept = path.join(dir, upload.fileName);
      if (existsSync(kept)) rmSync(upload.partial, { force: true });
      else renameSync(upload.partial, kept);
      return { path: kept, fileName: upload.fileName, sha256 };
    } catch (error) {
      await this.discard(upload);
      throw error;
    } finally {
      this.uploads.delete(id);
    }
  }

  /** Stops an upload and deletes what arrived of it; false when it is unknown or over. */
  async cancel(id: string): Promise<boolean> {
    const upload = this.uploads.get(id);
    if (!upload) return false;
    this.uploads.delete(id);
    await this.discard(upload);
    return true;
  }

  /** Deletes kept uploads none of `keep` (the recent files) names, and their emptied folders. */
  prune(keep: Iterable<string>): void {
    const kept = new Set([...keep].map((file) => path.resolve(file)));
    if (!existsSync(this.folder)) return;
    for (const entry of readdirSync(this.folder, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.folder, entry.name);
      for (const file of readdirSync(dir)) {
        const full = path.join(dir, file);
        if (!kept.has(full)) rmSync(full, { force: true, recursive: true });
      }
      if (readdirSync(dir).length === 0) rmdirSync(dir);
    }
  }

  async dispose(): Promise<void> {
    for (const upload of [...this.uploads.values()]) await this.cancel(upload.id);
  }

  private get(id: string): Upload {
    const upload = this.uploads.get(id);
    if (!upload) throw new UploadError(`no upload ${id.slice(0, 8)}… is in progress (it finished, was cancelled or was given up after ${IDLE_LIMIT_MS / 60_000} idle minutes)`);
    return upload;
  }

  private async discard(upload: Upload): Promise<void> {
    upload.cancelled = true;
    await upload.chain.catch(() => undefined);
    await upload.handle.close().catch(() => undefined);
    rmSync(upload.partial, { force: true });
  }

  private async dropIdle(): Promise<void> {
    const now = Date.now();
    for (const upload of [...this.uploads.values()]) if (now - upload.lastActivity > IDLE_LIMIT_MS) await this.cancel(upload.id);
  }

  /** Partial files of uploads a previous run left behind. */
  private removeLeftovers(): void {
    if (!existsSync(this.folder)) return;
    for (const name of readdirSync(this.folder)) if (name.startsWith(PARTIAL_PREFIX)) rmSync(path.join(this.folder, name), { force: true });
  }
}
