// Where the executor opens the parts it builds (sources.ts) from: a private temporary folder
// holding each kept model's bytes once as a file, named by its SHA-256, and beside it each
// built part as a small ONNX file whose weights reference that file (ONNX external data;
// main/split/external-weights.ts makes those bytes). onnxruntime then opens a 244 MB tail
// from a 6 KB file and reads its weights from the source file, with no per-part encode,
// hash or copy of them in JavaScript. Source files of models the SourceStore has let go are
// removed when another is written; the folder goes when the executor closes, or when its
// process exits without closing it; one left by a killed process (SIGKILL runs no exit
// hook) is removed by the next PartFiles of that kind, its process being gone. SplitRunner (main/split/split-run.ts) keeps its local
// heads the same way, in a folder of its own holding the one model it runs.
//
// A source file is written in writes of SOURCE_WRITE_BYTES, not fs.promises.writeFile's 512 KiB:
// onnxruntime maps the weights of every part it opens from that file, and a part's first run
// reads them through the mapping. Linux (6.18 here, ext4) caches a file written in writes of
// 2 MiB or more in 2-MiB pieces, which a mapping takes in whole; written in 512 KiB, every
// session's first run of AlexNet's tail at cut 8 (224 MiB of weights) took 95–110 ms against
// 11 ms for the next, and 15–17 ms so. The larger writes cost once what the mapping saves at
// every part (244 MB: 0.35–0.48 s against 0.06 s, on the upload, before any cut is timed).
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const SOURCE_SUFFIX = '.source.onnx';

/** Bytes per write of a source file: a multiple of 2 MiB, so every write fills whole 2-MiB pieces of the page cache. */
export const SOURCE_WRITE_BYTES = 16 * 2 ** 20;

/** Writes `bytes` to a new file `file` in writes of `chunkBytes` at offsets that are multiples of it. */
export async function writeInChunks(file: string, bytes: Uint8Array, chunkBytes: number = SOURCE_WRITE_BYTES): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (let offset = 0; offset < bytes.byteLength; ) {
      const { bytesWritten } = await handle.write(bytes, offset, Math.min(chunkBytes, bytes.byteLength - offset), offset);
      if (bytesWritten <= 0) throw new Error(`could not write ${file}: the disk took no more bytes at ${offset}`);
      offset += bytesWritten;
    }
  } finally {
    await handle.close();
  }
}

/** Folders still open, removed if the process exits first (one exit hook for them all, set with the first folder). */
const openFolders = new Set<string>();
let exitHookSet = false;

function removeAtExit(dir: string): void {
  openFolders.add(dir);
  if (exitHookSet) return;
  exitHookSet = true;
  process.once('exit', () => {
    for (const open of openFolders) rmSync(open, { recursive: true, force: true });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the folders `prefix<pid>-…` whose process is gone (a folder whose pid is alive, even reused, is left alone). */
function removeOrphans(prefix: string): void {
  let entries: string[];
  try {
    entries = readdirSync(os.tmpdir());
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = entry.startsWith(prefix) ? Number(/^(\d+)-/.exec(entry.slice(prefix.length))?.[1]) : NaN;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)) rmSync(path.join(os.tmpdir(), entry), { recursive: true, force: true });
  }
}

export class PartFiles {
  private dir: string | null = null;
  private readonly written = new Map<string, Promise<string>>();
  private staged = 0;

  /** `keeps(sha256)`: whether the SourceStore still keeps that model (its file may go otherwise). */
  constructor(
    private readonly keeps: (sha256: string) => boolean,
    private readonly prefix = 'ns-executor-parts-'
  ) {}

  private folder(): string {
    if (!this.dir) {
      removeOrphans(this.prefix);
      this.dir = mkdtempSync(path.join(os.tmpdir(), `${this.prefix}${process.pid}-`));
      removeAtExit(this.dir);
    }
    return this.dir;
  }

  /** The file name (in the folder) of the kept model `sha256`, written the first time it is asked for. */
  async sourceFile(sha256: string, bytes: Uint8Array): Promise<string> {
    const name = `${sha256}${SOURCE_SUFFIX}`;
    let entry = this.written.get(sha256);
    if (!entry) {
      this.dropLetGo();
      entry = writeInChunks(path.join(this.folder(), name), bytes).then(() => name);
      entry.catch(() => this.written.delete(sha256));
      this.written.set(sha256, entry);
    }
    return entry;
  }

  /** Writes a part's bytes beside the source files; its path and the SHA-256 of those bytes. */
  async writePart(bytes: Uint8Array): Promise<{ path: string; sha256: string }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(this.folder(), `part-${sha256}.onnx`);
    // Written aside and renamed into place: the same part built twice at once never opens half-written.
    const staging = `${file}.${process.pid}-${++this.staged}.tmp`;
    await writeFile(staging, bytes);
    await rename(staging, file);
    return { path: file, sha256 };
  }

  private dropLetGo(): void {
    if (!this.dir) return;
    for (const [sha256] of this.written) {
      if (this.keeps(sha256)) continue;
      this.written.delete(sha256);
      rmSync(path.join(this.dir, `${sha256}${SOURCE_SUFFIX}`), { force: true });
    }
  }

  /** The files in the folder (tests). */
  files(): string[] {
    return this.dir ? readdirSync(this.dir).sort() : [];
  }

  close(): void {
    if (this.dir) {
      rmSync(this.dir, { recursive: true, force: true });
      openFolders.delete(this.dir);
    }
    this.dir = null;
    this.written.clear();
  }
}
