// Small partition problems that the engine's tests share (no test runs from this file):
// a hand-made AlexNet-like chain and seeded random chains and DAGs.
import type { PartitionProblem, PartitionTensor } from './types.js';

/**
 * An AlexNet-like three-layer chain: a big image, a bigger conv output, a small pooled
 * map and a tiny result, with an FC layer far slower on the device than on the server.
 */
export function alexnetLikeChain(): PartitionProblem {
  return {
    nodes: [
      { name: 'conv', localMs: 10, remoteMs: 1 },
      { name: 'pool', localMs: 2, remoteMs: 0.2 },
      { name: 'fc', localMs: 400, remoteMs: 2 }
    ],
    tensors: [
      { name: 'image', bytes: 600_000, producer: -1, consumers: [0], isGraphOutput: false },
      { name: 'c', bytes: 800_000, producer: 0, consumers: [1], isGraphOutput: false },
      { name: 'p', bytes: 20_000, producer: 1, consumers: [2], isGraphOutput: false },
      { name: 'logits', bytes: 4000, producer: 2, consumers: [], isGraphOutput: true }
    ]
  };
}

/**
 * A random DAG of `nodeCount` nodes in topological order: one or two model inputs, random
 * fan-in (1–3) and fan-out, some zero costs and sizes, graph outputs mid-graph too.
 */
export function randomDag(random: () => number, nodeCount: number): PartitionProblem {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
  const maybeZero = (value: number): number => (random() < 0.1 ? 0 : value);
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({
    name: `n${i}`,
    localMs: maybeZero(random() * 50),
    remoteMs: maybeZero(random() * 10)
  }));
  const tensors: PartitionTensor[] = [];
  const inputCount = 1 + Math.floor(random() * 2);
  for (let i = 0; i < inputCount; i++) {
    tensors.push({ name: `in${i}`, bytes: maybeZero(Math.floor(random() * 200_000)), producer: -1, consumers: [], isGraphOutput: random() < 0.05 });
  }
  nodes.forEach((_, index) => {
    const available = tensors.filter((tensor) => tensor.producer < index);
    const fanIn = 1 + Math.floor(random() * 3);
    for (let k = 0; k < fanIn; k++) {
      const tensor = pick(available);
      if (tensor.consumers[tensor.consumers.length - 1] !== index) tensor.consumers.push(index);
    }
    const outputCount = random() < 0.2 ? 2 : 1;
    for (let k = 0; k < outputCount; k++) {
      tensors.push({
        name: `t${index}_${k}`,
        bytes: maybeZero(Math.floor(random() * 100_000)),
        producer: index,
        consumers: [],
        isGraphOutput: index === nodeCount - 1 || random() < 0.15
      });
    }
  });
  return { nodes, tensors };
}

/** A random chain: input → n0 → … → n(N−1) → graph output, with some zero costs and sizes. */
export function randomChain(random: () => number, nodeCount: number): PartitionProblem {
  const maybeZero = (value: number): number => (random() < 0.1 ? 0 : value);
  const nodes = Array.from({ length: nodeCount }, (_, i) => ({ name: `n${i}`, localMs: maybeZero(random() * 50), remoteMs: maybeZero(random() * 10) }));
  const tensors: PartitionTensor[] = [{ name: 'input', bytes: maybeZero(Math.floor(random() * 700_000)), producer: -1, consumers: nodeCount > 0 ? [0] : [], isGraphOutput: false }];
  nodes.forEach((_, i) => {
    const last = i === nodeCount - 1;
    tensors.push({ name: `t${i}`, bytes: maybeZero(Math.floor(random() * 500_000)), producer: i, consumers: last ? [] : [i + 1], isGraphOutput: last });
  });
  return { nodes, tensors };
}
