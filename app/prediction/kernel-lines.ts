// Fused kernels costed from their own samples. A characterisation times the kernels
// onnxruntime makes of written-out patterns at 'all' (QuickGelu of a SiLU, Gelu,
// LayerNormalization, SkipLayerNormalization: fusedKernelConfigs in
// main/profiling/characterize.ts), and those samples join their layer type's fit, whose
// features (elements, transcendental elements) cannot tell one kernel from another: a
// SiLU's QuickGelu after a Conv cost 0.15–0.18 ns per element here (1×144×56×56 to
// 1×480×14×14, whole runs with and without it), where the activation fit, led by Sigmoid,
// Tanh and Erf, put 0.28; a Gelu kernel took 0.47–0.55. So where a fusion rule says a group
// runs as one named kernel and the sweep holds at least MIN_KERNEL_LINE_SAMPLES of that
// kernel at the level, the group is predicted by a line through those samples (ms against
// the kernel's output elements) instead of by the type's fit. The type's context factor
// (context.ts), found for plain layers at 'disabled', is not applied to it: with it the zoo
// transformer's SkipLayerNormalization kernels were predicted 218 µs against 164 measured,
// without it 152, and its Gelu kernels 80 against 67 (66 without).
import type { GraphOptimization, LayerSample } from '../profiling/types.js';
import type { FusionRule } from './fusion.js';
import { leastSquares } from './regression.js';

/** Fewest samples of one kernel a line is drawn through. */
export const MIN_KERNEL_LINE_SAMPLES = 3;

/** A fused kernel's cost on this device: interceptMs + msPerElement × its output elements. */
export interface KernelLine {
  interceptMs: number;
  msPerElement: number;
  samples: number;
}

/** The sweep key of a fused kernel's sample (the level prefix is the sweep's to add). */
export function fusedKernelKey(layerType: string, kernel: string, shape: readonly number[]): string {
  return `${layerType} kernel ${kernel} x=${shape.join('x')}`;
}

/** The kernel a sample's key names (fusedKernelKey), or null for a sample of a plain layer. */
export function kernelOfSampleKey(config: string): string | null {
  return /(?:^|\s)kernel (\w+) x=/.exec(config)?.[1] ?? null;
}

/** The one kernel a fusion rule's group runs as, layout reorders aside; null when it runs as none or several. */
export function singleKernelOf(rule: FusionRule): string | null {
  const kernels = rule.kernels.filter((kernel) => kernel !== 'ReorderInput' && kernel !== 'ReorderOutput');
  return rule.fused && kernels.length === 1 ? kernels[0] : null;
}

/**
 * A line of ms against output elements through each fused kernel's samples timed at
 * `level`, for kernels with MIN_KERNEL_LINE_SAMPLES or more and a positive slope: least
 * squares of the relative error, so that the largest sample does not set the line for the
 * small kernels (a plain fit through LayerNormalization's five samples, 4 K to 262 K
 * elements, put 10 µs of intercept on each of the text classifier's µs-scale norms); a
 * negative intercept is refitted through the origin.
 */
export function kernelLines(samples: readonly LayerSample[], level: GraphOptimization): Map<string, KernelLine> {
  const points = new Map<string, { x: number; y: number }[]>();
  for (const sample of samples) {
    const kernel = kernelOfSampleKey(sample.config);
    const elements = sample.features.neurons;
    if (kernel === null || (sample.level ?? 'disabled') !== level || !(elements > 0) || !(sample.ms > 0)) continue;
    points.set(kernel, [...(points.get(kernel) ?? []), { x: elements, y: sample.ms }]);
  }
  const lines = new Map<string, KernelLine>();
  for (const [kernel, xy] of points) {
    if (xy.length < MIN_KERNEL_LINE_SAMPLES) continue;
    // Weighted by 1 / y²: Σ ((a + b·x − y) / y)², as the types' fits weigh their samples.
    const weights = xy.map((p) => 1 / (p.y * p.y));
    const solution = leastSquares(xy.map((p) => [p.x]), xy.map((p) => p.y), weights);
    if (!solution) continue;
    let [slope] = solution.coefficients;
    let intercept = solution.intercept;
    if (intercept < 0) {
      const weighted = (term: (p: { x: number; y: number }) => number): number => xy.reduce((total, p, i) => total + term(p) * weights[i], 0);
      slope = weighted((p) => p.x * p.y) / weighted((p) => p.x * p.x);
      intercept = 0;
    }
    if (slope > 0) lines.set(kernel, { interceptMs: intercept, msPerElement: slope, samples: xy.length });
  }
  return lines;
}

/** What `line`'s kernel takes over `elements` output elements, ms. */
export function kernelLineMs(line: KernelLine, elements: number): number {
  return line.interceptMs + line.msPerElement * elements;
}
