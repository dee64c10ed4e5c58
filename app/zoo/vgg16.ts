// torchvision VGG-16 without BatchNorm (the paper's VGG benchmark), exported in eval
// mode: no Dropout; AdaptiveAvgPool2d(7, 7) is an identity at 224×224 and is omitted.
// Registered in index.ts.
import type { onnx } from '../onnx/generated/onnx.js';
import { conv2d, finishModel, flatten2d, inputFeatureMap, maxPool2d, relu2d, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

const description =
  'torchvision VGG-16 (Simonyan & Zisserman 2015, configuration D, no BatchNorm): 13 3×3 convolutions with ReLU, 5 max-pools, ' +
  'classifier 25088→4096→4096→1000; input 1×3×224×224. Eval export: no Dropout; AdaptiveAvgPool2d(7,7) is an identity at this size and is omitted. ' +
  'Weights are seeded random values, not trained ones.';

/** torchvision's cfgs['D']: output channels of each conv, 'M' for a 2×2 max-pool. */
const configurationD: (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

export function vgg16(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('vgg16', description, options);
  let x = inputFeatureMap(b, batch, 3, 224, 224);
  let index = 0;
  for (const item of configurationD) {
    if (item === 'M') {
      x = maxPool2d(b, x, { kernel: 2, stride: 2, name: `/features/features.${index}/MaxPool` });
      index += 1;
    } else {
      x = conv2d(b, x, { outChannels: item, kernel: 3, pad: 1, name: `/features/features.${index}/Conv` });
      x = relu2d(b, x, `/features/features.${index + 1}/Relu`);
      index += 2;
    }
  }
  if (x.height !== 7 || x.width !== 7) throw new Error(`VGG-16 features should be 7×7, got ${x.height}×${x.width}`);
  const flat = flatten2d(b, x);
  // classifier: Linear(0) ReLU(1) Dropout(2) Linear(3) ReLU(4) Dropout(5) Linear(6)
  let y = b.relu(b.linear(flat.value, flat.features, 4096, '/classifier/classifier.0/Gemm'), '/classifier/classifier.1/Relu');
  y = b.relu(b.linear(y, 4096, 4096, '/classifier/classifier.3/Gemm'), '/classifier/classifier.4/Relu');
  y = b.linear(y, 4096, 1000, '/classifier/classifier.6/Gemm');
  return finishModel(b, y, [batch, 1000]);
}
