// Every op static inference knows, by op type (default ONNX domain only): the union of
// the rule tables in rules-nn.ts, rules-elementwise.ts and rules-tensor.ts.
import type { InferenceRule } from './context.js';
import { elementwiseRules } from './rules-elementwise.js';
import { nnRules } from './rules-nn.js';
import { tensorRules } from './rules-tensor.js';

export const inferenceRules: ReadonlyMap<string, InferenceRule> = new Map(
  Object.entries({ ...elementwiseRules, ...tensorRules, ...nnRules })
);
