// Topological cuts against hand-computed costs: every field of a 3-node chain, tensors
// with several consumers, graph outputs mid-graph, the ends (cloud-only, device-only), and
// how the best cut moves with server load and uplink bandwidth.
import { describe, expect, it } from 'vitest';
import { buildCutTable, costOfCut, crossingTensors, evaluatePartition, isPredecessorClosed, planCuts } from './cuts.js';
import { defaultPlanOptions } from './presets.js';
import type { CutCost, PartitionProblem, PlanOptions } from './types.js';

function expectCost(actual: CutCost, expected: CutCost): void {
  for (const field of Object.keys(expected) as (keyof CutCost)[]) {
    expect(actual[field], field).toBeCloseTo(expected[field], 9);
  }
}

// input(1000 B) → A → a(500 B) → B → b(250 B) → C → c(100 B, graph output)
const chain: PartitionProblem = {
  nodes: [
    { name: 'A', localMs: 10, remoteMs: 1 },
    { name: 'B', localMs: 20, remoteMs: 2 },
    { name: 'C', localMs: 30, remoteMs: 3 }
  ],
  tensors: [
    { name: 'input', bytes: 1000, producer: -1, consumers: [0], isGraphOutput: false },
    { name: 'a', bytes: 500, producer: 0, consumers: [1], isGraphOutput: false },
    { name: 'b', bytes: 250, producer: 1, consumers: [2], isGraphOutput: false },
    { name: 'c', bytes: 100, producer: 2, consumers: [], isGraphOutput: true }
  ]
};

// Uplink 8 Mbps: 1 ms per 1000 B. Downlink 16 Mbps: 1 ms per 2000 B. Half RTT 5 ms.
// P_up = 100 × 8 + 1000 = 1800 mW and P_down = 25 × 16 + 1000 = 1400 mW while bytes move;
// waiting (the RTT and the server's compute) = tail 200 + SoC idle 500 = 700 mW.
const handOptions: PlanOptions = {
  network: { name: 'hand', uplinkMbps: 8, downlinkMbps: 16, rttMs: 10 },
  radio: { uplinkAlphaMwPerMbps: 100, downlinkAlphaMwPerMbps: 25, betaMw: 1000, tailMw: 200 },
  device: { computeMw: 2000, idleMw: 500 },
  serverLoad: 2
};

describe('topological cuts of a 3-node chain, by hand', () => {
  const plan = planCuts(buildCutTable(chain), handOptions);

  it('cut 0 (cloud-only) uploads the model input and downloads the output', () => {
    // upload 1 + 5; remote 2 × 6; download 0.05 + 5;
    // energy (1800 × 1 + 1400 × 0.05 + 700 × (10 + 12)) / 1000
    expectCost(plan.cuts[0], {
      cut: 0,
      uploadBytes: 1000,
      downloadBytes: 100,
      localMs: 0,
      uploadMs: 6,
      remoteMs: 12,
      downloadMs: 5.05,
      totalMs: 23.05,
      energyMJ: 17.27
    });
  });

  it('cut 1 uploads the first activation', () => {
    expectCost(plan.cuts[1], {
      cut: 1,
      uploadBytes: 500,
      downloadBytes: 100,
      localMs: 10,
      uploadMs: 5.5,
      remoteMs: 10,
      downloadMs: 5.05,
      totalMs: 30.55,
      energyMJ: (2000 * 10 + 1800 * 0.5 + 1400 * 0.05 + 700 * (10 + 10)) / 1000
    });
  });

  it('cut 2 uploads the second activation', () => {
    expectCost(plan.cuts[2], {
      cut: 2,
      uploadBytes: 250,
      downloadBytes: 100,
      localMs: 30,
      uploadMs: 5.25,
      remoteMs: 6,
      downloadMs: 5.05,
      totalMs: 46.3,
      energyMJ: 71.72
    });
  });

  it('cut N (device-only) moves no bytes and pays no RTT', () => {
    expectCost(plan.cuts[3], {
      cut: 3,
      uploadBytes: 0,
      downloadBytes: 0,
      localMs: 60,
      uploadMs: 0,
      remoteMs: 0,
      downloadMs: 0,
      totalMs: 60,
      energyMJ: 120
    });
  });

  it('returns N + 1 cuts and the best per objective', () => {
    expect(plan.cuts).toHaveLength(4);
    expect(plan.best).toEqual({ latency: 0, energy: 0 });
  });

  it('agrees with evaluatePartition and costOfCut on every prefix', () => {
    const table = buildCutTable(chain);
    for (let k = 0; k <= 3; k++) {
      const prefix = Array.from({ length: k }, (_, i) => i);
      expectCost(evaluatePartition(chain, prefix, handOptions), plan.cuts[k]);
      expectCost(costOfCut(table, k, handOptions), plan.cuts[k]);
    }
  });

  it('lists the crossing tensors of each cut', () => {
    expect(crossingTensors(chain, 0)).toEqual({ uploaded: ['input'], downloaded: ['c'] });
    expect(crossingTensors(chain, 2)).toEqual({ uploaded: ['b'], downloaded: ['c'] });
    expect(crossingTensors(chain, 3)).toEqual({ uploaded: [], downloaded: [] });
  });

  it('breaks ties toward the smaller cut', () => {
    const flat: PartitionProblem = {
      nodes: [
        { name: 'A', localMs: 0, remoteMs: 0 },
        { name: 'B', localMs: 0, remoteMs: 0 }
      ],
      tensors: [
        { name: 'x', bytes: 0, producer: -1, consumers: [0], isGraphOutput: false },
        { name: 'y', bytes: 0, producer: 0, consumers: [1], isGraphOutput: false },
        { name: 'z', bytes: 0, producer: 1, consumers: [], isGraphOutput: true }
      ]
    };
    const options = { ...handOptions, network: { ...handOptions.network, rttMs: 0 } };
    expect(planCuts(buildCutTable(flat), options).best).toEqual({ latency: 0, energy: 0 });
  });
});

describe('tensors and outputs in a DAG', () => {
  // x → n0 → t0 ─┬→ n1 → t1 (graph output) ─┬→ n3 → y (graph output)
  //               └→ n2 → t2 ─────────────────┘
  const diamond: PartitionProblem = {
    nodes: ['n0', 'n1', 'n2', 'n3'].map((name) => ({ name, localMs: 1, remoteMs: 1 })),
    tensors: [
      { name: 'x', bytes: 4000, producer: -1, consumers: [0], isGraphOutput: false },
      { name: 't0', bytes: 1000, producer: 0, consumers: [1, 2], isGraphOutput: false },
      { name: 't1', bytes: 200, producer: 1, consumers: [3], isGraphOutput: true },
      { name: 't2', bytes: 30, producer: 2, consumers: [3], isGraphOutput: false },
      { name: 'y', bytes: 4, producer: 3, consumers: [], isGraphOutput: true }
    ]
  };
  const table = buildCutTable(diamond);
  const options = defaultPlanOptions('wifi');

  it('counts a tensor with several remote consumers once', () => {
    expect(table.uploadBytes[1]).toBe(1000);
    expect(crossingTensors(diamond, 1).uploaded).toEqual(['t0']);
    // t0 is still read by n2 on the server after n1 runs locally.
    expect(table.uploadBytes[2]).toBe(1000 + 200);
    expect(evaluatePartition(diamond, [0, 2], options).uploadBytes).toBe(1000 + 30);
  });

  it('downloads a mid-graph output only while its producer is remote', () => {
    expect(Array.from(table.downloadBytes)).toEqual([204, 204, 4, 4, 0]);
    expect(crossingTensors(diamond, 2)).toEqual({ uploaded: ['t0', 't1'], downloaded: ['y'] });
    expect(evaluatePartition(diamond, [0, 2], options).downloadBytes).toBe(204);
  });

  it('uploads the model input at cut 0 only', () => {
    expect(Array.from(table.uploadBytes)).toEqual([4000, 1000, 1200, 230, 0]);
  });

  it('recognises and rejects sets that are not closed under predecessors', () => {
    expect(isPredecessorClosed(diamond, [0, 2])).toBe(true);
    expect(isPredecessorClosed(diamond, [1])).toBe(false);
    expect(isPredecessorClosed(diamond, [0, 1, 3])).toBe(false);
    expect(() => evaluatePartition(diamond, [0, 3], options)).toThrow(/not closed/);
  });

  it('rejects malformed problems with the offending name', () => {
    const backwards: PartitionProblem = {
      nodes: diamond.nodes,
      tensors: [{ name: 'loop', bytes: 1, producer: 2, consumers: [1], isGraphOutput: false }]
    };
    expect(() => buildCutTable(backwards)).toThrow(/loop/);
    const negative: PartitionProblem = { nodes: [{ name: 'bad', localMs: -1, remoteMs: 0 }], tensors: [] };
    expect(() => buildCutTable(negative)).toThrow(/bad/);
    expect(() => planCuts(table, { ...options, serverLoad: Number.NaN })).toThrow(/serverLoad/);
  });
});

/** A CNN-like chain: output sizes fall and device latency rises along the layers. */
function cnnLikeChain(length: number): PartitionProblem {
  const nodes = Array.from({ length }, (_, i) => ({ name: `layer${i}`, localMs: 2 + 3 * i, remoteMs: 0.2 + 0.3 * i }));
  const bytesAfter = (i: number): number => Math.round(600_000 / (i + 2) ** 1.5);
  const tensors = [
    { name: 'input', bytes: 600_000, producer: -1, consumers: [0], isGraphOutput: false },
    ...nodes.map((_, i) => ({
      name: `out${i}`,
      bytes: bytesAfter(i),
      producer: i,
      consumers: i + 1 < length ? [i + 1] : [],
      isGraphOutput: i === length - 1
    }))
  ];
  return { nodes, tensors };
}

describe('how the best cut moves', () => {
  const table = buildCutTable(cnnLikeChain(20));

  it('moves toward the device as the server load K rises', () => {
    for (const objective of ['latency', 'energy'] as const) {
      let previous = -1;
      const seen = new Set<number>();
      for (const serverLoad of [0.5, 1, 2, 5, 10, 20, 50, 100, 1000]) {
        const best = planCuts(table, { ...defaultPlanOptions('lte'), serverLoad }).best[objective];
        expect(best, `${objective} at K=${serverLoad}`).toBeGreaterThanOrEqual(previous);
        previous = best;
        seen.add(best);
      }
      expect(seen.size, objective).toBeGreaterThan(1);
    }
  });

  // With the preset's RTT for both objectives: the RTT is charged at the waiting power
  // (radio tail + SoC idle), not at the transmit power, and per byte the upload energy
  // (alpha + beta / Mbps) × 8 / 1000 falls as the uplink rises.
  it('moves toward the server as the uplink rises', () => {
    for (const objective of ['latency', 'energy'] as const) {
      let previous = Infinity;
      const seen = new Set<number>();
      for (const uplinkMbps of [0.5, 1.1, 2, 5.85, 10, 18.88, 50, 100, 1000, 10_000]) {
        const options = defaultPlanOptions('wifi');
        options.network.uplinkMbps = uplinkMbps;
        const best = planCuts(table, options).best[objective];
        expect(best, `${objective} at ${uplinkMbps} Mbps`).toBeLessThanOrEqual(previous);
        previous = best;
        seen.add(best);
      }
      expect(seen.size, objective).toBeGreaterThan(1);
    }
  });
});

describe('scale', () => {
  it('plans every cut of a 10,000-node chain', () => {
    const problem = cnnLikeChain(10_000);
    const plan = planCuts(buildCutTable(problem), defaultPlanOptions('lte'));
    expect(plan.cuts).toHaveLength(10_001);
    expect(plan.cuts[10_000].uploadBytes).toBe(0);
    expect(Number.isFinite(plan.cuts[plan.best.latency].totalMs)).toBe(true);
  });
});

describe('predecessorClosure', () => {
  it('holds a node and everything it depends on, nothing else', async () => {
    const { predecessorClosure } = await import('./cuts.js');
    // diamond: 0 → (1, 2) → 3
    const problem = {
      nodes: [0, 1, 2, 3].map((i) => ({ name: `n${i}`, localMs: 1, remoteMs: 1 })),
      tensors: [
        { name: 'x', bytes: 1, producer: -1, consumers: [0], isGraphOutput: false },
        { name: 'a', bytes: 1, producer: 0, consumers: [1, 2], isGraphOutput: false },
        { name: 'b', bytes: 1, producer: 1, consumers: [3], isGraphOutput: false },
        { name: 'c', bytes: 1, producer: 2, consumers: [3], isGraphOutput: false },
        { name: 'y', bytes: 1, producer: 3, consumers: [], isGraphOutput: true }
      ]
    };
    expect([...predecessorClosure(problem, 2)].sort()).toEqual([0, 2]);
    expect([...predecessorClosure(problem, 3)].sort()).toEqual([0, 1, 2, 3]);
    expect([...predecessorClosure(problem, 0)]).toEqual([0]);
  });
});
