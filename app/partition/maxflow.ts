// Maximum flow / minimum s-t cut (Dinic: BFS level graph, then blocking flows found by an
// iterative DFS with current-arc pointers), used by dag.ts for optimal DAG partitions.
//
// Why hand-written: there is no maintained, typed max-flow package on npm.
// js-graph-algorithms was last published in 2017, is untyped and has Ford–Fulkerson only;
// @algorithm.ts/dinic is not in the registry. Dinic is ~100 lines, runs in the pure
// engine (no Node API) and is O(V²E) worst case, far less on partition graphs.
//
// Capacities are floats: a residual capacity at or below `epsilon` counts as saturated.
// Infinity is allowed for edges that must never be cut; if an all-infinite path joins
// source and sink the flow is unbounded and maxFlow returns Infinity.

export interface MinimumCut {
  /** Value of the maximum flow = capacity of the minimum cut. */
  value: number;
  /**
   * 1 for vertices reachable from the source in the residual graph: the source side of
   * the minimum cut with the fewest vertices.
   */
  sourceSide: Uint8Array;
}

export class FlowNetwork {
  readonly vertexCount: number;
  private edgeCount = 0;
  /** First edge out of each vertex (-1 for none); edges chain through `nextEdge`. */
  private readonly firstEdge: Int32Array;
  private nextEdge: Int32Array;
  private edgeTarget: Int32Array;
  /** Residual capacity; edge e's reverse is e ^ 1. */
  private residual: Float64Array;
  private epsilon = 0;

  constructor(vertexCount: number, expectedEdges = 16) {
    if (!Number.isInteger(vertexCount) || vertexCount < 2) throw new RangeError(`a flow network needs >= 2 vertices, got ${vertexCount}`);
    this.vertexCount = vertexCount;
    this.firstEdge = new Int32Array(vertexCount).fill(-1);
    const slots = Math.max(2, 2 * expectedEdges);
    this.nextEdge = new Int32Array(slots);
    this.edgeTarget = new Int32Array(slots);
    this.residual = new Float64Array(slots);
  }

  /** Adds a directed edge (and its zero-capacity reverse). Zero-capacity edges are skipped. */
  addEdge(from: number, to: number, capacity: number): void {
    if (!(capacity >= 0)) throw new RangeError(`edge ${from}->${to}: capacity must be >= 0, got ${capacity}`);
    if (from < 0 || from >= this.vertexCount || to < 0 || to >= this.vertexCount) {
      throw new RangeError(`edge ${from}->${to}: vertex outside 0..${this.vertexCount - 1}`);
    }
    if (capacity === 0 || from === to) return;
    if (this.edgeCount + 2 > this.edgeTarget.length) this.grow();
    this.link(from, to, capacity);
    this.link(to, from, 0);
  }

  private link(from: number, to: number, capacity: number): void {
    const edge = this.edgeCount++;
    this.edgeTarget[edge] = to;
    this.residual[edge] = capacity;
    this.nextEdge[edge] = this.firstEdge[from];
    this.firstEdge[from] = edge;
  }

  private grow(): void {
    const slots = this.edgeTarget.length * 2;
    const nextEdge = new Int32Array(slots);
    const edgeTarget = new Int32Array(slots);
    const residual = new Float64Array(slots);
    nextEdge.set(this.nextEdge);
    edgeTarget.set(this.edgeTarget);
    residual.set(this.residual);
    this.nextEdge = nextEdge;
    this.edgeTarget = edgeTarget;
    this.residual = residual;
  }

  /**
   * Pushes the maximum flow from `source` to `sink` and returns the minimum cut. The
   * default epsilon is 1e-12 × the largest finite capacity. Call once per network.
   */
  minimumCut(source: number, sink: number, epsilon?: number): MinimumCut {
    if (source === sink) throw new RangeError('source and sink must differ');
    this.epsilon = epsilon ?? this.defaultEpsilon();
    const level = new Int32Array(this.vertexCount);
    const queue = new Int32Array(this.vertexCount);
    const currentArc = new Int32Array(this.vertexCount);
    const pathEdges = new Int32Array(this.vertexCount);
    let value = 0;
    while (this.buildLevels(source, sink, level, queue)) {
      currentArc.set(this.firstEdge);
      const pushed = this.blockingFlow(source, sink, level, currentArc, pathEdges);
      value += pushed;
      if (pushed === Infinity) {
        this.buildLevels(source, sink, level, queue);
        break;
      }
    }
    // The last BFS reached, over unsaturated edges, exactly the source side of a minimum cut.
    return { value, sourceSide: Uint8Array.from(level, (l) => (l >= 0 ? 1 : 0)) };
  }

  private defaultEpsilon(): number {
    let largest = 0;
    for (let edge = 0; edge < this.edgeCount; edge += 2) {
      const capacity = this.residual[edge];
      if (capacity !== Infinity && capacity > largest) largest = capacity;
    }
    return largest * 1e-12;
  }

  /** BFS distances from the source over unsaturated edges; false when the sink is unreachable. */
  private buildLevels(source: number, sink: number, level: Int32Array, queue: Int32Array): boolean {
    level.fill(-1);
    level[source] = 0;
    let head = 0;
    let tail = 0;
    queue[tail++] = source;
    while (head < tail) {
      const vertex = queue[head++];
      for (let edge = this.firstEdge[vertex]; edge !== -1; edge = this.nextEdge[edge]) {
        const target = this.edgeTarget[edge];
        if (level[target] < 0 && this.residual[edge] > this.epsilon) {
          level[target] = level[vertex] + 1;
          queue[tail++] = target;
        }
      }
    }
    return level[sink] >= 0;
  }

  /** Augments along level-increasing paths until none is left; returns the flow pushed. */
  private blockingFlow(source: number, sink: number, level: Int32Array, currentArc: Int32Array, pathEdges: Int32Array): number {
    let total = 0;
    let depth = 0;
    let vertex = source;
    for (;;) {
      if (vertex === sink) {
        let bottleneck = Infinity;
        for (let i = 0; i < depth; i++) bottleneck = Math.min(bottleneck, this.residual[pathEdges[i]]);
        if (bottleneck === Infinity) return Infinity;
        for (let i = 0; i < depth; i++) {
          this.residual[pathEdges[i]] -= bottleneck;
          this.residual[pathEdges[i] ^ 1] += bottleneck;
        }
        total += bottleneck;
        // Retreat to the tail of the first edge the augmentation saturated.
        let saturated = 0;
        while (this.residual[pathEdges[saturated]] > this.epsilon) saturated++;
        depth = saturated;
        vertex = depth === 0 ? source : this.edgeTarget[pathEdges[depth - 1]];
        continue;
      }
      let advanced = false;
      for (; currentArc[vertex] !== -1; currentArc[vertex] = this.nextEdge[currentArc[vertex]]) {
        const edge = currentArc[vertex];
        const target = this.edgeTarget[edge];
        if (this.residual[edge] > this.epsilon && level[target] === level[vertex] + 1) {
          pathEdges[depth++] = edge;
          vertex = target;
          advanced = true;
          break;
        }
      }
      if (advanced) continue;
      if (vertex === source) return total;
      // Dead end: no augmenting path runs through this vertex in this phase.
      level[vertex] = -1;
      const edgeIn = pathEdges[--depth];
      vertex = depth === 0 ? source : this.edgeTarget[pathEdges[depth - 1]];
      currentArc[vertex] = this.nextEdge[edgeIn];
    }
  }
}
