// The studio's executor child ends with the studio, however the studio ends: a real
// `neurosurgeon studio --web` process is killed with SIGKILL (no exit hook can run) and its
// executor, which watches the stdin pipe the studio gave it (--exit-with-parent), exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, parseServerMessage } from '../../app/studio/wire.js';
import { packageRoot } from '../files/paths.js';

const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');
const home = mkdtempSync(path.join(tmpdir(), 'studio-lifetime-'));
const started: ChildProcess[] = [];
const orphans: number[] = [];

afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // An executor that outlived its studio (the failure this test is about) is not left behind.
  for (const pid of orphans) if (running(pid)) process.kill(pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** Child process ids of `pid` (Linux: /proc/PID/task/TID/children). */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter((id) => id !== '')
        .map(Number)
    );
  } catch {
    return [];
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Running: it exists and is not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The studio's executor status, asked over the contract. */
async function executorStatus(pageUrl: string): Promise<{ state: string; url: string }> {
  const url = new URL(pageUrl);
  const socket = new WebSocket(`ws://${url.host}/studio?token=${url.searchParams.get('token')}`);
  try {
    return await new Promise((resolve, reject) => {
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        const message = parseServerMessage(decodeMessage(isBinary ? new Uint8Array(data) : data.toString('utf8')));
        if ('id' in message && message.id === 1) resolve((message as { result: { state: string; url: string } }).result);
      });
      socket.once('open', () => socket.send(encodeMessage({ id: 1, method: 'executor.status', params: {} })));
      socket.once('error', reject);
    });
  } finally {
    socket.close();
  }
}

async function waitFor<T>(probe: () => T | null | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("the studio's executor child", () => {
  it('exits when the studio is killed with SIGKILL', async () => {
    if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` before this test');
    const studio = spawn(process.execPath, [bin, 'studio', '--web', '--no-open', '--port', '0'], {
      env: { ...process.env, NEUROSURGEON_STUDIO_HOME: home, DISPLAY: '', WAYLAND_DISPLAY: '' },
      stdio: ['ignore', 'pipe', 'pipe']
    });
    started.push(studio);
    let output = '';
    studio.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    studio.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const page = await waitFor(() => /^studio: (http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(output)?.[1], 90_000, `the studio's address (it said: ${output})`);
    const executor = await waitFor(
      () => childrenOf(studio.pid as number).find((pid) => /neurosurgeon\.js executor .*--exit-with-parent/.test(commandLine(pid))),
      90_000,
      "the studio's executor child"
    );
    orphans.push(executor);
    // Listening and idle: nothing it does by itself would end it.
    let status = await executorStatus(page);
    for (let i = 0; i < 600 && status.state !== 'connected'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await executorStatus(page);
    }
    expect(status.state).toBe('connected');
    expect((await fetch(`${status.url}/v2/health/live`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(running(executor)).toBe(true);
    studio.kill('SIGKILL');
    const killedAt = performance.now();
    await waitFor(() => !running(executor), 10_000, `executor ${executor} to exit after the studio was killed`);
    expect(performance.now() - killedAt).toBeLessThan(10_000);
  }, 200_000);
});
