// A folder as a zip stream, for the web host's export download: every regular file under
// the folder, stored (not deflated: ONNX weights barely compress, and a 500 MB tail should
// start downloading at once) under the folder's own name, read file by file with
// backpressure, so a large export never sits in memory. fflate writes the zip records
// (a maintained, dependency-free zip writer with a streaming API and ZIP64 sizes where needed).
import { createReadStream, lstatSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { Zip, ZipPassThrough } from 'fflate';

/** The regular files under a folder, as paths relative to it, sorted; links and special files are left out. */
export function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(path.join(dir, relative), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = path.join(relative, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) found.push(child);
    }
  };
  walk('');
  return found;
}

/** Streams `dir` as a zip whose entries sit under `path.basename(dir)/`. */
export function zipFolder(dir: string): Readable {
  const output = new PassThrough();
  const top = path.basename(dir);
  const files = filesUnder(dir);
  const zip = new Zip((error, chunk, final) => {
    if (error) return void output.destroy(error);
    output.write(chunk);
    if (final) output.end();
  });
  const next = (index: number): void => {
    if (output.destroyed) return;
    if (index >= files.length) return zip.end();
    const relative = files[index];
    const file = path.join(dir, relative);
    const entry = new ZipPassThrough(path.posix.join(top, ...relative.split(path.sep)));
    entry.mtime = lstatSync(file).mtime;
    zip.add(entry);
    const input = createReadStream(file);
    input.on('data', (part: Buffer | string) => {
      entry.push(typeof part === 'string' ? Buffer.from(part) : new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      if (output.writableNeedDrain) {
        input.pause();
        output.once('drain', () => input.resume());
      }
    });
    input.on('error', (error) => output.destroy(error));
    input.on('end', () => {
      entry.push(new Uint8Array(0), true);
      next(index + 1);
    });
  };
  next(0);
  return output;
}
