// Caffe's LeNet for MNIST (the paper's DIG benchmark, examples/mnist/lenet.prototxt):
// no activation after the convolutions, one ReLU between the two inner products.
// Registered in index.ts.
import type { onnx } from '../onnx/generated/onnx.js';
import { conv2d, finishModel, flatten2d, inputFeatureMap, maxPool2d, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

const description =
  'Caffe LeNet for MNIST digits (the Neurosurgeon DIG benchmark): conv1 20@5×5 → pool1 2×2 → conv2 50@5×5 → pool2 2×2 → ip1 800→500 → ReLU → ip2 500→10 → Softmax; ' +
  'input 1×1×28×28. Weights are seeded random values.';

export function lenet(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('lenet', description, options);
  let x = inputFeatureMap(b, batch, 1, 28, 28);
  x = conv2d(b, x, { outChannels: 20, kernel: 5, name: '/conv1/Conv' });
  x = maxPool2d(b, x, { kernel: 2, stride: 2, name: '/pool1/MaxPool' });
  x = conv2d(b, x, { outChannels: 50, kernel: 5, name: '/conv2/Conv' });
  x = maxPool2d(b, x, { kernel: 2, stride: 2, name: '/pool2/MaxPool' });
  const flat = flatten2d(b, x);
  const hidden = b.relu(b.linear(flat.value, flat.features, 500, '/ip1/Gemm'), '/relu1/Relu');
  const logits = b.linear(hidden, 500, 10, '/ip2/Gemm');
  return finishModel(b, b.softmax(logits, 1, '/prob/Softmax'), [batch, 10]);
}
