// torchvision SqueezeNet 1.1 as the eval-mode exporter writes it: Fire modules (squeeze
// 1×1, expand 1×1 and 3×3 concatenated), ceil-mode max-pools, a 1×1 conv classifier and
// global average pooling. No BatchNorm in this net. Registered in index.ts.
import type { GraphBuilder } from '../onnx/builder.js';
import type { onnx } from '../onnx/generated/onnx.js';
import { concatChannels, conv2d, finishModel, globalPoolAndFlatten, inputFeatureMap, maxPool2d, relu2d, zooGraph, type FeatureMap, type ZooBuildOptions } from './zoo-builder.js';

const description =
  'torchvision SqueezeNet 1.1 (Iandola et al. 2016): 3×3/2 conv, 8 Fire modules (squeeze 1×1 → expand 1×1 ‖ expand 3×3, concatenated) between three ceil-mode 3×3/2 max-pools, ' +
  'final 1×1 conv 512→1000 + ReLU, global average pool; input 1×3×224×224. Eval export: no Dropout. Weights are seeded random values.';

function fire(b: GraphBuilder, x: FeatureMap, index: number, squeeze: number, expand1x1: number, expand3x3: number): FeatureMap {
  const prefix = `/features/features.${index}`;
  const s = relu2d(b, conv2d(b, x, { outChannels: squeeze, kernel: 1, name: `${prefix}/squeeze/Conv` }), `${prefix}/squeeze_activation/Relu`);
  const e1 = relu2d(b, conv2d(b, s, { outChannels: expand1x1, kernel: 1, name: `${prefix}/expand1x1/Conv` }), `${prefix}/expand1x1_activation/Relu`);
  const e3 = relu2d(b, conv2d(b, s, { outChannels: expand3x3, kernel: 3, pad: 1, name: `${prefix}/expand3x3/Conv` }), `${prefix}/expand3x3_activation/Relu`);
  return concatChannels(b, [e1, e3], `${prefix}/Concat`);
}

export function squeezenet11(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('squeezenet1_1', description, options);
  const pool = (x: FeatureMap, index: number) => maxPool2d(b, x, { kernel: 3, stride: 2, ceilMode: true, name: `/features/features.${index}/MaxPool` });
  let x = inputFeatureMap(b, batch, 3, 224, 224);
  x = relu2d(b, conv2d(b, x, { outChannels: 64, kernel: 3, stride: 2, name: '/features/features.0/Conv' }), '/features/features.1/Relu');
  x = pool(x, 2);
  x = fire(b, x, 3, 16, 64, 64);
  x = fire(b, x, 4, 16, 64, 64);
  x = pool(x, 5);
  x = fire(b, x, 6, 32, 128, 128);
  x = fire(b, x, 7, 32, 128, 128);
  x = pool(x, 8);
  x = fire(b, x, 9, 48, 192, 192);
  x = fire(b, x, 10, 48, 192, 192);
  x = fire(b, x, 11, 64, 256, 256);
  x = fire(b, x, 12, 64, 256, 256);
  // classifier: Dropout(0) Conv(1) ReLU(2) AdaptiveAvgPool2d(1)(3)
  x = relu2d(b, conv2d(b, x, { outChannels: 1000, kernel: 1, name: '/classifier/classifier.1/Conv' }), '/classifier/classifier.2/Relu');
  const flat = globalPoolAndFlatten(b, x, '/classifier/classifier.3/GlobalAveragePool');
  return finishModel(b, flat.value, [batch, flat.features]);
}
