// Which onnxruntime execution providers this machine can run, and the session options
// for one of them; the intra-op threads every session gets (intraOpThreads) and the options
// every measured or served run uses (runSessionOptions: the profiler, split runs, the
// executor). The profiler (main/profiling/profiler.ts) asks here before it opens a session;
// the CLI and the studio list the result. CPU and WebGPU are bundled with
// onnxruntime-node (WebGPU counts as available only once a real adapter answers); CUDA
// needs its provider library beside the binding (scripts/postinstall.mjs fetches it
// where a driver is present); DirectML is Windows-only, Core ML macOS-only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as ort from 'onnxruntime-node';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { encodeModel, int64, valueInfoProto } from '../../app/onnx/writer.js';
import { DEFAULT_GRAPH_OPTIMIZATION, EXECUTION_PROVIDERS, type ExecutionProviderName, type GraphOptimization } from '../../app/profiling/types.js';
import { firstLine } from '../errors/user-errors.js';

export class ProviderError extends Error {
  override name = 'ProviderError';
}

/**
 * onnxruntime's intra-op thread count for every session this process (and the executor
 * and profiler processes it starts, which inherit the environment) opens; unset: one per
 * physical core, onnxruntime's own default. `neurosurgeon --threads N` sets it. Fewer
 * threads trade speed for steadier timings on a machine whose cores are shared: on this
 * project's 2-vCPU VM, two-thread runs flip between two speeds 1.5× apart every few
 * seconds (the vCPUs land on one physical core's SMT siblings, then on two cores),
 * one-thread runs do not.
 */
export const INTRA_OP_THREADS_ENV = 'NEUROSURGEON_INTRA_OP_THREADS';

/**
 * Physical cores, counted the way onnxruntime counts them for its default thread pool:
 * distinct (package, core) pairs of the online CPUs on Linux, hw.physicalcpu on macOS,
 * logical processors elsewhere (where they cannot be told apart from here).
 */
export function physicalCores(): number {
  const logical = os.availableParallelism();
  try {
    if (process.platform === 'linux') {
      const root = '/sys/devices/system/cpu';
      const cores = new Set<string>();
      for (const name of readdirSync(root)) {
        if (!/^cpu\d+$/.test(name)) continue;
        const topology = path.join(root, name, 'topology');
        if (!existsSync(topology)) continue;
        const online = path.join(root, name, 'online');
        if (existsSync(online) && readFileSync(online, 'utf8').trim() === '0') continue;
        cores.add(`${readFileSync(path.join(topology, 'physical_package_id'), 'utf8').trim()}:${readFileSync(path.join(topology, 'core_id'), 'utf8').trim()}`);
      }
      return cores.size > 0 ? cores.size : logical;
    }
    if (process.platform === 'darwin') {
      const physical = Number(execFileSync('sysctl', ['-n', 'hw.physicalcpu'], { encoding: 'utf8', timeout: 5_000 }).trim());
      return Number.isInteger(physical) && physical > 0 ? physical : logical;
    }
  } catch {
    // No topology to read: logical processors.
  }
  return logical;
}

let defaultThreads: number | null = null;

/**
 * The intra-op threads every session gets: INTRA_OP_THREADS_ENV when set, else one per
 * physical core. Always passed to onnxruntime explicitly, so a profile can record what
 * it actually ran with (LatencyProfile.threads).
 */
export function intraOpThreads(): number {
  const value = process.env[INTRA_OP_THREADS_ENV];
  if (value === undefined || value === '') return (defaultThreads ??= physicalCores());
  const threads = Number(value);
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new ProviderError(`${INTRA_OP_THREADS_ENV} must be a whole number of threads from 1 to 1024, got "${value}"`);
  }
  return threads;
}

/** The thread setting (intraOpThreads) as session options. */
export function threadOptions(): Pick<ort.InferenceSession.SessionOptions, 'intraOpNumThreads'> {
  return { intraOpNumThreads: intraOpThreads() };
}

/** onnxruntime's worker threads sleep between runs instead of spin-waiting (see runSessionOptions). */
export const NO_SPINNING: Pick<ort.InferenceSession.SessionOptions, 'extra'> = { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } };

/**
 * The session options every measured or served run uses — the profiler's sessions, split
 * runs on the device, the executor's sessions: the provider's options and threads, the
 * graph optimisation level, and onnxruntime's worker threads not spinning between runs
 * (spinning threads of an idle session steal the CPU another session is timing: 2–4×
 * slower alternating runs on a 2-core machine; a served or split run waits anyway).
 */
export function runSessionOptions(choice: ProviderChoice, optimization: GraphOptimization = DEFAULT_GRAPH_OPTIMIZATION): ort.InferenceSession.SessionOptions {
  return {
    ...choice.sessionOptions,
    graphOptimizationLevel: optimization,
    logSeverityLevel: 3,
    ...NO_SPINNING
  };
}

export interface ProviderStatus {
  name: ExecutionProviderName;
  available: boolean;
  /** Why it is not available (or how it was found). */
  reason?: string;
}

/** The provider a session actually uses, and whether it fell back to CPU to get there. */
export interface ProviderChoice {
  requested: ExecutionProviderName;
  used: ExecutionProviderName;
  fellBack: boolean;
  /** Why it fell back, when it did. */
  fallbackReason?: string;
  sessionOptions: ort.InferenceSession.SessionOptions;
}

/** onnxruntime-node's name for each provider; 'cuda' is onnxruntime's own CUDA provider. */
const ortProviderNames: Record<ExecutionProviderName, string> = {
  cpu: 'cpu',
  webgpu: 'webgpu',
  cuda: 'cuda',
  dml: 'dml',
  coreml: 'coreml'
};

function bindingFolder(): string | null {
  try {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve('onnxruntime-node/package.json');
    return path.join(path.dirname(packageJson), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

function cudaStatus(): ProviderStatus {
  const folder = bindingFolder();
  const library = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  if (folder && existsSync(path.join(folder, library))) return { name: 'cuda', available: true, reason: `${library} installed` };
  return { name: 'cuda', available: false, reason: `onnxruntime's CUDA provider (${library}) is not installed` };
}

/** One Relu on a single float: enough to make a provider find its device. */
function probeModel(): Uint8Array {
  return encodeModel(
    new onnx.ModelProto({
      irVersion: int64(8),
      opsetImport: [new onnx.OperatorSetIdProto({ domain: '', version: int64(17) })],
      graph: new onnx.GraphProto({
        name: 'probe',
        node: [new onnx.NodeProto({ name: 'probe', opType: 'Relu', input: ['x'], output: ['y'] })],
        input: [valueInfoProto('x', 'float32', [1])],
        output: [valueInfoProto('y', 'float32', [1])]
      })
    })
  );
}

let webgpuProbe: Promise<ProviderStatus> | null = null;

// Runs in a child process: Dawn and the Vulkan loader print diagnostics straight to the
// process's stderr when no adapter is found, which must not reach the user's terminal.
const probeScript = `
const ort = require('onnxruntime-node');
(async () => {
  const model = Buffer.from(process.argv[1], 'base64');
  const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'], logSeverityLevel: 4 });
  await session.run({ x: new ort.Tensor('float32', new Float32Array([1]), [1]) });
  await session.release();
  process.stdout.write('ok');
})().catch((error) => { process.stdout.write('error:' + String(error && error.message || error)); process.exitCode = 1; });
`;

/** Opens a one-node WebGPU session once per process, in a child process; the answer is cached. */
function webgpuStatus(): Promise<ProviderStatus> {
  webgpuProbe ??= new Promise<ProviderStatus>((resolve) => {
    const folder = bindingFolder();
    const cwd = folder ? path.resolve(folder, '..', '..', '..', '..', '..') : process.cwd();
    execFile(
      process.execPath,
      ['-e', probeScript, Buffer.from(probeModel()).toString('base64')],
      { cwd, timeout: 60_000, encoding: 'utf8' },
      (error, stdout) => {
        if (!error && stdout === 'ok') return resolve({ name: 'webgpu', available: true });
        const message = firstLine(stdout.startsWith('error:') ? stdout.slice(6) : (error?.message ?? stdout));
        const adapter = /adapter/i.test(message) ? 'no WebGPU adapter found' : `WebGPU failed: ${message}`;
        resolve({
          name: 'webgpu',
          available: false,
          reason: process.platform === 'linux' ? `${adapter} (on Linux without a GPU, set VK_ICD_FILENAMES to a Vulkan driver such as SwiftShader)` : adapter
        });
      }
    );
  });
  return webgpuProbe;
}

/** Whether this machine can run one provider (WebGPU is probed once per process). */
export async function providerStatus(name: ExecutionProviderName): Promise<ProviderStatus> {
  switch (name) {
    case 'cpu':
      return { name, available: true };
    case 'webgpu':
      return webgpuStatus();
    case 'cuda':
      return cudaStatus();
    case 'dml':
      return process.platform === 'win32' ? { name, available: true } : { name, available: false, reason: 'DirectML runs on Windows only' };
    case 'coreml':
      return process.platform === 'darwin' ? { name, available: true } : { name, available: false, reason: 'Core ML runs on macOS only' };
  }
}

/** Every provider name the product knows, with whether this machine can run it. */
export async function listProviders(): Promise<ProviderStatus[]> {
  const statuses: ProviderStatus[] = [];
  for (const name of EXECUTION_PROVIDERS) statuses.push(await providerStatus(name));
  return statuses;
}

export function isExecutionProviderName(name: string): name is ExecutionProviderName {
  return (EXECUTION_PROVIDERS as readonly string[]).includes(name);
}

/**
 * Session options that run on `ep`. An unavailable provider is a ProviderError naming it
 * and the available ones — unless `allowCpuFallback`, which gives CPU options and says so.
 */
export async function sessionOptionsFor(
  ep: ExecutionProviderName,
  options: { allowCpuFallback?: boolean } = {}
): Promise<ProviderChoice> {
  const status = await providerStatus(ep);
  if (status.available) {
    return { requested: ep, used: ep, fellBack: false, sessionOptions: { executionProviders: [ortProviderNames[ep]], ...threadOptions() } };
  }
  const reason = status.reason ?? 'unknown provider';
  if (options.allowCpuFallback) {
    return { requested: ep, used: 'cpu', fellBack: true, fallbackReason: reason, sessionOptions: { executionProviders: ['cpu'], ...threadOptions() } };
  }
  const available = (await listProviders()).filter((s) => s.available).map((s) => s.name);
  throw new ProviderError(`execution provider "${ep}" is not available here (${reason}); available: ${available.join(', ')}`);
}
