// Unit and integration tests live beside the code they test (*.test.ts) in app/ and main/.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['app/**/*.test.ts', 'main/**/*.test.ts', 'renderer/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Most integration tests wait on child processes and sockets (executors, profilers), so two
    // files at a time halve the suite on a 2-core machine; vitest's default there is one.
    maxWorkers: 2,
    // The Vulkan loader behind the WebGPU tests complains on stderr without a runtime dir.
    env: { XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? mkdtempSync(path.join(tmpdir(), 'neurosurgeon-xdg-')) },
    // The JSON report lets .ci/run print a plain 'N passed, N failed' closing line.
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' }
  }
});
