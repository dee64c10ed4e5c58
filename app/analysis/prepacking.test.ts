// weightPrepackingPays on graphs built in code: which layer keeps prepacking on, and why.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx/builder.js';
import type { Dim } from '../onnx/model.js';
import { readOnnxModel } from '../onnx/reader.js';
import { analyzeModel } from './analyze.js';
import { LARGE_UNPACKED_WEIGHT_BYTES, weightPrepackingPays } from './prepacking.js';

function verdict(make: (b: GraphBuilder) => void, arch = 'x64') {
  const b = new GraphBuilder('prepacking', { weights: 'zeros', opset: 17 });
  make(b);
  const model = readOnnxModel(b.toBytes());
  return weightPrepackingPays(model, analyzeModel(model), arch);
}

/** A batch-1 classifier: conv, pool, flatten, and Gemms of 16 and 3.9 MiB. */
function classifier(b: GraphBuilder, batch: Dim = 1, hidden = 1024): void {
  const x = b.input('x', 'float32', [batch, 3, 16, 16]);
  const c = b.relu(b.conv(x, { inChannels: 3, outChannels: 16, kernel: 3, pad: 1, name: '/conv' }));
  const f = b.flatten(c);
  const h = b.relu(b.linear(f, 16 * 16 * 16, hidden, '/fc1'), '/relu_fc1');
  b.output(b.linear(h, hidden, 1000, '/fc2'), 'float32', null);
}

describe('weightPrepackingPays', () => {
  it('keeps it for a batch-1 classifier whose single-row weights are under 96 MiB: the packed kernel streams them faster', () => {
    expect(verdict((b) => classifier(b))).toEqual({ pays: true, reason: "Gemm '/fc1' multiplies one row by a weight of 16.0 MiB, which runs faster packed" });
  });

  it('turns it off where single-row weights of 96 MiB or more outweigh the smaller ones, and not where they do not', () => {
    // Gemms of one row: 4096 → 6144 is 96 MiB; 6144 → out is out × 24 KiB.
    const head = (...outs: number[]) => (b: GraphBuilder) => {
      let x = b.input('x', 'float32', [1, 4096]);
      x = b.relu(b.linear(x, 4096, 6144, '/fc6'), '/relu6');
      for (const [i, out] of outs.entries()) x = b.linear(x, i === 0 ? 6144 : outs[i - 1], out, `/fc${7 + i}`);
      b.output(x, 'float32', null);
    };
    expect(4 * 4096 * 6144).toBe(LARGE_UNPACKED_WEIGHT_BYTES);
    expect(verdict(head(1000))).toEqual({ pays: false, reason: 'its single-row weights of 96 MiB or more (96.0 MiB) gain more unpacked than its smaller ones (23.4 MiB) lose' });
    expect(verdict(head())).toEqual({ pays: false, reason: 'every weight meets one row per run and is large enough to run faster unpacked' });
    expect(verdict(head(3072, 4096))).toEqual({ pays: true, reason: "Gemm '/fc7' multiplies one row by a weight of 72.0 MiB, which runs faster packed" });
  });

  it('has nothing to prepack in a graph without GEMM weights', () => {
    expect(
      verdict((b) => {
        const x = b.input('x', 'float32', [1, 3, 16, 16]);
        b.output(b.relu(b.conv(x, { inChannels: 3, outChannels: 8, kernel: 3, pad: 1, name: '/conv' })), 'float32', null);
      })
    ).toEqual({ pays: false, reason: 'no GEMM weight to prepack' });
  });

  it('keeps it for more than one row, and for rows it cannot count', () => {
    expect(verdict((b) => classifier(b, 8))).toEqual({ pays: true, reason: "Gemm '/fc1' multiplies 8 rows by its weight" });
    expect(verdict((b) => classifier(b, 'batch')).reason).toBe("Gemm '/fc1' multiplies rows of unknown count");
  });

  it('keeps it for a single-row weight small enough to stay in cache', () => {
    expect(verdict((b) => classifier(b, 1, 64)).reason).toBe("Gemm '/fc2' multiplies one row by a weight small enough to stay in cache");
  });

  it("counts a MatMul's rows over every dimension but the last: a sequence's tokens meet the weight", () => {
    const tokens = (length: number) => (b: GraphBuilder) => {
      const x = b.input('x', 'float32', [1, length, 512]);
      b.output(b.matmulLinear(x, 512, 1024, '/proj'), 'float32', null);
    };
    expect(verdict(tokens(128))).toEqual({ pays: true, reason: "MatMul '/proj/MatMul' multiplies 128 rows by its weight" });
    expect(verdict(tokens(1)).reason).toBe("MatMul '/proj/MatMul' multiplies one row by a weight of 2.0 MiB, which runs faster packed");
  });

  it('ignores a MatMul of two activations (attention scores): nothing of it is prepacked', () => {
    const result = verdict((b) => {
      const q = b.input('q', 'float32', [1, 64, 32]);
      const k = b.input('k', 'float32', [1, 32, 64]);
      b.output(b.softmax(b.op('MatMul', [q, k], {}, '/scores')), 'float32', null);
    });
    expect(result.pays).toBe(false);
  });

  it('keeps it for the ops that prepack whatever the rows: recurrent ones, and Conv on arm64', () => {
    const gru = verdict((b) => {
      const x = b.input('x', 'float32', [5, 1, 16]);
      const w = b.weight('W', [1, 3 * 32, 16], 16);
      const r = b.weight('R', [1, 3 * 32, 32], 32);
      const [y] = b.node('GRU', [x, w, r], { hidden_size: 32 }, { name: '/gru', outputCount: 2 });
      b.output(y, 'float32', null);
    });
    expect(gru).toEqual({ pays: true, reason: "GRU '/gru' prepacks its weights" });
    expect(verdict((b) => classifier(b), 'arm64')).toEqual({ pays: true, reason: "Conv '/conv' prepacks its weights on arm64" });
  });
});
