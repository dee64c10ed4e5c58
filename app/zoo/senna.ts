// SENNA's window-approach taggers (the paper's POS, NER and CHK benchmarks; Collobert et
// al., JMLR 2011): word and capitalisation embeddings of a 5-word window, one HardTanh
// hidden layer, one score per tag. Embedding lookups are Gather, as PyTorch exports
// nn.Embedding. Registered in index.ts.
import type { onnx } from '../onnx/generated/onnx.js';
import { finishModel, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

export const sennaWindow = 5;
export const sennaVocabulary = 130_000;
export const sennaCapsFeatures = 5;
const wordDim = 50;
const capsDim = 5;
const hiddenUnits = 300;

export type SennaTask = 'pos' | 'ner' | 'chk';

export const sennaTags: Record<SennaTask, number> = { pos: 45, ner: 17, chk: 42 };

const taskNames: Record<SennaTask, string> = {
  pos: 'part-of-speech tagging (45 Penn Treebank tags)',
  ner: 'named-entity recognition (17 IOBES tags)',
  chk: 'chunking (42 IOBES tags)'
};

function description(task: SennaTask): string {
  const features = sennaWindow * (wordDim + capsDim);
  return (
    `SENNA window-approach tagger for ${taskNames[task]} (Collobert et al., JMLR 2011; the Neurosurgeon ${task.toUpperCase()} benchmark): ` +
    `inputs 'input' (word indices, int64 [1, ${sennaWindow}], vocabulary ${sennaVocabulary}) and 'caps' (capitalisation feature indices, int64 [1, ${sennaWindow}], ${sennaCapsFeatures} values) → ` +
    `Gather from a ${sennaVocabulary}×${wordDim} word table and a ${sennaCapsFeatures}×${capsDim} caps table → Concat → Reshape to ${features} → ` +
    `Linear ${features}→${hiddenUnits} → HardTanh (Clip −1..1) → Linear ${hiddenUnits}→${sennaTags[task]} → Softmax. ` +
    'SENNA\'s extra NER gazetteer and CHK POS-tag features are left out; weights (embeddings included) are seeded random values.'
  );
}

function senna(task: SennaTask, options: ZooBuildOptions): onnx.ModelProto {
  const { builder: b, batch } = zooGraph(`senna-${task}`, description(task), options);
  const words = b.input('input', 'int64', [batch, sennaWindow]);
  const caps = b.input('caps', 'int64', [batch, sennaWindow]);
  const wordTable = b.weight('word_embedding.weight', [sennaVocabulary, wordDim], wordDim);
  const capsTable = b.weight('caps_embedding.weight', [sennaCapsFeatures, capsDim], capsDim);
  const wordVectors = b.op('Gather', [wordTable, words], { axis: 0 }, '/word_embedding/Gather');
  const capsVectors = b.op('Gather', [capsTable, caps], { axis: 0 }, '/caps_embedding/Gather');
  const joined = b.concat([wordVectors, capsVectors], 2, '/Concat');
  const features = sennaWindow * (wordDim + capsDim);
  const window = b.reshape(joined, [batch, features], '/Reshape');
  const hidden = b.linear(window, features, hiddenUnits, '/linear1/Gemm');
  const minusOne = b.constantFloat('/hardtanh/Clip.min', [], new Float32Array([-1]));
  const one = b.constantFloat('/hardtanh/Clip.max', [], new Float32Array([1]));
  const squashed = b.op('Clip', [hidden, minusOne, one], {}, '/hardtanh/Clip');
  const scores = b.linear(squashed, hiddenUnits, sennaTags[task], '/linear2/Gemm');
  return finishModel(b, b.softmax(scores, 1, '/Softmax'), [batch, sennaTags[task]]);
}

export const sennaPos = (options: ZooBuildOptions = {}): onnx.ModelProto => senna('pos', options);
export const sennaNer = (options: ZooBuildOptions = {}): onnx.ModelProto => senna('ner', options);
export const sennaChk = (options: ZooBuildOptions = {}): onnx.ModelProto => senna('chk', options);
