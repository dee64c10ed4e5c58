// Tests of the wire encodings' pure half: parsing, when an encoding applies, the affine and
// half-precision codecs against known values, and the choice over (cut, encoding).
import { describe, expect, it } from 'vitest';
import { buildCutTable } from './cuts.js';
import { defaultPlanOptions } from './presets.js';
import {
  affineParameters,
  chooseEncodedCut,
  costOfEncodedCut,
  encodedDecisionTable,
  bestEncodingPerCut,
  dequantizeAffine,
  float16ToFloat32,
  float32ToFloat16,
  parseWireEncoding,
  quantizeAffine,
  whyNotApplicable,
  whyNotApplicableAtCut,
  encodingsForCut,
  wireDatatype,
  wireEncodingName
} from './wire-encoding.js';
import type { PartitionProblem, PlanOptions } from './types.js';

describe('parseWireEncoding', () => {
  it('reads bases, deflate and JPEG quality', () => {
    expect(parseWireEncoding('int8+deflate')).toEqual({ base: 'int8', deflate: true });
    expect(parseWireEncoding('jpeg75')).toEqual({ base: 'jpeg', deflate: false, quality: 75 });
    expect(wireEncodingName(parseWireEncoding('jpeg'))).toBe('jpeg');
    expect(wireEncodingName(parseWireEncoding('fp16+deflate'))).toBe('fp16+deflate');
  });
  it('refuses unknown names in one line', () => {
    expect(() => parseWireEncoding('int4')).toThrow(/unknown encoding "int4"/);
    expect(() => parseWireEncoding('int875')).toThrow(/unknown encoding/);
    expect(() => parseWireEncoding('jpeg+deflate')).toThrow(/already entropy-coded/);
    expect(() => parseWireEncoding('jpeg0')).toThrow(/quality/);
  });
});

describe('whyNotApplicable', () => {
  const image = { name: 'input', elementType: 'float32' as const, dims: [1, 3, 224, 224], isModelInput: true };
  it('lets float inputs take every encoding', () => {
    for (const name of ['fp16', 'int8', 'uint8', 'jpeg']) expect(whyNotApplicable(parseWireEncoding(name), image)).toBeNull();
  });
  it('names the tensor when an encoding cannot apply', () => {
    const ids = { name: 'input_ids', elementType: 'int64' as const, dims: [1, 16], isModelInput: true };
    expect(whyNotApplicable(parseWireEncoding('int8'), ids)).toMatch(/"input_ids".*int64/);
    expect(whyNotApplicable(parseWireEncoding('fp32+deflate'), ids)).toBeNull();
    expect(whyNotApplicable(parseWireEncoding('jpeg'), { ...image, dims: [1, 16, 80] })).toMatch(/not an image/);
    expect(whyNotApplicable(parseWireEncoding('uint8'), { ...image, isModelInput: false })).toMatch(/not a model input/);
    expect(wireDatatype(parseWireEncoding('int8'), 'float32')).toBe('INT8');
    expect(wireDatatype(parseWireEncoding('fp32'), 'int64')).toBe('AS_IS');
  });
});

describe('whyNotApplicableAtCut', () => {
  const hidden = { name: 'hidden', elementType: 'float32' as const, dims: [1, 16, 192], isModelInput: false };
  const ids = { name: 'input_ids', elementType: 'int64' as const, dims: [1, 16], isModelInput: true };
  it('refuses a lossy encoding where only integer tensors cross, naming the tensor', () => {
    expect(whyNotApplicableAtCut(parseWireEncoding('int8'), [ids])).toMatch(/int8 does not apply to tensor "input_ids": it is int64/);
    expect(whyNotApplicableAtCut(parseWireEncoding('fp32+deflate'), [ids])).toBeNull();
  });
  it('sends integers as they are beside a float tensor, and names a float tensor the encoding cannot carry', () => {
    expect(whyNotApplicableAtCut(parseWireEncoding('int8'), [ids, hidden])).toBeNull();
    expect(whyNotApplicableAtCut(parseWireEncoding('jpeg'), [hidden])).toMatch(/"hidden"/);
    expect(whyNotApplicableAtCut(parseWireEncoding('int8'), [])).toBeNull();
  });
  it('lists the encodings a cut allows (what the studio\'s export offers)', () => {
    const image = { name: 'input', elementType: 'float32' as const, dims: [1, 3, 32, 32], isModelInput: true };
    expect(encodingsForCut([image])).toEqual(['fp32', 'fp32+deflate', 'fp16', 'fp16+deflate', 'int8', 'int8+deflate', 'uint8', 'uint8+deflate', 'jpeg', 'jpeg95']);
    expect(encodingsForCut([hidden])).toEqual(['fp32', 'fp32+deflate', 'fp16', 'fp16+deflate', 'int8', 'int8+deflate']);
    expect(encodingsForCut([ids])).toEqual(['fp32', 'fp32+deflate']);
    expect(encodingsForCut([])).toEqual(['fp32']);
  });
});

describe('affine codec', () => {
  it('keeps zero exact and errs at most half a step', () => {
    const p = affineParameters({ min: -1, max: 3 }, 'int8');
    const values = Float32Array.from({ length: 1000 }, (_, i) => -1 + (4 * i) / 999);
    values[10] = 0;
    const back = dequantizeAffine(quantizeAffine(values, p), p);
    expect(back[10]).toBe(0);
    for (let i = 0; i < values.length; i++) expect(Math.abs(back[i] - values[i])).toBeLessThanOrEqual(p.scale / 2 + 1e-6);
  });
  it('rounds half to even and saturates like QuantizeLinear', () => {
    const p = { scale: 1, zeroPoint: 0, type: 'uint8' as const };
    expect([...quantizeAffine(Float32Array.from([2.5, 3.5, -4, 300]), p)]).toEqual([2, 4, 0, 255]);
    const q = { scale: 1, zeroPoint: 0, type: 'int8' as const };
    expect([...quantizeAffine(Float32Array.from([-2.5, -200, 200]), q)]).toEqual([-2, -128, 127]);
  });
  it('refuses a range that is not finite', () => {
    expect(() => affineParameters({ min: NaN, max: 1 }, 'int8')).toThrow(/not a finite range/);
  });
});

describe('float16', () => {
  it('converts known values and rounds to nearest even', () => {
    const halves = float32ToFloat16(Float32Array.from([0, 1, -2, 65504, 1e6, 5.960464477539063e-8, 1 + 2 ** -11, 1 + 3 * 2 ** -11]));
    expect([...halves].map((h) => h.toString(16))).toEqual(['0', '3c00', 'c000', '7bff', '7c00', '1', '3c00', '3c02']);
    const back = float16ToFloat32(float32ToFloat16(Float32Array.from([0.1, -3.14159, 1000.5])));
    expect(back[0]).toBeCloseTo(0.1, 3);
    expect(back[1]).toBeCloseTo(-3.14159, 2);
    expect(back[2]).toBe(1000.5);
  });
});

describe('chooseEncodedCut', () => {
  // A chain of three nodes: the input (1 MB) shrinks to 100 kB, then to 1 kB.
  const problem: PartitionProblem = {
    nodes: [
      { name: 'a', localMs: 5, remoteMs: 1 },
      { name: 'b', localMs: 5, remoteMs: 1 },
      { name: 'c', localMs: 50, remoteMs: 1 }
    ],
    tensors: [
      { name: 'x', bytes: 1e6, producer: -1, consumers: [0], isGraphOutput: false },
      { name: 'y', bytes: 1e5, producer: 0, consumers: [1], isGraphOutput: false },
      { name: 'z', bytes: 1e3, producer: 1, consumers: [2], isGraphOutput: false },
      { name: 'out', bytes: 40, producer: 2, consumers: [], isGraphOutput: true }
    ]
  };
  const table = buildCutTable(problem);
  const options: PlanOptions = defaultPlanOptions('3g');
  it('charges encode on the device and decode on the server', () => {
    const plain = costOfEncodedCut(table, { cut: 1, encoding: 'fp32', uploadBytes: 1e5, encodeMs: 0, decodeMs: 0, agreement: 1 }, options);
    const int8 = costOfEncodedCut(table, { cut: 1, encoding: 'int8', uploadBytes: 2.5e4, encodeMs: 2, decodeMs: 3, agreement: 1 }, options);
    expect(int8.localMs - plain.localMs).toBeCloseTo(2);
    expect(int8.remoteMs - plain.remoteMs).toBeCloseTo(3 * options.serverLoad);
    expect(int8.uploadBytes).toBe(2.5e4);
  });
  it('never picks an encoding below the bound, and says why', () => {
    const measurements = [
      { cut: 0, encoding: 'fp32', uploadBytes: 1e6, encodeMs: 0, decodeMs: 0, agreement: null },
      { cut: 0, encoding: 'jpeg', uploadBytes: 2e4, encodeMs: 3, decodeMs: 2, agreement: 0.9 },
      { cut: 1, encoding: 'fp32', uploadBytes: 1e5, encodeMs: 0, decodeMs: 0, agreement: null },
      { cut: 1, encoding: 'int8', uploadBytes: 2.5e4, encodeMs: 1, decodeMs: 1, agreement: 1 },
      { cut: 1, encoding: 'fp16', uploadBytes: 5e4, encodeMs: 1, decodeMs: 1, agreement: null },
      { cut: 2, encoding: 'int8', uploadBytes: 250, encodeMs: 0, decodeMs: 0, agreement: 0, skipped: 'int8 does not apply to tensor "z"' }
    ];
    const choice = chooseEncodedCut(table, measurements, options, 'latency');
    expect(choice.best).toMatchObject({ cut: 1, encoding: 'int8' });
    expect(choice.excluded.map((e) => e.encoding).sort()).toEqual(['fp16', 'int8', 'jpeg']);
    expect(choice.excluded.find((e) => e.encoding === 'jpeg')?.reason).toMatch(/90.0 % is below 99.0 %/);
    const loose = chooseEncodedCut(table, measurements, options, 'latency', 0.5);
    expect(loose.best).toMatchObject({ cut: 0, encoding: 'jpeg' });
    expect(() => chooseEncodedCut(table, measurements.slice(1, 2), options, 'latency')).toThrow(/no \(cut, encoding\) meets/);
  });
});

describe('encodedDecisionTable', () => {
  const problem: PartitionProblem = {
    nodes: [
      { name: 'a', localMs: 5, remoteMs: 1 },
      { name: 'b', localMs: 200, remoteMs: 1 }
    ],
    tensors: [
      { name: 'x', bytes: 1e6, producer: -1, consumers: [0], isGraphOutput: false },
      { name: 'y', bytes: 1e5, producer: 0, consumers: [1], isGraphOutput: false },
      { name: 'out', bytes: 40, producer: 1, consumers: [], isGraphOutput: true }
    ]
  };
  const table = buildCutTable(problem);
  const options = defaultPlanOptions('3g');
  it('gives an encoding per bandwidth range and leaves out pairs below the bound', () => {
    const rows = encodedDecisionTable(table, [
      { cut: 0, encoding: 'fp32', uploadBytes: 1e6, encodeMs: 0, decodeMs: 0, agreement: 1 },
      { cut: 0, encoding: 'jpeg', uploadBytes: 1e4, encodeMs: 2, decodeMs: 1, agreement: 0.5 },
      { cut: 1, encoding: 'fp32', uploadBytes: 1e5, encodeMs: 0, decodeMs: 0, agreement: 1 },
      { cut: 1, encoding: 'int8', uploadBytes: 2.5e4, encodeMs: 1, decodeMs: 1, agreement: 1 }
    ], options);
    expect(rows.length).toBeGreaterThan(1);
    // Slow links: device-only (205 ms beats 2 s of upload); then the int8 middle cut.
    expect(rows[0]).toMatchObject({ cut: 2, encoding: 'fp32', fromMbps: 0.1 });
    expect(rows[1]).toMatchObject({ cut: 1, encoding: 'int8' });
    expect(rows.at(-1)?.toMbps).toBe(1000);
    expect(rows.some((r) => r.encoding === 'jpeg')).toBe(false);
    for (let i = 1; i < rows.length; i++) expect(rows[i].fromMbps).toBeCloseTo(rows[i - 1].toMbps);
  });
});

describe('bestEncodingPerCut', () => {
  it('gives each measured cut its best eligible encoding', () => {
    const table = buildCutTable({
      nodes: [{ name: 'a', localMs: 5, remoteMs: 1 }],
      tensors: [
        { name: 'x', bytes: 1e6, producer: -1, consumers: [0], isGraphOutput: false },
        { name: 'out', bytes: 40, producer: 0, consumers: [], isGraphOutput: true }
      ]
    });
    const best = bestEncodingPerCut(table, [
      { cut: 0, encoding: 'fp32', uploadBytes: 1e6, encodeMs: 0, decodeMs: 0, agreement: 1 },
      { cut: 0, encoding: 'jpeg', uploadBytes: 1e4, encodeMs: 1, decodeMs: 1, agreement: 0.9 },
      { cut: 0, encoding: 'uint8', uploadBytes: 2.5e5, encodeMs: 1, decodeMs: 1, agreement: 1 }
    ], defaultPlanOptions('3g'), 'latency');
    expect(best.get(0)?.measurement.encoding).toBe('uint8');
    expect(best.has(1)).toBe(false);
  });
});
