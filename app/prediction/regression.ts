// The per-layer-type regression models of Neurosurgeon (Kang et al., ASPLOS 2017, §4.3):
// latency = intercept + Σ c_i × g(feature_i), with g the identity ('linear') or
// ln(1 + x) ('log'), fitted by least squares with an intercept to a device's sweep
// samples (main/characterize.ts). Both forms are fitted and the one with the higher R²
// is kept (ties go to linear). predict.ts evaluates the kept fits on new layers.
//
// The solver is ml-matrix's QR decomposition (well kept, typed, pure ECMAScript, so it
// runs in app/): features span 1e2..1e10 (MACs), and normal equations would square that
// condition number. Columns are centred and scaled to unit norm first; a feature whose
// column is (numerically) a linear combination of the intercept and the features kept
// before it is DROPPED — its coefficient is 0 — rather than ridge-damped, so a fit
// never spreads weight over features the sweep could not tell apart.
import { Matrix, QrDecomposition } from 'ml-matrix';
import type { LayerSample, RegressionFit } from '../profiling/types.js';
import { LAYER_TYPE_FEATURES, type LayerType } from './features.js';

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
  // One-row FC layers are the exception: few per model and bound by reading their
  // weights, their largest sizes decide a model's total, so they keep absolute error.
  const weights = layerType === 'fc' ? undefined : y.map((ms) => 1 / Math.max(ms, RELATIVE_ERROR_FLOOR_MS) ** 2);
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

/** The fits of every layer type with enough samples, in LAYER_TYPE_FEATURES order. */
export function fitDeviceModels(samples: LayerSample[], featuresByType: Readonly<Record<LayerType, readonly string[]>> = LAYER_TYPE_FEATURES): RegressionFit[] {
  const fits: RegressionFit[] = [];
  for (const [layerType, featureNames] of Object.entries(featuresByType)) {
    const ofType = samples.filter((s) => s.layerType === layerType);
    const fit = fitBestRegression(layerType, featureNames, ofType);
    if (fit) fits.push(fit);
  }
  return fits;
}
