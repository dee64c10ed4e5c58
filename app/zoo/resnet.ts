// torchvision ResNet-18 and ResNet-50 (v1.5: stride on the bottleneck's 3×3) as the
// eval-mode exporter writes them: every BatchNorm folded into its conv's bias, residual
// Add, 1×1 downsample convs, GlobalAveragePool + Flatten + Gemm. Registered in index.ts.
import type { GraphBuilder } from '../onnx/builder.js';
import type { onnx } from '../onnx/generated/onnx.js';
import {
  conv2d,
  finishModel,
  globalPoolAndFlatten,
  inputFeatureMap,
  maxPool2d,
  relu2d,
  sameShape,
  zooGraph,
  type FeatureMap,
  type ZooBuildOptions
} from './zoo-builder.js';

type BlockKind = 'basic' | 'bottleneck';

const expansion: Record<BlockKind, number> = { basic: 1, bottleneck: 4 };

/** One residual block; `prefix` is e.g. '/layer2/layer2.0'. Node order follows torchvision's forward(). */
function residualBlock(b: GraphBuilder, x: FeatureMap, kind: BlockKind, planes: number, stride: number, prefix: string): FeatureMap {
  const outChannels = planes * expansion[kind];
  let y: FeatureMap;
  if (kind === 'basic') {
    y = relu2d(b, conv2d(b, x, { outChannels: planes, kernel: 3, stride, pad: 1, name: `${prefix}/conv1/Conv` }), `${prefix}/relu/Relu`);
    y = conv2d(b, y, { outChannels: planes, kernel: 3, pad: 1, name: `${prefix}/conv2/Conv` });
  } else {
    y = relu2d(b, conv2d(b, x, { outChannels: planes, kernel: 1, name: `${prefix}/conv1/Conv` }), `${prefix}/relu/Relu`);
    y = relu2d(b, conv2d(b, y, { outChannels: planes, kernel: 3, stride, pad: 1, name: `${prefix}/conv2/Conv` }), `${prefix}/relu_1/Relu`);
    y = conv2d(b, y, { outChannels, kernel: 1, name: `${prefix}/conv3/Conv` });
  }
  const identity =
    stride !== 1 || x.channels !== outChannels
      ? conv2d(b, x, { outChannels, kernel: 1, stride, name: `${prefix}/downsample/downsample.0/Conv` })
      : x;
  const sum = sameShape(y, b.add(y.value, identity.value, `${prefix}/Add`));
  return relu2d(b, sum, `${prefix}/${kind === 'basic' ? 'relu_1' : 'relu_2'}/Relu`);
}

function resnet(graphName: string, description: string, kind: BlockKind, blocksPerStage: number[], options: ZooBuildOptions): onnx.ModelProto {
  const { builder: b, batch } = zooGraph(graphName, description, options);
  let x = inputFeatureMap(b, batch, 3, 224, 224);
  x = relu2d(b, conv2d(b, x, { outChannels: 64, kernel: 7, stride: 2, pad: 3, name: '/conv1/Conv' }), '/relu/Relu');
  x = maxPool2d(b, x, { kernel: 3, stride: 2, pad: 1, name: '/maxpool/MaxPool' });
  blocksPerStage.forEach((blocks, stage) => {
    const planes = 64 * 2 ** stage;
    for (let block = 0; block < blocks; block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      x = residualBlock(b, x, kind, planes, stride, `/layer${stage + 1}/layer${stage + 1}.${block}`);
    }
  });
  const flat = globalPoolAndFlatten(b, x, '/avgpool/GlobalAveragePool');
  return finishModel(b, b.linear(flat.value, flat.features, 1000, '/fc/Gemm'), [batch, 1000]);
}

const foldedNote = 'BatchNorm folded into conv biases (eval export); input 1×3×224×224, 1000 ImageNet logits. Weights are seeded random values.';

export function resnet18(options: ZooBuildOptions = {}): onnx.ModelProto {
  return resnet(
    'resnet18',
    `torchvision ResNet-18 (He et al. 2016): 7×7/2 stem + max-pool, 4 stages of 2 basic blocks (64–512 channels), residual Add, 1×1 downsample convs, global average pool, FC 512→1000. ${foldedNote}`,
    'basic',
    [2, 2, 2, 2],
    options
  );
}

export function resnet50(options: ZooBuildOptions = {}): onnx.ModelProto {
  return resnet(
    'resnet50',
    `torchvision ResNet-50 v1.5 (He et al. 2016): 7×7/2 stem + max-pool, bottleneck stages of 3, 4, 6, 3 blocks (stride on the 3×3), residual Add, 1×1 downsample convs, global average pool, FC 2048→1000. ${foldedNote}`,
    'bottleneck',
    [3, 4, 6, 3],
    options
  );
}
