// A Kaldi-style DNN acoustic model (the paper's ASR benchmark): spliced filterbank
// frames in, senone posteriors out, fully-connected only. Registered in index.ts.
import type { onnx } from '../onnx/generated/onnx.js';
import { finishModel, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

const splicedFrames = 11;
const filterbankBins = 40;
const hiddenLayers = 6;
const hiddenUnits = 2048;
const senones = 3500;

const description =
  `Kaldi-style DNN acoustic model (nnet1 recipe shape; the Neurosurgeon ASR benchmark): ${splicedFrames} spliced frames × ${filterbankBins} filterbank features = ` +
  `${splicedFrames * filterbankBins} inputs → ${hiddenLayers} × ${hiddenUnits} Sigmoid layers → ${senones} senones with Softmax. ` +
  'Not a trained Kaldi model: the topology follows Kaldi\'s DNN recipes; weights are seeded random values.';

export function kaldiAsr(options: ZooBuildOptions = {}): onnx.ModelProto {
  const { builder: b, batch } = zooGraph('kaldi-asr', description, options);
  let x = b.input('input', 'float32', [batch, splicedFrames * filterbankBins]);
  let width = splicedFrames * filterbankBins;
  for (let layer = 1; layer <= hiddenLayers; layer++) {
    x = b.op('Sigmoid', [b.linear(x, width, hiddenUnits, `/affine${layer}/Gemm`)], {}, `/sigmoid${layer}/Sigmoid`);
    width = hiddenUnits;
  }
  const logits = b.linear(x, width, senones, `/affine${hiddenLayers + 1}/Gemm`);
  return finishModel(b, b.softmax(logits, 1, '/softmax/Softmax'), [batch, senones]);
}
