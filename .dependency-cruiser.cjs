// The import rules `npm test` checks (npm run check:deps), over every source file:
//   - no import cycles anywhere in the project;
//   - the layers of BRIEF.md: app/ imports nothing of main/, renderer/, Node, Electron or
//     React; renderer/ imports app/ only; main/ never imports renderer/;
//   - the rooms of main/, lowest first: errors → files → model → profiling → executor →
//     split → fleet → studio → electron, with cli and bench on top; a room imports only rooms below
//     it (tests may import any room below their own).
// eslint.config.mjs and the per-folder tsconfigs enforce the layers too; this file adds the
// cycles and the rooms, which neither of them can express.
const rooms = ['errors', 'files', 'model', 'profiling', 'executor', 'split', 'fleet', 'studio', 'electron', 'cli', 'bench'];
// cli and bench sit side by side at the top: neither imports the other.
const above = (room) => {
  const higher = rooms.slice(rooms.indexOf(room) + 1);
  return room === 'cli' ? ['bench'] : room === 'bench' ? ['cli'] : higher;
};
const nodeOnlyPackages = ['onnxruntime-node', 'electron', 'commander', 'ws'];
const uiPackages = ['react', 'react-dom', 'zustand', 'recharts'];
const packagePath = (names) => `^node_modules/(${names.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Import cycles make rooms impossible to read one at a time; break them with a shared type or a lower room.',
      from: { pathNot: '^node_modules' },
      to: { circular: true }
    },
    ...[
      { dependencyTypes: ['core'] },
      { path: '^(main|renderer)/' },
      { path: packagePath([...nodeOnlyPackages, ...uiPackages]) }
    ].map((to) => ({
      name: 'app-is-pure',
      severity: 'error',
      comment: 'app/ is the pure engine: no Node, Electron or React, nothing of main/ or renderer/ (BRIEF.md).',
      from: { path: '^app/', pathNot: '\\.test\\.ts$' },
      to
    })),
    ...[{ dependencyTypes: ['core'] }, { path: '^main/' }, { path: packagePath(nodeOnlyPackages) }].map((to) => ({
      name: 'renderer-imports-app-only',
      severity: 'error',
      comment: 'renderer/ runs in a browser sandbox: it reaches Node only through the typed contract.',
      from: { path: '^renderer/' },
      to
    })),
    {
      name: 'main-never-imports-renderer',
      severity: 'error',
      from: { path: '^main/' },
      to: { path: '^renderer/' }
    },
    ...rooms.map((room) => ({
      name: `room-${room}-imports-lower-rooms`,
      severity: 'error',
      comment: `main/${room}/ may import only the rooms below it (${rooms.slice(0, rooms.indexOf(room)).join(', ') || 'none'}).`,
      from: { path: `^main/${room}/` },
      to: { path: `^main/(${above(room).join('|')})/` }
    })),
    {
      name: 'main-has-rooms-only',
      severity: 'error',
      comment: 'Every file of main/ lives in a room (a folder named for its responsibility).',
      from: { path: '^main/[^/]+\\.tsx?$' },
      to: { path: '.' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|\\.tsbuild|app/onnx/generated)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'] }
  }
};
