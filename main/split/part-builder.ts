// The executor's side of "upload a model once" (main/executor/sources.ts): builds a split's
// head or tail from a kept whole model with the very surgery the client runs (surgery.ts),
// after the same analysis (main/model/analyze-file.ts, with the client's symbolic dimension
// values), so the bytes — and their SHA-256, or the SHA-256 of the part's description
// (describePart, here), which the executor checks — come out the same. A part checked by its
// description is handed over with its weights referencing the kept model's file
// (external-weights.ts), so they are never encoded per part.
// `neurosurgeon executor` hands this builder to the server; the last few analysed models
// are kept, so the cuts of a sweep decode and analyse the model once.
import { readOnnxModel } from '../../app/onnx/reader.js';
import { encodeModel } from '../../app/onnx/writer.js';
import { analyzeLoadedModel, type AnalyzedModel } from '../model/analyze-file.js';
import type { onnx } from '../../app/onnx/generated/onnx.js';
import type { BuiltPart, PartBuilder, PartSpec } from '../executor/sources.js';
import { splitModel, SurgeryError } from './surgery.js';
import { referencableWeights, referencingSource } from './external-weights.js';

/** Analysed models kept between builds (by hash and dimension values). */
const KEPT_ANALYSES = 2;

/**
 * A part's description, a deterministic text of what makes it that part: its inputs and
 * outputs (names, element types, dimensions), its nodes (operator and outputs, in order)
 * and its weights' names. The client makes it from its own surgery without encoding the
 * part; the executor from its build.
 */
export function describePart(proto: onnx.IModelProto): string {
  const graph = proto.graph ?? {};
  const values = (list: onnx.IValueInfoProto[] | null | undefined) =>
    (list ?? []).map((v) => [v.name, v.type?.tensorType?.elemType ?? null, (v.type?.tensorType?.shape?.dim ?? []).map((d) => d.dimParam || String(d.dimValue ?? '?'))]);
  return JSON.stringify({
    inputs: values(graph.input),
    outputs: values(graph.output),
    nodes: (graph.node ?? []).map((n) => [n.opType, ...(n.output ?? [])]),
    weights: (graph.initializer ?? []).map((t) => t.name)
  });
}

/**
 * The kept model itself, as a part. It too can be opened from a file that references the kept
 * model's weights, when it keeps none in external data files of its own: the executor's profile
 * of the model then maps the weights file before the sweep's first cut, which would pay for
 * the first mapping of that file otherwise (60–75 ms for AlexNet here, part-files.ts).
 */
function wholeModel(bytes: Uint8Array): BuiltPart {
  const model = readOnnxModel(bytes);
  const referencing = model.externalData.length === 0 && referencableWeights(model.proto, bytes) > 0;
  return {
    bytes: () => bytes,
    describe: () => describePart(model.proto),
    ...(referencing ? { referencing: (sourceFileName: string) => referencingSource(model.proto, bytes, sourceFileName).bytes } : {})
  };
}

/** A PartBuilder with its own small cache of analysed models. */
export function surgeryPartBuilder(): PartBuilder {
  const analyses = new Map<string, Promise<AnalyzedModel>>();
  const analysed = (bytes: Uint8Array, sha256: string, dimValues: Record<string, number>): Promise<AnalyzedModel> => {
    const key = `${sha256} ${JSON.stringify(Object.entries(dimValues).sort(([a], [b]) => a.localeCompare(b)))}`;
    let entry = analyses.get(key);
    if (entry) analyses.delete(key);
    else entry = analyzeLoadedModel({ path: `${sha256.slice(0, 16)}.onnx`, bytes, model: readOnnxModel(bytes), sha256 }, { dimValues });
    analyses.set(key, entry);
    entry.catch(() => analyses.delete(key));
    while (analyses.size > KEPT_ANALYSES) analyses.delete(analyses.keys().next().value as string);
    return entry;
  };
  return async (bytes: Uint8Array, sha256: string, spec: PartSpec): Promise<BuiltPart> => {
    if (spec.part === 'model') return wholeModel(bytes);
    const { model, analysis } = await analysed(bytes, sha256, spec.dimValues);
    if (model.externalData.length > 0) throw new SurgeryError('the model keeps its weights in external data files, which were not uploaded');
    const parts = splitModel(model, analysis, new Set(spec.localLayers));
    const proto = spec.part === 'head' ? parts.head : parts.tail;
    if (!proto) throw new SurgeryError(`these ${spec.localLayers.length} local layers leave no ${spec.part}`);
    return {
      bytes: () => encodeModel(proto),
      describe: () => describePart(proto),
      ...(referencableWeights(proto, bytes) > 0 ? { referencing: (sourceFileName: string) => referencingSource(proto, bytes, sourceFileName).bytes } : {})
    };
  };
}
