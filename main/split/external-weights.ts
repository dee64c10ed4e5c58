// Parts that read their weights from the whole model's file (ONNX external data): a head or
// tail is written as its graph alone, each large weight a reference (location, offset,
// length) into the model's own bytes on disk, where protobuf put that weight's raw_data.
// AlexNet's tail at cut 1 is then 6 KB instead of 244 MB, so a sweep neither encodes, hashes
// nor copies the weights per cut, and onnxruntime reads each one from the file it opens the
// part beside. The executor's part builds (part-builder.ts, main/executor/part-files.ts) and
// the local head sessions (split-run.ts) use it.
import { onnx } from '../../app/onnx/generated/onnx.js';
import { encodeModel } from '../../app/onnx/writer.js';

/** Weights smaller than this stay in the part: a read of their own costs more than they do. */
export const MIN_EXTERNAL_WEIGHT_BYTES = 1024;

/** Where `raw` sits inside `source` when it is a view of those bytes (what the ONNX reader gives), else null. */
export function offsetInSource(raw: Uint8Array | null | undefined, source: Uint8Array): number | null {
  if (!raw || raw.buffer !== source.buffer) return null;
  const offset = raw.byteOffset - source.byteOffset;
  return offset >= 0 && offset + raw.byteLength <= source.byteLength ? offset : null;
}

function referencable(tensor: onnx.ITensorProto, source: Uint8Array): number | null {
  const raw = tensor.rawData;
  return raw && raw.byteLength >= MIN_EXTERNAL_WEIGHT_BYTES ? offsetInSource(raw, source) : null;
}

/** How many of `proto`'s weights referencingSource would point into `source`. */
export function referencableWeights(proto: onnx.IModelProto, source: Uint8Array): number {
  return (proto.graph?.initializer ?? []).filter((tensor) => referencable(tensor, source) !== null).length;
}

export interface PartReferencingSource {
  /** The part's bytes: its graph, with the large weights pointing into the source file. */
  bytes: Uint8Array;
  /** Weights that point into the source file, and their bytes. */
  externalWeights: number;
  externalBytes: number;
}

/**
 * `proto` (a part cut from the model whose bytes are `source`) with every weight of at least
 * MIN_EXTERNAL_WEIGHT_BYTES that is a view of `source` turned into a reference to
 * `sourceFileName`, a file holding exactly `source`'s bytes in the folder the part is opened
 * from. Weights made by the surgery (a QuantizeLinear's scale) and typed-field weights stay in.
 */
export function referencingSource(proto: onnx.IModelProto, source: Uint8Array, sourceFileName: string): PartReferencingSource {
  let externalWeights = 0;
  let externalBytes = 0;
  const graph = proto.graph ?? {};
  const initializer = (graph.initializer ?? []).map((tensor): onnx.ITensorProto => {
    const raw = tensor.rawData;
    const offset = referencable(tensor, source);
    if (offset === null || !raw) return tensor;
    externalWeights++;
    externalBytes += raw.byteLength;
    return {
      ...tensor,
      rawData: null,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: sourceFileName },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(raw.byteLength) }
      ]
    };
  });
  return { bytes: encodeModel({ ...proto, graph: { ...graph, initializer } }), externalWeights, externalBytes };
}
