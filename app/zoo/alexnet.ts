// torchvision AlexNet (the paper's IMC benchmark) as PyTorch exports it in eval mode:
// Dropout is gone and AdaptiveAvgPool2d(6, 6) vanishes because the feature map is
// already 6×6 at 224×224 input. Registered in index.ts.
import type { onnx } from '../onnx/generated/onnx.js';
import { conv2d, finishModel, flatten2d, inputFeatureMap, maxPool2d, relu2d, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

const description =
  'torchvision AlexNet (Krizhevsky et al. 2012, single-GPU variant): 5 convolutions, 3 max-pools, 3 fully-connected layers; ' +
  'input 1×3×224×224, 1000 ImageNet classes (logits). Exported as in eval mode: no Dropout; AdaptiveAvgPool2d(6,6) is an identity at this input size and is omitted. ' +
  'Weights are seeded random values, not trained ones.';

export function alexnet(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('alexnet', description, options);
  const at = (index: number, op: string) => `/features/features.${index}/${op}`;
  let x = inputFeatureMap(b, batch, 3, 224, 224);
  x = relu2d(b, conv2d(b, x, { outChannels: 64, kernel: 11, stride: 4, pad: 2, name: at(0, 'Conv') }), at(1, 'Relu'));
  x = maxPool2d(b, x, { kernel: 3, stride: 2, name: at(2, 'MaxPool') });
  x = relu2d(b, conv2d(b, x, { outChannels: 192, kernel: 5, pad: 2, name: at(3, 'Conv') }), at(4, 'Relu'));
  x = maxPool2d(b, x, { kernel: 3, stride: 2, name: at(5, 'MaxPool') });
  x = relu2d(b, conv2d(b, x, { outChannels: 384, kernel: 3, pad: 1, name: at(6, 'Conv') }), at(7, 'Relu'));
  x = relu2d(b, conv2d(b, x, { outChannels: 256, kernel: 3, pad: 1, name: at(8, 'Conv') }), at(9, 'Relu'));
  x = relu2d(b, conv2d(b, x, { outChannels: 256, kernel: 3, pad: 1, name: at(10, 'Conv') }), at(11, 'Relu'));
  x = maxPool2d(b, x, { kernel: 3, stride: 2, name: at(12, 'MaxPool') });
  if (x.height !== 6 || x.width !== 6) throw new Error(`AlexNet features should be 6×6, got ${x.height}×${x.width}`);
  const flat = flatten2d(b, x);
  // classifier: Dropout(0) Linear(1) ReLU(2) Dropout(3) Linear(4) ReLU(5) Linear(6)
  let y = b.relu(b.linear(flat.value, flat.features, 4096, '/classifier/classifier.1/Gemm'), '/classifier/classifier.2/Relu');
  y = b.relu(b.linear(y, 4096, 4096, '/classifier/classifier.4/Gemm'), '/classifier/classifier.5/Relu');
  y = b.linear(y, 4096, 1000, '/classifier/classifier.6/Gemm');
  return finishModel(b, y, [batch, 1000]);
}
