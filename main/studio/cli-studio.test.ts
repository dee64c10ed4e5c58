// `neurosurgeon studio` as users run it, from the bundle (npm run build first): the web
// host prints its address as one line, serves the page and the contract, announces a
// model named on the command line to the page, and stops cleanly on SIGTERM; without
// --web and without an Electron binary it says so in one line and starts the web host.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, parseServerMessage, type WireServerMessage } from '../../app/studio/wire.js';
import { packageRoot } from '../files/paths.js';
import { ensureZooModel } from '../model/zoo-files.js';
import { defaultZooDir } from '../files/paths.js';
import { electronBinary } from './launch.js';

const bin = path.join(packageRoot(), 'bin', 'neurosurgeon.js');
let home: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(path.join(packageRoot(), 'dist', 'main', 'cli.js'))) throw new Error('run `npm run build` before this test');
  home = mkdtempSync(path.join(tmpdir(), 'studio-cli-'));
  ensureZooModel('lenet', defaultZooDir());
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** Starts the CLI and resolves with the stdout lines up to and including the address line. */
function startStudio(args: string[]): Promise<{ child: ChildProcess; lines: string[]; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [bin, 'studio', ...args], {
    env: { ...process.env, NEUROSURGEON_STUDIO_HOME: home, DISPLAY: '', WAYLAND_DISPLAY: '' },
    stdio: ['ignore', 'pipe', 'pipe']
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const match = /^studio: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/.exec(line);
      if (match) resolve({ child, lines, url: match[1], stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`studio exited with ${code}: ${stderr}`)));
  });
}

function connect(pageUrl: string): Promise<{ socket: WebSocket; messages: WireServerMessage[]; next: (match: (m: WireServerMessage) => boolean) => Promise<WireServerMessage> }> {
  const url = new URL(pageUrl);
  const socket = new WebSocket(`ws://${url.host}/studio?token=${url.searchParams.get('token')}`);
  const messages: WireServerMessage[] = [];
  const waiters: { match: (m: WireServerMessage) => boolean; resolve: (m: WireServerMessage) => void }[] = [];
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const message = parseServerMessage(decodeMessage(isBinary ? new Uint8Array(data) : data.toString('utf8')));
    messages.push(message);
    for (const waiter of waiters.filter((w) => w.match(message))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(message);
    }
  });
  const next = (match: (m: WireServerMessage) => boolean) =>
    new Promise<WireServerMessage>((resolve) => {
      const seen = messages.find(match);
      if (seen) resolve(seen);
      else waiters.push({ match, resolve });
    });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, messages, next }));
    socket.once('error', reject);
  });
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('neurosurgeon studio --web', () => {
  it('prints one address line, serves the page and the contract, announces the model given, and stops on SIGTERM', async () => {
    const model = path.join(defaultZooDir(), 'lenet.onnx');
    const studio = await startStudio(['--web', '--no-open', '--no-executor', model]);
    expect(studio.lines).toHaveLength(1);
    const page = await fetch(studio.url);
    expect([200, 503]).toContain(page.status);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");

    const client = await connect(studio.url);
    const opened = (await client.next((m) => 'event' in m && m.event === 'model.opened')) as { payload: { model: { fileName: string }; source: { kind: string } } };
    expect(opened.payload.model.fileName).toBe('lenet.onnx');
    expect(opened.payload.source.kind).toBe('path');
    client.socket.send(encodeMessage({ id: 1, method: 'executor.status', params: {} }));
    expect(await client.next((m) => 'id' in m && m.id === 1)).toMatchObject({ result: { kind: 'local', state: 'stopped', label: 'this machine' } });
    client.socket.close();

    studio.child.kill('SIGTERM');
    expect(await exitCode(studio.child)).toBe(0);
  });

  it('shows a model from the command line that does not open as an error to the page', async () => {
    const broken = path.join(home, 'broken.onnx');
    writeFileSync(broken, 'not a model');
    const studio = await startStudio(['--web', '--no-open', '--no-executor', broken]);
    const client = await connect(studio.url);
    const error = (await client.next((m) => 'event' in m && m.event === 'app.error')) as { payload: { name: string; message: string } };
    expect(error.payload.name).toBe('ModelFileError');
    expect(error.payload.message).toMatch(new RegExp(`^${broken.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not an ONNX model`));
    client.socket.close();
    studio.child.kill('SIGTERM');
    expect(await exitCode(studio.child)).toBe(0);
  });

  it('refuses a bad port in one line', async () => {
    const child = spawn(process.execPath, [bin, 'studio', '--web', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    expect(await exitCode(child)).toBe(2);
    expect(stderr.trim()).toBe('neurosurgeon: --port must be a whole number from 0 to 65535, got "eighty"');
  });
});

describe('neurosurgeon studio (desktop)', () => {
  it.skipIf('path' in electronBinary())('says in one line that Electron is missing and starts the web host instead', async () => {
    const studio = await startStudio(['--no-open', '--no-executor']);
    expect(studio.lines).toHaveLength(2);
    expect(studio.lines[0]).toMatch(/^Electron binary not installed \(.+\); starting the studio in your browser instead$/);
    studio.child.kill('SIGTERM');
    expect(await exitCode(studio.child)).toBe(0);
  });
});
