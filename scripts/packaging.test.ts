// The packaging config: electron-builder must take the project root (not the engine
// folder app/) as the app, ship the built output, and declare the .onnx association.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../main/files/paths.js';

interface BuilderConfig {
  directories: { app: string; output: string };
  files: string[];
  fileAssociations: { ext: string }[];
}

describe('electron-builder.yml', () => {
  const config = load(readFileSync(path.join(packageRoot(), 'electron-builder.yml'), 'utf8')) as BuilderConfig;
  it('uses the project root as the app, never app/', () => {
    expect(config.directories.app).toBe('.');
    expect(config.directories.output).toBe('out');
  });
  it('ships the built output and declares .onnx files', () => {
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'dist/**', 'resources/**', '!resources/models/**']));
    expect(config.fileAssociations.map((a) => a.ext)).toContain('onnx');
  });
});
