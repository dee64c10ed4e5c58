// Small partition problems that the engine's tests share (no test runs from this file).
import type { PartitionProblem } from './types.js';

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
