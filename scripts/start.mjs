// `npm start [-- --web] [-- MODEL]`: builds dist/ when it is missing, generates the bundled
// AlexNet sample on first use, then starts the studio through the CLI
// (`neurosurgeon studio`), which opens the Electron window where its binary is installed
// and otherwise says so in one line and serves the studio to the browser (opening one
// when there is a display). Arguments after `--` go to `neurosurgeon studio`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'neurosurgeon.js');
const built = ['dist/main/cli.js', 'dist/main/electron-main.cjs', 'dist/main/preload.cjs', 'dist/renderer/index.html'].every((file) => existsSync(path.join(root, file)));

const runOrExit = (args) => {
  const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!built) runOrExit([path.join(root, 'scripts', 'build.mjs')]);
runOrExit([cli, 'zoo', '--only', 'alexnet']);

// Ctrl-C reaches the studio from the terminal (it stops its executor first): wait for it.
// A SIGTERM sent to this script alone is passed on.
const studioArgs = process.argv.slice(2).filter((arg, index) => !(index === 0 && arg === '--'));
const studio = spawn(process.execPath, [cli, 'studio', ...studioArgs], { stdio: 'inherit', cwd: root });
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => studio.kill('SIGTERM'));
studio.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
