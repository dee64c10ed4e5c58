// torchvision GoogLeNet (Inception v1) in eval mode as the exporter writes it: no
// auxiliary classifiers, transform_input=False, BatchNorm folded into conv biases,
// ceil-mode max-pools, four-branch Inception blocks joined by Concat. Registered in index.ts.
import type { GraphBuilder } from '../onnx/builder.js';
import type { onnx } from '../onnx/generated/onnx.js';
import {
  concatChannels,
  conv2d,
  finishModel,
  globalPoolAndFlatten,
  inputFeatureMap,
  maxPool2d,
  relu2d,
  zooGraph,
  type FeatureMap,
  type ZooBuildOptions
} from './zoo-builder.js';

const description =
  'torchvision GoogLeNet (Szegedy et al. 2015, Inception v1 with BatchNorm): 7×7/2 stem, 1×1 and 3×3 convs, 9 Inception blocks with 4 branches ' +
  '(1×1; 1×1→3×3; 1×1→3×3, torchvision\'s stand-in for the 5×5; 3×3 max-pool→1×1) concatenated, ceil-mode max-pools, global average pool, FC 1024→1000. ' +
  'Eval export: no auxiliary classifiers, no Dropout, transform_input=False, BatchNorm folded into conv biases; input 1×3×224×224. Weights are seeded random values.';

/** BasicConv2d: Conv (BN folded) + ReLU; `prefix` e.g. '/inception3a/branch2/branch2.0'. */
function basicConv(b: GraphBuilder, x: FeatureMap, prefix: string, outChannels: number, kernel: number, stride = 1, pad = 0): FeatureMap {
  return relu2d(b, conv2d(b, x, { outChannels, kernel, stride, pad, name: `${prefix}/conv/Conv` }), `${prefix}/Relu`);
}

/** torchvision Inception(in, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj); branches in forward() order. */
function inception(b: GraphBuilder, x: FeatureMap, name: string, [ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, poolProj]: number[]): FeatureMap {
  const p = `/${name}`;
  const branch1 = basicConv(b, x, `${p}/branch1`, ch1x1, 1);
  const branch2 = basicConv(b, basicConv(b, x, `${p}/branch2/branch2.0`, ch3x3red, 1), `${p}/branch2/branch2.1`, ch3x3, 3, 1, 1);
  const branch3 = basicConv(b, basicConv(b, x, `${p}/branch3/branch3.0`, ch5x5red, 1), `${p}/branch3/branch3.1`, ch5x5, 3, 1, 1);
  const pooled = maxPool2d(b, x, { kernel: 3, stride: 1, pad: 1, ceilMode: true, name: `${p}/branch4/branch4.0/MaxPool` });
  const branch4 = basicConv(b, pooled, `${p}/branch4/branch4.1`, poolProj, 1);
  return concatChannels(b, [branch1, branch2, branch3, branch4], `${p}/Concat`);
}

export function googlenet(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('googlenet', description, options);
  const pool = (x: FeatureMap, name: string, kernel = 3) => maxPool2d(b, x, { kernel, stride: 2, ceilMode: true, name: `/${name}/MaxPool` });
  let x = inputFeatureMap(b, batch, 3, 224, 224);
  x = basicConv(b, x, '/conv1', 64, 7, 2, 3);
  x = pool(x, 'maxpool1');
  x = basicConv(b, x, '/conv2', 64, 1);
  x = basicConv(b, x, '/conv3', 192, 3, 1, 1);
  x = pool(x, 'maxpool2');
  x = inception(b, x, 'inception3a', [64, 96, 128, 16, 32, 32]);
  x = inception(b, x, 'inception3b', [128, 128, 192, 32, 96, 64]);
  x = pool(x, 'maxpool3');
  x = inception(b, x, 'inception4a', [192, 96, 208, 16, 48, 64]);
  x = inception(b, x, 'inception4b', [160, 112, 224, 24, 64, 64]);
  x = inception(b, x, 'inception4c', [128, 128, 256, 24, 64, 64]);
  x = inception(b, x, 'inception4d', [112, 144, 288, 32, 64, 64]);
  x = inception(b, x, 'inception4e', [256, 160, 320, 32, 128, 128]);
  x = pool(x, 'maxpool4', 2);
  x = inception(b, x, 'inception5a', [256, 160, 320, 32, 128, 128]);
  x = inception(b, x, 'inception5b', [384, 192, 384, 48, 128, 128]);
  if (x.height !== 7 || x.channels !== 1024) throw new Error(`GoogLeNet should end at 1024×7×7, got ${x.channels}×${x.height}×${x.width}`);
  const flat = globalPoolAndFlatten(b, x, '/avgpool/GlobalAveragePool');
  return finishModel(b, b.linear(flat.value, flat.features, 1000, '/fc/Gemm'), [batch, 1000]);
}
