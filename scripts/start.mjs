// `npm start`. Until the studio window lands (issue 5), it generates the bundled AlexNet
// sample on first use and prints its split plan over Wi-Fi through the real CLI.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'neurosurgeon.js');
const run = (args) => {
  const result = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

run(['zoo', '--only', 'alexnet']);
run(['plan', path.join(root, 'resources', 'models', 'alexnet.onnx'), '--network', 'wifi', '--dag']);
console.log('\nThe studio window arrives with issue 5; meanwhile `npx neurosurgeon --help` lists what the engine does.');
