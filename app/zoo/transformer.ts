// A small BERT-style (post-LayerNorm) Transformer encoder, written node by node the way
// torch.onnx.export (opset 17) writes a Hugging Face BERT: Linear on rank-3 tensors as
// MatMul + Add, attention heads split by Reshape + Transpose, GELU through Erf. Its
// attention makes a dense DAG, the zoo's stress test for DAG cuts; registered in
// index.ts as `transformer` and `transformer-large`.
import type { GraphBuilder } from '../onnx/builder.js';
import type { onnx } from '../onnx/generated/onnx.js';
import { finishModel, zooGraph, type ZooBuildOptions } from './zoo-builder.js';

export interface TransformerConfig {
  layers: number;
  hidden: number;
  heads: number;
  seq: number;
  ffn: number;
  vocab: number;
}

export const transformerBaseConfig: TransformerConfig = { layers: 4, hidden: 256, heads: 4, seq: 128, ffn: 1024, vocab: 8000 };
/** 31 layers × 33 nodes + 3 embedding nodes = 1,026 nodes; ≈28.8 MB of weights. */
export const transformerLargeConfig: TransformerConfig = { layers: 31, hidden: 128, heads: 4, seq: 128, ffn: 512, vocab: 8000 };

/** Nodes the builder writes: 3 for the embeddings, 33 per encoder layer. */
export function transformerNodeCount(config: TransformerConfig): number {
  return 3 + 33 * config.layers;
}

function describe(config: TransformerConfig): string {
  const { layers, hidden, heads, seq, ffn, vocab } = config;
  return (
    `BERT-style Transformer encoder (post-LayerNorm, Devlin et al. 2019 shape): token ids int64 [1, ${seq}] → Gather from a ${vocab}×${hidden} token table + learned position embedding → LayerNorm → ` +
    `${layers} encoder layers (${heads}-head self-attention: Q/K/V MatMul+Add, Reshape/Transpose to heads, QKᵀ, Div by √${hidden / heads}, Softmax, ·V, output projection, residual Add, LayerNorm; ` +
    `FFN ${hidden}→${ffn} GELU (Erf form) →${hidden}, residual Add, LayerNorm) → hidden states [1, ${seq}, ${hidden}]. No attention mask. Weights are seeded random values.`
  );
}

/** Multi-head self-attention + residual + LayerNorm; `p` is e.g. '/encoder/layer.0/attention'. */
function attentionBlock(b: GraphBuilder, x: string, p: string, batch: number, config: TransformerConfig): string {
  const { hidden, heads, seq } = config;
  const headDim = hidden / heads;
  const self = `${p}/self`;
  const toHeads = (value: string, perm: number[]) => b.transpose(b.reshape(value, [batch, seq, heads, headDim], `${self}/Reshape`), perm, `${self}/Transpose`);
  const query = toHeads(b.matmulLinear(x, hidden, hidden, `${self}/query`), [0, 2, 1, 3]);
  // K is transposed straight to [batch, heads, headDim, seq]: the exporter fuses permute(0,2,1,3) with transpose(-1,-2).
  const keyT = toHeads(b.matmulLinear(x, hidden, hidden, `${self}/key`), [0, 2, 3, 1]);
  const value = toHeads(b.matmulLinear(x, hidden, hidden, `${self}/value`), [0, 2, 1, 3]);
  const scores = b.op('MatMul', [query, keyT], {}, `${self}/MatMul`);
  const scale = b.constantFloat(`${self}/Div.divisor`, [], new Float32Array([Math.sqrt(headDim)]));
  const scaled = b.op('Div', [scores, scale], {}, `${self}/Div`);
  const probabilities = b.softmax(scaled, -1, `${self}/Softmax`);
  const context = b.op('MatMul', [probabilities, value], {}, `${self}/MatMul_1`);
  const merged = b.reshape(b.transpose(context, [0, 2, 1, 3], `${self}/Transpose`), [batch, seq, hidden], `${self}/Reshape`);
  const projected = b.matmulLinear(merged, hidden, hidden, `${p}/output/dense`);
  return b.layerNorm(b.add(projected, x, `${p}/output/Add`), hidden, `${p}/output/LayerNorm/LayerNormalization`);
}

/** FFN hidden→ffn→hidden with GELU + residual + LayerNorm; `p` is e.g. '/encoder/layer.0'. */
function feedForwardBlock(b: GraphBuilder, x: string, p: string, config: TransformerConfig): string {
  const { hidden, ffn } = config;
  const expanded = b.gelu(b.matmulLinear(x, hidden, ffn, `${p}/intermediate/dense`), `${p}/intermediate/intermediate_act_fn`);
  const contracted = b.matmulLinear(expanded, ffn, hidden, `${p}/output/dense`);
  return b.layerNorm(b.add(contracted, x, `${p}/output/Add`), hidden, `${p}/output/LayerNorm/LayerNormalization`);
}

export function transformerEncoder(config: TransformerConfig, graphName: string, options: ZooBuildOptions = {}): onnx.ModelProto {
  const { layers, hidden, heads, seq, vocab } = config;
  if (hidden % heads !== 0) throw new RangeError(`hidden (${hidden}) must be a multiple of heads (${heads})`);
  const { builder: b, batch } = zooGraph(graphName, describe(config), options);
  const ids = b.input('input', 'int64', [batch, seq]);
  const tokenTable = b.weight('embeddings.word_embeddings.weight', [vocab, hidden], hidden);
  const positions = b.weight('embeddings.position_embeddings.weight', [seq, hidden], hidden);
  const tokens = b.op('Gather', [tokenTable, ids], { axis: 0 }, '/embeddings/word_embeddings/Gather');
  let x = b.layerNorm(b.add(tokens, positions, '/embeddings/Add'), hidden, '/embeddings/LayerNorm/LayerNormalization');
  for (let layer = 0; layer < layers; layer++) {
    const p = `/encoder/layer.${layer}`;
    x = feedForwardBlock(b, attentionBlock(b, x, `${p}/attention`, batch, config), p, config);
  }
  return finishModel(b, x, [batch, seq, hidden]);
}

export const transformer = (options: ZooBuildOptions = {}): onnx.ModelProto => transformerEncoder(transformerBaseConfig, 'transformer', options);
export const transformerLarge = (options: ZooBuildOptions = {}): onnx.ModelProto => transformerEncoder(transformerLargeConfig, 'transformer_large', options);
