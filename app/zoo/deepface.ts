// DeepFace (the paper's FACE benchmark): Taigman et al., CVPR 2014, Figure 2, on a
// 3×152×152 aligned face. ONNX has no locally-connected op, so L4–L6 are convolutions
// with the same kernels, strides and output sizes (same MACs, far fewer weights).
// Registered in index.ts.
import type { onnx } from '../onnx/generated/onnx.js';
import { conv2d, finishModel, flatten2d, inputFeatureMap, maxPool2d, relu2d, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

const description =
  'DeepFace (Taigman et al., CVPR 2014): C1 32@11×11 → M2 max-pool 3×3/2 → C3 16@9×9 → L4 16@9×9 → L5 16@7×7/2 → L6 16@5×5 → F7 4096 → F8 4030 identities + Softmax; ' +
  'input 1×3×152×152; ReLU after every layer but F8; M2 rounds up (ceil mode) to give the paper\'s 71×71. ' +
  'ONNX has no locally-connected layer, so L4, L5 and L6 are modelled as convolutions: identical output sizes and MACs, but shared weights ' +
  '(≈45.5 M parameters here instead of the paper\'s ≈120 M). Weights are seeded random values.';

export function deepface(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('deepface', description, options);
  let x = inputFeatureMap(b, batch, 3, 152, 152);
  x = relu2d(b, conv2d(b, x, { outChannels: 32, kernel: 11, name: '/C1/Conv' }), '/C1/Relu');
  x = maxPool2d(b, x, { kernel: 3, stride: 2, ceilMode: true, name: '/M2/MaxPool' });
  x = relu2d(b, conv2d(b, x, { outChannels: 16, kernel: 9, name: '/C3/Conv' }), '/C3/Relu');
  x = relu2d(b, conv2d(b, x, { outChannels: 16, kernel: 9, name: '/L4/Conv' }), '/L4/Relu');
  x = relu2d(b, conv2d(b, x, { outChannels: 16, kernel: 7, stride: 2, name: '/L5/Conv' }), '/L5/Relu');
  x = relu2d(b, conv2d(b, x, { outChannels: 16, kernel: 5, name: '/L6/Conv' }), '/L6/Relu');
  if (x.height !== 21 || x.width !== 21) throw new Error(`DeepFace L6 should be 21×21, got ${x.height}×${x.width}`);
  const flat = flatten2d(b, x);
  const f7 = b.relu(b.linear(flat.value, flat.features, 4096, '/F7/Gemm'), '/F7/Relu');
  const f8 = b.linear(f7, 4096, 4030, '/F8/Gemm');
  return finishModel(b, b.softmax(f8, 1, '/Softmax'), [batch, 4030]);
}
