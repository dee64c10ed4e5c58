// The Open Inference Protocol codec (protocol.ts) on its own: datatypes and FP16, JSON
// tensor data ↔ bytes, request and response bodies with Triton's binary extension (the
// request bytes built by hand, as the extension's document lays them out), the checks
// against a model's inputs, and the scanner of model-upload bodies.
import { describe, expect, it } from 'vitest';
import type { RawTensor } from './link.js';
import {
  bytesToJsonData,
  checkAgainstModel,
  decodeBytesElements,
  decodeInferRequest,
  decodeInferResponse,
  encodeBytesElements,
  encodeInferRequest,
  encodeInferResponse,
  float16Bits,
  float16Value,
  headerLength,
  jsonDataToBytes,
  LOAD_BODY_END,
  loadBodyStart,
  parseLoadRequest,
  ProtocolError,
  type ModelMetadata
} from './protocol.js';

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function expectProtocolError(run: () => unknown, status: number, pattern: RegExp): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).status).toBe(status);
    expect((error as ProtocolError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a ProtocolError');
}

describe('FP16', () => {
  it('round-trips exactly representable values and rounds the rest to the nearest half', () => {
    for (const value of [0, 1, -2, 0.5, 65504, -65504, 2 ** -14, 2 ** -24, 3 * 2 ** -20, 1.5, 1025]) expect(float16Value(float16Bits(value))).toBe(value);
    expect(float16Bits(1)).toBe(0x3c00);
    expect(float16Bits(-2)).toBe(0xc000);
    expect(float16Value(float16Bits(1024.5))).toBe(1024);
    expect(float16Value(float16Bits(1025.5))).toBe(1026);
    expect(float16Value(float16Bits(1024.75))).toBe(1025);
    expect(float16Value(float16Bits(0.1))).toBeCloseTo(0.1, 3);
    expect(float16Value(float16Bits(1e6))).toBe(Infinity);
    expect(Number.isNaN(float16Value(float16Bits(NaN)))).toBe(true);
  });
});

describe('JSON tensor data', () => {
  it('flattens nested data row-major and lays it out as the binary extension does', () => {
    const bytes = jsonDataToBytes('x', 'FP32', [2, 2], [[1, 2], [3, 4]]);
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, 4)]).toEqual([1, 2, 3, 4]);
    expect([...jsonDataToBytes('b', 'BOOL', [3], [true, false, 1])]).toEqual([1, 0, 1]);
    const ids = jsonDataToBytes('ids', 'INT64', [2], [7, '-9007199254740993']);
    expect([...new BigInt64Array(ids.buffer, ids.byteOffset, 2)]).toEqual([7n, -9007199254740993n]);
    const text = jsonDataToBytes('s', 'BYTES', [2], ['ab', 'é']);
    expect([...text]).toEqual([2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9]);
    expect(decodeBytesElements('s', text)).toEqual(['ab', 'é']);
  });

  it('refuses a wrong element count or a value of the wrong type, naming the tensor', () => {
    expectProtocolError(() => jsonDataToBytes('x', 'FP32', [2, 2], [1, 2, 3]), 400, /tensor 'x': 3 data elements for shape \[2,2\]/);
    expectProtocolError(() => jsonDataToBytes('n', 'INT32', [1], [1.5]), 400, /tensor 'n': element 0 \(1.5\) is not a valid INT32/);
    expectProtocolError(() => jsonDataToBytes('u', 'UINT8', [1], [256]), 400, /tensor 'u'/);
    expectProtocolError(() => jsonDataToBytes('f', 'FP32', [1], ['1']), 400, /tensor 'f'/);
  });

  it('turns bytes back into JSON data for every numeric datatype', () => {
    const cases: [RawTensor['datatype'], unknown[]][] = [
      ['FP32', [1.5, -2]],
      ['FP64', [0.1, 3]],
      ['FP16', [0.5, -1]],
      ['INT8', [-3, 4]],
      ['INT16', [-300, 4]],
      ['INT32', [-70000, 4]],
      ['INT64', [-5, 6]],
      ['UINT8', [200, 4]],
      ['UINT16', [60000, 4]],
      ['UINT32', [4000000000, 4]],
      ['UINT64', [5, 6]],
      ['BOOL', [true, false]],
      ['BYTES', ['a', '']]
    ];
    for (const [datatype, values] of cases) {
      const data = jsonDataToBytes('t', datatype, [2], values);
      expect(bytesToJsonData({ name: 't', datatype, shape: [2], data }), datatype).toEqual(values);
    }
  });
});

describe('inference requests', () => {
  const a = new Float32Array([1, 2, 3, 4]);
  const flags = new Uint8Array([1, 0, 1]);

  /** The example of Triton's binary data extension, built byte by byte. */
  function handBuiltRequest(): { body: Buffer; headerLength: number } {
    const header = Buffer.from(
      JSON.stringify({
        id: '42',
        inputs: [
          { name: 'input0', shape: [2, 2], datatype: 'FP32', parameters: { binary_data_size: 16 } },
          { name: 'input1', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } }
        ],
        outputs: [{ name: 'output0', parameters: { binary_data: true } }, { name: 'output1' }]
      })
    );
    return { body: Buffer.concat([header, bytesOf(a), flags]), headerLength: header.byteLength };
  }

  it('splits a binary request at Inference-Header-Content-Length, inputs in order, as views', () => {
    const { body, headerLength: length } = handBuiltRequest();
    const request = decodeInferRequest(body, length);
    expect(request.id).toBe('42');
    expect(request.inputs.map((t) => [t.name, t.datatype, t.shape, [...t.data]])).toEqual([
      ['input0', 'FP32', [2, 2], [...bytesOf(a)]],
      ['input1', 'BOOL', [3], [1, 0, 1]]
    ]);
    expect(request.inputs[0].data.buffer).toBe(body.buffer);
    expect(request.outputs).toEqual([
      { name: 'output0', binary: true },
      { name: 'output1', binary: false }
    ]);
  });

  it('mixes JSON and binary inputs; binary_data_output sets the default for outputs', () => {
    const header = Buffer.from(
      JSON.stringify({
        parameters: { binary_data_output: true },
        inputs: [
          { name: 'j', shape: [2], datatype: 'INT32', data: [5, 6] },
          { name: 'b', shape: [3], datatype: 'UINT8', parameters: { binary_data_size: 3 } }
        ],
        outputs: [{ name: 'o', parameters: { binary_data: false } }, { name: 'p' }]
      })
    );
    const request = decodeInferRequest(Buffer.concat([header, Buffer.from([9, 8, 7])]), header.byteLength);
    expect([...new Int32Array(request.inputs[0].data.slice().buffer)]).toEqual([5, 6]);
    expect([...request.inputs[1].data]).toEqual([9, 8, 7]);
    expect(request.outputs).toEqual([
      { name: 'o', binary: false },
      { name: 'p', binary: true }
    ]);
  });

  it('refuses malformed requests with 400 and a message naming the problem', () => {
    const { body, headerLength: length } = handBuiltRequest();
    expectProtocolError(() => decodeInferRequest(Buffer.from('{"inputs": ['), null), 400, /not valid JSON/);
    expectProtocolError(() => decodeInferRequest(body.subarray(0, body.byteLength - 1), length), 400, /input 'input1': binary_data_size 3 runs past the end/);
    expectProtocolError(() => decodeInferRequest(Buffer.concat([body, Buffer.from([0])]), length), 400, /1 bytes of binary data that no input claims/);
    expectProtocolError(() => decodeInferRequest(body, null), 400, /not valid JSON|no Inference-Header-Content-Length/);
    expectProtocolError(() => headerLength('999', 10), 400, /Inference-Header-Content-Length is 999 but the body has only 10 bytes/);
    expectProtocolError(() => headerLength('12x', 100), 400, /must be a whole number/);
    const wrongSize = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 4 } }] }));
    expectProtocolError(() => decodeInferRequest(Buffer.concat([wrongSize, Buffer.alloc(4)]), wrongSize.byteLength), 400, /tensor 'x': 4 bytes for shape \[2\] of FP32 \(8 expected\)/);
    const badType = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP8', data: [1] }] }));
    expectProtocolError(() => decodeInferRequest(badType, null), 400, /input 'x': unknown datatype "FP8"/);
  });

  it('checks inputs against the model: names, datatypes, shapes (-1 matches any), outputs', () => {
    const model: ModelMetadata = {
      name: 'm',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 2] }]
    };
    const x = (shape: number[], datatype: RawTensor['datatype'] = 'FP32', name = 'x'): RawTensor => ({ name, datatype, shape, data: new Uint8Array(0) });
    expect(() => checkAgainstModel(model, [x([5, 2])], [{ name: 'y', binary: true }])).not.toThrow();
    expectProtocolError(() => checkAgainstModel(model, [x([5, 3])], null), 400, /input 'x': shape \[5,3\], the model expects \[-1,2\]/);
    expectProtocolError(() => checkAgainstModel(model, [x([5, 2], 'FP64')], null), 400, /input 'x': datatype FP64, the model expects FP32/);
    expectProtocolError(() => checkAgainstModel(model, [x([5, 2], 'FP32', 'z')], null), 400, /model 'm' has no input 'z'/);
    expectProtocolError(() => checkAgainstModel(model, [], null), 400, /missing input 'x'/);
    expectProtocolError(() => checkAgainstModel(model, [x([1, 2])], [{ name: 'w', binary: true }]), 400, /model 'm' has no output 'w'/);
  });

  it('encodes a client request and a server response that decode back to the same tensors', () => {
    const inputs: RawTensor[] = [
      { name: 'a', datatype: 'FP32', shape: [4], data: bytesOf(a) },
      { name: 's', datatype: 'BYTES', shape: [2], data: encodeBytesElements(['x', 'yz']) }
    ];
    const request = encodeInferRequest(inputs, { outputs: ['o'], id: 'r1' });
    const body = Buffer.concat([request.json, ...request.chunks]);
    expect(request.byteLength).toBe(body.byteLength);
    const decoded = decodeInferRequest(body, request.headerLength);
    expect(decoded.inputs.map((t) => [t.name, [...t.data]])).toEqual(inputs.map((t) => [t.name, [...t.data]]));
    expect(decoded.outputs).toEqual([{ name: 'o', binary: true }]);

    const response = encodeInferResponse({
      modelName: 'm',
      modelVersion: '1',
      id: 'r1',
      parameters: { compute_ms: 1.5 },
      outputs: [
        { tensor: inputs[0], binary: true },
        { tensor: inputs[1], binary: false }
      ]
    });
    const responseBody = Buffer.concat([response.json, ...response.chunks]);
    const back = decodeInferResponse(responseBody, response.headerLength);
    expect(back.json).toMatchObject({ model_name: 'm', model_version: '1', id: 'r1', parameters: { compute_ms: 1.5 } });
    expect(back.json.outputs[1]).toEqual({ name: 's', shape: [2], datatype: 'BYTES', data: ['x', 'yz'] });
    expect(back.outputs.map((t) => [t.name, t.datatype, t.shape, [...t.data]])).toEqual(inputs.map((t) => [t.name, t.datatype, t.shape, [...t.data]]));
  });
});

describe('model upload bodies', () => {
  const model = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37) % 256));

  it('decodes the base64 file and keeps the config, as Triton sends them', () => {
    const body = Buffer.from(JSON.stringify({ parameters: { config: '{"backend":"onnxruntime"}', 'file:1/model.onnx': model.toString('base64') } }));
    const request = parseLoadRequest(body);
    expect(request.config).toBe('{"backend":"onnxruntime"}');
    expect(request.files).toHaveLength(1);
    expect(request.files[0].path).toBe('1/model.onnx');
    expect(request.files[0].bytes.equals(model)).toBe(true);
  });

  it('reads the body the client streams, whitespace, other keys and escaped slashes', () => {
    const start = loadBodyStart('{"name":"m"}', '1/model.onnx');
    expect(parseLoadRequest(Buffer.from(start + model.toString('base64') + LOAD_BODY_END)).files[0].bytes.equals(model)).toBe(true);
    const escaped = model.toString('base64').replace(/\//g, '\\/');
    const body = Buffer.from(`  { "other" : [1, {"a": "}"}] ,\n "parameters" : { "flag": true, "file:2/model.onnx" : "${escaped}" } }  `);
    const request = parseLoadRequest(body);
    expect(request.parameters).toEqual({ flag: true });
    expect(request.files[0].path).toBe('2/model.onnx');
    expect(request.files[0].bytes.equals(model)).toBe(true);
    expect(parseLoadRequest(Buffer.alloc(0))).toEqual({ files: [], parameters: {} });
    expect(parseLoadRequest(Buffer.from('{}'))).toEqual({ files: [], parameters: {} });
  });

  it('decodes across its internal steps (a file of several MB) without a string of the whole body', () => {
    const large = Buffer.alloc((9 << 20) + 7);
    for (let i = 0; i < large.byteLength; i += 4093) large[i] = i % 251;
    const body = Buffer.from(loadBodyStart(undefined, '1/model.onnx') + large.toString('base64') + LOAD_BODY_END);
    expect(parseLoadRequest(body).files[0].bytes.equals(large)).toBe(true);
  });

  it('refuses bodies that are not the flat JSON object, or not base64', () => {
    expectProtocolError(() => parseLoadRequest(Buffer.from('{"parameters": {"file:1/model.onnx": "AAA')), 400, /unterminated string/);
    expectProtocolError(() => parseLoadRequest(Buffer.from('{"parameters": {"file:1/model.onnx": "A*AA"}}')), 400, /not base64/);
    expectProtocolError(() => parseLoadRequest(Buffer.from('{"parameters": {"file:1/model.onnx": 5}}')), 400, /must be a base64 string/);
    expectProtocolError(() => parseLoadRequest(Buffer.from('{"parameters": {"config": "{nope"}}')), 400, /"config" is not valid JSON/);
    expectProtocolError(() => parseLoadRequest(Buffer.from('{"parameters": {}} x')), 400, /unexpected data after the object/);
    expectProtocolError(() => parseLoadRequest(Buffer.from('[1]')), 400, /expected '\{'/);
  });
});
