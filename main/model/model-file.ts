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
import { closeSync, readSync } from 'node:fs';
import path from 'node:path';
import { readOnnxModel, OnnxFormatError } from '../../app/onnx/reader.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import type { ModelIdentity } from '../../app/profiling/types.js';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { openRegularFileSync, readRegularFile, regularFileSize } from '../files/regular-file.js';

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
  // A regular file only, read up to the size fstat gave (no /dev/zero, no FIFO): regular-file.ts.
  // Hashed slice by slice while the next slice is read, so the model id costs little beyond the read.
  const hash = createHash('sha256');
  const bytes: Uint8Array = await readRegularFile(resolved, {
    label: filePath,
    makeError: (message) => new ModelFileError(message),
    onSlice: (slice) => hash.update(slice)
  });
  const digest = hash.digest('hex');
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
      const label = `${path.basename(modelPath)}: external data file "${ref.location}"`;
      size = regularFileSize(file, {
        label,
        makeError: (message) =>
          new ModelFileError(/: no such file$/.test(message) ? `${path.basename(modelPath)}: missing external data file "${ref.location}" (tensor ${ref.tensor})` : message)
      });
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
  const handles = new Map<string, { fd: number; size: number }>();
  try {
    for (const ref of loaded.model.externalData) {
      const file = externalPath(loaded.path, ref.location);
      let opened = handles.get(file);
      if (opened === undefined) {
        opened = openRegularFileSync(file, { label: `${path.basename(loaded.path)}: external data file "${ref.location}"`, makeError: (message) => new ModelFileError(message) });
        handles.set(file, opened);
      }
      const tensor = loaded.model.graph.initializers.get(ref.tensor);
      const length = ref.length ?? tensor?.byteLength ?? opened.size - ref.offset;
      if (length < 0 || ref.offset + length > opened.size) {
        throw new ModelFileError(`${path.basename(loaded.path)}: external data file "${ref.location}" is too short for tensor ${ref.tensor} (needs ${ref.offset + length} bytes, has ${opened.size})`);
      }
      const data = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const read = readSync(opened.fd, data, done, length - done, ref.offset + done);
        if (read === 0) break;
        done += read;
      }
      const proto = byName.get(ref.tensor);
      if (proto) {
        proto.rawData = data;
        proto.dataLocation = onnx.TensorProto.DataLocation.DEFAULT;
        proto.externalData = [];
      }
      if (tensor) tensor.storage = { kind: 'raw', bytes: data };
    }
  } finally {
    for (const { fd } of handles.values()) closeSync(fd);
  }
  loaded.model.externalData = [];
}
