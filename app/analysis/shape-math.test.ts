// Window sizes, slice bounds, broadcasting and Reshape's 0/-1 rules on their own.
import { describe, expect, it } from 'vitest';
import { broadcastShapes, sliceLength, windowOutput, type WindowParams } from './shape-math.js';
import { reshapeShape } from './rules-tensor.js';

const window = (o: Partial<WindowParams>): WindowParams => ({
  kernel: 3,
  stride: 1,
  dilation: 1,
  padBegin: 0,
  padEnd: 0,
  autoPad: 'NOTSET',
  ceilMode: false,
  ...o
});

describe('shape math', () => {
  it('sizes sliding windows (floor, ceil with the last-window rule, SAME, VALID, symbols)', () => {
    expect(windowOutput(224, window({ kernel: 11, stride: 4, padBegin: 2, padEnd: 2 }))).toBe(55);
    expect(windowOutput(112, window({ stride: 2, ceilMode: true }))).toBe(56);
    expect(windowOutput(5, window({ kernel: 2, stride: 2, padBegin: 1, padEnd: 1, ceilMode: true }))).toBe(3);
    expect(windowOutput(15, window({ stride: 2, autoPad: 'SAME_LOWER' }))).toBe(8);
    expect(windowOutput(15, window({ stride: 2, autoPad: 'VALID', padBegin: 5 }))).toBe(7);
    expect(windowOutput('h', window({ kernel: 1 }))).toBe('h');
    expect(windowOutput('h', window({}))).toBeNull();
    expect(() => windowOutput(2, window({ kernel: 5 }))).toThrow();
  });

  it('clamps slice bounds like numpy', () => {
    expect(sliceLength(10, -3, 2 ** 63, 1)).toEqual({ start: 7, length: 3 });
    expect(sliceLength(10, -1, -(2 ** 63), -1)).toEqual({ start: 9, length: 10 });
    expect(sliceLength(10, 8, 2, -2)).toEqual({ start: 8, length: 3 });
    expect(sliceLength(10, 5, 2, 1)).toEqual({ start: 5, length: 0 });
    expect(() => sliceLength(10, 0, 5, 0)).toThrow();
  });

  it('broadcasts static and symbolic dims', () => {
    expect(broadcastShapes([[2, 1, 4], [3, 1]])).toEqual([2, 3, 4]);
    expect(broadcastShapes([['batch', 1, 4], [5, 1]])).toEqual(['batch', 5, 4]);
    expect(broadcastShapes([['a'], ['b']])).toEqual([null]);
    expect(() => broadcastShapes([[2], [3]])).toThrow();
  });

  it('resolves Reshape 0 and -1, with symbols, and honours allowzero', () => {
    expect(reshapeShape([2, 3, 4], [0, -1], false)).toEqual([2, 12]);
    expect(reshapeShape(['b', 'seq', 4, 16], [0, 0, -1], false)).toEqual(['b', 'seq', 64]);
    expect(reshapeShape(['b', 64], [-1, 4, 16], false)).toEqual(['b', 4, 16]);
    expect(reshapeShape(['b', 6], ['b', 2, -1], false)).toEqual(['b', 2, 3]);
    expect(reshapeShape([0, 3], [3, 0], true)).toEqual([3, 0]);
    expect(reshapeShape([0, 3], [0, 3], false)).toEqual([0, 3]);
    expect(() => reshapeShape([2, 3], [4, -1], false)).toThrow();
    expect(() => reshapeShape([2, 3], [5, 2], false)).toThrow();
  });
});
