// Dinic's max flow against a textbook network and against brute-force minimum cuts of
// small random graphs, with float and infinite capacities.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../onnx/builder.js';
import { FlowNetwork } from './maxflow.js';

describe('FlowNetwork', () => {
  it('finds the maximum flow of the CLRS example (23)', () => {
    const network = new FlowNetwork(6);
    const edges: [number, number, number][] = [
      [0, 1, 16], [0, 2, 13], [1, 3, 12], [2, 1, 4], [2, 4, 14], [3, 2, 9], [3, 5, 20], [4, 3, 7], [4, 5, 4]
    ];
    for (const [from, to, capacity] of edges) network.addEdge(from, to, capacity);
    const cut = network.minimumCut(0, 5);
    expect(cut.value).toBe(23);
    expect(Array.from(cut.sourceSide)).toEqual([1, 1, 1, 0, 1, 0]);
  });

  it('never cuts an infinite edge and reports an unbounded flow', () => {
    const bounded = new FlowNetwork(4);
    bounded.addEdge(0, 1, 3);
    bounded.addEdge(1, 2, Infinity);
    bounded.addEdge(2, 3, 5);
    bounded.addEdge(0, 2, 1.5);
    const cut = bounded.minimumCut(0, 3);
    expect(cut.value).toBeCloseTo(4.5, 12);
    expect(Array.from(cut.sourceSide)).toEqual([1, 0, 0, 0]);

    const unbounded = new FlowNetwork(3);
    unbounded.addEdge(0, 1, Infinity);
    unbounded.addEdge(1, 2, Infinity);
    expect(unbounded.minimumCut(0, 2).value).toBe(Infinity);
  });

  it('matches brute-force minimum cuts on random graphs', () => {
    const random = seededRandom(42);
    for (let trial = 0; trial < 300; trial++) {
      const vertexCount = 2 + Math.floor(random() * 8);
      const capacity: number[][] = Array.from({ length: vertexCount }, () => new Array<number>(vertexCount).fill(0));
      const network = new FlowNetwork(vertexCount, 2);
      const edgeCount = Math.floor(random() * vertexCount * 3);
      for (let e = 0; e < edgeCount; e++) {
        const from = Math.floor(random() * vertexCount);
        const to = Math.floor(random() * vertexCount);
        if (from === to) continue;
        const value = random() < 0.1 ? Infinity : random() < 0.2 ? 0 : random() * 10;
        network.addEdge(from, to, value);
        capacity[from][to] += value;
      }
      const source = 0;
      const sink = vertexCount - 1;
      let bruteForce = Infinity;
      for (let mask = 0; mask < 1 << vertexCount; mask++) {
        if (!(mask & (1 << source)) || mask & (1 << sink)) continue;
        let value = 0;
        for (let u = 0; u < vertexCount; u++) {
          for (let v = 0; v < vertexCount; v++) {
            if (mask & (1 << u) && !(mask & (1 << v))) value += capacity[u][v];
          }
        }
        bruteForce = Math.min(bruteForce, value);
      }
      const cut = network.minimumCut(source, sink);
      if (bruteForce === Infinity) {
        expect(cut.value, `trial ${trial}`).toBe(Infinity);
        continue;
      }
      expect(cut.value, `trial ${trial}`).toBeCloseTo(bruteForce, 9);
      let sideValue = 0;
      for (let u = 0; u < vertexCount; u++) {
        for (let v = 0; v < vertexCount; v++) {
          if (cut.sourceSide[u] === 1 && cut.sourceSide[v] === 0) sideValue += capacity[u][v];
        }
      }
      expect(cut.sourceSide[source]).toBe(1);
      expect(cut.sourceSide[sink]).toBe(0);
      expect(sideValue, `trial ${trial}`).toBeCloseTo(bruteForce, 9);
    }
  });

  it('grows past its expected edge count', () => {
    const network = new FlowNetwork(100, 1);
    for (let v = 0; v < 99; v++) network.addEdge(v, v + 1, 1 + v);
    expect(network.minimumCut(0, 99).value).toBe(1);
  });
});
