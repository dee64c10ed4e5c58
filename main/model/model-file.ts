// main/model/ — model files and what runs them: loading a file and its external data
// (model-file.ts), analysis with runtime shapes (analyze-file.ts, runtime-shapes.ts), generated
// and file inputs (inputs.ts, input-files.ts), and the sample zoo on disk (zoo-files.ts).
//
// Opening an ONNX file from disk: reads the bytes once, decodes them with app/'s reader,
// and resolves external-data references (weights kept in side files, as large PyTorch
// exports do) against the model's folder. Only regular files are read (checked with fstat
// on the opened handle, so a device, pipe or socket given as a path is refused before any
// read). Every failure is a ModelFileError with a one-line message that names the file and
// the problem.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { readOnnxModel, OnnxFormatError } from '../../app/onnx/reader.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import type { ModelIdentity } from '../../app/profiling/types.js';
import { onnx } from '../../app/onnx/generated/onnx.js';

export class ModelFileError extends Error {
  override name = 'ModelFileError';
}

export interface LoadedModel {
  path: string;
  /** The file's bytes; tensors of `model` are views into them. */
  bytes: Uint8Array;
  model: OnnxModel;
  /** SHA-256 of `bytes`, when it was computed while reading them. */
  sha256?: string;
}

/** Opening flags that never block: a FIFO opened for reading would wait for a writer. */
const READ_NO_BLOCK = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens a file the studio reads on a user's behalf, refusing anything but a regular file
 * (fstat on the opened handle: no race between a check and the open).
 */
export async function openRegularFile(filePath: string, makeError: (message: string) => Error): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(filePath, READ_NO_BLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw makeError(`${filePath}: no such file`);
    if (code === 'EISDIR') throw makeError(`${filePath}: is a folder, not a file`);
    throw makeError(`${filePath}: cannot read (${code ?? String(error)})`);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw makeError(`${filePath}: ${stats.isDirectory() ? 'is a folder, not a file' : 'is not a regular file (a device, pipe or socket); only regular files are opened'}`);
  }
  return { handle, size: stats.size };
}

const READ_SLICE = 16 << 20;

/**
 * Reads a regular file whole, hashing each slice while the next one is being read, so the
 * model id (its SHA-256) costs little beyond the read itself.
 */
async function readAndHash(filePath: string): Promise<{ bytes: Uint8Array; sha256: string }> {
  const { handle, size } = await openRegularFile(filePath, (message) => new ModelFileError(message));
  try {
    const bytes = new Uint8Array(size);
    const hash = createHash('sha256');
    let offset = 0;
    let pending = size > 0 ? handle.read(bytes, 0, Math.min(READ_SLICE, size), 0) : null;
    while (pending) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) throw new ModelFileError(`${filePath}: the file shrank while it was read`);
      const slice = bytes.subarray(offset, offset + bytesRead);
      offset += bytesRead;
      pending = offset < size ? handle.read(bytes, offset, Math.min(READ_SLICE, size - offset), offset) : null;
      hash.update(slice);
    }
    return { bytes, sha256: hash.digest('hex') };
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelFileError(`${filePath}: cannot read (${code ?? String(error)})`);
  } finally {
    await handle.close();
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What profiles and partition configs record to be refused for any other model. */
export function modelIdentity(loaded: LoadedModel): ModelIdentity {
  return { file: path.basename(loaded.path), sha256: loaded.sha256 ?? sha256(loaded.bytes), nodes: loaded.model.graph.nodes.length };
}

/** Reads and decodes a model; checks that every external-data file exists and is long enough. */
export async function loadModelFile(filePath: string): Promise<LoadedModel> {
  const resolved = path.resolve(filePath);
  let read: { bytes: Uint8Array; sha256: string };
  try {
    read = await readAndHash(resolved);
  } catch (error) {
    // Name the file as the caller gave it.
    if (error instanceof ModelFileError) throw new ModelFileError(error.message.replace(resolved, filePath).replace(': is a folder, not a file', ': is a folder, not an ONNX file'));
    throw error;
  }
  const { bytes, sha256: digest } = read;
  let model: OnnxModel;
  try {
    model = readOnnxModel(bytes);
  } catch (error) {
    if (error instanceof OnnxFormatError) throw new ModelFileError(`${filePath}: ${error.message}`);
    throw error;
  }
  checkExternalData(resolved, model);
  return { path: resolved, bytes, model, sha256: digest };
}

function externalPath(modelPath: string, location: string): string {
  const dir = path.dirname(modelPath);
  const full = path.resolve(dir, location);
  if (!full.startsWith(dir + path.sep)) {
    throw new ModelFileError(`${path.basename(modelPath)}: external data location "${location}" points outside the model's folder`);
  }
  return full;
}

function checkExternalData(modelPath: string, model: OnnxModel): void {
  const sizes = new Map<string, number>();
  for (const ref of model.externalData) {
    const file = externalPath(modelPath, ref.location);
    let size = sizes.get(file);
    if (size === undefined) {
      let stats;
      try {
        stats = statSync(file);
      } catch {
        throw new ModelFileError(`${path.basename(modelPath)}: missing external data file "${ref.location}" (tensor ${ref.tensor})`);
      }
      // Read later with a blocking read: refuse anything that is not a regular file now.
      if (!stats.isFile()) throw new ModelFileError(`${path.basename(modelPath)}: external data "${ref.location}" is not a regular file`);
      size = stats.size;
      sizes.set(file, size);
    }
    const tensor = model.graph.initializers.get(ref.tensor);
    const length = ref.length ?? tensor?.byteLength ?? 0;
    if (ref.offset + length > size) {
      throw new ModelFileError(
        `${path.basename(modelPath)}: external data file "${ref.location}" is too short for tensor ${ref.tensor} (needs ${ref.offset + length} bytes, has ${size})`
      );
    }
  }
}

/**
 * Brings external-data tensors inline (reads each range once) so the model can be
 * re-encoded as one self-contained file, as surgery and runtime shape runs need.
 * Mutates the protobuf objects of `loaded.model`.
 */
export function inlineExternalData(loaded: LoadedModel): void {
  if (loaded.model.externalData.length === 0) return;
  const byName = new Map(loaded.model.proto.graph?.initializer?.map((t) => [t.name, t]) ?? []);
  const handles = new Map<string, number>();
  try {
    for (const ref of loaded.model.externalData) {
      const file = externalPath(loaded.path, ref.location);
      let fd = handles.get(file);
      if (fd === undefined) {
        fd = openSync(file, READ_NO_BLOCK);
        handles.set(file, fd);
        if (!fstatSync(fd).isFile()) throw new ModelFileError(`${path.basename(loaded.path)}: external data "${ref.location}" is not a regular file`);
      }
      const tensor = loaded.model.graph.initializers.get(ref.tensor);
      const length = ref.length ?? tensor?.byteLength ?? fstatSync(fd).size - ref.offset;
      const data = new Uint8Array(length);
      readSync(fd, data, 0, length, ref.offset);
      const proto = byName.get(ref.tensor);
      if (proto) {
        proto.rawData = data;
        proto.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
        proto.externalData = [];
      }
      if (tensor) tensor.storage = { kind: 'raw', bytes: data };
    }
  } finally {
    for (const fd of handles.values()) closeSync(fd);
  }
  loaded.model.externalData = [];
}
