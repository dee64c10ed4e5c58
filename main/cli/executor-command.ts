// `neurosurgeon executor`: serves split tails (or whole models) over the Open Inference
// Protocol (KServe v2 / Triton REST) — main/executor/server.ts. Prints exactly one line on
// stdout, `executor listening on http://HOST:PORT`, which tests and the studio parse;
// warnings and (with --verbose) one line per request go to stderr. SIGINT / SIGTERM stop
// it cleanly; with --exit-with-parent (the studio's own executor) so does the end of the
// process that started it, however it ended (watchParent).
import { fstatSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../errors/user-errors.js';
import { isLoopbackHost, startExecutor } from '../executor/server.js';
import { surgeryPartBuilder } from '../split/part-builder.js';
import { normalizeUrl } from '../executor/device.js';

const EXECUTOR_EPS = ['cpu', 'cuda', 'webgpu'] as const;

interface ExecutorCliOptions {
  host: string;
  port: number;
  token?: string;
  ep: (typeof EXECUTOR_EPS)[number];
  maxBodyMb: number;
  maxConcurrency: number;
  maxQueue: number;
  timeoutS: number;
  maxInflightMb?: number;
  headersTimeoutS: number;
  bodyTimeoutS: number;
  minBodyRateKbps: number;
  models?: string;
  maxSourceMb?: number;
  upstream?: string;
  upstreamToken?: string;
  slowdown: number;
  verbose?: boolean;
  exitWithParent?: boolean;
}

/**
 * Calls `gone` once the process that started this one is gone, by any means (SIGKILL
 * included): its end of our stdin pipe closes (the kernel closes it with the process), or
 * we are given another parent. Watches stdin only when it is a pipe or socket.
 */
export function watchParent(gone: () => void): void {
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    gone();
  };
  let stdinIsPipe = false;
  try {
    const stats = fstatSync(0);
    stdinIsPipe = stats.isFIFO() || stats.isSocket();
  } catch {
    // no stdin at all
  }
  if (stdinIsPipe) {
    process.stdin.on('end', fire);
    process.stdin.on('close', fire);
    process.stdin.on('error', fire);
    // Read (and drop) whatever comes, so the end is seen; the pipe must not keep us alive by itself.
    process.stdin.on('data', () => undefined);
    process.stdin.resume();
  }
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) fire();
  }, 500);
  timer.unref();
}

function nonNegative(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new UsageError(`${name} must be a number ≥ 0, got "${value}"`);
    return number;
  };
}

function wholeNumber(name: string, min: number, max?: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || (max !== undefined && Number(value) > max)) {
      throw new UsageError(`${name} must be a whole number ${max !== undefined ? `from ${min} to ${max}` : `≥ ${min}`}, got "${value}"`);
    }
    return Number(value);
  };
}

function positive(name: string) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${name} must be a positive number, got "${value}"`);
    return number;
  };
}

export function registerExecutorCommands(program: Command): void {
  program
    .command('executor')
    .description('serve models over the Open Inference Protocol (KServe v2 / Triton REST) for split runs')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', wholeNumber('--port', 0, 65535), 8000)
    .option('--token <token>', 'require "Authorization: Bearer TOKEN" (or set NEUROSURGEON_EXECUTOR_TOKEN)')
    .addOption(new Option('--ep <provider>', 'execution provider of the sessions').choices([...EXECUTOR_EPS]).default('cpu'))
    .option('--max-body-mb <n>', 'largest request body, MB (uploads are base64: 4/3 of the model)', positive('--max-body-mb'), 1024)
    .option('--max-concurrency <n>', 'inferences that run at once (one session worker each)', wholeNumber('--max-concurrency', 1, 64), 2)
    .option('--max-queue <n>', 'requests that may wait for a slot; more get 503', wholeNumber('--max-queue', 0), 32)
    .option('--timeout-s <s>', 'per-request limit on waiting plus computing (504 beyond)', positive('--timeout-s'), 60)
    .option('--max-inflight-mb <n>', 'request bodies held at once, MB; a body that does not fit waits outside: 503 with Retry-After (default: a quarter of the memory, at most 4096, at least --max-body-mb)', positive('--max-inflight-mb'))
    .option('--headers-timeout-s <s>', "a request's head must arrive within this long (408 beyond)", positive('--headers-timeout-s'), 30)
    .option('--body-timeout-s <s>', 'a request body must arrive within this long, 0 for no limit (408 beyond)', nonNegative('--body-timeout-s'), 0)
    .option('--min-body-rate-kbps <k>', 'a request body arriving slower than this over any 10 s is cut off (408), 0 for no floor', nonNegative('--min-body-rate-kbps'), 32)
    .option('--models <dir>', 'Triton-style model repository (MODEL/VERSION/model.onnx); uploads are written here too')
    .option('--max-source-mb <n>', 'whole models kept to build split parts from (upload once), MB; the least recently used go first', positive('--max-source-mb'), 2048)
    .option('--upstream <url>', 'serve as a device: run heads here and send their outputs to this server, the only one it forwards to')
    .option('--upstream-token <token>', 'bearer token of the --upstream server (or set NEUROSURGEON_UPSTREAM_TOKEN)')
    .option('--slowdown <f>', 'emulate a device f× slower (tests, bench): compute is stretched by sleeping, profiles are scaled', (value) => {
      const number = Number(value);
      if (!Number.isFinite(number) || number < 1) throw new UsageError(`--slowdown must be a number ≥ 1, got "${value}"`);
      return number;
    }, 1)
    .option('--verbose', 'log one line per request on stderr')
    .option('--exit-with-parent', 'exit when the process that started this one ends, however it ends (its stdin pipe closes or the parent changes)')
    .option('--debug', 'print stack traces on errors')
    .action(async (options: ExecutorCliOptions) => {
      const token = options.token ?? process.env.NEUROSURGEON_EXECUTOR_TOKEN;
      if (token !== undefined && token.trim() === '') throw new UsageError('--token must not be empty');
      if (!isLoopbackHost(options.host) && token === undefined) {
        process.stderr.write(`neurosurgeon: warning: executor bound to ${options.host} without --token: anyone who can reach it can run and upload models\n`);
      }
      const upstreamToken = options.upstreamToken ?? process.env.NEUROSURGEON_UPSTREAM_TOKEN;
      if (options.upstream !== undefined && normalizeUrl(options.upstream) === null) {
        throw new UsageError(`--upstream expects an http:// or https:// URL such as http://10.0.0.2:8000, got "${options.upstream}"`);
      }
      const executor = await startExecutor({
        host: options.host,
        port: options.port,
        token,
        ep: options.ep,
        maxBodyBytes: Math.floor(options.maxBodyMb * 1024 * 1024),
        maxConcurrency: options.maxConcurrency,
        maxQueue: options.maxQueue,
        timeoutMs: options.timeoutS * 1000,
        ...(options.maxInflightMb !== undefined ? { maxInflightBytes: Math.floor(options.maxInflightMb * 1024 * 1024) } : {}),
        headersTimeoutMs: options.headersTimeoutS * 1000,
        bodyTimeoutMs: options.bodyTimeoutS * 1000,
        minBodyRateKbps: options.minBodyRateKbps,
        modelsDir: options.models,
        partBuilder: surgeryPartBuilder(),
        ...(options.upstream !== undefined ? { upstream: { url: options.upstream, ...(upstreamToken ? { token: upstreamToken } : {}) } } : {}),
        slowdown: options.slowdown,
        ...(options.maxSourceMb !== undefined ? { maxSourceBytes: Math.floor(options.maxSourceMb * 1024 * 1024) } : {}),
        log: options.verbose ? (line) => process.stderr.write(`${line}\n`) : undefined,
        warn: (line) => process.stderr.write(`neurosurgeon: warning: ${line}\n`)
      });
      process.stdout.write(`executor listening on ${executor.url}\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          // Closing waits for requests in flight, but never more than 5 s.
          setTimeout(resolve, 5000).unref();
          executor.close().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
        if (options.exitWithParent) watchParent(stop);
      });
      process.exit(0);
    });
}
