// Upload a model once (studio extension "studio_sources"): the executor keeps whole models
// by the SHA-256 of their bytes (SourceStore, in memory, least recently used let go past a
// byte budget), and builds each part a client asks for — a split's tail (or head, on a device
// executor), or the whole model as it is — itself, with the same surgery code the client
// runs (main/split/surgery.ts, handed in as a PartBuilder by whoever starts the executor:
// main/executor/ sits below main/split/). The client says what it expects of the part:
// the SHA-256 of its bytes, or — cheaper, the client need not encode the part at all — the
// SHA-256 of its description (part-builder.ts: the part's inputs and outputs with types and
// shapes, its nodes and its weights' names, a deterministic text both sides make from the
// surgery's result). A build that differs is refused (409) and the client uploads that part
// itself, so a mismatch costs an upload, never a wrong model. A part checked by its
// description is opened from a small file whose weights reference the kept model's bytes on
// disk (part-files.ts), so no part's weights are encoded or copied. server.ts serves the routes:
//   PUT  /v2/studio/sources/{sha256}       raw ONNX bytes (hash checked) → {"sha256","bytes","stored"}
//   GET  /v2/studio/sources/{sha256}       → {"sha256","bytes"} or 404
//   POST /v2/studio/models/{m}/build       {"source","part","localLayers","dimValues","sha256"|"description"} → the load outcome
import { createHash } from 'node:crypto';
import { ProtocolError } from './protocol.js';

/** Which part of a kept model to build: the device's, the server's, or the model unchanged. */
export type PartKind = 'head' | 'tail' | 'model';

export interface PartSpec {
  part: PartKind;
  /** The layers (indices into the analysis's layers) the device runs; ignored for 'model'. */
  localLayers: number[];
  /** Values of symbolic input dimensions the client's analysis used. */
  dimValues: Record<string, number>;
}

/** A built part: its ONNX bytes and its description, made when asked (main/split/part-builder.ts). */
export interface BuiltPart {
  bytes: () => Uint8Array;
  describe: () => string;
  /**
   * The part with its large weights referencing a file named `sourceFileName` that holds the
   * kept model's bytes, beside it (part-files.ts): absent where nothing would be referenced.
   */
  referencing?: (sourceFileName: string) => Uint8Array;
}

/** Builds a part from a kept model's bytes (main/split/part-builder.ts). */
export type PartBuilder = (source: Uint8Array, sourceSha256: string, spec: PartSpec) => Promise<BuiltPart>;

/** The body of POST /v2/studio/models/{m}/build: what to build, and one of the two checks. */
export interface BuildRequest extends PartSpec {
  source: string;
  /** SHA-256 the client expects of the part's bytes. */
  sha256?: string;
  /** SHA-256 the client expects of the part's description. */
  description?: string;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Whole models kept by content hash, at most `maxBytes` of them (the least recently used go first). */
export class SourceStore {
  private readonly sources = new Map<string, Uint8Array>();

  constructor(readonly maxBytes: number) {}

  has(sha256: string): boolean {
    return this.sources.has(sha256);
  }

  get(sha256: string): Uint8Array | undefined {
    const bytes = this.sources.get(sha256);
    if (bytes) {
      this.sources.delete(sha256);
      this.sources.set(sha256, bytes);
    }
    return bytes;
  }

  /** Keeps `bytes` (already checked against `sha256`); false when it alone is over the budget. */
  put(sha256: string, bytes: Uint8Array): boolean {
    if (bytes.byteLength > this.maxBytes) return false;
    this.sources.delete(sha256);
    this.sources.set(sha256, bytes);
    let total = this.totalBytes;
    for (const [key, kept] of this.sources) {
      if (total <= this.maxBytes) break;
      if (key === sha256) continue;
      this.sources.delete(key);
      total -= kept.byteLength;
    }
    return true;
  }

  get totalBytes(): number {
    let total = 0;
    for (const bytes of this.sources.values()) total += bytes.byteLength;
    return total;
  }

  clear(): void {
    this.sources.clear();
  }
}

/** Reads and checks a build request's JSON body. */
export function parseBuildRequest(body: Record<string, unknown>): BuildRequest {
  const { source, part, localLayers, dimValues, sha256, description } = body;
  if (typeof source !== 'string' || !SHA256_HEX.test(source)) throw new ProtocolError(400, '"source" must be the SHA-256 (64 lowercase hex digits) of a kept model');
  for (const [key, value] of [['sha256', sha256], ['description', description]] as const) {
    if (value !== undefined && (typeof value !== 'string' || !SHA256_HEX.test(value))) throw new ProtocolError(400, `"${key}" must be a SHA-256 (64 lowercase hex digits)`);
  }
  if (sha256 === undefined && description === undefined) throw new ProtocolError(400, 'a build names the "sha256" of the part\'s bytes or of its "description" it expects');
  if (part !== 'head' && part !== 'tail' && part !== 'model') throw new ProtocolError(400, '"part" must be "head", "tail" or "model"');
  const layers = localLayers ?? [];
  if (!Array.isArray(layers) || !layers.every((i): i is number => typeof i === 'number' && Number.isInteger(i) && i >= 0)) {
    throw new ProtocolError(400, '"localLayers" must be a list of layer indices (whole numbers ≥ 0)');
  }
  const dims = dimValues ?? {};
  if (typeof dims !== 'object' || dims === null || Array.isArray(dims) || !Object.values(dims).every((v) => typeof v === 'number' && Number.isInteger(v) && v > 0)) {
    throw new ProtocolError(400, '"dimValues" must map dimension names to whole numbers > 0');
  }
  return {
    source,
    part,
    localLayers: layers,
    dimValues: dims as Record<string, number>,
    ...(sha256 !== undefined ? { sha256: sha256 as string } : {}),
    ...(description !== undefined ? { description: description as string } : {})
  };
}
