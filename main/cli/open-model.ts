// How every CLI command opens a model: analysed with the user's --dim values, and what the
// user should know about it said once on stderr — symbolic dimensions that took a default
// value (so a text model is not silently analysed at sequence length 1), and runtime
// shapes that could not be used.
import { analyzeModelFile, type AnalyzedModel, type RuntimeShapeMode } from '../model/analyze-file.js';
import { parseDims } from './options.js';

export async function openModelForCli(model: string, options: { dim?: string[]; runtimeShapes?: RuntimeShapeMode }): Promise<AnalyzedModel> {
  const analyzed = await analyzeModelFile(model, { dimValues: parseDims(options.dim), runtimeShapes: options.runtimeShapes });
  const defaulted = analyzed.analysis.symbolicDims.filter((d) => d.source === 'default');
  if (defaulted.length > 0) {
    const list = defaulted.map((d) => `${d.name}=${d.value}`).join(', ');
    process.stderr.write(`neurosurgeon: note: symbolic dimensions set to their default: ${list} (give others with --dim NAME=N)\n`);
  }
  if (analyzed.runtimeShapeWarning) process.stderr.write(`neurosurgeon: warning: ${analyzed.runtimeShapeWarning}\n`);
  return analyzed;
}
