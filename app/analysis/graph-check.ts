// The structural checks a graph must pass before anything analyses it, and its
// topological order. A broken graph — a cycle, a value produced twice, a value read that
// nothing produces, a negative dimension — is refused with one line naming the node or
// value (GraphStructureError), never analysed with a warning.
import type { Dim, OnnxGraph, OnnxNode } from '../onnx/model.js';

export class GraphStructureError extends Error {
  override name = 'GraphStructureError';
}

function describeNode(node: OnnxNode): string {
  return `node "${node.name}" (${node.opType})`;
}

function checkDims(what: string, dims: readonly Dim[] | null | undefined): void {
  // A dimension beyond 2^53 is kept (its exact digits live in the file); a negative one cannot be.
  const negative = dims?.find((d) => typeof d === 'number' && (d < 0 || Number.isNaN(d)));
  if (negative !== undefined) throw new GraphStructureError(`${what} has an invalid dimension ${negative}`);
}

/**
 * Checks `graph` and returns its nodes' positions in an order where producers come first
 * (the file's own order when it already is one, as ONNX requires).
 */
export function checkGraphStructure(graph: OnnxGraph): number[] {
  const producedBy = new Map<string, string>();
  const declare = (name: string, by: string): void => {
    const earlier = producedBy.get(name);
    if (earlier !== undefined) throw new GraphStructureError(`value "${name}" is produced twice: by ${earlier} and by ${by}`);
    producedBy.set(name, by);
  };
  for (const tensor of graph.initializers.values()) {
    checkDims(`initializer "${tensor.name}"`, tensor.dims);
    producedBy.set(tensor.name, `initializer "${tensor.name}"`);
  }
  for (const input of graph.inputs) {
    checkDims(`input "${input.name}"`, input.type?.shape);
    declare(input.name, `model input "${input.name}"`);
  }
  for (const output of graph.outputs) checkDims(`output "${output.name}"`, output.type?.shape);
  for (const info of graph.valueInfo.values()) checkDims(`value "${info.name}"`, info.type?.shape);

  const producer = new Map<string, number>();
  graph.nodes.forEach((node, position) => {
    for (const name of node.outputs) {
      if (name === '') continue;
      declare(name, describeNode(node));
      producer.set(name, position);
    }
  });
  for (const node of graph.nodes) {
    for (const name of node.inputs) {
      if (name !== '' && !producedBy.has(name)) {
        throw new GraphStructureError(`${describeNode(node)} reads "${name}", which no node, model input or initializer produces`);
      }
    }
  }
  for (const output of graph.outputs) {
    if (!producedBy.has(output.name)) throw new GraphStructureError(`model output "${output.name}" is produced by no node, input or initializer`);
  }
  return topologicalOrder(graph, producer);
}

function topologicalOrder(graph: OnnxGraph, producer: ReadonlyMap<string, number>): number[] {
  const dependencies = graph.nodes.map((node) =>
    node.inputs.map((name) => producer.get(name)).filter((p): p is number => p !== undefined)
  );
  dependencies.forEach((deps, i) => {
    if (deps.includes(i)) throw new GraphStructureError(`the graph has a cycle: ${describeNode(graph.nodes[i])} reads its own output`);
  });
  if (dependencies.every((deps, i) => deps.every((p) => p < i))) return graph.nodes.map((_, i) => i);

  const order: number[] = [];
  const dependents: number[][] = graph.nodes.map(() => []);
  const waiting = dependencies.map((deps, i) => {
    const unique = new Set(deps);
    for (const p of unique) dependents[p].push(i);
    return unique.size;
  });
  const ready = waiting.flatMap((n, i) => (n === 0 ? [i] : []));
  for (let head = 0; head < ready.length; head++) {
    const next = ready[head];
    order.push(next);
    for (const d of dependents[next]) if (--waiting[d] === 0) ready.push(d);
  }
  if (order.length < graph.nodes.length) {
    // Walk back from a node that never became ready, through inputs that never did either,
    // until a node repeats: that node is on a cycle.
    let node = waiting.findIndex((n) => n > 0);
    const seen = new Set<number>();
    while (!seen.has(node)) {
      seen.add(node);
      node = dependencies[node].find((p) => waiting[p] > 0) as number;
    }
    throw new GraphStructureError(`the graph has a cycle through ${describeNode(graph.nodes[node])}`);
  }
  return order;
}
