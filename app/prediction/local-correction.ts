// A local correction of the per-type regressions (regression.ts). A fit is one line (or two,
// split at a size) through every sample of a type, and where onnxruntime's kernel changes
// pace inside the sweep's range the line misses whole families of layers the same way: a 1×1
// Conv 440→440 on 7×7 runs at 50 GMAC/s here, where 672→192 on 7×7 runs at 61, and the conv
// fit put RegNet-Y's 1×1 Convs 26 % short. The correction multiplies a fit's prediction by
// the geometric mean of measured/fitted over the nearest sweep samples of the type, in the
// fit's own features (ln(1 + x), scaled to unit spread), weighted by a Gaussian of their
// distance and shrunk towards 1 where the neighbours are few or far: the regression's
// residuals smoothed, as regression kriging does. A type is corrected only where 5-fold
// cross-validation on the sweep's own samples says the correction predicts samples it has
// not seen better than the fit alone — decided per device profile, never on a model.
import type { GraphOptimization, LayerSample, LayerTypeError, RegressionFit } from '../profiling/types.js';
import { LAYER_TYPE_FEATURES, LAYER_TYPE_SIZE_FEATURE, type LayerType } from './features.js';
import { crossValidatedError, fitDeviceModels, layerTypeErrors, predictWithFits, usableFitSamples, type CrossValidatedError, type FitSample } from './regression.js';

/** Neighbours a correction reads. */
export const NEIGHBOURS = 8;
/** Distance (in scaled features) at which a neighbour's weight falls to 1/e. */
const BANDWIDTH = 0.7;
/** The prior's weight: neighbours weighing less than this together pull the factor less than halfway. */
const PRIOR_WEIGHT = 0.5;
/** Fewer samples than this: too few for the folds to judge a correction. */
const MIN_SAMPLES = 20;
/** Below this, samples are treated as if they took this long (timer resolution), ms. */
const FLOOR_MS = 0.002;

/** Where a type's samples lie: the centre and spread of each of its features, ln(1 + x). */
interface Scaling {
  featureNames: readonly string[];
  centre: number[];
  spread: number[];
}

/** A type's residuals: each sample's place and ln(measured / fitted). */
interface Neighbourhood extends Scaling {
  points: { at: number[]; logRatio: number }[];
}

const scaled = (value: number | undefined): number => Math.log1p(Math.max(0, value ?? 0));

function scalingOf(featureNames: readonly string[], samples: readonly FitSample[]): Scaling {
  const rows = samples.map((s) => featureNames.map((name) => scaled(s.features[name])));
  const centre = featureNames.map((_, j) => rows.reduce((sum, row) => sum + row[j], 0) / rows.length);
  const spread = featureNames.map((_, j) => Math.sqrt(rows.reduce((sum, row) => sum + (row[j] - centre[j]) ** 2, 0) / rows.length) || 1);
  return { featureNames, centre, spread };
}

const place = (scaling: Scaling, features: Record<string, number>): number[] => scaling.featureNames.map((name, j) => (scaled(features[name]) - scaling.centre[j]) / scaling.spread[j]);

/** The residuals of `samples` on `fits`, placed by `scaling`. */
function neighbourhoodOf(scaling: Scaling, samples: readonly FitSample[], fits: readonly RegressionFit[]): Neighbourhood {
  const points = samples.flatMap((sample) => {
    const fitted = predictWithFits(fits, sample.features) ?? 0;
    if (!(fitted > 0) || !(sample.ms > 0)) return [];
    return [{ at: place(scaling, sample.features), logRatio: Math.log(Math.max(sample.ms, FLOOR_MS) / Math.max(fitted, FLOOR_MS)) }];
  });
  return { ...scaling, points };
}

/** The smoothed measured/fitted ratio at `at` (scaled features). */
function smoothedFactor(points: Neighbourhood['points'], at: number[]): number {
  const nearest = points
    .map((p) => ({ distance: Math.sqrt(p.at.reduce((sum, v, j) => sum + (v - at[j]) ** 2, 0)), logRatio: p.logRatio }))
    .sort((a, b) => a.distance - b.distance)
    .slice(0, NEIGHBOURS);
  let weighted = 0;
  let weight = 0;
  for (const n of nearest) {
    const w = Math.exp(-((n.distance / BANDWIDTH) ** 2));
    weighted += w * n.logRatio;
    weight += w;
  }
  return Math.exp(weighted / (weight + PRIOR_WEIGHT));
}

interface CorrectionCrossValidation {
  /** The fits alone (what layerTypeErrors reports). */
  plain: CrossValidatedError;
  /** The fits with the correction made from the same training folds. */
  corrected: CrossValidatedError;
  /** Whether the correction lowers both the total error over the total time and the median relative error. */
  helps: boolean;
}

/**
 * The type's fits (split at `bounds`, as the device profile's are) cross-validated with and
 * without the correction, on the same folds; null for a type with too few samples.
 */
function crossValidateCorrection(layerType: string, samples: readonly LayerSample[], bounds: readonly number[]): CorrectionCrossValidation | null {
  const featureNames = LAYER_TYPE_FEATURES[layerType as LayerType];
  if (!featureNames || samples.length < MIN_SAMPLES) return null;
  const sizeFeature = LAYER_TYPE_SIZE_FEATURE[layerType as LayerType] ?? featureNames[0];
  const scaling = scalingOf(featureNames, samples);
  const plain = crossValidatedError(layerType, featureNames, [...samples], sizeFeature, bounds);
  const corrected = crossValidatedError(layerType, featureNames, [...samples], sizeFeature, bounds, (training, fits) => {
    const hood = neighbourhoodOf(scaling, training, fits);
    return (features) => (hood.points.length >= NEIGHBOURS ? smoothedFactor(hood.points, place(hood, features)) : 1);
  });
  const helps = Number.isFinite(plain.total) && corrected.total < plain.total && corrected.medianRelative < plain.medianRelative;
  return { plain, corrected, helps };
}

const boundsOf = (fits: readonly RegressionFit[]): number[] => fits.map((fit) => fit.sizeTo).filter((bound): bound is number => bound !== undefined);

export interface LocalCorrection {
  /** The factor for a layer of `layerType` with `features` (1 where the type keeps its fit as it is). */
  factor(layerType: string, features: Record<string, number>): number;
  /** Whether the type's fits are corrected. */
  corrects(layerType: string): boolean;
}

/**
 * The correction of the fits `fitsOf(type)` made from `samples` at `level`. A type's
 * neighbourhood (and its cross-validation, about 5 ms for a type of 200 samples) is built
 * on its first use.
 */
export function localCorrection(samples: readonly LayerSample[], level: GraphOptimization, fitsOf: (layerType: string) => readonly RegressionFit[]): LocalCorrection {
  const hoods = new Map<string, Neighbourhood | null>();
  const hoodOf = (layerType: string): Neighbourhood | null => {
    if (!hoods.has(layerType)) {
      const fits = fitsOf(layerType);
      const own = usableFitSamples(layerType, samples, level);
      const judged = fits.length > 0 ? crossValidateCorrection(layerType, own, boundsOf(fits)) : null;
      const hood = judged?.helps ? neighbourhoodOf(scalingOf(LAYER_TYPE_FEATURES[layerType as LayerType], own), own, fits) : null;
      hoods.set(layerType, hood && hood.points.length >= NEIGHBOURS ? hood : null);
    }
    return hoods.get(layerType) ?? null;
  };
  return {
    factor: (layerType, features) => {
      const hood = hoodOf(layerType);
      return hood ? smoothedFactor(hood.points, place(hood, features)) : 1;
    },
    corrects: (layerType) => hoodOf(layerType) !== null
  };
}

/**
 * `errors` (regression.ts layerTypeErrors of `fits` on `samples`) with each corrected
 * type's cross-validated error as predictions make them, corrected (`corrected`).
 */
export function withCorrectedErrors(samples: readonly LayerSample[], fits: readonly RegressionFit[], errors: readonly LayerTypeError[]): LayerTypeError[] {
  return errors.map((error) => {
    const level = error.level ?? 'disabled';
    const own = fits.filter((fit) => fit.layerType === error.layerType && (fit.level ?? 'disabled') === level);
    const judged = own.length > 0 ? crossValidateCorrection(error.layerType, usableFitSamples(error.layerType, samples, level), boundsOf(own)) : null;
    return judged?.helps ? { ...error, corrected: { medianError: judged.corrected.medianRelative, meanError: judged.corrected.meanRelative } } : error;
  });
}

/** The median and mean error of a type's predictions as they are made: corrected where the correction applies. */
export function effectiveError(error: LayerTypeError): { medianError: number; meanError: number } {
  return error.corrected ?? error;
}

/** effectiveError's median. */
export function effectiveMedianError(error: LayerTypeError): number {
  return effectiveError(error).medianError;
}

/** A device profile's fits of `samples` and their per-type errors, corrected where predictions correct (what characterize writes and refit writes again). */
export function fitsWithErrors(samples: LayerSample[]): { fits: RegressionFit[]; typeErrors: LayerTypeError[] } {
  const fits = fitDeviceModels(samples);
  return { fits, typeErrors: withCorrectedErrors(samples, fits, layerTypeErrors(samples, fits)) };
}
