// `npm run bench -- --only robust`: how the tools hold up against what a careful attacker
// and a clumsy user send them (issue 14) —
//   (1) the fuzz suite (fuzz.ts, the same seeded cases `npm test` runs): cases tried, clean
//       refusals, crashes and hangs;
//   (2) the executor's memory under a burst: 8 concurrent 200 MB request bodies against
//       `--max-inflight-mb 256` (each retried after its 503's Retry-After until answered):
//       RSS before, at its peak and 5 s after the last answer;
//   (3) `neurosurgeon analyze` on /dev/zero and on a FIFO: exit code 2 and the time to it.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { ExecutorClient } from '../executor/client.js';
import { startExecutorProcess } from '../executor/executor-process.js';
import { packageRoot } from '../files/paths.js';
import type { BenchFigure } from './figure.js';
import { runFuzz, type FuzzSummary } from './fuzz.js';

const BODY_BYTES = 200 * 1024 * 1024;
const CLIENTS = 8;
const INFLIGHT_MB = 256;

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** x: FP32 [n] → ReduceSum → a scalar: a request is almost all body. */
function reduceModel(): Uint8Array {
  const b = new GraphBuilder('reduce');
  const x = b.input('x', 'float32', ['n']);
  b.output(b.op('ReduceSum', [x], { keepdims: 0 }, 'sum'), 'float32', []);
  return b.toBytes();
}

/** A process's resident and peak resident memory, bytes (Linux /proc). */
export function processMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

/** One binary-extension inference of `elements` floats, the same 200 MB buffer for every client; retried on 503 after Retry-After. */
async function inferUntilAnswered(url: string, model: string, data: Buffer, elements: number): Promise<{ status: number; refusals: number }> {
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [elements], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }] }), 'utf8');
  let refusals = 0;
  for (;;) {
    const answer = await new Promise<{ status: number; retryAfter: number }>((resolve) => {
      const request = http.request(`${url}/v2/models/${model}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.byteLength), 'content-length': String(header.byteLength + data.byteLength) }
      });
      let settled = false;
      const settle = (status: number, retryAfter = 1) => {
        if (settled) return;
        settled = true;
        resolve({ status, retryAfter });
      };
      request.on('response', (response) => {
        // Refused (503 before the body was read): stop sending the rest, as a careful client does.
        if (response.statusCode !== 200) request.destroy();
        response.resume();
        response.on('end', () => settle(response.statusCode ?? 0, Number(response.headers['retry-after'] ?? 1)));
        response.on('error', () => settle(response.statusCode ?? 0));
      });
      // A refused body is not read: the server closes the connection while the client still writes.
      request.on('error', () => setTimeout(() => settle(-1), 50));
      request.write(header);
      request.end(data);
    });
    if (answer.status === 503 || answer.status === -1) {
      refusals++;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0.2, answer.retryAfter) * 1000));
      continue;
    }
    return { status: answer.status, refusals };
  }
}

async function memoryFigures(): Promise<BenchFigure[]> {
  const executor = await startExecutorProcess(['--max-inflight-mb', String(INFLIGHT_MB), '--max-body-mb', '512']);
  const pid = executor.child.pid as number;
  try {
    const client = new ExecutorClient({ url: executor.url });
    const { name } = await client.uploadModel(reduceModel(), { name: 'reduce' });
    client.close();
    const elements = BODY_BYTES / 4;
    const data = Buffer.alloc(BODY_BYTES, 0);
    // Warm: the model has run once on a small input, as a serving executor's would have.
    const small = Buffer.alloc(4096);
    await inferUntilAnswered(executor.url, name, small, small.byteLength / 4);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const before = processMemory(pid).rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, processMemory(pid).rss)), 20);
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: CLIENTS }, () => inferUntilAnswered(executor.url, name, data, elements)));
    const burstS = (performance.now() - started) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    clearInterval(sampler);
    const { rss: after, peak: highWater } = processMemory(pid);
    peak = Math.max(peak, highWater);
    const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
    const ok = answers.filter((a) => a.status === 200).length;
    const refusals = answers.reduce((sum, a) => sum + a.refusals, 0);
    log(`memory burst: ${ok}/${CLIENTS} answered 200 after ${refusals} refusals (503 + Retry-After) in ${burstS.toFixed(1)} s; RSS ${mb(before)} → peak ${mb(peak)} → ${mb(after)} 5 s after`);
    return [
      {
        figure: `executor RSS at peak: ${CLIENTS} concurrent 200 MB bodies, --max-inflight-mb ${INFLIGHT_MB} (${ok}/${CLIENTS} answered, ${refusals} 503s retried)`,
        measured: `${mb(peak)} peak (from ${mb(before)})`,
        baselineOrGoal: '600 MB goal',
        ratio: peak / 600e6,
        goal: '< 1.0, every body answered',
        met: peak < 600e6 && ok === CLIENTS
      },
      {
        figure: 'executor RSS 5 s after that burst, above its baseline',
        measured: `${mb(after - before)} (${mb(after)} now, ${mb(before)} before)`,
        baselineOrGoal: '50 MB goal',
        ratio: (after - before) / 50e6,
        goal: '≤ 1.0',
        met: after - before <= 50e6
      }
    ];
  } finally {
    await executor.stop();
  }
}

/** `neurosurgeon analyze FILE`: exit code and seconds to exit (killed after 10 s). */
function timedAnalyze(file: string): Promise<{ code: number | null; seconds: number; stderr: string }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), 'analyze', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, seconds: (performance.now() - started) / 1000, stderr: stderr.trim() });
    });
  });
}

async function specialFileFigures(): Promise<BenchFigure[]> {
  const folder = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-robust-'));
  try {
    const fifo = path.join(folder, 'x.onnx');
    execFileSync('mkfifo', [fifo]);
    const figures: BenchFigure[] = [];
    for (const [label, file] of [
      ['/dev/zero', '/dev/zero'],
      ['a FIFO named x.onnx', fifo]
    ] as const) {
      const { code, seconds, stderr } = await timedAnalyze(file);
      log(`analyze ${label}: exit ${code} in ${seconds.toFixed(2)} s: ${stderr}`);
      figures.push({
        figure: `neurosurgeon analyze ${label}: exit code 2, time to exit (Node's start-up included)`,
        measured: `exit ${code} in ${seconds.toFixed(2)} s`,
        baselineOrGoal: '1 s goal',
        ratio: seconds,
        goal: '≤ 1.0, exit 2',
        met: code === 2 && seconds <= 1
      });
    }
    return figures;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function fuzzFigures(summary: FuzzSummary): BenchFigure[] {
  const line = `${summary.cases} cases (${Object.entries(summary.byTarget)
    .map(([target, n]) => `${n} ${target}`)
    .join(', ')}) in ${summary.seconds.toFixed(1)} s, seed ${summary.seed}`;
  log(`fuzz: ${line}: ${summary.clean} clean (${summary.refused} refused, ${summary.accepted} valid after all and answered), ${summary.crashes} crashes, ${summary.hangs} hangs`);
  for (const failure of summary.failures.slice(0, 10)) log(`fuzz failure: ${failure}`);
  return [
    {
      figure: `fuzz: clean outcomes / cases tried — ${line}`,
      measured: `${summary.clean} clean of ${summary.cases}: ${summary.refused} clean refusals, ${summary.accepted} valid after all and answered`,
      baselineOrGoal: `${summary.cases} cases`,
      ratio: summary.clean / summary.cases,
      goal: '= 1.0',
      met: summary.clean === summary.cases
    },
    {
      figure: 'fuzz: crashes (a process died, an internal error, more than one line, a stack trace, an undocumented status, no answer to a valid request after)',
      measured: String(summary.crashes),
      baselineOrGoal: '0 goal',
      ratio: summary.crashes,
      goal: '= 0',
      met: summary.crashes === 0
    },
    {
      figure: 'fuzz: hangs (no answer within the case limit)',
      measured: String(summary.hangs),
      baselineOrGoal: '0 goal',
      ratio: summary.hangs,
      goal: '= 0',
      met: summary.hangs === 0
    }
  ];
}

export async function robustFigures(): Promise<BenchFigure[]> {
  log('robust: analyze on special files…');
  const figures = await specialFileFigures();
  log('robust: the fuzz suite (CLI, executor, web host)…');
  figures.push(...fuzzFigures(await runFuzz({ seed: 14 })));
  log('robust: executor memory under 8 concurrent 200 MB bodies…');
  figures.push(...(await memoryFigures()));
  return figures;
}
