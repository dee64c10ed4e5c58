// Small quantized graphs for the tests (app/analysis and main/: the same bytes are
// analysed by hand-computed numbers and run by onnxruntime-node): one in the operator
// format with every integer op the studio models, one in the QDQ format, and variants with
// each kind of malformed quantization parameter.
import { GraphBuilder } from '../onnx/builder.js';
import { int8Weight, quantParameters } from '../onnx/quant-builder.js';

/**
 * x [1,3,8,8] → QuantizeLinear → QLinearConv (4 filters 3×3, pad 1, per-channel int8
 * weights, int32 bias) → QLinearAdd (com.microsoft, the conv's output twice) → Flatten
 * (uint8) → QLinearMatMul (int8 [256,10]) → DequantizeLinear → `logits` [1,10]; beside it
 * DynamicQuantizeLinear(x) → ConvInteger (uint8 [2,3,1,1]) → `conv_integer` (int32) and the
 * flattened uint8 → MatMulInteger (int8 [256,3]) → `matmul_integer` (int32).
 */
export function qoperatorTestGraph(): Uint8Array {
  const b = new GraphBuilder('qoperator-test', { opset: 17 });
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  const [s0, z0] = quantParameters(b, 'x', 0.02, 128);
  const q0 = b.op('QuantizeLinear', [x, s0, z0], {}, '/input/QuantizeLinear');
  const w1 = int8Weight(b, 'conv.weight', [4, 3, 3, 3]);
  const [ws1, wz1] = quantParameters(b, 'conv.weight', [0.01, 0.02, 0.03, 0.04], [0, 0, 0, 0], 'int8');
  const [s1, z1] = quantParameters(b, 'conv', 0.05, 100);
  const bias = b.constantTensor('conv.bias', 'int32', [4], Int32Array.from([10, -10, 20, -20]));
  const c1 = b.op('QLinearConv', [q0, s0, z0, w1, ws1, wz1, s1, z1, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/conv/QLinearConv');
  const [s2, z2] = quantParameters(b, 'add', 0.1, 90);
  const [a2] = b.node('QLinearAdd', [c1, s1, z1, c1, s1, z1, s2, z2], {}, { name: '/add/QLinearAdd', domain: 'com.microsoft' });
  const f3 = b.flatten(a2, 1, '/flatten/Flatten');
  const w4 = int8Weight(b, 'fc.weight', [256, 10]);
  const [ws4, wz4] = quantParameters(b, 'fc.weight', 0.01, 0, 'int8');
  const [s4, z4] = quantParameters(b, 'fc', 0.2, 128);
  const m4 = b.op('QLinearMatMul', [f3, s2, z2, w4, ws4, wz4, s4, z4], {}, '/fc/QLinearMatMul');
  const logits = b.op('DequantizeLinear', [m4, s4, z4], {}, '/output/DequantizeLinear');
  const dynamic = b.node('DynamicQuantizeLinear', [x], {}, { name: '/dynamic/DynamicQuantizeLinear', outputCount: 3 });
  const w5 = b.constantTensor('conv_integer.weight', 'uint8', [2, 3, 1, 1], Uint8Array.from([1, 2, 3, 4, 5, 6]));
  const wz5 = b.constantTensor('conv_integer.weight_zero_point', 'uint8', [], Uint8Array.from([3]));
  const convInteger = b.op('ConvInteger', [dynamic[0], w5, dynamic[2], wz5], {}, '/conv_integer/ConvInteger');
  const w6 = int8Weight(b, 'matmul_integer.weight', [256, 3]);
  const wz6 = b.constantTensor('matmul_integer.weight_zero_point', 'int8', [], Int8Array.from([0]));
  const matmulInteger = b.op('MatMulInteger', [f3, w6, z2, wz6], {}, '/matmul_integer/MatMulInteger');
  b.output(logits, 'float32', [1, 10]);
  b.output(convInteger, 'int32', [1, 2, 8, 8]);
  b.output(matmulInteger, 'int32', [1, 3]);
  return b.toBytes();
}

/**
 * The QDQ format by hand: x [1,3,8,8] → Q → DQ → Conv (weights: DQ of per-channel int8,
 * bias: DQ of int32) → Q → DQ → MaxPool 2×2 → Q → DQ → `output` [1,4,4,4]. Its layers: the
 * input's Q; DQ → Conv → Q; DQ → MaxPool → Q; the last DQ (it gives the model output).
 */
export function qdqTestGraph(): Uint8Array {
  const b = new GraphBuilder('qdq-test', { opset: 17 });
  const x = b.input('x', 'float32', [1, 3, 8, 8]);
  const [s0, z0] = quantParameters(b, 'x', 0.02, 128);
  const xq = b.op('QuantizeLinear', [x, s0, z0], {}, '/input/QuantizeLinear');
  const xd = b.op('DequantizeLinear', [xq, s0, z0], {}, '/conv/input/DequantizeLinear');
  const w = int8Weight(b, 'conv.weight', [4, 3, 3, 3]);
  const [ws, wz] = quantParameters(b, 'conv.weight', [0.01, 0.02, 0.03, 0.04], [0, 0, 0, 0], 'int8');
  const wd = b.op('DequantizeLinear', [w, ws, wz], { axis: 0 }, '/conv/weight/DequantizeLinear');
  const bias = b.constantTensor('conv.bias', 'int32', [4], Int32Array.from([10, -10, 20, -20]));
  const [bs, bz] = quantParameters(b, 'conv.bias', [0.0002, 0.0004, 0.0006, 0.0008], [0, 0, 0, 0], 'int32');
  const bd = b.op('DequantizeLinear', [bias, bs, bz], { axis: 0 }, '/conv/bias/DequantizeLinear');
  const conv = b.op('Conv', [xd, wd, bd], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, '/conv/Conv');
  const [s1, z1] = quantParameters(b, 'conv', 0.05, 100);
  const cq = b.op('QuantizeLinear', [conv, s1, z1], {}, '/conv/output/QuantizeLinear');
  const cd = b.op('DequantizeLinear', [cq, s1, z1], {}, '/pool/input/DequantizeLinear');
  const pool = b.maxPool(cd, { kernel: 2, stride: 2, name: '/pool/MaxPool' });
  const pq = b.op('QuantizeLinear', [pool, s1, z1], {}, '/pool/output/QuantizeLinear');
  const out = b.op('DequantizeLinear', [pq, s1, z1], {}, '/output/DequantizeLinear');
  b.output(out, 'float32', [1, 4, 4, 4]);
  return b.toBytes();
}

/** The ways quantization parameters can be malformed, each as a one-node graph refused by analysis. */
export type BadQuantization =
  | 'missing-scale'
  | 'non-scalar-scale'
  | 'zero-point-type'
  | 'per-axis-length'
  | 'blocked'
  | 'scale-rank';

/** A QLinearConv (or QuantizeLinear) named `/bad/<kind>` with the flaw `kind`. */
export function badQuantizationGraph(kind: BadQuantization): Uint8Array {
  const b = new GraphBuilder(`bad-${kind}`, { opset: 17 });
  const name = `/bad/${kind}`;
  if (kind === 'blocked' || kind === 'scale-rank') {
    const x = b.input('x', 'float32', [4, 8]);
    const [scale, zero] = kind === 'blocked' ? quantParameters(b, 'x', 0.1, 0) : [b.constantFloat('x_scale', [2, 2], new Float32Array(4).fill(0.1)), b.constantTensor('x_zero_point', 'uint8', [2, 2], new Uint8Array(4))];
    b.output(b.op('QuantizeLinear', [x, scale, zero], kind === 'blocked' ? { block_size: 4, axis: 1 } : { axis: 0 }, name), 'uint8', [4, 8]);
    return b.toBytes();
  }
  const x = b.input('x', 'uint8', [1, 3, 8, 8]);
  const [xs, xz] =
    kind === 'non-scalar-scale'
      ? quantParameters(b, 'x', [0.02, 0.02, 0.02], [128, 128, 128])
      : kind === 'zero-point-type'
        ? quantParameters(b, 'x', 0.02, 0, 'int8')
        : quantParameters(b, 'x', 0.02, 128);
  const w = int8Weight(b, 'w', [4, 3, 3, 3]);
  const perChannel = kind === 'per-axis-length' ? 3 : 4;
  const [ws, wz] = quantParameters(b, 'w', new Array<number>(perChannel).fill(0.01), new Array<number>(perChannel).fill(0), 'int8');
  const [ys, yz] = quantParameters(b, 'y', 0.05, 100);
  const inputs = [x, kind === 'missing-scale' ? '' : xs, xz, w, ws, wz, ys, yz];
  b.output(b.op('QLinearConv', inputs, { kernel_shape: [3, 3] }, name), 'uint8', null);
  return b.toBytes();
}
