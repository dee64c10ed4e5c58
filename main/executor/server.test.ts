// The executor as a client on the wire sees it: a real `neurosurgeon executor` process on
// loopback, spoken to with fetch and raw node:http (not our client), checked against the
// Open Inference Protocol (KServe v2 REST) and Triton's binary tensor data and model
// repository extensions — byte for byte where they are exact. Numbers are checked against
// onnxruntime run here. Every bad request gets its status and one-line error, and after
// each the executor still serves.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../app/onnx/builder.js';
import { startExecutorProcess, type ExecutorProcess } from './executor-process.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'executor-server-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// ---- models ------------------------------------------------------------------------------

/** a, b: FP32 [2,3] → sum = a + b, prod = a × b. */
function adderModel(): { bytes: Uint8Array; sum: string; prod: string } {
  const b = new GraphBuilder('adder');
  const x = b.input('a', 'float32', [2, 3]);
  const y = b.input('b', 'float32', [2, 3]);
  const sum = b.op('Add', [x, y], {}, 'sum');
  const prod = b.op('Mul', [x, y], {}, 'prod');
  b.output(sum, 'float32', [2, 3]);
  b.output(prod, 'float32', [2, 3]);
  return { bytes: b.toBytes(), sum, prod };
}

/** ids: INT64 [3] → as float; flags: BOOL [3] → negated. */
function typedModel(): Uint8Array {
  const b = new GraphBuilder('typed');
  const ids = b.input('ids', 'int64', [3]);
  const flags = b.input('flags', 'bool', [3]);
  b.output(b.op('Cast', [ids], { to: 1 }, 'as_float'), 'float32', [3]);
  b.output(b.op('Not', [flags], {}, 'negated'), 'bool', [3]);
  return b.toBytes();
}

/** x: FP32 [batch, 4] → Relu (version 1) or Neg (version 2). */
function symbolicModel(op: 'Relu' | 'Neg'): Uint8Array {
  const b = new GraphBuilder('symbolic');
  const x = b.input('x', 'float32', ['batch', 4]);
  b.output(b.op(op, [x], {}, 'y'), 'float32', ['batch', 4]);
  return b.toBytes();
}

/** A chain of MatMuls sharing one weight: slow to run, small to store. */
function slowModel(steps: number): Uint8Array {
  const b = new GraphBuilder('slow');
  let x = b.input('x', 'float32', [256, 1024]);
  const w = b.weight('w', [1024, 1024], 1024);
  for (let i = 0; i < steps; i++) x = b.op('MatMul', [x, w], {}, `mm${i}`);
  b.output(x, 'float32', [256, 1024]);
  return b.toBytes();
}

function writeVersion(dir: string, name: string, version: number, bytes: Uint8Array): void {
  mkdirSync(path.join(dir, name, String(version)), { recursive: true });
  writeFileSync(path.join(dir, name, String(version), 'model.onnx'), bytes);
}

async function runLocally(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

function bytesOf(view: ArrayBufferView): Buffer {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

// ---- HTTP helpers --------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  json: () => Record<string, unknown>;
}

async function call(base: string, method: string, route: string, options: { body?: Uint8Array | string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const response = await fetch(base + route, { method, headers: options.headers, body: options.body });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> };
}

/** A binary-extension request body built by hand: the JSON header, then raw tensor bytes. */
function binaryBody(header: object, ...tensors: Buffer[]): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  return {
    body: Buffer.concat([json, ...tensors]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.byteLength) }
  };
}

const A = new Float32Array([1, 2, 3, 4, 5, 6]);
const B = new Float32Array([0.5, -1, 2, 0, 10, -3]);

function adderJsonRequest(extra: object = {}): string {
  return JSON.stringify({
    inputs: [
      { name: 'a', shape: [2, 3], datatype: 'FP32', data: [...A] },
      { name: 'b', shape: [2, 3], datatype: 'FP32', data: [[...B.slice(0, 3)], [...B.slice(3)]] }
    ],
    ...extra
  });
}

/** One good inference; proves the executor is still serving after something bad. */
async function expectStillServes(base: string, headers: Record<string, string> = {}): Promise<void> {
  const answer = await call(base, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest(), headers: { 'content-type': 'application/json', ...headers } });
  expect(answer.status).toBe(200);
  const outputs = answer.json().outputs as { data: number[] }[];
  expect(outputs[0].data).toEqual([...A].map((v, i) => v + B[i]));
}

async function expectError(answer: Answer | Promise<Answer>, status: number, pattern: RegExp): Promise<void> {
  const { status: actual, body, headers } = await answer;
  expect({ status: actual, body: body.toString('utf8') }).toMatchObject({ status });
  expect(headers.get('content-type')).toBe('application/json');
  const parsed = JSON.parse(body.toString('utf8')) as { error: string };
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(parsed.error).toMatch(pattern);
  expect(parsed.error).not.toContain('\n');
}

// ---- the executor under test ------------------------------------------------------------

const adder = adderModel();
const modelsDir = path.join(root, 'models');
let executor: ExecutorProcess;
let base: string;

beforeAll(async () => {
  writeVersion(modelsDir, 'adder', 1, adder.bytes);
  writeVersion(modelsDir, 'typed', 1, typedModel());
  writeVersion(modelsDir, 'symbolic', 1, symbolicModel('Relu'));
  writeVersion(modelsDir, 'symbolic', 2, symbolicModel('Neg'));
  executor = await startExecutorProcess(['--models', modelsDir]);
  base = executor.url;
});

afterAll(async () => {
  await executor?.stop();
});

describe('health and metadata (KServe v2 REST)', () => {
  it('answers live and ready with 200 and an empty body', async () => {
    for (const route of ['/v2/health/live', '/v2/health/ready', '/v2/models/adder/ready', '/v2/models/symbolic/versions/1/ready']) {
      const answer = await call(base, 'GET', route);
      expect([route, answer.status, answer.body.byteLength]).toEqual([route, 200, 0]);
    }
    expect((await call(base, 'GET', '/v2/models/nope/ready')).status).toBe(404);
    expect((await call(base, 'GET', '/v2/models/symbolic/versions/7/ready')).status).toBe(404);
  });

  it('describes itself: name, version and the extensions it speaks', async () => {
    const answer = await call(base, 'GET', '/v2');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    const version = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).version as string;
    expect(answer.json()).toEqual({ name: 'neurosurgeon-executor', version, extensions: ['binary_tensor_data', 'model_repository', 'model_configuration', 'statistics', 'studio', 'studio_sources'] });
  });

  it('describes a model: versions, platform, inputs and outputs, -1 for symbolic dimensions', async () => {
    expect((await call(base, 'GET', '/v2/models/adder')).json()).toEqual({
      name: 'adder',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [2, 3] },
        { name: 'b', datatype: 'FP32', shape: [2, 3] }
      ],
      outputs: [
        { name: adder.sum, datatype: 'FP32', shape: [2, 3] },
        { name: adder.prod, datatype: 'FP32', shape: [2, 3] }
      ]
    });
    const symbolic = (await call(base, 'GET', '/v2/models/symbolic/versions/1')).json();
    expect(symbolic).toMatchObject({ name: 'symbolic', versions: ['1', '2'], inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }] });
    const typed = (await call(base, 'GET', '/v2/models/typed')).json();
    expect(typed.inputs).toEqual([
      { name: 'ids', datatype: 'INT64', shape: [3] },
      { name: 'flags', datatype: 'BOOL', shape: [3] }
    ]);
    await expectError(call(base, 'GET', '/v2/models/nope'), 404, /unknown model 'nope'/);
  });
});

describe('inference', () => {
  let expected: Record<string, ort.Tensor>;
  beforeAll(async () => {
    expected = await runLocally(adder.bytes, { a: new ort.Tensor('float32', A, [2, 3]), b: new ort.Tensor('float32', B, [2, 3]) });
  });

  it('takes JSON tensors and answers JSON, with the id echoed and the server times in parameters', async () => {
    const answer = await call(base, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest({ id: 'req-7' }), headers: { 'content-type': 'application/json' } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.headers.get('inference-header-content-length')).toBeNull();
    const json = answer.json();
    expect(json).toEqual({
      model_name: 'adder',
      model_version: '1',
      id: 'req-7',
      parameters: { compute_ms: expect.any(Number), queue_ms: expect.any(Number), receive_ms: expect.any(Number) },
      outputs: [
        { name: adder.sum, shape: [2, 3], datatype: 'FP32', data: [...(expected[adder.sum].data as Float32Array)] },
        { name: adder.prod, shape: [2, 3], datatype: 'FP32', data: [...(expected[adder.prod].data as Float32Array)] }
      ]
    });
    const parameters = json.parameters as Record<string, number>;
    expect(parameters.compute_ms).toBeGreaterThan(0);
  });

  it('takes binary tensors and answers binary, split at Inference-Header-Content-Length (the extension example)', async () => {
    const request = binaryBody(
      {
        id: '42',
        inputs: [
          { name: 'a', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } },
          { name: 'b', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }
        ],
        outputs: [{ name: adder.sum, parameters: { binary_data: true } }]
      },
      bytesOf(A),
      bytesOf(B)
    );
    const answer = await call(base, 'POST', '/v2/models/adder/infer', request);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('application/octet-stream');
    const headerLength = Number(answer.headers.get('inference-header-content-length'));
    expect(Number(answer.headers.get('content-length'))).toBe(headerLength + 24);
    const header = JSON.parse(answer.body.subarray(0, headerLength).toString('utf8'));
    expect(header).toEqual({
      model_name: 'adder',
      model_version: '1',
      id: '42',
      parameters: { compute_ms: expect.any(Number), queue_ms: expect.any(Number), receive_ms: expect.any(Number) },
      outputs: [{ name: adder.sum, shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }]
    });
    expect(answer.body.subarray(headerLength).equals(bytesOf(expected[adder.sum].data as Float32Array))).toBe(true);
  });

  it('returns every output as binary with binary_data_output, in the model order', async () => {
    const request = binaryBody(
      {
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'b', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } },
          { name: 'a', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }
        ]
      },
      bytesOf(B),
      bytesOf(A)
    );
    const answer = await call(base, 'POST', '/v2/models/adder/infer', request);
    const headerLength = Number(answer.headers.get('inference-header-content-length'));
    const header = JSON.parse(answer.body.subarray(0, headerLength).toString('utf8')) as { outputs: { name: string; parameters: object }[] };
    expect(header.outputs.map((o) => [o.name, o.parameters])).toEqual([
      [adder.sum, { binary_data_size: 24 }],
      [adder.prod, { binary_data_size: 24 }]
    ]);
    expect(answer.body.subarray(headerLength).equals(Buffer.concat([bytesOf(expected[adder.sum].data as Float32Array), bytesOf(expected[adder.prod].data as Float32Array)]))).toBe(true);
  });

  it('returns only the requested outputs, and mixes JSON and binary tensors both ways', async () => {
    const request = binaryBody(
      {
        inputs: [
          { name: 'a', shape: [2, 3], datatype: 'FP32', data: [...A] },
          { name: 'b', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }
        ],
        outputs: [{ name: adder.prod, parameters: { binary_data: true } }, { name: adder.sum }]
      },
      bytesOf(B)
    );
    const answer = await call(base, 'POST', '/v2/models/adder/infer', request);
    expect(answer.status).toBe(200);
    const headerLength = Number(answer.headers.get('inference-header-content-length'));
    const header = JSON.parse(answer.body.subarray(0, headerLength).toString('utf8')) as { outputs: Record<string, unknown>[] };
    expect(header.outputs).toEqual([
      { name: adder.prod, shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } },
      { name: adder.sum, shape: [2, 3], datatype: 'FP32', data: [...(expected[adder.sum].data as Float32Array)] }
    ]);
    expect(answer.body.subarray(headerLength).equals(bytesOf(expected[adder.prod].data as Float32Array))).toBe(true);

    const subset = await call(base, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest({ outputs: [{ name: adder.prod }] }) });
    expect((subset.json().outputs as { name: string }[]).map((o) => o.name)).toEqual([adder.prod]);
  });

  it('carries INT64 and BOOL tensors as JSON and as binary', async () => {
    const ids = new BigInt64Array([3n, -4n, 5n]);
    const json = await call(base, 'POST', '/v2/models/typed/infer', {
      body: JSON.stringify({
        inputs: [
          { name: 'ids', shape: [3], datatype: 'INT64', data: [3, -4, 5] },
          { name: 'flags', shape: [3], datatype: 'BOOL', data: [true, false, true] }
        ]
      })
    });
    expect((json.json().outputs as { datatype: string; data: unknown[] }[]).map((o) => [o.datatype, o.data])).toEqual([
      ['FP32', [3, -4, 5]],
      ['BOOL', [false, true, false]]
    ]);
    const binary = await call(
      base,
      'POST',
      '/v2/models/typed/infer',
      binaryBody(
        {
          parameters: { binary_data_output: true },
          inputs: [
            { name: 'flags', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
            { name: 'ids', shape: [3], datatype: 'INT64', parameters: { binary_data_size: 24 } }
          ]
        },
        Buffer.from([0, 0, 1]),
        bytesOf(ids)
      )
    );
    const headerLength = Number(binary.headers.get('inference-header-content-length'));
    expect(binary.body.subarray(headerLength).equals(Buffer.concat([bytesOf(new Float32Array([3, -4, 5])), Buffer.from([1, 1, 0])]))).toBe(true);
  });

  it('serves the highest version unless the URL names one, and any size of a symbolic dimension', async () => {
    const body = (batch: number) => JSON.stringify({ inputs: [{ name: 'x', shape: [batch, 4], datatype: 'FP32', data: Array.from({ length: batch * 4 }, (_, i) => i - 3) }] });
    const latest = (await call(base, 'POST', '/v2/models/symbolic/infer', { body: body(2) })).json();
    expect(latest.model_version).toBe('2');
    expect((latest.outputs as { data: number[]; shape: number[] }[])[0]).toMatchObject({ shape: [2, 4], data: Array.from({ length: 8 }, (_, i) => 3 - i) });
    const first = (await call(base, 'POST', '/v2/models/symbolic/versions/1/infer', { body: body(3) })).json();
    expect(first.model_version).toBe('1');
    expect((first.outputs as { data: number[] }[])[0].data).toEqual(Array.from({ length: 12 }, (_, i) => Math.max(0, i - 3)));
  });
});

describe('bad requests: the right status, a one-line error, and the executor keeps serving', () => {
  const cases: [string, () => Promise<Answer>, number, RegExp][] = [
    ['unknown model', () => call(base, 'POST', '/v2/models/nope/infer', { body: adderJsonRequest() }), 404, /unknown model 'nope'/],
    [
      'wrong tensor name',
      () => call(base, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest().replace('"name":"b"', '"name":"c"') }),
      400,
      /model 'adder' has no input 'c'/
    ],
    [
      'missing input',
      () => call(base, 'POST', '/v2/models/adder/infer', { body: JSON.stringify({ inputs: [{ name: 'a', shape: [2, 3], datatype: 'FP32', data: [...A] }] }) }),
      400,
      /missing input 'b'/
    ],
    [
      'wrong shape',
      () => call(base, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest().replace('"shape":[2,3],"datatype":"FP32","data":[1', '"shape":[3,2],"datatype":"FP32","data":[1') }),
      400,
      /input 'a': shape \[3,2\], the model expects \[2,3\]/
    ],
    [
      'wrong datatype',
      () =>
        call(base, 'POST', '/v2/models/adder/infer', {
          body: JSON.stringify({ inputs: [{ name: 'a', shape: [2, 3], datatype: 'INT32', data: [1, 2, 3, 4, 5, 6] }, { name: 'b', shape: [2, 3], datatype: 'FP32', data: [...B] }] })
        }),
      400,
      /input 'a': datatype INT32, the model expects FP32/
    ],
    [
      'byte count ≠ shape × element size',
      () =>
        call(
          base,
          'POST',
          '/v2/models/adder/infer',
          binaryBody(
            {
              inputs: [
                { name: 'a', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 20 } },
                { name: 'b', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }
              ]
            },
            bytesOf(A).subarray(0, 20),
            bytesOf(B)
          )
        ),
      400,
      /tensor 'a': 20 bytes for shape \[2,3\] of FP32 \(24 expected\)/
    ],
    ['malformed JSON', () => call(base, 'POST', '/v2/models/adder/infer', { body: '{"inputs": [ {"name": ' }), 400, /not valid JSON/],
    [
      'Inference-Header-Content-Length longer than the body',
      () => call(base, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest(), headers: { 'inference-header-content-length': '100000' } }),
      400,
      /Inference-Header-Content-Length is 100000 but the body has only \d+ bytes/
    ],
    [
      'binary data shorter than binary_data_size says',
      () =>
        call(
          base,
          'POST',
          '/v2/models/adder/infer',
          binaryBody(
            {
              inputs: [
                { name: 'a', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } },
                { name: 'b', shape: [2, 3], datatype: 'FP32', parameters: { binary_data_size: 24 } }
              ]
            },
            bytesOf(A),
            bytesOf(B).subarray(0, 10)
          )
        ),
      400,
      /input 'b': binary_data_size 24 runs past the end of the body/
    ],
    ['unknown endpoint', () => call(base, 'GET', '/v2/nothing/here'), 404, /no such endpoint: GET \/v2\/nothing\/here/],
    ['wrong method', () => call(base, 'GET', '/v2/models/adder/infer'), 405, /GET is not allowed/]
  ];
  for (const [label, send, status, pattern] of cases) {
    it(label, async () => {
      await expectError(send(), status, pattern);
      await expectStillServes(base);
    });
  }

  it('a client that disconnects halfway through its upload', async () => {
    await new Promise<void>((resolve) => {
      const request = http.request(`${base}/v2/models/adder/infer`, { method: 'POST', headers: { 'content-length': '100000' } });
      request.on('error', () => resolve());
      request.write(Buffer.alloc(1000), () => setTimeout(() => (request.destroy(), resolve()), 50));
    });
    await expectStillServes(base);
    expect(executor.child.exitCode).toBeNull();
  });
});

describe('model repository (Triton model repository extension)', () => {
  let repo: ExecutorProcess;
  const repoDir = path.join(root, 'repo');
  const upload = (name: string, bytes: Uint8Array) =>
    call(repo.url, 'POST', `/v2/repository/models/${name}/load`, {
      body: JSON.stringify({ parameters: { config: JSON.stringify({ backend: 'onnxruntime' }), 'file:1/model.onnx': Buffer.from(bytes).toString('base64') } })
    });
  const sessionsCreated = async () => (await call(repo.url, 'GET', '/v2/studio/load')).json().sessionsCreated as number;
  const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

  beforeAll(async () => {
    mkdirSync(repoDir, { recursive: true });
    repo = await startExecutorProcess(['--models', repoDir]);
  });
  afterAll(async () => {
    await repo?.stop();
  });

  it('loads an upload of file:1/model.onnx (base64), writes it under DIR and serves it', async () => {
    const answer = await upload('adder', adder.bytes);
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ name: 'adder', versions: ['1'], sha256: sha(adder.bytes), cached: false });
    expect(readFileSync(path.join(repoDir, 'adder', '1', 'model.onnx')).equals(Buffer.from(adder.bytes))).toBe(true);
    expect((await call(repo.url, 'POST', '/v2/repository/index', { body: '{}' })).json()).toEqual([
      { name: 'adder', version: '1', state: 'READY', reason: '', sha256: sha(adder.bytes) }
    ]);
    await expectStillServes(repo.url);
  });

  it('reuses the sessions when the same bytes are loaded again, under any name', async () => {
    const before = await sessionsCreated();
    const again = await upload('adder-copy', adder.bytes);
    expect(again.json()).toMatchObject({ name: 'adder-copy', cached: true });
    expect(await sessionsCreated()).toBe(before);
    const other = await upload('typed', typedModel());
    expect(other.json()).toMatchObject({ cached: false });
    expect(await sessionsCreated()).toBe(before + 1);
    const answer = await call(repo.url, 'POST', '/v2/models/adder-copy/infer', { body: adderJsonRequest() });
    expect(answer.status).toBe(200);
  });

  it('loads a model put on disk, unloads it, and indexes both states', async () => {
    writeVersion(repoDir, 'disk', 1, symbolicModel('Relu'));
    expect((await call(repo.url, 'POST', '/v2/repository/index', { body: '{}' })).json()).toContainEqual({ name: 'disk', state: 'UNAVAILABLE', reason: 'not loaded' });
    expect((await call(repo.url, 'POST', '/v2/repository/models/disk/load')).status).toBe(200);
    expect((await call(repo.url, 'GET', '/v2/models/disk/ready')).status).toBe(200);
    expect((await call(repo.url, 'POST', '/v2/repository/models/disk/unload', { body: '{}' })).status).toBe(200);
    expect((await call(repo.url, 'GET', '/v2/models/disk/ready')).status).toBe(400);
    const index = (await call(repo.url, 'POST', '/v2/repository/index', { body: '{}' })).json() as unknown as { name: string; state: string; reason: string }[];
    expect(index.find((e) => e.name === 'disk')).toEqual({ name: 'disk', state: 'UNAVAILABLE', reason: 'unloaded' });
    const ready = (await call(repo.url, 'POST', '/v2/repository/index', { body: '{"ready": true}' })).json() as unknown as { name: string }[];
    expect(ready.map((e) => e.name)).not.toContain('disk');
    await expectError(call(repo.url, 'POST', '/v2/models/disk/infer', { body: '{"inputs": []}' }), 400, /model 'disk' is not ready \(unloaded\)/);
    await expectError(call(repo.url, 'POST', '/v2/repository/models/ghost/load'), 404, /unknown model 'ghost'/);
    await expectStillServes(repo.url);
  });

  it('refuses a model onnxruntime rejects with one line, and keeps serving the others', async () => {
    await expectError(upload('broken', Buffer.from('this is not an onnx model')), 400, /onnxruntime cannot load model 'broken' version 1: /);
    await expectError(
      call(repo.url, 'POST', '/v2/repository/models/adder/load', { body: '{"parameters": {"file:1/model.onnx": "not base64!"}}' }),
      400,
      /not base64/
    );
    await expectError(call(repo.url, 'POST', '/v2/repository/models/..evil/load', { body: '{}' }), 400, /not a valid model name/);
    await expectError(
      call(repo.url, 'POST', '/v2/repository/models/x/load', { body: JSON.stringify({ parameters: { 'file:../1/model.onnx': 'AAAA' } }) }),
      400,
      /must name a file inside a version folder/
    );
    const index = (await call(repo.url, 'POST', '/v2/repository/index', { body: '{}' })).json() as unknown as { name: string }[];
    expect(index.map((e) => e.name)).not.toContain('broken');
    await expectStillServes(repo.url);
  });

  it('without --models, keeps uploads in memory and forgets them when unloaded', async () => {
    const memory = await startExecutorProcess([]);
    try {
      const answer = await call(memory.url, 'POST', '/v2/repository/models/adder/load', {
        body: JSON.stringify({ parameters: { 'file:1/model.onnx': Buffer.from(adder.bytes).toString('base64') } })
      });
      expect(answer.status).toBe(200);
      await expectStillServes(memory.url);
      expect((await call(memory.url, 'POST', '/v2/repository/models/adder/unload')).status).toBe(200);
      await expectError(call(memory.url, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest() }), 404, /unknown model 'adder'/);
      expect((await call(memory.url, 'POST', '/v2/repository/index')).json()).toEqual([]);
    } finally {
      await memory.stop();
    }
  });
});

describe('limits: body size, token, queue, time', () => {
  it('413 for a body over --max-body-mb, declared or streamed, and serves the next request', async () => {
    const small = await startExecutorProcess(['--models', modelsDir, '--max-body-mb', '1']);
    try {
      await expectError(call(small.url, 'POST', '/v2/models/adder/infer', { body: Buffer.alloc(3 << 20) }), 413, /over the limit of 1048576 bytes/);
      // Chunked, no Content-Length: the limit is counted as the bytes arrive.
      const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = http.request(`${small.url}/v2/models/adder/infer`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
          let body = '';
          response.setEncoding('utf8').on('data', (c: string) => (body += c));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
        const chunk = Buffer.alloc(64 << 10);
        let sent = 0;
        const pump = () => {
          while (sent < 4 << 20) {
            sent += chunk.byteLength;
            if (!request.write(chunk)) return void request.once('drain', pump);
          }
          request.end();
        };
        pump();
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.body).error).toMatch(/over the limit/);
      await expectStillServes(small.url);
    } finally {
      await small.stop();
    }
  });

  it('401 without or with a wrong token on everything but /v2/health/live', async () => {
    const guarded = await startExecutorProcess(['--models', modelsDir, '--token', 's3cret']);
    try {
      expect((await call(guarded.url, 'GET', '/v2/health/live')).status).toBe(200);
      await expectError(call(guarded.url, 'GET', '/v2/health/ready'), 401, /needs an Authorization: Bearer token/);
      await expectError(call(guarded.url, 'GET', '/v2', { headers: { authorization: 'Bearer nope' } }), 401, /wrong bearer token/);
      await expectError(call(guarded.url, 'POST', '/v2/models/adder/infer', { body: adderJsonRequest() }), 401, /Bearer/);
      const challenge = await call(guarded.url, 'GET', '/v2/models/adder');
      expect(challenge.headers.get('www-authenticate')).toBe('Bearer');
      await expectStillServes(guarded.url, { authorization: 'Bearer s3cret' });
    } finally {
      await guarded.stop();
    }
  });

  it('503 once --max-concurrency run and --max-queue wait; 504 past --timeout-s; serves on', async () => {
    const slowDir = path.join(root, 'slow');
    writeVersion(slowDir, 'slow', 1, slowModel(48));
    writeVersion(slowDir, 'slower', 1, slowModel(160));
    writeVersion(slowDir, 'adder', 1, adder.bytes);
    const busy = await startExecutorProcess(['--models', slowDir, '--max-concurrency', '1', '--max-queue', '1', '--timeout-s', '20']);
    const x = bytesOf(new Float32Array(256 * 1024).fill(0.001));
    const slowRequest = (url: string, model = 'slow') =>
      call(url, 'POST', `/v2/models/${model}/infer`, binaryBody({ parameters: { binary_data_output: true }, inputs: [{ name: 'x', shape: [256, 1024], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } }] }, x));
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => slowRequest(busy.url)));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses).toEqual([200, 200, 503, 503, 503]);
      await expectError(answers.find((a) => a.status === 503) as Answer, 503, /busy: 1 running, 1 waiting \(--max-queue 1\)/);
      const load = (await call(busy.url, 'GET', '/v2/studio/load')).json();
      expect(load).toMatchObject({ rejected: 3, completed: 2, inFlight: 0, queued: 0 });
      await expectStillServes(busy.url);
    } finally {
      await busy.stop();
    }
    const hasty = await startExecutorProcess(['--models', slowDir, '--timeout-s', '0.1']);
    try {
      await expectError(slowRequest(hasty.url, 'slower'), 504, /model 'slower' did not answer within 0.1 s/);
      await expectStillServes(hasty.url);
      expect((await call(hasty.url, 'GET', '/v2/studio/load')).json()).toMatchObject({ timedOut: 1 });
    } finally {
      await hasty.stop();
    }
  });
});

describe('studio extensions', () => {
  it('profiles a loaded model per node on the executor', async () => {
    const answer = await call(base, 'POST', '/v2/studio/models/adder/profile', { body: JSON.stringify({ runs: 3, warmup: 1 }) });
    expect(answer.status).toBe(200);
    const profile = answer.json();
    // At the level the executor serves with; 3 runs, or more where they were unsteady.
    expect(profile).toMatchObject({ kind: 'latency-profile', warmup: 1, ep: 'cpu', graphOptimization: 'all', model: { sha256: createHash('sha256').update(adder.bytes).digest('hex'), nodes: 2 } });
    expect(profile.runs).toBeGreaterThanOrEqual(3);
    expect((profile.layers as { name: string; medianMs: number }[]).map((l) => l.name)).toEqual(['sum', 'prod']);
    await expectError(call(base, 'POST', '/v2/studio/models/adder/profile', { body: '{"runs": 0}' }), 400, /"runs" must be a whole number from 1/);
    await expectError(call(base, 'POST', '/v2/studio/models/adder/profile', { body: '{"minTimeMs": -5}' }), 400, /"minTimeMs" must be a whole number from 0/);
    await expectError(call(base, 'POST', '/v2/studio/models/nope/profile', { body: '{}' }), 404, /unknown model 'nope'/);
    // A minimum time makes a µs-scale model's profile take many more runs than asked for.
    const longer = await call(base, 'POST', '/v2/studio/models/adder/profile', { body: JSON.stringify({ runs: 3, warmup: 2, minTimeMs: 50 }) });
    expect(longer.status).toBe(200);
    expect(longer.json().runs).toBeGreaterThan(3);
  });

  it('sinks uploads and sources downloads of a given size (link probes)', async () => {
    const sink = await call(base, 'POST', '/v2/studio/sink', { body: Buffer.alloc(300_000) });
    expect(sink.json()).toEqual({ bytes: 300_000, receive_ms: expect.any(Number) });
    const source = await call(base, 'GET', '/v2/studio/source?bytes=2500000');
    expect(source.body.byteLength).toBe(2_500_000);
    await expectError(call(base, 'GET', '/v2/studio/source?bytes=-1'), 400, /"bytes" must be a whole number/);
  });
});

describe('BodyBuffers (reuse of large request-body buffers)', () => {
  it('hands back a buffer it was given when it fits, and fresh ones otherwise', async () => {
    const { BodyBuffers } = await import('./server.js');
    const pool = new BodyBuffers(8 << 20, 60_000);
    try {
      const first = pool.take(3 << 20);
      expect(first.byteLength).toBe(3 << 20);
      pool.give(first);
      expect(pool.take(2 << 20)).toBe(first);
      pool.give(first);
      expect(pool.take(1 << 20)).not.toBe(first);
      expect(pool.take(4 << 20)).not.toBe(first);
      pool.give(new ArrayBuffer(1000));
      pool.give(new ArrayBuffer(6 << 20));
      expect(pool.pooledBytes).toBe(6 << 20);
    } finally {
      pool.close();
    }
  });
});
