// Weights are not traffic: what PyTorch's exporter writes — Identity aliases of
// initializers, Constant nodes, chains computed from weights alone — is folded into the
// layers that read it (weights.ts), with the parameters counted at those layers; random
// ops and activations never are. Broken graphs are refused with one line (graph-check.ts).
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../onnx/builder.js';
import { readOnnxModel } from '../onnx/reader.js';
import { encodeModel, int64TensorProto } from '../onnx/writer.js';
import { analyzeModel } from './analyze.js';
import { GraphStructureError } from './graph-check.js';

function build(make: (b: GraphBuilder) => void) {
  const b = new GraphBuilder('weights', { weights: 'zeros', opset: 17 });
  make(b);
  return readOnnxModel(b.toBytes());
}

describe('weight-only nodes', () => {
  // x → MatMul(x, Transpose(Identity(W))) → Add(·, Identity(B)) → Relu → Mul(·, Constant) → y
  const exported = () =>
    build((b) => {
      const x = b.input('x', 'float32', [1, 8]);
      const w = b.constantFloat('onnx::W', [4, 8], new Float32Array(32));
      const bias = b.constantFloat('onnx::B', [4], new Float32Array(4));
      const alias = b.op('Identity', [w], {}, '/alias');
      const wt = b.op('Transpose', [alias], { perm: [1, 0] }, '/wt');
      const mm = b.op('MatMul', [x, wt], {}, '/fc/MatMul');
      const add = b.op('Add', [mm, b.op('Identity', [bias], {}, '/bias_alias')], {}, '/fc/Add');
      const relu = b.relu(add, '/relu');
      const scale = b.op('Constant', [], { value_float: { float: 2 } }, '/scale');
      const y = b.op('Mul', [relu, scale], {}, '/mul');
      b.output(y, 'float32', [1, 4]);
    });

  it('are no layers: aliases, Transposes of weights and Constants fold into the layers that read them', () => {
    const a = analyzeModel(exported());
    expect(a.layers.map((l) => l.name)).toEqual(['/fc/MatMul', '/fc/Add', '/relu', '/mul']);
    expect(a.weightNodes.map((w) => [w.name, w.consumers])).toEqual([
      ['/alias', [0]],
      ['/wt', [0]],
      ['/bias_alias', [1]],
      ['/scale', [3]]
    ]);
    expect(a.layers.map((l) => l.index)).toEqual([0, 1, 2, 3]);
    expect(a.weights.values.has('/wt_output_0') || [...a.weights.values].some((v) => v.startsWith('/wt'))).toBe(true);
  });

  it('counts parameters at the layer that reads them, each stored weight once in the totals', () => {
    const a = analyzeModel(exported());
    const byName = new Map(a.layers.map((l) => [l.name, l]));
    expect(byName.get('/fc/MatMul')).toMatchObject({ params: 32, paramBytes: 128 });
    expect(byName.get('/fc/Add')).toMatchObject({ params: 4, paramBytes: 16 });
    expect(byName.get('/mul')).toMatchObject({ params: 1, paramBytes: 4 });
    expect(byName.get('/relu')).toMatchObject({ params: 0 });
    expect(a.totals).toMatchObject({ params: 37, paramBytes: 148 });
    expect(byName.get('/fc/MatMul')?.foldedNodes.map((i) => a.weightNodes.find((w) => w.nodeIndex === i)?.name)).toEqual(['/alias', '/wt']);
  });

  it('keeps random ops and anything reading an activation as layers', () => {
    const a = analyzeModel(
      build((b) => {
        const x = b.input('x', 'float32', [2, 3]);
        const noise = b.op('RandomNormalLike', [b.constantFloat('like', [2, 3], new Float32Array(6))], {}, '/noise');
        const shape = b.op('Shape', [x], {}, '/shape');
        const y = b.op('Add', [x, noise], {}, '/add');
        b.output(y, 'float32', [2, 3]);
        b.output(shape, 'int64', [2]);
      })
    );
    expect(a.layers.map((l) => l.name)).toEqual(['/noise', '/shape', '/add']);
    expect(a.weightNodes).toEqual([]);
  });

  it('counts a weight shared by two layers once in the totals', () => {
    const a = analyzeModel(
      build((b) => {
        const x = b.input('x', 'float32', [1, 4]);
        const w = b.op('Identity', [b.constantFloat('w', [4, 4], new Float32Array(16))], {}, '/w');
        const h = b.op('MatMul', [x, w], {}, '/a');
        b.output(b.op('MatMul', [h, w], {}, '/b'), 'float32', [1, 4]);
      })
    );
    expect(a.layers.map((l) => l.params)).toEqual([16, 16]);
    expect(a.totals.params).toBe(16);
    expect(a.weightNodes[0].consumers).toEqual([0, 1]);
  });
});

describe('broken graphs are refused with one line naming the node or value', () => {
  it('a value read that nothing produces', () => {
    const model = build((b) => {
      const x = b.input('x', 'float32', [1, 3]);
      b.output(b.op('Add', [x, 'nowhere'], {}, '/add'), 'float32', [1, 3]);
    });
    expect(() => analyzeModel(model)).toThrow(GraphStructureError);
    expect(() => analyzeModel(model)).toThrow('node "/add" (Add) reads "nowhere", which no node, model input or initializer produces');
  });

  it('a value produced twice', () => {
    const b = new GraphBuilder('twice', { weights: 'zeros', opset: 17 });
    const x = b.input('x', 'float32', [1, 3]);
    const r = b.relu(x, '/relu');
    b.output(r, 'float32', [1, 3]);
    const proto = b.toProto();
    proto.graph?.node?.push({ ...proto.graph.node[0], name: '/again' });
    expect(() => analyzeModel(readOnnxModel(encodeModel(proto)))).toThrow(/value ".*" is produced twice: by node "\/relu" \(Relu\) and by node "\/again" \(Relu\)/);
  });

  it('a cycle', () => {
    const b = new GraphBuilder('cycle', { weights: 'zeros', opset: 17 });
    const x = b.input('x', 'float32', [1, 3]);
    const first = b.op('Add', [x, 'loop'], {}, '/first');
    const second = b.op('Relu', [first], {}, '/second');
    b.output(second, 'float32', [1, 3]);
    const proto = b.toProto();
    const last = proto.graph?.node?.[1];
    if (last) last.output = ['loop'];
    proto.graph?.node?.push({ opType: 'Identity', name: '/out', input: ['loop'], output: [second] });
    expect(() => analyzeModel(readOnnxModel(encodeModel(proto)))).toThrow(/the graph has a cycle through node "\/(first|second)"/);
  });

  it('a negative dimension', () => {
    const b = new GraphBuilder('negative', { weights: 'zeros', opset: 17 });
    const x = b.input('x', 'float32', [1, -3]);
    b.output(b.relu(x, '/relu'), 'float32', [1, 3]);
    expect(() => analyzeModel(readOnnxModel(b.toBytes()))).toThrow('input "x" has an invalid dimension -3');
  });

  it('a negative dimension in an initializer', () => {
    const b = new GraphBuilder('negative-init', { weights: 'zeros', opset: 17 });
    const x = b.input('x', 'float32', [1, 3]);
    b.output(b.op('Reshape', [x, b.constantInt64('shape', [2], [3, 1])], {}, '/reshape'), 'float32', [3, 1]);
    const proto = b.toProto();
    proto.graph?.initializer?.push(int64TensorProto('bad', [-2], []));
    expect(() => analyzeModel(readOnnxModel(encodeModel(proto)))).toThrow('initializer "bad" has an invalid dimension -2');
  });
});
