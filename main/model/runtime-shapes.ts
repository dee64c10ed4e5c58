// Shapes from one real onnxruntime run: every intermediate value is made a graph output,
// the model is run once on generated inputs, and the observed element types and shapes
// are returned. Static inference in app/ covers the common ops; this covers the rest
// (custom-domain ops, data-dependent shapes, symbolic dimensions).
import { firstLine } from '../errors/user-errors.js';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../app/onnx/generated/onnx.js';
import type { OnnxModel } from '../../app/onnx/model.js';
import type { RuntimeShape } from '../../app/analysis/types.js';
import type { ElementTypeName } from '../../app/onnx/element-type.js';
import { encodeModel } from '../../app/onnx/writer.js';
import { generateInputs } from './inputs.js';

export class RuntimeShapeError extends Error {
  override name = 'RuntimeShapeError';
}

/** The model with every node output exposed as a graph output (weights shared, not copied). */
export function exposeAllValues(model: OnnxModel): onnx.ModelProto {
  const graph = model.proto.graph;
  if (!graph) throw new RuntimeShapeError('the model has no graph');
  const existing = new Set((graph.output ?? []).map((o) => o.name));
  const extra = model.graph.nodes
    .flatMap((n) => n.outputs)
    .filter((name) => name !== '' && !existing.has(name))
    .map((name) => new onnx.ValueInfoProto({ name }));
  return new onnx.ModelProto({
    ...model.proto,
    graph: new onnx.GraphProto({ ...graph, output: [...(graph.output ?? []), ...extra] })
  });
}

export async function inferRuntimeShapes(
  model: OnnxModel,
  options: { dimValues?: Record<string, number>; seed?: number } = {}
): Promise<Map<string, RuntimeShape>> {
  const bytes = encodeModel(exposeAllValues(model));
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  } catch (error) {
    throw new RuntimeShapeError(`onnxruntime could not load the model: ${firstLine(error)}`);
  }
  try {
    const results = await session.run(generateInputs(model, options));
    const shapes = new Map<string, RuntimeShape>();
    for (const [name, tensor] of Object.entries(results)) {
      shapes.set(name, { elementType: tensor.type as ElementTypeName, shape: [...tensor.dims] });
      tensor.dispose();
    }
    return shapes;
  } catch (error) {
    throw new RuntimeShapeError(`onnxruntime could not run the model: ${firstLine(error)}`);
  } finally {
    await session.release();
  }
}

