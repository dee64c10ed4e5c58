// Writes the sample model zoo (app/zoo) to disk. A manifest (zoo.json) records what was
// written with which generator version, so later calls skip models that are already
// there and intact; large models are generated here on demand, never committed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildZooModel, zooModel, zooModels, type ZooEntry } from '../../app/zoo/index.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { sha256 } from './model-file.js';
import { toolVersion } from '../files/paths.js';

/** Bump when any zoo builder changes, so stale files are regenerated. */
export const ZOO_GENERATOR_VERSION = 1;

export interface ZooManifestEntry {
  id: string;
  file: string;
  bytes: number;
  sha256: string;
  seed: number;
  generator: number;
}

export interface ZooWriteOptions {
  outDir: string;
  only?: string[];
  skipLarge?: boolean;
  force?: boolean;
  seed?: number;
  onProgress?: (event: { id: string; index: number; total: number; status: 'written' | 'kept'; bytes: number; ms: number }) => void;
}

function readManifest(file: string): ZooManifestEntry[] {
  if (!existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { models?: ZooManifestEntry[] };
    return parsed.models ?? [];
  } catch {
    return [];
  }
}

export class ZooError extends Error {
  override name = 'ZooError';
}

function lookUp(id: string): ZooEntry {
  try {
    return zooModel(id);
  } catch (error) {
    throw new ZooError((error as Error).message);
  }
}

export function zooFilePath(outDir: string, id: string): string {
  return path.join(outDir, `${id}.onnx`);
}

export function writeZoo(options: ZooWriteOptions): ZooManifestEntry[] {
  const seed = options.seed ?? 1;
  const selected: ZooEntry[] = options.only?.length ? options.only.map(lookUp) : zooModels.filter((m) => !(options.skipLarge && m.large));
  const manifestPath = path.join(options.outDir, 'zoo.json');
  const manifest = new Map(readManifest(manifestPath).map((e) => [e.id, e]));
  selected.forEach((entry, index) => {
    const file = zooFilePath(options.outDir, entry.id);
    const previous = manifest.get(entry.id);
    const start = performance.now();
    if (
      !options.force &&
      previous &&
      previous.generator === ZOO_GENERATOR_VERSION &&
      previous.seed === seed &&
      existsSync(file) &&
      statSync(file).size === previous.bytes
    ) {
      options.onProgress?.({ id: entry.id, index, total: selected.length, status: 'kept', bytes: previous.bytes, ms: 0 });
      return;
    }
    const bytes = buildZooModel(entry.id, { seed });
    writeFileAtomic(file, bytes);
    const record: ZooManifestEntry = {
      id: entry.id,
      file: path.basename(file),
      bytes: bytes.byteLength,
      sha256: sha256(bytes),
      seed,
      generator: ZOO_GENERATOR_VERSION
    };
    manifest.set(entry.id, record);
    writeFileAtomic(manifestPath, JSON.stringify({ tool: toolVersion(), models: [...manifest.values()] }, null, 2) + '\n');
    options.onProgress?.({ id: entry.id, index, total: selected.length, status: 'written', bytes: bytes.byteLength, ms: performance.now() - start });
  });
  return selected.map((e) => manifest.get(e.id)!).filter(Boolean);
}

/** Path of a zoo model, generating it first if needed. */
export function ensureZooModel(id: string, outDir: string): string {
  writeZoo({ outDir, only: [id] });
  return zooFilePath(outDir, id);
}
