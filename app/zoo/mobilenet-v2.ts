// torchvision MobileNetV2 (width 1.0) as the eval-mode exporter writes it: BatchNorm
// folded into conv biases, ReLU6 as Clip(0, 6), depthwise convs as group = channels,
// no activation after the projection, residual Add when stride 1 and in == out.
// Registered in index.ts.
import type { GraphBuilder } from '../onnx/builder.js';
import type { onnx } from '../onnx/generated/onnx.js';
import { conv2d, finishModel, globalPoolAndFlatten, inputFeatureMap, sameShape, zooGraph, type FeatureMap, type ZooBuildOptions } from './zoo-builder.js';

const description =
  'torchvision MobileNetV2 (Sandler et al. 2018, width 1.0): 3×3/2 stem, 17 inverted-residual blocks (1×1 expand ×6, 3×3 depthwise, linear 1×1 projection, ' +
  'residual Add when stride 1 and channels match), 1×1 conv 320→1280, global average pool, FC 1280→1000; ReLU6 exported as Clip(0, 6); ' +
  'BatchNorm folded into conv biases; input 1×3×224×224. Weights are seeded random values.';

/** torchvision's inverted_residual_setting: expand ratio t, output channels c, repeats n, first stride s. */
const invertedResidualSetting: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1]
];

/** Conv2dNormActivation with ReLU6: Conv (BN folded) then Clip; `prefix` names the Sequential, e.g. '/features/features.0'. */
function convReLU6(b: GraphBuilder, x: FeatureMap, prefix: string, outChannels: number, kernel: number, stride = 1, group = 1): FeatureMap {
  const leaf = prefix.slice(prefix.lastIndexOf('/') + 1);
  const conv = conv2d(b, x, { outChannels, kernel, stride, pad: (kernel - 1) / 2, group, name: `${prefix}/${leaf}.0/Conv` });
  return sameShape(conv, b.relu6(conv.value, `${prefix}/${leaf}.2/Clip`));
}

function invertedResidual(b: GraphBuilder, x: FeatureMap, index: number, expandRatio: number, outChannels: number, stride: number): FeatureMap {
  const prefix = `/features/features.${index}/conv`;
  const hidden = x.channels * expandRatio;
  let y = x;
  let layer = 0;
  if (expandRatio !== 1) y = convReLU6(b, y, `${prefix}/conv.${layer++}`, hidden, 1);
  y = convReLU6(b, y, `${prefix}/conv.${layer++}`, hidden, 3, stride, hidden);
  y = conv2d(b, y, { outChannels, kernel: 1, name: `${prefix}/conv.${layer}/Conv` });
  const residual = stride === 1 && x.channels === outChannels;
  return residual ? sameShape(y, b.add(x.value, y.value, `/features/features.${index}/Add`)) : y;
}

export function mobilenetV2(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('mobilenet_v2', description, options);
  let x = inputFeatureMap(b, batch, 3, 224, 224);
  x = convReLU6(b, x, '/features/features.0', 32, 3, 2);
  let index = 1;
  for (const [expandRatio, channels, repeats, firstStride] of invertedResidualSetting) {
    for (let i = 0; i < repeats; i++) {
      x = invertedResidual(b, x, index++, expandRatio, channels, i === 0 ? firstStride : 1);
    }
  }
  x = convReLU6(b, x, `/features/features.${index}`, 1280, 1);
  const flat = globalPoolAndFlatten(b, x, '/GlobalAveragePool');
  // classifier: Dropout(0) Linear(1)
  return finishModel(b, b.linear(flat.value, flat.features, 1000, '/classifier/classifier.1/Gemm'), [batch, 1000]);
}
