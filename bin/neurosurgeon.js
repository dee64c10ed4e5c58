#!/usr/bin/env node
// The `neurosurgeon` command: runs the CLI bundled by `npm run build` (postinstall does it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('neurosurgeon: the CLI is not built; run `npm run build` in the project folder');
  process.exit(2);
}
await import(cli);
