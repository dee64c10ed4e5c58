// Every op static inference knows, by domain and op type: the default ONNX domain's rule
// tables in rules-nn.ts, rules-elementwise.ts, rules-tensor.ts and rules-quant.ts, and
// onnxruntime's com.microsoft quantized ops (rules-quant.ts).
import type { InferenceRule } from './context.js';
import { elementwiseRules } from './rules-elementwise.js';
import { nnRules } from './rules-nn.js';
import { MICROSOFT_DOMAIN, microsoftQuantRules, quantRules } from './rules-quant.js';
import { tensorRules } from './rules-tensor.js';

/** Default-domain (ai.onnx) rules by op type. */
export const inferenceRules: ReadonlyMap<string, InferenceRule> = new Map(
  Object.entries({ ...elementwiseRules, ...tensorRules, ...nnRules, ...quantRules })
);

/** com.microsoft rules by op type. */
export const microsoftInferenceRules: ReadonlyMap<string, InferenceRule> = new Map(Object.entries(microsoftQuantRules));

/** True for the default domain, however the file spells it. */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** The rule for an op of a domain, if static inference knows it. */
export function ruleFor(domain: string, opType: string): InferenceRule | undefined {
  if (isDefaultDomain(domain)) return inferenceRules.get(opType);
  return domain === MICROSOFT_DOMAIN ? microsoftInferenceRules.get(opType) : undefined;
}
