// Runs after `npm install`: builds the Node entry points (CLI, executor, Electron main)
// and, where possible, fetches the optional native pieces whose own install scripts
// reach hosts outside the npm registry. Nothing here may fail the install: each
// optional step says in one line what it did or why it was skipped.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

function run(command, args, options = {}) {
  return spawnSync(command, args, { stdio: 'inherit', timeout: 180_000, ...options });
}

const build = run(process.execPath, ['scripts/build.mjs']);
if (build.status !== 0) {
  console.error('neurosurgeon: build failed; run `npm run build` to see why');
  process.exit(1);
}

// Electron 45 downloads its binary on first use; fetch it now where its host is
// reachable so the desktop app starts at once. Where it is not, the studio runs in a
// browser through the web host.
if (!process.env.ELECTRON_SKIP_BINARY_DOWNLOAD && existsSync('node_modules/electron/install.js')) {
  const electron = run(process.execPath, ['node_modules/electron/install.js'], { stdio: 'ignore', timeout: 120_000 });
  console.log(
    electron.status === 0
      ? 'neurosurgeon: Electron binary installed'
      : 'neurosurgeon: Electron binary not downloaded (its host is unreachable); the studio will run in the browser'
  );
}

// The CUDA execution provider is not bundled in onnxruntime-node; fetch it only where an
// NVIDIA driver is present.
const hasNvidia = spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;
if (hasNvidia && existsSync('node_modules/onnxruntime-node/script/install.js')) {
  const cuda = run(process.execPath, ['node_modules/onnxruntime-node/script/install.js'], {
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12', npm_config_onnxruntime_node_install: 'cuda12' },
    stdio: 'ignore'
  });
  console.log(
    cuda.status === 0
      ? 'neurosurgeon: onnxruntime CUDA provider installed'
      : 'neurosurgeon: onnxruntime CUDA provider not downloaded; CUDA profiling unavailable'
  );
}
