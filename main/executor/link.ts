// The seams between the executor client (client.ts) and the network shaper (shaper.ts),
// and the tensor shape both sides of the Open Inference Protocol move around. Kept apart
// so the client, the shaper and the split runner can be written and tested separately.

/** Open Inference Protocol (KServe v2) tensor datatypes. */
export type OipDatatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

/** A tensor as raw little-endian bytes, the way the binary tensor extension carries it. */
export interface RawTensor {
  name: string;
  datatype: OipDatatype;
  shape: number[];
  data: Uint8Array;
}

/**
 * Applies a network condition to real transfers. The client writes every request body
 * through shapeUpload and reads every response body through shapeDownload; an unshaped
 * link passes bytes through untouched. Each direction adds half the round-trip time once,
 * before its first byte, and paces bytes with a token bucket at its bandwidth.
 */
export interface LinkShaper {
  readonly description: string;
  shapeUpload(body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncIterable<Uint8Array>;
  shapeDownload(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array>;
}

/** Where the time of one remote call went, as the client saw it. */
export interface TransferTimings {
  encodeMs: number;
  uploadMs: number;
  /** Compute time the server reported; undefined when the server reports none (e.g. stock Triton). */
  remoteMs: number | undefined;
  downloadMs: number;
  totalMs: number;
  bytesUp: number;
  bytesDown: number;
}
