// Model files a page streams to the studio (upload.begin, upload.chunk…, upload.finish or
// upload.cancel in the contract): each chunk is copied into the file's buffer at its
// offset as it arrives — a few travel at once, so they may arrive out of order; one that
// overlaps another is refused — and the file is hashed as its front fills up, so the page
// never sends the whole file in one message and the model id is known when the last
// chunk lands. The finished bytes open straight from
// memory (no second read), while a copy is written to uploads/<first 16 hex digits of
// its SHA-256>/<file name> — one copy per content and name; written to a partial file
// and renamed, so it is whole or absent — where it opens like any file on disk, joins the
// recent files and opens again after a reload (`written` says when it is there). Uploads
// that no recent file names any more are deleted (prune); partial files a previous run
// left behind are deleted on start.
import { createHash, randomUUID, type Hash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
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
  bytes: Uint8Array;
  hash: Hash;
  /** Bytes 0..hashed are in and hashed. */
  hashed: number;
  /** Chunks in beyond `hashed`: offset → length. */
  ahead: Map<number, number>;
  /** Why the upload cannot finish (a chunk out of order, too many bytes), once it cannot. */
  broken: string | null;
  lastActivity: number;
}

export interface StoredUpload {
  /** Where the kept copy is (or will be, once `written` resolves). */
  path: string;
  fileName: string;
  sha256: string;
  bytes: Uint8Array;
  /** Resolves once the kept copy is on disk; rejects when it could not be written. */
  written: Promise<void>;
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
  /** Kept copies being written: path → when it is done. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(home: string) {
    this.folder = path.resolve(home, 'uploads');
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
    this.dropIdle();
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(size);
    } catch {
      throw new UploadError(`${name}: not enough memory to receive ${formatGiB(size)}; open it by path instead`);
    }
    const id = randomUUID();
    this.uploads.set(id, { id, fileName: name, size, received: 0, bytes, hash: createHash('sha256'), hashed: 0, ahead: new Map(), broken: null, lastActivity: Date.now() });
    return id;
  }

  /** Takes a chunk at its offset (in any order, none overlapping another); returns the bytes received so far. */
  chunk(id: string, offset: number, bytes: Uint8Array): number {
    const upload = this.get(id);
    upload.lastActivity = Date.now();
    const end = offset + bytes.byteLength;
    if (upload.broken === null && end > upload.size) upload.broken = `${upload.fileName}: bytes up to ${end} arrived, ${upload.size} were announced`;
    const overlaps = offset < upload.hashed || [...upload.ahead].some(([start, length]) => offset < start + length && start < end);
    if (upload.broken === null && overlaps) upload.broken = `${upload.fileName}: the chunk at byte ${offset} overlaps one that arrived before`;
    if (upload.broken !== null) throw new UploadError(upload.broken);
    upload.bytes.set(bytes, offset);
    upload.received += bytes.byteLength;
    upload.ahead.set(offset, bytes.byteLength);
    // Hash what is now contiguous from the front.
    for (let length = upload.ahead.get(upload.hashed); length !== undefined; length = upload.ahead.get(upload.hashed)) {
      upload.ahead.delete(upload.hashed);
      upload.hash.update(upload.bytes.subarray(upload.hashed, upload.hashed + length));
      upload.hashed += length;
    }
    return upload.received;
  }

  /** Checks the size and starts keeping a copy; the upload is over either way. */
  finish(id: string): StoredUpload {
    const upload = this.get(id);
    this.uploads.delete(id);
    if (upload.broken !== null) throw new UploadError(upload.broken);
    if (upload.hashed !== upload.size) throw new UploadError(`${upload.fileName}: the upload stopped at ${upload.received} of ${upload.size} bytes`);
    const sha256 = upload.hash.digest('hex');
    const kept = path.join(this.folder, sha256.slice(0, 16), upload.fileName);
    const written = this.writing.get(kept) ?? (existsSync(kept) ? Promise.resolve() : this.keep(kept, upload.bytes));
    return { path: kept, fileName: upload.fileName, sha256, bytes: upload.bytes, written };
  }

  /** Resolves once a kept copy being written is on disk (at once for any other path). */
  async whenWritten(file: string): Promise<void> {
    await this.writing.get(path.resolve(file))?.catch(() => undefined);
  }

  /** Stops an upload, dropping what arrived of it; false when it is unknown or over. */
  cancel(id: string): boolean {
    return this.uploads.delete(id);
  }

  /** Writes a kept copy: to a partial file first, renamed when whole. */
  private keep(kept: string, bytes: Uint8Array): Promise<void> {
    const partial = path.join(this.folder, `${PARTIAL_PREFIX}${randomUUID()}`);
    const work = (async () => {
      mkdirSync(this.folder, { recursive: true });
      try {
        await writeFile(partial, bytes, { flag: 'wx' });
        mkdirSync(path.dirname(kept), { recursive: true });
        await rename(partial, kept);
      } catch (error) {
        await rm(partial, { force: true });
        throw new UploadError(`${path.basename(kept)}: could not keep a copy in ${this.folder} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    })().finally(() => this.writing.delete(kept));
    this.writing.set(kept, work);
    return work;
  }

  /** Deletes kept uploads none of `keep` (the recent files) names, and their emptied folders. */
  prune(keep: Iterable<string>): void {
    const kept = new Set([...keep].map((file) => path.resolve(file)));
    if (!existsSync(this.folder)) return;
    // Folders a copy is on its way to stay.
    const awaited = new Set([...this.writing.keys()].map((file) => path.dirname(file)));
    for (const entry of readdirSync(this.folder, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.folder, entry.name);
      for (const file of readdirSync(dir)) {
        const full = path.join(dir, file);
        if (!kept.has(full)) rmSync(full, { force: true, recursive: true });
      }
      if (readdirSync(dir).length === 0 && !awaited.has(dir)) rmdirSync(dir);
    }
  }

  async dispose(): Promise<void> {
    this.uploads.clear();
    await Promise.allSettled([...this.writing.values()]);
  }

  private get(id: string): Upload {
    const upload = this.uploads.get(id);
    if (!upload) throw new UploadError(`no upload ${id.slice(0, 8)}… is in progress (it finished, was cancelled or was given up after ${IDLE_LIMIT_MS / 60_000} idle minutes)`);
    return upload;
  }

  private dropIdle(): void {
    const now = Date.now();
    for (const upload of [...this.uploads.values()]) if (now - upload.lastActivity > IDLE_LIMIT_MS) this.cancel(upload.id);
  }

  /** Partial files of uploads a previous run left behind. */
  private removeLeftovers(): void {
    if (!existsSync(this.folder)) return;
    for (const name of readdirSync(this.folder)) if (name.startsWith(PARTIAL_PREFIX)) rmSync(path.join(this.folder, name), { force: true });
  }
}
