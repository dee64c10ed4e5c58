// The sample model zoo: every model the studio can generate in code (no downloads), with
// what the UI, the CLI (main/model/zoo-files.ts) and the tests need to know without building
// it. Each builder lives in its own file beside this one; `large` models (≥ 100 MB of
// weights) are generated on demand and never committed.
import type { ElementTypeName } from '../onnx/element-type.js';
import { encodeModel } from '../onnx/writer.js';
import { alexnet } from './alexnet.js';
import { deepface } from './deepface.js';
import { googlenet } from './googlenet.js';
import { kaldiAsr } from './kaldi-asr.js';
import { lenet } from './lenet.js';
import { mobilenetV2 } from './mobilenet-v2.js';
import { resnet18, resnet50 } from './resnet.js';
import { sennaChk, sennaNer, sennaPos, sennaCapsFeatures, sennaVocabulary, sennaWindow } from './senna.js';
import { squeezenet11 } from './squeezenet.js';
import { transformer, transformerBaseConfig, transformerLarge, transformerLargeConfig } from './transformer.js';
import { vgg16 } from './vgg16.js';
import type { ZooBuildOptions, ZooModelBuilder } from './zoo-builder.js';

export type { ZooBuildOptions, ZooModelBuilder } from './zoo-builder.js';
export type { TransformerConfig } from './transformer.js';
export { transformerEncoder } from './transformer.js';

/** The eight DNNs of the Neurosurgeon paper (Kang et al., ASPLOS 2017, Table 2), by its names. */
export type PaperBenchmark = 'IMC' | 'VGG' | 'FACE' | 'DIG' | 'ASR' | 'POS' | 'NER' | 'CHK';

export interface ZooTensor {
  name: string;
  dtype: ElementTypeName;
  /** Shape at batch 1 (the first dim is the batch). */
  shape: number[];
  /** For index inputs (int64): valid values are 0 ≤ v < indexLimit. */
  indexLimit?: number;
}

export interface ZooReference {
  /** Multiply-accumulates for one 224×224 image, as the source documents them. */
  macs: number;
  params: number;
  source: string;
}

export interface ZooEntry {
  id: string;
  title: string;
  benchmark?: PaperBenchmark;
  /** 'chain': each node feeds only the next (cuts are single tensors); 'dag': branches, residuals, several inputs. */
  kind: 'chain' | 'dag';
  description: string;
  inputs: ZooTensor[];
  outputs: ZooTensor[];
  /** Bytes of weights (float32 initializers), within 1% of the built model's. */
  approxBytes: number;
  /** ≥ 100 MB: generated on demand, git-ignored. */
  large: boolean;
  reference?: ZooReference;
  build: ZooModelBuilder;
}

const LARGE_BYTES = 100e6;
const torchvisionSource = 'torchvision.models, IMAGENET1K_V1 weights metadata (num_params, GFLOPS = GMACs)';

const image = (channels: number, size: number): ZooTensor[] => [{ name: 'input', dtype: 'float32', shape: [1, channels, size, size] }];
const vector = (name: string, length: number): ZooTensor[] => [{ name, dtype: 'float32', shape: [1, length] }];
const sennaInputs: ZooTensor[] = [
  { name: 'input', dtype: 'int64', shape: [1, sennaWindow], indexLimit: sennaVocabulary },
  { name: 'caps', dtype: 'int64', shape: [1, sennaWindow], indexLimit: sennaCapsFeatures }
];

type EntryWithoutSize = Omit<ZooEntry, 'large'>;

const entries: EntryWithoutSize[] = [
  {
    id: 'alexnet',
    title: 'AlexNet',
    benchmark: 'IMC',
    kind: 'chain',
    description: 'torchvision AlexNet, 224×224 image classification (the paper\'s IMC benchmark and Figures 5–6).',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 244_403_360,
    reference: { macs: 0.71e9, params: 61_100_840, source: torchvisionSource },
    build: alexnet
  },
  {
    id: 'vgg16',
    title: 'VGG-16',
    benchmark: 'VGG',
    kind: 'chain',
    description: 'torchvision VGG-16 (no BatchNorm), 224×224 image classification (the paper\'s VGG benchmark).',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 553_430_176,
    reference: { macs: 15.47e9, params: 138_357_544, source: torchvisionSource },
    build: vgg16
  },
  {
    id: 'deepface',
    title: 'DeepFace',
    benchmark: 'FACE',
    kind: 'chain',
    description: 'DeepFace face recognition, 152×152 aligned face → 4030 identities; locally-connected layers modelled as convolutions (the paper\'s FACE benchmark).',
    inputs: image(3, 152),
    outputs: vector('output', 4030),
    approxBytes: 182_036_984,
    build: deepface
  },
  {
    id: 'lenet',
    title: 'LeNet (MNIST)',
    benchmark: 'DIG',
    kind: 'chain',
    description: 'Caffe LeNet, 28×28 handwritten digit recognition (the paper\'s DIG benchmark).',
    inputs: image(1, 28),
    outputs: vector('output', 10),
    approxBytes: 1_724_320,
    build: lenet
  },
  {
    id: 'kaldi-asr',
    title: 'Kaldi-style ASR DNN',
    benchmark: 'ASR',
    kind: 'chain',
    description: 'Kaldi-style DNN acoustic model: 11 spliced 40-dim filterbank frames → 6×2048 sigmoid → 3500 senones (the paper\'s ASR benchmark).',
    inputs: vector('input', 440),
    outputs: vector('output', 3500),
    approxBytes: 116_225_712,
    build: kaldiAsr
  },
  ...(['pos', 'ner', 'chk'] as const).map(
    (task): EntryWithoutSize => ({
      id: `senna-${task}`,
      title: `SENNA ${task.toUpperCase()}`,
      benchmark: task === 'pos' ? 'POS' : task === 'ner' ? 'NER' : 'CHK',
      kind: 'dag',
      description: `SENNA window-approach tagger for ${task === 'pos' ? 'part-of-speech tagging' : task === 'ner' ? 'named-entity recognition' : 'chunking'}: word + capitalisation embeddings of a 5-word window (two inputs joined by Concat), then fully-connected (the paper's ${task.toUpperCase()} benchmark).`,
      inputs: sennaInputs,
      outputs: vector('output', task === 'pos' ? 45 : task === 'ner' ? 17 : 42),
      approxBytes: task === 'pos' ? 26_385_488 : task === 'ner' ? 26_351_776 : 26_381_876,
      build: task === 'pos' ? sennaPos : task === 'ner' ? sennaNer : sennaChk
    })
  ),
  {
    id: 'resnet18',
    title: 'ResNet-18',
    kind: 'dag',
    description: 'torchvision ResNet-18 with BatchNorm folded: residual blocks make cuts that cross two tensors.',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 46_738_848,
    reference: { macs: 1.81e9, params: 11_689_512, source: torchvisionSource },
    build: resnet18
  },
  {
    id: 'resnet50',
    title: 'ResNet-50',
    kind: 'dag',
    description: 'torchvision ResNet-50 (v1.5) with BatchNorm folded: bottleneck residual blocks.',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 102_121_888,
    reference: { macs: 4.09e9, params: 25_557_032, source: torchvisionSource },
    build: resnet50
  },
  {
    id: 'mobilenet-v2',
    title: 'MobileNetV2',
    kind: 'dag',
    description: 'torchvision MobileNetV2 with BatchNorm folded: depthwise convs, inverted residuals, ReLU6 as Clip.',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 13_951_544,
    reference: { macs: 0.3e9, params: 3_504_872, source: torchvisionSource },
    build: mobilenetV2
  },
  {
    id: 'squeezenet1.1',
    title: 'SqueezeNet 1.1',
    kind: 'dag',
    description: 'torchvision SqueezeNet 1.1: Fire modules with two concatenated expand branches.',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 4_941_984,
    reference: { macs: 0.35e9, params: 1_235_496, source: torchvisionSource },
    build: squeezenet11
  },
  {
    id: 'googlenet',
    title: 'GoogLeNet',
    kind: 'dag',
    description: 'torchvision GoogLeNet (Inception v1) with BatchNorm folded, no auxiliary classifiers: four-branch Inception blocks.',
    inputs: image(3, 224),
    outputs: vector('output', 1000),
    approxBytes: 26_470_496,
    reference: { macs: 1.5e9, params: 6_624_904, source: torchvisionSource },
    build: googlenet
  },
  {
    id: 'transformer',
    title: 'Transformer encoder',
    kind: 'dag',
    description: `BERT-style encoder: ${transformerBaseConfig.layers} layers, hidden ${transformerBaseConfig.hidden}, ${transformerBaseConfig.heads} heads, sequence ${transformerBaseConfig.seq}, vocabulary ${transformerBaseConfig.vocab}.`,
    inputs: [{ name: 'input', dtype: 'int64', shape: [1, transformerBaseConfig.seq], indexLimit: transformerBaseConfig.vocab }],
    outputs: [{ name: 'output', dtype: 'float32', shape: [1, transformerBaseConfig.seq, transformerBaseConfig.hidden] }],
    approxBytes: 20_961_344,
    build: transformer
  },
  {
    id: 'transformer-large',
    title: 'Transformer encoder (deep)',
    kind: 'dag',
    description: `BERT-style encoder with over 1,000 nodes: ${transformerLargeConfig.layers} layers, hidden ${transformerLargeConfig.hidden}, FFN ${transformerLargeConfig.ffn}, ${transformerLargeConfig.heads} heads, sequence ${transformerLargeConfig.seq}.`,
    inputs: [{ name: 'input', dtype: 'int64', shape: [1, transformerLargeConfig.seq], indexLimit: transformerLargeConfig.vocab }],
    outputs: [{ name: 'output', dtype: 'float32', shape: [1, transformerLargeConfig.seq, transformerLargeConfig.hidden] }],
    approxBytes: 28_748_784,
    build: transformerLarge
  }
];

export const zooModels: ZooEntry[] = entries.map((entry) => ({ ...entry, large: entry.approxBytes >= LARGE_BYTES }));

/** The entry for `id`; throws naming the valid ids when there is none. */
export function zooModel(id: string): ZooEntry {
  const entry = zooModels.find((m) => m.id === id);
  if (!entry) throw new Error(`unknown zoo model '${id}'; valid ids: ${zooModels.map((m) => m.id).join(', ')}`);
  return entry;
}

/** Builds and encodes zoo model `id` (deterministic for a given seed). */
export function buildZooModel(id: string, options: ZooBuildOptions = {}): Uint8Array {
  return encodeModel(zooModel(id).build(options));
}
