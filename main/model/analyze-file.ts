// Opens a model file and analyses it: static shape inference first (app/), then — only
// when some shapes stay unknown or symbolic — one real onnxruntime run to settle them.
// The CLI and the studio both open models through here.
import { analyzeModel } from '../../app/analysis/analyze.js';
import type { ModelAnalysis } from '../../app/analysis/types.js';
import { loadModelFile, inlineExternalData, type LoadedModel } from './model-file.js';
import { inferRuntimeShapes, RuntimeShapeError } from './runtime-shapes.js';

export type RuntimeShapeMode = 'auto' | 'always' | 'never';

export interface AnalyzedModel extends LoadedModel {
  analysis: ModelAnalysis;
  /** Why runtime shapes were not used when they were needed (e.g. onnxruntime rejected the model). */
  runtimeShapeWarning: string | null;
}

export interface AnalyzeFileOptions {
  dimValues?: Record<string, number>;
  runtimeShapes?: RuntimeShapeMode;
}

export function needsRuntimeShapes(analysis: ModelAnalysis): boolean {
  return analysis.unresolved.length > 0 || analysis.layers.some((l) => l.flags.includes('symbolic-shape'));
}

export async function analyzeModelFile(filePath: string, options: AnalyzeFileOptions = {}): Promise<AnalyzedModel> {
  const loaded = await loadModelFile(filePath);
  return analyzeLoadedModel(loaded, options);
}

export async function analyzeLoadedModel(loaded: LoadedModel, options: AnalyzeFileOptions = {}): Promise<AnalyzedModel> {
  const mode = options.runtimeShapes ?? 'auto';
  const dimValues = options.dimValues ?? {};
  let analysis = analyzeModel(loaded.model, { dimValues, defaultSymbolicDims: true });
  let runtimeShapeWarning: string | null = null;
  if (mode === 'always' || (mode === 'auto' && needsRuntimeShapes(analysis))) {
    try {
      inlineExternalData(loaded);
      const runtimeShapes = await inferRuntimeShapes(loaded.model, { dimValues: resolvedDims({ analysis }) });
      analysis = analyzeModel(loaded.model, { dimValues, defaultSymbolicDims: true, runtimeShapes });
    } catch (error) {
      if (!(error instanceof RuntimeShapeError)) throw error;
      runtimeShapeWarning = error.message;
    }
  }
  return { ...loaded, analysis, runtimeShapeWarning };
}

/** The value of every symbolic input dimension the analysis used (given or default), for real runs. */
export function resolvedDims(analyzed: Pick<AnalyzedModel, 'analysis'>): Record<string, number> {
  return Object.fromEntries(analyzed.analysis.symbolicDims.map((d) => [d.name, d.value]));
}
