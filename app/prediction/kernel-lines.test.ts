// Fused kernels costed from their own samples: the keys that name them, the rule's one
// kernel, and the line drawn through a kernel's samples.
import { describe, expect, it } from 'vitest';
import type { LayerSample } from '../profiling/types.js';
import { fusedKernelKey, kernelLineMs, kernelLines, kernelOfSampleKey, MIN_KERNEL_LINE_SAMPLES, singleKernelOf } from './kernel-lines.js';

const sample = (kernel: string, elements: number, ms: number, level: 'all' | 'disabled' = 'all'): LayerSample => ({
  layerType: 'activation',
  features: { neurons: elements, transcendentalNeurons: elements },
  ms,
  config: `${level === 'all' ? '@all ' : ''}${fusedKernelKey('activation', kernel, [1, elements])}`,
  ...(level === 'all' ? { level } : {})
});

describe('fused kernel keys', () => {
  it('names the kernel in a sample key, with or without the sweep level prefix, and nothing in a plain one', () => {
    expect(kernelOfSampleKey(fusedKernelKey('activation', 'QuickGelu', [1, 96, 112, 112]))).toBe('QuickGelu');
    expect(kernelOfSampleKey('@all normalization kernel SkipLayerNormalization x=1x16x256')).toBe('SkipLayerNormalization');
    expect(kernelOfSampleKey('activation Sigmoid x=1x16x56x56')).toBeNull();
    expect(kernelOfSampleKey('adaptive @all activation #22 activation Sigmoid x=1x16x56x56')).toBeNull();
  });

  it("takes a rule's one kernel, reorders aside, and none for a rule of several or not fused", () => {
    const rule = (kernels: string[], fused = true) => ({ id: 'r', description: '', ops: [], fused, kernels, folded: [] });
    expect(singleKernelOf(rule(['QuickGelu']))).toBe('QuickGelu');
    expect(singleKernelOf(rule(['ReorderInput', 'Gelu', 'ReorderOutput']))).toBe('Gelu');
    expect(singleKernelOf(rule(['ReorderInput', 'Conv', 'QuickGelu', 'ReorderOutput']))).toBeNull();
    expect(singleKernelOf(rule(['Sigmoid', 'Mul'], false))).toBeNull();
    expect(singleKernelOf(rule(['Sigmoid'], false))).toBeNull();
  });
});

describe('kernelLines', () => {
  it('draws a line through a kernel lying on one, and only through samples at the level', () => {
    const exact = [1e3, 1e4, 1e5, 1e6].map((n) => sample('QuickGelu', n, 0.005 + 1e-7 * n));
    const lines = kernelLines([...exact, sample('QuickGelu', 5e5, 99, 'disabled')], 'all');
    const line = lines.get('QuickGelu')!;
    expect(line.samples).toBe(4);
    expect(line.interceptMs).toBeCloseTo(0.005, 9);
    expect(line.msPerElement).toBeCloseTo(1e-7, 12);
    expect(kernelLineMs(line, 2e5)).toBeCloseTo(0.025, 9);
    expect(kernelLines(exact, 'disabled').size).toBe(0);
  });

  it('fits the relative error, so the largest sample does not set the small kernels', () => {
    // A characterisation's LayerNormalization kernels, 1×16×256 to 1×256×1024: a least-squares
    // line in ms puts 10 µs of intercept on them, over 3 times the smallest one's 3.7 µs.
    const measured = [[4096, 0.0037], [24576, 0.0175], [75648, 0.0441], [98304, 0.056], [262144, 0.1045]];
    const line = kernelLines(measured.map(([n, ms]) => sample('LayerNormalization', n, ms)), 'all').get('LayerNormalization')!;
    expect(Math.abs(kernelLineMs(line, 4096) / 0.0037 - 1)).toBeLessThan(0.1);
    for (const [n, ms] of measured) expect(Math.abs(kernelLineMs(line, n) / ms - 1)).toBeLessThan(0.25);
  });

  it('refits through the origin where the intercept would be negative, and draws none from too few samples or a falling line', () => {
    const throughOrigin = kernelLines([1e4, 1e5, 1e6].map((n, i) => sample('Gelu', n, [0.004, 0.06, 0.7][i])), 'all').get('Gelu')!;
    expect(throughOrigin.interceptMs).toBe(0);
    expect(throughOrigin.msPerElement).toBeGreaterThan(0);
    const few = Array.from({ length: MIN_KERNEL_LINE_SAMPLES - 1 }, (_, i) => sample('Gelu', 1e4 * (i + 1), 0.01 * (i + 1)));
    expect(kernelLines(few, 'all').has('Gelu')).toBe(false);
    expect(kernelLines([1e4, 1e5, 1e6].map((n, i) => sample('Gelu', n, [0.3, 0.2, 0.1][i])), 'all').has('Gelu')).toBe(false);
  });
});
