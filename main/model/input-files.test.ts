// Model inputs from .npy and TensorProto files (input-files.ts): round trips through
// hand-built files, and the one-line errors for every mismatch with the model.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { onnx } from '../../app/onnx/generated/onnx.js';
import { readOnnxModel } from '../../app/onnx/reader.js';
import { int64 } from '../../app/onnx/writer.js';
import { buildZooModel } from '../../app/zoo/index.js';
import { InputFileError, loadInputs, parseInputPairs, readNpy } from './input-files.js';

const folder = mkdtempSync(path.join(os.tmpdir(), 'input-files-test-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));
const lenet = readOnnxModel(buildZooModel('lenet', { seed: 1, weights: 'zeros' }));

/** A .npy file as numpy.save writes it (format 1.0, header padded to 64 bytes). */
function npy(descr: string, shape: number[], data: ArrayBufferView, options: { fortran?: boolean; version?: 1 | 2 } = {}): Uint8Array {
  const version = options.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${options.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const prefix = version === 1 ? 10 : 12;
  header = header.padEnd(Math.ceil((prefix + header.length + 1) / 64) * 64 - prefix - 1, ' ') + '\n';
  const out = new Uint8Array(prefix + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  out.set(new TextEncoder().encode(header), prefix);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + header.length);
  return out;
}

function file(name: string, bytes: Uint8Array): string {
  const target = path.join(folder, name);
  writeFileSync(target, bytes);
  return target;
}

const image = Float32Array.from({ length: 784 }, (_, i) => i / 784);

describe('input files', () => {
  it('reads a .npy file (v1 and v2) into the model input', async () => {
    for (const version of [1, 2] as const) {
      const target = file(`image-v${version}.npy`, npy('<f4', [1, 1, 28, 28], image, { version }));
      const feeds = await loadInputs(lenet, parseInputPairs([`input=${target}`]));
      expect(feeds.input.type).toBe('float32');
      expect(feeds.input.dims).toEqual([1, 1, 28, 28]);
      expect(Array.from(feeds.input.data as Float32Array)).toEqual(Array.from(image));
    }
  });

  it('reads every supported .npy dtype', () => {
    const int64s = readNpy(npy('<i8', [3], BigInt64Array.from([1n, -2n, 3n])), 'x.npy');
    expect(int64s.elementType).toBe('int64');
    expect(Array.from(int64s.data as BigInt64Array)).toEqual([1n, -2n, 3n]);
    expect(readNpy(npy('|b1', [2], Uint8Array.from([1, 0])), 'b.npy').elementType).toBe('bool');
    expect(readNpy(npy('<u2', [2], Uint16Array.from([1, 2])), 'u.npy').elementType).toBe('uint16');
    expect(readNpy(npy('<f2', [1], Uint16Array.from([0x3c00])), 'h.npy').elementType).toBe('float16');
  });

  it('reads a TensorProto .pb file, raw_data and typed fields alike', async () => {
    const raw = onnx.TensorProto.encode(
      new onnx.TensorProto({ name: 'input', dataType: 1, dims: [1, 1, 28, 28].map(int64), rawData: new Uint8Array(image.buffer) })
    ).finish();
    const typed = onnx.TensorProto.encode(new onnx.TensorProto({ name: 'input', dataType: 1, dims: [1, 1, 28, 28].map(int64), floatData: Array.from(image) })).finish();
    for (const [name, bytes] of [['raw.pb', raw], ['typed.pb', typed]] as const) {
      const feeds = await loadInputs(lenet, { input: file(name, bytes) });
      expect(feeds.input.dims).toEqual([1, 1, 28, 28]);
      expect(Array.from(feeds.input.data as Float32Array)).toEqual(Array.from(image));
    }
  });

  it('generates the inputs no file gives', async () => {
    const feeds = await loadInputs(lenet, {});
    expect(feeds.input.dims).toEqual([1, 1, 28, 28]);
  });

  it('refuses mismatches with one line naming the input, the expected and the actual', async () => {
    const wrongShape = file('small.npy', npy('<f4', [1, 1, 14, 14], new Float32Array(196)));
    await expect(loadInputs(lenet, { input: wrongShape })).rejects.toThrow(
      new InputFileError('input "input": expected float32 [1,1,28,28], file has float32 [1,1,14,14]')
    );
    const wrongType = file('ints.npy', npy('<i8', [1, 1, 28, 28], new BigInt64Array(784)));
    await expect(loadInputs(lenet, { input: wrongType })).rejects.toThrow('input "input": expected float32 [1,1,28,28], file has int64 [1,1,28,28]');
    const wrongRank = file('flat.npy', npy('<f4', [784], new Float32Array(784)));
    await expect(loadInputs(lenet, { input: wrongRank })).rejects.toThrow('input "input": expected float32 [1,1,28,28], file has float32 [784]');
    await expect(loadInputs(lenet, { image: wrongShape })).rejects.toThrow('input "image" is not an input of the model (its inputs: input)');
    const fortran = file('fortran.npy', npy('<f4', [1, 1, 28, 28], image, { fortran: true }));
    await expect(loadInputs(lenet, { input: fortran })).rejects.toThrow(
      `${fortran}: Fortran-order .npy arrays are not supported; save it in C order (numpy.ascontiguousarray)`
    );
    await expect(loadInputs(lenet, { input: path.join(folder, 'none.npy') })).rejects.toThrow(`${path.join(folder, 'none.npy')}: no such file`);
    expect(() => parseInputPairs(['input'])).toThrow('input file "input" must be given as name=path');
  });
});
