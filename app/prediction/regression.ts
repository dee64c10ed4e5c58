// The per-layer-type regression models of Neurosurgeon (Kang et al., ASPLOS 2017, §4.3):
// latency = intercept + Σ c_i × g(feature_i), with g the identity ('linear') or
// ln(1 + x) ('log'), fitted by least squares with an intercept to a device's sweep
// samples (main/profiling/characterize.ts). Both forms are fitted and the one with the higher R²
// is kept (ties go to linear). predict.ts evaluates the kept fits on new layers.
//
// A type may be split at one size (features.ts LAYER_TYPE_SIZE_FEATURE) into two
// classes with a fit each, where the cost changes regime with size. Whether and where is
// decided on the sweep's own samples, never on any model, by 5-fold cross-validation
// over splits at the 20th–90th percentiles of the size. The criterion is the held-out
// samples' total error over their total time — what a model's predicted total suffers
// from, where the per-sample relative error each fit minimises lets the many small
// configurations outvote the few large ones that make most of a model's time. A split is
// kept only if it cuts that by a tenth without raising the mean per-sample relative error
// by more than a twentieth. One-row FC samples whose weights exceed the
// last-level cache are left out of the fc fit: predict.ts times such weights by the
// memory streaming rate those samples give.
//
// The solver is ml-matrix's QR decomposition (well kept, typed, pure ECMAScript, so it
// runs in app/): features span 1e2..1e10 (MACs), and normal equations would square that
// condition number. Columns are centred and scaled to unit norm first; a feature whose
// column is (numerically) a linear combination of the intercept and the features kept
// before it is DROPPED — its coefficient is 0 — rather than ridge-damped, so a fit
// never spreads weight over features the sweep could not tell apart.
import { Matrix, QrDecomposition } from 'ml-matrix';
import type { GraphOptimization, LayerSample, LayerTypeError, RegressionFit } from '../profiling/types.js';
import { fcWeightBytes, LAST_LEVEL_CACHE_BYTES, LAYER_TYPE_FEATURES, LAYER_TYPE_SIZE_FEATURE, type LayerType } from './features.js';

export type RegressionForm = RegressionFit['form'];

export interface FitSample {
  features: Record<string, number>;
  ms: number;
}

/** |R_jj| of a unit-norm, centred column below this: the column adds nothing new. */
const COLLINEAR_TOLERANCE = 1e-8;
/** Below this, samples are weighted as if they took this long (timer resolution), ms. */
const RELATIVE_ERROR_FLOOR_MS = 0.002;
/** Two forms whose R² differ by no more than this are a tie (linear wins). */
const R2_TIE = 1e-9;

export function transformFeature(form: RegressionForm, value: number): number {
  return form === 'log' ? Math.log1p(Math.max(0, value)) : value;
}

export interface LeastSquaresSolution {
  coefficients: number[];
  intercept: number;
  /** Column positions dropped as constant or collinear (their coefficient is 0). */
  dropped: number[];
}

/**
 * Least squares with an intercept, y ≈ intercept + rows · coefficients. Null when there
 * are fewer than (columns + 2) rows: too few to fit and still judge the fit.
 */
export function leastSquares(rows: number[][], y: number[], weights?: number[]): LeastSquaresSolution | null {
  const columnCount = rows[0]?.length ?? 0;
  if (rows.length !== y.length || rows.length < columnCount + 2) return null;
  const n = rows.length;
  // Weighted least squares: centre on weighted means, then scale each row by √w.
  const w = weights ?? new Array<number>(n).fill(1);
  const rootW = w.map(Math.sqrt);
  const mean = (values: number[]) => weightedMean(values, w);
  const yMean = mean(y);
  const centredY = y.map((v, i) => (v - yMean) * rootW[i]);
  const means: number[] = [];
  const scales: number[] = [];
  const kept: number[] = [];
  const dropped: number[] = [];
  const scaledColumns: number[][] = [];
  for (let j = 0; j < columnCount; j++) {
    const column = rows.map((row) => row[j]);
    const columnMean = mean(column);
    const centred = column.map((v, i) => (v - columnMean) * rootW[i]);
    const norm = Math.sqrt(centred.reduce((sum, v) => sum + v * v, 0));
    means.push(columnMean);
    scales.push(norm);
    if (!(norm > 1e-12 * (Math.abs(columnMean) + 1)) || !Number.isFinite(norm)) {
      dropped.push(j);
      continue;
    }
    const scaled = centred.map((v) => v / norm);
    const candidate = [...scaledColumns, scaled];
    const r = new QrDecomposition(columnsToMatrix(candidate, n)).upperTriangularMatrix;
    if (Math.abs(r.get(candidate.length - 1, candidate.length - 1)) < COLLINEAR_TOLERANCE) {
      dropped.push(j);
      continue;
    }
    scaledColumns.push(scaled);
    kept.push(j);
  }
  const coefficients = new Array<number>(columnCount).fill(0);
  if (kept.length > 0) {
    const beta = new QrDecomposition(columnsToMatrix(scaledColumns, n)).solve(Matrix.columnVector(centredY));
    kept.forEach((j, position) => {
      coefficients[j] = beta.get(position, 0) / scales[j];
    });
  }
  const intercept = yMean - coefficients.reduce((sum, c, j) => sum + c * means[j], 0);
  return { coefficients, intercept, dropped };
}

function columnsToMatrix(columns: number[][], rowCount: number): Matrix {
  const matrix = new Matrix(rowCount, columns.length);
  columns.forEach((column, j) => column.forEach((value, i) => matrix.set(i, j, value)));
  return matrix;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function weightedMean(values: number[], weights: number[]): number {
  let sum = 0;
  let total = 0;
  values.forEach((v, i) => {
    sum += v * weights[i];
    total += weights[i];
  });
  return sum / total;
}

/** Coefficient of determination of predictions against observations (1 when both are constant and equal). */
export function rSquared(observed: number[], predicted: number[]): number {
  const observedMean = mean(observed);
  let residual = 0;
  let total = 0;
  observed.forEach((value, i) => {
    residual += (value - predicted[i]) ** 2;
    total += (value - observedMean) ** 2;
  });
  if (total === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / total;
}

/** The latency a fit predicts for a layer's features, ms (never negative). */
export function predictWithFit(fit: RegressionFit, features: Record<string, number>): number {
  let ms = fit.intercept;
  fit.features.forEach((name, i) => {
    ms += fit.coefficients[i] * transformFeature(fit.form, features[name] ?? 0);
  });
  return Math.max(0, ms);
}

/** One form's fit; samples missing a feature are left out. Null when too few samples remain. */
export function fitRegression(layerType: string, featureNames: readonly string[], samples: FitSample[], form: RegressionForm): RegressionFit | null {
  const usable = samples.filter((s) => Number.isFinite(s.ms) && featureNames.every((f) => Number.isFinite(s.features[f])));
  const rows = usable.map((s) => featureNames.map((f) => transformFeature(form, s.features[f])));
  const y = usable.map((s) => s.ms);
  // Minimise relative error (weights 1/ms²): with plain least squares a model's many
  // small layers inherit the intercept the few large ones leave, and their sum drifts.
  const weights = y.map((ms) => 1 / Math.max(ms, RELATIVE_ERROR_FLOOR_MS) ** 2);
  const solution = leastSquares(rows, y, weights);
  if (!solution) return null;
  const predicted = rows.map((row) => solution.intercept + row.reduce((sum, x, j) => sum + solution.coefficients[j] * x, 0));
  return {
    layerType,
    form,
    features: [...featureNames],
    coefficients: solution.coefficients,
    intercept: solution.intercept,
    r2: rSquared(y, predicted),
    samples: usable.length
  };
}

/** Both forms fitted; the higher R² wins, a tie goes to 'linear'. */
export function fitBestRegression(layerType: string, featureNames: readonly string[], samples: FitSample[]): RegressionFit | null {
  const linear = fitRegression(layerType, featureNames, samples, 'linear');
  const log = fitRegression(layerType, featureNames, samples, 'log');
  if (!linear || !log) return linear ?? log;
  return log.r2 > linear.r2 + R2_TIE ? log : linear;
}

// ---------------------------------------------------------------------------------------
// Size classes.

const CROSS_VALIDATION_FOLDS = 5;
/** Each size class keeps at least this many samples (and features + 2, what a fit needs). */
const MIN_CLASS_SAMPLES = 15;
/** A split must lower the cross-validated total error by at least this fraction to be kept… */
const SPLIT_GAIN = 0.1;
/** …and may raise the cross-validated mean relative error by no more than this fraction. */
const SPLIT_RELATIVE_TOLERANCE = 0.05;
const SPLIT_PERCENTILES = [20, 30, 40, 50, 60, 70, 80, 85, 90];

/** The fit that holds for `features`: the size class containing the layer's size (the classes cover every size). */
export function selectFit(fits: readonly RegressionFit[], features: Record<string, number>): RegressionFit | undefined {
  if (fits.length <= 1) return fits[0];
  const size = features[fits[0].sizeFeature ?? ''] ?? 0;
  return fits.find((fit) => (fit.sizeFrom === undefined || size >= fit.sizeFrom) && (fit.sizeTo === undefined || size < fit.sizeTo)) ?? fits[fits.length - 1];
}

/** Half-width, in ln(size), of the band around a size-class bound where the two classes' fits are blended. */
const CLASS_BLEND_LN = Math.log(2);

/**
 * The latency `fits` (one type's size classes) predict for a layer's features, ms; null
 * without fits. Within a factor of 2 of a bound between two classes the two fits are
 * blended, linearly in ln(size), so a prediction does not jump where the classes meet:
 * SENNA-CHK's 275→300 Gemm sat 6 % above one characterisation's fc bound, and its upper
 * class, extrapolated to the bottom of its range, gave it twice the lower class's time.
 */
export function predictWithFits(fits: readonly RegressionFit[], features: Record<string, number>): number | null {
  const fit = selectFit(fits, features);
  if (!fit) return null;
  const size = features[fits[0].sizeFeature ?? ''] ?? 0;
  for (let k = 0; k + 1 < fits.length && size > 0; k++) {
    const bound = fits[k].sizeTo;
    if (bound === undefined || !(bound > 0)) continue;
    const position = Math.log(size / bound) / CLASS_BLEND_LN;
    if (Math.abs(position) >= 1) continue;
    const upperWeight = (position + 1) / 2;
    return (1 - upperWeight) * predictWithFit(fits[k], features) + upperWeight * predictWithFit(fits[k + 1], features);
  }
  return predictWithFit(fit, features);
}

function relativeError(predicted: number, ms: number): number {
  return Math.abs(predicted - ms) / Math.max(ms, RELATIVE_ERROR_FLOOR_MS);
}

/** Fits for samples split at `bounds` (ascending sizes; none: one fit). Null when a class cannot be fitted. */
function classFits(layerType: string, featureNames: readonly string[], samples: FitSample[], sizeFeature: string, bounds: readonly number[]): RegressionFit[] | null {
  const fits: RegressionFit[] = [];
  for (let k = 0; k <= bounds.length; k++) {
    const from = k > 0 ? bounds[k - 1] : undefined;
    const to = k < bounds.length ? bounds[k] : undefined;
    const members = samples.filter((s) => (from === undefined || s.features[sizeFeature] >= from) && (to === undefined || s.features[sizeFeature] < to));
    const fit = fitBestRegression(layerType, featureNames, members);
    if (!fit) return null;
    fits.push(bounds.length === 0 ? fit : { ...fit, sizeFeature, ...(from !== undefined ? { sizeFrom: from } : {}), ...(to !== undefined ? { sizeTo: to } : {}) });
  }
  return fits;
}

export interface CrossValidatedError {
  /** Σ |predicted − measured| / Σ measured over the held-out samples. */
  total: number;
  /** Mean of |predicted − measured| / measured over the held-out samples. */
  meanRelative: number;
  /** Median of the same. */
  medianRelative: number;
}

/** A change to the predictions of fits made from a fold's training samples (local-correction.ts): a factor per layer's features. */
export type FoldAdjustment = (training: FitSample[], fits: readonly RegressionFit[]) => (features: Record<string, number>) => number;

/**
 * Errors of fits made without each fold, on that fold (each prediction times `adjust`'s
 * factor, made from the same training samples, where given); folds interleave the samples in
 * size order so every fold spans every size. Infinite when a fold's training samples
 * cannot be fitted.
 */
export function crossValidatedError(layerType: string, featureNames: readonly string[], samples: FitSample[], sizeFeature: string, bounds: readonly number[], adjust?: FoldAdjustment): CrossValidatedError {
  const ordered = [...samples].sort((a, b) => (a.features[sizeFeature] ?? 0) - (b.features[sizeFeature] ?? 0));
  let absolute = 0;
  let measured = 0;
  const relatives: number[] = [];
  for (let fold = 0; fold < CROSS_VALIDATION_FOLDS; fold++) {
    const training = ordered.filter((_, i) => i % CROSS_VALIDATION_FOLDS !== fold);
    const fits = classFits(layerType, featureNames, training, sizeFeature, bounds);
    if (!fits) return { total: Infinity, meanRelative: Infinity, medianRelative: Infinity };
    const factor = adjust?.(training, fits);
    for (const sample of ordered.filter((_, i) => i % CROSS_VALIDATION_FOLDS === fold)) {
      const predicted = (predictWithFits(fits, sample.features) ?? 0) * (factor ? factor(sample.features) : 1);
      absolute += Math.abs(predicted - sample.ms);
      measured += sample.ms;
      relatives.push(relativeError(predicted, sample.ms));
    }
  }
  const sorted = [...relatives].sort((a, b) => a - b);
  const middle = sorted.length === 0 ? Infinity : sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  return { total: measured > 0 ? absolute / measured : Infinity, meanRelative: relatives.reduce((a, b) => a + b, 0) / Math.max(1, ordered.length), medianRelative: middle };
}

/** Candidate split sizes: between neighbouring distinct sizes at the split percentiles, each leaving enough samples on both sides. */
function candidateBounds(sizes: number[], minimum: number): number[] {
  const sorted = [...sizes].sort((a, b) => a - b);
  const bounds = new Set<number>();
  for (const p of SPLIT_PERCENTILES) {
    const index = Math.round((p / 100) * (sorted.length - 1));
    let upper = index;
    while (upper < sorted.length && sorted[upper] === sorted[index]) upper++;
    if (upper >= sorted.length || upper < minimum || sorted.length - upper < minimum) continue;
    bounds.add(Math.sqrt(Math.max(sorted[upper - 1], 1e-12) * sorted[upper]));
  }
  return [...bounds];
}

/**
 * One layer type's fits: one for all its samples, or one per size class where a split
 * at one size cuts the cross-validated total error by at least SPLIT_GAIN (and keeps
 * the mean relative error within SPLIT_RELATIVE_TOLERANCE).
 */
export function fitLayerType(layerType: string, featureNames: readonly string[], samples: FitSample[], sizeFeature: string): RegressionFit[] {
  const whole = fitBestRegression(layerType, featureNames, samples);
  if (!whole) return [];
  const usable = samples.filter((s) => Number.isFinite(s.ms) && Number.isFinite(s.features[sizeFeature]) && featureNames.every((f) => Number.isFinite(s.features[f])));
  const minimum = Math.max(MIN_CLASS_SAMPLES, featureNames.length + 2 + Math.ceil((featureNames.length + 2) / (CROSS_VALIDATION_FOLDS - 1)));
  const candidates = candidateBounds(usable.map((s) => s.features[sizeFeature]), minimum);
  if (candidates.length === 0) return [whole];
  const unsplit = crossValidatedError(layerType, featureNames, usable, sizeFeature, []);
  let best: { bounds: number[]; error: CrossValidatedError } = { bounds: [], error: unsplit };
  for (const bound of candidates) {
    const error = crossValidatedError(layerType, featureNames, usable, sizeFeature, [bound]);
    if (error.meanRelative <= (1 + SPLIT_RELATIVE_TOLERANCE) * unsplit.meanRelative && error.total < best.error.total) best = { bounds: [bound], error };
  }
  if (best.bounds.length === 0 || !(best.error.total <= (1 - SPLIT_GAIN) * unsplit.total)) return [whole];
  return classFits(layerType, featureNames, usable, sizeFeature, best.bounds) ?? [whole];
}

/** Samples a type's fit is made from: those of the level, but for fc only those whose weights fit in the cache. */
function fitSamples(layerType: string, samples: readonly LayerSample[], level: GraphOptimization = 'disabled'): LayerSample[] {
  const ofType = samples.filter((s) => s.layerType === layerType && (s.level ?? 'disabled') === level);
  return layerType === 'fc' ? ofType.filter((s) => fcWeightBytes(s.features) <= LAST_LEVEL_CACHE_BYTES) : ofType;
}

/** Of fitSamples, those with every one of `featureNames` and their time finite: the samples a type's fits are cross-validated on. */
export function usableFitSamples(layerType: string, samples: readonly LayerSample[], level: GraphOptimization, featureNames: readonly string[] = LAYER_TYPE_FEATURES[layerType as LayerType] ?? []): LayerSample[] {
  return fitSamples(layerType, samples, level).filter((s) => Number.isFinite(s.ms) && featureNames.every((f) => Number.isFinite(s.features[f])));
}

/** The fits of every layer type with enough samples, in LAYER_TYPE_FEATURES order (size classes smallest first). */
export function fitDeviceModels(samples: LayerSample[], featuresByType: Readonly<Record<LayerType, readonly string[]>> = LAYER_TYPE_FEATURES): RegressionFit[] {
  const fits: RegressionFit[] = [];
  for (const level of ['disabled', 'all'] as const) {
    for (const [layerType, featureNames] of Object.entries(featuresByType)) {
      const found = fitLayerType(layerType, featureNames, fitSamples(layerType, samples, level), LAYER_TYPE_SIZE_FEATURE[layerType as LayerType] ?? featureNames[0]);
      fits.push(...(level === 'disabled' ? found : found.map((fit) => ({ ...fit, level }))));
    }
  }
  return fits;
}

/** Configurations the adaptive phase of the sweep adds carry this prefix in their key. */
export const ADAPTIVE_KEY_PREFIX = 'adaptive ';

/**
 * Per fitted layer type, the cross-validated error of its fits (the same size classes,
 * refitted without each fold): what a prediction of that type may be off by. Types
 * whose folds cannot be fitted are left out.
 */
export function layerTypeErrors(samples: LayerSample[], fits: readonly RegressionFit[], featuresByType: Readonly<Record<LayerType, readonly string[]>> = LAYER_TYPE_FEATURES): LayerTypeError[] {
  const errors: LayerTypeError[] = [];
  for (const level of ['disabled', 'all'] as const)
  for (const [layerType, featureNames] of Object.entries(featuresByType)) {
    const own = fits.filter((f) => f.layerType === layerType && (f.level ?? 'disabled') === level);
    if (own.length === 0) continue;
    const sizeFeature = own[0].sizeFeature ?? LAYER_TYPE_SIZE_FEATURE[layerType as LayerType] ?? featureNames[0];
    const bounds = own.map((f) => f.sizeTo).filter((b): b is number => b !== undefined);
    const usable = usableFitSamples(layerType, samples, level, featureNames);
    const error = crossValidatedError(layerType, featureNames, usable, sizeFeature, bounds);
    if (!Number.isFinite(error.meanRelative)) continue;
    errors.push({
      layerType,
      ...(level !== 'disabled' ? { level } : {}),
      samples: usable.length,
      adaptiveSamples: usable.filter((s) => (s as LayerSample).config?.startsWith(ADAPTIVE_KEY_PREFIX)).length,
      medianError: error.medianRelative,
      meanError: error.meanRelative
    });
  }
  return errors;
}
