// The sample zoo (index.ts and one builder per architecture): every model builds, reads
// back with the reader, has the structure, node count and parameter count expected of
// it (torchvision's documented counts where they exist), and builds deterministically.
// Running the models with onnxruntime is main/zoo-run.test.ts.
import { describe, expect, it } from 'vitest';
import { readOnnxModel } from '../onnx/reader.js';
import type { OnnxGraph, OnnxModel } from '../onnx/model.js';
import { buildZooModel, zooModel, zooModels, type ZooEntry } from './index.js';
import { transformerBaseConfig, transformerLargeConfig, transformerNodeCount } from './transformer.js';
import { poolOutputSize, convOutputSize } from './zoo-builder.js';

interface Expected {
  nodes: number;
  firstOp: string;
  lastOp: string;
  /** Exact count where there is no published reference (sum of initializer elements). */
  params?: number;
}

const linearParams = (inputs: number, outputs: number) => inputs * outputs + outputs;
const convParams = (inputs: number, outputs: number, kernel: number) => inputs * outputs * kernel * kernel + outputs;
const sennaParams = (tags: number) => 130_000 * 50 + 5 * 5 + linearParams(275, 300) + 2 /* Clip min, max */ + linearParams(300, tags) + 2 /* Reshape shape */;
const transformerParams = ({ layers, hidden, seq, ffn, vocab }: typeof transformerBaseConfig) => {
  const perLayer =
    4 * linearParams(hidden, hidden) + linearParams(hidden, ffn) + linearParams(ffn, hidden) + 2 * 2 * hidden /* LayerNorms */ + 3 * 4 + 3 /* Reshape shapes */ + 1 /* Div */ + 3 /* GELU scalars */;
  return vocab * hidden + seq * hidden + 2 * hidden + layers * perLayer;
};

const expected: Record<string, Expected> = {
  alexnet: { nodes: 19, firstOp: 'Conv', lastOp: 'Gemm' },
  vgg16: { nodes: 37, firstOp: 'Conv', lastOp: 'Gemm' },
  deepface: {
    nodes: 16,
    firstOp: 'Conv',
    lastOp: 'Softmax',
    params:
      convParams(3, 32, 11) + convParams(32, 16, 9) + convParams(16, 16, 9) + convParams(16, 16, 7) + convParams(16, 16, 5) + linearParams(21 * 21 * 16, 4096) + linearParams(4096, 4030)
  },
  lenet: { nodes: 9, firstOp: 'Conv', lastOp: 'Softmax', params: 431_080 /* Caffe's documented LeNet size */ },
  'kaldi-asr': { nodes: 14, firstOp: 'Gemm', lastOp: 'Softmax', params: linearParams(440, 2048) + 5 * linearParams(2048, 2048) + linearParams(2048, 3500) },
  'senna-pos': { nodes: 8, firstOp: 'Gather', lastOp: 'Softmax', params: sennaParams(45) },
  'senna-ner': { nodes: 8, firstOp: 'Gather', lastOp: 'Softmax', params: sennaParams(17) },
  'senna-chk': { nodes: 8, firstOp: 'Gather', lastOp: 'Softmax', params: sennaParams(42) },
  resnet18: { nodes: 49, firstOp: 'Conv', lastOp: 'Gemm' },
  resnet50: { nodes: 122, firstOp: 'Conv', lastOp: 'Gemm' },
  'mobilenet-v2': { nodes: 100, firstOp: 'Conv', lastOp: 'Gemm' },
  'squeezenet1.1': { nodes: 65, firstOp: 'Conv', lastOp: 'Flatten' },
  googlenet: { nodes: 139, firstOp: 'Conv', lastOp: 'Gemm' },
  transformer: { nodes: transformerNodeCount(transformerBaseConfig), firstOp: 'Gather', lastOp: 'LayerNormalization', params: transformerParams(transformerBaseConfig) },
  'transformer-large': {
    nodes: transformerNodeCount(transformerLargeConfig),
    firstOp: 'Gather',
    lastOp: 'LayerNormalization',
    params: transformerParams(transformerLargeConfig)
  }
};

function initializerTotals(graph: OnnxGraph): { params: number; floatBytes: number } {
  let params = 0;
  let floatBytes = 0;
  for (const tensor of graph.initializers.values()) {
    params += tensor.elementCount;
    if (tensor.elementType === 'float32') floatBytes += tensor.byteLength;
  }
  return { params, floatBytes };
}

/** True when every node's runtime input is exactly the previous node's output (the first node's: the one graph input). */
function isChain(graph: OnnxGraph): boolean {
  if (graph.inputs.length !== 1) return false;
  let previous = graph.inputs[0].name;
  for (const node of graph.nodes) {
    const runtimeInputs = node.inputs.filter((name) => name !== '' && !graph.initializers.has(name));
    if (runtimeInputs.length !== 1 || runtimeInputs[0] !== previous || node.outputs.length !== 1) return false;
    previous = node.outputs[0];
  }
  return true;
}

function expectTopologicallySorted(graph: OnnxGraph): void {
  const available = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  for (const node of graph.nodes) {
    for (const input of node.inputs) if (input !== '') expect(available.has(input), `${node.name} reads ${input} before it exists`).toBe(true);
    for (const output of node.outputs) available.add(output);
  }
  for (const output of graph.outputs) expect(available.has(output.name)).toBe(true);
}

// Weights 'zeros': the structure is what is under test here, and it keeps VGG-16 fast.
const built = new Map<string, OnnxModel>();
function readZoo(entry: ZooEntry): OnnxModel {
  let model = built.get(entry.id);
  if (!model) {
    model = readOnnxModel(buildZooModel(entry.id, { weights: 'zeros' }));
    built.set(entry.id, model);
  }
  return model;
}

describe('zoo registry', () => {
  it('lists every model once, with an expectation in this test', () => {
    const ids = zooModels.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(Object.keys(expected).sort());
  });

  it('covers the eight benchmarks of the Neurosurgeon paper', () => {
    const benchmarks = zooModels.flatMap((m) => (m.benchmark ? [m.benchmark] : []));
    expect(benchmarks.sort()).toEqual(['ASR', 'CHK', 'DIG', 'FACE', 'IMC', 'NER', 'POS', 'VGG']);
  });

  it('marks models of 100 MB of weights or more as large', () => {
    expect(zooModels.filter((m) => m.large).map((m) => m.id)).toEqual(['alexnet', 'vgg16', 'deepface', 'kaldi-asr', 'resnet50']);
  });

  it('names the valid ids when an id is unknown', () => {
    expect(zooModel('lenet').title).toBe('LeNet (MNIST)');
    expect(() => zooModel('inception-v9')).toThrow(/unknown zoo model 'inception-v9'; valid ids: alexnet, vgg16, .*transformer-large/);
    expect(() => buildZooModel('nope')).toThrow(/valid ids/);
  });
});

describe.each(zooModels.map((entry) => [entry.id, entry] as const))('zoo model %s', (id, entry) => {
  const want = expected[id];

  it('reads back with the declared inputs and output', () => {
    const model = readZoo(entry);
    expect(model.opsetImports).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.inputs).toEqual(entry.inputs.map((t) => ({ name: t.name, type: { elementType: t.dtype, shape: t.shape } })));
    expect(model.graph.outputs).toEqual(entry.outputs.map((t) => ({ name: t.name, type: { elementType: t.dtype, shape: t.shape } })));
    expect(model.graph.nodes.at(-1)?.outputs).toEqual(['output']);
    expect(model.proto.docString?.length).toBeGreaterThan(100);
  });

  it('has the expected ops, node count and PyTorch-style unique node names', () => {
    const { nodes } = readZoo(entry).graph;
    expect(nodes.length).toBe(want.nodes);
    expect(nodes[0].opType).toBe(want.firstOp);
    expect(nodes.at(-1)?.opType).toBe(want.lastOp);
    expect(nodes.every((n) => n.name.startsWith('/'))).toBe(true);
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
    expect(nodes.some((n) => n.opType === 'Dropout' || n.opType === 'BatchNormalization')).toBe(false);
    expectTopologicallySorted(readZoo(entry).graph);
  });

  it(`is ${entry.kind === 'chain' ? 'a chain' : 'not a chain'}`, () => {
    expect(isChain(readZoo(entry).graph)).toBe(entry.kind === 'chain');
  });

  it('has the expected parameter count and weight bytes', () => {
    const { params, floatBytes } = initializerTotals(readZoo(entry).graph);
    if (entry.reference) {
      // BatchNorm folding leaves a conv bias (C) where torchvision counts BN weight + bias (2C):
      // at most -0.5% (MobileNetV2, 17,024 BN channels).
      expect(Math.abs(params / entry.reference.params - 1)).toBeLessThan(0.01);
    }
    if (want.params !== undefined) expect(params).toBe(want.params);
    expect(entry.reference ?? want.params).toBeDefined();
    expect(Math.abs(floatBytes / entry.approxBytes - 1)).toBeLessThan(0.01);
  });
});

describe('zoo model details', () => {
  it('matches torchvision exactly where no BatchNorm is folded', () => {
    for (const id of ['alexnet', 'vgg16', 'squeezenet1.1']) {
      expect(initializerTotals(readZoo(zooModel(id)).graph).params).toBe(zooModel(id).reference?.params);
    }
  });

  it('says in DeepFace\'s doc string that its locally-connected layers are convolutions', () => {
    expect(readZoo(zooModel('deepface')).proto.docString).toMatch(/locally-connected.*convolutions/);
  });

  it('writes depthwise convs as group = channels in MobileNetV2', () => {
    const depthwise = readZoo(zooModel('mobilenet-v2')).graph.nodes.filter((n) => {
      const group = n.attributes.get('group');
      return n.opType === 'Conv' && group?.kind === 'int' && group.value > 1;
    });
    expect(depthwise.length).toBe(17);
    expect(depthwise[0].name).toBe('/features/features.1/conv/conv.0/conv.0.0/Conv');
  });

  it('counts residual Adds and Inception/Fire Concats', () => {
    const count = (id: string, op: string) => readZoo(zooModel(id)).graph.nodes.filter((n) => n.opType === op).length;
    expect(count('resnet18', 'Add')).toBe(8);
    expect(count('resnet50', 'Add')).toBe(16);
    expect(count('mobilenet-v2', 'Add')).toBe(10);
    expect(count('googlenet', 'Concat')).toBe(9);
    expect(count('squeezenet1.1', 'Concat')).toBe(8);
    expect(count('transformer', 'Softmax')).toBe(transformerBaseConfig.layers);
    expect(count('transformer-large', 'LayerNormalization')).toBe(1 + 2 * transformerLargeConfig.layers);
  });

  it('keeps transformer-large over 1,000 nodes and under 30 MB', () => {
    const bytes = buildZooModel('transformer-large', { weights: 'zeros' });
    expect(readOnnxModel(bytes).graph.nodes.length).toBeGreaterThan(1000);
    expect(bytes.byteLength).toBeLessThan(30e6);
  });

  it('uses PyTorch\'s pooling arithmetic, ceil mode included', () => {
    expect(convOutputSize(224, 11, 4, 2)).toBe(55);
    expect(poolOutputSize(111, 3, 2, 0, true)).toBe(55);
    expect(poolOutputSize(112, 3, 2, 0, false)).toBe(55);
    expect(poolOutputSize(112, 3, 2, 0, true)).toBe(56);
    expect(poolOutputSize(142, 3, 2, 0, true)).toBe(71);
    expect(poolOutputSize(14, 2, 2, 0, true)).toBe(7);
    // A window that would start in the right padding is dropped.
    expect(poolOutputSize(5, 2, 2, 1, true)).toBe(3);
  });
});

describe('zoo options', () => {
  it('builds byte-identical models for the same seed, different ones for another', () => {
    // Buffer.equals: vitest's deep equality walks megabytes element by element.
    const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
    const first = buildZooModel('lenet', { seed: 7 });
    expect(same(buildZooModel('lenet', { seed: 7 }), first)).toBe(true);
    expect(same(buildZooModel('lenet', { seed: 8 }), first)).toBe(false);
    expect(same(buildZooModel('squeezenet1.1'), buildZooModel('squeezenet1.1', { seed: 1, weights: 'random' }))).toBe(true);
  });

  it('puts the batch size in every input, reshape and output', () => {
    const lenet = readOnnxModel(buildZooModel('lenet', { batch: 4, weights: 'zeros' }));
    expect(lenet.graph.inputs[0].type?.shape).toEqual([4, 1, 28, 28]);
    expect(lenet.graph.outputs[0].type?.shape).toEqual([4, 10]);
    const senna = readOnnxModel(buildZooModel('senna-ner', { batch: 3, weights: 'zeros' }));
    expect(senna.graph.inputs.map((v) => v.type?.shape)).toEqual([
      [3, 5],
      [3, 5]
    ]);
    expect(senna.graph.outputs[0].type?.shape).toEqual([3, 17]);
    expect(() => buildZooModel('lenet', { batch: 0 })).toThrow(/batch must be a positive integer/);
  });
});
