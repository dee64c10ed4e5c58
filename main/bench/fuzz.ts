// A bounded, seeded fuzz suite against real processes (issue 14), run by `npm test`
// (fuzz.test.ts) and reported by `npm run bench -- --only robust` (robust-bench.ts):
//   - the CLI: truncated, byte-mutated and structurally mutated ONNX models (made with the
//     project's own zoo builders) given to `analyze`, `plan` and `split` in child processes;
//   - the executor: malformed Open Inference Protocol requests (methods, paths, headers,
//     bodies, binary header lengths, chunked framing, uploads) on raw sockets to a real
//     executor child process;
//   - the web host: contract-violating WebSocket messages (bad JSON, bad frames, unknown
//     methods, wrong parameters, paths to devices and FIFOs, export names that are paths)
//     to a real web host over its socket.
// Each case must end in a clean refusal — one `neurosurgeon:` line and exit 2 (or success),
// a documented HTTP status with a one-line {"error"}, a one-line contract error — within
// its time limit, and the executor and the web host must then answer a valid request
// correctly. Anything else is a crash (the process died, an internal error, a stack trace,
// an extra line, an undocumented status, no valid answer after) or a hang (no answer in time).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Long from 'long';
import WebSocket from 'ws';
import { GraphBuilder, seededRandom } from '../../app/onnx/builder.js';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { encodeModel } from '../../app/onnx/writer.js';
import { decodeMessage, encodeMessage, parseServerMessage, type WireServerMessage } from '../../app/studio/wire.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { startExecutorProcess, type ExecutorProcess } from '../executor/executor-process.js';
import { packageRoot, toolVersion } from '../files/paths.js';
import { StudioService } from '../studio/service.js';
import { startWebHost, type WebHost } from '../studio/web-host.js';

export type FuzzTarget = 'cli' | 'executor' | 'web host';

export interface FuzzOptions {
  seed: number;
  /** Cases per target (defaults: 72 CLI runs, 150 executor requests, 120 web host messages). */
  cli?: number;
  executor?: number;
  webHost?: number;
  /** CLI processes at once (default 2). */
  concurrency?: number;
}

export interface FuzzCase {
  target: FuzzTarget;
  name: string;
  verdict: 'clean' | 'crash' | 'hang';
  /** For a clean case: refused (one line, an error status or reply) or accepted (the mutation left it valid). */
  outcome?: 'refused' | 'accepted';
  detail?: string;
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  clean: number;
  /** Clean cases that were refused, and clean cases that were valid after all and answered. */
  refused: number;
  accepted: number;
  crashes: number;
  hangs: number;
  seconds: number;
  byTarget: Record<FuzzTarget, number>;
  /** One line per case that was not clean: target, case, verdict, what went wrong. */
  failures: string[];
}

/** The seeded random source every case draws from. */
class Random {
  private readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  float(): number {
    return this.next();
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

// ---- the CLI ---------------------------------------------------------------------------

/** A small DAG: conv, branches joined by Add and Concat, a Gemm head: many ops in a few KB. */
function smallDag(): Uint8Array {
  const b = new GraphBuilder('fuzz-dag', { seed: 3 });
  const x = b.input('input', 'float32', [1, 3, 8, 8]);
  const c1 = b.relu(b.conv(x, { inChannels: 3, outChannels: 4, kernel: 3, pad: 1, name: '/c1' }));
  const c2 = b.conv(c1, { inChannels: 4, outChannels: 4, kernel: 1, name: '/c2' });
  const sum = b.op('Add', [c1, c2], {}, '/add');
  const cat = b.op('Concat', [sum, c1], { axis: 1 }, '/cat');
  const pooled = b.op('GlobalAveragePool', [cat], {}, '/gap');
  const flat = b.op('Flatten', [pooled], { axis: 1 }, '/flat');
  b.output(b.op('Relu', [flat], {}, '/out'), 'float32', [1, 8]);
  return b.toBytes();
}

const OP_TYPES = ['Conv', 'Relu', 'Gemm', 'MatMul', 'Add', 'Concat', 'Reshape', 'Transpose', 'Softmax', 'MaxPool', 'Slice', 'Gather', 'NoSuchOp', '', 'Loop', 'If', 'Resize'];

/** Mutates a model's protobuf where the analysis reads it: ops, inputs, attributes, shapes, types, opsets, initializers, external data. */
function mutateStructure(bytes: Uint8Array, random: Random): { bytes: Uint8Array; what: string } {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnx.GraphProto;
  const node = graph.node.length > 0 ? random.pick(graph.node) : null;
  const kind = random.int(0, 11);
  let what = '';
  switch (kind) {
    case 0:
      if (node) node.opType = random.pick(OP_TYPES);
      what = `op type ${node?.opType}`;
      break;
    case 1:
      if (node) node.input = random.chance(0.5) ? [] : [...(node.input ?? []), random.pick(['', 'nowhere', node.output?.[0] ?? 'x'])];
      what = 'node inputs';
      break;
    case 2: {
      const attribute = node?.attribute?.length ? random.pick(node.attribute) : null;
      if (attribute) {
        attribute.i = Long.fromNumber(random.pick([-1, 0, 2 ** 31, -(2 ** 40), 1e15]));
        attribute.ints = (attribute.ints ?? []).map(() => Long.fromNumber(random.pick([-7, 0, 1e12, 3])));
        attribute.type = random.pick([attribute.type, 0, 7, 99]) as onnx.AttributeProto.AttributeType;
      }
      what = `attribute ${attribute?.name ?? '(none)'}`;
      break;
    }
    case 3: {
      const dims = graph.input[0]?.type?.tensorType?.shape?.dim ?? [];
      if (dims.length > 0) {
        const dim = random.pick(dims);
        dim.dimValue = random.pick([Long.fromNumber(0), Long.fromNumber(-5), Long.fromString('1152921504606846977'), Long.fromNumber(2 ** 40)]);
      }
      what = 'input dimension';
      break;
    }
    case 4: {
      const type = graph.input[0]?.type?.tensorType;
      if (type) type.elemType = random.pick([0, 8, 16, 17, 99, -3]);
      what = 'input element type';
      break;
    }
    case 5:
      if (node && graph.node.length > 1) graph.node.splice(graph.node.indexOf(node), 1);
      what = 'a node removed';
      break;
    case 6:
      if (graph.node.length > 1) graph.node.reverse();
      what = 'nodes out of order';
      break;
    case 7:
      for (const opset of model.opsetImport) opset.version = Long.fromNumber(random.pick([0, 1, 999, -4]));
      what = 'opset version';
      break;
    case 8: {
      const initializer = graph.initializer.length > 0 ? random.pick(graph.initializer) : null;
      if (initializer) {
        if (random.chance(0.5)) initializer.dims = [Long.fromNumber(random.int(1, 1e6)), Long.fromNumber(3)];
        else initializer.rawData = (initializer.rawData ?? new Uint8Array()).subarray(0, random.int(0, 7));
      }
      what = 'initializer dims and data';
      break;
    }
    case 9: {
      const initializer = graph.initializer.length > 0 ? random.pick(graph.initializer) : null;
      if (initializer) {
        initializer.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
        initializer.rawData = new Uint8Array();
        initializer.externalData = [
          new onnx.StringStringEntryProto({ key: 'location', value: random.pick(['../../etc/passwd', '/dev/zero', 'fifo.bin', 'missing.bin', 'weights.bin']) }),
          new onnx.StringStringEntryProto({ key: 'offset', value: String(random.pick([0, -1, 1e12])) }),
          new onnx.StringStringEntryProto({ key: 'length', value: String(random.pick([4, 1e15, -8])) })
        ];
      }
      what = 'external data';
      break;
    }
    case 10:
      if (node && graph.node.length > 1) node.output = [...(graph.node[0].output ?? [])];
      what = 'duplicate output names';
      break;
    default:
      graph.output = random.chance(0.5) ? [] : [...graph.output, ...graph.output];
      what = 'graph outputs';
  }
  return { bytes: encodeModel(model), what };
}

/** Truncations and byte mutations of a model file, and structural ones through its protobuf. */
function mutateModel(base: Uint8Array, random: Random): { bytes: Uint8Array; what: string } {
  const kind = random.int(0, 5);
  const copy = Buffer.from(base);
  switch (kind) {
    case 0: {
      const at = random.int(0, base.byteLength - 1);
      return { bytes: copy.subarray(0, at), what: `truncated at ${at}` };
    }
    case 1: {
      const flips = random.int(1, 16);
      for (let i = 0; i < flips; i++) copy[random.int(0, copy.byteLength - 1)] ^= 1 << random.int(0, 7);
      return { bytes: copy, what: `${flips} bits flipped` };
    }
    case 2: {
      const at = random.int(0, copy.byteLength);
      return { bytes: Buffer.concat([copy.subarray(0, at), random.bytes(random.int(1, 64)), copy.subarray(at)]), what: 'bytes inserted' };
    }
    case 3: {
      const at = random.int(0, copy.byteLength - 1);
      random.bytes(Math.min(64, copy.byteLength - at)).copy(copy, at);
      return { bytes: copy, what: 'a region overwritten' };
    }
    default:
      return mutateStructure(base, random);
  }
}

interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function runCli(args: string[], cwd: string, timeoutMs: number): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'neurosurgeon.js'), ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    // Kept up to 1 MiB each: a case that floods its output is judged on the start of it.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < 1 << 20) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 1 << 20) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

/** A CLI run's verdict: success, or exit 2 with every stderr line its own and the last one the error. */
export function cliVerdict(run: CliRun): { verdict: FuzzCase['verdict']; outcome?: FuzzCase['outcome']; detail?: string } {
  if (run.timedOut) return { verdict: 'hang', detail: 'no exit within the limit' };
  if (run.signal) return { verdict: 'crash', detail: `killed by ${run.signal}` };
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  if (run.code === 0) {
    const stray = lines.find((line) => !line.startsWith('neurosurgeon: warning: '));
    return stray ? { verdict: 'crash', detail: `exit 0 with a stray stderr line: ${stray.slice(0, 160)}` } : { verdict: 'clean', outcome: 'accepted' };
  }
  if (run.code !== 2) return { verdict: 'crash', detail: `exit code ${run.code}: ${lines[0]?.slice(0, 160) ?? ''}` };
  const errors = lines.filter((line) => !line.startsWith('neurosurgeon: warning: '));
  if (errors.length !== 1) return { verdict: 'crash', detail: `${errors.length} error lines: ${errors.slice(0, 3).join(' | ').slice(0, 300)}` };
  const line = errors[0];
  if (!line.startsWith('neurosurgeon: ')) return { verdict: 'crash', detail: `not a neurosurgeon: line: ${line.slice(0, 160)}` };
  if (line.startsWith('neurosurgeon: internal error')) return { verdict: 'crash', detail: line.slice(0, 200) };
  return { verdict: 'clean', outcome: 'refused' };
}

async function fuzzCli(random: Random, count: number, concurrency: number): Promise<FuzzCase[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-fuzz-cli-'));
  try {
    const bases = [
      { name: 'lenet', bytes: buildZooModel('lenet', { seed: 1 }) },
      { name: 'dag', bytes: smallDag() }
    ];
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(64));
    execFileSync('mkfifo', [path.join(dir, 'fifo.bin')]);
    const jobs = Array.from({ length: count }, (_, index) => {
      const base = random.pick(bases);
      const { bytes, what } = mutateModel(base.bytes, random);
      const file = `case-${index}.onnx`;
      writeFileSync(path.join(dir, file), bytes);
      const command = random.pick(['analyze', 'analyze', 'plan', 'split']);
      const args =
        command === 'analyze'
          ? ['analyze', file, '--json', '--runtime-shapes', random.pick(['never', 'auto'])]
          : command === 'plan'
            ? ['plan', file, '--json', '--network', random.pick(['wifi', '3g']), ...(random.chance(0.3) ? ['--dag'] : [])]
            : ['split', file, '--cut', random.pick(['0', '1', '3', 'auto', 'dag', '999']), '--out', `out-${index}`];
      return { name: `${command} ${base.name} (${what})`, args };
    });
    const results: FuzzCase[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++];
          const run = await runCli(job.args, dir, 30_000);
          results.push({ target: 'cli', name: job.name, ...cliVerdict(run) });
        }
      })
    );
    // A valid model still gives its known analysis (the mutated files were the problem, not the CLI).
    writeFileSync(path.join(dir, 'valid.onnx'), bases[0].bytes);
    const sane = await runCli(['analyze', 'valid.onnx', '--json'], dir, 30_000);
    let nodes = -1;
    try {
      nodes = (JSON.parse(sane.stdout) as { model: { nodes: number } }).model.nodes;
    } catch {
      // reported below
    }
    results.push({
      target: 'cli',
      name: 'analyze the valid model after the mutated ones',
      ...(sane.code === 0 && nodes === 9 ? { verdict: 'clean' as const, outcome: 'accepted' as const } : { verdict: 'crash' as const, detail: `exit ${sane.code}, ${nodes} nodes` })
    });
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the executor ------------------------------------------------------------------------

/** a, b: FP32 [2,3] → sum, prod. */
function adderModel(): Uint8Array {
  const b = new GraphBuilder('adder');
  const x = b.input('a', 'float32', [2, 3]);
  const y = b.input('b', 'float32', [2, 3]);
  b.output(b.op('Add', [x, y], {}, 'sum'), 'float32', [2, 3]);
  b.output(b.op('Mul', [x, y], {}, 'prod'), 'float32', [2, 3]);
  return b.toBytes();
}

const VALID_INFER = { inputs: [{ name: 'a', shape: [2, 3], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6] }, { name: 'b', shape: [2, 3], datatype: 'FP32', data: [1, 1, 1, 1, 1, 1] }] };

/** The statuses the executor documents (docs/executor.md). */
const DOCUMENTED_STATUSES = new Set([200, 400, 401, 404, 405, 408, 413, 503, 504]);

/** Mutates a JSON value somewhere: a type swapped, a field dropped or added, a number made absurd. */
function mutateJson(value: unknown, random: Random, depth = 0): unknown {
  if (depth > 6 || random.chance(0.25)) {
    return random.pick<unknown>([null, -1, 0, 1e308, -1e18, 2 ** 53 + 1, 'x', '', [], {}, true, 'FP32', 'BYTES', [[[]]], '\u0000', 'a'.repeat(1000), [1, 'a', null]]);
  }
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length > 0 && random.chance(0.3)) copy.splice(random.int(0, copy.length - 1), 1);
    else if (copy.length > 0) {
      const index = random.int(0, copy.length - 1);
      copy[index] = mutateJson(copy[index], random, depth + 1);
    } else copy.push(mutateJson(null, random, depth + 1));
    return copy;
  }
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    if (keys.length === 0 || random.chance(0.15)) copy[random.pick(['inputs', 'outputs', 'parameters', 'id', 'binary_data_size', 'extra', '__proto__'])] = mutateJson(null, random, depth + 1);
    else if (random.chance(0.2)) delete copy[random.pick(keys)];
    else {
      const key = random.pick(keys);
      copy[key] = mutateJson(copy[key], random, depth + 1);
    }
    return copy;
  }
  return mutateJson(null, random, depth + 1);
}

interface RawRequest {
  name: string;
  bytes: Buffer;
  /** The request is cut short on purpose: no answer is owed, only the connection closing. */
  truncated: boolean;
}

function httpRequest(method: string, route: string, headers: Record<string, string>, body: Buffer): Buffer {
  const lines = [`${method} ${route} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

const ROUTES = [
  '/v2',
  '/v2/health/live',
  '/v2/health/ready',
  '/v2/models/adder',
  '/v2/models/adder/ready',
  '/v2/models/adder/config',
  '/v2/models/adder/stats',
  '/v2/models/stats',
  '/v2/models/adder/infer',
  '/v2/models/adder/versions/1/infer',
  '/v2/repository/index',
  '/v2/repository/models/fuzzed/load',
  '/v2/repository/models/adder/unload',
  '/v2/studio/load',
  '/v2/studio/sink',
  '/v2/studio/source?bytes=10',
  '/v2/studio/models/adder/profile'
];

function mutateRoute(route: string, random: Random): string {
  return random.pick([
    route,
    route.replace('adder', random.pick(['nope', '%zz', '..', '%2e%2e', 'a'.repeat(300), 'ad%00der', 'adder/versions/x', ''])),
    route.replace('1', random.pick(['0', '-1', 'abc', '99999999999999999999'])),
    `${route}/${random.pick(['x', '..', '', '%'])}`,
    route.replace('/v2', random.pick(['/v1', '/V2', '//v2', '/v2/../v2'])),
    `${route}?${random.pick(['bytes=-1', 'bytes=1e99', 'x=%zz', 'bytes=4294967296'])}`
  ]);
}

/** One malformed (or occasionally valid) request on a raw socket. */
function executorCase(random: Random): RawRequest {
  const kind = random.int(0, 9);
  const infer = '/v2/models/adder/infer';
  switch (kind) {
    case 0: {
      // Garbage where an HTTP request should be.
      return { name: 'not HTTP', bytes: Buffer.concat([random.bytes(random.int(1, 200)), Buffer.from('\r\n\r\n')]), truncated: false };
    }
    case 1: {
      const method = random.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'FOO']);
      const route = mutateRoute(random.pick(ROUTES), random);
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(JSON.stringify(mutateJson({}, random)));
      return { name: `${method} ${route.slice(0, 60)}`, bytes: httpRequest(method, route, { 'Content-Length': String(body.byteLength) }, body), truncated: false };
    }
    case 2: {
      const body = Buffer.from(JSON.stringify(mutateJson(VALID_INFER, random)));
      return { name: 'infer, mutated JSON tensors', bytes: httpRequest('POST', infer, { 'Content-Type': 'application/json', 'Content-Length': String(body.byteLength) }, body), truncated: false };
    }
    case 3: {
      // The binary extension with a header length that lies, and tensor bytes that do not fit.
      const header = Buffer.from(
        JSON.stringify(
          mutateJson(
            {
              inputs: [
                { name: 'a', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } },
                { name: 'b', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }
              ]
            },
            random
          )
        )
      );
      const tensors = random.bytes(random.pick([0, 24, 47, 48, 49, 96]));
      const declared = random.pick([String(header.byteLength), '0', '-1', 'x', String(header.byteLength + 1000), '99999999999', ''].filter((v) => v !== '' || random.chance(0.5)));
      const body = Buffer.concat([header, tensors]);
      return {
        name: `infer, binary, header length ${declared}`,
        bytes: httpRequest('POST', infer, { 'Content-Type': 'application/octet-stream', 'Inference-Header-Content-Length': declared, 'Content-Length': String(body.byteLength) }, body),
        truncated: false
      };
    }
    case 4: {
      // A body shorter than it said, then the client hangs up.
      const body = Buffer.from(JSON.stringify(VALID_INFER));
      const cut = random.int(0, body.byteLength - 1);
      return { name: 'infer, body cut short', bytes: httpRequest('POST', infer, { 'Content-Length': String(body.byteLength) }, body.subarray(0, cut)), truncated: true };
    }
    case 5: {
      // Chunked framing, some of it wrong.
      const good = Buffer.from(JSON.stringify(VALID_INFER));
      const size = random.pick([good.byteLength.toString(16), 'zz', '-5', 'ffffffffffffffff', '0']);
      const body = Buffer.concat([Buffer.from(`${size}\r\n`), good, Buffer.from(random.pick(['\r\n0\r\n\r\n', '\r\n', 'x\r\n0\r\n\r\n', '\r\n1\r\n']))]);
      return { name: `infer, chunked, size ${size}`, bytes: httpRequest('POST', infer, { 'Transfer-Encoding': 'chunked' }, body), truncated: false };
    }
    case 6: {
      // Uploads: paths out of the version folder, bad base64, bad config.
      const parameters = mutateJson(
        { parameters: { config: '{"backend":"onnxruntime"}', [`file:${random.pick(['1/model.onnx', '../x', '1/../../etc/passwd', 'model.onnx', '1/', '/abs'])}`]: random.pick(['AAAA', '!!!!', '', 'QUJD']) } },
        random
      );
      const body = Buffer.from(JSON.stringify(parameters));
      return { name: 'load, mutated upload', bytes: httpRequest('POST', '/v2/repository/models/fuzzed/load', { 'Content-Length': String(body.byteLength) }, body), truncated: false };
    }
    case 7: {
      // Headers that lie: a huge Content-Length, a bad one, two of them, Expect: 100-continue.
      const body = Buffer.from(JSON.stringify(VALID_INFER));
      const headers = random.pick<Record<string, string>>([
        { 'Content-Length': '99999999999999' },
        { 'Content-Length': '-3' },
        { 'Content-Length': 'abc' },
        { 'Content-Length': String(body.byteLength), 'Transfer-Encoding': 'chunked' },
        { 'Content-Length': String(body.byteLength), Expect: '100-continue' },
        { 'Content-Length': String(body.byteLength), Authorization: 'Bearer ' + 'x'.repeat(5000) },
        { 'Content-Length': String(body.byteLength), 'X-Long': 'y'.repeat(20_000) }
      ]);
      return { name: `infer, headers ${Object.keys(headers).join('+')}`, bytes: httpRequest('POST', infer, headers, body), truncated: false };
    }
    case 8: {
      const route = random.pick(['/v2/repository/index', '/v2/studio/models/adder/profile', '/v2/repository/models/adder/unload']);
      const body = Buffer.from(random.pick(['[', '{"runs": 1e9}', '{"runs": 0}', '"text"', '{"optimization": "max"}', '{"ready": "yes"}', '\u0000\u0001', '{'.repeat(5000)]));
      // Unloading the model every other case would fail the next valid request: only on a copy of its name.
      const target = route.endsWith('/unload') ? '/v2/repository/models/nope/unload' : route;
      return { name: `POST ${target} ${body.toString('utf8').slice(0, 20)}`, bytes: httpRequest('POST', target, { 'Content-Length': String(body.byteLength) }, body), truncated: false };
    }
    default: {
      const body = Buffer.from(JSON.stringify(VALID_INFER));
      return { name: 'infer, valid', bytes: httpRequest('POST', infer, { 'Content-Length': String(body.byteLength) }, body), truncated: false };
    }
  }
}

/** Sends raw bytes and reads until the server closes (Connection: close) or the limit passes. */
function exchangeRaw(url: string, bytes: Buffer, endAfterWrite: boolean, limitMs: number): Promise<{ response: Buffer; closed: boolean }> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), limitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(bytes);
      if (endAfterWrite) socket.end();
    });
  });
}

/** A raw response's verdict: a documented status, and for an error with a body, one {"error"} line. */
export function responseVerdict(request: RawRequest, response: Buffer, closed: boolean): { verdict: FuzzCase['verdict']; outcome?: FuzzCase['outcome']; detail?: string } {
  if (response.byteLength === 0) {
    if (request.truncated && closed) return { verdict: 'clean', outcome: 'refused' };
    return closed ? { verdict: 'crash', detail: 'the connection closed without an answer' } : { verdict: 'hang', detail: 'no answer within the limit' };
  }
  const text = response.toString('latin1');
  const status = /^HTTP\/1\.1 (\d{3}) /.exec(text);
  if (!status) return { verdict: 'crash', detail: `not an HTTP answer: ${JSON.stringify(text.slice(0, 60))}` };
  const code = Number(status[1]);
  // A 100 Continue comes first for Expect: 100-continue; the answer follows it.
  if (code === 100) {
    const rest = text.indexOf('HTTP/1.1 ', 4);
    return rest < 0 ? { verdict: 'crash', detail: 'only 100 Continue' } : responseVerdict(request, response.subarray(rest), closed);
  }
  if (!DOCUMENTED_STATUSES.has(code)) return { verdict: 'crash', detail: `status ${code}` };
  const split = text.indexOf('\r\n\r\n');
  const body = split >= 0 ? response.subarray(split + 4) : Buffer.alloc(0);
  if (code >= 400 && body.byteLength > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return { verdict: 'crash', detail: `a ${code} whose body is not JSON` };
    }
    const error = (parsed as { error?: unknown }).error;
    if (typeof error !== 'string' || Object.keys(parsed as object).length !== 1) return { verdict: 'crash', detail: `a ${code} without {"error"}` };
    if (error.includes('\n')) return { verdict: 'crash', detail: `a ${code} error of several lines` };
    if (code === 500 || error.startsWith('internal error')) return { verdict: 'crash', detail: error.slice(0, 200) };
  }
  return { verdict: 'clean', outcome: code >= 400 ? 'refused' : 'accepted' };
}

/** One valid inference, its sums checked: the executor still serves correctly. */
async function executorStillServes(url: string): Promise<string | null> {
  try {
    const answer = await fetch(`${url}/v2/models/adder/infer`, { method: 'POST', body: JSON.stringify(VALID_INFER), signal: AbortSignal.timeout(5000) });
    if (answer.status !== 200) return `a valid inference got ${answer.status}`;
    const outputs = ((await answer.json()) as { outputs: { data: number[] }[] }).outputs;
    return JSON.stringify(outputs[0].data) === JSON.stringify([2, 3, 4, 5, 6, 7]) ? null : 'a valid inference got wrong sums';
  } catch (error) {
    return `a valid inference failed: ${(error as Error).message}`;
  }
}

async function fuzzExecutor(random: Random, count: number): Promise<FuzzCase[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-fuzz-executor-'));
  let executor: ExecutorProcess | null = null;
  try {
    mkdirSync(path.join(dir, 'models', 'adder', '1'), { recursive: true });
    writeFileSync(path.join(dir, 'models', 'adder', '1', 'model.onnx'), adderModel());
    executor = await startExecutorProcess(['--models', path.join(dir, 'models'), '--max-body-mb', '1', '--headers-timeout-s', '2', '--body-timeout-s', '3']);
    const results: FuzzCase[] = [];
    for (let i = 0; i < count; i++) {
      const request = executorCase(random);
      const { response, closed } = await exchangeRaw(executor.url, request.bytes, request.truncated || random.chance(0.3), 8000);
      let outcome = responseVerdict(request, response, closed);
      if (executor.child.exitCode !== null || executor.child.signalCode !== null) {
        outcome = { verdict: 'crash', detail: `the executor exited: ${executor.stderr().trim().split('\n').pop() ?? ''}` };
        results.push({ target: 'executor', name: request.name, ...outcome });
        break;
      }
      const after = await executorStillServes(executor.url);
      if (outcome.verdict === 'clean' && after) outcome = { verdict: 'crash', detail: after };
      results.push({ target: 'executor', name: request.name, ...outcome });
    }
    return results;
  } finally {
    await executor?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the web host ------------------------------------------------------------------------

interface SocketClient {
  socket: WebSocket;
  closedWith: number | null;
  reply(id: number | null, limitMs: number): Promise<WireServerMessage | null>;
}

function openSocket(host: WebHost): Promise<SocketClient> {
  const url = new URL(host.url);
  const socket = new WebSocket(`ws://${url.host}/studio?token=${encodeURIComponent(host.token)}`);
  const messages: WireServerMessage[] = [];
  const client: SocketClient = {
    socket,
    closedWith: null,
    reply: (id, limitMs) =>
      new Promise((resolve) => {
        const started = performance.now();
        const look = () => {
          const index = messages.findIndex((m) => 'id' in m && m.id === id);
          if (index >= 0) return resolve(messages.splice(index, 1)[0]);
          if (client.closedWith !== null || performance.now() - started > limitMs) return resolve(null);
          setTimeout(look, 2);
        };
        look();
      })
  };
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    try {
      messages.push(parseServerMessage(decodeMessage(isBinary ? new Uint8Array(data) : data.toString('utf8'))));
    } catch {
      // an unreadable server message fails the case that waits for it
    }
  });
  socket.on('close', (code) => (client.closedWith = code));
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(client));
    socket.once('error', reject);
  });
}

interface SocketCase {
  name: string;
  frame: string | Uint8Array;
  /** The id the reply carries (null for a message too broken to have one). */
  id: number | null;
  /** The socket may be closed by the protocol instead of a reply (bad UTF-8 in a text frame). */
  mayClose?: number;
}

function webHostCase(random: Random, id: number, places: { fifo: string; folder: string; notModel: string }): SocketCase {
  const request = (method: string, params: unknown) => ({ name: `${method} ${JSON.stringify(params)?.slice(0, 60)}`, frame: encodeMessage({ id, method, params }), id });
  const kind = random.int(0, 9);
  switch (kind) {
    case 0:
      return { name: 'not JSON', frame: random.pick(['{', '', 'null', '[]', '"x"', '{"id": "1"}', '{"id": 1.5, "method": "app.info"}', '\u0000']), id: null };
    case 1:
      return request(random.pick(['nope', '', 'constructor', '__proto__', 'toString', 'app.info.x', 'model.openPath ']), mutateJson({}, random));
    case 2:
      return request(
        'model.openPath',
        random.pick([{ path: '/dev/zero' }, { path: places.fifo }, { path: places.folder }, { path: '/proc/self/mem' }, { path: places.notModel }, { path: '' }, { path: 7 }, { path: '/nonexistent.onnx' }, { path: '/etc/passwd' }, {}])
      );
    case 3:
      return request('partition.import', random.pick([{ path: '/dev/zero' }, { path: places.fifo }, { path: '/etc/shadow' }, { path: places.notModel }, { bytes: 'x', fileName: 'p.json' }, { path: '/proc/self/environ' }]));
    case 4:
      return request('partition.export', {
        modelId: random.pick(['0'.repeat(64), 'x', '']),
        cut: random.pick([0, -1, 'dag', 1e9, 'auto']),
        network: mutateJson({ name: 'wifi', uplinkMbps: 18.88, downlinkMbps: 54, rttMs: 10 }, random),
        serverLoad: 1,
        objective: 'latency',
        ...random.pick<Record<string, unknown>>([{ name: '../escape' }, { name: '/tmp/escape' }, { outDir: '/proc/x' }, { name: 'a'.repeat(300) }, { overwrite: 'yes' }, { name: '..' }, {}])
      });
    case 5:
      return request('prefs.set', mutateJson({ theme: 'dark', profileRuns: 5 }, random));
    case 6:
      return request(random.pick(['profile.start', 'sweep.start', 'profile.cancel', 'sweep.cancel', 'model.openSample', 'executor.connect']), mutateJson({ modelId: 'x', id: 'x', url: 'http://127.0.0.1:1', jobId: 'x' }, random));
    case 7: {
      // Binary frames whose header length, placeholders or bytes lie.
      const offset = random.pick([0, -1, 1e12, 3]);
      const length = random.pick([4, -4, 1e12, 0]);
      const header = Buffer.from(JSON.stringify({ id, method: 'model.openBytes', params: { fileName: 'x.onnx', bytes: { $bytes: offset, length } } }));
      const claimed = random.pick([header.byteLength, header.byteLength + 10_000, 0, 0xffffffff]);
      const frame = Buffer.alloc(4 + header.byteLength + 8);
      frame.writeUInt32LE(claimed >>> 0, 0);
      header.copy(frame, 4);
      // Only a frame whose header and placeholder hold up is read far enough to have an id (wire.ts).
      const readable = claimed === header.byteLength && offset >= 0 && length >= 0 && offset + length <= 8;
      return { name: `binary frame, header length ${claimed}, bytes ${offset}+${length}`, frame: new Uint8Array(frame), id: readable ? id : null };
    }
    case 8:
      return { name: 'model.openBytes with bytes that are not a model', frame: encodeMessage({ id, method: 'model.openBytes', params: { fileName: random.pick(['../../x.onnx', 'a.onnx', '']), bytes: new Uint8Array(random.bytes(random.int(0, 300))) } }), id };
    default:
      return request(random.pick(['app.info', 'model.recent', 'prefs.get', 'partition.exportFolder', 'providers.list']), random.pick([{}, { extra: 1 }, null, [], 'x']));
  }
}

/** A reply's verdict: a result, or a one-line error that is not an internal one. */
function replyVerdict(reply: WireServerMessage | null, client: SocketClient, mayClose?: number): { verdict: FuzzCase['verdict']; outcome?: FuzzCase['outcome']; detail?: string } {
  if (!reply) {
    if (mayClose !== undefined && client.closedWith === mayClose) return { verdict: 'clean', outcome: 'refused' };
    return client.closedWith !== null ? { verdict: 'crash', detail: `the socket closed (${client.closedWith})` } : { verdict: 'hang', detail: 'no reply within the limit' };
  }
  if ('result' in reply) return { verdict: 'clean', outcome: 'accepted' };
  if (!('error' in reply)) return { verdict: 'crash', detail: 'a reply with neither result nor error' };
  const { name, message } = reply.error;
  if (message.includes('\n')) return { verdict: 'crash', detail: 'an error of several lines' };
  if (message.startsWith('internal error')) return { verdict: 'crash', detail: `${name}: ${message.slice(0, 200)}` };
  return { verdict: 'clean', outcome: 'refused' };
}

async function fuzzWebHost(random: Random, count: number): Promise<FuzzCase[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'neurosurgeon-fuzz-web-'));
  const rendererDir = path.join(dir, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>fuzz</title>');
  const places = { fifo: path.join(dir, 'model-fifo.onnx'), folder: path.join(dir, 'folder.onnx'), notModel: path.join(dir, 'shadow') };
  execFileSync('mkfifo', [places.fifo]);
  mkdirSync(places.folder);
  writeFileSync(places.notModel, 'root:*:20212:0:99999:7:::\n');
  const service = new StudioService({
    host: 'web',
    home: path.join(dir, 'home'),
    connect: () => {
      throw new Error('no executor in the fuzz suite');
    },
    supervisor: null,
    log: () => undefined
  });
  const host = await startWebHost({ service, rendererDir, log: () => undefined });
  const results: FuzzCase[] = [];
  let client = await openSocket(host);
  try {
    for (let i = 0; i < count; i++) {
      const id = 1000 + i;
      const fuzzCase = webHostCase(random, id, places);
      if (random.chance(0.04)) {
        // A text frame that is not UTF-8: the protocol closes the socket (1007); the host stays.
        client.socket.send(Buffer.from([0x7b, 0xff, 0xfe]), { binary: false });
        const outcome = replyVerdict(await client.reply(-1, 1000), client, 1007);
        results.push({ target: 'web host', name: 'a text frame that is not UTF-8', ...outcome });
        client = await openSocket(host);
      }
      client.socket.send(fuzzCase.frame);
      let outcome = replyVerdict(await client.reply(fuzzCase.id, 8000), client, fuzzCase.mayClose);
      if (client.closedWith !== null) client = await openSocket(host);
      // Still up, and answering a valid request correctly.
      client.socket.send(encodeMessage({ id: -id, method: 'app.info', params: {} }));
      const check = await client.reply(-id, 5000);
      const version = check && 'result' in check ? (check.result as { version?: string }).version : undefined;
      if (outcome.verdict === 'clean' && version !== toolVersion()) outcome = { verdict: 'crash', detail: 'app.info after the case did not answer correctly' };
      results.push({ target: 'web host', name: fuzzCase.name, ...outcome });
    }
    return results;
  } finally {
    client.socket.terminate();
    await host.close();
    await service.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- all of it -----------------------------------------------------------------------------

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const started = performance.now();
  // One random stream per target, so a change in one target's cases leaves the others' alone.
  const cases = [
    ...(await fuzzCli(new Random(options.seed * 3 + 1), options.cli ?? 72, options.concurrency ?? 2)),
    ...(await fuzzExecutor(new Random(options.seed * 3 + 2), options.executor ?? 150)),
    ...(await fuzzWebHost(new Random(options.seed * 3 + 3), options.webHost ?? 120))
  ];
  const count = (verdict: FuzzCase['verdict']) => cases.filter((c) => c.verdict === verdict).length;
  return {
    seed: options.seed,
    cases: cases.length,
    clean: count('clean'),
    refused: cases.filter((c) => c.verdict === 'clean' && c.outcome === 'refused').length,
    accepted: cases.filter((c) => c.verdict === 'clean' && c.outcome === 'accepted').length,
    crashes: count('crash'),
    hangs: count('hang'),
    seconds: (performance.now() - started) / 1000,
    byTarget: {
      cli: cases.filter((c) => c.target === 'cli').length,
      executor: cases.filter((c) => c.target === 'executor').length,
      'web host': cases.filter((c) => c.target === 'web host').length
    },
    failures: cases.filter((c) => c.verdict !== 'clean').map((c) => `${c.target}: ${c.name}: ${c.verdict}${c.detail ? `: ${c.detail}` : ''}`)
  };
}
