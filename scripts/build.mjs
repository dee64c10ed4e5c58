// Bundles the Node entry points of main/ with esbuild into dist/main/ (the CLI, which is
// also the executor and web host launcher, and the benchmark). onnxruntime-node and
// electron stay external: they are native or ship their own binaries.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

try {
  await build({
  absWorkingDir: root,
  entryPoints: { cli: 'main/cli.ts', bench: 'main/bench.ts' },
  outdir: 'dist/main',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  external: ['onnxruntime-node', 'electron'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'error'
  });
} catch {
  console.error('build: esbuild failed (errors above)');
  process.exit(1);
}
