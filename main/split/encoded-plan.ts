// The decision over (cut, encoding) for a model file (issue 16): which cuts to measure, the
// measurements (main/split/encoded-split.ts: bytes, encode/decode ms on this machine and
// agreement on N sample inputs) and the choice under the accuracy bound
// (app/partition/wire-encoding.ts chooseEncodedCut). Measuring every cut in every encoding
// would run N tails per cut and encoding, so the cuts measured are the candidates: the best
// few by predicted cost at fp32 bytes, at a quarter of them (what int8 sends), cloud-only,
// and device-only. Used by `neurosurgeon plan --encoding`, `run --encoding` and `sweep
// --encoding` (split-run.ts, sweep.ts; JPEG runs there too, decoded by the executor) and
// `npm run bench -- --only encoding`.
import type { CutTable } from '../../app/partition/cuts.js';
import { costOfCut } from '../../app/partition/cuts.js';
import type { Objective, PlanOptions } from '../../app/partition/types.js';
import {
  type EncodedChoice,
  DEFAULT_MIN_AGREEMENT,
  INPUT_ENCODINGS,
  parseWireEncoding,
  TENSOR_ENCODINGS,
  wireEncodingName
} from '../../app/partition/wire-encoding.js';
import { chooseEncodedCut, encodedDecisionTable, type EncodedDecisionRow } from '../../app/partition/wire-encoding.js';
import type { AnalyzedModel } from '../model/analyze-file.js';
import { CALIBRATION_SAMPLES, DEFAULT_ENCODING_SAMPLES, encodingSamples, evaluateCut, unsplitOutputs, type CutEvaluation } from './encoded-split.js';

export interface EncodedPlanRequest {
  /** 'auto' or one encoding name ("int8", "fp16+deflate", "jpeg75"). */
  encoding: string;
  /** Top-1 agreement `auto` needs, 0..1 (default 0.99). */
  minAgreement?: number;
  /** Sample inputs the agreement is measured on (default 32). */
  samples?: number;
  /** Cuts to measure; default: the candidates (see the file comment). */
  cuts?: number[];
  dimValues?: Record<string, number>;
  log?: (line: string) => void;
}

export interface EncodedPlan {
  choice: EncodedChoice;
  /** Best (cut, encoding) per uplink range (0.1..1000 Mbps), over the pairs measured. */
  decisionTable: EncodedDecisionRow[];
  evaluations: CutEvaluation[];
  encodings: string[];
  samples: number;
  minAgreement: number;
}

/** The cuts worth measuring: the best 3 at fp32 bytes and the best 3 at a quarter of them, plus 0 and N. */
export function candidateCuts(table: CutTable, options: PlanOptions, objective: Objective, perRanking = 3): number[] {
  const n = table.nodeCount;
  const value = (scale: number) => (k: number) => {
    const c = costOfCut({ ...table, uploadBytes: table.uploadBytes.map((b) => b * scale) }, k, options);
    return objective === 'latency' ? c.totalMs : c.energyMJ;
  };
  const all = Array.from({ length: n + 1 }, (_, k) => k);
  const best = (f: (k: number) => number) => [...all].sort((a, b) => f(a) - f(b) || a - b).slice(0, perRanking);
  return [...new Set([0, ...best(value(1)), ...best(value(0.25)), n])].sort((a, b) => a - b);
}

/** The encodings tried at `cut` for `request.encoding` (auto: all that could apply there). */
export function encodingsFor(request: Pick<EncodedPlanRequest, 'encoding'>, cut: number): string[] {
  if (request.encoding !== 'auto') return [wireEncodingName(parseWireEncoding(request.encoding))];
  return [...(cut === 0 ? INPUT_ENCODINGS : TENSOR_ENCODINGS)];
}

/** What was measured at some cuts: per cut, each encoding's bytes, times and agreement (and the skipped ones, with why). */
export interface EncodedMeasurements {
  evaluations: CutEvaluation[];
  encodings: string[];
  samples: number;
}

/**
 * Measures the encodings `request.encoding` names (auto: every one that could apply) at each
 * of `cuts` on the sample inputs; device-only (`nodeCount`) only in fp32, which sends nothing.
 */
export async function measureEncodedCuts(analyzed: AnalyzedModel, cuts: readonly number[], nodeCount: number, request: EncodedPlanRequest): Promise<EncodedMeasurements> {
  const count = request.samples ?? DEFAULT_ENCODING_SAMPLES;
  const dims = request.dimValues ?? {};
  const { model, analysis } = analyzed;
  const samples = encodingSamples(model, count, 1000, dims);
  const calibration = encodingSamples(model, CALIBRATION_SAMPLES, 5000, dims);
  const expected = await unsplitOutputs(analyzed.bytes, samples);
  const evaluations: CutEvaluation[] = [];
  const tried = new Set<string>();
  for (const cut of cuts) {
    const encodings = encodingsFor(request, cut);
    encodings.forEach((e) => tried.add(e));
    const started = performance.now();
    // Device-only sends nothing; fp32 there stands for every encoding.
    const wanted = cut === nodeCount ? ['fp32'] : encodings;
    const evaluation: CutEvaluation = await evaluateCut(model, analysis, cut, wanted, samples, calibration, expected);
    const described = evaluation.measurements.map((m) => (m.skipped ? `${m.encoding} skipped` : `${m.encoding} ${Math.round(m.uploadBytes)} B${m.agreement === null ? '' : ` ${(m.agreement * 100).toFixed(0)} %`}`));
    request.log?.(`cut ${cut}: ${described.join(', ')} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    evaluations.push(evaluation);
  }
  return { evaluations, encodings: [...tried], samples: count };
}

/** The accuracy bound of a request, checked: a top-1 agreement in 0..1 (default 0.99). */
export function minAgreementOf(request: Pick<EncodedPlanRequest, 'minAgreement'>): number {
  const minAgreement = request.minAgreement ?? DEFAULT_MIN_AGREEMENT;
  if (!(minAgreement >= 0 && minAgreement <= 1)) throw new RangeError(`the accuracy bound must be a top-1 agreement in 0..1, got ${minAgreement}`);
  return minAgreement;
}

export async function planEncoded(analyzed: AnalyzedModel, table: CutTable, options: PlanOptions, objective: Objective, request: EncodedPlanRequest): Promise<EncodedPlan> {
  const minAgreement = minAgreementOf(request);
  const cuts = request.cuts ?? candidateCuts(table, options, objective);
  const { evaluations, encodings, samples } = await measureEncodedCuts(analyzed, cuts, table.nodeCount, request);
  const measurements = evaluations.flatMap((e) => e.measurements);
  return {
    choice: chooseEncodedCut(table, measurements, options, objective, minAgreement),
    decisionTable: encodedDecisionTable(table, measurements, options, undefined, objective, minAgreement),
    evaluations,
    encodings,
    samples,
    minAgreement
  };
}
