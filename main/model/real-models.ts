// The real PyTorch exports the project is tried on (BRIEF.md: "the zoo is not the world"):
// ../shared/real-models beside the checkout, or $NEUROSURGEON_REAL_MODELS. Tests and the
// bench read them from there; they are never regenerated here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../files/paths.js';

export function realModelsDir(): string {
  return process.env.NEUROSURGEON_REAL_MODELS ?? path.resolve(packageRoot(), '..', 'shared', 'real-models');
}

export interface RealModel {
  name: string;
  file: string;
  bytes: number;
}

/** The .onnx files of the real-models folder, by name; empty when the folder is missing. */
export function listRealModels(): RealModel[] {
  const dir = realModelsDir();
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.onnx'))
    .sort()
    .map((name) => {
      const file = path.join(dir, name);
      return { name: name.replace(/\.onnx$/, ''), file, bytes: statSync(file).size };
    });
}
