// Bundles everything that runs from dist/ with esbuild:
//   dist/main/cli.js, bench.js      the CLI (also the executor and web host launcher) and the
//                                   benchmark: Node, ESM;
//   dist/main/electron-main.cjs,    Electron's main process and the window's preload:
//   dist/main/preload.cjs           CommonJS, as Electron loads them (sandboxed preloads must be);
//   dist/renderer/index.js, .css,   the React renderer for the browser (the CSS its components
//   index.html                      import is gathered into index.css), plus its page;
//   dist/renderer/layout-worker.js  the graph's layout worker (renderer/graph/layout-worker.ts),
//                                   loaded by the page from next to index.js.
// onnxruntime-node and electron stay external: they are native or ship their own binaries.
// Until renderer/index.tsx exists the renderer bundle is skipped with a note.
import { build } from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const external = ['onnxruntime-node', 'electron', 'sharp'];

const nodeBundles = build({
  absWorkingDir: root,
  entryPoints: { cli: 'main/cli/cli.ts', bench: 'main/bench/bench.ts' },
  outdir: 'dist/main',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  // The benchmark drives Chromium through Playwright (a dev dependency, loaded when used).
  external: [...external, '@playwright/test', 'playwright-core', 'playwright'],
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'error'
});

// CommonJS has no import.meta: code that finds its own files through import.meta.url
// (main/files/paths.ts, main/profiling/providers.ts) gets the bundle's file URL instead.
const electronBundles = build({
  absWorkingDir: root,
  entryPoints: { 'electron-main': 'main/electron/main.ts', preload: 'main/electron/preload.ts' },
  outdir: 'dist/main',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: true,
  external,
  define: { 'import.meta.url': '__bundleFileUrl' },
  banner: { js: "const __bundleFileUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'error'
});

const rendererEntry = path.join(root, 'renderer', 'index.tsx');
const rendererBundle = existsSync(rendererEntry)
  ? build({
      absWorkingDir: root,
      entryPoints: { index: 'renderer/index.tsx', 'layout-worker': 'renderer/graph/layout-worker.ts' },
      outdir: 'dist/renderer',
      bundle: true,
      platform: 'browser',
      target: ['chrome120', 'firefox120', 'safari17'],
      format: 'iife',
      jsx: 'automatic',
      minify: process.env.NEUROSURGEON_NO_MINIFY !== '1',
      sourcemap: true,
      define: { 'process.env.NODE_ENV': '"production"' },
      loader: { '.svg': 'file', '.png': 'file', '.woff2': 'file', '.woff': 'file', '.csv': 'text' },
      logLevel: 'error'
    }).then(() => {
      mkdirSync(path.join(root, 'dist', 'renderer'), { recursive: true });
      copyFileSync(path.join(root, 'renderer', 'index.html'), path.join(root, 'dist', 'renderer', 'index.html'));
    })
  : (console.log('build: renderer/index.tsx does not exist yet; skipped the renderer bundle'), Promise.resolve());

const results = await Promise.allSettled([nodeBundles, electronBundles, rendererBundle]);
const failed = ['CLI and bench', 'Electron main and preload', 'renderer'].filter((_, i) => results[i].status === 'rejected');
if (failed.length > 0) {
  console.error(`build: esbuild failed for the ${failed.join(', ')} bundle${failed.length > 1 ? 's' : ''} (errors above)`);
  process.exit(1);
}
