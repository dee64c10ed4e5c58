// Lint rules, chief among them the layer boundaries (BRIEF.md, "Architecture"):
//   app/      imports nothing of main/, renderer/, Node, Electron or React;
//   renderer/ imports app/ only (no main/, no Node, no Electron);
//   main/     may import app/, never renderer/.
// The per-layer tsconfigs enforce the same from the compiler's side.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeModules = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeOnlyPackages = ['onnxruntime-node', 'electron', 'commander', 'ws'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tsbuild/**', 'app/onnx/generated/**', 'resources/models/**', 'out/**', '.cache/**', 'test-results/**', 'bench-results/**', 'playwright-report/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    files: ['app/**/*.ts'],
    ignores: ['app/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeModules, ...nodeOnlyPackages, 'react', 'react-dom', 'zustand', 'recharts'].map((name) => ({
            name,
            message: 'app/ is the pure engine: no Node, Electron or React imports (BRIEF.md).'
          })),
          patterns: [
            { group: ['**/main/**', '../main', '../../main'], message: 'app/ must not import main/.' },
            { group: ['**/renderer/**', '../renderer', '../../renderer'], message: 'app/ must not import renderer/.' }
          ]
        }
      ]
    }
  },
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeModules, ...nodeOnlyPackages].map((name) => ({
            name,
            message: 'renderer/ runs in a browser sandbox: reach Node only through the typed contract.'
          })),
          patterns: [{ group: ['**/main/**', '../main', '../../main'], message: 'renderer/ imports app/ only.' }]
        }
      ]
    }
  },
  {
    files: ['main/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/renderer/**', '../renderer'], message: 'main/ must not import renderer/.' }] }
      ]
    }
  }
);
